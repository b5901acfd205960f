"""Durability handed over to the caller (SQLiteStorage.owed_durability / durable_future):
the event loop runs the engine inside owed_durability() and awaits durable_future(seq)
before it answers (profiles/server.py), so nothing is acknowledged before its fsync."""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from profiles.keyprotect import KeyProtector
from profiles.store import (
    Condition,
    DuplicateObject,
    IndexEntry,
    LocateQuery,
    ObjectRecord,
    StoreError,
    open_store,
)
from profiles.store import sqlite as sqlite_store
from profiles.store.sqlite import SQLiteStorage


def record(uid: str) -> ObjectRecord:
    return ObjectRecord(
        uid=uid,
        object_type=2,
        owner="client-a",
        state=1,
        created=1000,
        archived=False,
        attributes=b"attrs:" + uid.encode(),
        material=b"key:" + uid.encode(),
        index=[IndexEntry("Name", f"name-{uid}")],
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStorage]:
    s = open_store(f"sqlite:///{tmp_path / 'k.db'}", KeyProtector(os.urandom(32)))
    assert isinstance(s, SQLiteStorage)
    yield s
    s.close()


def test_writes_in_the_scope_are_owed_not_waited_for(store: SQLiteStorage) -> None:
    synced_before = store._synced
    with store.owed_durability() as owed:
        store.insert(record("u1"))
    assert owed.seq > synced_before
    assert store._synced < owed.seq  # nothing synced it: the caller owes the wait
    store.durable_future(owed.seq).result(timeout=10)
    assert store._synced >= owed.seq


def test_non_durable_writes_owe_nothing(store: SQLiteStorage) -> None:
    store.insert(record("u1"))
    rec = store.load("u1")
    assert rec is not None
    rec.state = 2
    with store.owed_durability() as owed:
        store.update(rec, durable=False)
    assert owed.seq == 0


def test_a_read_of_an_unsynced_object_owes_its_write(store: SQLiteStorage) -> None:
    """The read barrier: a response that reveals an object whose durable write is not yet
    on disk waits for it (here: owes it, so the server awaits it before answering)."""
    with store.owed_durability() as created:
        store.insert(record("u1"))
    with store.owed_durability() as read:
        assert store.load("u1") is not None
    assert read.seq == created.seq
    store.durable_future(created.seq).result(timeout=10)
    with store.owed_durability() as read_again:
        assert store.load("u1") is not None
    assert read_again.seq == 0  # synced: nothing more to wait for


def test_outside_the_scope_writes_wait_as_before(store: SQLiteStorage) -> None:
    store.insert(record("u1"))
    assert store._synced >= store._seq


def test_nested_in_a_durability_scope_the_outer_scope_waits(store: SQLiteStorage) -> None:
    with store.durability_scope():
        with store.owed_durability() as owed:
            store.insert(record("u1"))
        assert owed.seq == 0
        assert store._synced < store._seq
    assert store._synced >= store._seq


def test_one_fsync_covers_every_waiting_write(store: SQLiteStorage) -> None:
    calls = 0
    real = store._fsync_wal

    def counting() -> None:
        nonlocal calls
        calls += 1
        real()

    store._fsync_wal = counting  # type: ignore[method-assign]
    seqs = []
    for n in range(20):
        with store.owed_durability() as owed:
            store.insert(record(f"u{n}"))
        seqs.append(owed.seq)
    futures = [store.durable_future(s) for s in seqs]
    for f in futures:
        f.result(timeout=10)
    assert 1 <= calls <= 2  # the syncer may have started on the first future alone


def test_failed_fsync_fails_the_future_and_later_writes(store: SQLiteStorage) -> None:
    def broken() -> None:
        raise OSError(5, "I/O error")

    store._fsync_wal = broken  # type: ignore[method-assign]
    with store.owed_durability() as owed:
        store.insert(record("u1"))
    with pytest.raises(StoreError):
        store.durable_future(owed.seq).result(timeout=10)
    with pytest.raises(StoreError):  # nothing is promised durable any more
        store.durable_future(owed.seq).result(timeout=10)
    with pytest.raises(StoreError):
        store.insert(record("u2"))


