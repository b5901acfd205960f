"""agent.client transport against fake servers on loopback: TLS checks, deadlines, failover,
typed errors for servers that never answer, close mid-response or send garbage.

The fake servers speak raw bytes; the answers that must be valid KMIP are built as Item
trees with agent.ttlv, so these tests do not depend on a real server.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from agent import errors
from agent.client import (
    Client,
    ConnectionLost,
    InvalidResponse,
    OutcomeUnknown,
    RequestTimeout,
    RetryPolicy,
    ServerAddress,
    ServerUnreachable,
    certificate_pin,
    parse_version,
)
from agent.model import GetRequest, QueryRequest
from agent.spec import (
    ItemType,
    ObjectType,
    Operation,
    QueryFunction,
    ResultReason,
    ResultStatus,
    Tag,
    Version,
)
from agent.ttlv import Item, decode, encode
from tests.unit.test_client_pki import Pki, make_pki

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@contextlib.asynccontextmanager
async def fake_server(pki: Pki, handler: Handler, *, tls: bool = True) -> AsyncIterator[str]:
    """A TLS listener on 127.0.0.1 running ``handler`` per connection; yields "host:port"."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_cert, pki.server_key)
    ctx.load_verify_locations(pki.ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    tasks: set[asyncio.Task[None]] = set()

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()
            tasks.discard(task)

    server = await asyncio.start_server(run, "127.0.0.1", 0, ssl=ctx if tls else None)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> Item:
    header = await reader.readexactly(8)
    body = await reader.readexactly(int.from_bytes(header[4:8], "big"))
    return decode(header + body)


def _int(tag: int, value: int) -> Item:
    return Item(tag, ItemType.INTEGER, value)


def response(
    request: Item, status: ResultStatus, reason: ResultReason | None = None, payload: tuple[Item, ...] = ()
) -> bytes:
    """A Response Message answering every batch item of ``request`` with ``status``."""
    header = request.value[0]
    version = next(f for f in header.value if f.tag == Tag.PROTOCOL_VERSION)
    items = []
    for batch_item in request.value[1:]:
        fields = [f for f in batch_item.value if f.tag in (Tag.OPERATION, Tag.UNIQUE_BATCH_ITEM_ID)]
        fields.append(Item(Tag.RESULT_STATUS, ItemType.ENUMERATION, int(status)))
        if reason is not None:
            fields.append(Item(Tag.RESULT_REASON, ItemType.ENUMERATION, int(reason)))
            fields.append(Item(Tag.RESULT_MESSAGE, ItemType.TEXT_STRING, "fixed text"))
        if status == ResultStatus.SUCCESS:
            fields.append(Item(Tag.RESPONSE_PAYLOAD, ItemType.STRUCTURE, payload))
        items.append(Item(Tag.BATCH_ITEM, ItemType.STRUCTURE, tuple(fields)))
    head = Item(
        Tag.RESPONSE_HEADER,
        ItemType.STRUCTURE,
        (version, Item(Tag.TIME_STAMP, ItemType.DATE_TIME, 1_700_000_000), _int(Tag.BATCH_COUNT, len(items))),
    )
    return encode(Item(Tag.RESPONSE_MESSAGE, ItemType.STRUCTURE, (head, *items)))


def client(pki: Pki, servers: list[str], **kwargs: object) -> Client:
    options: dict[str, object] = {
        "version": "1.4",
        "connect_timeout": 1.0,
        "deadline": 2.0,
        "retry": RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02, set_aside=30.0),
        "rng": random.Random(7),
    }
    options.update(kwargs)
    return Client(servers, pki.client_cert, pki.client_key, pki.ca, **options)  # type: ignore[arg-type]


def closed_port() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"  # nothing listens once the socket closes


QUERY = QueryRequest(query_function=(QueryFunction.QUERY_OPERATIONS,))


# --- addresses and versions --------------------------------------------------------------


