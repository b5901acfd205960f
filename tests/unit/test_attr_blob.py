"""Reading a stored attributes blob without decoding it whole (profiles/attrs.py): the walk of
its top-level item boundaries, the per-Attribute decoding cache, the lazy AttrSet a Get opens
and the Fresh patch must all give exactly what decoding the whole blob gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.spec import ItemType, Tag
from agent.ttlv import DecodeError, Item, decode, encode
from profiles import attrs as attrs_module
from profiles.attrs import Attr, AttrSet, decode_attributes, replaced_value

B, T, INT, BS = ItemType.BOOLEAN, ItemType.TEXT_STRING, ItemType.INTEGER, ItemType.BYTE_STRING
TRUE, FALSE = Item(Tag.FRESH, B, True), Item(Tag.FRESH, B, False)


def whole(data: bytes) -> tuple[Attr, ...]:
    """The reference: the whole blob decoded at once."""
    return tuple(Attr(str(n.value), v, int(i.value)) for n, i, v in (a.value for a in decode(data).value))


def blob(*attrs: Attr) -> bytes:
    attrs_module._DECODED.clear()
    data = AttrSet(list(attrs)).to_bytes()
    attrs_module._DECODED.clear()  # to_bytes keeps its own decoding: read the bytes here
    return data


def forged_entry(name: str, value: Item) -> bytes:
    """The bytes of an Attribute{name, 0, value}: what a byte search would find."""
    return encode(
        Item(
            Tag.ATTRIBUTE,
            ItemType.STRUCTURE,
            (Item(Tag.ATTRIBUTE_NAME, T, name), Item(Tag.ATTRIBUTE_INDEX, INT, 0), value),
        )
    )


def test_a_custom_text_cannot_forge_an_attribute() -> None:
    forged = forged_entry("Fresh", TRUE) + forged_entry("Sensitive", Item(Tag.SENSITIVE, B, True))
    data = blob(
        Attr("x-note", Item(Tag.ATTRIBUTE_VALUE, BS, forged)),
        Attr("x-text", Item(Tag.ATTRIBUTE_VALUE, T, forged.decode("latin-1"))),
        Attr("Sensitive", Item(Tag.SENSITIVE, B, False)),
        Attr("Fresh", TRUE),
        Attr("x-after", Item(Tag.ATTRIBUTE_VALUE, BS, forged)),
    )
    lazy = AttrSet.from_bytes(data)
    assert lazy.value("Sensitive") is False
    assert lazy.value("Fresh") is True
    assert lazy.value("Extractable") is None
    assert decode_attributes(data) == whole(data)
    patched = replaced_value(data, "Fresh", TRUE, FALSE, opened=lazy)
    assert patched is not None
    attrs_module._DECODED.clear()
    assert whole(patched) == tuple(
        Attr(a.name, FALSE, a.index) if a.name == "Fresh" else a for a in whole(data)
    )
    assert AttrSet.from_bytes(patched).value("Fresh") is False


def test_fresh_patch_needs_one_instance_of_the_old_value() -> None:
    assert replaced_value(blob(Attr("Fresh", FALSE)), "Fresh", TRUE, FALSE) is None
    two = blob(Attr("Fresh", TRUE), Attr("Fresh", TRUE, 1))
    assert replaced_value(two, "Fresh", TRUE, FALSE) is None
    assert replaced_value(b"not ttlv", "Fresh", TRUE, FALSE) is None


def test_a_malformed_blob_fails_as_the_whole_decode_does() -> None:
    data = bytearray(blob(Attr("Fresh", TRUE), Attr("x-n", Item(Tag.ATTRIBUTE_VALUE, INT, 1))))
    data[-1] = 1  # non-zero padding in the last attribute's value
    with pytest.raises(DecodeError):
        decode_attributes(bytes(data))
    lazy = AttrSet.from_bytes(bytes(data))
    assert lazy.value("Fresh") is True  # only what is asked for is read
    with pytest.raises(DecodeError):
        lazy.value("x-n")
    with pytest.raises(DecodeError):
        AttrSet.from_bytes(b"\x42\x00\x00\x01").items  # noqa: B018


_names = st.sampled_from(["Fresh", "Sensitive", "x-a", "x-\u00e9t\u00e9", "Name", "Activation Date"])
_values = st.one_of(
    st.booleans().map(lambda v: Item(Tag.ATTRIBUTE_VALUE, B, v)),
    st.integers(-(2**31), 2**31 - 1).map(lambda v: Item(Tag.ATTRIBUTE_VALUE, INT, v)),
    st.text(max_size=40).map(lambda v: Item(Tag.ATTRIBUTE_VALUE, T, v)),
    st.tuples(_names, st.sampled_from([TRUE, FALSE])).map(
        lambda nv: Item(Tag.ATTRIBUTE_VALUE, BS, forged_entry(*nv))
    ),
)
_attrs = st.lists(st.builds(Attr, _names, _values, st.integers(0, 3)), max_size=12)


@settings(max_examples=200, deadline=None)
@given(_attrs)
def test_lazy_reads_equal_the_whole_decode(attrs: list[Attr]) -> None:
    data = blob(*attrs)
    ref = AttrSet(list(whole(data)))
    assert decode_attributes(data) == tuple(ref.items)
    lazy = AttrSet.from_bytes(data)
    for name in ("Fresh", "Sensitive", "x-a", "x-\u00e9t\u00e9", "Name", "Activation Date", "absent"):
        got, want = lazy.get(name), ref.get(name)
        assert got == want
        assert got is None or want is None or type(got.value.value) is type(want.value.value)
    assert lazy.items == ref.items
    assert lazy == ref
