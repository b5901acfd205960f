"""The sans-IO framer: fed whole, byte by byte, with trailing data, several messages at once,
and bad headers refused before their body arrives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.protocol import Framer
from agent.spec import ItemType, ResultReason, Tag
from agent.ttlv import DecodeError, Item, decode, encode

REQUEST = int(Tag.REQUEST_MESSAGE)  # 0x420078
RESPONSE = int(Tag.RESPONSE_MESSAGE)  # 0x42007B


def message(tag: int = REQUEST, text: str = "LIBRARY-LTO") -> bytes:
    return encode(
        Item(
            tag,
            ItemType.STRUCTURE,
            (
                Item(0x420069, ItemType.STRUCTURE, (Item(0x42006A, ItemType.INTEGER, 1),)),
                Item(0x420003, ItemType.TEXT_STRING, text),
            ),
        )
    )


def header(tag: int, item_type: int, length: int) -> bytes:
    return tag.to_bytes(3, "big") + bytes([item_type]) + length.to_bytes(4, "big")


def test_tags_are_the_message_tags() -> None:
    assert (REQUEST, RESPONSE) == (0x420078, 0x42007B)


def test_whole_message() -> None:
    framer = Framer()
    wire = message()
    assert framer.feed(wire) == [wire]
    assert framer.buffered == 0
    assert decode(wire).tag == REQUEST


def test_one_byte_at_a_time() -> None:
    framer = Framer(expect_tags={REQUEST})
    wire = message()
    out: list[bytes] = []
    for i in range(len(wire)):
        got = framer.feed(wire[i : i + 1])
        if i < len(wire) - 1:
            assert got == []
            assert framer.buffered == i + 1
        out.extend(got)
    assert out == [wire]
    assert framer.buffered == 0


def test_trailing_partial_message_stays_buffered() -> None:
    framer = Framer()
    first, second = message(text="first"), message(text="second one")
    assert framer.feed(first + second[:13]) == [first]
    assert framer.buffered == 13
    assert framer.feed(second[13:]) == [second]
    assert framer.buffered == 0


def test_several_messages_in_one_chunk() -> None:
    framer = Framer(expect_tags={RESPONSE})
    wires = [message(RESPONSE, text=str(n) * n) for n in range(1, 6)]
    assert framer.feed(b"".join(wires)) == wires
    assert framer.buffered == 0


def test_empty_feed() -> None:
    framer = Framer()
    assert framer.feed(b"") == []
    assert framer.buffered == 0


def test_chunks_across_message_boundaries() -> None:
    wires = [message(text="x" * n) for n in range(7)]
    stream = b"".join(wires)
    for size in (1, 3, 7, 8, 9, 50):
        framer = Framer()
        out: list[bytes] = []
        for i in range(0, len(stream), size):
            out.extend(framer.feed(stream[i : i + size]))
        assert out == wires


def test_oversize_header_refused_before_the_body() -> None:
    framer = Framer(max_size=1024)
    with pytest.raises(DecodeError) as info:
        framer.feed(header(REQUEST, 1, 1024))  # 8 + 1024 > 1024; no body byte sent
    assert info.value.reason == ResultReason.INVALID_MESSAGE
    assert framer.failed
    assert framer.buffered == 0


def test_max_size_counts_the_header() -> None:
    wire = message()
    assert Framer(max_size=len(wire)).feed(wire) == [wire]
    with pytest.raises(DecodeError):
        Framer(max_size=len(wire) - 8).feed(wire)


def test_huge_length_refused_at_the_header() -> None:
    with pytest.raises(DecodeError):
        Framer().feed(header(REQUEST, 1, 0xFFFFFFF8))


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(header(RESPONSE, 1, 16), id="unexpected tag"),
        pytest.param(header(0x430078, 1, 16), id="bad tag prefix"),
        pytest.param(header(REQUEST, 2, 4), id="not a structure"),
        pytest.param(header(REQUEST, 1, 12), id="length not a multiple of 8"),
    ],
)
def test_bad_header_refused(bad: bytes) -> None:
    framer = Framer(expect_tags={REQUEST})
    with pytest.raises(DecodeError) as info:
        framer.feed(bad)
    assert info.value.reason == ResultReason.INVALID_MESSAGE


def test_bad_header_after_good_message_is_refused_when_it_arrives() -> None:
    framer = Framer(expect_tags={REQUEST})
    wire = message()
    assert framer.feed(wire) == [wire]
    assert framer.feed(header(REQUEST, 1, 16)[:7]) == []
    with pytest.raises(DecodeError):
        framer.feed(b"\x11")  # completes a header whose length is not a multiple of 8


def test_without_expect_tags_any_structure_tag_passes() -> None:
    framer = Framer()
    wire = message(tag=0x540001)
    assert framer.feed(wire) == [wire]


def test_failure_is_sticky() -> None:
    framer = Framer(expect_tags={REQUEST})
    with pytest.raises(DecodeError):
        framer.feed(header(RESPONSE, 1, 16))
    with pytest.raises(DecodeError):
        framer.feed(message())


def test_framer_does_not_validate_the_body() -> None:
    # Framing only splits; a malformed body is the decoder's job (and its DecodeError).
    framer = Framer()
    wire = header(REQUEST, 1, 8) + b"\xff" * 8
    assert framer.feed(wire) == [wire]
    with pytest.raises(DecodeError):
        decode(wire)


def test_max_size_must_hold_a_header() -> None:
    with pytest.raises(ValueError):
        Framer(max_size=7)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(max_size=30), min_size=1, max_size=6),
    st.lists(st.integers(1, 64), min_size=1, max_size=40),
)
def test_any_chunking_yields_the_messages_in_order(texts: list[str], sizes: list[int]) -> None:
    wires = [message(text=text) for text in texts]
    stream = b"".join(wires)
    framer = Framer(expect_tags={REQUEST})
    out: list[bytes] = []
    pos = 0
    for size in sizes:
        out.extend(framer.feed(stream[pos : pos + size]))
        pos += size
    out.extend(framer.feed(stream[pos:]))
    assert out == wires
    assert framer.buffered == 0
