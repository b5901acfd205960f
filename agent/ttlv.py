"""TTLV: the KMIP binary encoding, bytes <-> ``Item`` trees.

KMIP 1.4 section 9.1.1 / KMIP 2.1 section 10.1: every item is
``Tag(3) | Type(1) | Length(4) | Value | zero padding to a multiple of 8``, big-endian.

The grammar is declared once, with construct (``_ITEM`` below). Two codecs use it:

* ``decode_declared`` / ``encode_declared`` run construct's interpreter over the grammar.
* ``decode`` / ``encode`` are the fast path: an iterative walker whose struct formats, value
  sizes, padding rules, boolean mapping and text encoding are all derived at import from the
  grammar's primitive constructs (``_derive_fast_tables``). A differential property test
  (tests/props/test_ttlv_props.py) proves that both agree on every input.

Decoding is strict and total: any byte string either decodes to exactly one item that fills
it, or raises ``DecodeError`` (a ``KmipError`` with Result Reason Invalid Message). Encoding
validates its input; misuse there is local and raises ``ValueError``/``TypeError``.

This is the only keyshelf module that imports construct; construct objects and exceptions
never leave it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any, Final, NamedTuple

import construct as cs

from agent.errors import InvalidMessage
from agent.spec import ItemType, ResultReason

__all__ = [
    "DEPTH_CEILING",
    "MAX_DEPTH",
    "MAX_SIZE",
    "DecodeError",
    "Item",
    "decode",
    "decode_declared",
    "encode",
    "encode_declared",
    "encode_structure",
]

MAX_DEPTH: Final = 32
"""Deepest nesting accepted: the top item is at depth 1, its children at depth 2, ..."""

MAX_SIZE: Final = 16 * 1024 * 1024
"""Largest encoded item (bytes) accepted by default by ``decode``."""

DEPTH_CEILING: Final = 48
"""Largest ``max_depth`` a caller may ask for: construct's interpreter recurses about a dozen
Python frames per level, and the declared codec must stay well inside the recursion limit."""

# KMIP 1.4 section 9.1.1.1: the first tag byte is 0x42 (OASIS tags) or 0x54 (extensions).
_TAG_PREFIXES: Final = (0x42, 0x54)
_ALIGN: Final = 8  # KMIP 1.4 section 9.1.1.3: values are padded to a multiple of 8 bytes
_HEADER_SIZE: Final = 8  # Tag(3) + Type(1) + Length(4)


class Item(NamedTuple):
    """One TTLV item. ``value`` depends on ``type``:

    STRUCTURE -> ``tuple[Item, ...]``; INTEGER, LONG_INTEGER, BIG_INTEGER, ENUMERATION,
    INTERVAL -> ``int``; BOOLEAN -> ``bool``; TEXT_STRING -> ``str``; BYTE_STRING -> ``bytes``;
    DATE_TIME -> ``int`` POSIX seconds (UTC); DATE_TIME_EXTENDED -> ``int`` POSIX microseconds.
    """

    tag: int
    type: ItemType
    value: Any


class DecodeError(InvalidMessage):
    """The peer's bytes are not a well-formed TTLV item (Result Reason Invalid Message)."""

    reason = ResultReason.INVALID_MESSAGE

    def __init__(self, message: str = "malformed TTLV", reason: ResultReason | None = None) -> None:
        super().__init__(message, reason)


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        # checked first: bytes(n) of an int n would allocate n zero bytes
        raise TypeError(f"TTLV input is bytes, not {type(data).__name__}")
    return bytes(data)


def _check_depth_bound(max_depth: int) -> None:
    if not 1 <= max_depth <= DEPTH_CEILING:
        raise ValueError(f"max_depth must be between 1 and {DEPTH_CEILING}")


# ---------------------------------------------------------------------------------------------
# The grammar (KMIP 1.4 section 9.1.1, Tables 286-287; KMIP 2.1 section 10.1, Tables 457-458)
# ---------------------------------------------------------------------------------------------


