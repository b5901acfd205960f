"""The agent against PyKMIP's server (kmip.services.server.KmipServer, PyKMIP 0.10).

PyKMIP's server runs as a child process on loopback (tests/interop/pykmip_server.py) with
the certificates of ``keyshelf-server init``. It runs on this Python with the installed
SQLAlchemy; if it cannot start, the tests are skipped with the reason from its output.
Checked at KMIP 1.2 and 2.0 (the versions both sides speak) and with Discover Versions:
create, register, get, get_attributes, locate by name and by Application Specific
Information, activate, revoke, destroy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agent import errors
from agent.client import Client
from agent.model import ApplicationSpecificInformation, Attribute, SecretData, SymmetricKey
from agent.spec import ObjectType, RevocationReasonCode, State, Version
from firmware_hooks import harness

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def pykmip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    pytest.importorskip("kmip.services.server")
    from tests.interop.pykmip_server import pykmip_server

    work = tmp_path_factory.mktemp("pykmip")
    certs = work / "certs"
    harness.init_data_dir(certs)
    try:
        with pykmip_server(certs, work) as server:
            yield server.port, certs
    except harness.HarnessError as exc:
        out = work / "pykmip-server.out"
        detail = out.read_text(errors="replace")[-500:] if out.exists() else ""
        pytest.skip(f"PyKMIP's server did not start on this Python: {exc}: {detail}")


@pytest.fixture(params=["1.2", "2.0", None], ids=lambda v: f"kmip{v or '-negotiated'}")
async def kmip(request: pytest.FixtureRequest, pykmip: tuple[int, Path]) -> AsyncIterator[Client]:
    port, certs = pykmip
    async with Client(
        [f"127.0.0.1:{port}"], certs / "client-a.crt", certs / "client-a.key", certs / "ca.crt", request.param
    ) as client:
        yield client


async def test_version(kmip: Client) -> None:
    version = await kmip.protocol_version()
    assert version in (Version(1, 2), Version(2, 0))  # PyKMIP 0.10 speaks up to 2.0


async def test_lifecycle(kmip: Client) -> None:
    version = await kmip.protocol_version()
    name = f"agent-interop-{version}-{id(kmip)}"
    uid = str((await kmip.create_symmetric_key(name=name)).unique_identifier)

    got = await kmip.get(uid)
    assert got.object_type == ObjectType.SYMMETRIC_KEY and isinstance(got.managed_object, SymmetricKey)
    attrs = {a.name: a.value for a in (await kmip.get_attributes(uid)).attributes}
    assert attrs["State"] == State.PRE_ACTIVE and attrs["Cryptographic Length"] == 256
    assert (await kmip.locate(name=name)).unique_identifier == (uid,)

    await kmip.activate(uid)
    assert [a.value for a in (await kmip.get_attributes(uid, ["State"])).attributes] == [State.ACTIVE]
    await kmip.revoke(uid, RevocationReasonCode.KEY_COMPROMISE)
    await kmip.destroy(uid)
    with pytest.raises(errors.KmipError):
        await kmip.get(uid)


async def test_locate_by_application_specific_information(kmip: Client) -> None:
    version = await kmip.protocol_version()
    asi = ApplicationSpecificInformation("LIBRARY-LTO", f"0A0B0C{version.major}{version.minor}{id(kmip):X}")
    uid = (
        await kmip.create_symmetric_key(attributes=[Attribute("Application Specific Information", asi)])
    ).unique_identifier
    assert (await kmip.locate(application=asi)).unique_identifier == (uid,)


async def test_register_secret_data(kmip: Client) -> None:
    uid = (await kmip.register_secret(b"\x5a" * 32)).unique_identifier
    got = await kmip.get(uid)
    assert isinstance(got.managed_object, SecretData)


async def test_typed_error(kmip: Client) -> None:
    with pytest.raises(errors.KmipError) as err:
        await kmip.get("999999")
    assert err.value.reason in (0x01, 0x37, 0x0C)  # Item/Object Not Found (or Permission Denied)
