"""``sqlite:`` backend: the embedded default (WAL, durable commits, indexed Locate).

- Durability: ``journal_mode=WAL`` + ``synchronous=FULL``: the WAL is fsynced at every commit,
  so an acknowledged Create/Register survives kill -9 and power loss.
- Concurrency: one reader connection per thread; WAL readers never wait for the writer or
  for each other. Writes go through one writer connection, owned by one thread at a time
  for the duration of a write (or of a transaction scope from its first write on), and are
  group-committed: concurrent writers share one COMMIT/fsync, each returning once durable.
- Locate: every condition is an indexed lookup in ``attr_index`` ((name, key, obj) for
  equality, (name, num, obj) for ranges) joined to ``objects`` by rowid; type/state/owner/created
  are indexed columns. Nothing is filtered in Python.
- Schema: numbered migrations in ``MIGRATIONS``, applied in order at open, each recorded in
  ``schema_migrations`` in the same transaction as its DDL.
- Key material is wrapped with the KeyProtector (AAD = uid) before it is bound to a statement;
  the KEK check value is kept in ``meta`` so a wrong KEK is refused at open.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from profiles.keyprotect import KeyProtector, WrongKek
from profiles.store.base import (
    Condition,
    DuplicateObject,
    IndexEntry,
    LocateQuery,
    ObjectRecord,
    StoreError,
    UnknownObject,
)

URL_PREFIX = "sqlite:///"
BUSY_TIMEOUT_S = 30.0


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
)


@dataclass
class _ThreadState:
    con: sqlite3.Connection  # this thread's reader connection
    depth: int = 0  # nesting of transaction() scopes
    holds_writer: bool = False  # this thread's open scope has written: it owns the writer
    savepoints: set[int] = field(default_factory=set)  # scope levels that hold a savepoint


class SQLiteStorage:
    """Storage on one SQLite file; safe to share between threads.

    Reads use one connection per thread. Writes go through one shared writer connection,
    owned by one thread at a time (``_write_lock``): a standalone write, or a transaction
    scope from its first write to its end, runs inside a savepoint of the writer's open
    transaction. Group commit: when the owner is done it releases the writer and waits until
    a COMMIT covering its work has returned; the first waiter commits for everyone who
    finished before it took the writer, so concurrent writers share one fsync.
    ``insert``/``update`` and the outermost ``transaction()`` still return only once durable.
    """

    def __init__(self, path: Path, protector: KeyProtector) -> None:
        self.path = path
        self._protector = protector
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()  # guards _connections only, never held during a query
        # SQLite admits one writer at a time anyway; queueing writer threads on a fair Python
        # lock avoids SQLite's sleep-and-retry busy handler between threads of this process
        # (it costs milliseconds per conflict). Readers never touch it. Other processes on the
        # same file still coordinate through SQLite's own lock and busy timeout.
        self._write_lock = threading.Lock()
        self._closed = False
        self._writer = self._connect()
        self._txn_open = False  # the writer has a BEGIN IMMEDIATE not yet committed
        self._units_in_txn = 0  # finished write units inside that transaction
        # Group commit bookkeeping (under _commit_cv): every finished write unit gets a sequence
        # number; _committed is the highest one known durable (or failed, see _failed).
        self._commit_cv = threading.Condition(threading.Lock())
        self._written = 0  # last sequence number handed out (under _write_lock)
        self._committed = 0
        self._committing = False
        self._failed: list[tuple[int, int]] = []  # (first, last) sequence ranges whose COMMIT failed
        self._migrate(self._writer)
        self._check_kek(self._writer)

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
        con.execute("PRAGMA synchronous=FULL")  # fsync the WAL at every commit
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

    def _open_txn(self) -> None:
        """Under _write_lock: make sure the writer is inside a write transaction."""
        if not self._txn_open:
            self._writer.execute("BEGIN IMMEDIATE")
            self._txn_open = True

    def _finish_unit(self) -> int:
        """Under _write_lock: a write unit is complete; its sequence number."""
        self._written += 1
        self._units_in_txn += 1
        return self._written

    def _drop_empty_txn(self) -> None:
        """Under _write_lock, after a failed unit: if nobody's work is waiting in the open
        transaction, end it, so SQLite's file lock is not held for other processes."""
        if self._txn_open and self._units_in_txn == 0:
            self._txn_open = False
            self._writer.execute("ROLLBACK")

    def _wait_durable(self, seq: int) -> None:
        """Return once write unit ``seq`` is committed (StoreError if that COMMIT failed).
        The first thread to find no commit in progress commits for everyone."""
        cv = self._commit_cv
        with cv:
            while self._committed < seq:
                if not self._committing:
                    self._committing = True
                    break
                cv.wait()
            else:
                self._raise_if_failed(seq)
                return
        error: sqlite3.Error | None = None
        target = seq
        try:
            with self._write_lock:
                target = self._written  # everything finished so far rides on this fsync
                if self._txn_open:
                    self._txn_open = False
                    self._units_in_txn = 0
                    try:
                        self._writer.execute("COMMIT")
                    except sqlite3.Error as exc:
                        error = exc
                        if self._writer.in_transaction:
                            self._writer.execute("ROLLBACK")
        finally:
            with cv:
                if error is not None:
                    self._failed.append((self._committed + 1, target))
                    del self._failed[:-64]
                self._committed = max(self._committed, target)
                self._committing = False
                cv.notify_all()
        self._raise_if_failed(seq)

    def _raise_if_failed(self, seq: int) -> None:
        for first, last in self._failed:
            if first <= seq <= last:
                raise StoreError("commit failed; the write was not stored")

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One atomic write on the writer: a savepoint, inside the owner's scope if any."""
        st = self._state()
        if st.depth == 0:
            with self._write_lock:
                self._open_txn()
                try:
                    with self._savepoint("w"):
                        yield self._writer
                except BaseException:
                    self._drop_empty_txn()
                    raise
                seq = self._finish_unit()
            self._wait_durable(seq)
            return
        if not st.holds_writer:
            # First write of this scope: own the writer until the outermost scope ends, and
            # give every open scope its savepoint so each can be rolled back on its own.
            self._write_lock.acquire()
            try:
                self._open_txn()
                for level in range(1, st.depth + 1):
                    self._writer.execute(f"SAVEPOINT s{level}")
                    st.savepoints.add(level)
            except BaseException:
                st.savepoints.clear()
                self._write_lock.release()
                raise
            st.holds_writer = True
        with self._savepoint("w"):
            yield self._writer

    @contextmanager
    def _savepoint(self, name: str) -> Iterator[None]:
        con = self._writer
        con.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            con.execute(f"ROLLBACK TO {name}")
            con.execute(f"RELEASE {name}")
            raise
        con.execute(f"RELEASE {name}")

    def _reader(self) -> sqlite3.Connection:
        """The connection reads use: the writer while this thread's scope owns it (to see its
        own uncommitted writes), else the thread's own connection (committed data only)."""
        st = self._state()
        return self._writer if st.holds_writer else st.con

    def _row(self, rec: ObjectRecord) -> tuple[object, ...]:
        material = None if rec.material is None else self._protector.wrap(rec.material, rec.uid.encode())
        index_rows = json.dumps([[e.name, e.key, e.num] for e in rec.index], separators=(",", ":"))
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
    def _insert_index(con: sqlite3.Connection, obj: int, rec: ObjectRecord) -> None:
        con.executemany(
            "INSERT INTO attr_index(obj, name, key, num) VALUES (?, ?, ?, ?)",
            [(obj, e.name, e.key, e.num) for e in rec.index],
        )

    def insert(self, rec: ObjectRecord) -> None:
        row = self._row(rec)
        with self._writing() as con:
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
            self._insert_index(con, obj, rec)

    def update(self, rec: ObjectRecord) -> None:
        row = self._row(rec)
        with self._writing() as con:
            found = con.execute("SELECT id FROM objects WHERE uid = ?", (rec.uid,)).fetchone()
            if found is None:
                raise UnknownObject(f"object {rec.uid!r} does not exist")
            con.execute(
                "UPDATE objects SET object_type = ?, owner = ?, state = ?, created = ?, archived = ?, "
                "attributes = ?, material = ?, index_rows = ? WHERE uid = ?",
                row,
            )
            con.execute("DELETE FROM attr_index WHERE obj = ?", (found[0],))
            self._insert_index(con, found[0], rec)

    # -- reads -----------------------------------------------------------------------------

    def load(self, uid: str) -> ObjectRecord | None:
        row = (
            self._reader()
            .execute(
                "SELECT object_type, owner, state, created, archived, attributes, material, index_rows "
                "FROM objects WHERE uid = ?",
                (uid,),
            )
            .fetchone()
        )
        if row is None:
            return None
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
            index=[IndexEntry(n, k, v) for n, k, v in json.loads(index_rows)],
        )

    def locate(self, q: LocateQuery) -> list[str]:
        sql, params = build_locate_sql(q)
        if not sql:
            return []
        return [uid for (uid,) in self._reader().execute(sql, params)]

    def count(self) -> int:
        (n,) = self._reader().execute("SELECT count(*) FROM objects").fetchone()
        return int(n)

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        st = self._state()
        st.depth += 1
        level = st.depth
        if st.holds_writer:
            self._writer.execute(f"SAVEPOINT s{level}")
            st.savepoints.add(level)
        ok = False
        try:
            yield
            ok = True
        finally:
            seq = 0
            try:
                if level in st.savepoints:
                    if not ok:
                        self._writer.execute(f"ROLLBACK TO s{level}")
                    self._writer.execute(f"RELEASE s{level}")
                if level == 1 and st.holds_writer and ok:
                    seq = self._finish_unit()
            finally:
                st.savepoints.discard(level)
                st.depth -= 1
                if level == 1 and st.holds_writer:
                    st.holds_writer = False
                    st.savepoints.clear()
                    try:
                        if not ok:
                            self._drop_empty_txn()
                    finally:
                        self._write_lock.release()
            if seq:
                self._wait_durable(seq)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connections, self._connections = self._connections, []
        try:
            if self._writer.in_transaction:
                self._writer.execute("ROLLBACK")  # only a failed commit can leave one open
            self._writer.execute("PRAGMA optimize")
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass  # another thread may still hold a read; the WAL is replayed at next open
        for con in connections:
            con.close()


