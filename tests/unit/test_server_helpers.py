"""Pure helpers of profiles.server: the inline scheduling hint and the identity extraction."""

from __future__ import annotations

from pathlib import Path

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


def _sync_server(store: object) -> object:
    import ssl
    from typing import Any

    from profiles.config import ServerConfig
    from profiles.server import Server

    class Handler:
        def __init__(self) -> None:
            self.store = store

        def handle_logged(self, data: bytes, identity: str) -> Any:
            raise AssertionError("not called")

    return Server(ServerConfig(), Handler(), ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))  # type: ignore[arg-type]


def test_the_loop_syncs_every_waiting_response_with_one_call() -> None:
    """Server._sync_owed: one store.sync_owed for the whole batch; each future gets its own
    outcome (a failed unit's error, the others released); a cancelled waiter is skipped; the
    commit-delay timer is cancelled."""
    import asyncio
    from collections.abc import Sequence

    from profiles.server import DeferredDurability
    from profiles.store import StoreError

    class Store:
        def __init__(self) -> None:
            self.calls: list[list[tuple[int, int]]] = []

        def owed_durability(self) -> object:
            raise AssertionError("not called")

        batching = False

        def batch_owed(self, on: bool = True) -> None:
            self.batching = on

        def sync_owed(self, owed: Sequence[tuple[int, int]]) -> list[Exception | None]:
            self.calls.append(list(owed))
            return [StoreError("commit failed") if seq == 3 else None for seq, _ in owed]

    store = Store()
    assert isinstance(store, DeferredDurability)
    srv: object = _sync_server(store)
    assert store.batching  # the only process on the store (no admission): batches its writes

    async def main() -> None:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in range(4)]
        srv._owed.extend([(1, 0, futures[0]), (2, 0, futures[1]), (3, 0, futures[2]), (0, 7, futures[3])])  # type: ignore[attr-defined]
        srv._sync_timer = timer = loop.call_later(60, lambda: None)  # type: ignore[attr-defined]
        futures[3].cancel()
        srv._sync_owed()  # type: ignore[attr-defined]
        assert store.calls == [[(1, 0), (2, 0), (3, 0), (0, 7)]]
        assert futures[0].result() is None and futures[1].result() is None
        assert isinstance(futures[2].exception(), StoreError)
        assert timer.cancelled() and srv._sync_timer is None and srv._owed == []  # type: ignore[attr-defined]
        srv._sync_owed()  # nothing waits: no call
        assert len(store.calls) == 1
        # a store that breaks its contract fails the waiters instead of leaving them hanging
        store.sync_owed = lambda owed: 1 / 0  # type: ignore[assignment,method-assign,misc]
        stuck = loop.create_future()
        srv._owed.append((9, 0, stuck))  # type: ignore[attr-defined]
        srv._sync_owed()  # type: ignore[attr-defined]
        assert isinstance(stuck.exception(), ZeroDivisionError)

    asyncio.run(main())


def test_sqlite_sync_owed_reports_each_unit(tmp_path: Path) -> None:
    """SQLiteStorage.sync_owed: the units are on disk when it returns (one fsync for all);
    a failed unit gets its StoreError and the others do not; it never raises."""
    import os

    from profiles.keyprotect import KeyProtector
    from profiles.store import StoreError
    from profiles.store.sqlite import SQLiteStorage

    store = SQLiteStorage(tmp_path / "k.db", KeyProtector(os.urandom(32)))
    try:
        syncs = []
        real = store._fsync_wal

        def counted() -> None:
            syncs.append(1)
            real()

        store._fsync_wal = counted  # type: ignore[method-assign]
        seqs = []
        for uid in ("a", "b"):
            with store.owed_durability() as owed, store._writing(uid, True) as con:
                con.execute("INSERT INTO meta(key, value) VALUES (?, 'x')", (uid,))
            seqs.append(owed.seq)
        assert seqs[0] and seqs[1] > seqs[0] and store._synced < seqs[1]
        with store._sync_cv:
            store._remember_failed(seqs[1] + 5, seqs[1] + 5)
            store._assigned = seqs[1] + 5
        result = store.sync_owed([(seqs[0], 0), (seqs[1], 0), (seqs[1] + 5, 0)])
        assert result[:2] == [None, None] and isinstance(result[2], StoreError)
        assert store._synced >= seqs[1] and len(syncs) == 1
        assert store.sync_owed([(seqs[1], 0)]) == [None] and len(syncs) == 1  # already on disk
        store._broken = True
        assert all(isinstance(e, StoreError) for e in store.sync_owed([(seqs[1] + 1, 0)]))
    finally:
        store._broken = False
        store.close()
