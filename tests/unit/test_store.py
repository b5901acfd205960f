"""Storage semantics, identical for every backend (parametrized over memory: and sqlite:)."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from profiles.attrs import condition
from profiles.keyprotect import KeyProtector, WrongKek
from profiles.store import (
    Condition,
    DuplicateObject,
    IndexEntry,
    LocateQuery,
    NonUniqueKey,
    ObjectRecord,
    Storage,
    StoreError,
    UnknownObject,
    open_store,
)
from profiles.store.base import matches

HAVE_SQLITE_BACKEND = importlib.util.find_spec("profiles.store.sqlite") is not None
BACKENDS = [
    "memory",
    pytest.param("sqlite", marks=pytest.mark.skipif(not HAVE_SQLITE_BACKEND, reason="no sqlite backend")),
]

SYMMETRIC_KEY, SECRET_DATA = 2, 7
PRE_ACTIVE, ACTIVE, DEACTIVATED = 1, 2, 3


@pytest.fixture
def protector() -> KeyProtector:
    return KeyProtector(os.urandom(32))


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path, protector: KeyProtector) -> Iterator[Storage]:
    url = "memory:" if request.param == "memory" else f"sqlite:///{tmp_path / 'store.db'}"
    s = open_store(url, protector)
    yield s
    s.close()


def record(
    uid: str,
    *,
    created: int = 1000,
    owner: str = "client-a",
    state: int = ACTIVE,
    object_type: int = SYMMETRIC_KEY,
    archived: bool = False,
    index: list[IndexEntry] | None = None,
    material: bytes | None = None,
) -> ObjectRecord:
    return ObjectRecord(
        uid=uid,
        object_type=object_type,
        owner=owner,
        state=state,
        created=created,
        archived=archived,
        attributes=b"attrs:" + uid.encode(),
        material=material if material is not None else b"key:" + uid.encode(),
        index=index if index is not None else [IndexEntry("Name", f"name-{uid}")],
    )


def test_insert_load_roundtrip(store: Storage) -> None:
    rec = record("u1", index=[IndexEntry("Name", "n1"), IndexEntry("Cryptographic Length", "256", 256)])
    store.insert(rec)
    got = store.load("u1")
    assert got == rec
    assert got is not rec
    assert store.load("missing") is None
    assert store.count() == 1


def test_loaded_record_is_a_copy(store: Storage) -> None:
    store.insert(record("u1"))
    got = store.load("u1")
    assert got is not None
    got.index.append(IndexEntry("Name", "sneaky"))
    got.state = DEACTIVATED
    assert store.load("u1") == record("u1")
    assert store.locate(LocateQuery([Condition("Name", "sneaky")])) == []


def test_insert_duplicate_refused(store: Storage) -> None:
    store.insert(record("u1"))
    with pytest.raises(DuplicateObject):
        store.insert(record("u1", owner="client-b"))
    loaded = store.load("u1")
    assert loaded is not None and loaded.owner == "client-a"


def test_update_replaces_record_and_index(store: Storage) -> None:
    store.insert(record("u1", index=[IndexEntry("Name", "old")]))
    new = record("u1", state=DEACTIVATED, index=[IndexEntry("Name", "new")])
    new.material = None
    store.update(new)
    assert store.load("u1") == new
    assert store.locate(LocateQuery([Condition("Name", "old")])) == []
    assert store.locate(LocateQuery([Condition("Name", "new")])) == ["u1"]
    with pytest.raises(UnknownObject):
        store.update(record("nope"))


def test_material_none_roundtrips(store: Storage) -> None:
    store.insert(record("u1", material=b""))
    destroyed = record("u1")
    destroyed.material = None
    store.update(destroyed)
    got = store.load("u1")
    assert got is not None and got.material is None


def test_locate_equality_and_and(store: Storage) -> None:
    asi = "Application Specific Information"
    store.insert(record("a", index=[IndexEntry(asi, "LIBRARY-LTO\x1fAAA"), IndexEntry("Object Group", "g1")]))
    store.insert(record("b", index=[IndexEntry(asi, "LIBRARY-LTO\x1fBBB"), IndexEntry("Object Group", "g1")]))
    store.insert(record("c", index=[IndexEntry("x-Barcode", "BC0001"), IndexEntry("Object Group", "g2")]))
    assert store.locate(LocateQuery([Condition(asi, "LIBRARY-LTO\x1fAAA")])) == ["a"]
    assert sorted(store.locate(LocateQuery([Condition("Object Group", "g1")]))) == ["a", "b"]
    assert store.locate(
        LocateQuery([Condition("Object Group", "g1"), Condition(asi, "LIBRARY-LTO\x1fBBB")])
    ) == ["b"]
    assert (
        store.locate(LocateQuery([Condition("Object Group", "g2"), Condition(asi, "LIBRARY-LTO\x1fBBB")]))
        == []
    )
    assert store.locate(LocateQuery([Condition("x-Barcode", "BC0001")])) == ["c"]
    # Presence only: any value of the attribute.
    assert sorted(store.locate(LocateQuery([Condition(asi)]))) == ["a", "b"]
    # Two conditions on one multi-valued attribute: both values must be present.
    store.insert(record("d", index=[IndexEntry("Name", "n1"), IndexEntry("Name", "n2")]))
    assert store.locate(LocateQuery([Condition("Name", "n1"), Condition("Name", "n2")])) == ["d"]
    assert store.locate(LocateQuery([Condition("Name", "n1"), Condition("Name", "n3")])) == []


def test_locate_ranges(store: Storage) -> None:
    for i in range(10):
        store.insert(
            record(
                f"u{i}",
                created=1000 + i,
                index=[IndexEntry("Initial Date", str(1000 + i), 1000 + i), IndexEntry("Name", "x")],
            )
        )
    q = LocateQuery([Condition("Initial Date", low=1003, high=1005)])
    assert store.locate(q) == ["u5", "u4", "u3"]
    assert store.locate(LocateQuery([Condition("Initial Date", low=1008)])) == ["u9", "u8"]
    assert store.locate(LocateQuery([Condition("Initial Date", high=1001)])) == ["u1", "u0"]
    # Rows without a number never satisfy a range.
    assert store.locate(LocateQuery([Condition("Name", low=0)])) == []


def test_locate_filters(store: Storage) -> None:
    store.insert(record("k1", object_type=SYMMETRIC_KEY, state=ACTIVE, owner="client-a"))
    store.insert(record("k2", object_type=SYMMETRIC_KEY, state=PRE_ACTIVE, owner="client-b"))
    store.insert(record("s1", object_type=SECRET_DATA, state=ACTIVE, owner="client-a", archived=True))
    assert sorted(store.locate(LocateQuery(object_types=[SYMMETRIC_KEY]))) == ["k1", "k2"]
    assert sorted(store.locate(LocateQuery(states=[ACTIVE]))) == ["k1", "s1"]
    assert sorted(store.locate(LocateQuery(states=[ACTIVE, PRE_ACTIVE], object_types=[SYMMETRIC_KEY]))) == [
        "k1",
        "k2",
    ]
    assert sorted(store.locate(LocateQuery(owner="client-a"))) == ["k1", "s1"]
    assert store.locate(LocateQuery(owner="client-c")) == []
    assert sorted(store.locate(LocateQuery(archived=False))) == ["k1", "k2"]
    assert store.locate(LocateQuery(archived=True)) == ["s1"]
    assert store.locate(LocateQuery(object_types=[])) == []
    assert sorted(store.locate(LocateQuery())) == ["k1", "k2", "s1"]


def test_locate_order_offset_limit(store: Storage) -> None:
    # Same created second for u1..u3: insertion order breaks the tie.
    for uid, created in [("u0", 5), ("u1", 7), ("u2", 7), ("u3", 7), ("u4", 9)]:
        store.insert(record(uid, created=created, index=[IndexEntry("Object Group", "g")]))
    cond = [Condition("Object Group", "g")]
    assert store.locate(LocateQuery(cond)) == ["u4", "u3", "u2", "u1", "u0"]
    assert store.locate(LocateQuery(cond, newest_first=False)) == ["u0", "u1", "u2", "u3", "u4"]
    assert store.locate(LocateQuery(cond, limit=2)) == ["u4", "u3"]
    assert store.locate(LocateQuery(cond, offset=2, limit=2)) == ["u2", "u1"]
    assert store.locate(LocateQuery(cond, offset=4)) == ["u0"]
    assert store.locate(LocateQuery(cond, offset=9)) == []
    assert store.locate(LocateQuery(cond, limit=0)) == []


def test_locate_agrees_with_reference_semantics(store: Storage) -> None:
    rng = random.Random(7)
    # name -> IndexEntry.indexed / Condition.indexed: "Fresh" rows stay out of the lookup tables
    indexed = {"Name": True, "Object Group": True, "x-Barcode": True, "Fresh": False}
    names = list(indexed)
    recs = []
    for i in range(60):
        index = []
        for _ in range(3):
            # keys that are their number (lengths, enums, dates), keys that are not, no number
            num = rng.choice([None, rng.randrange(10)])
            key = rng.choice([f"v{rng.randrange(4)}", str(rng.randrange(4)), "mask"])
            name = rng.choice(names)
            text = str(num) if num is not None and rng.random() < 0.5 else key
            index.append(IndexEntry(name, text, num, indexed=indexed[name]))
        rec = record(
            f"u{i:02}",
            created=rng.randrange(5),
            owner=rng.choice(["a", "b"]),
            state=rng.choice([ACTIVE, PRE_ACTIVE]),
            archived=rng.random() < 0.2,
            index=index,
        )
        store.insert(rec)
        recs.append(rec)
    for _ in range(300):
        conds = []
        for _ in range(rng.randrange(3)):
            name = rng.choice(names)
            c = Condition(name, indexed=indexed[name])
            if rng.random() < 0.6:
                c.key = rng.choice([f"v{rng.randrange(4)}", str(rng.randrange(10)), "mask"])
            if rng.random() < 0.3:
                c.low = rng.randrange(10)
            if rng.random() < 0.3:
                c.high = rng.randrange(10)
            conds.append(c)
        q = LocateQuery(
            conds,
            owner=rng.choice([None, "a"]),
            states=rng.choice([None, [ACTIVE]]),
            archived=rng.choice([None, False]),
            newest_first=rng.random() < 0.5,
        )
        expected = [(r.created, n, r.uid) for n, r in enumerate(recs) if matches(r, q)]
        expected.sort(reverse=q.newest_first)
        assert store.locate(q) == [uid for _, _, uid in expected]


def test_transaction_commits(store: Storage) -> None:
    with store.transaction():
        store.insert(record("u1"))
        store.insert(record("u2"))
        assert store.load("u1") is not None  # own writes visible inside
    assert store.count() == 2


def test_transaction_rolls_back_everything(store: Storage) -> None:
    store.insert(record("u0", index=[IndexEntry("Name", "before")]))
    with pytest.raises(RuntimeError), store.transaction():
        store.insert(record("u1"))
        store.update(record("u0", state=DEACTIVATED, index=[IndexEntry("Name", "after")]))
        raise RuntimeError("undo the batch")
    assert store.count() == 1
    assert store.load("u1") is None
    assert store.load("u0") == record("u0", index=[IndexEntry("Name", "before")])
    assert store.locate(LocateQuery([Condition("Name", "after")])) == []
    assert store.locate(LocateQuery([Condition("Name", "before")])) == ["u0"]


def test_nested_transaction_inner_rollback_only(store: Storage) -> None:
    with store.transaction():
        store.insert(record("outer"))
        with pytest.raises(ValueError), store.transaction():
            store.insert(record("inner"))
            raise ValueError("inner fails")
        store.insert(record("after"))
        with store.transaction():
            store.insert(record("inner-ok"))
    assert sorted(store.locate(LocateQuery())) == ["after", "inner-ok", "outer"]


def test_nested_transaction_outer_rollback_discards_inner_commit(store: Storage) -> None:
    with pytest.raises(KeyError), store.transaction():
        with store.transaction():
            store.insert(record("inner"))
        raise KeyError("outer fails")
    assert store.count() == 0


def test_transaction_without_writes_and_reads_only(store: Storage) -> None:
    store.insert(record("u1"))
    with store.transaction():
        assert store.load("u1") is not None
        assert store.locate(LocateQuery()) == ["u1"]
    with pytest.raises(LookupError), store.transaction():
        assert store.count() == 1
        raise LookupError
    assert store.count() == 1


def test_failed_insert_inside_transaction_keeps_earlier_writes(store: Storage) -> None:
    with store.transaction():
        store.insert(record("u1"))
        with pytest.raises(DuplicateObject):
            store.insert(record("u1"))
        store.insert(record("u2"))
    assert store.count() == 2


def test_concurrent_threads(store: Storage) -> None:
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(25):
                uid = f"t{t}-{i}"
                store.insert(record(uid, index=[IndexEntry("Object Group", f"g{t}")]))
                assert store.load(uid) is not None
            assert len(store.locate(LocateQuery([Condition("Object Group", f"g{t}")]))) == 25
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not errors
    assert store.count() == 150


def test_repr_hides_material() -> None:
    rec = record("u1", material=b"\x01super-secret-key-bytes")
    assert "super-secret" not in repr(rec)
    assert "super-secret" not in str(rec)


def test_closed_store_refuses(store: Storage) -> None:
    store.close()
    with pytest.raises(StoreError):
        store.insert(record("u1"))
    store.close()  # idempotent


def test_unknown_scheme_refused() -> None:
    with pytest.raises(StoreError):
        open_store("postgres2://x")
    with pytest.raises(StoreError):
        open_store("no-scheme")


# -- persistence (SQLite only) -----------------------------------------------------------------

needs_sqlite = pytest.mark.skipif(not HAVE_SQLITE_BACKEND, reason="sqlite backend not present yet")


@needs_sqlite
def test_reopen_keeps_data(tmp_path: Path, protector: KeyProtector) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    s = open_store(url, protector)
    rec = record("u1", index=[IndexEntry("Name", "n", 3)])
    s.insert(rec)
    s.close()
    s = open_store(url, protector)
    try:
        assert s.load("u1") == rec
        assert s.locate(LocateQuery([Condition("Name", "n")])) == ["u1"]
    finally:
        s.close()


@needs_sqlite
def test_migrations_applied_once(tmp_path: Path, protector: KeyProtector) -> None:
    import sqlite3

    from profiles.store.sqlite import MIGRATIONS

    path = tmp_path / "s.db"
    for _ in range(3):
        open_store(f"sqlite:///{path}", protector).close()
    con = sqlite3.connect(path)
    try:
        versions = [v for (v,) in con.execute("SELECT version FROM schema_migrations ORDER BY version")]
    finally:
        con.close()
    assert versions == [m.version for m in MIGRATIONS]
    assert versions == sorted(set(versions))


@needs_sqlite
def test_wrong_kek_refused_at_open(tmp_path: Path, protector: KeyProtector) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    s = open_store(url, protector)
    s.insert(record("u1"))
    s.close()
    with pytest.raises(WrongKek):
        open_store(url, KeyProtector(os.urandom(32)))


@needs_sqlite
def test_sqlite_requires_protector(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        open_store(f"sqlite:///{tmp_path / 's.db'}")


@needs_sqlite
def test_relative_and_absolute_urls(
    tmp_path: Path, protector: KeyProtector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///rel.db", protector).close()
    assert (tmp_path / "rel.db").exists()
    open_store(f"sqlite:///{tmp_path / 'abs.db'}", protector).close()
    assert (tmp_path / "abs.db").exists()


@needs_sqlite
def test_no_plaintext_key_bytes_on_disk(tmp_path: Path, protector: KeyProtector) -> None:
    """Every stored key is wrapped: neither the .db nor the -wal file holds any key's bytes."""
    db = tmp_path / "s.db"
    store = open_store(f"sqlite:///{db}", protector)
    keys = [os.urandom(32) for _ in range(200)]
    for i, key in enumerate(keys):
        # The material is a TTLV-like blob with the key bytes in the middle.
        store.insert(record(f"u{i}", material=b"\x42\x00\x43\x08\x00\x00\x00\x20" + key))
    # Rewrap on update too.
    store.update(record("u0", material=b"\x42\x00\x43\x08\x00\x00\x00\x20" + keys[0]))

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("s.db"))

    def assert_clean(blob: bytes) -> None:
        for key in keys:
            assert key not in blob
            assert key[:16] not in blob and key[16:] not in blob
            assert key.hex().encode() not in blob

    wal = tmp_path / "s.db-wal"
    assert wal.exists() and wal.stat().st_size > 0  # the data really is in the WAL now
    assert_clean(on_disk())
    import sqlite3

    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert_clean(on_disk())
    got = store.load("u7")
    assert got is not None and got.material is not None and got.material.endswith(keys[7])
    store.close()
    assert_clean(on_disk())
    assert len(on_disk()) > 200 * 32  # the objects are there, wrapped


