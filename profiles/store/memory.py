"""``memory:`` backend: the Storage semantics in a dict, for unit tests of the engine.

Same behaviour as the SQLite backend (ordering, paging, transactions with nested rollback,
copies in and out), but nothing survives ``close``. Locate filters every record in Python:
that is fine for tests, and is exactly what the SQLite backend must never do. If a
KeyProtector is given, material is held wrapped (AAD = uid) as on disk, so engine tests
exercise the same wrap/unwrap path.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from profiles.keyprotect import KeyProtector
from profiles.store.base import (
    DuplicateObject,
    IndexEntry,
    LocateQuery,
    NonUniqueKey,
    ObjectRecord,
    Owed,
    StoreError,
    UnknownObject,
    check_new_rows,
    copy_record,
    matches,
)


class MemoryStorage:
    """Thread-safe in-memory Storage. A transaction holds the store's lock until it ends."""

    def __init__(self, protector: KeyProtector | None = None) -> None:
        self._protector = protector
        # uid -> (insertion sequence, record with wrapped material)
        self._objects: dict[str, tuple[int, ObjectRecord]] = {}
        self._seq = 0
        self._lock = threading.RLock()
        # (name, key) of every stored unique index row -> uid of its object
        self._unique: dict[tuple[str, str], str] = {}
        self._snapshots: list[
            tuple[dict[str, tuple[int, ObjectRecord]], int, dict[tuple[str, str], str]]
        ] = []
        self._closed = False

    # -- Storage -------------------------------------------------------------------------

    def insert(self, rec: ObjectRecord) -> None:
        with self._lock:
            self._check_open()
            if rec.uid in self._objects:
                raise DuplicateObject(f"object {rec.uid!r} already exists")
            self._claim_unique(rec, None)
            self._seq += 1
            self._objects[rec.uid] = (self._seq, self._stored(rec))

    def load(self, uid: str, *, index: bool = True) -> ObjectRecord | None:
        with self._lock:
            self._check_open()
            entry = self._objects.get(uid)
        if entry is None:
            return None
        rec = copy_record(entry[1])
        if not index:
            rec.index = []
        if rec.material is not None and self._protector is not None:
            rec.material = self._protector.unwrap(rec.material, rec.uid.encode())
        return rec

    def update(self, rec: ObjectRecord, *, durable: bool = True) -> None:
        with self._lock:
            self._check_open()
            entry = self._objects.get(rec.uid)
            if entry is None:
                raise UnknownObject(f"object {rec.uid!r} does not exist")
            self._claim_unique(rec, entry[1])
            self._objects[rec.uid] = (entry[0], self._stored(rec))

    def update_attributes(
        self,
        uid: str,
        expected: bytes,
        attributes: bytes,
        index: list[IndexEntry] | None = None,
        *,
        swap: tuple[IndexEntry, IndexEntry] | None = None,
        durable: bool = True,
    ) -> bool:
        check_new_rows(index, swap)
        with self._lock:
            self._check_open()
            entry = self._objects.get(uid)
            if entry is None or entry[1].attributes != expected:
                return False
            rec = copy_record(entry[1])
            rec.attributes = attributes
            if swap is not None:
                if swap[0] not in rec.index:
                    return False
                rec.index[rec.index.index(swap[0])] = swap[1]
            else:
                assert index is not None
                rec.index = list(index)
            self._claim_unique(rec, entry[1])
            self._objects[uid] = (entry[0], rec)  # material stays as stored (wrapped)
            return True

    def locate(self, q: LocateQuery) -> list[str]:
        with self._lock:
            self._check_open()
            hits = [(r.created, seq, uid) for uid, (seq, r) in self._objects.items() if matches(r, q)]
        hits.sort(reverse=q.newest_first)
        uids = [uid for _, _, uid in hits]
        end = None if q.limit is None else q.offset + q.limit
        return uids[q.offset : end]

    def count(self) -> int:
        with self._lock:
            self._check_open()
            return len(self._objects)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self._check_open()
            # Records are replaced, never mutated in place, so a shallow copy is a snapshot.
            self._snapshots.append((dict(self._objects), self._seq, dict(self._unique)))
            try:
                yield
            except BaseException:
                self._objects, self._seq, self._unique = self._snapshots.pop()
                raise
            else:
                self._snapshots.pop()

    def durability_scope(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()  # every write is done when it returns

    def owed_durability(self) -> AbstractContextManager[Owed]:
        return contextlib.nullcontext(Owed())  # nothing is ever owed: no disk

    def batch_owed(self, on: bool = True) -> None:
        pass  # every write is done when it returns

    def sync_owed(self, owed: Sequence[tuple[int, int]]) -> list[StoreError | None]:
        return [None] * len(owed)  # nothing is ever owed

    def durable_future(self, seq: int, *, writers: int = 1, gen: int = 0) -> concurrent.futures.Future[None]:
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        future.set_result(None)
        return future

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._objects.clear()

    # -- helpers -------------------------------------------------------------------------

    def _stored(self, rec: ObjectRecord) -> ObjectRecord:
        stored = copy_record(rec)
        if stored.material is not None and self._protector is not None:
            stored.material = self._protector.wrap(stored.material, stored.uid.encode())
        return stored

    def _claim_unique(self, rec: ObjectRecord, old: ObjectRecord | None) -> None:
        """Take ``rec``'s unique rows (releasing ``old``'s), or NonUniqueKey and change nothing."""
        keys = [(e.name, e.key) for e in rec.index if e.unique]
        if len(set(keys)) != len(keys) or any(self._unique.get(k, rec.uid) != rec.uid for k in keys):
            raise NonUniqueKey("a unique index row is already stored for another object")
        if old is not None:
            for e in old.index:
                if e.unique:
                    self._unique.pop((e.name, e.key), None)
        for k in keys:
            self._unique[k] = rec.uid

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("store is closed")


def open_memory(url: str, protector: KeyProtector | None) -> MemoryStorage:
    """Factory for the ``memory:`` URL (see profiles.store.BACKENDS)."""
    if url.rstrip("/") != "memory:":
        raise StoreError(f"memory storage URL takes no path: {url!r}")
    return MemoryStorage(protector)
