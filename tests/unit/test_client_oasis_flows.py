"""The agent's requests are the OASIS test cases' requests, field by field.

For every version (1.0-2.1) a fake TLS server replays the responses of TL-M-2 / TL-M-3 /
SASED-M-2 / SASED-M-3 (placeholders bound) while the agent runs the profile flow through the
real client (agent.tape / agent.sed / agent.client over TLS); every request the server
receives must equal the case's request. 1.3-2.1 come from the OASIS test-case files; 1.0, 1.1
and 1.2 from the cases printed in the Tape Library and SA-SED profile documents
(tests/conformance/profile_docs.py). The barcode goes to Alternative Name from 1.2 and to
x-Barcode in every version (Tape Library profile §2.5; Alternative Name is a 1.2 attribute).

The one normalisation: the attributes inside a Template-Attribute / Attributes structure
are compared as a multiset, since their order carries no meaning (SPEC-1.4 §2.1.8: a list
of attributes; TL-M-2 puts the test's x-ID first, the agent puts caller attributes last).
SASED-M-2-13 (KMIP 1.3) registers a Template object; templates are deprecated since 1.3
and agent.sed does not use them, so that one case is not replayed. SASED-M-2-10/11/12 (the
only SA-SED flow those versions define) are replayed through the client's generic Register
with a Template object and a template reference; in 1.0/1.1 the template's Name is inside the
Template structure, in 1.2 in its Template-Attribute.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from collections.abc import AsyncIterator

import pytest

from agent.client import Client
from agent.encodings import bind_defaults
from agent.encodings.xml import load_test_case
from agent.model import (
    Attribute,
    KeyBlock,
    KeyValue,
    Name,
    RegisterRequest,
    RegisterResponse,
    SecretData,
    Template,
)
from agent.sed import SedKeys
from agent.spec import ItemType, KeyFormatType, ObjectType, SecretDataType, Tag
from agent.tape import Cartridge, TapeKeys, split_application_data
from agent.ttlv import Item, decode, encode
from tests.conformance import profile_docs
from tests.conftest import SKIP_MESSAGE, find_test_cases_dir
from tests.unit.test_client_pki import Pki, make_pki

NOW = 1_700_000_000
UID0 = "3f0c1a52-uid-0"
DOCUMENT_VERSIONS = ("v1.0", "v1.1", "v1.2")  # printed in the profile documents
FILE_VERSIONS = ("v1.3", "v1.4", "v2.0", "v2.1")  # OASIS test-case files
VERSIONS = DOCUMENT_VERSIONS + FILE_VERSIONS
CARRIERS = {Tag.TEMPLATE_ATTRIBUTE, Tag.ATTRIBUTES}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def load_case(version: str, name: str) -> list[Item]:
    """The messages of ``name`` (``TL-M-2``) for ``version`` (``v1.0``): a profile document's
    case for 1.0-1.2, an OASIS file for 1.3-2.1; skipped when the reference is absent."""
    suffix = version[1:].replace(".", "")
    if version in DOCUMENT_VERSIONS:
        if profile_docs.find_spec_docs_dir() is None:
            pytest.skip(profile_docs.SKIP_MESSAGE)
        found = [c for c in profile_docs.all_document_cases() if c.name == f"{name}-{suffix}"]
        if not found:
            pytest.skip(f"{name}-{suffix} not in the profile documents")
        return found[0].messages()
    root = find_test_cases_dir()
    if root is None:
        pytest.skip(SKIP_MESSAGE)
    path = root / "profiles" / version / "mandatory" / f"{name}-{suffix}.xml"
    if not path.is_file():
        pytest.skip(f"{path.name} not present")
    return load_test_case(path)


def steps(version: str, name: str) -> list[tuple[Item, Item]]:
    items = [bind_defaults(i, NOW, {"$UNIQUE_IDENTIFIER_0": UID0}) for i in load_case(version, name)]
    requests = [i for i in items if i.tag == Tag.REQUEST_MESSAGE]
    responses = [i for i in items if i.tag == Tag.RESPONSE_MESSAGE]
    assert len(requests) == len(responses)
    return list(zip(requests, responses))


def canonical(item: Item) -> Item:
    """The item with attribute lists in a fixed order (see the module docstring)."""
    if item.type != ItemType.STRUCTURE:
        return item
    children = tuple(canonical(c) for c in item.value)
    if item.tag in CARRIERS:
        children = tuple(sorted(children, key=encode))
    return Item(item.tag, item.type, children)


def protocol_version(request: Item) -> str:
    header = request.value[0]
    pv = next(f for f in header.value if f.tag == Tag.PROTOCOL_VERSION)
    return ".".join(str(f.value) for f in pv.value)


def correlations(pairs: list[tuple[Item, Item]]) -> list[str | None]:
    out: list[str | None] = []
    for request, _ in pairs:
        header = request.value[0]
        out.append(next((f.value for f in header.value if f.tag == Tag.CLIENT_CORRELATION_VALUE), None))
    return out


@contextlib.asynccontextmanager
async def replay(pki: Pki, pairs: list[tuple[Item, Item]]) -> AsyncIterator[tuple[Client, list[Item]]]:
    """A fake server answering the k-th request with the k-th response; yields a client
    speaking the file's version and the list of requests received."""
    received: list[Item] = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    ctx.load_verify_locations(pki.ca)
    ctx.verify_mode = ssl.CERT_REQUIRED

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while len(received) < len(pairs):
                header = await reader.readexactly(8)
                body = await reader.readexactly(int.from_bytes(header[4:], "big"))
                received.append(decode(header + body))
                writer.write(encode(pairs[len(received) - 1][1]))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    labels = iter(correlations(pairs))
    client = Client(
        [f"127.0.0.1:{port}"],
        pki.client_cert,
        pki.client_key,
        pki.ca,
        protocol_version(pairs[0][0]),
        deadline=5.0,
        correlation=lambda: next(labels, None),
    )
    try:
        yield client, received
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