@needs_sqlite
def test_failed_scope_leaves_no_write_lock_behind(tmp_path: Path, protector: KeyProtector) -> None:
    """After a failed write or scope, another process can write at once (no open transaction
    holds SQLite's file lock)."""
    import sqlite3

    db = tmp_path / "s.db"
    store = open_store(f"sqlite:///{db}", protector)
    try:
        store.insert(record("u1"))
        with pytest.raises(DuplicateObject):
            store.insert(record("u1"))
        with pytest.raises(RuntimeError), store.transaction():
            store.insert(record("u2"))
            raise RuntimeError
        other = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert store.count() == 1
    finally:
        store.close()


@needs_sqlite
def test_concurrent_writers_all_durable(tmp_path: Path, protector: KeyProtector) -> None:
    """Group commit: writers in many threads (plain inserts and multi-insert scopes, some
    failing) all return only once durable; a fresh connection sees exactly the successes."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(url, protector)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(30):
                if i % 3 == 0:
                    with store.transaction():
                        store.insert(record(f"t{t}-{i}a"))
                        store.insert(record(f"t{t}-{i}b"))
                elif i % 3 == 1:
                    with pytest.raises(ValueError), store.transaction():
                        store.insert(record(f"t{t}-{i}x"))
                        raise ValueError
                else:
                    store.insert(record(f"t{t}-{i}"))
                    assert store.load(f"t{t}-{i}") is not None
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors
    store.close()
    reopened = open_store(url, protector)
    try:
        assert reopened.count() == 8 * (10 * 2 + 10)
        assert reopened.load("t3-1x") is None
        assert reopened.load("t3-0b") is not None
    finally:
        reopened.close()


@needs_sqlite
@pytest.mark.parametrize(
    "query",
    [
        LocateQuery([Condition("Application Specific Information", "LIBRARY-LTO\x1fAB")]),
        LocateQuery(
            [Condition("Name", "n")], owner="client-a", states=[ACTIVE], object_types=[SYMMETRIC_KEY]
        ),
        LocateQuery([Condition("Object Group", "g"), Condition("x-Barcode", "BC1")], limit=5),
        LocateQuery([Condition("Initial Date", low=1, high=2)], archived=False),
        LocateQuery([Condition("Object Group", "g"), Condition("Cryptographic Length", low=128)]),
        LocateQuery(object_types=[SYMMETRIC_KEY], states=[ACTIVE], limit=1),
        LocateQuery(owner="client-a", limit=10),
        LocateQuery(states=[DEACTIVATED]),
        LocateQuery([Condition("Cryptographic Length", "256")]),
        LocateQuery([Condition("x-Barcode")]),
        LocateQuery([Condition("Cryptographic Length", "256"), Condition("Object Group", "g")]),
    ],
    ids=[
        "asi",
        "name+filters",
        "group+barcode",
        "date-range",
        "group+length",
        "type+state",
        "owner",
        "state",
        "number-equality",
        "presence",
        "number+group",
    ],
)
def test_locate_is_an_indexed_query(tmp_path: Path, protector: KeyProtector, query: LocateQuery) -> None:
    """Locate by ASI, Name, Object Group, custom attribute, range, state, type or owner is an
    index search (SQLite's query plan), never a scan of every object."""
    from profiles.store.sqlite import SQLiteStorage, build_locate_sql

    store = open_store(f"sqlite:///{tmp_path / 's.db'}", protector)
    try:
        assert isinstance(store, SQLiteStorage)
        sql, params = build_locate_sql(query)
        plan = [row[3] for row in store._reader().execute("EXPLAIN QUERY PLAN " + sql, params)]
    finally:
        store.close()
    # A presence or range condition checked on a candidate reads that candidate's own rows
    # (json_each of objects.index_rows, ~30 rows): bounded per object, not a table scan.
    scans = [step for step in plan if step.startswith("SCAN") and not step.startswith("SCAN own_rows ")]
    assert not scans, plan
    assert any(step.startswith("SEARCH") for step in plan), plan


@needs_sqlite
def test_group_fsync_covers_every_durable_write(
    tmp_path: Path, protector: KeyProtector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A durable write returns only after an fsync of the WAL that started after its COMMIT;
    a ``durable=False`` update commits (visible at once) without waiting for one."""
    from profiles.store.sqlite import SQLiteStorage

    store = open_store(f"sqlite:///{tmp_path / 's.db'}", protector)
    assert isinstance(store, SQLiteStorage)
    real = store._fsync_wal
    synced_at: list[int] = []

    def fsync() -> None:
        synced_at.append(store._seq)  # the last unit committed when this fsync starts
        real()

    monkeypatch.setattr(store, "_fsync_wal", fsync)
    try:
        store.insert(record("u1"))
        assert synced_at and synced_at[-1] == store._seq == store._synced
        with store.transaction():
            store.insert(record("u2"))
            store.update(record("u1", state=DEACTIVATED))
        assert synced_at[-1] == store._seq == store._synced
        count = len(synced_at)
        store.update(record("u2", state=DEACTIVATED), durable=False)
        with store.transaction():
            store.update(record("u1", state=ACTIVE), durable=False)
        assert len(synced_at) == count  # nobody waited for the disk
        assert store._synced < store._seq
        reader = open_store(f"sqlite:///{tmp_path / 's.db'}", protector)
        try:
            loaded = reader.load("u2")
            assert loaded is not None and loaded.state == DEACTIVATED  # committed, visible
        finally:
            reader.close()
        store.insert(record("u3"))  # the next durable write syncs the relaxed ones too
        assert store._synced == store._seq
    finally:
        store.close()


@needs_sqlite
def test_read_barrier_holds_objects_until_synced(
    tmp_path: Path, protector: KeyProtector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An object committed but not yet fsynced is not returned by load/locate of another
    thread until the fsync covering it has finished (it could still vanish in a power loss)."""
    from profiles.store.sqlite import SQLiteStorage

    store = open_store(f"sqlite:///{tmp_path / 's.db'}", protector)
    assert isinstance(store, SQLiteStorage)
    real = store._fsync_wal
    gate, in_fsync = threading.Event(), threading.Event()

    def fsync() -> None:
        in_fsync.set()
        assert gate.wait(60)
        real()

    store.insert(record("old"))
    monkeypatch.setattr(store, "_fsync_wal", fsync)
    returned: list[str] = []
    writer = threading.Thread(target=lambda: store.insert(record("new", index=[IndexEntry("Name", "n")])))
    writer.start()
    assert in_fsync.wait(60)
    assert "new" in store._pending

    old_read = threading.Event()

    def read() -> None:
        assert store.load("old") is not None  # not pending: no wait
        returned.append("old")
        old_read.set()
        assert store.locate(LocateQuery([Condition("Name", "n")])) == ["new"]
        returned.append("locate")
        assert store.load("new") is not None
        returned.append("new")

    reader = threading.Thread(target=read)
    reader.start()
    assert old_read.wait(60)
    reader.join(0.2)
    assert returned == ["old"]  # still held: the fsync has not finished (a slow run only passes)
    gate.set()
    writer.join(60)
    reader.join(60)
    assert returned == ["old", "locate", "new"]
    assert not store._pending
    store.close()


@needs_sqlite
def test_durability_scope_defers_the_wait_to_its_exit(
    tmp_path: Path, protector: KeyProtector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside durability_scope() writes and transactions return once committed; the scope's
    exit returns only once all of them are synced."""
    from profiles.store.sqlite import SQLiteStorage

    store = open_store(f"sqlite:///{tmp_path / 's.db'}", protector)
    assert isinstance(store, SQLiteStorage)
    real = store._fsync_wal
    fsyncs: list[int] = []

    def fsync() -> None:
        fsyncs.append(store._seq)
        real()

    monkeypatch.setattr(store, "_fsync_wal", fsync)
    try:
        with store.durability_scope():
            store.insert(record("u1"))
            with store.transaction():
                store.insert(record("u2"))
            assert not fsyncs and store._synced < store._seq
        assert fsyncs == [store._seq] and store._synced == store._seq
        with pytest.raises(RuntimeError), store.durability_scope():
            store.insert(record("u3"))
            raise RuntimeError
        assert store._synced == store._seq  # synced even when the scope fails after a commit
    finally:
        store.close()


def test_update_rewrites_only_changed_index_rows(store: Storage) -> None:
    rows = [
        IndexEntry("Name", "a"),
        IndexEntry("Fresh", "1"),
        IndexEntry("Name", "a"),
        IndexEntry("Len", "", 1),
    ]
    store.insert(record("u1", index=rows))
    store.update(
        record("u1", index=[IndexEntry("Name", "a"), IndexEntry("Fresh", "0"), IndexEntry("Len", "", 1)])
    )
    assert store.locate(LocateQuery([Condition("Fresh", "0")])) == ["u1"]
    assert store.locate(LocateQuery([Condition("Fresh", "1")])) == []
    assert store.locate(LocateQuery([Condition("Name", "a")])) == ["u1"]
    assert store.locate(LocateQuery([Condition("Len", low=1, high=1)])) == ["u1"]
    store.update(record("u1", index=[]))
    assert store.locate(LocateQuery([Condition("Name", "a")])) == []
    assert store.locate(LocateQuery([Condition("Len", low=0)])) == []


def test_locate_driven_by_the_smallest_equality(store: Storage) -> None:
    """Many objects share one equality (ASI namespace), one has the other (ASI data)."""
    ns = "Application Specific Information/Application Namespace"
    data = "Application Specific Information/Application Data"
    for i in range(100):
        store.insert(record(f"u{i}", created=i, index=[IndexEntry(ns, "LTO"), IndexEntry(data, f"d{i}")]))
    assert store.locate(LocateQuery([Condition(ns, "LTO"), Condition(data, "d42")])) == ["u42"]
    assert store.locate(LocateQuery([Condition(data, "d7"), Condition(ns, "LTO")])) == ["u7"]
    assert store.locate(LocateQuery([Condition(data, "d7"), Condition(ns, "other")])) == []
    assert len(store.locate(LocateQuery([Condition(ns, "LTO")]))) == 100


@needs_sqlite
def test_read_barrier_syncs_when_the_writer_does_not(tmp_path: Path, protector: KeyProtector) -> None:
    """A reader of an unsynced object runs the fsync itself when nobody else is: the writer may
    be inside durability_scope() (its wait deferred), or waiting for a lock the reader holds."""
    from profiles.store.sqlite import SQLiteStorage

    store = open_store(f"sqlite:///{tmp_path / 's.db'}", protector)
    assert isinstance(store, SQLiteStorage)
    committed, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.durability_scope():
            store.insert(record("new"))
            committed.set()
            assert release.wait(60)  # holds its wait back until the reader is done

    th = threading.Thread(target=writer)
    th.start()
    try:
        assert committed.wait(60)
        assert "new" in store._pending and store._synced < store._seq
        assert store.load("new") is not None  # returns: the reader synced
        assert store._synced == store._seq and not store._pending
    finally:
        release.set()
        th.join(60)
        store.close()


NAME = "Name/Name Value"


def test_load_without_the_index_rows(store: Storage) -> None:
    rec = record("u1", index=[IndexEntry("Name", "n", 3), IndexEntry(NAME, "k", unique=True)])
    store.insert(rec)
    got = store.load("u1", index=False)
    assert got is not None and got.index == [] and got.material == rec.material
    assert store.load("u1") == rec


def test_locate_by_a_key_of_digits_beyond_64_bits(store: Storage) -> None:
    digits = "1" * 30  # a barcode or serial made of digits: text, no number
    store.insert(record("a", index=[IndexEntry("x-Serial", digits)]))
    assert store.locate(LocateQuery([Condition("x-Serial", digits)])) == ["a"]


def test_unique_rows_have_one_owner(store: Storage) -> None:
    store.insert(record("a", index=[IndexEntry(NAME, "k", unique=True)]))
    with pytest.raises(NonUniqueKey):
        store.insert(record("b", index=[IndexEntry(NAME, "k", unique=True)]))
    assert store.load("b") is None
    store.insert(record("c", index=[IndexEntry(NAME, "k")]))  # not unique: no constraint
    store.insert(record("d", index=[IndexEntry(NAME, "other", unique=True)]))
    with pytest.raises(NonUniqueKey):
        store.update(record("d", state=DEACTIVATED, index=[IndexEntry(NAME, "k", unique=True)]))
    assert store.load("d") == record("d", index=[IndexEntry(NAME, "other", unique=True)])
    # the owner rewrites its row as not unique (a destroyed object): the key is free again
    store.update(record("a", index=[IndexEntry(NAME, "k")]))
    store.insert(record("b", index=[IndexEntry(NAME, "k", unique=True)]))
    assert store.load("b") == record("b", index=[IndexEntry(NAME, "k", unique=True)])
    assert set(store.locate(LocateQuery([Condition(NAME, "k")]))) == {"a", "b", "c"}


def test_unique_row_refused_inside_a_transaction_keeps_the_rest(store: Storage) -> None:
    store.insert(record("a", index=[IndexEntry(NAME, "k", unique=True)]))
    with store.transaction():
        store.insert(record("x"))
        with pytest.raises(NonUniqueKey):
            store.insert(record("b", index=[IndexEntry(NAME, "k", unique=True)]))
    assert store.load("x") is not None
    assert store.load("b") is None


@needs_sqlite
def test_two_stores_on_one_file_race_for_a_unique_row(tmp_path: Path, protector: KeyProtector) -> None:
    """Two server processes on one database: of two writers racing for one unique row, exactly
    one wins (each store has its own Python locks; only SQLite's constraint is shared)."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    stores = [open_store(url, protector), open_store(url, protector)]
    outcomes: dict[str, bool] = {}

    def write(n: int, rnd: int, barrier: threading.Barrier) -> None:
        uid = f"r{rnd}-s{n}"
        barrier.wait()
        try:
            stores[n].insert(record(uid, index=[IndexEntry(NAME, f"race{rnd}", unique=True)]))
            outcomes[uid] = True
        except NonUniqueKey:
            outcomes[uid] = False

    try:
        for rnd in range(10):
            barrier = threading.Barrier(len(stores))
            threads = [threading.Thread(target=write, args=(n, rnd, barrier)) for n in range(len(stores))]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            mine = {u: ok for u, ok in outcomes.items() if u.startswith(f"r{rnd}-")}
            assert sorted(mine.values()) == [False, True]
            winners = [u for u, ok in mine.items() if ok]
            for s in stores:
                assert s.locate(LocateQuery([Condition(NAME, f"race{rnd}")])) == winners
    finally:
        for s in stores:
            s.close()


@needs_sqlite
def test_migration_2_marks_the_names_of_live_objects(tmp_path: Path, protector: KeyProtector) -> None:
    """A database written before unique rows existed: after the upgrade the Names of objects
    that are not destroyed are unique; a destroyed object's Name stays free."""
    import sqlite3

    from profiles.store.sqlite import MIGRATIONS

    path = tmp_path / "v1.db"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute(
        "CREATE TABLE schema_migrations "
        "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied INTEGER NOT NULL)"
    )
    for stmt in MIGRATIONS[0].statements:
        con.execute(stmt)
    con.execute("INSERT INTO schema_migrations VALUES (1, 'v1', 0)")
    for obj, (uid, state, name) in enumerate([("live", ACTIVE, "taken"), ("gone", 5, "free")], 1):
        rows = f'[["{NAME}","{name}",null],["Name","{name}",null]]'
        con.execute(
            "INSERT INTO objects VALUES (?, ?, 2, 'client-a', ?, 1000, 0, x'00', NULL, ?)",
            (obj, uid, state, rows),
        )
        con.executemany(
            "INSERT INTO attr_index(obj, name, key, num) VALUES (?, ?, ?, NULL)",
            [(obj, NAME, name), (obj, "Name", name)],
        )
    con.close()
    s = open_store(f"sqlite:///{path}", protector)
    try:
        live = s.load("live")
        assert live is not None and live.index == [
            IndexEntry(NAME, "taken", unique=True),
            IndexEntry("Name", "taken"),
        ]
        with pytest.raises(NonUniqueKey):
            s.insert(record("new", index=[IndexEntry(NAME, "taken", unique=True)]))
        s.insert(record("new", index=[IndexEntry(NAME, "free", unique=True)]))
        # the upgraded row is rewritten like any other (released when the engine says so)
        s.update(record("live", index=[IndexEntry(NAME, "taken")]))
        s.insert(record("newer", index=[IndexEntry(NAME, "taken", unique=True)]))
    finally:
        s.close()


def test_locate_after_updates_with_repeated_rows(store: Storage) -> None:
    """Objects whose rows repeat (multi-instance attributes) and change by update and
    update_attributes: Locate keeps agreeing with the reference semantics."""
    rng = random.Random(11)
    names = ["Name", "Object Group", "Len"]

    def rows() -> list[IndexEntry]:
        out = []
        for _ in range(rng.randrange(5)):
            num = rng.choice([None, rng.randrange(4)])
            key = str(num) if num is not None and rng.random() < 0.6 else rng.choice(["a", "b", "mask"])
            out.append(IndexEntry(rng.choice(names), key, num))
        return out + out[: rng.randrange(3)]  # some rows twice

    recs = {f"u{i}": record(f"u{i}", created=i, index=rows()) for i in range(30)}
    for rec in recs.values():
        store.insert(rec)
    for _ in range(60):
        uid = rng.choice(sorted(recs))
        rec = recs[uid]
        if rng.random() < 0.5:
            rec.index = rows()
            store.update(rec)
        else:
            new = rows()
            assert store.update_attributes(uid, rec.attributes, rec.attributes + b"+", new)
            rec.attributes += b"+"
            rec.index = new
        assert store.load(uid) == rec
    for _ in range(200):
        conds = []
        for _ in range(1 + rng.randrange(2)):
            c = Condition(rng.choice(names))
            if rng.random() < 0.6:
                c.key = rng.choice(["a", "b", "mask", "0", "1", "2"])
            if rng.random() < 0.3:
                c.low = rng.randrange(4)
            if rng.random() < 0.3:
                c.high = rng.randrange(4)
            conds.append(c)
        q = LocateQuery(conds)
        expected = sorted((r for r in recs.values() if matches(r, q)), key=lambda r: -r.created)
        assert store.locate(q) == [r.uid for r in expected]


def test_scope_open_before_the_first_write_rolls_back_alone(store: Storage) -> None:
    """A nested scope entered before the batch's first write (no savepoint of its own on
    SQLite) that fails undoes its writes only; the enclosing scope goes on and commits."""
    with store.transaction():
        with pytest.raises(ValueError), store.transaction():
            store.insert(record("first"))
            raise ValueError("item fails")
        with store.transaction():
            store.insert(record("second"))
        store.insert(record("third"))
    assert sorted(store.locate(LocateQuery())) == ["second", "third"]


def test_failed_first_write_of_a_scope_leaves_the_rest(store: Storage) -> None:
    """A write that fails as the first of a transaction, or first after a nested scope's
    start, is undone alone when the caller goes on."""
    store.insert(record("a", index=[IndexEntry(NAME, "k", unique=True)]))
    taken = [IndexEntry(NAME, "k", unique=True)]
    with store.transaction():
        with pytest.raises(NonUniqueKey):
            store.insert(record("b", index=taken))  # first write of the transaction
        store.insert(record("c"))
        with store.transaction():
            with pytest.raises(NonUniqueKey):
                store.insert(record("d", index=taken))  # first write after the savepoint
            store.insert(record("e"))
        with pytest.raises(NonUniqueKey):
            store.insert(record("f", index=taken))  # a write after others
        store.insert(record("g"))
    assert sorted(store.locate(LocateQuery())) == ["a", "c", "e", "g"]
    with pytest.raises(NonUniqueKey), store.transaction():
        store.insert(record("h", index=taken))
    assert store.load("h") is None
    store.insert(record("i"))  # the writer was given back


def test_two_equal_unique_rows_in_one_object_refused(store: Storage) -> None:
    with pytest.raises(NonUniqueKey):
        store.insert(record("a", index=[IndexEntry(NAME, "k", unique=True)] * 2))
    assert store.load("a") is None


@needs_sqlite
def test_migration_4_moves_the_rows_of_a_migration_3_database(
    tmp_path: Path, protector: KeyProtector
) -> None:
    """A database written by migrations 1-3 (rows in attr_index): after the upgrade Locate
    finds the same objects, Names stay unique, and updates rewrite the moved rows."""
    import sqlite3

    from profiles.store.sqlite import MIGRATIONS, SQLiteStorage

    path = tmp_path / "v3.db"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute(
        "CREATE TABLE schema_migrations "
        "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied INTEGER NOT NULL)"
    )
    for m in MIGRATIONS[:3]:
        for stmt in m.statements:
            con.execute(stmt)
        con.execute("INSERT INTO schema_migrations VALUES (?, 'v', 0)", (m.version,))
    asi = "Application Specific Information/Application Data"
    recs = [
        record(
            "live",
            created=1000,  # objects.created is the Initial Date
            index=[
                IndexEntry(NAME, "taken", unique=True),
                IndexEntry("Object Group", "g"),
                IndexEntry("Object Group", "g"),  # a multi-instance row, twice
                IndexEntry(asi, "AB01"),
                IndexEntry("Cryptographic Length", "256", 256),
                IndexEntry("Cryptographic Usage Mask", "mask", 12),
                IndexEntry("Cryptographic Usage Mask", "bit:4"),
                IndexEntry("Initial Date", "1000", 1000),
            ],
        ),
        record(
            "gone",
            created=2000,
            state=5,
            index=[
                IndexEntry(NAME, "free"),
                IndexEntry("Object Group", "g"),
                IndexEntry(asi, "AB02"),
                IndexEntry("Cryptographic Length", "128", 128),
                IndexEntry("Initial Date", "2000", 2000),
            ],
        ),
    ]
    for obj, rec in enumerate(recs, 1):
        # (as every version of the store wrote them: no spaces)
        rows = [[e.name, e.key, e.num, 1] if e.unique else [e.name, e.key, e.num] for e in rec.index]
        con.execute(
            "INSERT INTO objects VALUES (?, ?, 2, 'client-a', ?, ?, 0, ?, NULL, ?)",
            (obj, rec.uid, rec.state, rec.created, rec.attributes, json.dumps(rows, separators=(",", ":"))),
        )
        con.executemany(
            "INSERT INTO attr_index(obj, name, key, num, uniq, bynum) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (obj, e.name, e.key, e.num, 1 if e.unique else None, 1 if e.key == str(e.num) else None)
                for e in rec.index
            ],
        )
        rec.material = None
    con.close()
    s = open_store(f"sqlite:///{path}", protector)
    try:
        for rec in recs:
            assert s.load(rec.uid) == rec
        queries = [
            LocateQuery([Condition(asi, "AB01")]),
            LocateQuery([Condition("Object Group", "g")]),
            LocateQuery([Condition("Object Group", "g"), Condition(asi, "AB02")]),
            # (as the engine builds them: profiles.attrs.condition; migration 5 took these rows
            # out of the lookup tables)
            LocateQuery([condition("Cryptographic Length", "256")]),
            LocateQuery([condition("Cryptographic Length", low=100, high=200)]),
            LocateQuery([Condition("Cryptographic Usage Mask", "bit:4")]),
            LocateQuery([Condition("Cryptographic Usage Mask", low=12)]),
            LocateQuery([Condition("Object Group", "g"), Condition("Initial Date", low=1500)]),
            LocateQuery([Condition(NAME)]),
            LocateQuery([Condition(NAME, "free")]),
        ]
        for q in queries:
            expected = [r.uid for r in sorted(recs, key=lambda r: -r.created) if matches(r, q)]
            assert expected and s.locate(q) == expected, q
        with pytest.raises(NonUniqueKey):
            s.insert(record("new", index=[IndexEntry(NAME, "taken", unique=True)]))
        s.insert(record("new", index=[IndexEntry(NAME, "free", unique=True)]))
        # the moved rows are rewritten like any other: the Name released, taken by another
        s.update(record("live", index=[IndexEntry(NAME, "taken"), IndexEntry("Object Group", "g")]))
        s.insert(record("newer", index=[IndexEntry(NAME, "taken", unique=True)]))
        assert s.locate(LocateQuery([Condition(asi, "AB01")])) == []
        assert set(s.locate(LocateQuery([Condition("Object Group", "g")]))) == {"gone", "live"}
        assert isinstance(s, SQLiteStorage)
        tables = {n for (n,) in s._reader().execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "attr_index" not in tables and {"idx_key", "idx_num", "idx_unique"} <= tables
    finally:
        s.close()


def test_update_attributes_swaps_one_stored_row(store: Storage) -> None:
    """The first Get's Fresh update: the stored rows with one row replaced, nothing else
    rebuilt (rows of older versions stay as stored); no such row: nothing written."""
    rows = [IndexEntry("Fresh", "1", 1), IndexEntry("Name", "n1"), IndexEntry("Lease Time", "3600", 3600)]
    store.insert(record("u1", index=rows))
    rec = store.load("u1")
    assert rec is not None
    fresh, stale = IndexEntry("Fresh", "1", 1), IndexEntry("Fresh", "0", 0)
    assert store.update_attributes("u1", rec.attributes, b"patched", swap=(fresh, stale), durable=False)
    got = store.load("u1")
    assert got is not None and got.attributes == b"patched"
    assert got.index == [stale, IndexEntry("Name", "n1"), IndexEntry("Lease Time", "3600", 3600)]
    assert store.locate(LocateQuery([Condition("Fresh", "0")])) == ["u1"]
    assert store.locate(LocateQuery([Condition("Fresh", "1")])) == []
    assert store.locate(LocateQuery([Condition("Name", "n1")])) == ["u1"]
    # the row is gone now: nothing written, the blob stays
    assert not store.update_attributes("u1", b"patched", b"again", swap=(fresh, stale))
    again = store.load("u1")
    assert again is not None and again.attributes == b"patched"
    with pytest.raises(ValueError):
        store.update_attributes("u1", b"patched", b"x")
    with pytest.raises(ValueError):
        store.update_attributes("u1", b"patched", b"x", [stale], swap=(stale, fresh))


@needs_sqlite
def test_unindexed_rows_stay_out_of_the_lookup_tables(tmp_path: Path, protector: KeyProtector) -> None:
    """Rows written with IndexEntry.indexed False are kept with the object only; Locate finds
    them per candidate (driven by an indexed condition, or by the type/state column index).
    Rows of the same names written before the flag existed (in the tables) are taken out by
    the object's next update."""
    from profiles.store.sqlite import SQLiteStorage, build_locate_sql

    store = open_store(f"sqlite:///{tmp_path / 's.db'}", protector)
    try:
        assert isinstance(store, SQLiteStorage)

        def table_names() -> set[str]:
            con = store._reader()
            return {n for (n,) in con.execute("SELECT name FROM idx_key UNION SELECT name FROM idx_num")}

        fresh = IndexEntry("Fresh", "1", 1, indexed=False)
        store.insert(record("new", index=[IndexEntry("Object Group", "g"), fresh]))
        # as a server before IndexEntry.indexed wrote it: every row in the tables
        store.insert(record("old", index=[IndexEntry("Object Group", "g"), IndexEntry("Fresh", "1", 1)]))
        assert table_names() == {"Object Group", "Fresh"}  # the old object's row only
        assert store.load("new") == record("new", index=[IndexEntry("Object Group", "g"), fresh])
        cond = Condition("Fresh", "1", indexed=False)
        for q in (
            LocateQuery([cond]),
            LocateQuery([cond, Condition("Object Group", "g")]),
            LocateQuery([Condition("Fresh", low=1, indexed=False)], object_types=[SYMMETRIC_KEY]),
        ):
            assert store.locate(q) == ["old", "new"], q
        assert store.locate(LocateQuery([Condition("Fresh", "0", indexed=False)])) == []

        # the old object's next update rewrites its Fresh row as not indexed: out of the tables
        old = store.load("old")
        assert old is not None
        stale = IndexEntry("Fresh", "0", 0, indexed=False)
        store.update_attributes("old", old.attributes, b"x", [IndexEntry("Object Group", "g"), stale])
        assert table_names() == {"Object Group"}
        assert store.locate(LocateQuery([Condition("Fresh", "0", indexed=False)])) == ["old"]
        assert store.locate(LocateQuery([cond])) == ["new"]

        # rows are found by their text ('["Fresh","1",'), never inside another row's text;
        # names or keys that JSON escapes are matched on the parsed rows
        decoy = IndexEntry("x-Note", '["Fresh","1",', indexed=False)
        odd = IndexEntry("Fresh", 'caf\u00e9 "1"\\', indexed=False)
        store.insert(record("decoy", index=[decoy, odd]))
        assert store.locate(LocateQuery([cond])) == ["new"]
        assert store.locate(LocateQuery([Condition("x-Note", decoy.key, indexed=False)])) == ["decoy"]
        assert store.locate(LocateQuery([Condition("Fresh", odd.key, indexed=False)])) == ["decoy"]
        assert store.locate(LocateQuery([Condition("x-Note", indexed=False)])) == ["decoy"]

        # an indexed condition drives; without one, the type / state column index does
        for q in (
            LocateQuery([cond, Condition("Object Group", "g")]),
            LocateQuery([cond], object_types=[SYMMETRIC_KEY], states=[ACTIVE]),
        ):
            sql, params = build_locate_sql(q)
            plan = [row[3] for row in store._reader().execute("EXPLAIN QUERY PLAN " + sql, params)]
            assert any(step.startswith("SEARCH objects") for step in plan), plan
            assert not any(step.startswith("SCAN objects") for step in plan), plan
    finally:
        store.close()


@needs_sqlite
def test_update_attributes_swaps_an_unindexed_row_in_the_rows_text(store: Storage) -> None:
    """The swap edits the stored rows' text: the row itself, never the same text inside
    another row's value, and the first of equal rows, as a swap of the row list would."""
    fresh = IndexEntry("Fresh", "1", 1, indexed=False)
    stale = IndexEntry("Fresh", "0", 0, indexed=False)
    decoy = IndexEntry("x-Note", '["Fresh","1",1,2]', indexed=False)
    store.insert(record("u1", index=[decoy, IndexEntry("Name", "n1"), fresh, fresh]))
    rec = store.load("u1")
    assert rec is not None
    assert store.update_attributes("u1", rec.attributes, b"patched", swap=(fresh, stale), durable=False)
    got = store.load("u1")
    assert got is not None and got.attributes == b"patched"
    assert got.index == [decoy, IndexEntry("Name", "n1"), stale, fresh]
    assert store.locate(LocateQuery([Condition("Fresh", "0", indexed=False)])) == ["u1"]
    assert store.locate(LocateQuery([Condition("Name", "n1")])) == ["u1"]
    assert not store.update_attributes("u1", b"patched", b"x", swap=(IndexEntry("Fresh", "7", 7), stale))


@needs_sqlite
def test_rows_text_is_the_json_of_the_rows() -> None:
    """objects.index_rows is put together from per-row texts kept between objects; it must be
    what json.dumps writes (the Locate probes and the swap read that text)."""
    import json

    from profiles.store.sqlite import _json_row, _rows_text

    rows = [
        IndexEntry("Name/Name Value", 'caf\u00e9 "x"\x1f\\', None, True),
        IndexEntry("Fresh", "1", 1, indexed=False),
        IndexEntry("Initial Date", "17", 17),
        IndexEntry("Cryptographic Usage Mask", "bit:4", None, indexed=False),
    ]
    for n in range(3):  # the rows' texts kept from the first round
        subset = rows[n:] + rows[:n]
        assert _rows_text(subset) == json.dumps([_json_row(e) for e in subset], separators=(",", ":"))
    assert _rows_text([]) == "[]"