def test_server_address_parsing() -> None:
    assert ServerAddress.parse("kms:5697") == ServerAddress("kms", 5697)
    assert ServerAddress.parse("kms") == ServerAddress("kms", 5696)
    assert ServerAddress.parse("[::1]:5696") == ServerAddress("::1", 5696)
    assert ServerAddress.parse("::1") == ServerAddress("::1", 5696)
    assert str(ServerAddress("::1", 1)) == "[::1]:1"
    for bad in ("", "kms:", "kms:99999", "kms:x", "[::1", "[::1]x"):
        with pytest.raises(ValueError):
            ServerAddress.parse(bad)


def test_version_parsing() -> None:
    assert parse_version("1.4") == Version(1, 4)
    assert parse_version(Version(2, 1)) == Version(2, 1)
    for bad in ("1", "a.b", "1.4.1"):
        with pytest.raises(ValueError):
            parse_version(bad)


def test_client_refuses_bad_construction(pki: Pki) -> None:
    with pytest.raises(ValueError):
        Client([], pki.client_cert, pki.client_key, pki.ca)
    with pytest.raises(ValueError):
        Client(["h:1"], pki.client_cert, pki.client_key, pki.ca, deadline=0)
    with pytest.raises(ValueError):
        Client(["h:1"], pki.client_cert, pki.client_key, pki.ca, pins=["00"])


# --- answers --------------------------------------------------------------------------


async def test_kmip_failure_is_a_typed_error_and_not_retried(pki: Pki) -> None:
    seen: list[Item] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_request(reader)
            seen.append(request)
            writer.write(response(request, ResultStatus.OPERATION_FAILED, ResultReason.ITEM_NOT_FOUND))
            await writer.drain()

    async with fake_server(pki, handler) as addr, client(pki, [addr]) as kmip:
        with pytest.raises(errors.ItemNotFound) as err:
            await kmip.batch(GetRequest(unique_identifier="nope"))
        assert err.value.reason == ResultReason.ITEM_NOT_FOUND
        assert err.value.message == "fixed text"
        assert len(seen) == 1  # a KMIP error result is never retried


async def test_connection_is_reused_and_replaced_after_idle_close(pki: Pki) -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        request = await read_request(reader)
        writer.write(response(request, ResultStatus.OPERATION_FAILED, ResultReason.PERMISSION_DENIED))
        await writer.drain()
        if connections == 1:
            request = await read_request(reader)
            writer.write(response(request, ResultStatus.OPERATION_FAILED, ResultReason.PERMISSION_DENIED))
            await writer.drain()
        # then close, as a server's idle timeout would

    async with fake_server(pki, handler) as addr, client(pki, [addr]) as kmip:
        for _ in range(4):
            with pytest.raises(errors.PermissionDenied):
                await kmip.batch(GetRequest(unique_identifier="u"))
        assert kmip.round_trips == 4
    assert connections == 3  # two requests on the first connection, then one per new connection


async def test_pinned_certificate(pki: Pki) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        writer.write(response(request, ResultStatus.OPERATION_FAILED, ResultReason.ITEM_NOT_FOUND))
        await writer.drain()

    good = certificate_pin(pki.server_der)
    async with fake_server(pki, handler) as addr:
        async with client(pki, [addr], pins=[good]) as kmip:
            with pytest.raises(errors.ItemNotFound):
                await kmip.batch(GetRequest(unique_identifier="u"))
        async with client(pki, [addr], pins=["ab" * 32]) as kmip:
            with pytest.raises(ServerUnreachable) as err:
                await kmip.batch(GetRequest(unique_identifier="u"))
            assert "pin" in str(err.value)


async def test_server_name_is_checked_by_default(pki: Pki) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        writer.write(response(request, ResultStatus.OPERATION_FAILED, ResultReason.ITEM_NOT_FOUND))
        await writer.drain()

    async with fake_server(pki, handler) as addr:
        async with client(pki, [addr], server_name="other.example") as kmip:
            with pytest.raises(ServerUnreachable):
                await kmip.batch(GetRequest(unique_identifier="u"))
        async with client(pki, [addr], server_name="other.example", check_hostname=False) as kmip:
            with pytest.raises(errors.ItemNotFound):
                await kmip.batch(GetRequest(unique_identifier="u"))