def test_close_syncs_what_is_still_awaited(tmp_path: Path) -> None:
    s = open_store(f"sqlite:///{tmp_path / 'k.db'}", KeyProtector(os.urandom(32)))
    assert isinstance(s, SQLiteStorage)
    release = threading.Event()
    real = s._fsync_wal

    def slow() -> None:
        release.wait(10)
        real()

    s._fsync_wal = slow  # type: ignore[method-assign]
    with s.owed_durability() as owed:
        s.insert(record("u1"))
    future = s.durable_future(owed.seq)
    closer = threading.Thread(target=s.close)
    closer.start()
    release.set()
    closer.join(10)
    assert not closer.is_alive()
    future.result(timeout=1)
    with pytest.raises(StoreError):
        s.durable_future(owed.seq + 1).result(timeout=1)


def test_memory_store_owes_nothing(tmp_path: Path) -> None:
    s = open_store("memory:", None)
    with s.owed_durability() as owed:  # type: ignore[attr-defined]
        s.insert(record("u1"))
    assert owed.seq == 0
    s.durable_future(0).result(timeout=1)  # type: ignore[attr-defined]


# -- group commit of units made inside owed_durability() ------------------------------------
# While the syncer thread is at work (an fsync in progress), such units end without a COMMIT:
# the writer's transaction stays open and the syncer commits them all at once after the fsync.


class Gate:
    """Holds the store's fsyncs until released, so the syncer stays at work."""

    def __init__(self, store: SQLiteStorage) -> None:
        self.store = store
        self.release = threading.Event()
        self.entered = threading.Event()
        self.real = store._fsync_wal
        store._fsync_wal = self  # type: ignore[method-assign]

    def __call__(self) -> None:
        self.entered.set()
        assert self.release.wait(30)
        self.real()

    def busy_syncer(self, uid: str = "first") -> None:
        """A first unit commits itself (the syncer is idle); its future puts the syncer in
        an fsync held by the gate."""
        with self.store.owed_durability() as owed:
            self.store.insert(record(uid))
        assert self.store._seq == owed.seq  # committed by its own thread
        self.first = self.store.durable_future(owed.seq)
        assert self.entered.wait(10)
        assert self.store._batching


def owed_insert(store: SQLiteStorage, uid: str) -> int:
    with store.owed_durability() as owed:
        store.insert(record(uid))
    return owed.seq


def committed_uids(path: Path) -> set[str]:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return {u for (u,) in con.execute("SELECT uid FROM objects")}
    finally:
        con.close()


def count_commits(store: SQLiteStorage) -> list[int]:
    commits: list[int] = []
    real = store._commit_locked

    def counting(last: int) -> None:
        commits.append(last)
        real(last)

    store._commit_locked = counting  # type: ignore[method-assign]
    return commits


