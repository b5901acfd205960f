"""A key's first Get clears Fresh (SPEC-1.4 §3.34) with a cheap exact update
(Storage.update_attributes): the blob's Fresh bytes patched, its one index row swapped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.spec import ObjectGroupMember, Operation, Tag, Version
from profiles.attrs import AttrSet, condition, decode_attributes, index_rows
from profiles.engine import Engine, EngineConfig
from profiles.keyprotect import KeyProtector
from profiles.store import LocateQuery, open_store
from tests.unit.test_engine_helpers import create_aes, e, item, request, send, uid

V1_4 = Version(1, 4)
T = Tag
OP = Operation


@pytest.fixture
def db(tmp_path: Path) -> tuple[str, KeyProtector]:
    return f"sqlite:///{tmp_path / 'k.db'}", KeyProtector(os.urandom(32))


def fresh_reported(engine: Engine, key: str) -> bool:
    got = send(engine, request(V1_4, item(OP.GET_ATTRIBUTES, uid(key))))
    assert got.items[0].ok
    for a in got.items[0].all(T.ATTRIBUTE):
        fields = {c.tag: c for c in a.value}
        if fields[T.ATTRIBUTE_NAME].value == "Fresh":
            return bool(fields[T.ATTRIBUTE_VALUE].value)
    raise AssertionError("no Fresh attribute")


@pytest.mark.parametrize("url", ["memory:", "sqlite"])
def test_get_attributes_right_after_a_first_get_reports_fresh_false(
    url: str, db: tuple[str, KeyProtector]
) -> None:
    store = open_store("memory:") if url == "memory:" else open_store(*db)
    engine = Engine(EngineConfig(), store)
    try:
        key = send(engine, request(V1_4, create_aes(V1_4, "k"))).items[0].uid
        other = send(engine, request(V1_4, create_aes(V1_4, "other"))).items[0].uid
        assert fresh_reported(engine, key) is True
        assert send(engine, request(V1_4, item(OP.GET, uid(key)))).items[0].ok
        assert fresh_reported(engine, key) is False
        assert fresh_reported(engine, other) is True
        member = e(T.OBJECT_GROUP_MEMBER, ObjectGroupMember.GROUP_MEMBER_FRESH)
        found = send(engine, request(V1_4, item(OP.LOCATE, member)))
        assert [str(x.value) for x in found.items[0].all(T.UNIQUE_IDENTIFIER)] == [other]
    finally:
        store.close()


def test_the_fresh_update_reaches_the_database(db: tuple[str, KeyProtector]) -> None:
    url, protector = db
    store = open_store(url, protector)
    engine = Engine(EngineConfig(), store)
    keys = [send(engine, request(V1_4, create_aes(V1_4, f"k{n}"))).items[0].uid for n in range(8)]
    before = {k: store.load(k) for k in keys}
    for key in keys[:5]:
        assert send(engine, request(V1_4, item(OP.GET, uid(key)))).items[0].ok
    store.close()
    again = open_store(url, protector)
    try:
        assert sorted(again.locate(LocateQuery([condition("Fresh", "0")]))) == sorted(keys[:5])
        assert sorted(again.locate(LocateQuery([condition("Fresh", "1")]))) == sorted(keys[5:])
        for key in keys:
            rec, old = again.load(key), before[key]
            assert rec is not None and old is not None
            attrs = decode_attributes(rec.attributes)
            assert AttrSet(list(attrs)).value("Fresh") is (key not in keys[:5])
            # the patched blob: its cached decoding is the real one; only Fresh changed
            assert AttrSet.from_bytes(rec.attributes).items == list(attrs)
            assert [a for a in attrs if a.name != "Fresh"] == [
                a for a in decode_attributes(old.attributes) if a.name != "Fresh"
            ]
            assert sorted(map(repr, rec.index)) == sorted(map(repr, index_rows(attrs)))
            assert rec.material == old.material and rec.state == old.state
    finally:
        again.close()


def test_a_changed_blob_is_not_overwritten(db: tuple[str, KeyProtector]) -> None:
    """update_attributes is a compare-and-set: a blob changed since the read wins."""
    store = open_store(*db)
    engine = Engine(EngineConfig(), store)
    try:
        key = send(engine, request(V1_4, create_aes(V1_4, "k"))).items[0].uid
        rec = store.load(key)
        assert rec is not None
        assert not store.update_attributes(key, rec.attributes + b"x", b"", [], durable=False)
        assert store.update_attributes(key, rec.attributes, rec.attributes, rec.index, durable=False)
        assert not store.update_attributes("no-such", rec.attributes, b"", [])
        assert fresh_reported(engine, key) is True
    finally:
        store.close()
