"""Pure helpers of profiles.server: the inline scheduling hint and the identity extraction."""

from __future__ import annotations

import pytest

from agent import model
from agent.spec import V1_4, V2_1, ObjectType, Operation
from agent.ttlv import Item, decode, encode
from profiles.server import _digest_locate, peer_identity, reads_only


def request(*operations: tuple[Operation, object], version: object = V1_4) -> bytes:
    msg = model.RequestMessage(
        request_header=model.RequestHeader(
            protocol_version=model.ProtocolVersion.of(version), batch_count=len(operations)
        ),
        batch_items=tuple(model.RequestBatchItem(operation=op, request_payload=p) for op, p in operations),
    )
    return model.encode_message(msg)


GET = (Operation.GET, model.GetRequest(unique_identifier="u1"))
LOCATE = (Operation.LOCATE, model.LocateRequest())
QUERY = (Operation.QUERY, model.QueryRequest())
CREATE = (Operation.CREATE, model.CreateRequest(object_type=ObjectType.SYMMETRIC_KEY))
DESTROY = (Operation.DESTROY, model.DestroyRequest(unique_identifier="u1"))


def test_read_requests_run_inline() -> None:
    for version in (V1_4, V2_1):
        assert reads_only(request(LOCATE, version=version))
        assert reads_only(request(LOCATE, QUERY, version=version))
        assert reads_only(request(QUERY, version=version))


def test_get_runs_inline() -> None:
    """The first Get clears Fresh with a non-durable write: it never waits on the disk."""
    assert reads_only(request(GET))
    assert reads_only(request(LOCATE, GET))
    assert not reads_only(request(GET, DESTROY))


def test_any_write_goes_to_the_pool() -> None:
    assert not reads_only(request(CREATE))
    assert not reads_only(request(LOCATE, DESTROY))
    assert not reads_only(request(DESTROY, QUERY))


def test_no_operation_found_goes_to_the_pool() -> None:
    assert not reads_only(b"")
    assert not reads_only(b"\x42\x00\x78\x01\x00\x00\x00\x00")
    assert not reads_only(bytes(range(256)))


def test_hint_matches_the_decoded_operations() -> None:
    """The byte scan finds exactly the Operation items a decoder sees."""
    data = request(LOCATE, GET, CREATE)
    ops = [
        child.value
        for item in decode(data).value
        for child in (item.value if isinstance(item.value, tuple) else ())
        if isinstance(child, Item) and child.tag == 0x42005C
    ]
    assert ops == [Operation.LOCATE, Operation.GET, Operation.CREATE]
    assert encode(decode(data)) == data
    assert not reads_only(data)


def test_peer_identity() -> None:
    cert = {
        "subject": ((("countryName", "DE"),), (("commonName", "client-a"),)),
        "subjectAltName": (("URI", "urn:x:lib-7"), ("DNS", "lib7.example")),
    }
    assert peer_identity(cert, "cn") == "client-a"
    assert peer_identity(cert, "san-uri") == "urn:x:lib-7"
    assert peer_identity(cert, "san-dns") == "lib7.example"
    assert peer_identity(cert, "san") == "lib7.example"  # "san" is DNS (compatibility), not the first SAN
    assert peer_identity(cert, "san-email") is None
    assert peer_identity({"subject": ((("organizationName", "x"),),)}, "cn") is None
    assert peer_identity({"subject": ()}, "san") is None
    assert peer_identity(None) is None
    assert peer_identity({}) is None


def test_peer_identity_refuses_unusable_values() -> None:
    """An empty or blank CN (or SAN value) would make every such certificate one owner."""
    for value in ("", " ", "client-a ", " client-a", "client\na", "client\x00a"):
        assert peer_identity({"subject": ((("commonName", value),),)}, "cn") is None, repr(value)
        assert peer_identity({"subjectAltName": (("DNS", value),)}, "san-dns") is None, repr(value)
    assert (
        peer_identity({"subjectAltName": (("email", "ops@example.org"),)}, "san-email") == "ops@example.org"
    )


