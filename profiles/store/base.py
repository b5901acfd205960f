"""The Storage protocol: what the engine asks of a backend (docs/INTERFACES.md).

The store knows nothing of KMIP semantics. The engine hands it opaque TTLV blobs (the
attributes, and the managed object with its key material) plus the index rows Locate needs;
the backend wraps ``material`` with the KeyProtector (AAD = uid) before it reaches disk and
unwraps it on load. Locate is answered from the index rows by the backend (an indexed SQL
query for SQLite), never by loading every object into Python.

Condition semantics (used by every backend, checked by tests/unit/test_store.py): an object
matches a Condition when at least one of its IndexEntry rows has the condition's ``name`` and
satisfies every bound the condition sets (``key`` equal; ``low <= num <= high``; a range
bound never matches a row whose ``num`` is None). A Condition with only a name matches any
object that has that attribute. A LocateQuery is the AND of its conditions and filters.
Results are ordered by ``created`` and then by insertion order, newest first unless
``newest_first`` is False; ``offset`` / ``limit`` apply after ordering (KMIP 1.3+ Locate
Offset Items / Maximum Items, SPEC-1.4 §4.9).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class StoreError(Exception):
    """Base class of storage errors. Messages never carry key material."""


class DuplicateObject(StoreError):
    """``insert`` was given a uid that is already stored."""


class UnknownObject(StoreError):
    """``update`` was given a uid that is not stored."""


class NonUniqueKey(StoreError):
    """``insert``/``update`` would store a unique index row whose (name, key) another stored
    unique row already has (the engine's Names, SPEC-1.4 §3.2). Nothing was written."""


@dataclass(frozen=True)
class IndexEntry:
    """One searchable value of one attribute of an object. Immutable: the engine hands the same
    entries to many records (profiles.attrs.index_rows)."""

    name: str  # attribute name as in 1.x ("Application Specific Information", "x-Barcode")
    key: str  # canonical text for equality (engine-built, e.g. "LIBRARY-LTO\x1f0123AB")
    num: int | None = None  # numeric value for ranges (dates, lengths, enums), else None
    # At most one stored row with unique=True per (name, key), over every object and every
    # server process on the database (NonUniqueKey). The engine marks the Name values of
    # objects that are not destroyed; a destroyed object's rows are written unique=False.
    unique: bool = False
    # False: a value too common to be worth a lookup index (a flag, a mask bit, an enumeration
    # most objects share). The backend keeps the row with its object but may leave it out of
    # its lookup indexes; Conditions on such a name say so (Condition.indexed) and are checked
    # on each candidate. Unique rows are always indexed.
    indexed: bool = True


@dataclass
class ObjectRecord:
    """One managed object as the store holds it."""

    uid: str
    object_type: int
    owner: str  # client identity that created/registered it
    state: int  # State enumeration value
    created: int  # POSIX seconds (Initial Date)
    archived: bool  # on-line (False) / archival storage (True)
    attributes: bytes  # TTLV (engine-defined encoding) of every attribute; not secret
    material: bytes | None  # TTLV of the managed object incl. key material; secret; None once destroyed
    index: list[IndexEntry] = field(default_factory=list)

    def __repr__(self) -> str:
        # Never let key material reach a log line or a traceback through repr().
        material = "None" if self.material is None else f"<{len(self.material)} bytes hidden>"
        return (
            f"ObjectRecord(uid={self.uid!r}, object_type={self.object_type}, owner={self.owner!r}, "
            f"state={self.state}, created={self.created}, archived={self.archived}, "
            f"attributes=<{len(self.attributes)} bytes>, material={material}, "
            f"index=<{len(self.index)} entries>)"
        )


def check_new_rows(index: list[IndexEntry] | None, swap: tuple[IndexEntry, IndexEntry] | None) -> None:
    """Storage.update_attributes takes the new index rows or one row to swap, exactly one."""
    if (index is None) == (swap is None):
        raise ValueError("update_attributes takes the new index rows or one row to swap")


# Commit delay (PostgreSQL's commit_delay / commit_siblings): with several clients writing
# concurrently, the first durable write to wait for the disk waits at most this long for the
# others' before one fsync covers them all (the server's loop before store.sync_owed, the
# SQLite syncer thread before resolving durable_future). Each fdatasync costs ~150 us of CPU
# here whatever it covers; with 4 writing clients per process an fsync covers ~3.8 writes
# with the delay, ~1.2 without.
COMMIT_DELAY_S = 0.002


@dataclass
class Owed:
    """What a ``owed_durability()`` scope leaves to its caller: the last write unit (a store
    sequence number) that must be on disk before anything the scope did is acknowledged;
    0 when nothing is owed."""

    seq: int = 0
    # An fsync (numbered as the store starts them) that must end too: a read returned data that
    # another process committed durably and has not synced yet (SQLite, _foreign_barrier). 0: none.
    gen: int = 0


@dataclass
class Condition:
    """One Locate condition on the index rows of an attribute name."""

    name: str
    key: str | None = None  # equality on IndexEntry.key
    low: int | None = None  # inclusive range on IndexEntry.num
    high: int | None = None
    # False when the rows of ``name`` are written with IndexEntry.indexed False: the backend
    # checks the condition on the candidates of the others (or on a scan), not by a lookup.
    indexed: bool = True


@dataclass
class LocateQuery:
    """What Locate asks of the store: the AND of all conditions and filters."""

    conditions: list[Condition] = field(default_factory=list)
    object_types: list[int] | None = None
    states: list[int] | None = None
    owner: str | None = None  # None = any owner (admin)
    archived: bool | None = None  # None = both
    offset: int = 0
    limit: int | None = None
    newest_first: bool = True


@runtime_checkable
class Storage(Protocol):
    """A storage backend. Implementations: ``memory:`` and ``sqlite:///path`` (see open_store)."""

    def insert(self, rec: ObjectRecord) -> None:
        """Store a new object; durable when it returns (outside a transaction) or at commit.
        DuplicateObject for a stored uid, NonUniqueKey for a taken unique index row."""
        ...

    def load(self, uid: str, *, index: bool = True) -> ObjectRecord | None:
        """The object with its material unwrapped, or None. The caller owns the returned copy.
        ``index=False``: ``rec.index`` is left empty (not read): for callers that rebuild the
        index rows before any write back, as the engine does (Context.save)."""
        ...

    def update(self, rec: ObjectRecord, *, durable: bool = True) -> None:
        """Replace the record and its index rows atomically (UnknownObject if absent,
        NonUniqueKey if a unique row is taken by another object; nothing changes then).

        ``durable=False``: the write is committed and visible at once but may be lost in a
        power loss (it is synced with the next durable write or checkpoint), and neither this
        call nor an enclosing transaction waits for the disk because of it. Only for writes
        whose loss is harmless: a Get clearing Fresh (SPEC-1.4 §3.34), where a lost
        Fresh=False after a crash means the key is reported fresh once more, never lost."""
        ...

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
        """Compare-and-set of the attributes blob and the index rows only (material, state and
        the other columns are kept): writes and returns True if the stored attributes blob is
        still ``expected``, else (changed meanwhile, or no such object) writes nothing and
        returns False. The new rows are ``index``, or the stored rows with the first one equal
        to ``swap[0]`` replaced by ``swap[1]`` (False, nothing written, if none is equal); one
        of the two is given (ValueError otherwise). ``durable`` as for :meth:`update`. A Get
        clearing Fresh uses it (its blob patched, its Fresh row swapped), so a write prepared
        from its read never undoes a newer one."""
        ...

    def locate(self, q: LocateQuery) -> list[str]:
        """Uids matching the query, ordered and paged as documented in this module."""
        ...

    def count(self) -> int:
        """Number of stored objects (destroyed ones included: their metadata remains)."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """All-or-nothing scope for a batch. Nested use is safe: an inner scope that raises is
        rolled back on its own (a savepoint) and the exception propagates; the outermost scope
        commits on normal exit and rolls everything back on an exception."""
        ...

    def durability_scope(self) -> AbstractContextManager[None]:
        """Scope (of this thread) whose transactions and writes return once committed, without
        waiting for the disk; leaving it waits until every durable write committed inside it
        is durable. Lets a caller release its own locks (the engine's Name lock) before that
        wait, so that the fsync of one batch covers the next ones too. Nothing inside the
        scope may be acknowledged to a client before it is left."""
        ...

    def close(self) -> None:
        """Release files and connections. Idempotent."""
        ...


def matches(rec: ObjectRecord, q: LocateQuery) -> bool:
    """Reference semantics of LocateQuery on one record (used by the memory backend and
    as the oracle in tests; the SQLite backend implements the same thing in SQL)."""
    if q.object_types is not None and rec.object_type not in q.object_types:
        return False
    if q.states is not None and rec.state not in q.states:
        return False
    if q.owner is not None and rec.owner != q.owner:
        return False
    if q.archived is not None and rec.archived != q.archived:
        return False
    return all(any(_entry_matches(e, c) for e in rec.index) for c in q.conditions)


def _entry_matches(e: IndexEntry, c: Condition) -> bool:
    if e.name != c.name:
        return False
    if c.key is not None and e.key != c.key:
        return False
    if c.low is not None and (e.num is None or e.num < c.low):
        return False
    return not (c.high is not None and (e.num is None or e.num > c.high))


def copy_record(rec: ObjectRecord) -> ObjectRecord:
    """A copy that shares no mutable state with ``rec`` (bytes are immutable)."""
    return ObjectRecord(
        uid=rec.uid,
        object_type=rec.object_type,
        owner=rec.owner,
        state=rec.state,
        created=rec.created,
        archived=rec.archived,
        attributes=rec.attributes,
        material=rec.material,
        index=list(rec.index),  # (entries are immutable)
    )
