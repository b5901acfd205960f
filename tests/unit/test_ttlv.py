"""TTLV codec: the spec's worked examples both ways, every strictness rule, encoder misuse.

Every decoding test runs against both codecs: the construct interpreter over the declared
grammar and the fast walker derived from it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agent.errors import KmipError
from agent.spec import ItemType, ResultReason
from agent.ttlv import (
    DEPTH_CEILING,
    MAX_DEPTH,
    MAX_SIZE,
    DecodeError,
    Item,
    decode,
    decode_declared,
    encode,
    encode_declared,
)

T = ItemType
Decoder = Callable[..., Item]
Encoder = Callable[..., bytes]

DECODERS = [pytest.param(decode, id="fast"), pytest.param(decode_declared, id="declared")]
ENCODERS = [pytest.param(encode, id="fast"), pytest.param(encode_declared, id="declared")]


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace("|", " "))


# KMIP 1.4 section 9.1.2 (identical in 1.0), via kmip-digest section 1.1: tag 0x420020.
SPEC_EXAMPLES = [
    ("integer 8", Item(0x420020, T.INTEGER, 8), "42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00"),
    (
        "long integer",
        Item(0x420020, T.LONG_INTEGER, 123456789000000000),
        "42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00",
    ),
    (
        "big integer",
        Item(0x420020, T.BIG_INTEGER, 1234567890000000000000000000),
        "42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00",
    ),
    (
        "enumeration 255",
        Item(0x420020, T.ENUMERATION, 255),
        "42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 00 00",
    ),
    (
        "boolean true",
        Item(0x420020, T.BOOLEAN, True),
        "42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01",
    ),
    (
        "text string",
        Item(0x420020, T.TEXT_STRING, "Hello World"),
        "42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00",
    ),
    (
        "byte string",
        Item(0x420020, T.BYTE_STRING, b"\x01\x02\x03"),
        "42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00",
    ),
    (
        "date-time 2008-03-14T11:56:40Z",
        Item(0x420020, T.DATE_TIME, 1205495800),
        "42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8",
    ),
    (
        "interval 10 days",
        Item(0x420020, T.INTERVAL, 864000),
        "42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00",
    ),
    (
        "structure",
        Item(0x420020, T.STRUCTURE, (Item(0x420004, T.ENUMERATION, 254), Item(0x420005, T.INTEGER, 255))),
        "42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 |"
        " 42 00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00",
    ),
    # kmip-digest section 1.1 "computed with the rules above"
    (
        "application namespace",
        Item(0x420003, T.TEXT_STRING, "LIBRARY-LTO"),
        "42 00 03 07 00 00 00 0B 4C 49 42 52 41 52 59 2D 4C 54 4F 00 00 00 00 00",
    ),
    (
        "protocol version 1.2",
        Item(0x420069, T.STRUCTURE, (Item(0x42006A, T.INTEGER, 1), Item(0x42006B, T.INTEGER, 2))),
        "42 00 69 01 00 00 00 20 42 00 6A 02 00 00 00 04 00 00 00 01 00 00 00 00"
        " 42 00 6B 02 00 00 00 04 00 00 00 02 00 00 00 00",
    ),
    (
        "batch order option",
        Item(0x420010, T.BOOLEAN, True),
        "42 00 10 06 00 00 00 08 00 00 00 00 00 00 00 01",
    ),
    ("operation locate", Item(0x42005C, T.ENUMERATION, 8), "42 00 5C 05 00 00 00 04 00 00 00 08 00 00 00 00"),
    (
        "unique batch item id",
        Item(0x420093, T.BYTE_STRING, b"\x01"),
        "42 00 93 08 00 00 00 01 01 00 00 00 00 00 00 00",
    ),
    ("usage mask", Item(0x42002C, T.INTEGER, 0x0C), "42 00 2C 02 00 00 00 04 00 00 00 0C 00 00 00 00"),
    # our own: KMIP 2.1 section 10.1.4, Date Time Extended, microseconds
    (
        "date-time extended",
        Item(0x420020, T.DATE_TIME_EXTENDED, 1205495800_123456),
        "42 00 20 | 0B | 00 00 00 08 | 00 04 48 64 5C F1 D0 40",
    ),
    (
        "extension tag",
        Item(0x540001, T.BOOLEAN, False),
        "54 00 01 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 00",
    ),
    ("empty structure", Item(0x420020, T.STRUCTURE, ()), "42 00 20 | 01 | 00 00 00 00"),
    ("empty text", Item(0x420020, T.TEXT_STRING, ""), "42 00 20 | 07 | 00 00 00 00"),
    (
        "eight-byte text, no padding",
        Item(0x420020, T.TEXT_STRING, "ABCDEFGH"),
        "42 00 20 | 07 | 00 00 00 08 | 41 42 43 44 45 46 47 48",
    ),
    (
        "negative integer",
        Item(0x420020, T.INTEGER, -2),
        "42 00 20 | 02 | 00 00 00 04 | FF FF FF FE 00 00 00 00",
    ),
    (
        "big integer -1",
        Item(0x420020, T.BIG_INTEGER, -1),
        "42 00 20 | 04 | 00 00 00 08 | FF FF FF FF FF FF FF FF",
    ),
    (
        "big integer 0",
        Item(0x420020, T.BIG_INTEGER, 0),
        "42 00 20 | 04 | 00 00 00 08 | 00 00 00 00 00 00 00 00",
    ),
    (
        "big integer 2**63 needs a sign byte",
        Item(0x420020, T.BIG_INTEGER, 2**63),
        "42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 00 00 00 00 80 00 00 00 00 00 00 00",
    ),
    (
        "big integer -2**63 fits 8 bytes",
        Item(0x420020, T.BIG_INTEGER, -(2**63)),
        "42 00 20 | 04 | 00 00 00 08 | 80 00 00 00 00 00 00 00",
    ),
    (
        "enumeration extension value",
        Item(0x420020, T.ENUMERATION, 0x80000001),
        "42 00 20 | 05 | 00 00 00 04 | 80 00 00 01 00 00 00 00",
    ),
    (
        "negative date-time",
        Item(0x420020, T.DATE_TIME, -1),
        "42 00 20 | 09 | 00 00 00 08 | FF FF FF FF FF FF FF FF",
    ),
    (
        "utf-8 text",
        Item(0x420020, T.TEXT_STRING, "é"),
        "42 00 20 | 07 | 00 00 00 02 | C3 A9 00 00 00 00 00 00",
    ),
]


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize(("item", "wire"), [pytest.param(i, w, id=n) for n, i, w in SPEC_EXAMPLES])
def test_decode_worked_example(decoder: Decoder, item: Item, wire: str) -> None:
    decoded = decoder(h(wire))
    assert decoded == item
    assert type(decoded.value) is type(item.value)
    assert decoded.type is item.type


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize(("item", "wire"), [pytest.param(i, w, id=n) for n, i, w in SPEC_EXAMPLES])
def test_encode_worked_example(encoder: Encoder, item: Item, wire: str) -> None:
    assert encoder(item) == h(wire)


def test_digest_attribute_example_is_152_bytes() -> None:
    # kmip-digest section 1.1: a 1.x Attribute carrying Application Specific Information.
    kad = "0123456789ABCDEF" * 4
    attribute = Item(
        0x420008,
        T.STRUCTURE,
        (
            Item(0x42000A, T.TEXT_STRING, "Application Specific Information"),
            Item(
                0x42000B,
                T.STRUCTURE,
                (Item(0x420003, T.TEXT_STRING, "LIBRARY-LTO"), Item(0x420002, T.TEXT_STRING, kad)),
            ),
        ),
    )
    wire = encode(attribute)
    assert len(wire) == 152
    assert wire[:8] == h("42 00 08 01 00 00 00 90")
    assert decode(wire) == decode_declared(wire) == attribute


@pytest.mark.parametrize("decoder", DECODERS)
def test_decode_accepts_bytes_like(decoder: Decoder) -> None:
    wire = h(SPEC_EXAMPLES[0][2])
    assert decoder(bytearray(wire)) == decoder(memoryview(wire)) == SPEC_EXAMPLES[0][1]


@pytest.mark.parametrize("decoder", DECODERS)
def test_decode_of_a_non_bytes_object_is_misuse(decoder: Decoder) -> None:
    for bad in (10**9, "42002002", None):
        with pytest.raises(TypeError):
            decoder(bad)


def test_decode_error_is_invalid_message() -> None:
    err = DecodeError()
    assert isinstance(err, KmipError)
    assert err.reason == ResultReason.INVALID_MESSAGE


CHILD = "42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00"  # an Enumeration, tag 0x420004

# Each case breaks exactly one rule of KMIP 1.4 section 9.1.1.
BAD_WIRE = {
    "empty": "",
    "short header": "42 00 20 02 00 00 00",
    "header only for integer": "42 00 20 | 02 | 00 00 00 04",
    "tag prefix 0x43": "43 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00",
    "tag prefix 0x00": "00 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00",
    "type 0x00": "42 00 20 | 00 | 00 00 00 04 | 00 00 00 08 00 00 00 00",
    "type 0x0C": "42 00 20 | 0C | 00 00 00 04 | 00 00 00 08 00 00 00 00",
    "type 0xFF": "42 00 20 | FF | 00 00 00 00",
    "integer length 8": "42 00 20 | 02 | 00 00 00 08 | 00 00 00 08 00 00 00 00",
    "integer length 0": "42 00 20 | 02 | 00 00 00 00",
    "integer non-zero padding": "42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 01",
    "integer missing padding": "42 00 20 | 02 | 00 00 00 04 | 00 00 00 08",
    "enumeration non-zero padding": "42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 80 00 00 00",
    "interval non-zero padding": "42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 01 00",
    "long integer length 4": "42 00 20 | 03 | 00 00 00 04 | 01 B6 9B 4B 00 00 00 00",
    "boolean 2": "42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 02",
    "boolean high byte": "42 00 20 | 06 | 00 00 00 08 | 01 00 00 00 00 00 00 01",
    "boolean length 4": "42 00 20 | 06 | 00 00 00 04 | 00 00 00 01 00 00 00 00",
    "date-time length 4": "42 00 20 | 09 | 00 00 00 04 | 47 DA 67 F8 00 00 00 00",
    "date-time extended length 16": "42 00 20 | 0B | 00 00 00 10 | " + "00 " * 16,
    "big integer length 0": "42 00 20 | 04 | 00 00 00 00",
    "big integer length 4": "42 00 20 | 04 | 00 00 00 04 | 00 00 00 01 00 00 00 00",
    "big integer length 12": "42 00 20 | 04 | 00 00 00 0C | " + "00 " * 16,
    "text invalid utf-8": "42 00 20 | 07 | 00 00 00 02 | C3 28 00 00 00 00 00 00",
    "text surrogate": "42 00 20 | 07 | 00 00 00 03 | ED A0 80 00 00 00 00 00",
    "text non-zero padding": "42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 20",
    "text missing padding": "42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64",
    "text length beyond buffer": "42 00 20 | 07 | 00 00 01 00 | 48 65 6C 6C 6F 20 57 6F",
    "bytes non-zero padding": "42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 FF",
    "length 0xFFFFFFFF": "42 00 20 | 08 | FF FF FF FF | 01 02 03 00 00 00 00 00",
    "structure length not a multiple of 8": "42 00 20 | 01 | 00 00 00 04 | 00 00 00 00",
    "structure shorter than its child": "42 00 20 | 01 | 00 00 00 08 | " + CHILD,
    "structure longer than its child": "42 00 20 | 01 | 00 00 00 18 | "
    + CHILD
    + " | 00 00 00 00 00 00 00 00",
    "structure length beyond buffer": "42 00 20 | 01 | 00 00 00 20 | " + CHILD,
    "child padding outside structure": "42 00 20 | 01 | 00 00 00 0C | " + CHILD,
    "child with bad tag": "42 00 20 | 01 | 00 00 00 10 | 41" + CHILD[2:],
    "structure with bad tag": "55 00 20 | 01 | 00 00 00 10 | " + CHILD,
    "child with unknown type": "42 00 20 | 01 | 00 00 00 10 | " + CHILD.replace("| 05 |", "| 0D |"),
    "trailing bytes": "42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01 | 00",
    "two items": "42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01 | 42 00 20 | 06 | 00 00 00 08 | "
    "00 00 00 00 00 00 00 01",
    "trailing zero words": "42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01 | 00 00 00 00 00 00 00 00",
}


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("wire", [pytest.param(w, id=n) for n, w in BAD_WIRE.items()])
def test_malformed_input_raises_invalid_message(decoder: Decoder, wire: str) -> None:
    with pytest.raises(DecodeError) as info:
        decoder(h(wire))
    assert info.value.reason == ResultReason.INVALID_MESSAGE


def nested(depth: int) -> Item:
    """``depth`` levels of Structures, the innermost holding one Integer (depth + 1 items deep)."""
    item = Item(0x420020, T.INTEGER, 1)
    for _ in range(depth):
        item = Item(0x420020, T.STRUCTURE, (item,))
    return item


def nested_wire(depth: int) -> bytes:
    wire = h("42 00 20 02 00 00 00 04 00 00 00 01 00 00 00 00")
    for _ in range(depth):
        wire = h("42 00 20 01") + len(wire).to_bytes(4, "big") + wire
    return wire


@pytest.mark.parametrize("decoder", DECODERS)
def test_depth_bound(decoder: Decoder) -> None:
    assert MAX_DEPTH >= 16
    assert decoder(nested_wire(MAX_DEPTH - 1)) == nested(MAX_DEPTH - 1)
    with pytest.raises(DecodeError):
        decoder(nested_wire(MAX_DEPTH))
    assert decoder(nested_wire(3), max_depth=4) == nested(3)
    with pytest.raises(DecodeError):
        decoder(nested_wire(4), max_depth=4)


@pytest.mark.parametrize("decoder", DECODERS)
def test_empty_structure_at_the_depth_bound_is_fine(decoder: Decoder) -> None:
    wire = h("42 00 20 01 00 00 00 00")
    for _ in range(3):
        wire = h("42 00 20 01") + len(wire).to_bytes(4, "big") + wire
    assert decoder(wire, max_depth=4).value[0].value[0].value[0] == Item(0x420020, T.STRUCTURE, ())
    with pytest.raises(DecodeError):
        decoder(wire, max_depth=3)


@pytest.mark.parametrize("decoder", DECODERS)
def test_very_deep_input_is_refused_without_recursion_error(decoder: Decoder) -> None:
    with pytest.raises(DecodeError):
        decoder(nested_wire(5000))


@pytest.mark.parametrize("decoder", DECODERS)
def test_size_bound(decoder: Decoder) -> None:
    assert MAX_SIZE >= 1 << 20
    wire = h(SPEC_EXAMPLES[5][2])  # 24 bytes
    assert decoder(wire, max_size=24).value == "Hello World"
    with pytest.raises(DecodeError):
        decoder(wire, max_size=23)


@pytest.mark.parametrize("decoder", DECODERS)
def test_big_integer_sign_extension_is_accepted_when_not_minimal(decoder: Decoder) -> None:
    wire = h("42 00 20 | 04 | 00 00 00 10 | " + "FF " * 15 + "FE")
    assert decoder(wire) == Item(0x420020, T.BIG_INTEGER, -2)


@pytest.mark.parametrize("decoder", DECODERS)
def test_values_are_python_types(decoder: Decoder) -> None:
    wire = encode(
        Item(
            0x420001,
            T.STRUCTURE,
            (
                Item(0x420002, T.BOOLEAN, False),
                Item(0x420003, T.BYTE_STRING, b""),
                Item(0x420004, T.INTERVAL, 2**32 - 1),
                Item(0x420005, T.LONG_INTEGER, -(2**63)),
            ),
        )
    )
    item = decoder(wire)
    assert [type(child.value) for child in item.value] == [bool, bytes, int, int]
    assert item.value[2].value == 2**32 - 1
    assert item.value[3].value == -(2**63)


# -------------------------------------------------------------------- encoder misuse (local)

BAD_ITEMS: list[tuple[str, Item, type[Exception]]] = [
    ("tag without prefix", Item(0x430001, T.INTEGER, 1), ValueError),
    ("tag of 4 bytes", Item(0x42000001, T.INTEGER, 1), ValueError),
    ("negative tag", Item(-1, T.INTEGER, 1), ValueError),
    ("integer too large", Item(0x420001, T.INTEGER, 2**31), ValueError),
    ("integer too small", Item(0x420001, T.INTEGER, -(2**31) - 1), ValueError),
    ("enumeration negative", Item(0x420001, T.ENUMERATION, -1), ValueError),
    ("enumeration too large", Item(0x420001, T.ENUMERATION, 2**32), ValueError),
    ("interval negative", Item(0x420001, T.INTERVAL, -1), ValueError),
    ("long too large", Item(0x420001, T.LONG_INTEGER, 2**63), ValueError),
    ("date-time too large", Item(0x420001, T.DATE_TIME, 2**63), ValueError),
    ("text lone surrogate", Item(0x420001, T.TEXT_STRING, "\ud800"), ValueError),
    ("unknown item type", Item(0x420001, 12, 1), ValueError),  # type: ignore[arg-type]
    ("boolean from int", Item(0x420001, T.BOOLEAN, 1), TypeError),
    ("text from bytes", Item(0x420001, T.TEXT_STRING, b"x"), TypeError),
    ("bytes from str", Item(0x420001, T.BYTE_STRING, "x"), TypeError),
    ("bytes from int", Item(0x420001, T.BYTE_STRING, 3), TypeError),
    ("big integer from float", Item(0x420001, T.BIG_INTEGER, 1.0), TypeError),
    ("structure from int", Item(0x420001, T.STRUCTURE, 5), TypeError),
]


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize(("item", "error"), [pytest.param(i, e, id=n) for n, i, e in BAD_ITEMS])
def test_encoder_rejects_misuse_locally(encoder: Encoder, item: Item, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        encoder(item)
    assert not isinstance(info.value, KmipError)


@pytest.mark.parametrize("encoder", ENCODERS)
def test_encoder_rejects_non_integer_for_integer_types(encoder: Encoder) -> None:
    for item_type in (
        T.INTEGER,
        T.LONG_INTEGER,
        T.ENUMERATION,
        T.DATE_TIME,
        T.INTERVAL,
        T.DATE_TIME_EXTENDED,
    ):
        with pytest.raises((TypeError, ValueError)):
            encoder(Item(0x420001, item_type, "1"))


@pytest.mark.parametrize("encoder", ENCODERS)
def test_encoder_depth_bound(encoder: Encoder) -> None:
    assert decode(encoder(nested(MAX_DEPTH - 1))) == nested(MAX_DEPTH - 1)
    with pytest.raises(ValueError):
        encoder(nested(MAX_DEPTH))


@pytest.mark.parametrize("encoder", ENCODERS)
def test_encoder_accepts_int_codes_and_int_enums(encoder: Encoder) -> None:
    plain = Item(0x420020, 5, 255)  # type: ignore[arg-type]
    assert encoder(plain) == h("42 00 20 05 00 00 00 04 00 00 00 FF 00 00 00 00")
    assert encoder(Item(0x420020, T.STRUCTURE, [Item(0x420020, T.ENUMERATION, T.DATE_TIME)])) == h(
        "42 00 20 01 00 00 00 10 42 00 20 05 00 00 00 04 00 00 00 09 00 00 00 00"
    )


@pytest.mark.parametrize("codec", [decode, decode_declared, encode, encode_declared])
def test_depth_bound_outside_its_range_is_misuse(codec: Callable[..., object]) -> None:
    argument = h(SPEC_EXAMPLES[0][2]) if codec in (decode, decode_declared) else SPEC_EXAMPLES[0][1]
    assert codec(argument, max_depth=1) is not None
    assert codec(argument, max_depth=DEPTH_CEILING) is not None
    for bad in (0, -1, DEPTH_CEILING + 1):
        with pytest.raises(ValueError):
            codec(argument, max_depth=bad)


@pytest.mark.parametrize("decoder", DECODERS)
def test_deepest_allowed_bound_decodes(decoder: Decoder) -> None:
    wire = nested_wire(DEPTH_CEILING - 1)
    assert decoder(wire, max_depth=DEPTH_CEILING) == nested(DEPTH_CEILING - 1)
    with pytest.raises(DecodeError):
        decoder(nested_wire(DEPTH_CEILING), max_depth=DEPTH_CEILING)
