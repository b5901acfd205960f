"""The engine's per-request shortcuts give exactly what the long way gives.

profiles/attrs.py keeps encoded attributes (_ENCODED) and index rows (_ROWS) per value;
profiles/operations/get.py answers a Get without the model round trip for object shapes whose
round trip was seen to change nothing (_SAME). Each one is checked here against the long way:
an empty cache, or the reference encoding.
"""

from __future__ import annotations

import dataclasses

import pytest

from agent.spec import V1_0, V1_2, V1_4, V2_1, ItemType, Operation, Tag, Version
from agent.ttlv import Item, encode, encode_structure
from profiles import attrs as attrs_module
from profiles.attrs import Attr, AttrSet, index_rows
from profiles.operations import get as get_module
from tests.unit.test_engine_helpers import (
    b,
    create_aes,
    e,
    i,
    item,
    make_engine,
    request,
    s,
    send,
    t,
    uid,
)

T = Tag


def _reference_blob(attrs: AttrSet) -> bytes:
    return encode(
        Item(
            T.ATTRIBUTES,
            ItemType.STRUCTURE,
            tuple(
                s(T.ATTRIBUTE, t(T.ATTRIBUTE_NAME, a.name), i(T.ATTRIBUTE_INDEX, a.index), a.value)
                for a in attrs
            ),
        )
    )


def _sample() -> AttrSet:
    name = Item(T.NAME, ItemType.STRUCTURE, [t(T.NAME_VALUE, "k"), e(T.NAME_TYPE, 1)])  # a list: unhashable
    return AttrSet(
        [
            Attr("Fresh", b(T.FRESH, True)),
            Attr("x-count", i(T.ATTRIBUTE_VALUE, 1)),
            Attr("x-flag", b(T.ATTRIBUTE_VALUE, True)),  # equal to the Integer 1 above as a key
            Attr("Name", name),
            Attr("Name", s(T.NAME, t(T.NAME_VALUE, "other"), e(T.NAME_TYPE, 1)), 1),
            Attr("Cryptographic Usage Mask", i(T.CRYPTOGRAPHIC_USAGE_MASK, 0x0C)),
            Attr("x-long", t(T.ATTRIBUTE_VALUE, "v" * 1000)),  # too large to be kept
            Attr("State", e(T.STATE, 1)),
        ]
    )


def test_encode_structure_is_encode_of_the_structure() -> None:
    children = [i(T.BATCH_COUNT, 3), t(T.RESULT_MESSAGE, "abc"), s(T.NAME, t(T.NAME_VALUE, "n"))]
    assert encode_structure(T.ATTRIBUTES, [encode(c) for c in children]) == encode(s(T.ATTRIBUTES, *children))
    assert encode_structure(T.ATTRIBUTES, []) == encode(s(T.ATTRIBUTES))
    with pytest.raises(ValueError):
        encode_structure(0x123456, [])


def test_attribute_blob_is_the_reference_encoding_cached_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attrs_module, "_ENCODED", {})
    attrs = _sample()
    expected = _reference_blob(attrs)
    assert attrs.to_bytes() == expected  # every attribute encoded
    assert attrs.to_bytes() == expected  # the kept ones reused
    swapped = AttrSet([Attr("x-count", b(T.ATTRIBUTE_VALUE, True)), Attr("x-flag", i(T.ATTRIBUTE_VALUE, 1))])
    assert swapped.to_bytes() == _reference_blob(swapped)
    assert not any(len(v) > attrs_module._ENCODED_LARGEST for v in attrs_module._ENCODED.values())


def test_index_rows_are_the_same_cached_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attrs_module, "_ROWS", {})
    attrs = _sample()
    first = index_rows(attrs)
    again = index_rows(attrs)
    assert first == again
    # a new list each time; its entries are shared, which their immutability allows
    assert first is not again
    with pytest.raises(dataclasses.FrozenInstanceError):
        first[0].key = "changed"  # type: ignore[misc]
    assert [r for r in first if r.unique] and all(r.name == "Name/Name Value" for r in first if r.unique)
    # a destroyed object releases its Names: the same cached rows, not unique
    destroyed = AttrSet([*(a for a in attrs if a.name != "State"), Attr("State", e(T.STATE, 5))])
    assert not any(r.unique for r in index_rows(destroyed))
    assert not any(r.unique for r in index_rows(destroyed))
    mask = [r.key for r in first if r.name == "Cryptographic Usage Mask"]
    assert mask == ["mask", "bit:4", "bit:8"]


def test_get_set_and_value_take_the_lowest_index() -> None:
    attrs = AttrSet(
        [Attr("Name", t(T.NAME, "b"), 2), Attr("Name", t(T.NAME, "a"), 1), Attr("Name", t(T.NAME, "c"), 1)]
    )
    assert attrs.value("Name") == "a"
    attrs.set("Name", t(T.NAME, "z"))
    assert [(a.name, a.index, a.value.value) for a in attrs] == [("Name", 0, "z")]
    attrs.set("Fresh", b(T.FRESH, True))
    assert attrs.names() == ["Name", "Fresh"]


@pytest.mark.parametrize("version", [V1_0, V1_2, V1_4, V2_1])
def test_get_answers_the_same_with_and_without_the_model_round_trip(
    version: Version, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_module, "_SAME", {})
    engine = make_engine()
    key = send(engine, request(version, create_aes(version))).items[0].uid
    get = request(version, item(Operation.GET, uid(key)))
    transparent = request(
        version, item(Operation.GET, uid(key), e(T.KEY_FORMAT_TYPE, 7))
    )  # Transparent Symmetric Key
    first = [send(engine, msg).raw for msg in (get, transparent)]  # the model's answers
    assert get_module._SAME and all(get_module._SAME.values())
    again = [send(engine, msg).raw for msg in (get, transparent)]  # the shortcut's
    assert [encode(r) for r in again] == [encode(r) for r in first]
