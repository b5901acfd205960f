"""Review of the SQLite store's handed-over durability and transaction-level group commit:
races and failure paths found in review (see each test)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from profiles.keyprotect import KeyProtector
from profiles.store import StoreError, open_store
from profiles.store.sqlite import SQLiteStorage
from tests.unit.test_store_durability import Gate, owed_insert, record


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStorage]:
    s = open_store(f"sqlite:///{tmp_path / 'k.db'}", KeyProtector(os.urandom(32)))
    assert isinstance(s, SQLiteStorage)
    yield s
    s.close()


def deferred_fk_table(store: SQLiteStorage) -> None:
    """A table whose rows are checked at COMMIT: a unit inserting a bad one fails to commit."""
    with store._writing("setup", False) as con:
        con.execute("CREATE TABLE t (x INTEGER REFERENCES objects(id) DEFERRABLE INITIALLY DEFERRED)")


def test_a_read_of_a_unit_left_open_owes_it_even_if_the_syncer_commits_right_after(
    store: SQLiteStorage,
) -> None:
    """Request 1 creates "a" (left open); request 2 on the loop reads "a" through the writer.
    If the syncer takes the writer between that read and the read barrier and the COMMIT
    fails, "a" never existed: request 2 must not be acknowledged (it revealed "a", maybe its
    key material). The barrier decided from the state after the failed COMMIT ("a"'s unit
    failed: the row read must be an older committed one) and request 2 owed nothing."""
    deferred_fk_table(store)
    gate = Gate(store)
    gate.busy_syncer()
    with store.owed_durability() as req1, store.transaction():
        store.insert(record("a"))
        with store._writing("bad", True) as con:
            con.execute("INSERT INTO t VALUES (999999)")  # refused at COMMIT
    assert store._seq < req1.seq == store._open_last

    real = store._read_barrier
    syncers: list[threading.Thread] = []

    def syncer_in_between(uids: Iterable[str], via_writer: bool) -> None:
        # the syncer thread, at the end of its fsync, commits the units left open
        th = threading.Thread(target=store._commit_open)
        th.start()
        th.join(0.5)  # (blocks on the writer if the read still holds it)
        syncers.append(th)
        real(uids, via_writer)

    store._read_barrier = syncer_in_between  # type: ignore[method-assign]
    try:
        with store.owed_durability() as req2:
            rec = store.load("a")
    finally:
        store._read_barrier = real  # type: ignore[method-assign]
    for th in syncers:
        th.join(10)
    assert rec is not None  # request 2 read "a" (request 1's unit, still open then)
    assert req1.seq in store._failed and store.load("a") is None  # ... which was never stored
    gate.release.set()
    gate.first.result(timeout=5)
    with pytest.raises(StoreError):
        store.durable_future(req2.seq).result(timeout=5)  # so request 2 is never answered


def test_a_cancelled_durable_future_does_not_stop_the_syncer(store: SQLiteStorage) -> None:
    """A caller awaiting asyncio.wrap_future(durable_future(seq)) (as the server did before it
    synced on its loop, store.sync_owed): cancelling that task (the shutdown timeout) cancels
    the concurrent future too. The syncer then set_result() on a
    cancelled future (InvalidStateError): it died, and the other futures of its batch were
    never resolved (their connections waited forever)."""
    gate = Gate(store)
    gate.busy_syncer()
    a = owed_insert(store, "a")
    b = owed_insert(store, "b")
    fa, fb = store.durable_future(a), store.durable_future(b)
    fa.cancel()  # what asyncio.wrap_future does when the awaiting task is cancelled
    gate.release.set()
    gate.first.result(timeout=5)
    fb.result(timeout=5)
    assert store._synced >= b


def test_a_cancelled_future_of_a_failed_commit_does_not_break_the_writer(store: SQLiteStorage) -> None:
    """Same, for the failure path: the thread whose COMMIT failed (here the syncer) fails the
    waiters of its units; a cancelled one raised InvalidStateError there, and the waiters
    after it in the same COMMIT were never failed."""
    deferred_fk_table(store)
    gate = Gate(store)
    gate.busy_syncer()
    with store.owed_durability() as bad, store._writing("bad", True) as con:
        con.execute("INSERT INTO t VALUES (999999)")
    c = owed_insert(store, "c")  # joins the transaction of the bad unit: shares its fate
    assert store._seq < bad.seq < c == store._open_last
    fbad, fc = store.durable_future(bad.seq), store.durable_future(c)
    fbad.cancel()
    gate.release.set()
    gate.first.result(timeout=5)
    with pytest.raises(StoreError):
        fc.result(timeout=5)
    later = owed_insert(store, "later")
    store.durable_future(later).result(timeout=5)
    assert store.load("later") is not None and store.load("c") is None


def test_a_transaction_sqlite_rolled_back_is_not_joined(store: SQLiteStorage) -> None:
    """SQLite may roll back the whole transaction when a statement fails with SQLITE_FULL,
    SQLITE_IOERR or SQLITE_NOMEM (https://sqlite.org/lang_transaction.html). Units left open
    are then lost. The next unit of the loop must not "join" them: its SAVEPOINT u would start
    a transaction of its own, which its RELEASE u commits at once, outside the bookkeeping
    (later reported failed although stored, and never synced for its readers)."""
    gate = Gate(store)
    gate.busy_syncer()
    a = owed_insert(store, "a")  # left open
    assert store._open_last == a
    with (
        pytest.raises(sqlite3.OperationalError, match="disk is full"),
        store.owed_durability(),
        store._writing("x", True) as con,
    ):
        con.execute("ROLLBACK")  # what SQLite does on such an error: the transaction is gone
        raise sqlite3.OperationalError("database or disk is full")
    b = owed_insert(store, "b")
    fa, fb = store.durable_future(a), store.durable_future(b)
    gate.release.set()
    gate.first.result(timeout=5)
    with pytest.raises(StoreError):
        fa.result(timeout=5)  # "a" was lost with the transaction
    fb.result(timeout=5)  # "b" is stored, and acknowledged only once synced
    assert store.load("b") is not None and store.load("a") is None
    assert b not in store._failed and store._synced >= b


@pytest.mark.parametrize("handing_over", [False, True])
def test_scopes_after_sqlite_rolled_their_transaction_back_store_nothing(
    store: SQLiteStorage, handing_over: bool
) -> None:
    """A batch (Continue): item 1 writes, item 2's statement fails and SQLite rolls the whole
    transaction back (SQLITE_FULL, IOERR, NOMEM). Item 2 reports its own error, not a missing
    savepoint; item 3 must not start a transaction of its own (committed at once, it would be
    stored although the batch fails: a retried Create would find its Name taken); the batch
    fails and nothing of it is stored."""
    outcomes: list[str] = []
    outer = store.owed_durability() if handing_over else contextlib.nullcontext()
    with pytest.raises(StoreError), outer, store.transaction():
        with store.transaction():
            store.insert(record("one"))
        with (
            pytest.raises(sqlite3.OperationalError, match="disk is full"),
            store.transaction(),
            store._writing("two", True) as con,
        ):
            con.execute("ROLLBACK")  # what SQLite does on such an error
            raise sqlite3.OperationalError("database or disk is full")
        try:
            with store.transaction():
                store.insert(record("three"))
        except StoreError:
            outcomes.append("three refused")
    assert outcomes == ["three refused"]
    assert [u for u in ("one", "two", "three") if store.load(u) is not None] == []
    assert not store._writer.in_transaction
    store.insert(record("four"))  # the store goes on
    assert store.load("four") is not None