def _selectivity(c: Condition) -> int:
    """Rank of a condition's expected result size (lower = fewer rows) to pick the driver."""
    if c.key is not None:
        return 0 if (c.low is not None or c.high is not None) else 1
    if c.low is not None and c.high is not None:
        return 2
    return 3 if (c.low is not None or c.high is not None) else 4


def _condition_sql(c: Condition) -> tuple[str, list[object]]:
    sub = ["name = ?"]
    params: list[object] = [c.name]
    if c.key is not None:
        sub.append("key = ?")
        params.append(c.key)
    if c.low is not None:
        sub.append("num >= ?")
        params.append(c.low)
    if c.high is not None:
        sub.append("num <= ?")
        params.append(c.high)
    return " AND ".join(sub), params


def build_locate_sql(q: LocateQuery) -> tuple[str, list[object]]:
    """The SQL and parameters for a LocateQuery ("" when nothing can match).

    The equality conditions (or else the most selective one) drive the query: ``id IN (index
    lookups, intersected)``, rows then fetched by rowid; every other condition is an index probe
    on (name, key, obj) / (name, num, obj) per candidate. When a condition drives, the column
    filters are written ``+column`` so that the planner, which has no statistics on a fresh
    database, cannot prefer a low-selectivity column index (state, type) over the lookup.
    """
    where: list[str] = []
    params: list[object] = []
    conditions = sorted(q.conditions, key=_selectivity)
    drivers = [c for c in conditions if c.key is not None] or conditions[:1]
    probes = [c for c in conditions if all(c is not d for d in drivers)]
    if drivers:
        # Equality lookups are intersected on the covering (name, key, obj) index before any
        # object row is read, so "group g (1,000 members) AND barcode b" reads one object.
        subs = []
        for c in drivers:
            sub, sub_params = _condition_sql(c)
            subs.append(f"SELECT obj FROM attr_index WHERE {sub}")
            params.extend(sub_params)
        where.append(f"id IN ({' INTERSECT '.join(subs)})")
    for c in probes:
        sub, sub_params = _condition_sql(c)
        where.append(f"EXISTS (SELECT 1 FROM attr_index WHERE obj = objects.id AND {sub})")
        params.extend(sub_params)
    col = "+" if conditions else ""
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