def assert_same_requests(received: list[Item], pairs: list[tuple[Item, Item]]) -> None:
    assert len(received) == len(pairs)
    for step, (got, (expected, _)) in enumerate(zip(received, pairs)):
        assert canonical(got) == canonical(expected), f"step {step}"


def tape_cartridge() -> Cartridge:
    # every TL-M file: Application Data of 32 bytes; with LTO-5 sizes it all goes to the A-KAD
    u, a = split_application_data("123456789ABCDEF123456789123456789ABCDEF123456789ABCDEF1234000000", "lto5")
    return Cartridge("lto5", u_kad=u, a_kad=a, barcode="XXA012A1", name="AAAAAAA1A1AA12345678901234567")


NOW_DT = dt.datetime.fromtimestamp(NOW, dt.UTC)


def custom_attributes(version: str, request: Item) -> list[Attribute]:
    """The x- attributes a request sets, in order, as the caller gives them to the agent.

    The files write their dates ``$NOW`` (bound to NOW): those are (name, NOW_DT / integer) as
    TL-M-2/3 send them. The documents print the times of the authors' run, read from the
    1.x Attribute structures of the request."""
    if version not in DOCUMENT_VERSIONS:
        return []
    out: list[Attribute] = []
    for attribute in (i for i in _walk(request) if i.tag == Tag.ATTRIBUTE):
        name, value = attribute.value[0], attribute.value[-1]
        if not str(name.value).startswith("x-"):
            continue
        if value.type == ItemType.DATE_TIME:
            out.append(Attribute(name.value, dt.datetime.fromtimestamp(value.value, dt.UTC)))
        else:
            out.append(Attribute(name.value, value.value))
    return out


