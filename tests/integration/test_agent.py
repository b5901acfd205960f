"""The agent against keyshelf-server over mutual TLS on loopback: every client operation,
batches with the ID Placeholder, typed errors, the tape and SED flows, the blocking facade
and the command line."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent import errors, sync
from agent.cli import main as cli_main
from agent.client import Client, ConnectionLost, ServerUnreachable
from agent.model import (
    ActivateRequest,
    AlternativeName,
    ApplicationSpecificInformation,
    Attribute,
    CreateRequest,
    GetAttributesRequest,
    GetRequest,
    Link,
    SecretData,
    SymmetricKey,
)
from agent.sed import Drive, SedKeys
from agent.spec import (
    CryptographicAlgorithm,
    CryptographicUsageMask,
    LinkType,
    ObjectType,
    RevocationReasonCode,
    State,
    Version,
)
from agent.tape import AmbiguousKey, Cartridge, TapeKeys, new_identifier
from tests.integration.conftest import Pki, ServerThread

VERSIONS = ["1.0", "1.1", "1.2", "1.3", "1.4", "2.0", "2.1", None]
AES = [
    Attribute("Cryptographic Algorithm", CryptographicAlgorithm.AES),
    Attribute("Cryptographic Length", 256),
    Attribute("Cryptographic Usage Mask", CryptographicUsageMask.ENCRYPT | CryptographicUsageMask.DECRYPT),
]


def make_client(pki: Pki, server: ServerThread, version: str | None = None, **kwargs: object) -> Client:
    cert, key = pki.paths["client-a"]
    return Client([f"127.0.0.1:{server.port}"], cert, key, pki.ca, version, deadline=10.0, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=VERSIONS, ids=lambda v: f"kmip{v or '-negotiated'}")
async def kmip(request: pytest.FixtureRequest, pki: Pki, kmip_server: ServerThread) -> AsyncIterator[Client]:
    async with make_client(pki, kmip_server, request.param) as client:
        yield client


def not_found() -> tuple[type[errors.KmipError], ...]:
    return (errors.ItemNotFound, errors.ObjectNotFound)


def wrong_state() -> tuple[type[errors.KmipError], ...]:
    # SPEC-1.4 Table 348: Permission Denied; SPEC-2.1: Wrong Key Lifecycle State
    return (errors.PermissionDenied, errors.WrongKeyLifecycleState)


async def test_version_and_query(kmip: Client) -> None:
    version = await kmip.protocol_version()
    assert Version(1, 0) <= version <= Version(2, 1)
    answer = await kmip.query()
    assert answer.operation and ObjectType.SYMMETRIC_KEY in answer.object_type
    if version >= Version(1, 1):
        offered = await kmip.discover_versions()
        assert version in offered
        assert await kmip.discover_versions([Version(1, 2)]) == (Version(1, 2),)


async def test_key_lifecycle_and_attributes(kmip: Client, request: pytest.FixtureRequest) -> None:
    version = await kmip.protocol_version()
    name = f"lifecycle-{request.node.callspec.id}"
    created = await kmip.create_symmetric_key(name=name)
    uid = str(created.unique_identifier)
    assert created.object_type == ObjectType.SYMMETRIC_KEY

    got = await kmip.get(uid)
    assert isinstance(got.managed_object, SymmetricKey)
    block = got.managed_object.key_block
    assert block.cryptographic_length == 256 and block.cryptographic_algorithm == CryptographicAlgorithm.AES

    names = (await kmip.get_attribute_list(uid)).attribute_names
    assert {"Name", "State", "Cryptographic Algorithm"} <= set(names)
    state = (await kmip.get_attributes(uid, ["State"])).attributes
    assert [a.value for a in state] == [State.PRE_ACTIVE]

    await kmip.add_attribute(uid, Attribute("x-Note", "first"))
    await kmip.modify_attribute(uid, Attribute("x-Note", "second"))
    note = (await kmip.get_attributes(uid, ["x-Note"])).attributes
    assert [a.value for a in note] == ["second"]
    await kmip.delete_attribute(uid, "x-Note")
    assert (await kmip.get_attributes(uid, ["x-Note"])).attributes == ()
    if version >= Version(2, 0):
        # Set Attribute (SPEC-2.1 §6.1.51) is for single-valued attributes
        await kmip.set_attribute(uid, Attribute("Description", "set by the agent"))
        described = (await kmip.get_attributes(uid, ["Description"])).attributes
        assert [a.value for a in described] == ["set by the agent"]

    assert (await kmip.locate(name=name)).unique_identifier == (uid,)
    assert uid in (await kmip.locate(object_type=ObjectType.SYMMETRIC_KEY)).unique_identifier
    await kmip.activate(uid)
    assert [a.value for a in (await kmip.get_attributes(uid, ["State"])).attributes] == [State.ACTIVE]
    assert (await kmip.check(uid, usage_mask=CryptographicUsageMask.ENCRYPT)).unique_identifier == uid
    with pytest.raises(wrong_state()):
        await kmip.destroy(uid)  # Active objects are not destroyed (SPEC-1.4 §4.21)
    await kmip.revoke(uid, RevocationReasonCode.KEY_COMPROMISE)
    await kmip.destroy(uid)
    destroyed = (await kmip.get_attributes(uid, ["State"])).attributes
    assert [a.value for a in destroyed] == [State.DESTROYED_COMPROMISED]


async def test_rekey_register_and_typed_errors(kmip: Client) -> None:
    created = await kmip.create(AES)
    old = str(created.unique_identifier)
    await kmip.activate(old)
    new = str((await kmip.rekey(old)).unique_identifier)
    assert new != old

    registered = await kmip.register_secret(b"\x01" * 32, [Attribute("Object Group", "it-group")])
    secret = await kmip.get(registered.unique_identifier)
    assert isinstance(secret.managed_object, SecretData)
    assert registered.unique_identifier in (await kmip.locate(group="it-group")).unique_identifier

    with pytest.raises(not_found()) as err:
        await kmip.get("no-such-object")
    assert err.value.reason in (0x01, 0x37)
    with pytest.raises(errors.KmipError):
        await kmip.activate(old)  # already active
    with pytest.raises(errors.OperationNotSupported):  # not in this server's profiles
        await kmip.create_key_pair(
            [
                Attribute("Cryptographic Algorithm", CryptographicAlgorithm.RSA),
                Attribute("Cryptographic Length", 2048),
            ]
        )


async def test_batch_with_id_placeholder(kmip: Client) -> None:
    created, activated, attrs, got = await kmip.batch(
        CreateRequest(object_type=ObjectType.SYMMETRIC_KEY, attributes=tuple(AES)),
        ActivateRequest(),  # Unique Identifier omitted: the ID Placeholder (SPEC-1.4 §4)
        GetAttributesRequest(attribute_names=("State",)),
        GetRequest(),
    )
    uid = created.unique_identifier
    assert activated.unique_identifier == uid == attrs.unique_identifier == got.unique_identifier
    assert [a.value for a in attrs.attributes] == [State.ACTIVE]
    results = await kmip.batch_results(
        GetRequest(unique_identifier="missing"), GetRequest(unique_identifier=uid)
    )
    assert not results[0].ok and isinstance(results[0].error(), not_found())
    assert results[1].status is None or results[1].ok  # Stop: not processed (or processed)


async def test_tape_write_then_read(kmip: Client) -> None:
    version = await kmip.protocol_version()
    tape = TapeKeys(kmip)
    u_kad, a_kad = new_identifier("lto6")
    cartridge = Cartridge("lto6", u_kad=u_kad, a_kad=a_kad, barcode="XXA012A1")
    written = await tape.key_for_write(cartridge)
    read = await tape.key_for_read(cartridge)
    assert (read.uid, read.key) == (written.uid, written.key) and len(read.key) == 32
    attrs = {a.name: a.value for a in (await kmip.get_attributes(read.uid)).attributes}
    assert attrs["Application Specific Information"] == ApplicationSpecificInformation(
        "LIBRARY-LTO", (u_kad + a_kad).hex().upper()
    )
    assert attrs["State"] == State.PRE_ACTIVE  # the tape profile never activates
    if version >= Version(1, 2):
        assert attrs["Alternative Name"] == AlternativeName("XXA012A1")
        assert "x-Barcode" not in attrs
    else:
        assert attrs["x-Barcode"] == "XXA012A1"
    with pytest.raises(errors.ItemNotFound):
        await tape.key_for_read(Cartridge("lto6", u_kad=b"\x00" * 32))


async def test_tape_duplicate_identifier_is_never_silently_resolved(kmip: Client) -> None:
    tape = TapeKeys(kmip, namespace="ACME-LIBRARY-LTO")
    cartridge = Cartridge("lto4", u_kad=new_identifier("lto4")[0])
    await tape.key_for_write(cartridge)
    with pytest.raises(errors.ObjectAlreadyExists):
        await tape.key_for_write(cartridge, check_unique=True)
    try:
        await tape.key_for_write(cartridge)  # the server may refuse the duplicate ASI
    except errors.KmipError:
        return
    with pytest.raises(AmbiguousKey) as err:
        await tape.key_for_read(cartridge)
    assert len(err.value.uids) == 2


async def test_sed_boot_24_drives_in_three_round_trips(pki: Pki, kmip_server: ServerThread) -> None:
    async with make_client(pki, kmip_server, "1.4") as kmip:
        sed = SedKeys(kmip, "array-24")
        drives = [Drive(serial=f"SN{i:04d}") for i in range(24)]
        for i, drive in enumerate(drives):
            await sed.register(drive, bytes([i]) * 32)
        before = kmip.round_trips
        keys = await sed.unlock_keys()
        assert kmip.round_trips - before == 3  # Locate, then 2 batches of <= 32 items
        assert sorted(keys) == [d.identity for d in drives]
        assert all(
            len(ks) == 1 and ks[0].key == bytes([i]) * 32
            for i, ks in enumerate(keys[d.identity] for d in drives)
        )


async def test_sed_rotation_keeps_a_retrievable_key(pki: Pki, kmip_server: ServerThread) -> None:
    async with make_client(pki, kmip_server, "2.1") as kmip:
        sed = SedKeys(kmip, "array-rot")
        drive = Drive(serial="ROT-1")
        first = await sed.register(drive, b"\x01" * 32)
        applied: list[tuple[bytes | None, bytes]] = []

        async def apply(old: bytes | None, new: bytes) -> None:
            # at this moment both keys are on the server, the new one first
            candidates = await sed.keys_for(drive)
            assert [k.key for k in candidates] == [b"\x02" * 32, b"\x01" * 32]
            applied.append((old, new))

        second = await sed.rotate(drive, b"\x02" * 32, apply=apply)
        assert applied == [(b"\x01" * 32, b"\x02" * 32)]
        assert [k.uid for k in await sed.keys_for(drive)] == [second]
        assert first != second
        with pytest.raises(errors.KmipError):
            await kmip.get(first)  # destroyed
        # the links are on the server (SPEC-1.4 §3.35), the destroyed key's metadata included
        assert await links_of(kmip, second) == [(LinkType.REPLACED_OBJECT_LINK, first)]
        assert await links_of(kmip, first) == [(LinkType.REPLACEMENT_OBJECT_LINK, second)]


async def links_of(kmip: Client, uid: str) -> list[tuple[LinkType, str]]:
    found = await kmip.get_attributes(uid, ["Link"])
    return [
        (a.value.link_type, str(a.value.linked_object_identifier))
        for a in found.attributes
        if isinstance(a.value, Link)
    ]


@pytest.mark.parametrize("version", ["1.4", "2.1"])
def test_sed_source_missing_key_is_not_found_in_1x_and_2x(
    pki: Pki, kmip_server: ServerThread, version: str
) -> None:
    """1.x answers Item Not Found, 2.x Object Not Found (0x37): the hook hears "key missing"."""
    from firmware_hooks.agent_source import AgentSedSource
    from firmware_hooks.sources import KeyNotFound

    cert, key = pki.paths["client-a"]
    with sync.Client([f"127.0.0.1:{kmip_server.port}"], cert, key, pki.ca, version, deadline=10.0) as client:
        with pytest.raises(not_found()) as raw:
            client.destroy("no-such-key")
        expected = errors.ObjectNotFound if version == "2.1" else errors.ItemNotFound
        assert type(raw.value) is expected
        source = AgentSedSource(client)
        with pytest.raises(KeyNotFound):
            source.destroy("no-such-key")
        with pytest.raises(KeyNotFound):
            source.auth_keys("array-nf", "never-registered")
        uid = source.register_auth_key("array-nf", "NF-1", b"\x05" * 32)
        with pytest.raises(KeyNotFound):
            source.retire_auth_keys("array-nf", "NF-1", "no-such-key")
        assert source.retire_auth_keys("array-nf", "NF-1", uid) == 0


def test_blocking_facade(pki: Pki, kmip_server: ServerThread) -> None:
    cert, key = pki.paths["client-a"]
    with sync.Client([f"127.0.0.1:{kmip_server.port}"], cert, key, pki.ca, deadline=10.0) as kmip:
        uid = kmip.create_symmetric_key(name="sync-facade").unique_identifier
        assert kmip.locate(name="sync-facade").unique_identifier == (uid,)
        tape = sync.TapeKeys(kmip)
        cartridge = Cartridge("lto8", u_kad=b"\x42" * 8)
        assert tape.key_for_write(cartridge).uid == tape.key_for_read(cartridge).uid
        with pytest.raises(not_found()):
            kmip.get("missing")


def tls_args(pki: Pki, server: str) -> list[str]:
    """keyshelf-agent's global options for ``server`` as client-a."""
    cert, key = pki.paths["client-a"]
    return ["--server", server, "--ca", str(pki.ca), "--cert", str(cert), "--key", str(key)]


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_command_line(pki: Pki, kmip_server: ServerThread, tmp_path: Path) -> None:
    base = tls_args(pki, f"127.0.0.1:{kmip_server.port}")
    code, out, _ = run_cli(
        *base, "--json", "tape-key", "--kad", "0A0B0C", "--a-kad", "0D", "--generation", "lto8", "--new"
    )
    assert code == 0
    written = json.loads(out)
    assert set(written) >= {"uid", "key"} and len(bytes.fromhex(written["key"])) == 32
    code, out, _ = run_cli(*base, "--json", "tape-key", "--kad", "0A0B0C0D", "--generation", "lto8")
    assert code == 0 and json.loads(out)["uid"] == written["uid"]
    code, out, _ = run_cli(*base, "tape-key", "--kad", "0A0B0C0D", "--generation", "lto8")
    assert code == 0 and written["uid"] in out  # readable table
    code, out, _ = run_cli(*base, "tape-key", "--kad", "0A0B0C0D", "--generation", "lto8", "--json")
    assert code == 0 and json.loads(out)["uid"] == written["uid"]  # --json after the command too

    code, _, _ = run_cli(*base, "tape-key", "--kad", "FFFF", "--generation", "lto8")
    assert code == 3  # not found
    code, _, err = run_cli(*base, "tape-key", "--kad", "ABC", "--generation", "lto8")
    assert code == 2 and "odd" in err
    code, _, _ = run_cli(*base, "tape-key", "--kad", "00" * 33, "--a-kad", "00", "--generation", "lto4")
    assert code == 2  # U-KAD larger than N(u)
    code, _, _ = run_cli(*base, "tape-key", "--kad", "0A0B0C0D", "--generation", "lto8", "--new")
    assert code == 1  # the identifier is taken: no second key
    code, _, _ = run_cli(*base, "get", "--uid", "missing")
    assert code == 3
    code, _, _ = run_cli(*tls_args(pki, "127.0.0.1:1"), "--deadline", "2", "query")
    assert code == 5  # unreachable
    code, _, _ = run_cli(*base, "no-such-command")
    assert code == 2

    code, out, _ = run_cli(
        *base, "--json", "register-secret", "--group", "cli-array", "--drive", "D1", "--hex", "11" * 16
    )
    assert code == 0
    uid = json.loads(out)["uid"]
    code, out, _ = run_cli(*base, "--json", "sed-unlock-keys", "--group", "cli-array")
    assert code == 0
    assert json.loads(out) == [{"drive": "D1", "uid": uid, "key": "11" * 16, "rank": 0}]
    code, out, _ = run_cli(*base, "--json", "locate", "--group", "cli-array")
    assert code == 0 and json.loads(out) == {"uids": [uid]}
    code, out, _ = run_cli(*base, "--json", "discover")
    assert code == 0 and "2.1" in json.loads(out)["versions"]
    code, out, _ = run_cli(*base, "query")
    assert code == 0 and "operations" in out
    code, _, _ = run_cli(*base, "destroy", "--uid", uid)
    assert code == 0


