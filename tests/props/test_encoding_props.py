"""Hypothesis: random Item trees round-trip through the KMIP XML and JSON encodings.

Trees are drawn from the registry: each tag with its own item type (any type where the type
varies), enumeration tags with known and unknown values, masks with known and unknown bits,
extension tags (0x54xxxx) the registry does not know, and 1.x Attributes whose Attribute Value
takes its names from the Attribute Name. Any text given to the readers either parses or raises
ValueError, nothing else.
"""

from __future__ import annotations

import contextlib
import json as stdjson
from enum import IntFlag

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import ttlv
from agent.encodings import Symbol, bind_defaults
from agent.encodings import json as kjson
from agent.encodings import xml as kxml
from agent.spec import TAGS, ItemType, Tag, TagDef
from agent.ttlv import Item

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LEAF_TYPES = [t for t in ItemType if t != ItemType.STRUCTURE]
STRUCTURE_TAGS = [t.code for t in TAGS if t.type == ItemType.STRUCTURE]
LEAF_TAGS = [t for t in TAGS if t.type != ItemType.STRUCTURE]
NAMED_ATTRIBUTES = [
    t for t in TAGS if t.enum is not None and t.type in (ItemType.ENUMERATION, ItemType.INTEGER)
]
EXTENSION_TAGS = st.integers(0x540000, 0x54FFFF)
TYPE_NAMES = ["".join(w.capitalize() for w in t.name.split("_")) for t in ItemType]

# Characters XML 1.0 can carry (§2.2), without lone surrogates (not UTF-8, so not TTLV either).
XML_TEXT = st.text(
    st.characters(
        blacklist_categories=["Cs"],
        blacklist_characters=[chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\ufffe", "\uffff"],
    ),
    max_size=24,
)


def signed(bits: int) -> st.SearchStrategy[int]:
    return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)


def values(item_type: ItemType, tag_def: TagDef | None) -> st.SearchStrategy[object]:
    """Values of one item type; names of the tag's enumeration or mask where it has one."""
    enum = tag_def.enum if tag_def is not None else None
    if item_type == ItemType.INTEGER:
        if enum is not None and issubclass(enum, IntFlag):
            known = st.lists(st.sampled_from([int(m) for m in enum]), max_size=4).map(
                lambda bits: sum(set(bits)) - (1 << 32) * (sum(set(bits)) >> 31)
            )
            return st.one_of(known, signed(32))
        return signed(32)
    if item_type == ItemType.ENUMERATION:
        if enum is not None and len(enum):
            return st.one_of(st.sampled_from([int(m) for m in enum]), st.integers(0, 2**32 - 1))
        return st.integers(0, 2**32 - 1)
    if item_type == ItemType.LONG_INTEGER:
        return signed(64)
    if item_type == ItemType.BIG_INTEGER:
        return st.integers(-(2**300), 2**300)
    if item_type == ItemType.BOOLEAN:
        return st.booleans()
    if item_type == ItemType.TEXT_STRING:
        return XML_TEXT
    if item_type == ItemType.BYTE_STRING:
        return st.binary(max_size=40)
    if item_type in (ItemType.DATE_TIME, ItemType.DATE_TIME_EXTENDED):
        scale = 1_000_000 if item_type == ItemType.DATE_TIME_EXTENDED else 1
        iso_range = st.integers(-62135596800 * scale, 253402300799 * scale)  # years 1-9999
        return st.one_of(iso_range, signed(64))
    return st.integers(0, 2**32 - 1)  # Interval


@st.composite
def registry_leaf(draw: st.DrawFn) -> Item:
    tag_def = draw(st.sampled_from(LEAF_TAGS))
    item_type = tag_def.type if tag_def.type is not None else draw(st.sampled_from(LEAF_TYPES))
    return Item(tag_def.code, item_type, draw(values(item_type, tag_def)))


@st.composite
def extension_leaf(draw: st.DrawFn) -> Item:
    item_type = draw(st.sampled_from(LEAF_TYPES))
    return Item(draw(EXTENSION_TAGS), item_type, draw(values(item_type, None)))


@st.composite
def attribute_1x(draw: st.DrawFn) -> Item:
    """{Attribute Name "State", Attribute Value PreActive}: the value named by its sibling."""
    named = draw(st.sampled_from(NAMED_ATTRIBUTES))
    assert named.type is not None
    value = Item(Tag.ATTRIBUTE_VALUE, named.type, draw(values(named.type, named)))
    name = Item(Tag.ATTRIBUTE_NAME, ItemType.TEXT_STRING, named.name)
    return Item(Tag.ATTRIBUTE, ItemType.STRUCTURE, (name, value))