def test_locate_by_digest_goes_to_the_pool() -> None:
    """A Digest filter makes Locate unwrap every candidate's material (its Digest Value is never
    stored): that is CPU work proportional to the store, not a quick indexed read."""
    from agent.spec import HashingAlgorithm

    digest = model.Attribute("Digest", model.Digest(HashingAlgorithm.SHA_256, b"\x01" * 32))
    by_digest = (Operation.LOCATE, model.LocateRequest(attributes=(digest,)))
    by_name = (Operation.LOCATE, model.LocateRequest(attributes=(model.Attribute("x-n", "Digest"),)))
    for version in (V1_4, V2_1):
        assert not reads_only(request(by_digest, version=version))
        assert not reads_only(request(QUERY, by_digest, version=version))
        assert reads_only(request(by_name, version=version))  # the word alone is no Digest filter
        # with a store that hands its fsync waits over, only this kind of request leaves the loop
        assert _digest_locate(request(by_digest, version=version))
        assert _digest_locate(request(CREATE, by_digest, version=version))
        assert not _digest_locate(request(by_name, CREATE, GET, version=version))


def test_every_configurable_identity_mode_is_read() -> None:
    from profiles.config import IDENTITY_MODES, ConfigError, ServerConfig, TlsConfig
    from profiles.server import SAN_KINDS

    assert set(IDENTITY_MODES) == {"cn", *SAN_KINDS}
    for mode in IDENTITY_MODES:
        ServerConfig(tls=TlsConfig(identity=mode)).validate()
    with pytest.raises(ConfigError):
        ServerConfig(tls=TlsConfig(identity="san-ip")).validate()


def test_concurrent_writers_are_the_connections_that_wrote_within_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Server._writers: what the store's commit delay waits for."""
    import ssl
    from typing import Any

    from profiles import server as server_module
    from profiles.config import ServerConfig
    from profiles.server import WRITERS_WINDOW_S, Connection, Server

    class Handler:
        def handle_logged(self, data: bytes, identity: str) -> Any:
            raise AssertionError("not called")

    srv = Server(ServerConfig(), Handler(), ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))  # type: ignore[arg-type]
    now = [1000.0]
    monkeypatch.setattr(server_module.time, "monotonic", lambda: now[0])
    a, b, c = (Connection(None, peer) for peer in ("a", "b", "c"))  # type: ignore[arg-type]
    assert srv._writers(a) == 1
    assert srv._writers(b) == 2
    assert srv._writers(a) == 2  # the same connection counts once
    now[0] += WRITERS_WINDOW_S * 0.6
    assert srv._writers(c) == 3
    now[0] += WRITERS_WINDOW_S * 0.6  # b's last write is now too old; a's too (1.2 windows)
    assert srv._writers(c) == 1
    assert srv._writers(b) == 2
    srv._recent_writers.pop(b)  # as a closing connection does
    assert srv._writers(c) == 1


def test_durable_waits_hand_a_batch_over_in_one_wake_up() -> None:
    """Server's DurableWaits: futures resolved together by the store's fsync thread reach the
    loop in one call_soon_threadsafe; errors pass through; a cancelled waiter is skipped."""
    import asyncio
    import concurrent.futures
    import threading
    from typing import Any

    from profiles.server import DurableWaits
    from profiles.store import StoreError

    async def main() -> None:
        loop = asyncio.get_running_loop()
        waits = DurableWaits(loop)
        kicks = []
        real = loop.call_soon_threadsafe

        def counting(callback: Any, *args: Any) -> Any:
            kicks.append(callback)
            return real(callback, *args)

        loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        stored = [concurrent.futures.Future[None]() for _ in range(4)]
        awaited = [waits.wait(f) for f in stored]
        awaited[3].cancel()  # (its task went away)

        def fsync_thread() -> None:  # as the store's syncer resolves a batch
            for f in stored[:2]:
                f.set_result(None)
            stored[2].set_exception(StoreError("fsync failed"))
            stored[3].set_result(None)

        thread = threading.Thread(target=fsync_thread)
        thread.start()
        thread.join()
        await asyncio.wait(awaited[:3])
        assert len(kicks) == 1
        assert awaited[0].result() is None and awaited[1].result() is None
        assert isinstance(awaited[2].exception(), StoreError)
        # already resolved: no hand-over at all
        done = concurrent.futures.Future[None]()
        done.set_result(None)
        assert await waits.wait(done) is None and len(kicks) == 1

    asyncio.run(main())