@pytest.mark.parametrize("version", VERSIONS)
async def test_tl_m_2_write_with_new_key(pki: Pki, version: str) -> None:
    pairs = steps(version, "TL-M-2")
    test_id = f"TL-M-2-{version[1:].replace('.', '')}"
    given = {a.name: a.value for a in custom_attributes(version, pairs[0][0])}
    async with replay(pki, pairs) as (client, received):
        tape = TapeKeys(client, barcode_custom_attribute=True)
        key = await tape.key_for_write(
            tape_cartridge(),
            attributes=[
                Attribute("x-ID", test_id),
                Attribute("x-VendorAttribute1", "XXA012A1"),
                Attribute("x-VendorAttribute2", 0),
                Attribute("x-VendorAttribute3", given.get("x-VendorAttribute3", NOW_DT)),
            ],
        )
    assert_same_requests(received, pairs)
    assert key.uid == UID0
    assert key.key == b"\x2a" * 32
    assert key.application_data == "123456789ABCDEF123456789123456789ABCDEF123456789ABCDEF1234000000"


@pytest.mark.parametrize("version", VERSIONS)
async def test_tl_m_3_read_an_encrypted_tape(pki: Pki, version: str) -> None:
    pairs = steps(version, "TL-M-3")
    # step 4 sets two vendor attributes (1.0/1.1 print x-VendorAttribute2 as the date)
    changes = custom_attributes(version, pairs[3][0]) or [
        Attribute("x-VendorAttribute3", NOW_DT),
        Attribute("x-VendorAttribute2", 1),
    ]
    async with replay(pki, pairs) as (client, received):
        tape = TapeKeys(client)
        cartridge = tape_cartridge()
        key = await tape.key_for_read(cartridge)  # step 1: Locate + Get
        uid, names = await tape.attribute_list(cartridge)  # step 2
        uid3, attributes = await tape.key_attributes_of(cartridge)  # step 3
        uid4 = await tape.modify(cartridge, changes)  # step 4
        await client.destroy(key.uid)  # step 5 (clean-up)
    assert_same_requests(received, pairs)
    assert key.uid == uid == uid3 == uid4 == UID0
    assert key.key == b"\x2a" * 32
    assert "x-Barcode" in names and "Application Specific Information" in names
    printed = {i.value for i in _walk(pairs[2][1]) if i.tag == Tag.ATTRIBUTE_NAME}
    if "x-Barcode" in printed:  # TL-M-3-11 prints a Get Attributes answer without it
        assert any(a.name == "x-Barcode" and a.value == "XXA012A1" for a in attributes)


@pytest.mark.parametrize("version", ("v1.4", "v2.0", "v2.1"))
async def test_sased_m_2_register_the_authentication_key(pki: Pki, version: str) -> None:
    pairs = steps(version, "SASED-M-2")
    suffix = version[1:].replace(".", "")
    async with replay(pki, pairs) as (client, received):
        sed = SedKeys(client, f"SASED-M-2-{suffix}-group")
        uid = await sed.register(
            None,
            b"\x2a" * 32,
            name=f"SASED-M-2-{suffix}-name",
            attributes=[Attribute(f"x-CustomAttribute{i}", f"CustomValue{i}") for i in range(1, 5)],
        )
    assert_same_requests(received, pairs)
    assert uid == UID0