LEAVES = st.one_of(registry_leaf(), registry_leaf(), extension_leaf(), attribute_1x())


def trees(leaves: st.SearchStrategy[Item] = LEAVES) -> st.SearchStrategy[Item]:
    return st.recursive(
        leaves,
        lambda children: st.builds(
            lambda tag, kids: Item(tag, ItemType.STRUCTURE, tuple(kids)),
            st.one_of(st.sampled_from(STRUCTURE_TAGS), EXTENSION_TAGS),
            st.lists(children, max_size=5),
        ),
        max_leaves=25,
    )


def same(a: Item, b: Item) -> bool:
    """Equal trees, with equal Python types of the leaf values (a bool stays a bool)."""
    if a.tag != b.tag or int(a.type) != int(b.type):
        return False
    if a.type == ItemType.STRUCTURE:
        return len(a.value) == len(b.value) and all(same(x, y) for x, y in zip(a.value, b.value))
    return type(a.value) is type(b.value) and a.value == b.value


@SETTINGS
@given(trees())
def test_xml_round_trip(item: Item) -> None:
    for indent in (2, None):
        (back,) = kxml.loads(kxml.dumps(item, indent=indent))
        assert same(item, back)


@SETTINGS
@given(trees())
def test_json_round_trip(item: Item) -> None:
    for indent in (None, 1):
        assert same(item, kjson.loads(kjson.dumps(item, indent=indent)))


@SETTINGS
@given(trees())
def test_xml_and_json_agree_with_ttlv(item: Item) -> None:
    # The text encodings carry exactly what TTLV carries.
    decoded = ttlv.decode(ttlv.encode(item))
    assert same(decoded, kxml.loads(kxml.dumps(decoded))[0])
    assert same(decoded, kjson.loads(kjson.dumps(decoded)))


SYMBOLS = st.from_regex(r"\$[A-Z][A-Z0-9_]{0,12}([+-][0-9]{1,5})?", fullmatch=True).map(Symbol)


@st.composite
def symbol_leaf(draw: st.DrawFn) -> Item:
    item_type = draw(st.sampled_from(LEAF_TYPES))
    return Item(draw(EXTENSION_TAGS), item_type, draw(SYMBOLS))


@SETTINGS
@given(trees(st.one_of(LEAVES, symbol_leaf())))
def test_symbols_round_trip_and_bind_to_encodable_values(item: Item) -> None:
    assert same(item, kxml.loads(kxml.dumps(item), symbols=True)[0])
    assert same(item, kjson.loads(kjson.dumps(item), symbols=True))
    bound = bind_defaults(item, 1_700_000_000)
    assert same(bound, ttlv.decode(ttlv.encode(bound)))


@SETTINGS
@given(st.text(max_size=200))
def test_xml_reader_raises_only_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        kxml.loads(text)


@SETTINGS
@given(st.text(max_size=200))
def test_json_reader_raises_only_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        kjson.loads(text)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {"tag": st.one_of(st.sampled_from(["BatchCount", "Attributes", "0x540001"]), st.text(max_size=8))},
        optional={"type": st.one_of(st.sampled_from(TYPE_NAMES), st.text()), "value": JSON_VALUES},
    )
)
def test_json_reader_on_odd_objects_raises_only_value_error(obj: dict[str, object]) -> None:
    with contextlib.suppress(ValueError):
        kjson.loads(stdjson.dumps(obj))


@SETTINGS
@given(trees(), st.data())
def test_readers_on_damaged_documents_raise_only_value_error(item: Item, data: st.DataObject) -> None:
    # Near-valid input reaches deeper than random text: cut, duplicate or replace one character.
    for text, reader in ((kxml.dumps(item), kxml.loads), (kjson.dumps(item), kjson.loads)):
        at = data.draw(st.integers(0, len(text)))
        kind = data.draw(st.sampled_from(["cut", "dup", "replace"]))
        if kind == "cut":
            damaged = text[:at] + text[at + 1 :]
        elif kind == "dup":
            damaged = text[:at] + text[at:][:1] * 2 + text[at + 1 :]
        else:
            damaged = text[:at] + data.draw(st.sampled_from(list('<>"/=x0 $|{}[],:g'))) + text[at + 1 :]
        with contextlib.suppress(ValueError):
            reader(damaged)