class _BigInteger(cs.Adapter):  # type: ignore[misc]
    """Big Integer (KMIP 1.4 section 9.1.1.4 item d): two's complement, big-endian, sign-extended
    on the left to a non-zero multiple of 8 bytes; the extension bytes count in the Length."""

    def _decode(self, obj: bytes, context: Any, path: str) -> int:
        if not obj or len(obj) % _ALIGN:
            raise cs.ValidationError("Big Integer length must be a non-zero multiple of 8", path=path)
        return int.from_bytes(obj, "big", signed=True)

    def _encode(self, obj: int, context: Any, path: str) -> bytes:
        return _big_integer_bytes(obj)


def _big_integer_bytes(value: int) -> bytes:
    # Shortest two's complement form, then sign-extended to a multiple of 8 bytes.
    magnitude = value.bit_length() if value >= 0 else (~value).bit_length()
    size = (magnitude // 8 + 1 + _ALIGN - 1) // _ALIGN * _ALIGN
    return value.to_bytes(size, "big", signed=True)


def _depth(ctx: Any) -> int:
    # An item's context sits under its parent's value context, itself under the parent item.
    enclosing = ctx._.get("_")
    return int(enclosing.depth) + 1 if enclosing is not None and "depth" in enclosing else 1


def _padding_size(ctx: Any) -> int:
    # KMIP 1.4 section 9.1.1.3: pad the whole item (8-byte header + value) to a multiple of 8.
    return int(-(ctx._end - ctx._start) % _ALIGN)


# Value encodings by item type. Fixed-size values are construct FormatFields whose sizes and
# formats the fast path reuses; Integer, Enumeration and Interval are 4 bytes followed by
# 4 bytes of padding, the others fill their Length exactly.
_VALUES: Final[dict[int, Any]] = {
    ItemType.STRUCTURE: cs.GreedyRange(cs.LazyBound(lambda: _ITEM)),
    ItemType.INTEGER: cs.Int32sb,
    ItemType.LONG_INTEGER: cs.Int64sb,
    ItemType.BIG_INTEGER: _BigInteger(cs.GreedyBytes),
    ItemType.ENUMERATION: cs.Int32ub,
    ItemType.BOOLEAN: cs.Mapping(cs.Int64ub, {False: 0, True: 1}),  # only 0 and 1 are valid
    ItemType.TEXT_STRING: cs.GreedyString("utf8"),
    ItemType.BYTE_STRING: cs.GreedyBytes,
    ItemType.DATE_TIME: cs.Int64sb,
    ItemType.INTERVAL: cs.Int32ub,
    ItemType.DATE_TIME_EXTENDED: cs.Int64sb,  # KMIP 2.0+, microseconds
}

_ITEM: Final[Any] = cs.Struct(
    "_start" / cs.Tell,
    "tag" / cs.Int24ub,
    cs.Check(lambda c: c.tag >> 16 in _TAG_PREFIXES),
    "depth" / cs.Computed(_depth),
    cs.Check(lambda c: c.depth <= c._params.max_depth),
    "type" / cs.Int8ub,
    # The value must fill its Length exactly; unknown item types are errors.
    "value"
    / cs.Prefixed(
        cs.Int32ub,
        cs.FocusedSeq("value", "value" / cs.Switch(cs.this._.type, _VALUES, default=cs.Error), cs.Terminated),
    ),
    "_end" / cs.Tell,
    "padding" / cs.Rebuild(cs.Bytes(_padding_size), lambda c: bytes(_padding_size(c))),
    cs.Check(lambda c: not any(c.padding)),
)

_MESSAGE: Final = cs.FocusedSeq("item", "item" / _ITEM, cs.Terminated)

_TYPES: Final[list[ItemType | None]] = [None] * 256
for _member in ItemType:
    _TYPES[_member] = _member


# ---------------------------------------------------------------------------------------------
# The interpreter over the declared grammar
# ---------------------------------------------------------------------------------------------


def _from_container(parsed: Any) -> Item:
    item_type = _TYPES[parsed.type]
    assert item_type is not None  # the Switch rejected every other code
    value = parsed.value
    if item_type is ItemType.STRUCTURE:
        value = tuple(_from_container(child) for child in value)
    return Item(parsed.tag, item_type, value)


def decode_declared(data: bytes, *, max_size: int = MAX_SIZE, max_depth: int = MAX_DEPTH) -> Item:
    """Decode with construct's interpreter over the declared grammar (the reference codec)."""
    _check_depth_bound(max_depth)
    if len(data) > max_size:
        raise DecodeError("TTLV item larger than the size bound")
    try:
        return _from_container(_MESSAGE.parse(_as_bytes(data), max_depth=max_depth))
    except (cs.ConstructError, UnicodeDecodeError) as exc:
        raise DecodeError("malformed TTLV") from exc


def _to_container(item: Item, depth: int, max_depth: int) -> dict[str, Any]:
    tag, item_type, value = item
    if not isinstance(tag, int) or tag >> 16 not in _TAG_PREFIXES:
        raise ValueError(f"tag {tag!r} is not a 3-byte KMIP tag starting 0x42 or 0x54")
    if depth > max_depth:
        raise ValueError("item nesting deeper than the depth bound")
    if isinstance(item_type, int) and not isinstance(item_type, ItemType) and 0 <= item_type < 256:
        item_type = _TYPES[item_type]  # a plain int code is accepted if it names a type
    if not isinstance(item_type, ItemType):
        raise ValueError(f"unknown item type {item_type!r}")
    if item_type is ItemType.STRUCTURE:
        if not isinstance(value, tuple | list):
            raise TypeError("a Structure value is a tuple of Items")
        value = [_to_container(child, depth + 1, max_depth) for child in value]
    elif item_type is ItemType.BOOLEAN:
        if not isinstance(value, bool):
            raise TypeError("a Boolean value is a bool")
    elif item_type is ItemType.TEXT_STRING:
        if not isinstance(value, str):
            raise TypeError("a Text String value is a str")
    elif item_type is ItemType.BYTE_STRING:
        if not isinstance(value, bytes | bytearray):
            raise TypeError("a Byte String value is bytes")
    elif not isinstance(value, int):
        raise TypeError(f"a {item_type.name} value is an int")
    return {"tag": tag, "type": int(item_type), "value": value}


def encode_declared(item: Item, *, max_depth: int = MAX_DEPTH) -> bytes:
    """Encode with construct's interpreter over the declared grammar (the reference codec)."""
    _check_depth_bound(max_depth)
    container = _to_container(item, 1, max_depth)
    try:
        data: bytes = _MESSAGE.build(container, max_depth=max_depth)
    except cs.ConstructError as exc:
        raise ValueError(f"value out of range for its item type: {exc}") from None
    return data


# ---------------------------------------------------------------------------------------------
# The fast path, derived from the grammar
# ---------------------------------------------------------------------------------------------

_FixedUnpack = Callable[[bytes, int], tuple[Any, ...]]

# The 8-byte header read in one call: Tag (3 bytes) and Type (1 byte) as one big-endian word
# (tag = word >> 8, type = word & 0xFF), then the Length.
_HEADER: Final = struct.Struct(">II")
assert _HEADER.size == _HEADER_SIZE


class _FastTables(NamedTuple):
    # indexed by type code 0..255
    fixed_unpack: list[_FixedUnpack | None]  # header + value + padding in one struct call
    fixed_pack: list[Callable[..., bytes] | None]
    fixed_size: list[int]  # the Length a fixed-size value must declare
    bool_decoding: dict[int, bool]
    bool_encoding: dict[bool, int]
    text_encoding: str


def _derive_fast_tables() -> _FastTables:
    """Read formats, sizes, padding and mappings off the declared value constructs."""
    fixed_unpack: list[_FixedUnpack | None] = [None] * 256
    fixed_pack: list[Callable[..., bytes] | None] = [None] * 256
    fixed_size = [-1] * 256
    bool_decoding: dict[int, bool] = {}
    bool_encoding: dict[bool, int] = {}
    text_encoding = ""
    header = _HEADER.format[1:]
    for code, construct in _VALUES.items():
        field = construct
        if isinstance(construct, cs.Mapping):
            field = construct.subcon
            bool_decoding = {int(k): bool(v) for k, v in construct.decmapping.items()}
            bool_encoding = {bool(k): int(v) for k, v in construct.encmapping.items()}
        if isinstance(field, cs.FormatField):
            size = field.sizeof()
            padding = -size % _ALIGN
            # The padding is read as an unsigned word (must be 0) or as an empty string.
            pad_read = {0: "0s", 4: "I"}[padding]
            fixed_unpack[code] = struct.Struct(">" + header + field.fmtstr[1:] + pad_read).unpack_from
            fixed_pack[code] = struct.Struct(">" + header + field.fmtstr[1:] + f"{padding}x").pack
            fixed_size[code] = size
        elif isinstance(construct, cs.StringEncoded):
            text_encoding = construct.encoding
    if not text_encoding or not bool_decoding:
        raise RuntimeError("TTLV grammar lacks a text or boolean encoding")
    return _FastTables(fixed_unpack, fixed_pack, fixed_size, bool_decoding, bool_encoding, text_encoding)


_FAST: Final = _derive_fast_tables()
_ZERO_PADDING: Final = tuple(bytes(n) for n in range(_ALIGN))
_PADDING_FOR_LENGTH: Final = tuple(-n % _ALIGN for n in range(_ALIGN))


def decode(data: bytes, *, max_size: int = MAX_SIZE, max_depth: int = MAX_DEPTH) -> Item:
    """Decode exactly one TTLV item that fills ``data``; raise ``DecodeError`` otherwise.

    Strict (KMIP 1.4 section 9.1.1): tag prefix 0x42/0x54, known item types, fixed-size values
    with their exact Length, zero padding, Boolean 0/1 only, Big Integer Length a non-zero
    multiple of 8, UTF-8 text, Structures exactly filled by their children, nesting at most
    ``max_depth`` and size at most ``max_size``.
    """
    _check_depth_bound(max_depth)
    if type(data) is not bytes:
        data = _as_bytes(data)
    if len(data) > max_size:
        raise DecodeError("TTLV item larger than the size bound")
    return _walk(data, max_depth - 1)


def _walk(
    data: bytes,
    nest_limit: int,  # a Structure at this stack height may not have children
    *,
    # Bound once as defaults: the loop below runs once per item of every message received.
    new: Callable[..., Any] = tuple.__new__,
    item_cls: type[Item] = Item,
    types: list[ItemType | None] = _TYPES,
    fixed_unpack: list[_FixedUnpack | None] = _FAST.fixed_unpack,
    fixed_size: list[int] = _FAST.fixed_size,
    bool_decoding: dict[int, bool] = _FAST.bool_decoding,
    encoding: str = _FAST.text_encoding,
    header: Callable[[bytes, int], tuple[int, int]] = _HEADER.unpack_from,
    pad_for: tuple[int, ...] = _PADDING_FOR_LENGTH,
    zeros: tuple[bytes, ...] = _ZERO_PADDING,
    prefixes: tuple[int, ...] = _TAG_PREFIXES,
    structure: ItemType = ItemType.STRUCTURE,
    structure_code: int = int(ItemType.STRUCTURE),
    boolean_code: int = int(ItemType.BOOLEAN),
    text_code: int = int(ItemType.TEXT_STRING),
    bytes_code: int = int(ItemType.BYTE_STRING),
    big_integer_code: int = int(ItemType.BIG_INTEGER),
) -> Item:
    """The fast decoder: one iterative pass, a stack of open Structures, no per-item calls
    beyond one ``struct`` unpack (a single one for fixed-size values: header, value and
    padding) and the Item construction."""
    size = len(data)
    top: list[Item] = []
    out = top  # children of the innermost open Structure
    stack: list[tuple[int, list[Item], int]] = []  # (tag+type word, parent's out, parent's end)
    pos = 0
    end = size
    try:
        while True:
            if pos == end:
                if not stack:
                    break
                word, parent, end = stack.pop()
                parent.append(new(item_cls, (word >> 8, structure, tuple(out))))
                out = parent
                continue
            if pos + _HEADER_SIZE > end:
                raise DecodeError("truncated TTLV header")
            code = data[pos + 3]
            unpack = fixed_unpack[code]
            if unpack is not None:
                # Integer, Long Integer, Enumeration, Boolean, Date-Time, Interval,
                # Date-Time Extended: always 16 bytes with their padding.
                if pos + 16 > end:
                    raise DecodeError("truncated TTLV value")
                word, length, value, padding = unpack(data, pos)
                if length != fixed_size[code] or padding:
                    raise DecodeError("bad length or non-zero padding")
                if code == boolean_code:
                    value = bool_decoding[value]  # KeyError: not 0 or 1
                pos += 16
            else:
                word, length = header(data, pos)
                start = pos + _HEADER_SIZE
                stop = start + length
                if code == structure_code:
                    if length & 7 or stop > end:
                        raise DecodeError("bad Structure length")
                    if length and len(stack) >= nest_limit:
                        raise DecodeError("TTLV nesting deeper than the depth bound")
                    if word >> 24 not in prefixes:
                        raise DecodeError("bad tag")
                    stack.append((word, out, end))
                    out = []
                    end = stop
                    pos = start
                    continue
                pos = stop + pad_for[length & 7]
                if pos > end:
                    raise DecodeError("truncated TTLV value")
                if code == text_code:
                    value = data[start:stop].decode(encoding)
                elif code == bytes_code:
                    value = data[start:stop]
                elif code == big_integer_code:
                    if not length or length & 7:
                        raise DecodeError("bad Big Integer length")
                    value = int.from_bytes(data[start:stop], "big", signed=True)
                else:
                    raise DecodeError("unknown item type")
                if pos != stop and data[stop:pos] != zeros[pos - stop]:
                    raise DecodeError("non-zero padding")
            if word >> 24 not in prefixes:
                raise DecodeError("bad tag")
            out.append(new(item_cls, (word >> 8, types[code], value)))
    except (KeyError, UnicodeDecodeError, struct.error) as exc:
        raise DecodeError("malformed TTLV value") from exc
    if len(top) != 1:
        raise DecodeError("the buffer does not hold exactly one TTLV item")
    return top[0]


def encode(item: Item, *, max_depth: int = MAX_DEPTH) -> bytes:
    """Encode one item (and its children) to TTLV bytes.

    Raises ``TypeError`` for a value of the wrong Python type and ``ValueError`` for a value
    out of range for its item type, an invalid tag or item type, or nesting deeper than
    ``max_depth``.
    """
    _check_depth_bound(max_depth)
    parts: list[bytes] = []
    try:
        _encode_into((item,), parts, max_depth)
    except struct.error as exc:  # a fixed-size value out of range or not an integer
        raise ValueError(f"value out of range for its item type: {exc}") from None
    return b"".join(parts)


def encode_structure(tag: int, children: Sequence[bytes]) -> bytes:
    """A Structure ``tag`` whose children are given already encoded (each one :func:`encode`'s
    output): the bytes ``encode`` gives for the Structure of the decoded children, without
    re-encoding them (a caller that keeps encoded pieces, e.g. per stored attribute)."""
    if not isinstance(tag, int) or tag >> 16 not in _TAG_PREFIXES:
        raise ValueError(f"tag {tag!r} is not a 3-byte KMIP tag starting 0x42 or 0x54")
    body = b"".join(children)
    return _HEADER.pack(tag << 8 | ItemType.STRUCTURE, len(body)) + body


_FIXED_PACK: Final = {m: p for m in ItemType if (p := _FAST.fixed_pack[m]) is not None}
_FIXED_SIZE: Final = {m: _FAST.fixed_size[m] for m in _FIXED_PACK}


def _encode_into(
    items: Sequence[Item],
    parts: list[bytes],
    depth_left: int,
    *,
    # Bound once as defaults: this runs once per Structure on every message sent.
    pack_header: Callable[[int, int], bytes] = _HEADER.pack,
    fixed_pack: Callable[[Any], Callable[..., bytes] | None] = _FIXED_PACK.get,
    fixed_size: dict[ItemType, int] = _FIXED_SIZE,
    bool_encoding: dict[bool, int] = _FAST.bool_encoding,
    encoding: str = _FAST.text_encoding,
    prefixes: tuple[int, ...] = _TAG_PREFIXES,
    zeros: tuple[bytes, ...] = _ZERO_PADDING,
    pad_for: tuple[int, ...] = _PADDING_FOR_LENGTH,
    structure: ItemType = ItemType.STRUCTURE,
    boolean: ItemType = ItemType.BOOLEAN,
    text: ItemType = ItemType.TEXT_STRING,
    byte_string: ItemType = ItemType.BYTE_STRING,
    big_integer: ItemType = ItemType.BIG_INTEGER,
) -> int:
    """Append the encodings of ``items`` to ``parts``; return how many bytes they take.

    Item types are compared by value, so a plain int type code is accepted like its member.
    """
    total = 0
    for tag, item_type, value in items:
        if tag >> 16 not in prefixes:
            raise ValueError(f"tag {tag:#x} is not a 3-byte KMIP tag starting 0x42 or 0x54")
        if item_type == structure:
            if type(value) is not tuple and not isinstance(value, tuple | list):
                raise TypeError("a Structure value is a tuple of Items")
            if value and depth_left <= 1:
                raise ValueError("item nesting deeper than the depth bound")
            slot = len(parts)
            parts.append(b"")  # the header, once the children's length is known
            length = _encode_into(value, parts, depth_left - 1)
            parts[slot] = pack_header(tag << 8 | 1, length)
            total += 8 + length
            continue
        pack = fixed_pack(item_type)
        if pack is not None:
            # struct range-checks the value and rejects non-integers (struct.error).
            if item_type == boolean:
                if value is not True and value is not False:
                    raise TypeError("a Boolean value is a bool")
                value = bool_encoding[value]
            parts.append(pack(tag << 8 | item_type, fixed_size[item_type], value))
            total += 16
            continue
        if item_type == text:
            if type(value) is not str and not isinstance(value, str):
                raise TypeError("a Text String value is a str")
            raw = value.encode(encoding)  # UnicodeEncodeError (lone surrogate) is a ValueError
        elif item_type == byte_string:
            if type(value) is not bytes and not isinstance(value, bytes | bytearray):
                raise TypeError("a Byte String value is bytes")
            raw = bytes(value)
        elif item_type == big_integer:
            if not isinstance(value, int):
                raise TypeError("a Big Integer value is an int")
            raw = _big_integer_bytes(value)
        else:
            raise ValueError(f"unknown item type {item_type!r}")
        length = len(raw)
        pad = pad_for[length & 7]
        parts.append(pack_header(tag << 8 | item_type, length))
        parts.append(raw)
        if pad:
            parts.append(zeros[pad])
        total += 8 + length + pad
    return total
