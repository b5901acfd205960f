"""``sqlite:`` backend: the embedded default (WAL, durable commits, indexed Locate).

- Durability: ``journal_mode=WAL``. SQLite's ``synchronous=FULL`` is ``synchronous=NORMAL`` plus
  one fsync of the WAL file after each commit (https://sqlite.org/pragma.html#pragma_synchronous);
  the writer runs NORMAL and the store does that fsync itself, outside SQLite's write lock, so
  that it can cover many commits (group commit, below). A durable write returns only once an
  fdatasync of the WAL that started after its COMMIT has returned: an acknowledged
  Create/Register survives kill -9 and power loss exactly as with FULL. Checkpoints keep
  NORMAL's own syncs (WAL before, database after).
- Group commit: write units COMMIT one after the other on the writer connection (no fsync,
  tens of microseconds), then wait for the WAL to be synced. One waiter at a time syncs
  (leader/follower) and covers every unit committed before it started; units that commit while
  an fsync is in flight are all covered by the next one. Writers never hold the write lock
  across an fsync.
- Durability handed over (``owed_durability()``): the event loop runs requests in that scope;
  their units commit without waiting and ``owed.seq`` names the unit the response depends on.
  The server's loop then calls ``sync_owed`` for all its waiting responses at once (one fsync
  on the loop: it does so when every writing client waits, so it has nothing else to do).
  ``durable_future(seq)`` is the same through the ``keyshelf-fsync`` syncer thread, for
  callers that cannot block; the server stopped using it: the thread's wake-ups and GIL
  hand-offs cost ~90 us of CPU per Create at concurrency 8.
- Commit delay (like PostgreSQL's commit_delay / commit_siblings; the server's loop applies
  the same rule before its ``sync_owed``, profiles.server.COMMIT_DELAY_S): ``durable_future(seq,
  writers=n)`` says that n clients of the caller are writing concurrently. With more than one,
  the syncer holds its next fsync until n futures wait (every such client's unit is in) or
  ``COMMIT_DELAY_S`` has passed. Each fdatasync costs ~100 us of CPU here whatever it covers;
  with 4 clients per process writing, an fsync covered ~1.2 units without the delay and ~3.9
  with it (server CPU per Create 0.96 -> 0.79 ms, and lower latency as the CPU is freed). One
  writer (or an idle server) is synced at once, as before.
- Transaction-level group commit for those units: while the syncer is at work (``_batching``:
  an fsync is in progress or follows), or for a durable unit once ``batch_owed()`` was called
  (the single-process server: its loop's ``sync_owed`` commits them), a unit made in
  ``owed_durability()`` ends without COMMIT; the writer's transaction stays open (units
  ``(_seq, _open_last]``), and the next such unit joins it under a savepoint of its own ("u"),
  so it can be undone alone (Stop/Undo exact). Each unit still gets its sequence number and
  its durable uids enter the read barrier at its end. The syncer commits the open transaction
  right after its fsync (one COMMIT: consecutive Creates touch the same rightmost index
  leaves, each written to the WAL once per batch instead of once per Create, ~3x less WAL),
  then fsyncs again for the waiters. When the syncer is idle a unit commits itself, so an idle
  server's latency is unchanged; so it does for ``CONTENDED_S`` after this process last had to
  wait for the writer flock (another process writes to the file too: units left open would
  hold the flock, and stall that process's event loop, for an fsync instead of a unit). Any
  other user of the writer commits the open transaction first: a blocking write of another
  thread, the checkpoint thread's WAL-restart step, ``close()``, a ``_wait_synced`` of an open
  unit. A failed COMMIT fails every unit in it: their futures raise StoreError (their
  responses were never sent) and their numbers stay failed (``_failed``).
- Read-your-writes: a thread in ``owed_durability()`` reads through the writer connection
  (under ``_write_lock``) while units are left open, so request 2 on the loop sees request 1's
  uncommitted write (else it could read the older row and write it back: a lost update);
  reading an object of such a unit owes that unit, and a Locate owes every unit left open
  (what it leaves out may depend on them). A scope that owes a unit whose COMMIT failed fails
  as a whole (``_check_owed``). Other threads and processes read committed data on their own
  connections (not yet acknowledged units are not visible to them).
- ``update(rec, durable=False)`` / ``update_attributes(..., durable=False)`` commit without
  waiting for the fsync (they ride on the next one). Only for writes whose loss after a crash
  is harmless: the engine uses them for the Fresh flag a Get clears (SPEC-1.4 §3.34), so
  Gets never wait on the disk.
- Read barrier: a committed but not yet synced write is visible to other connections. So that
  no response reveals an object that could still vanish in a power loss, ``load`` and
  ``locate`` wait for (or run) the sync when they return an object whose last durable write is
  still unsynced (rare: only while its writer is itself waiting for that fsync). A reader that
  read, on its own connection, an object whose last durable unit is left open or failed got an
  older committed version: it waits for everything committed (conservative).
- Read barrier across processes (limits.processes > 1, a failover pair on one file): another
  process's write is visible once committed, before its fsync. Each durable COMMIT is counted
  in "<db>-writer" (mapped by every process: COMMITs started, done, and the "done" count some
  process's successful fsync covered), changed under the flock. A ``load`` or ``locate`` that
  returns something, while durable COMMITs of other processes may be unsynced, is answered
  only after an fsync of its own that starts later (one fdatasync of the WAL covers every
  process's frames): owed as ``Owed.gen`` on the event loop, run or waited for elsewhere.
  Without it, process B could hand a tape drive the key of a Create that process A has
  committed but not yet synced, and a power loss would take that key back.
- Concurrency: one reader connection per thread; WAL readers never wait for the writer or
  for each other. Writes go through one writer connection. ``_WriterLock``: a thread lock
  guards each use of it (a unit from its first write to its end, a COMMIT, a read through
  it); an flock of "<db>-writer" is held from BEGIN to COMMIT/ROLLBACK, across units left
  open too, so other processes on the file wait on it (never on SQLite's busy handler).
- Locate: every condition is a primary-key search of a WITHOUT ROWID lookup table (migration
  4: ``idx_key`` (name, key, obj) for equality, ``idx_num`` (name, num, obj) for ranges and
  numbers, ``idx_unique`` (name, key) for the unique rows) joined to ``objects`` by rowid;
  type/state/owner/created are indexed columns. Each index row is one b-tree entry; rows are
  deleted by primary key from the ``objects.index_rows`` copy. Conditions checked on candidates
  that drive nothing are primary-key seeks, or (presence, ranges) a read of the candidate's own
  ``index_rows``. Nothing is filtered in Python.
- Statements: a write takes no savepoint of its own when undoing its unit (a ROLLBACK, or
  ROLLBACK TO u for a unit that joined units left open) or the savepoint of the scope it
  starts can undo it, and scopes open when the unit begins take none (undoing one undoes the
  unit): an engine Create is BEGIN, its INSERTs, COMMIT (or SAVEPOINT u, INSERTs, RELEASE u).
- WAL length: checkpoints run on their own thread; when the WAL has grown past
  ``WAL_RESTART_FRAMES`` a pass copies the last frames between two writers, so that the next
  writer restarts the WAL from its start (under steady writes it otherwise never does).
- Schema: numbered migrations in ``MIGRATIONS``, applied in order at open, each recorded in
  ``schema_migrations`` in the same transaction as its DDL.
- Key material is wrapped with the KeyProtector (AAD = uid) before it is bound to a statement;
  the KEK check value is kept in ``meta`` so a wrong KEK is refused at open.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import json
import mmap
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from profiles.keyprotect import KeyProtector, WrongKek
from profiles.store.base import (
    COMMIT_DELAY_S,
    Condition,
    DuplicateObject,
    IndexEntry,
    LocateQuery,
    NonUniqueKey,
    ObjectRecord,
    Owed,
    StoreError,
    UnknownObject,
    check_new_rows,
)

URL_PREFIX = "sqlite:///"
BUSY_TIMEOUT_S = 30.0
CHECKPOINT_UNITS = 64  # committed write units between two background checkpoint passes
WAL_RESTART_FRAMES = 4096  # WAL length (pages) from which a pass also lets the WAL restart
FAILED_KEPT = 65_536  # failed unit numbers remembered (_remember_failed)
_SHARED_SIZE = 24  # bytes of "<db>-writer" mapped by every process (_WriterLock._counter)
_U64 = struct.Struct("<Q")
# Units are left open (group commit) only if no other process has made this one wait for the
# writer flock for that long: units left open hold it across an fsync, and another process's
# event loop would wait for it that long instead of one unit.
CONTENDED_S = 1.0


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "objects, attribute index rows, meta",
        (
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
            """CREATE TABLE objects (
                id INTEGER PRIMARY KEY,          -- insertion order (Locate tie-break)
                uid TEXT NOT NULL UNIQUE,
                object_type INTEGER NOT NULL,
                owner TEXT NOT NULL,
                state INTEGER NOT NULL,
                created INTEGER NOT NULL,
                archived INTEGER NOT NULL,
                attributes BLOB NOT NULL,
                material BLOB,                   -- KeyProtector.wrap(material, uid); never plaintext
                index_rows TEXT NOT NULL         -- JSON copy of the index rows, so load is one query
            )""",
            "CREATE INDEX objects_created ON objects(created, id)",
            "CREATE INDEX objects_type ON objects(object_type, state, created, id)",
            "CREATE INDEX objects_state ON objects(state, created, id)",
            "CREATE INDEX objects_owner ON objects(owner, created, id)",
            """CREATE TABLE attr_index (
                obj INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                key TEXT NOT NULL,
                num INTEGER
            )""",
            "CREATE INDEX attr_index_key ON attr_index(name, key, obj)",
            "CREATE INDEX attr_index_num ON attr_index(name, num, obj)",
            "CREATE INDEX attr_index_obj ON attr_index(obj)",
        ),
    ),
    Migration(
        2,
        "unique index rows (Names shared by every server process on the database)",
        (
            # uniq: 1 for IndexEntry.unique rows, else NULL; only the unique rows enter the index
            "ALTER TABLE attr_index ADD COLUMN uniq INTEGER",
            "CREATE UNIQUE INDEX attr_index_unique ON attr_index(name, key) WHERE uniq = 1",
            # Rows written before this migration are marked as the engine marks them now: the
            # Name values of objects not destroyed (State 5, 6). Should a race between two
            # processes have left a Name on two live objects, the older keeps it.
            """UPDATE attr_index SET uniq = 1 WHERE rowid IN (
                SELECT min(a.rowid) FROM attr_index a JOIN objects o ON o.id = a.obj
                WHERE a.name = 'Name/Name Value' AND o.state NOT IN (5, 6) GROUP BY a.key)""",
            """UPDATE objects SET index_rows = (
                SELECT json_group_array(CASE WHEN uniq = 1 THEN json_array(name, key, num, 1)
                                             ELSE json_array(name, key, num) END)
                FROM attr_index WHERE obj = objects.id)
            WHERE id IN (SELECT obj FROM attr_index WHERE uniq = 1)""",
        ),
    ),
    Migration(
        3,
        "each index row in one lookup index: by key, or by number when the key is that number",
        (
            # bynum = 1: num is set and key is its decimal text (lengths, enums, dates, flags):
            # such a row is found by (name, num) alone. Every index entry is a b-tree leaf
            # written to the WAL at commit; with both indexes holding every row a Create wrote
            # ~80 pages, ~33 of them for the second copy of its ~27 rows.
            "ALTER TABLE attr_index ADD COLUMN bynum INTEGER",
            "UPDATE attr_index SET bynum = 1 WHERE num IS NOT NULL AND key = CAST(num AS TEXT)",
            "DROP INDEX attr_index_key",
            "DROP INDEX attr_index_num",
            "CREATE INDEX attr_index_key ON attr_index(name, key, obj) WHERE bynum IS NULL",
            "CREATE INDEX attr_index_num ON attr_index(name, num, obj) WHERE num IS NOT NULL",
        ),
    ),
    Migration(
        4,
        "index rows in WITHOUT ROWID lookup tables: one b-tree entry per row",
        (
            # attr_index put each row in 3-4 b-trees (its rowid table, the obj index, a lookup
            # index, the unique index): ~80 b-tree inserts per Create. Here a row is one entry
            # of a table clustered on its lookup key; rows are deleted by primary key from the
            # objects.index_rows copy, so no index on obj is needed. The tables hold each
            # distinct row of an object once (an IN/EXISTS lookup cannot tell two apart).
            # Rows whose key is not their number: equality by (name, key).
            """CREATE TABLE idx_key (
                name TEXT NOT NULL, key TEXT NOT NULL, obj INTEGER NOT NULL,
                PRIMARY KEY (name, key, obj)) WITHOUT ROWID""",
            # Rows with a number: ranges by (name, num); keyed = 0 when the key is the number's
            # decimal text (equality by number too), 1 when the key differs (also in idx_key).
            """CREATE TABLE idx_num (
                name TEXT NOT NULL, num INTEGER NOT NULL, obj INTEGER NOT NULL,
                keyed INTEGER NOT NULL, PRIMARY KEY (name, num, obj, keyed)) WITHOUT ROWID""",
            # IndexEntry.unique rows (also in idx_key / idx_num): one owner per (name, key)
            # across every process on the database.
            """CREATE TABLE idx_unique (
                name TEXT NOT NULL, key TEXT NOT NULL, obj INTEGER NOT NULL,
                PRIMARY KEY (name, key)) WITHOUT ROWID""",
            "INSERT OR IGNORE INTO idx_key SELECT name, key, obj FROM attr_index WHERE bynum IS NULL",
            "INSERT OR IGNORE INTO idx_num SELECT name, num, obj, bynum IS NULL FROM attr_index "
            "WHERE num IS NOT NULL",
            "INSERT INTO idx_unique SELECT name, key, obj FROM attr_index WHERE uniq = 1",
            "DROP TABLE attr_index",
        ),
    ),
    Migration(
        5,
        "no lookup rows for what objects' columns hold, or for attributes Locate probes",
        (
            # Unique Identifier is objects.uid and Initial Date objects.created (_COLUMN_ROWS);
            # the others are probed on each candidate's own rows (profiles.attrs.indexed):
            # every lookup row is a b-tree leaf a Create writes to the WAL.
            "DELETE FROM idx_key WHERE name IN ('Unique Identifier', 'Initial Date')",
            "DELETE FROM idx_num WHERE name = 'Initial Date'",
            "DELETE FROM idx_key WHERE name IN ('Cryptographic Algorithm', 'Cryptographic Length')",
            "DELETE FROM idx_num WHERE name IN ('Cryptographic Algorithm', 'Cryptographic Length')",
        ),
    ),
)

# Index rows held by a column of objects, not by the lookup tables: Locate filters them there
# (build_locate_sql). Both are set once, at creation: objects.uid (unique index) is the
# Unique Identifier; objects.created (index objects_created) is the Initial Date, in seconds.
_COLUMN_ROWS = {"Unique Identifier": "uid", "Initial Date": "created"}


@dataclass
class _ThreadState:
    con: sqlite3.Connection  # this thread's reader connection
    depth: int = 0  # nesting of transaction() scopes
    holds_writer: bool = False  # this thread's open scope has written: it owns the writer
    savepoints: set[int] = field(default_factory=set)  # scope levels that hold a savepoint
    # Scopes open when the unit began (levels 1..base_depth) start where it starts: undoing
    # one of them is undoing the unit, so none takes a savepoint.
    base_depth: int = 0
    # Where a failed write can return to without a savepoint of its own: 0 = nothing written
    # since the unit began (undo the unit: ROLLBACK, or ROLLBACK TO u when joined), L > 0 =
    # nothing since savepoint sL (the innermost) was taken, -1 = neither (savepoint "w").
    clean: int = -1
    # The unit joined a transaction left open by earlier units (batched): it began with
    # savepoint "u", and undoing it is ROLLBACK TO u (a ROLLBACK would undo the others).
    joined: bool = False
    durable_uids: list[str] = field(default_factory=list)  # durable writes of the open scope
    durable: bool = False  # the open scope made a write that must be synced before it returns
    deferring: int = 0  # nesting of durability_scope() and owed_durability()
    handing_over: int = 0  # nesting of owed_durability(): owed units go to its caller
    owed: int = 0  # highest durable unit made inside durability_scope(), not yet waited for
    owed_seqs: list[int] = field(default_factory=list)  # every unit owed (see _check_owed)
    owed_gen: int = 0  # an fsync of this generation must end first (_foreign_barrier)


class SQLiteStorage:
    """Storage on one SQLite file; safe to share between threads.

    Reads use one connection per thread. Writes go through one shared writer connection,
    owned by one thread at a time (``_write_lock``): a standalone write, or a transaction
    scope from its first write to its end, is one write unit, committed without an fsync
    (or, in ``owed_durability()`` while the syncer is at work, left in the open transaction
    for the syncer to commit with the units that follow). Durable units then wait in
    ``_wait_synced`` until a group fsync of the WAL covers them (see the module docstring);
    outside ``owed_durability()``/``durability_scope()``, ``insert``/``update`` and the
    outermost ``transaction()`` return only once durable.
    """

    def __init__(self, path: Path, protector: KeyProtector) -> None:
        self.path = path
        self._protector = protector
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()  # guards _connections only, never held during a query
        # SQLite admits one writer at a time anyway; queueing writers on a lock that wakes the
        # next one at once avoids SQLite's sleep-and-retry busy handler (it sleeps milliseconds
        # per conflict): threads of this process on a Python lock (each use of the writer),
        # then processes on the same file (limits.processes, a failover pair) on an flock of
        # "<db>-writer" (BEGIN to COMMIT). Readers on their own connections never touch it;
        # SQLite's own lock and busy timeout remain the rule for any other writer.
        self._write_lock = _WriterLock(Path(f"{path}-writer"))
        self._closed = False
        # Group fsync bookkeeping, under _sync_cv. Every committed write unit gets a sequence
        # number (_seq, assigned under _write_lock too); _synced is the highest one known to be
        # on disk. _pending: uid -> sequence of its last durable write not yet synced (the read
        # barrier); _inflight: the sequence whose COMMIT is running (0: none).
        sync_lock = threading.Lock()
        self._sync_cv = threading.Condition(sync_lock)
        # What the syncer thread waits on (same lock): new futures, units left open, close().
        # Not every COMMIT's notify_all: the syncer, waiting to gather concurrent writers' units
        # (_delay_commit), took the GIL from the event loop at each one.
        self._syncer_cv = threading.Condition(sync_lock)
        self._seq = 0
        self._synced = 0
        self._inflight = 0
        self._syncing = False
        # Batched units (units made inside owed_durability(), see _end_unit): _assigned is the
        # highest sequence number given to a unit; units (_seq, _open_last] are in the writer's
        # open transaction, not yet committed (0: none open; changed under _write_lock and
        # _sync_cv both). _batching: the syncer thread is at work and will commit what is left
        # open (units end without COMMIT only then). _failed: units whose COMMIT failed.
        self._assigned = 0
        self._open_last = 0
        self._batching = False
        # batch_owed(): durable units of owed_durability() are left open for sync_owed too
        self._batch_owed = False
        self._failed: set[int] = set()
        self._broken = False  # an fsync failed: nothing written since can be promised durable
        self._pending: dict[str, int] = {}
        # owed_durability() callers waiting off-thread: (sequence, future), resolved by the
        # syncer thread (started on first use) once a group fsync covers the sequence.
        self._durable_waiters: list[tuple[int, int, concurrent.futures.Future[None]]] = []
        # Other processes' durable writes (_foreign_barrier): fsyncs are numbered as they start
        # (_gen_started) and _gen_done is the last that ended well; at the start of that one,
        # the file's "durable COMMITs done" counter was _synced_done and this process had
        # started _synced_own of them (_own_started: its durable COMMITs so far).
        self._gen_started = 0
        self._gen_done = 0
        self._synced_done = 0
        self._synced_own = 0
        self._own_started = 0
        self._durable_open = False  # the writer's transaction holds a durable unit
        self._writers = 1  # the latest durable_future's count of concurrent writers
        self._syncer: threading.Thread | None = None
        self._wal_path = Path(f"{path}-wal")
        self._wal_fd: int | None = None
        _create_owner_only(path)
        self._writer = self._connect()
        # The fsync of each commit is ours (module docstring); checkpoints keep NORMAL's syncs.
        self._writer.execute("PRAGMA synchronous=NORMAL")
        # Checkpoints run on a thread of their own, outside the write lock (_checkpoint_loop):
        # run by COMMIT (autocheckpoint), one stalled every writer queued behind it for
        # milliseconds, every ~25 Creates.
        self._writer.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpoint_wanted = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._checkpointed_seq = 0
        self._migrate(self._writer)
        self._check_kek(self._writer)
        with self._write_lock:
            self._write_lock.lock_file()
            try:
                self._write_lock.end_durable()  # a process that died mid-COMMIT left "done" behind
            finally:
                self._write_lock.unlock_file()
        self._wait_synced(0, 1)  # everything committed by anyone so far is on disk

    # -- connections -----------------------------------------------------------------------

    def _state(self) -> _ThreadState:
        st: _ThreadState | None = getattr(self._local, "state", None)
        if st is None:
            if self._closed:
                raise StoreError("store is closed")
            st = _ThreadState(self._connect())
            self._local.state = st
        elif self._closed:
            raise StoreError("store is closed")
        return st

    def _connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from None
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")  # readers never commit; the writer is set to NORMAL
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA temp_store=MEMORY")
        with self._lock:
            self._connections.append(con)
        return con

    def _migrate(self, con: sqlite3.Connection) -> None:
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied INTEGER NOT NULL)"
            )
            applied = {v for (v,) in con.execute("SELECT version FROM schema_migrations")}
            known = {m.version for m in MIGRATIONS}
            if applied - known:
                raise StoreError(
                    f"database {self.path} has schema version {max(applied)}, newer than this "
                    f"keyshelf understands ({max(known)})"
                )
            for m in MIGRATIONS:
                if m.version in applied:
                    continue
                for stmt in m.statements:
                    con.execute(stmt)
                con.execute(
                    "INSERT INTO schema_migrations(version, description, applied) VALUES (?, ?, ?)",
                    (m.version, m.description, int(time.time())),
                )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _check_kek(self, con: sqlite3.Connection) -> None:
        check = self._protector.check_value.hex()
        con.execute("BEGIN IMMEDIATE")
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'kek_check'").fetchone()
            if row is None:
                con.execute("INSERT INTO meta(key, value) VALUES ('kek_check', ?)", (check,))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        if row is not None and row[0] != check:
            raise WrongKek(
                f"database {self.path} was written under a different key-encryption key "
                "(check the [keys] kek_file setting)"
            )

    # -- writes ----------------------------------------------------------------------------

    def _end_unit(self, st: _ThreadState, commit: bool, uids: Iterable[str], durable: bool) -> int:
        """End this thread's write unit and give the writer back: undo it (0), or give it its
        sequence number and COMMIT, or (a unit of owed_durability() while the syncer thread is
        at work) leave it in the open transaction for the syncer to commit after its fsync."""
        st.holds_writer = False
        st.savepoints.clear()
        st.clean = -1
        try:
            if not commit:
                self._undo_unit(st)
                return 0
            if durable and self._broken:
                self._undo_unit(st)
                raise StoreError("an earlier fsync failed: writes can no longer be made durable")
            if st.joined:
                self._writer.execute("RELEASE u")
            return self._assign(uids, durable, batched=st.handing_over > 0)
        finally:
            st.joined = False
            self._write_lock.release()

    def _undo_unit(self, st: _ThreadState) -> None:
        """Under _write_lock: undo this thread's unit, and only it."""
        writer = self._writer
        if st.joined:
            if writer.in_transaction:  # (else SQLite rolled it all back: SQLITE_FULL, IOERR)
                writer.execute("ROLLBACK TO u")
                writer.execute("RELEASE u")
            return
        try:
            if writer.in_transaction:
                writer.execute("ROLLBACK")
        finally:
            self._write_lock.unlock_file()

    def _assign(self, uids: Iterable[str], durable: bool, *, batched: bool) -> int:
        """Under _write_lock, the unit's writes done: its sequence number. The durable uids
        enter the read barrier before the COMMIT makes them visible, so no reader can see them
        unsynced without also seeing them pending."""
        cv = self._sync_cv
        with cv:
            seq = self._assigned + 1
            self._assigned = seq
            if durable:
                self._durable_open = True
                for uid in uids:
                    self._pending[uid] = seq
            if (
                batched
                and (self._batching or (durable and self._batch_owed))
                and time.monotonic() - self._write_lock.contended_at > CONTENDED_S
            ):
                # An fsync is running: the syncer commits this unit with whatever follows it
                # when the fsync ends; or the caller's sync_owed will commit it with the other
                # units owed by then (batch_owed). One COMMIT, each page written once for them
                # all. Not while other processes write (CONTENDED_S).
                self._open_last = seq
                cv.notify_all()
                self._syncer_cv.notify()
                return seq
            self._inflight = seq
        self._commit_locked(seq)
        return seq

    def _remember_failed(self, first: int, last: int) -> None:
        """Under _sync_cv: units ``first..last`` failed. Their numbers are asked about right
        after (the same request's _check_owed and durable_future, within microseconds), and
        the set is bounded: a disk that stays full fails every write, and one entry per
        request would grow without end. The oldest half goes once FAILED_KEPT are held."""
        failed = self._failed
        failed.update(range(first, last + 1))
        if len(failed) > FAILED_KEPT:
            keep = sorted(failed)[-(FAILED_KEPT // 2) :]
            self._failed = set(keep)

    def _commit_open_locked(self) -> None:
        """Under _write_lock: COMMIT the units left open, if any (StoreError if it fails)."""
        with self._sync_cv:
            last = self._open_last
            if not last:
                return
            self._inflight = last
        self._commit_locked(last)

    def _commit_open(self) -> None:
        """COMMIT the units left open, taking _write_lock. A failure is reported to their
        waiters (_commit_locked), not to the caller."""
        if not self._open_last or self._write_lock.held():
            return  # (held: this thread's unit is in progress; nothing may commit it now)
        with self._write_lock, contextlib.suppress(StoreError):
            self._commit_open_locked()

    def _commit_locked(self, last: int) -> None:
        """Under _write_lock, _inflight = last: COMMIT the writer's transaction, which holds
        units (_seq, last] (no fsync). On failure every one of them is failed: their waiters
        get StoreError (their responses were never sent), and StoreError is raised."""
        cv = self._sync_cv
        first = self._seq + 1
        durable, self._durable_open = self._durable_open, False
        if durable:  # counted for the other processes' readers (_foreign_barrier)
            self._write_lock.begin_durable()
            self._own_started += 1
        try:
            self._writer.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
            if durable:
                self._write_lock.end_durable()
            self._write_lock.unlock_file()
            with cv:
                # Pending entries stay: a reader of such a uid gets the version before (a
                # committed one, maybe unsynced) and waits for what is committed (_read_barrier).
                self._remember_failed(first, last)
                self._open_last = 0
                self._inflight = 0
                waiters = self._durable_waiters
                failed = [f for s, _, f in waiters if first <= s <= last]
                self._durable_waiters = [w for w in waiters if not first <= w[0] <= last]
                cv.notify_all()  # readers waiting on these units: they will never exist
            for future in failed:
                future.set_exception(StoreError("commit failed; the write was not stored"))
            raise StoreError("commit failed; the write was not stored") from None
        if durable:
            self._write_lock.end_durable()
        self._write_lock.unlock_file()
        with cv:
            self._seq = last
            self._open_last = 0
            self._inflight = 0
            cv.notify_all()  # a reader may be waiting for this COMMIT to end (_read_barrier)
        if last - self._checkpointed_seq >= CHECKPOINT_UNITS:
            self._checkpointed_seq = last
            self._kick_checkpoint()

    def _kick_checkpoint(self) -> None:
        """Under _write_lock: ask the checkpoint thread (started on first use) for a pass."""
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="keyshelf-checkpoint", daemon=True
            )
            self._checkpointer.start()
        self._checkpoint_wanted.set()

    def _checkpoint_loop(self) -> None:
        """PASSIVE checkpoints on a connection of this thread: they copy WAL frames into the
        database while writers go on (no write lock, SQLite's or ours), syncing the WAL before
        and the database after (synchronous=NORMAL), so durability is unchanged; the WAL is
        then reused from its start by the next writer once no reader needs its frames."""
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error:
            return
        try:
            con.execute("PRAGMA synchronous=NORMAL")
            while True:
                self._checkpoint_wanted.wait()
                self._checkpoint_wanted.clear()
                if self._closed:
                    return
                # busy (another process checkpoints): the next pass will do it
                with contextlib.suppress(sqlite3.Error):
                    busy, frames, _ = con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if not busy and frames >= WAL_RESTART_FRAMES and not self._closed:
                        # A writer restarts the WAL from its start only if, when it begins,
                        # every frame has been copied; under steady writes a pass never
                        # catches up with the frames committed while it ran, and the WAL
                        # grew without bound (1.7 GB after 9,000 Creates, every commit
                        # appending to an ever longer file). Copy the remainder (frames of
                        # the last pass's duration) between two writers.
                        # Units left open are committed first (they hold the writer).
                        with self._write_lock:
                            with contextlib.suppress(StoreError):
                                self._commit_open_locked()
                            self._write_lock.lock_file()
                            try:
                                con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                            finally:
                                self._write_lock.unlock_file()
        finally:
            con.close()

    def _fsync_wal(self) -> None:
        """fdatasync the WAL file (what synchronous=FULL does after each commit). The file is
        reopened if SQLite replaced it (it does not while this store holds a connection)."""
        fd = self._wal_fd
        try:
            st = os.stat(self._wal_path)
        except FileNotFoundError:
            return  # no WAL: every commit so far has been checkpointed into the synced database
        if fd is None or os.fstat(fd).st_ino != st.st_ino:
            if fd is not None:
                os.close(fd)
            self._wal_fd = fd = os.open(self._wal_path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        (os.fdatasync if hasattr(os, "fdatasync") else os.fsync)(fd)

    def _wait_synced(self, seq: int, gen: int = 0) -> None:
        """Return once write unit ``seq`` is on disk, and fsync number ``gen`` has ended (0:
        none needed). A unit still in the open transaction is committed first; the first waiter
        to find no fsync in progress syncs for everyone committed so far (StoreError if the
        COMMIT or the fsync fails)."""
        cv = self._sync_cv
        if seq > self._seq:
            self._commit_open()
        with cv:
            while self._seq < seq <= self._inflight:
                cv.wait()
            if seq > self._seq or seq in self._failed:  # (later units may have committed)
                raise StoreError("commit failed; the write was not stored")
        while True:
            with cv:
                while (self._synced < seq or self._gen_done < gen) and self._syncing and not self._broken:
                    cv.wait()
                if self._broken:
                    raise StoreError("fsync failed; the write may not be durable")
                if self._synced >= seq and self._gen_done >= gen:
                    return
                self._syncing = True
                target = self._seq  # every unit committed so far rides on this fsync
                self._gen_started += 1
                started = self._gen_started
                # the durable COMMITs done before it starts, and how many of this process's had
                # started by then (read second: any of ours among those done is counted, and
                # one still running errs on the safe side)
                done = self._write_lock.durable_done()
                own = self._own_started
            ok = False
            try:
                self._fsync_wal()
                ok = True
            finally:
                with cv:
                    self._syncing = False
                    if ok:
                        self._synced = max(self._synced, target)
                        if started > self._gen_done:
                            self._gen_done = started
                            self._synced_done, self._synced_own = done, own
                            self._write_lock.publish_synced(done)
                        if self._pending:
                            self._pending = {u: s for u, s in self._pending.items() if s > target}
                    else:
                        # fsync failures are not retried (a later fsync may succeed without
                        # the lost pages): no write is acknowledged as durable any more.
                        self._broken = True
                    cv.notify_all()

    def _read_barrier(self, uids: Iterable[str], via_writer: bool) -> None:
        """Wait until the last durable write of each of ``uids`` is synced (module docstring).
        The reader syncs itself if no fsync is running, so it never depends on the writer
        thread (which may be waiting for a lock this reader holds). ``via_writer``: the rows
        were read through the writer connection, which sees the units left open."""
        pending = self._pending
        seq = max((pending.get(u, 0) for u in uids), default=0)
        if not seq:
            return
        cv = self._sync_cv
        with cv:
            while self._seq < seq <= self._inflight:  # its COMMIT is still returning
                cv.wait()
            if seq in self._failed:
                need = self._seq  # that COMMIT failed: the row read is an older, committed one
            elif seq <= self._seq or (via_writer and seq <= self._open_last):
                need = seq  # committed, or left open and read through the writer
            else:
                need = self._seq  # left open, read on a reader: the row read is an older one
            if need <= self._synced:
                return
        st = self._state()
        if st.handing_over:
            # owed_durability(): the response that reveals the object waits, not the thread
            self._owe(st, need)
        else:
            self._wait_synced(need)

    def _foreign_barrier(self) -> None:
        """After a read that found something: if another process has made a durable COMMIT
        that no fsync of this one has covered (it may be in what was read, and its own
        response waits for its own fsync), an fsync starting after now must end before the
        read is answered: owed in owed_durability(), else done (or waited for) here. Counted
        with the durable COMMITs started (read after this process's own count: a COMMIT of
        ours in between errs on the safe side) minus those done before this process's last
        fsync, less ours among them; or not at all if some process's fsync covered them all
        (the file's third counter)."""
        own = self._own_started
        lock = self._write_lock
        synced_anywhere = lock.durable_synced()  # (read first: it only grows, then "started")
        started = lock.durable_started()
        if started <= synced_anywhere:
            return  # every durable COMMIT started is done and synced, by some process
        with self._sync_cv:
            if started - self._synced_done <= own - self._synced_own:
                return
            need = self._gen_started + 1  # (one running may have started before the COMMIT)
        st = self._state()
        if st.handing_over:
            st.owed_gen = max(st.owed_gen, need)
        else:
            self._wait_synced(0, need)

    def _begin_unit(self, st: _ThreadState) -> None:
        """Take the writer for a write unit of this thread: BEGIN IMMEDIATE under the flock;
        or, in owed_durability() with units left open, join their transaction (savepoint "u").
        Any other thread commits the units left open first."""
        lock = self._write_lock
        lock.acquire()
        try:
            if self._open_last:
                # (joined only while the transaction lasts: SQLite rolls it all back on some
                # errors, and SAVEPOINT u would start a transaction that RELEASE u commits)
                if st.handing_over and self._writer.in_transaction:
                    self._writer.execute("SAVEPOINT u")
                    st.joined = True
                    return
                with contextlib.suppress(StoreError):  # their waiters learn of a failure
                    self._commit_open_locked()
            lock.lock_file()
            try:
                self._writer.execute("BEGIN IMMEDIATE")
            except BaseException:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                lock.unlock_file()
                raise
            st.joined = False
        except BaseException:
            lock.release()
            raise

    @contextmanager
    def _writing(self, uid: str, durable: bool) -> Iterator[sqlite3.Connection]:
        """One atomic write on the writer: its own unit, or a savepoint inside the owner's
        scope (then committed, and waited for, at the scope's end)."""
        st = self._state()
        if st.depth == 0:
            self._begin_unit(st)
            st.holds_writer = True
            try:
                yield self._writer
            except BaseException:
                self._end_unit(st, False, (), False)
                raise
            seq = self._end_unit(st, True, (uid,), durable)
            if durable:
                self._synced_or_owed(st, seq)
            return
        if not st.holds_writer:
            # First write of this scope: own the writer until the outermost scope ends.
            self._begin_unit(st)
            st.holds_writer = True
            st.base_depth = st.depth
            st.clean = 0
            st.durable = False
            st.durable_uids = []
        else:
            self._require_transaction()
        # Statements are not free (a Create was BEGIN, 3 SAVEPOINTs, its writes, 3 RELEASEs,
        # COMMIT): a write that can be undone by undoing the unit or by the savepoint just
        # taken takes none of its own.
        clean = st.clean
        if clean == 0:
            try:
                yield self._writer
            except BaseException:
                self._end_scope_transaction(st, commit=False)
                raise
        elif clean == st.depth and clean in st.savepoints:
            try:
                yield self._writer
            except BaseException:
                if self._writer.in_transaction:  # else SQLite undid it all (_require_transaction)
                    self._writer.execute(f"ROLLBACK TO s{clean}")  # s{clean} stays, released at its end
                raise
        else:
            with self._savepoint("w"):
                yield self._writer
        st.clean = -1
        if durable:
            st.durable = True
            st.durable_uids.append(uid)

    def _require_transaction(self) -> None:
        """The scopes of this thread own the writer: StoreError if SQLite rolled their
        transaction back meanwhile (it does on SQLITE_FULL, IOERR, NOMEM:
        https://sqlite.org/lang_transaction.html). A further SAVEPOINT or write would start
        a transaction of its own, committed at once outside the scopes: stored although the
        request fails (a retried Create would then find its Name taken)."""
        if not self._writer.in_transaction:
            raise StoreError("SQLite rolled the transaction back after an error; nothing of it was stored")

    def _end_scope_transaction(self, st: _ThreadState, *, commit: bool) -> int:
        """End the unit this thread's scopes own (commit or undo) and give the writer back;
        the unit's sequence number when committed (or left open), else 0."""
        return self._end_unit(st, commit, st.durable_uids, st.durable)

    @contextmanager
    def _savepoint(self, name: str) -> Iterator[None]:
        con = self._writer
        con.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if con.in_transaction:  # else SQLite undid it all (_require_transaction)
                con.execute(f"ROLLBACK TO {name}")
                con.execute(f"RELEASE {name}")
            raise
        con.execute(f"RELEASE {name}")

    def _reader(self) -> sqlite3.Connection:
        """The connection reads use: the writer while this thread's scope owns it (to see its
        own uncommitted writes), else the thread's own connection (committed data only)."""
        st = self._state()
        return self._writer if st.holds_writer else st.con

    @contextmanager
    def _reading(self) -> Iterator[tuple[sqlite3.Connection, bool]]:
        """The connection for one read, and whether it is the writer: the writer while this
        thread's unit owns it; the writer too (under _write_lock) for a thread in
        owed_durability() while units are left open, so that it reads its own earlier units
        (read-your-writes: request 2 on the event loop must not read a row older than
        request 1 wrote and then overwrite it); else the thread's own connection."""
        st = self._state()
        if st.holds_writer:
            yield self._writer, True
        elif st.handing_over and self._open_last:
            with self._write_lock:
                yield self._writer, True
        else:
            yield st.con, False

    def _row(self, rec: ObjectRecord) -> tuple[object, ...]:
        material = None if rec.material is None else self._protector.wrap(rec.material, rec.uid.encode())
        index_rows = _rows_text(rec.index)
        return (
            rec.object_type,
            rec.owner,
            rec.state,
            rec.created,
            int(rec.archived),
            rec.attributes,
            material,
            index_rows,
            rec.uid,
        )

    @staticmethod
    def _write_index(
        con: sqlite3.Connection, obj: int, rows: _TableRows, gone: _TableRows | None = None
    ) -> None:
        """Delete ``gone``'s rows of object ``obj``, then insert ``rows``' (NonUniqueKey if a
        unique one is taken by another object). Deletes come first: a row turning unique must
        not collide with its own old version."""
        if gone is not None:
            keys, nums, uniques = gone
            if keys:
                con.executemany(
                    "DELETE FROM idx_key WHERE name = ? AND key = ? AND obj = ?",
                    [(n, k, obj) for n, k in keys],
                )
            if nums:
                con.executemany(
                    "DELETE FROM idx_num WHERE name = ? AND num = ? AND obj = ? AND keyed = ?",
                    [(n, v, obj, kd) for n, v, kd in nums],
                )
            if uniques:
                con.executemany(
                    "DELETE FROM idx_unique WHERE name = ? AND key = ? AND obj = ?",
                    [(n, k, obj) for n, k in uniques],
                )
        keys, nums, uniques = rows
        if uniques:
            try:
                con.executemany(
                    "INSERT INTO idx_unique(name, key, obj) VALUES (?, ?, ?)",
                    [(n, k, obj) for n, k in uniques],
                )
            except sqlite3.IntegrityError:
                raise NonUniqueKey("a unique index row is already stored for another object") from None
        if keys:
            con.executemany(
                "INSERT INTO idx_key(name, key, obj) VALUES (?, ?, ?)", [(n, k, obj) for n, k in keys]
            )
        if nums:
            con.executemany(
                "INSERT INTO idx_num(name, num, obj, keyed) VALUES (?, ?, ?, ?)",
                [(n, v, obj, kd) for n, v, kd in nums],
            )

    def insert(self, rec: ObjectRecord) -> None:
        row = self._row(rec)
        rows = _table_rows(rec.index)
        with self._writing(rec.uid, True) as con:
            try:
                cur = con.execute(
                    "INSERT INTO objects(object_type, owner, state, created, archived, attributes, "
                    "material, index_rows, uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            except sqlite3.IntegrityError:
                raise DuplicateObject(f"object {rec.uid!r} already exists") from None
            obj = cur.lastrowid
            assert obj is not None
            self._write_index(con, obj, rows)

    def update(self, rec: ObjectRecord, *, durable: bool = True) -> None:
        row = self._row(rec)
        with self._writing(rec.uid, durable) as con:
            found = con.execute("SELECT id, index_rows FROM objects WHERE uid = ?", (rec.uid,)).fetchone()
            if found is None:
                raise UnknownObject(f"object {rec.uid!r} does not exist")
            obj, old_rows = found
            con.execute(
                "UPDATE objects SET object_type = ?, owner = ?, state = ?, created = ?, archived = ?, "
                "attributes = ?, material = ?, index_rows = ? WHERE uid = ?",
                row,
            )
            self._rewrite_index(con, obj, old_rows, [_json_row(e) for e in rec.index])

    def _rewrite_index(
        self, con: sqlite3.Connection, obj: int, old_rows: str, new_rows: list[list[Any]]
    ) -> None:
        """Only the table rows that changed are rewritten (a Get clearing Fresh changes one,
        a Destroy a few); the old ones come from the objects.index_rows copy. Rows are
        compared as the JSON copies hold them, and only the attribute names whose rows differ
        are turned into table rows (table rows are per name: the other names' are equal)."""
        old_list = json.loads(old_rows)
        if old_list == new_rows:
            return
        if len(old_list) == len(new_rows):
            # a name whose rows changed differs at some position (superset, never a miss)
            names = {r[0] for o, n in zip(old_list, new_rows, strict=True) if o != n for r in (o, n)}
        else:
            names = {r[0] for r in old_list} | {r[0] for r in new_rows}
        old = _table_rows([_entry_of(r) for r in old_list if r[0] in names])
        new = _table_rows([_entry_of(r) for r in new_rows if r[0] in names])
        self._write_index(
            con,
            obj,
            (new[0] - old[0], new[1] - old[1], new[2] - old[2]),
            (old[0] - new[0], old[1] - new[1], old[2] - new[2]),
        )

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
        with self._writing(uid, durable) as con:
            found = con.execute(
                "SELECT id, index_rows, attributes FROM objects WHERE uid = ?", (uid,)
            ).fetchone()
            if found is None or found[2] != expected:
                return False
            obj, old_rows, _ = found
            if swap is not None:
                # The rows' JSON text is edited: a row's text occurs in the array only as that
                # row (a JSON string holds no unescaped quote), and the first occurrence is the
                # first equal row.
                before, after = (json.dumps(_json_row(e), separators=(",", ":")) for e in swap)
                at = old_rows.find(before)
                if at < 0:
                    return False  # no such row stored: the caller saves the whole record
                text = old_rows[:at] + after + old_rows[at + len(before) :]
                con.execute(
                    "UPDATE objects SET attributes = ?, index_rows = ? WHERE id = ?", (attributes, text, obj)
                )
                if any(e.indexed or e.unique for e in swap):  # (else neither is in the tables)
                    self._rewrite_index(con, obj, old_rows, json.loads(text))
                return True
            assert index is not None
            new_rows = [_json_row(e) for e in index]
            con.execute(
                "UPDATE objects SET attributes = ?, index_rows = ? WHERE id = ?",
                (attributes, json.dumps(new_rows, separators=(",", ":")), obj),
            )
            self._rewrite_index(con, obj, old_rows, new_rows)
        return True

    # -- reads -----------------------------------------------------------------------------

    def load(self, uid: str, *, index: bool = True) -> ObjectRecord | None:
        with self._reading() as (con, via_writer):
            row = con.execute(_LOAD_WITH_INDEX if index else _LOAD, (uid,)).fetchone()
            if row is None:
                return None
            if uid in self._pending:
                # Inside _reading: a read through the writer still holds it, so the unit read
                # cannot be committed (or fail) before the barrier has judged it (a
                # handing-over thread only owes there; a thread owning its unit holds the
                # writer anyway; the reader connection holds nothing).
                self._read_barrier((uid,), via_writer)
        self._foreign_barrier()
        object_type, owner, state, created, archived, attributes, material, index_rows = row
        if material is not None:
            material = self._protector.unwrap(material, uid.encode())
        return ObjectRecord(
            uid=uid,
            object_type=object_type,
            owner=owner,
            state=state,
            created=created,
            archived=bool(archived),
            attributes=attributes,
            material=material,
            index=[_entry_of(r) for r in json.loads(index_rows)] if index else [],
        )

    def locate(self, q: LocateQuery) -> list[str]:
        with self._reading() as (con, via_writer):
            sql, params = build_locate_sql(q, self._equality_sizes(q, con))
            if not sql:
                return []
            uids = [uid for (uid,) in con.execute(sql, params)]
            # through the writer, the result reflects the units left open, also by the
            # objects it leaves out (a state change): it depends on them all
            open_last = self._open_last if via_writer else 0
        if open_last:
            st = self._state()
            if st.handing_over:
                self._owe(st, open_last)
        if self._pending:
            self._read_barrier(uids, via_writer)
        if uids:
            self._foreign_barrier()
        return uids

    def _equality_sizes(self, q: LocateQuery, con: sqlite3.Connection) -> list[int] | None:
        """With several equality conditions, how many index rows each has, counted up to
        SIZE_PROBE_LIMIT (an index range walk each): Locate by ASI gives Application Namespace
        (every tape key) and Application Data (one key); the smallest drives the query."""

        def counted(c: Condition) -> bool:
            return c.key is not None and c.indexed and c.name not in _COLUMN_ROWS

        if sum(map(counted, q.conditions)) < 2:
            return None
        sizes = []
        for c in q.conditions:
            if not counted(c):
                sizes.append(SIZE_PROBE_LIMIT)
                continue
            sub, params = _lookup_sql(Condition(c.name, c.key))
            probe = f"SELECT count(*) FROM ({sub} LIMIT ?)"
            sizes.append(con.execute(probe, (*params, SIZE_PROBE_LIMIT)).fetchone()[0])
        return sizes

    def count(self) -> int:
        with self._reading() as (con, _):
            (n,) = con.execute("SELECT count(*) FROM objects").fetchone()
        return int(n)

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        st = self._state()
        st.depth += 1
        level = st.depth
        if st.holds_writer:
            try:
                self._require_transaction()
            except BaseException:
                st.depth -= 1
                raise
            self._writer.execute(f"SAVEPOINT s{level}")
            st.savepoints.add(level)
            st.clean = level
        ok = False
        try:
            yield
            ok = True
        finally:
            seq = 0
            had_savepoint = level in st.savepoints
            try:
                if had_savepoint:
                    st.clean = -1
                    if self._writer.in_transaction:
                        if not ok:
                            self._writer.execute(f"ROLLBACK TO s{level}")
                        self._writer.execute(f"RELEASE s{level}")
                    elif ok:
                        self._require_transaction()  # its writes went with the transaction
            finally:
                st.savepoints.discard(level)
                st.depth -= 1
                # the outermost scope commits; a scope open since BEGIN (no savepoint) that
                # fails undoes the whole transaction, which nothing before it had written to
                if (
                    st.holds_writer
                    and not had_savepoint
                    and (level == 1 or (not ok and level <= st.base_depth))
                ):
                    seq = self._end_scope_transaction(st, commit=ok and level == 1)
            if seq and st.durable:
                self._synced_or_owed(st, seq)

    def _synced_or_owed(self, st: _ThreadState, seq: int) -> None:
        if st.deferring:
            self._owe(st, seq)
        else:
            self._wait_synced(seq)

    @staticmethod
    def _owe(st: _ThreadState, seq: int) -> None:
        st.owed = max(st.owed, seq)
        st.owed_seqs.append(seq)

    def _check_owed(self, st: _ThreadState) -> None:
        """At the end of the outermost deferring scope: StoreError (args: message, the unit) if
        a unit it owes has failed. Waiting for the highest one is not enough when the syncer
        committed the units left open between two of them and that COMMIT failed (a later
        unit can commit): units committed together share their fate, so only those are left."""
        seqs, st.owed_seqs = st.owed_seqs, []
        failed = self._failed
        if failed:
            for seq in seqs:
                if seq in failed:
                    raise StoreError("commit failed; the write was not stored", seq)

    @contextmanager
    def durability_scope(self) -> Iterator[None]:
        st = self._state()
        st.deferring += 1
        try:
            yield
        finally:
            st.deferring -= 1
            if not st.deferring and (st.owed or st.owed_gen):
                seq, st.owed = st.owed, 0
                gen, st.owed_gen = st.owed_gen, 0
                self._check_owed(st)
                self._wait_synced(seq, gen)

    # -- durability handed over (profiles.server.DeferredDurability) -------------------------

    @contextmanager
    def owed_durability(self) -> Iterator[Owed]:
        """Like durability_scope(), but nothing waits for the disk at its end: ``owed.seq``
        is then the last write unit the scope's writes (and the pending objects its reads
        returned, see _read_barrier) depend on, for ``durable_future``. The event loop runs
        the engine in this scope and awaits the future before it sends the response, so an
        acknowledged write is as durable as with durability_scope(). Nested inside another
        deferring scope, it leaves what is owed to that scope."""
        st = self._state()
        owed = Owed()
        outermost = st.deferring == 0
        st.deferring += 1
        st.handing_over += 1
        try:
            yield owed
        finally:
            st.deferring -= 1
            st.handing_over -= 1
            if outermost:
                owed.seq, st.owed = st.owed, 0
                owed.gen, st.owed_gen = st.owed_gen, 0
                try:
                    self._check_owed(st)
                except StoreError as exc:
                    owed.seq = exc.args[1]  # a failed unit: its future fails

    def batch_owed(self, on: bool = True) -> None:
        """Leave the durable units made in ``owed_durability()`` open, in one transaction,
        until ``sync_owed`` commits them all with one COMMIT (each page the batch touches is
        written to the WAL once, not once per unit: a single-process server at concurrency 8,
        +11% Creates/s). The caller must call ``sync_owed`` for every such unit soon after
        (the server does within its commit delay), and it may do so only when no other
        process writes to the database: while a unit is open it holds the writer flock, so
        another process would wait for the whole batch (and a unit is committed at once
        anyway for ``CONTENDED_S`` after this process had to wait for the flock). Units that
        owe nothing (``durable=False``) always commit at once, with any units open before."""
        self._batch_owed = on

    def sync_owed(self, owed: Sequence[tuple[int, int]]) -> list[StoreError | None]:
        """One group fsync, on the caller's thread, for these ``owed_durability()`` results
        (``(seq, gen)`` each): the server's event loop calls it once every client that writes
        waits (or the commit delay has passed), when it has nothing else to do. Nothing is
        handed to the syncer thread and back (its wake-ups, GIL hand-offs and the loop's
        wake-up cost ~90 us of CPU per Create). For each: None once it is on disk, else the
        StoreError it failed with (its COMMIT failed, or the fsync did): its response must not
        be sent. Never raises."""
        self._commit_open()  # (the units left open are all owed by now: batch_owed)
        failed = self._failed
        seq = max((s for s, _ in owed if s not in failed), default=0)
        gen = max((g for _, g in owed), default=0)
        error: StoreError | None = None
        if self._broken:
            error = StoreError("fsync failed; the write may not be durable")
        elif seq > self._assigned:
            error = StoreError("commit failed; the write was not stored")
        else:
            error = self._synced_or_error(seq, gen)
        failed = self._failed
        return [
            StoreError("commit failed; the write was not stored") if s in failed else error for s, _ in owed
        ]

    def _synced_or_error(self, seq: int, gen: int) -> StoreError | None:
        """_wait_synced(seq, gen), its failure as a value: the StoreError, or one for the
        fsync's OSError (_wait_synced has marked the store broken)."""
        try:
            self._wait_synced(seq, gen)
        except StoreError as exc:
            return exc
        except Exception:
            return StoreError("fsync failed; the write may not be durable")
        return None

    def durable_future(self, seq: int, *, writers: int = 1, gen: int = 0) -> concurrent.futures.Future[None]:
        """A future resolved once write unit ``seq`` is on disk (StoreError if it cannot be:
        its COMMIT or an fsync failed, or the store closed first). The syncer thread commits
        the units left open, then fsyncs; as in _wait_synced, one fsync covers every unit
        committed before it starts. ``writers``: how many clients of the caller write
        concurrently (commit delay, module docstring). ``gen``: Owed.gen, an fsync that must
        end too (another process's write was read)."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        # Running: it cannot be cancelled (asyncio.wrap_future cancels it with the awaiting
        # task), so resolving it never raises InvalidStateError in the syncer or a committer.
        future.set_running_or_notify_cancel()
        with self._sync_cv:
            if self._broken:
                future.set_exception(StoreError("fsync failed; the write may not be durable"))
            elif seq in self._failed or seq > self._assigned:
                future.set_exception(StoreError("commit failed; the write was not stored"))
            elif self._synced >= seq and self._gen_done >= gen:
                future.set_result(None)
            elif self._closed:
                future.set_exception(StoreError("store closed before the write was synced"))
            else:
                self._durable_waiters.append((seq, gen, future))
                self._writers = writers
                if self._syncer is None:
                    self._syncer = threading.Thread(
                        target=self._sync_loop, name="keyshelf-fsync", daemon=True
                    )
                    self._syncer.start()
                if len(self._durable_waiters) in (1, writers) or len(self._durable_waiters) > writers:
                    self._syncer_cv.notify()  # (in between, the syncer waits for more anyway)
        return future

    def _sync_loop(self) -> None:
        """The syncer thread: commit the units left open, fsync for the waiting futures,
        resolve them, repeat; exits once the store is closed and nothing waits or is open.
        While it is at work (_batching) units made in owed_durability() are left open for it:
        they are committed together right after the fsync in progress. Futures are resolved
        outside the lock (their callbacks hand them to an event loop)."""
        cv = self._sync_cv
        try:
            while True:
                with cv:
                    while not self._durable_waiters and not self._open_last:
                        self._batching = False
                        if self._closed:
                            return
                        self._syncer_cv.wait()
                    self._batching = True
                    self._delay_commit()
                self._commit_open()
                with cv:
                    target = max((s for s, _, _ in self._durable_waiters if s <= self._seq), default=0)
                    gen = max((g for _, g, _ in self._durable_waiters), default=0)
                    if not target and not gen and not self._open_last and self._durable_waiters:
                        # only waiters of a COMMIT still running (none expected): wait for it
                        cv.wait(0.01)
                        continue
                error = self._synced_or_error(target, gen) if target or gen else None
                with cv:
                    synced, gen_done = self._synced, self._gen_done
                    done: list[tuple[int, int, concurrent.futures.Future[None]]] = []
                    keep: list[tuple[int, int, concurrent.futures.Future[None]]] = []
                    for w in self._durable_waiters:
                        covered = error is not None or (w[0] <= synced and w[1] <= gen_done)
                        (done if covered else keep).append(w)
                    self._durable_waiters = keep
                for _, _, future in done:
                    if error is None:
                        future.set_result(None)
                    else:
                        future.set_exception(StoreError(str(error)))
        finally:
            with cv:
                # units end with their own COMMIT again; a later future starts a new syncer
                self._batching = False
                self._syncer = None
                cv.notify_all()

    def _delay_commit(self) -> None:
        """Under _sync_cv, in the syncer: with concurrent writers, wait (up to COMMIT_DELAY_S)
        until each has a future waiting, so one fsync covers all their units."""
        waiters = self._durable_waiters
        if not waiters or len(waiters) >= self._writers:
            return
        deadline = time.monotonic() + COMMIT_DELAY_S
        while len(self._durable_waiters) < self._writers and not self._closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._syncer_cv.wait(left)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connections, self._connections = self._connections, []
        syncer = self._syncer
        if syncer is not None:
            with self._sync_cv:
                self._sync_cv.notify_all()
                self._syncer_cv.notify_all()
            syncer.join()  # it commits what is open, syncs what is still awaited, then exits
        if self._checkpointer is not None:
            self._checkpoint_wanted.set()
            self._checkpointer.join()
        with self._write_lock:
            with contextlib.suppress(StoreError):
                self._commit_open_locked()  # units left open after the syncer's last pass
            try:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")  # only a failed commit can leave one open
                self._writer.execute("PRAGMA optimize")
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass  # another thread may still hold a read; the WAL is replayed at next open
            finally:
                self._write_lock.unlock_file()
        for con in connections:
            con.close()
        if self._wal_fd is not None:
            os.close(self._wal_fd)
            self._wal_fd = None
        self._write_lock.close()


def _create_owner_only(path: Path) -> None:
    """Create the database file 0600 if it does not exist (an empty file is an empty SQLite
    database). It holds wrapped key material and every attribute; SQLite would create it 0644
    under the usual umask. Its -wal and -shm files get the database file's mode from SQLite
    (unix VFS: the mode of the main file, whatever the umask), so they are 0600 too. An
    existing file keeps its mode: the administrator may have chosen it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open database {path}: {exc.strerror}") from None
    os.close(fd)


class _WriterLock:
    """The writer's turn. A thread lock guards each use of the writer connection (a unit, a
    COMMIT, a read through it); an exclusive flock of "<db>-writer", shared by every process
    that opens the database (released by the kernel if the process dies), is held from each
    BEGIN to its COMMIT or ROLLBACK: across units left open too, so that other processes wait
    on it, never on SQLite's sleeping busy handler."""

    def __init__(self, path: Path) -> None:
        self._thread_lock = threading.Lock()
        self._owner = 0  # thread id of the holder of the thread lock
        self._file_locked = False  # under the thread lock
        self.contended_at = -CONTENDED_S  # when lock_file last waited for another process
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            if os.fstat(self._fd).st_size < _SHARED_SIZE:
                os.ftruncate(self._fd, _SHARED_SIZE)  # (only ever grown: a no-op for the others)
            self._shared = mmap.mmap(self._fd, _SHARED_SIZE)
        except OSError as exc:
            raise StoreError(f"cannot open the writer lock file {path}: {exc.strerror}") from None

    # The file's first 24 bytes, shared by every process on the database (three little-endian
    # uint64): durable COMMITs started and done, each changed only under the flock, and the
    # "done" count some process read before an fsync of its own that succeeded (so every one
    # of those is on disk), raised without a lock (a race can only lower it: a later reader
    # then syncs once more). Read by anyone at any time (SQLiteStorage._foreign_barrier).
    def _counter(self, offset: int) -> int:
        mm = self._shared
        while True:  # two equal reads: never a value torn by a concurrent write
            first = _U64.unpack_from(mm, offset)[0]
            second = _U64.unpack_from(mm, offset)[0]
            if first == second:
                return int(first)

    def durable_started(self) -> int:
        return self._counter(0)

    def durable_done(self) -> int:
        return self._counter(8)

    def durable_synced(self) -> int:
        return self._counter(16)

    def publish_synced(self, done: int) -> None:
        """After an fsync that started when ``done`` durable COMMITs were done."""
        if done > self._counter(16):
            _U64.pack_into(self._shared, 16, done)

    def begin_durable(self) -> None:
        """Under the flock, before a COMMIT that holds a durable unit. A "started" left ahead
        of "done" by a process that died between the two (no COMMIT runs without the flock)
        is repaired first."""
        started = self._counter(0)
        _U64.pack_into(self._shared, 8, started)
        _U64.pack_into(self._shared, 0, started + 1)

    def end_durable(self) -> None:
        """Under the flock, after that COMMIT (whatever its outcome)."""
        _U64.pack_into(self._shared, 8, self._counter(0))

    def acquire(self) -> None:
        self._thread_lock.acquire()
        self._owner = threading.get_ident()

    def release(self) -> None:
        self._owner = 0
        self._thread_lock.release()

    def held(self) -> bool:
        """This thread holds the thread lock."""
        return self._owner == threading.get_ident()

    def lock_file(self) -> None:
        """Under the thread lock: take the flock (before BEGIN)."""
        if not self._file_locked:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.contended_at = time.monotonic()  # another process writes too
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._file_locked = True

    def unlock_file(self) -> None:
        """Under the thread lock: give the flock back (after COMMIT or ROLLBACK)."""
        if self._file_locked:
            self._file_locked = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def close(self) -> None:
        self._shared.close()
        os.close(self._fd)


_LOAD = (
    "SELECT object_type, owner, state, created, archived, attributes, material, NULL "
    "FROM objects WHERE uid = ?"
)
_LOAD_WITH_INDEX = _LOAD.replace("NULL", "index_rows")


def _json_row(e: IndexEntry) -> list[object]:
    """An index row in objects.index_rows: [name, key, num], plus 1 when unique, or 2 when not
    indexed (in the lookup tables: neither; rows written before IndexEntry.indexed existed are
    all in the tables)."""
    if e.unique:
        return [e.name, e.key, e.num, 1]
    return [e.name, e.key, e.num] if e.indexed else [e.name, e.key, e.num, 2]


def _rows_text(index: Iterable[IndexEntry]) -> str:
    """objects.index_rows of these rows: json.dumps of their _json_row list, without spaces,
    put together from each row's text, kept per row (most rows of a new object are the
    previous object's: Object Type, algorithm, flags...). Bounded (emptied when full)."""
    parts = []
    cache = _ROW_TEXT
    for e in index:
        # Keyed by the entry object, not its value: the engine hands the same entries to
        # every object (profiles.attrs.index_rows), and hashing the frozen dataclass (a
        # Python-level __hash__) cost ~0.6 us per row, 26 rows a Create. The entry is kept
        # with its text, so its id is never reused for another object while cached.
        hit = cache.get(id(e))
        if hit is not None and hit[0] is e:
            parts.append(hit[1])
            continue
        text = json.dumps(_json_row(e), separators=(",", ":"))
        if len(cache) >= _ROW_TEXT_MAX:
            cache.clear()
        cache[id(e)] = (e, text)
        parts.append(text)
    return "[" + ",".join(parts) + "]"


_ROW_TEXT: dict[int, tuple[IndexEntry, str]] = {}
_ROW_TEXT_MAX = 8192


def _entry_of(r: list[Any]) -> IndexEntry:
    """The IndexEntry of a row of objects.index_rows."""
    if len(r) == 3:
        return IndexEntry(r[0], r[1], r[2])
    return IndexEntry(r[0], r[1], r[2], r[3] == 1, r[3] != 2)


# An object's rows as the lookup tables hold them (migration 4): idx_key (name, key),
# idx_num (name, num, keyed), idx_unique (name, key). Sets: each distinct row once.
_TableRows = tuple[set[tuple[str, str]], set[tuple[str, int, int]], set[tuple[str, str]]]


def _table_rows(index: Iterable[IndexEntry]) -> _TableRows:
    """The table rows of an object's index entries; NonUniqueKey if two of its unique entries
    share (name, key) (the store holds one owner per unique key, even within an object)."""
    keys: set[tuple[str, str]] = set()
    nums: set[tuple[str, int, int]] = set()
    uniques: set[tuple[str, str]] = set()
    n_unique = 0
    for e in index:
        if not (e.indexed or e.unique) or e.name in _COLUMN_ROWS:
            continue  # kept in objects.index_rows (_probe_sql) or a column (_column_sql) only
        num = e.num
        if num is None:
            keys.add((e.name, e.key))
        elif e.key == str(num):
            nums.add((e.name, num, 0))
        else:
            keys.add((e.name, e.key))
            nums.add((e.name, num, 1))
        if e.unique:
            uniques.add((e.name, e.key))
            n_unique += 1
    if n_unique != len(uniques):
        raise NonUniqueKey("a unique index row is already stored for another object")
    return keys, nums, uniques


SIZE_PROBE_LIMIT = 64


def _selectivity(c: Condition) -> int:
    """Rank of a condition's expected result size (lower = fewer rows) to pick the driver."""
    if c.key is not None:
        return 0 if (c.low is not None or c.high is not None) else 1
    if c.low is not None and c.high is not None:
        return 2
    return 3 if (c.low is not None or c.high is not None) else 4


def _lookup_sql(c: Condition) -> tuple[str, list[object]]:
    """``SELECT obj`` of the table rows matching ``c`` (migration 4), each a search of a
    primary key: equality by (name, key) in idx_key, and by (name, num) among the rows whose key
    is their number when the key is a decimal integer; ranges by (name, num); a name alone in
    both tables. A row may come out twice (both tables): callers use IN / INTERSECT. A key with
    bounds (never asked by the engine) gives the key's objects: the caller checks the bounds
    on the same row with _probe_sql."""
    if c.key is None:
        if c.low is None and c.high is None:
            return (
                "SELECT obj FROM idx_key WHERE name = ? UNION ALL SELECT obj FROM idx_num WHERE name = ?",
                [c.name, c.name],
            )
        sub, params = _num_bounds(c)
        return f"SELECT obj FROM idx_num WHERE name = ?{sub}", [c.name, *params]
    number = _as_number(c.key)
    keyed = "SELECT obj FROM idx_key WHERE name = ? AND key = ?"
    if number is None:
        return keyed, [c.name, c.key]
    return (
        f"{keyed} UNION ALL SELECT obj FROM idx_num WHERE name = ? AND num = ? AND keyed = 0",
        [c.name, c.key, c.name, number],
    )


def _num_bounds(c: Condition) -> tuple[str, list[object]]:
    sub, params = "", list[object]()
    if c.low is not None:
        sub += " AND num >= ?"
        params.append(c.low)
    if c.high is not None:
        sub += " AND num <= ?"
        params.append(c.high)
    return sub, params


def _probe_sql(c: Condition) -> tuple[str, list[object]]:
    """A condition checked on one candidate object (``objects`` of the outer query). An equality
    is a primary-key seek (name, key, obj) / (name, num, obj); a presence or range condition
    reads the candidate's own rows from objects.index_rows (the tables have no index on obj,
    and a (name, num) range could hold every object), as does any condition on rows that are
    not in the tables (Condition.indexed False). Same semantics as base.matches."""
    number = _as_number(c.key) if c.key is not None else None
    if c.indexed and c.key is not None and c.low is None and c.high is None:
        keyed = "EXISTS (SELECT 1 FROM idx_key WHERE name = ? AND key = ? AND obj = objects.id)"
        if number is None:
            return keyed, [c.name, c.key]
        return (
            f"({keyed} OR EXISTS (SELECT 1 FROM idx_num WHERE name = ? AND num = ? AND keyed = 0 "
            "AND obj = objects.id))",
            [c.name, c.key, c.name, number],
        )
    text = _row_prefix(c)
    if text is not None and c.low is None and c.high is None:
        return "instr(objects.index_rows, ?) > 0", [text]
    sub = ["own_rows.value ->> 0 = ?"]
    params: list[object] = [c.name]
    if c.key is not None:
        sub.append("own_rows.value ->> 1 = ?")
        params.append(c.key)
    # a null num never satisfies a bound (NULL comparisons are not true)
    if c.low is not None:
        sub.append("own_rows.value ->> 2 >= ?")
        params.append(c.low)
    if c.high is not None:
        sub.append("own_rows.value ->> 2 <= ?")
        params.append(c.high)
    found = f"EXISTS (SELECT 1 FROM json_each(objects.index_rows) AS own_rows WHERE {' AND '.join(sub)})"
    name_text = _row_prefix(Condition(c.name))
    if name_text is not None:  # most objects without the name are passed over unparsed
        return f"(instr(objects.index_rows, ?) > 0 AND {found})", [name_text, *params]
    return found, params


def _column_sql(c: Condition) -> list[tuple[str, object]] | None:
    """The filters (SQL, parameter) on an objects column for a condition on a row it holds
    (_COLUMN_ROWS), None when nothing can match; same semantics as base.matches: every object
    has one such row, the Unique Identifier's has no number (no bound holds), the Initial
    Date's key is its number."""
    if _COLUMN_ROWS[c.name] == "uid":
        if c.low is not None or c.high is not None:
            return None
        return [] if c.key is None else [("uid = ?", c.key)]
    filters: list[tuple[str, object]] = []
    if c.key is not None:
        number = _as_number(c.key)
        if number is None:
            return None
        filters.append(("created = ?", number))
    if c.low is not None:
        filters.append(("created >= ?", c.low))
    if c.high is not None:
        filters.append(("created <= ?", c.high))
    return filters


def _row_prefix(c: Condition) -> str | None:
    """The text with which a stored row of ``c.name`` (and ``c.key``, if given) begins in
    objects.index_rows, when both are plain printable ASCII, else None. The rows are a JSON
    array of [name, key, num, ...] written without spaces; a JSON string holds no unescaped
    quote, so '["name","key",' occurs there only as the start of such a row: instr() finds it
    without parsing the array (a Locate by a usage-mask bit that none of 100,000 keys has:
    1.6 s parsing every object's rows, 0.34 s with instr). Plain ASCII is encoded alike by
    json.dumps (this store) and SQLite's JSON functions (migration 2)."""
    parts = [c.name] if c.key is None else [c.name, c.key]
    if not all(p.isascii() and p.isprintable() and '"' not in p and "\\" not in p for p in parts):
        return None
    return "[" + "".join(f'"{p}",' for p in parts)


def _as_number(key: str) -> int | None:
    """The integer whose decimal text ``key`` is (as str(int) writes it) if SQLite can store
    it (64 bits: no stored num is larger), else None."""
    try:
        number = int(key)
    except ValueError:
        return None
    return number if str(number) == key and -(2**63) <= number < 2**63 else None


def build_locate_sql(q: LocateQuery, sizes: Sequence[int] | None = None) -> tuple[str, list[object]]:
    """The SQL and parameters for a LocateQuery ("" when nothing can match).

    The equality conditions (or else the most selective one) drive the query: ``id IN (index
    lookups, intersected)``, rows then fetched by rowid; every other condition is checked per
    candidate (_probe_sql: a primary-key seek, or the candidate's own rows). ``sizes`` (index
    rows per condition, in q.conditions' order, see SQLiteStorage._equality_sizes) narrows the
    drivers to the smallest equality lookup: intersecting with a large one would read all of
    its rows.
    When a condition drives, the column filters are written ``+column`` so that the planner,
    which has no statistics on a fresh database, cannot prefer a low-selectivity column index
    (state, type) over the lookup.
    """
    where: list[str] = []
    params: list[object] = []
    columns: list[tuple[str, object]] = []  # (column filter, its parameter)
    for c in q.conditions:
        if c.name in _COLUMN_ROWS:
            filters = _column_sql(c)
            if filters is None:
                return "", []
            columns.extend(filters)
    conditions = sorted((c for c in q.conditions if c.name not in _COLUMN_ROWS), key=_selectivity)
    # only rows in the lookup tables can drive; with none, the objects are scanned in SQL (by
    # the column indexes of the type / state / owner filters), each checked by _probe_sql
    indexed = [c for c in conditions if c.indexed]
    drivers = [c for c in indexed if c.key is not None] or indexed[:1]
    if sizes is not None and len(drivers) > 1:
        size = {id(c): n for c, n in zip(q.conditions, sizes, strict=True)}
        drivers = [min(drivers, key=lambda c: size[id(c)])]
    probes = [c for c in conditions if all(c is not d for d in drivers)]
    if drivers:
        # Equality lookups are intersected on the covering (name, key, obj) index before any
        # object row is read, so "group g (1,000 members) AND barcode b" reads one object.
        subs = []
        for c in drivers:
            sub, sub_params = _lookup_sql(c)
            subs.append(f"SELECT obj FROM ({sub})" if len(drivers) > 1 and " UNION " in sub else sub)
            params.extend(sub_params)
        where.append(f"id IN ({' INTERSECT '.join(subs)})")
        # a key with bounds: the lookup found the key's objects; the row must satisfy both
        probes = [c for c in drivers if c.key is not None and (c.low, c.high) != (None, None)] + probes
    for c in probes:
        sub, sub_params = _probe_sql(c)
        where.append(sub)
        params.extend(sub_params)
    col = "+" if drivers else ""
    for sub, param in columns:
        where.append(sub if sub.startswith("uid") else col + sub)  # (uid: the best index there is)
        params.append(param)
    for column, values in (("object_type", q.object_types), ("state", q.states)):
        if values is None:
            continue
        if not values:
            return "", []
        where.append(f"{col}{column} IN ({', '.join('?' * len(values))})")
        params.extend(values)
    if q.owner is not None:
        where.append(f"{col}owner = ?")
        params.append(q.owner)
    if q.archived is not None:
        where.append("archived = ?")
        params.append(int(q.archived))
    order = "DESC" if q.newest_first else "ASC"
    sql = "SELECT uid FROM objects"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY created {order}, id {order} LIMIT ? OFFSET ?"
    params.extend((-1 if q.limit is None else q.limit, q.offset))
    return sql, params


def open_sqlite(url: str, protector: KeyProtector | None) -> SQLiteStorage:
    """Factory for ``sqlite:///relative.db`` and ``sqlite:////absolute.db`` (profiles.store.BACKENDS)."""
    if not url.startswith(URL_PREFIX) or len(url) == len(URL_PREFIX):
        raise StoreError(f"SQLite URL must look like sqlite:///path.db, not {url!r}")
    if protector is None:
        raise StoreError("the sqlite backend stores key material wrapped: a KeyProtector is required")
    path = Path(url[len(URL_PREFIX) :])
    if not path.parent.is_dir():
        raise StoreError(f"directory {path.parent} for database does not exist")
    return SQLiteStorage(path, protector)
