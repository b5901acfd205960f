"""Durability handed over to the caller (SQLiteStorage.owed_durability / durable_future):
the event loop runs the engine inside owed_durability() and awaits durable_future(seq)
before it answers (profiles/server.py), so nothing is acknowledged before its fsync."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from profiles.keyprotect import KeyProtector
from profiles.store import IndexEntry, ObjectRecord, StoreError, open_store
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