@pytest.mark.parametrize("version", DOCUMENT_VERSIONS)
async def test_sased_m_2_register_through_a_template(pki: Pki, version: str) -> None:
    """SASED-M-2-10/11/12: Locate the template, Register it, Register the Secret Data by it."""
    pairs = steps(version, "SASED-M-2")
    suffix = version[1:].replace(".", "")
    template_name = Name(f"SASED-M-2-{suffix}-template1")
    inside = [
        Attribute("Object Group", f"SASED-M-2-{suffix}-group"),
        Attribute("x-CustomAttribute1", "CustomValue1"),
        Attribute("x-CustomAttribute2", "CustomValue2"),
    ]
    # 1.0/1.1 name the template inside it; 1.2 forbids that (SPEC-1.2 Register errors)
    own_name = [Attribute("Name", template_name)]
    template = Template(attributes=tuple(inside + (own_name if version != "v1.2" else [])))
    secret = SecretData(
        secret_data_type=SecretDataType.PASSWORD,
        key_block=KeyBlock(
            key_format_type=KeyFormatType.OPAQUE, key_value=KeyValue(key_material=b"\x2a" * 32)
        ),
    )
    async with replay(pki, pairs) as (client, received):
        found = await client.locate(
            [Attribute("Name", template_name), Attribute("Object Type", ObjectType.TEMPLATE)]
        )
        registered = await client.register(template, [] if version != "v1.2" else own_name)
        (answer,) = await client.batch(
            RegisterRequest(
                object_type=ObjectType.SECRET_DATA,
                template_names=(template_name,),
                attributes=(
                    Attribute("x-CustomAttribute3", "CustomValue3"),
                    Attribute("x-CustomAttribute4", "CustomValue4"),
                    Attribute("Name", Name(f"SASED-M-2-{suffix}-name")),
                ),
                managed_object=secret,
            )
        )
    assert_same_requests(received, pairs)
    assert not found.unique_identifier
    assert isinstance(answer, RegisterResponse)
    assert registered.unique_identifier and answer.unique_identifier


@pytest.mark.parametrize("version", VERSIONS)
async def test_sased_m_3_retrieve_the_authentication_key(pki: Pki, version: str) -> None:
    pairs = steps(version, "SASED-M-3")
    # the group the file locates by (SASED-M-3 retrieves what SASED-M-2 registered)
    locate = pairs[0][0].value[1]
    payload = next(f for f in locate.value if f.tag == Tag.REQUEST_PAYLOAD)
    group = next(
        i.value
        for i in _walk(payload)
        if i.tag == Tag.OBJECT_GROUP or (i.tag == Tag.ATTRIBUTE_VALUE and i.type == ItemType.TEXT_STRING)
    )
    async with replay(pki, pairs) as (client, received):
        located = await client.locate(
            [Attribute("Object Group", group), Attribute("Object Type", ObjectType.SECRET_DATA)]
        )
        (uid,) = located.unique_identifier
        fourth = await client.get_attributes(uid, ["x-CustomAttribute4"])
        third = await client.get_attributes(uid, ["x-CustomAttribute3"])
        secret = await client.get(uid)
        await client.destroy(uid)
        if len(pairs) > 5:  # 1.0-1.3: the template of SASED-M-2 is located and destroyed too
            template = await client.locate(
                [
                    Attribute("Name", _name_in(pairs[5][0])),
                    Attribute("Object Type", ObjectType.TEMPLATE),
                ]
            )
            await client.destroy(template.unique_identifier[0])
    assert_same_requests(received, pairs)
    assert [a.value for a in fourth.attributes] == ["CustomValue4"]
    assert [a.value for a in third.attributes] == ["CustomValue3"]
    assert type(secret.managed_object).__name__ == "SecretData"


def _walk(item: Item) -> list[Item]:
    out = [item]
    if item.type == ItemType.STRUCTURE:
        for child in item.value:
            out += _walk(child)
    return out


def _name_in(request: Item) -> object:
    from agent.model import Name

    value = next(i for i in _walk(request) if i.tag == Tag.NAME_VALUE)
    return Name(value.value)


@pytest.mark.parametrize("version", ("v1.0", "v1.4"))
def test_the_comparison_sees_a_difference(version: str) -> None:
    # the harness is not vacuous: the case's own request minus one attribute differs
    ((request, _),) = steps(version, "TL-M-2")[:1]

    def drop_x_id(item: Item) -> Item:
        if item.type != ItemType.STRUCTURE:
            return item
        kept = tuple(
            drop_x_id(c)
            for c in item.value
            if not (c.tag == Tag.ATTRIBUTE and any(g.value == "x-ID" for g in c.value))
        )
        return Item(item.tag, item.type, kept)

    assert canonical(request) == canonical(request)
    assert canonical(drop_x_id(request)) != canonical(request)