async def test_client_certificate_is_required(pki: Pki, kmip_server: ServerThread) -> None:
    async with Client([f"127.0.0.1:{kmip_server.port}"], None, None, pki.ca, "1.4", deadline=3.0) as kmip:
        # TLS 1.3: the server's refusal arrives after the client's handshake has finished
        with pytest.raises((ServerUnreachable, ConnectionLost)):
            await kmip.query()


def test_blocking_facade_from_many_threads(pki: Pki, kmip_server: ServerThread) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cert, key = pki.paths["client-a"]
    kmip = sync.Client([f"127.0.0.1:{kmip_server.port}"], cert, key, pki.ca, "1.4", max_connections=4)
    tape = sync.TapeKeys(kmip)
    cartridge = Cartridge("lto9", u_kad=b"\x99" * 16)
    uid = tape.key_for_write(cartridge).uid
    with ThreadPoolExecutor(max_workers=8) as pool:
        uids = list(pool.map(lambda _: tape.key_for_read(cartridge).uid, range(40)))
    assert uids == [uid] * 40
    assert kmip.round_trips == 41  # one request message per read, one for the write
    kmip.close()
    kmip.close()  # idempotent
    with pytest.raises(RuntimeError):
        kmip.query()


def test_command_line_sed_and_kad_output(pki: Pki, kmip_server: ServerThread) -> None:
    base = tls_args(pki, f"127.0.0.1:{kmip_server.port}")
    code, out, _ = run_cli(*base, "--json", "sed-unlock-keys", "--group", "no-such-array")
    assert code == 3 and json.loads(out) == []
    code, out, _ = run_cli(*base, "--json", "tape-key", "--generation", "lto4", "--new")
    assert code == 0
    made = json.loads(out)
    assert made["a_kad"] == made["a_kad"].upper() and len(bytes.fromhex(made["u_kad"] + made["a_kad"])) == 32
    code, out, _ = run_cli(
        *base, "--json", "tape-key", "--kad", made["u_kad"], "--a-kad", made["a_kad"], "--generation", "lto4"
    )
    assert code == 0 and json.loads(out)["uid"] == made["uid"]