async def test_untrusted_server_certificate(pki: Pki, tmp_path: Path) -> None:
    other = make_pki(tmp_path)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async with fake_server(pki, handler) as addr:
        kmip = Client([addr], pki.client_cert, pki.client_key, other.ca, version="1.4", deadline=2.0)
        with pytest.raises(ServerUnreachable) as err:
            await kmip.batch(GetRequest(unique_identifier="u"))
        assert "certificate" in str(err.value)


# --- broken servers: clear typed errors within the deadline ------------------------------


async def test_server_that_never_answers_times_out(pki: Pki) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.Event().wait()  # never answers

    async with fake_server(pki, handler) as addr, client(pki, [addr], deadline=0.5) as kmip:
        with pytest.raises(RequestTimeout) as err:
            await kmip.batch(GetRequest(unique_identifier="u"))
        assert isinstance(err.value, TimeoutError)


async def test_tcp_server_that_never_completes_the_handshake(pki: Pki) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    async with fake_server(pki, handler, tls=False) as addr, client(pki, [addr], deadline=0.6) as kmip:
        with pytest.raises((RequestTimeout, ServerUnreachable)):
            await kmip.batch(GetRequest(unique_identifier="u"))


async def test_server_that_closes_mid_response(pki: Pki) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        data = response(request, ResultStatus.OPERATION_FAILED, ResultReason.ITEM_NOT_FOUND)
        writer.write(data[: len(data) // 2])
        await writer.drain()

    async with fake_server(pki, handler) as addr, client(pki, [addr]) as kmip:
        with pytest.raises(ConnectionLost) as err:
            await kmip.batch(GetRequest(unique_identifier="u"))
        assert "mid-response" in str(err.value)
        assert err.value.maybe_executed


@pytest.mark.parametrize(
    "garbage",
    [
        b"HTTP/1.1 400 Bad Request\r\n\r\n",  # bad tag prefix: the framer refuses the header
        b"\x42\x00\x7b\x01\x00\x00\x00\x07",  # Structure length not a multiple of 8
        encode(
            Item(Tag.RESPONSE_MESSAGE, ItemType.STRUCTURE, (Item(Tag.BATCH_COUNT, ItemType.INTEGER, 1),))
        ),  # no header
        encode(Item(Tag.REQUEST_MESSAGE, ItemType.STRUCTURE, ())),  # a request, not a response
        b"\x42\x00\x7b\x01\x00\x00\x00\x10" + b"\xff" * 16,  # framed, but not TTLV inside
    ],
)
async def test_server_that_sends_garbage(pki: Pki, garbage: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(garbage)
        await writer.drain()
        await asyncio.Event().wait()

    async with fake_server(pki, handler) as addr, client(pki, [addr]) as kmip:
        with pytest.raises(InvalidResponse):
            await kmip.batch(GetRequest(unique_identifier="u"))


async def test_response_that_does_not_correlate(pki: Pki) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        data = decode(response(request, ResultStatus.OPERATION_FAILED, ResultReason.ITEM_NOT_FOUND))
        head, *items = data.value
        # answer with another operation
        bad = tuple(
            Item(f.tag, f.type, int(Operation.DESTROY)) if f.tag == Tag.OPERATION else f
            for f in items[0].value
        )
        writer.write(
            encode(
                Item(
                    Tag.RESPONSE_MESSAGE,
                    ItemType.STRUCTURE,
                    (head, Item(Tag.BATCH_ITEM, ItemType.STRUCTURE, bad)),
                )
            )
        )
        await writer.drain()
        await asyncio.Event().wait()

    async with fake_server(pki, handler) as addr, client(pki, [addr]) as kmip:
        with pytest.raises(InvalidResponse):
            await kmip.batch(GetRequest(unique_identifier="u"))


# --- failover ----------------------------------------------------------------------------


async def test_failover_skips_dead_and_silent_servers_and_sets_them_aside(pki: Pki) -> None:
    answered = 0

    async def good(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal answered
        while True:
            request = await read_request(reader)
            answered += 1
            writer.write(response(request, ResultStatus.OPERATION_FAILED, ResultReason.ITEM_NOT_FOUND))
            await writer.drain()

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"garbage!" * 4)
        await writer.drain()

    async with fake_server(pki, garbage) as bad, fake_server(pki, good) as ok:
        servers = [closed_port(), bad, ok]
        async with client(pki, servers, deadline=3.0) as kmip:
            for _ in range(5):
                with pytest.raises(errors.ItemNotFound):
                    await kmip.batch(GetRequest(unique_identifier="u"))
            assert answered == 5
            assert kmip.round_trips == 5  # the set-aside servers were not tried again


async def test_all_servers_down_gives_server_unreachable(pki: Pki) -> None:
    async with client(pki, [closed_port(), closed_port()], deadline=2.0) as kmip:
        with pytest.raises(ServerUnreachable) as err:
            await kmip.batch(GetRequest(unique_identifier="u"))
        assert not err.value.maybe_executed  # never connected: safe to retry later, even a Create


async def test_create_is_not_resent_after_it_may_have_run(pki: Pki) -> None:
    from agent.model import CreateRequest

    requests = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        await read_request(reader)
        requests += 1  # the server got it, then the connection drops

    async with fake_server(pki, handler) as addr, client(pki, [addr, addr]) as kmip:
        with pytest.raises(OutcomeUnknown):
            await kmip.batch(CreateRequest(object_type=ObjectType.SYMMETRIC_KEY, attributes=()))
    assert requests == 1


async def test_create_with_unique_attributes_is_located_before_it_is_sent_again(pki: Pki) -> None:
    from agent.model import ApplicationSpecificInformation, Attribute

    creates: list[str] = []

    def operation_of(request: Item) -> int:
        return int(next(f.value for f in request.value[1].value if f.tag == Tag.OPERATION))

    async def first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        creates.append("first")
        assert operation_of(request) == Operation.CREATE
        # the server created the key, then died before answering

    async def second(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_request(reader)
            if operation_of(request) == Operation.CREATE:
                creates.append("second")
            uid = Item(Tag.UNIQUE_IDENTIFIER, ItemType.TEXT_STRING, "uid-made-by-first")
            writer.write(response(request, ResultStatus.SUCCESS, payload=(uid,)))
            await writer.drain()

    asi = ApplicationSpecificInformation("LIBRARY-LTO", "0A0B")
    async with fake_server(pki, first) as a, fake_server(pki, second) as b, client(pki, [a, b]) as kmip:
        created = await kmip.create([Attribute("Application Specific Information", asi)])
        assert created.unique_identifier == "uid-made-by-first"
    assert creates == ["first"]  # located on the second server, never created twice


async def test_create_without_unique_attributes_reports_unknown_outcome(pki: Pki) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async with fake_server(pki, handler) as addr, client(pki, [addr]) as kmip:
        with pytest.raises(OutcomeUnknown) as err:
            await kmip.create_symmetric_key()
        assert err.value.maybe_executed


async def test_many_concurrent_requests_share_connections(pki: Pki) -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            request = await read_request(reader)
            await asyncio.sleep(0.01)
            writer.write(response(request, ResultStatus.OPERATION_FAILED, ResultReason.ITEM_NOT_FOUND))
            await writer.drain()

    async with fake_server(pki, handler) as addr, client(pki, [addr], max_connections=3) as kmip:

        async def one() -> None:
            with pytest.raises(errors.ItemNotFound):
                await kmip.batch(GetRequest(unique_identifier="u"))

        await asyncio.gather(*(one() for _ in range(30)))
        assert kmip.round_trips == 30
    assert connections <= 3  # one connection per concurrent request, bounded, reused


async def test_trailing_bytes_after_a_response_retire_the_connection(pki: Pki) -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            request = await read_request(reader)
            data = response(request, ResultStatus.OPERATION_FAILED, ResultReason.ITEM_NOT_FOUND)
            writer.write(data + data[:5])  # a whole response, then the start of something else
            await writer.drain()

    async with fake_server(pki, handler) as addr, client(pki, [addr]) as kmip:
        for _ in range(2):
            with pytest.raises(errors.ItemNotFound):
                await kmip.batch(GetRequest(unique_identifier="u"))
    assert connections == 2  # the stream could not be trusted after the first answer