def test_units_made_during_an_fsync_share_one_commit(store: SQLiteStorage) -> None:
    gate = Gate(store)
    gate.busy_syncer()
    commits = count_commits(store)
    seqs = [owed_insert(store, f"u{n}") for n in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert store._open_last == seqs[-1] and store._seq < seqs[0]  # left open, not committed
    assert not commits
    assert "u3" not in committed_uids(store.path)
    futures = [store.durable_future(s) for s in seqs]
    gate.release.set()
    gate.first.result(timeout=10)
    for f in futures:
        f.result(timeout=10)
    assert commits == [seqs[-1]]  # one COMMIT for the five units
    assert store._synced >= seqs[-1] and not store._pending
    assert {f"u{n}" for n in range(5)} <= committed_uids(store.path)


def test_the_loop_reads_its_units_left_open_and_owes_them(store: SQLiteStorage) -> None:
    """Read-your-writes: request 2 on the loop reads what request 1 left open (not the older
    committed row, which it would then write back: a lost update), and owes request 1's unit.
    Other threads read committed data only."""
    store.insert(record("x"))
    gate = Gate(store)
    gate.busy_syncer()
    with store.owed_durability() as req1:  # request 1: state change, left open
        rec = store.load("x")
        assert rec is not None and rec.state == 1
        rec.state = 2
        store.update(rec)
    assert store._seq < req1.seq
    with store.owed_durability() as req2:  # request 2: read-modify-write of the same object
        rec = store.load("x")
        assert rec is not None and rec.state == 2  # request 1's write, not the committed row
        rec.attributes = b"changed by request 2"
        store.update(rec)
    assert req2.seq > req1.seq
    with store.owed_durability() as read:  # a read-only request owes what it reveals
        rec = store.load("x")
        assert rec is not None and rec.attributes == b"changed by request 2"
        assert store.locate(LocateQuery([Condition("Name", "name-x")])) == ["x"]
    assert read.seq == req2.seq
    with store.owed_durability() as absent:  # what a Locate leaves out depends on them too
        assert store.locate(LocateQuery([Condition("Name", "name-y")])) == []
    assert absent.seq == req2.seq

    import sqlite3

    con = sqlite3.connect(store.path)  # another connection: committed data only
    try:
        assert con.execute("SELECT state FROM objects WHERE uid = 'x'").fetchone() == (1,)
    finally:
        con.close()

    futures = [store.durable_future(s) for s in (req1.seq, req2.seq)]
    gate.release.set()
    for f in futures:
        f.result(timeout=10)
    got = store.load("x")
    assert got is not None and got.state == 2 and got.attributes == b"changed by request 2"


def test_a_failing_unit_in_the_open_transaction_is_undone_alone(store: SQLiteStorage) -> None:
    gate = Gate(store)
    gate.busy_syncer()
    kept = owed_insert(store, "a")
    with pytest.raises(DuplicateObject), store.owed_durability():
        store.insert(record("a"))  # a standalone write joining the open transaction
    with pytest.raises(RuntimeError), store.owed_durability(), store.transaction():
        store.insert(record("b"))  # Undo: the whole request's unit
        with store.transaction():
            store.insert(record("c"))
        raise RuntimeError
    with store.owed_durability() as stop, store.transaction():
        # Stop: a failed item leaves the items before it
        with store.transaction():
            store.insert(record("d"))
        with pytest.raises(RuntimeError), store.transaction():
            store.insert(record("e"))
            raise RuntimeError
    with store.owed_durability():
        assert store.load("a") is not None and store.load("d") is not None
        assert store.load("b") is None and store.load("c") is None and store.load("e") is None
    assert store._seq < kept  # all of it still open
    futures = [store.durable_future(s) for s in (kept, stop.seq)]
    gate.release.set()
    for f in futures:
        f.result(timeout=10)
    assert committed_uids(store.path) == {"first", "a", "d"}


def test_a_failed_commit_fails_the_waiters_of_its_units(store: SQLiteStorage) -> None:
    """A COMMIT of units left open fails (here: a deferred foreign key violated by one of
    them): every unit of it is lost, so every one of their futures fails (their responses
    were never sent); units committed before are unaffected and writing goes on."""
    store.insert(record("before"))
    with store._writing("setup", False) as con:
        con.execute("CREATE TABLE t (x INTEGER REFERENCES objects(id) DEFERRABLE INITIALLY DEFERRED)")
    gate = Gate(store)
    gate.busy_syncer()
    a = owed_insert(store, "a")
    with store.owed_durability() as bad, store._writing("bad", True) as con:
        con.execute("INSERT INTO t VALUES (999999)")  # refused at COMMIT
    futures = [store.durable_future(a), store.durable_future(bad.seq)]
    gate.release.set()
    gate.first.result(timeout=10)
    for f in futures:
        with pytest.raises(StoreError):
            f.result(timeout=10)
    with pytest.raises(StoreError):
        store.durable_future(a).result(timeout=1)  # asked again: still failed
    assert store.load("a") is None
    with store.owed_durability() as read:  # a pending entry of a failed unit owes no more
        assert store.load("before") is not None
    store.durable_future(read.seq).result(timeout=10)
    store.insert(record("after"))
    owed = owed_insert(store, "after-owed")
    store.durable_future(owed).result(timeout=10)
    assert committed_uids(store.path) == {"before", "first", "after", "after-owed"}


def test_a_blocking_writer_commits_the_open_transaction_first(store: SQLiteStorage) -> None:
    gate = Gate(store)
    gate.busy_syncer()
    seq = owed_insert(store, "a")
    assert store._seq < seq
    done = threading.Event()

    def classic() -> None:
        store.insert(record("b"))  # not in owed_durability(): durable on return
        done.set()

    th = threading.Thread(target=classic)
    th.start()
    deadline = time.monotonic() + 10
    while store._seq < seq + 1 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert store._seq == seq + 1  # "a", then "b": committed while the syncer is still held
    assert {"a", "b"} <= committed_uids(store.path)
    assert not done.is_set()  # b waits for its fsync
    future = store.durable_future(seq)
    gate.release.set()
    th.join(10)
    assert done.is_set()
    future.result(timeout=10)


def test_close_commits_the_open_transaction(tmp_path: Path) -> None:
    protector = KeyProtector(os.urandom(32))
    path = tmp_path / "k.db"
    s = open_store(f"sqlite:///{path}", protector)
    assert isinstance(s, SQLiteStorage)
    gate = Gate(s)
    gate.busy_syncer()
    awaited = owed_insert(s, "awaited")
    future = s.durable_future(awaited)
    not_awaited = owed_insert(s, "not-awaited")
    assert s._seq < awaited < not_awaited == s._open_last
    closer = threading.Thread(target=s.close)
    closer.start()
    gate.release.set()
    closer.join(10)
    assert not closer.is_alive()
    future.result(timeout=1)
    again = open_store(f"sqlite:///{path}", protector)
    try:
        assert again.load("awaited") is not None and again.load("not-awaited") is not None
    finally:
        again.close()


def test_non_durable_units_ride_along_and_owe_nothing(store: SQLiteStorage) -> None:
    store.insert(record("x"))
    gate = Gate(store)
    gate.busy_syncer()
    with store.owed_durability() as owed:
        rec = store.load("x")
        assert rec is not None
        rec.state = 2
        store.update(rec, durable=False)
    assert owed.seq == 0 and store._open_last > store._seq
    gate.release.set()
    gate.first.result(timeout=10)
    deadline = time.monotonic() + 10
    while store._open_last and time.monotonic() < deadline:
        time.sleep(0.001)
    assert not store._open_last  # the syncer committed it after its fsync
    got = store.load("x")
    assert got is not None and got.state == 2


def test_soak_every_acknowledged_write_survives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A loop-like thread (owed_durability, futures), blocking writers in pool threads and a
    second store on the same file (another process's writer) all at once, with fsyncs slow
    enough for units to pile up: everything acknowledged is there after reopening."""
    # units are left open even though the other store waits on the flock (the harder case)
    monkeypatch.setattr(sqlite_store, "CONTENDED_S", 0.0)
    protector = KeyProtector(os.urandom(32))
    path = tmp_path / "k.db"
    url = f"sqlite:///{path}"
    s1, s2 = open_store(url, protector), open_store(url, protector)
    assert isinstance(s1, SQLiteStorage) and isinstance(s2, SQLiteStorage)
    for s in (s1, s2):
        real = s._fsync_wal

        def slow(real: Callable[[], None] = real) -> None:
            time.sleep(0.002)
            real()

        s._fsync_wal = slow  # type: ignore[method-assign]
    acked: list[str] = []
    acked_lock = threading.Lock()
    errors: list[BaseException] = []
    stop = time.monotonic() + 2.0
    commits = count_commits(s1)

    def ack(uid: str) -> None:
        with acked_lock:
            acked.append(uid)

    def loop_like(s: SQLiteStorage, name: str) -> None:
        try:
            n = 0
            pending: list[tuple[str, concurrent.futures.Future[None]]] = []
            while time.monotonic() < stop:
                n += 1
                uid = f"{name}-{n}"
                with s.owed_durability() as owed:
                    with s.transaction():
                        s.insert(record(uid))
                    if n % 3 == 0:  # read-modify-write of the previous object (lost update?)
                        prev = s.load(f"{name}-{n - 1}")
                        assert prev is not None
                        prev.attributes += b"+"
                        s.update(prev)
                    if n % 7 == 0:
                        with pytest.raises(RuntimeError), s.transaction():
                            s.insert(record(f"{uid}-undone"))
                            raise RuntimeError
                pending.append((uid, s.durable_future(owed.seq)))
                if len(pending) > 16:
                    done_uid, future = pending.pop(0)
                    future.result(timeout=30)
                    ack(done_uid)
            for done_uid, future in pending:
                future.result(timeout=30)
                ack(done_uid)
        except BaseException as exc:  # reported below
            errors.append(exc)

    def pool(s: SQLiteStorage, name: str) -> None:
        try:
            n = 0
            while time.monotonic() < stop:
                n += 1
                s.insert(record(f"{name}-{n}"))
                ack(f"{name}-{n}")
                assert s.load(f"{name}-{n}") is not None
                s.locate(LocateQuery([Condition("Name", f"name-{name}-{n}")]))
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=loop_like, args=(s1, "loop1")),
        threading.Thread(target=pool, args=(s1, "pool1a")),
        threading.Thread(target=pool, args=(s1, "pool1b")),
        threading.Thread(target=loop_like, args=(s2, "loop2")),
        threading.Thread(target=pool, args=(s2, "pool2")),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    s1.close()
    s2.close()
    assert acked and len(commits) < s1._assigned  # some units did share a COMMIT
    stored = committed_uids(path)
    assert set(acked) <= stored
    assert not any(u.endswith("-undone") for u in stored)
    again = open_store(url, protector)
    try:
        for uid in acked:
            if uid.startswith("loop1-") and int(uid.split("-")[1]) % 3 == 0:
                prev = again.load(f"loop1-{int(uid.split('-')[1]) - 1}")
                assert prev is not None and prev.attributes.endswith(b"+")
    finally:
        again.close()


def test_a_durability_scope_owing_a_failed_unit_raises(store: SQLiteStorage) -> None:
    """owed_durability() nested in durability_scope(): units left open owe the outer scope,
    whose end commits and syncs them, or raises if their COMMIT failed, even once later
    units have committed."""
    with store._writing("setup", False) as con:
        con.execute("CREATE TABLE t (x INTEGER REFERENCES objects(id) DEFERRABLE INITIALLY DEFERRED)")
    gate = Gate(store)
    gate.busy_syncer()
    with pytest.raises(StoreError), store.durability_scope():
        with store.owed_durability(), store._writing("bad", True) as con:
            con.execute("INSERT INTO t VALUES (999999)")
        assert store._open_last
        store._commit_open()  # fails (as if the syncer had committed it between two units)
        store.insert(record("later"))  # a later unit commits
        assert store._seq == store._assigned
    with store.owed_durability() as owed:  # the same in the loop's scope
        with store._writing("bad", True) as con:
            con.execute("INSERT INTO t VALUES (999999)")
        store._commit_open()
        store.insert(record("later-owed"))  # left open: the syncer is still held
    assert store._open_last
    with pytest.raises(StoreError):
        store.durable_future(owed.seq).result(timeout=1)
    gate.release.set()
    gate.first.result(timeout=10)

    gate = Gate(store)
    gate.busy_syncer("second")
    with store.durability_scope():
        with store.owed_durability():
            store.insert(record("a"))
        assert store._seq < store._open_last
        threading.Timer(0.1, gate.release.set).start()
    assert store._synced >= store._seq and store.load("a") is not None  # the scope's end did it


def test_no_units_left_open_while_another_process_waits_for_the_writer(tmp_path: Path) -> None:
    """Units left open hold the writer flock across an fsync: while another process on the
    file has recently made this one wait for it, units commit themselves again."""
    protector = KeyProtector(os.urandom(32))
    url = f"sqlite:///{tmp_path / 'k.db'}"
    s1, s2 = open_store(url, protector), open_store(url, protector)
    assert isinstance(s1, SQLiteStorage) and isinstance(s2, SQLiteStorage)
    try:
        gate = Gate(s1)
        gate.busy_syncer()
        assert owed_insert(s1, "batched") == s1._open_last  # nobody else: left open
        s1._commit_open()
        held = threading.Event()

        def other_process() -> None:
            with s2._write_lock:
                s2._write_lock.lock_file()
                held.set()
                time.sleep(0.1)
                s2._write_lock.unlock_file()

        th = threading.Thread(target=other_process)
        th.start()
        assert held.wait(10)
        seq = owed_insert(s1, "after-waiting")  # waits for s2's flock
        th.join(10)
        assert s1._seq == seq and not s1._open_last  # committed by its own thread
        gate.release.set()
        gate.first.result(timeout=10)
    finally:
        s1.close()
        s2.close()


def _count_fsyncs(store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = store._fsync_wal

    def counting() -> None:
        calls.append(store._seq)
        real()

    monkeypatch.setattr(store, "_fsync_wal", counting)
    return calls


def test_commit_delay_waits_for_each_concurrent_writer(
    store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two writers, the first unit's fsync waits for the second's future: one fsync
    covers both (the delay is long here, so only the second future can end it)."""
    monkeypatch.setattr(sqlite_store, "COMMIT_DELAY_S", 30.0)
    fsyncs = _count_fsyncs(store, monkeypatch)
    a = owed_insert(store, "a")
    first = store.durable_future(a, writers=2)
    time.sleep(0.3)
    assert not first.done() and fsyncs == []
    b = owed_insert(store, "b")
    second = store.durable_future(b, writers=2)
    first.result(timeout=10)
    second.result(timeout=10)
    assert len(fsyncs) == 1 and fsyncs[0] >= b


def test_commit_delay_is_bounded(store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that does not come is waited for COMMIT_DELAY_S, not longer."""
    monkeypatch.setattr(sqlite_store, "COMMIT_DELAY_S", 0.4)
    fsyncs = _count_fsyncs(store, monkeypatch)
    start = time.monotonic()
    store.durable_future(owed_insert(store, "a"), writers=3).result(timeout=10)
    waited = time.monotonic() - start
    assert 0.35 <= waited < 5 and len(fsyncs) == 1


def test_one_writer_is_synced_at_once(store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "COMMIT_DELAY_S", 30.0)
    start = time.monotonic()
    for n in range(3):
        store.durable_future(owed_insert(store, f"u{n}")).result(timeout=10)
    assert time.monotonic() - start < 10  # (30 s each if the delay applied)


def test_commit_delay_ends_when_the_store_closes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "COMMIT_DELAY_S", 30.0)
    s = open_store(f"sqlite:///{tmp_path / 'c.db'}", KeyProtector(os.urandom(32)))
    assert isinstance(s, SQLiteStorage)
    future = s.durable_future(owed_insert(s, "a"), writers=4)
    start = time.monotonic()
    s.close()  # the syncer stops waiting, syncs what is awaited, exits
    future.result(timeout=10)
    assert time.monotonic() - start < 10


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[SQLiteStorage, SQLiteStorage]]:
    """Two stores on one database, as two server processes have (limits.processes)."""
    protector = KeyProtector(os.urandom(32))
    a = open_store(f"sqlite:///{tmp_path / 'k.db'}", protector)
    b = open_store(f"sqlite:///{tmp_path / 'k.db'}", protector)
    assert isinstance(a, SQLiteStorage) and isinstance(b, SQLiteStorage)
    yield a, b
    a.close()
    b.close()


def test_a_read_of_another_process_unsynced_write_waits_for_an_fsync(
    pair: tuple[SQLiteStorage, SQLiteStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Process A's Create is committed and not yet synced (its own response still waits):
    process B must not answer a Get or a Locate that shows the key before an fsync covers it
    (else a power loss could take back a key a tape drive was already given)."""
    a, b = pair
    b_fsyncs = _count_fsyncs(b, monkeypatch)
    owed_insert(a, "k1")  # committed, its fsync not even asked for
    rec = b.load("k1")
    assert rec is not None and rec.material == b"key:k1"
    assert len(b_fsyncs) == 1  # B synced the WAL (A's frames with it) before returning
    assert b.load("k1") is not None and len(b_fsyncs) == 1  # covered now: no second one
    owed_insert(a, "k2")
    assert b.locate(LocateQuery([Condition("Name", "name-k2")])) == ["k2"]
    assert len(b_fsyncs) == 2
    # on the event loop (owed_durability): owed, not waited for; the future waits
    owed_insert(a, "k3")
    with b.owed_durability() as owed:
        assert b.load("k3") is not None
    assert owed.seq == 0 and owed.gen > 0 and len(b_fsyncs) == 2
    b.durable_future(owed.seq, gen=owed.gen).result(timeout=10)
    assert len(b_fsyncs) == 3


def test_reads_do_not_wait_for_writes_already_synced_own_or_not_durable(
    pair: tuple[SQLiteStorage, SQLiteStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    a.insert(record("k1"))  # durable: A synced it before returning
    b_fsyncs = _count_fsyncs(b, monkeypatch)
    a_fsyncs = _count_fsyncs(a, monkeypatch)
    assert b.load("k1") is not None and b_fsyncs == []
    # A's own unsynced write: A's per-object barrier decides, reads of other objects go on
    owed_insert(a, "k2")
    assert a.load("k1") is not None and a_fsyncs == []
    # a write whose loss is harmless (a Get clearing Fresh) makes no one wait
    rec = a.load("k1")
    assert rec is not None
    b.durable_future(owed_insert(b, "k3")).result(timeout=10)  # B's fsync covers k2 as well
    before = len(b_fsyncs)
    assert a.update_attributes("k1", rec.attributes, b"patched", rec.index, durable=False)
    assert b.load("k1") is not None and len(b_fsyncs) == before


def test_a_process_that_died_mid_commit_does_not_make_every_read_wait(tmp_path: Path) -> None:
    """The shared count of durable COMMITs started is ahead of those done when a process died
    between the two: the next store to open (or the next writer) repairs it."""
    protector = KeyProtector(os.urandom(32))
    url = f"sqlite:///{tmp_path / 'k.db'}"
    first = open_store(url, protector)
    assert isinstance(first, SQLiteStorage)
    first.insert(record("k1"))
    lock = first._write_lock
    lock._shared[0:8] = (lock.durable_started() + 1).to_bytes(8, "little")  # started, never done
    first.close()
    again = open_store(url, protector)
    assert isinstance(again, SQLiteStorage)
    try:
        assert again._write_lock.durable_started() == again._write_lock.durable_done()
        calls = []
        real = again._fsync_wal
        again._fsync_wal = lambda: (calls.append(1), real())[1]  # type: ignore[method-assign]
        assert again.load("k1") is not None and calls == []
    finally:
        again.close()


def test_failed_units_are_remembered_within_a_bound(
    store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that stays full fails every write: the failed unit numbers (asked about by the
    same request, right after) must not grow without end; the newest are kept."""
    monkeypatch.setattr(sqlite_store, "FAILED_KEPT", 8)
    with store._sync_cv:
        for n in range(1, 101):
            store._remember_failed(n, n)
            assert len(store._failed) <= 8
            assert n in store._failed  # the one that just failed is always known
        store._remember_failed(101, 103)
        assert {101, 102, 103} <= store._failed and len(store._failed) <= 8


def test_batch_owed_leaves_durable_units_open_for_one_commit(store: SQLiteStorage, tmp_path: Path) -> None:
    """batch_owed(): durable units of owed_durability() stay in one open transaction, read
    through it by the next units (read-your-writes), invisible to other connections, until
    sync_owed commits them with one COMMIT and one fsync; a unit that owes nothing commits at
    once, with what was open; none is left open while another process writes."""
    commits: list[str] = []
    store._writer.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    other = SQLiteStorage(tmp_path / "k.db", store._protector)
    try:
        store.batch_owed(True)
        owed = []
        for uid in ("b1", "b2", "b3"):
            with store.owed_durability() as scope:
                store.insert(record(uid))
                assert store.load("b1") is not None  # the open units are read through the writer
            owed.append((scope.seq, scope.gen))
        assert store._open_last == owed[-1][0] and not commits
        assert other.load("b1") is None  # nothing is committed yet
        assert store.sync_owed(owed) == [None, None, None]
        assert commits == ["COMMIT"] and store._open_last == 0 and store._synced >= owed[-1][0]
        assert {u for u in ("b1", "b2", "b3") if other.load(u) is not None} == {"b1", "b2", "b3"}

        # a write that owes nothing (durable=False) commits at once, with the unit left open
        commits.clear()
        with store.owed_durability() as scope:
            store.insert(record("b4"))
        assert store._open_last == scope.seq
        with store.owed_durability():
            rec = store.load("b4")  # (as the loop reads: through the open transaction)
            assert rec is not None
            store.update(rec, durable=False)
        assert commits == ["COMMIT"] and store._open_last == 0
        assert store.sync_owed([(scope.seq, scope.gen)]) == [None]

        # another process had to wait for the flock: every unit commits by itself again
        store._write_lock.contended_at = time.monotonic()
        commits.clear()
        with store.owed_durability() as scope:
            store.insert(record("b5"))
        assert commits == ["COMMIT"] and store._open_last == 0
        assert store.sync_owed([(scope.seq, scope.gen)]) == [None]
    finally:
        store._writer.set_trace_callback(None)
        other.close()
