"""TTLV properties (Hypothesis).

* random Item trees round-trip through both codecs, and both encoders emit the same bytes;
* any bytes - random, TTLV-shaped, or mutations of valid encodings (bit flips, byte
  overwrites, insertions, deletions, truncations, length-field rewrites) - either decode to
  the same Item with both decoders or make both raise DecodeError; nothing else escapes.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.spec import ItemType
from agent.ttlv import DecodeError, Item, decode, decode_declared, encode, encode_declared

T = ItemType
EXAMPLES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

tags = st.one_of(
    st.integers(0x420000, 0x42FFFF),
    st.integers(0x540000, 0x54FFFF),
    st.sampled_from([0x420078, 0x42007B, 0x420094, 0x42000F]),
)


def _leaf(item_type: ItemType, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Item]:
    return st.builds(Item, tags, st.just(item_type), values)


leaves = st.one_of(
    _leaf(T.INTEGER, st.integers(-(2**31), 2**31 - 1)),
    _leaf(T.LONG_INTEGER, st.integers(-(2**63), 2**63 - 1)),
    _leaf(T.BIG_INTEGER, st.integers(-(2**200), 2**200)),
    _leaf(T.ENUMERATION, st.integers(0, 2**32 - 1)),
    _leaf(T.BOOLEAN, st.booleans()),
    _leaf(T.TEXT_STRING, st.text(max_size=20)),
    _leaf(T.BYTE_STRING, st.binary(max_size=20)),
    _leaf(T.DATE_TIME, st.integers(-(2**63), 2**63 - 1)),
    _leaf(T.INTERVAL, st.integers(0, 2**32 - 1)),
    _leaf(T.DATE_TIME_EXTENDED, st.integers(-(2**63), 2**63 - 1)),
)

items = st.recursive(
    leaves,
    lambda children: st.builds(Item, tags, st.just(T.STRUCTURE), st.lists(children, max_size=5).map(tuple)),
    max_leaves=25,
)


def strict(item: Item) -> Any:
    """Item as nested plain data, with value types made visible (True != 1 here)."""
    value = tuple(strict(child) for child in item.value) if item.type is T.STRUCTURE else item.value
    return (item.tag, type(item.type).__name__, int(item.type), type(value).__name__, value)


def outcome(decoder: Any, data: bytes) -> Any:
    try:
        return strict(decoder(data))
    except DecodeError as exc:
        assert exc.reason == DecodeError.reason
        return "DecodeError"


def assert_codecs_agree(data: bytes) -> None:
    fast = outcome(decode, data)
    assert fast == outcome(decode_declared, data)
    if fast != "DecodeError":  # whatever decodes re-encodes to bytes that decode the same
        again = encode(decode(data))
        assert outcome(decode, again) == fast


@EXAMPLES
@given(items)
def test_round_trip(item: Item) -> None:
    wire = encode(item)
    assert len(wire) % 8 == 0
    assert encode_declared(item) == wire
    assert strict(decode(wire)) == strict(item)
    assert strict(decode_declared(wire)) == strict(item)


@EXAMPLES
@given(st.binary(max_size=96))
def test_random_bytes(data: bytes) -> None:
    assert_codecs_agree(data)


# TTLV-shaped noise: plausible headers with arbitrary lengths and bodies, so the strictness
# checks beyond the first header are reached.
headers = st.builds(
    lambda prefix, rest, item_type, length: (
        bytes([prefix]) + rest + bytes([item_type]) + length.to_bytes(4, "big")
    ),
    st.sampled_from([0x42, 0x54, 0x00, 0x43]),
    st.binary(min_size=2, max_size=2),
    st.integers(0, 13),
    st.one_of(st.integers(0, 40), st.sampled_from([0xFFFFFFFF, 0x80000000])),
)
chunks = st.one_of(
    headers, st.binary(max_size=12), st.sampled_from([bytes(4), bytes(8), b"\x00\x00\x00\x01"])
)


@EXAMPLES
@given(st.lists(chunks, min_size=1, max_size=8).map(b"".join))
def test_ttlv_shaped_noise(data: bytes) -> None:
    assert_codecs_agree(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(encode(draw(items)))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "length"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=9))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 9))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "length" and len(data) >= 8:
            # rewrite the Length of the item whose header starts at an 8-aligned offset
            header = at - at % 8
            if header + 8 <= len(data):
                data[header + 4 : header + 8] = draw(st.integers(0, 64)).to_bytes(4, "big")
    return bytes(data)


@EXAMPLES
@given(mutated())
def test_mutated_encodings(data: bytes) -> None:
    assert_codecs_agree(data)


@EXAMPLES
@given(items, st.integers(1, 40))
def test_depth_bound_agrees(item: Item, max_depth: int) -> None:
    wire = encode(item)
    fast: Any
    try:
        fast = strict(decode(wire, max_depth=max_depth))
    except DecodeError:
        fast = "DecodeError"
    try:
        declared: Any = strict(decode_declared(wire, max_depth=max_depth))
    except DecodeError:
        declared = "DecodeError"
    assert fast == declared
    try:
        encoded: Any = encode(item, max_depth=max_depth)
    except ValueError:
        encoded = "ValueError"
    assert (encoded == "ValueError") == (fast == "DecodeError")


bad_values = st.one_of(
    st.none(),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.integers(-(2**70), 2**70),
    st.booleans(),
)


@EXAMPLES
@given(tags, st.sampled_from(list(ItemType)), bad_values)
def test_encoders_agree_on_arbitrary_values(tag: int, item_type: ItemType, value: Any) -> None:
    item = Item(tag, item_type, () if item_type is T.STRUCTURE else value)

    def attempt(encoder: Any) -> Any:
        try:
            return encoder(item)
        except (TypeError, ValueError):
            return "misuse"

    assert attempt(encode) == attempt(encode_declared)
