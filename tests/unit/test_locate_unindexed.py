"""Attributes most objects share (flags, masks, the server's fixed choices) stay out of the
store's lookup indexes (profiles.attrs._UNINDEXED): Locate checks them per candidate. The
answers are the memory store's (the reference semantics), and the engine flags its Conditions
the way it flags the rows (profiles.attrs.condition)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from agent.spec import ObjectGroupMember, Operation, Tag, Version
from agent.ttlv import Item
from profiles.attrs import _UNINDEXED, indexed
from profiles.engine import Engine, EngineConfig
from profiles.keyprotect import KeyProtector
from profiles.store import open_store
from profiles.store.sqlite import SQLiteStorage
from tests.unit.test_engine_helpers import attr, attributes, e, i, item, name, request, send, uid

REPO = Path(__file__).resolve().parents[2]
T = Tag
OP = Operation


def test_the_engine_makes_conditions_only_through_attrs_condition() -> None:
    """A Condition built directly would say its rows are indexed: for a name in _UNINDEXED the
    SQLite store would then look it up in tables that do not hold it and find nothing."""
    allowed = {REPO / "profiles" / "attrs.py", *(REPO / "profiles" / "store").rglob("*.py")}
    calls = []
    for path in sorted((REPO / "profiles").rglob("*.py")):
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if called == "Condition":
                    calls.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not calls, calls


def test_indexed_names() -> None:
    assert not indexed("Fresh") and not indexed("Digest/Hashing Algorithm")
    assert not indexed("Cryptographic Usage Mask") and not indexed("Random Number Generator/RNG Algorithm")
    for looked_up in ("Name/Name Value", "Application Specific Information", "Object Group", "x-Fresh"):
        assert indexed(looked_up)


def _create(version: Version, key_name: str, mask: int) -> Item:
    attrs = attributes(
        version,
        attr(version, "Cryptographic Algorithm", e(T.CRYPTOGRAPHIC_ALGORITHM, 3)),
        attr(version, "Cryptographic Length", i(T.CRYPTOGRAPHIC_LENGTH, 256)),
        attr(version, "Cryptographic Usage Mask", i(T.CRYPTOGRAPHIC_USAGE_MASK, mask)),
        attr(version, "Name", name(key_name)),
    )
    return item(OP.CREATE, e(T.OBJECT_TYPE, 2), attrs)


def _locate(engine: Engine, version: Version, *filters: Item) -> list[str]:
    payload = (
        [attributes(version, *[f for f in filters if f.tag != T.OBJECT_GROUP_MEMBER])]
        if version.major >= 2
        else [f for f in filters if f.tag != T.OBJECT_GROUP_MEMBER]
    )
    payload += [f for f in filters if f.tag == T.OBJECT_GROUP_MEMBER]
    got = send(engine, request(version, item(OP.LOCATE, *payload)))
    assert got.items[0].ok, got.items[0]
    return sorted(str(x.value) for x in got.items[0].all(T.UNIQUE_IDENTIFIER))


@pytest.mark.parametrize("version", [Version(1, 4), Version(2, 1)], ids=str)
def test_locate_by_unindexed_attributes_agrees_with_the_memory_store(
    tmp_path: Path, version: Version
) -> None:
    protector = KeyProtector(os.urandom(32))
    answers = {}
    for backend in ("memory", "sqlite"):
        store = open_store("memory:" if backend == "memory" else f"sqlite:///{tmp_path / 'k.db'}", protector)
        engine = Engine(EngineConfig(), store)
        try:
            keys = {}
            for key_name, mask in (("enc", 0x04), ("both", 0x0C), ("dec", 0x08)):
                got = send(engine, request(version, _create(version, key_name, mask)))
                assert got.items[0].ok
                keys[key_name] = got.items[0].uid
            assert (
                send(engine, request(version, item(OP.GET, uid(keys["both"])))).items[0].ok
            )  # not Fresh now

            def mask(value: int) -> Item:
                return attr(version, "Cryptographic Usage Mask", i(T.CRYPTOGRAPHIC_USAGE_MASK, value))

            fresh = e(T.OBJECT_GROUP_MEMBER, ObjectGroupMember.GROUP_MEMBER_FRESH)
            found = {
                "encrypt": _locate(engine, version, mask(0x04)),
                "decrypt": _locate(engine, version, mask(0x08)),
                "both": _locate(engine, version, mask(0x0C)),
                "fresh": _locate(engine, version, fresh),
                "fresh+decrypt": _locate(engine, version, fresh, mask(0x08)),
                "named+encrypt": _locate(engine, version, attr(version, "Name", name("both")), mask(0x04)),
                "named+decrypt(none)": _locate(
                    engine, version, attr(version, "Name", name("enc")), mask(0x08)
                ),
            }
            named = {u: n for n, u in keys.items()}
            answers[backend] = {q: sorted(named[u] for u in uids) for q, uids in found.items()}
            expected = {
                "encrypt": sorted([keys["enc"], keys["both"]]),
                "decrypt": sorted([keys["both"], keys["dec"]]),
                "both": [keys["both"]],
                "fresh": sorted([keys["enc"], keys["dec"]]),
                "fresh+decrypt": [keys["dec"]],
                "named+encrypt": [keys["both"]],
                "named+decrypt(none)": [],
            }
            assert found == expected
            if isinstance(store, SQLiteStorage):
                con = store._reader()
                stored = {
                    n for (n,) in con.execute("SELECT name FROM idx_key UNION SELECT name FROM idx_num")
                }
                assert stored and not {n for n in stored if not indexed(n)}, stored
                assert {n.split("/")[0] for n in stored}.isdisjoint(_UNINDEXED)
        finally:
            store.close()
    assert answers["memory"] == answers["sqlite"]


@pytest.mark.parametrize("version", [Version(1, 4), Version(2, 1)], ids=str)
def test_locate_by_uid_initial_date_algorithm_and_length_agrees_with_the_memory_store(
    tmp_path: Path, version: Version
) -> None:
    """Unique Identifier and Initial Date are filtered on objects.uid / objects.created and
    Cryptographic Algorithm / Length on each candidate's rows (migration 5): a Create writes
    no lookup row for any of them, and Locate answers as the memory store does."""
    from tests.unit.test_engine_helpers import Clock, dt

    protector = KeyProtector(os.urandom(32))
    answers = {}
    for backend in ("memory", "sqlite"):
        store = open_store("memory:" if backend == "memory" else f"sqlite:///{tmp_path / 'k.db'}", protector)
        clock = Clock(1_800_000_000.0)
        engine = Engine(EngineConfig(), store, clock=clock)
        try:
            keys = {}
            for key_name, alg, length in (("a128", 3, 128), ("a256", 3, 256), ("t168", 2, 168)):
                attrs = attributes(
                    version,
                    attr(version, "Cryptographic Algorithm", e(T.CRYPTOGRAPHIC_ALGORITHM, alg)),
                    attr(version, "Cryptographic Length", i(T.CRYPTOGRAPHIC_LENGTH, length)),
                    attr(version, "Cryptographic Usage Mask", i(T.CRYPTOGRAPHIC_USAGE_MASK, 12)),
                    attr(version, "Name", name(key_name)),
                )
                got = send(engine, request(version, item(OP.CREATE, e(T.OBJECT_TYPE, 2), attrs)))
                assert got.items[0].ok, got.items[0]
                keys[key_name] = got.items[0].uid
                clock.now += 100

            def initial(at: int) -> Item:
                return attr(version, "Initial Date", dt(T.INITIAL_DATE, at))

            t0 = 1_800_000_000
            found = {
                "uid": _locate(engine, version, attr(version, "Unique Identifier", uid(keys["a256"]))),
                "uid+name": _locate(
                    engine,
                    version,
                    attr(version, "Unique Identifier", uid(keys["a256"])),
                    attr(version, "Name", name("a128")),
                ),
                "uid(unknown)": _locate(
                    engine, version, attr(version, "Unique Identifier", uid("no-such-id"))
                ),
                "aes": _locate(
                    engine, version, attr(version, "Cryptographic Algorithm", e(T.CRYPTOGRAPHIC_ALGORITHM, 3))
                ),
                "256": _locate(
                    engine, version, attr(version, "Cryptographic Length", i(T.CRYPTOGRAPHIC_LENGTH, 256))
                ),
                "aes+128": _locate(
                    engine,
                    version,
                    attr(version, "Cryptographic Algorithm", e(T.CRYPTOGRAPHIC_ALGORITHM, 3)),
                    attr(version, "Cryptographic Length", i(T.CRYPTOGRAPHIC_LENGTH, 128)),
                ),
                "created from t0+50": _locate(engine, version, initial(t0 + 50), initial(t0 + 10_000)),
                "created up to t0+150": _locate(engine, version, initial(t0 - 10), initial(t0 + 150)),
                "created in between": _locate(engine, version, initial(t0 + 1), initial(t0 + 99)),
                "created at t0+100 (range)": _locate(engine, version, initial(t0 + 100), initial(t0 + 100)),
                "created at t0+200": _locate(engine, version, initial(t0 + 200)),
                "created +name": _locate(
                    engine, version, initial(t0 + 50), initial(t0 + 250), attr(version, "Name", name("t168"))
                ),
            }
            named = {u: n for n, u in keys.items()}
            answers[backend] = {q: sorted(named[u] for u in uids) for q, uids in found.items()}
            if isinstance(store, SQLiteStorage):
                con = store._reader()
                stored = {
                    n for (n,) in con.execute("SELECT name FROM idx_key UNION SELECT name FROM idx_num")
                }
                gone = {
                    "Unique Identifier",
                    "Initial Date",
                    "Cryptographic Algorithm",
                    "Cryptographic Length",
                }
                assert stored and stored.isdisjoint(gone), stored
        finally:
            store.close()
    assert answers["memory"] == answers["sqlite"]
    assert answers["sqlite"] == {
        "uid": ["a256"],
        "uid+name": [],
        "uid(unknown)": [],
        "aes": ["a128", "a256"],
        "256": ["a256"],
        "aes+128": ["a128"],
        "created from t0+50": ["a256", "t168"],
        "created up to t0+150": ["a128", "a256"],
        "created in between": [],
        "created at t0+100 (range)": ["a256"],
        "created at t0+200": ["t168"],
        "created +name": ["t168"],
    }


def test_migration_5_drops_the_lookup_rows_that_columns_and_probes_replace(tmp_path: Path) -> None:
    """A database written before migration 5 keeps answering: its rows of those names leave
    the lookup tables, and Locate finds the objects through the columns and the probes."""
    import sqlite3

    from profiles.store.sqlite import MIGRATIONS

    path = tmp_path / "k.db"
    protector = KeyProtector(os.urandom(32))
    store = SQLiteStorage(path, protector)
    engine = Engine(EngineConfig(), store)
    version = Version(1, 4)
    made = send(engine, request(version, _create(version, "old", 0x0C))).items[0].uid
    con = store._writer
    obj = con.execute("SELECT id FROM objects WHERE uid = ?", (made,)).fetchone()[0]
    # as the rows were before: in the tables too
    con.execute("INSERT INTO idx_key VALUES ('Unique Identifier', ?, ?)", (made, obj))
    con.execute("INSERT INTO idx_num VALUES ('Cryptographic Length', 256, ?, 0)", (obj,))
    con.execute("INSERT INTO idx_num VALUES ('Initial Date', 5, ?, 0)", (obj,))
    con.execute("DELETE FROM schema_migrations WHERE version = 5")
    store.close()
    assert MIGRATIONS[-1].version == 5
    store = SQLiteStorage(path, protector)
    try:
        raw = sqlite3.connect(path)
        left = raw.execute(
            "SELECT count(*) FROM idx_key WHERE name = 'Unique Identifier' UNION ALL "
            "SELECT count(*) FROM idx_num WHERE name IN ('Cryptographic Length', 'Initial Date')"
        ).fetchall()
        raw.close()
        assert left == [(0,), (0,)]
        engine = Engine(EngineConfig(), store)
        by_uid = _locate(engine, version, attr(version, "Unique Identifier", uid(made)))
        by_length = _locate(
            engine, version, attr(version, "Cryptographic Length", i(T.CRYPTOGRAPHIC_LENGTH, 256))
        )
        assert by_uid == [made] and by_length == [made]
    finally:
        store.close()
