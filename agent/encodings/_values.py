"""Shared rules of the KMIP XML and JSON encodings: tag references, type names, leaf values.

Both encodings (KMIP Profiles 1.3+ / ENC "KMIP Additional Message Encodings" §4.1 JSON and
§6.1 XML; digest section 3.5) write a tag as its CamelCase name or as ``0x`` + 6 hex digits,
an item type by its CamelCase name, and leaf values as text: hex numbers are ``0x`` + full
width two's complement, byte strings hex without ``0x``, date-times ISO 8601, enumerations by
CamelCase value name or hex, usage masks as names. This module holds those rules once.

Malformed input raises ValueError (these are local texts; a server taking XML/JSON from a peer
maps ValueError to Invalid Message). A value of the wrong Python type given to a writer raises
TypeError.
"""

from __future__ import annotations

import datetime as _dt
import re
from enum import IntEnum, IntFlag
from typing import Final

from agent import spec
from agent.encodings.symbols import Symbol
from agent.spec import ItemType, Tag

# ---------------------------------------------------------------------------------------------
# item type names (ENC §4.1.5 / §6.1.5): "TextString", "DateTimeExtended"; absent => Structure


def _camel(upper_snake: str) -> str:
    return "".join(word.capitalize() for word in upper_snake.split("_"))


TYPE_NAME: Final[dict[ItemType, str]] = {t: _camel(t.name) for t in ItemType}
TYPE_BY_NAME: Final[dict[str, ItemType]] = {name: t for t, name in TYPE_NAME.items()}


def type_from_name(name: str) -> ItemType:
    try:
        return TYPE_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown item type {name!r}") from None


# ---------------------------------------------------------------------------------------------
# tags: CamelCase name (the registry's xml name) or "0x" + 6 hex digits (ENC §4.1.1 / §6.1.1)

_HEX_TAG_RE: Final = re.compile(r"0[xX]([0-9A-Fa-f]{6})")


def tag_from_text(text: str) -> int:
    """The tag code a tag reference names: ``0x420094`` or ``UniqueIdentifier``."""
    match = _HEX_TAG_RE.fullmatch(text)
    if match:
        return int(match.group(1), 16)
    tag_def = spec.tag_by_xml(text)
    if tag_def is None:
        raise ValueError(f"unknown tag name {text!r} (use 0x42xxxx / 0x54xxxx for other tags)")
    return int(tag_def.code)


def tag_name(code: int) -> str | None:
    """The CamelCase name of a registered tag, or None (write it as hex)."""
    tag_def = spec.tag_def(code)
    if tag_def is None:
        return None
    # Only a name that reads back as the same tag (a clash would lose the code).
    back = spec.tag_by_xml(tag_def.xml)
    return tag_def.xml if back is not None and back.code == code else None


def tag_hex(code: int) -> str:
    if not 0 <= code <= 0xFFFFFF:
        raise ValueError(f"tag 0x{code:X} does not fit 3 bytes")
    return f"0x{code:06X}"


# ---------------------------------------------------------------------------------------------
# which enumeration / mask names a leaf uses
#
# Most tags carry their own enumeration (the registry's TagDef.enum; the 2.x Attribute Reference,
# an "Enumeration (Tag)" of SPEC-2.1 §5.5, has the Tag enumeration: "State" in the 2.x files).
# The 1.x Attribute Value (SPEC-1.4 §2.1.1) has none: its value takes the type of the attribute
# its sibling Attribute Name names, {Attribute Name "State", Attribute Value PreActive} and
# {Attribute Name "Cryptographic Usage Mask", Attribute Value "Encrypt Decrypt"}.


def value_tag(tag: int, attribute_name: str | None) -> int:
    """The tag whose enumeration or mask names apply to a leaf of ``tag``.

    ``attribute_name`` is the text of an Attribute Name sibling, if any.
    """
    if tag == Tag.ATTRIBUTE_VALUE and attribute_name is not None:
        tag_def = spec.tag_by_name(attribute_name)
        if tag_def is not None:
            return int(tag_def.code)
    return tag


def _enum_class(vtag: int) -> type[IntEnum] | type[IntFlag] | None:
    tag_def = spec.tag_def(vtag)
    return tag_def.enum if tag_def is not None else None


def is_mask(vtag: int) -> bool:
    tag_def = spec.tag_def(vtag)
    return (
        tag_def is not None
        and tag_def.mask
        and isinstance(tag_def.enum, type)
        and issubclass(tag_def.enum, IntFlag)
    )


# ---------------------------------------------------------------------------------------------
# numbers

_DEC_RE: Final = re.compile(r"[+-]?[0-9]+")
_HEX_RE: Final = re.compile(r"0[xX]([0-9A-Fa-f]+)")
_WIDTH: Final[dict[ItemType, int]] = {  # bytes of the TTLV value (SPEC-1.4 §9.1.1.4)
    ItemType.INTEGER: 4,
    ItemType.LONG_INTEGER: 8,
    ItemType.ENUMERATION: 4,
    ItemType.BOOLEAN: 8,
    ItemType.DATE_TIME: 8,
    ItemType.INTERVAL: 4,
    ItemType.DATE_TIME_EXTENDED: 8,
}
_SIGNED: Final = {ItemType.INTEGER, ItemType.LONG_INTEGER, ItemType.DATE_TIME, ItemType.DATE_TIME_EXTENDED}


def int_range(item_type: ItemType) -> tuple[int, int]:
    bits = 8 * _WIDTH[item_type]
    if item_type in _SIGNED:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def check_int(item_type: ItemType, value: int) -> int:
    low, high = int_range(item_type)
    if not low <= value <= high:
        raise ValueError(f"{value} is out of range for {TYPE_NAME[item_type]}")
    return value


def hex_number(item_type: ItemType, value: int) -> str:
    """``0x`` + full-width two's complement hex (ENC §4.1.2: Integer -1 is 0xffffffff)."""
    width = _WIDTH[item_type]
    return "0x" + (value & ((1 << (8 * width)) - 1)).to_bytes(width, "big").hex()


def _parse_hex_fixed(item_type: ItemType, digits: str) -> int:
    width = _WIDTH[item_type]
    if len(digits) > 2 * width:
        raise ValueError(f"hex value 0x{digits} is wider than {width} bytes ({TYPE_NAME[item_type]})")
    value = int(digits, 16)
    if item_type in _SIGNED and len(digits) == 2 * width and value >> (8 * width - 1):
        value -= 1 << (8 * width)  # full width with the sign bit set: negative
    return check_int(item_type, value)


def parse_number(item_type: ItemType, text: str) -> int:
    """Decimal or ``0x`` hex text of an Integer, Long Integer, Interval (or other fixed type)."""
    text = text.strip()
    match = _HEX_RE.fullmatch(text)
    if match:
        return _parse_hex_fixed(item_type, match.group(1))
    if _DEC_RE.fullmatch(text):
        return check_int(item_type, int(text))
    raise ValueError(f"{text!r} is not a {TYPE_NAME[item_type]} value")


def big_to_hex(value: int) -> str:
    """Big Integer as two's complement hex, padded to a multiple of 8 bytes (SPEC-1.4 §9.1.1.4)."""
    length = max(1, (value.bit_length() + 8) // 8)  # room for the sign bit
    length = -(-length // 8) * 8
    return value.to_bytes(length, "big", signed=True).hex()


def big_from_hex(text: str) -> int:
    """Big Integer from hex (xsd:hexBinary in XML; ``0x`` allowed), two's complement."""
    text = text.strip()
    match = _HEX_RE.fullmatch(text)
    digits = match.group(1) if match else text
    if digits == "":
        return 0
    if len(digits) % 2 or not re.fullmatch(r"[0-9A-Fa-f]+", digits):
        raise ValueError(f"{text[:40]!r} is not a hex Big Integer")
    return int.from_bytes(bytes.fromhex(digits), "big", signed=True)


# ---------------------------------------------------------------------------------------------
# enumerations and masks


def enum_from_text(vtag: int, text: str) -> int:
    """An Enumeration value written as hex (``0x0000000A``) or CamelCase name.

    The 2.x Attribute Reference is an "Enumeration (Tag)" (SPEC-2.1 §5.5): its names are tag
    names; the registry gives it the Tag enumeration.
    """
    text = text.strip()
    match = _HEX_RE.fullmatch(text)
    if match:
        return _parse_hex_fixed(ItemType.ENUMERATION, match.group(1))
    cls = _enum_class(vtag)
    value = spec.enum_value_by_name(cls, text) if cls is not None else None
    if value is None:
        raise ValueError(f"{text!r} is no value name of the enumeration of tag {tag_hex(vtag)}")
    return check_int(ItemType.ENUMERATION, int(value))


def enum_to_text(vtag: int, value: int) -> str:
    cls = _enum_class(vtag)
    name = spec.enum_value_name(cls, value) if cls is not None else None
    if name is not None and cls is not None and spec.enum_value_by_name(cls, name) == value:
        return name
    return "0x" + value.to_bytes(4, "big").hex().upper()  # unknown (extension) value


def mask_from_text(vtag: int, text: str) -> int:
    """A mask Integer as names and/or hex joined by spaces or ``|`` (ENC §4.1.6, §6.1.6)."""
    stripped = text.strip()
    if _DEC_RE.fullmatch(stripped):
        return check_int(ItemType.INTEGER, int(stripped))
    cls = _enum_class(vtag)
    assert cls is not None and issubclass(cls, IntFlag)
    value = spec.mask_from_names(cls, stripped)
    if value is None or not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{text!r} is not a value of the mask of tag {tag_hex(vtag)}")
    return value - (1 << 32) if value >> 31 else value  # an Integer is signed 32-bit


def mask_to_text(vtag: int, value: int, sep: str) -> str:
    """Names of the set bits, bits without a name as one hex part; 0 as ``0``."""
    cls = _enum_class(vtag)
    assert cls is not None and issubclass(cls, IntFlag)
    unsigned = value & 0xFFFFFFFF
    text = spec.mask_to_names(cls, unsigned, sep)
    if not text:
        return "0"
    return text if spec.mask_from_names(cls, text) == unsigned else str(value)


# ---------------------------------------------------------------------------------------------
# date-times: ISO 8601 / xsd:dateTime, UTC written as +00:00 (as the OASIS test files do)

_DATETIME_RE: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?", re.ASCII
)
_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def datetime_from_text(text: str, extended: bool) -> int:
    """POSIX seconds (DateTime) or microseconds (DateTimeExtended) from ISO 8601 or hex.

    Fractional seconds are dropped for DateTime (ENC §4.1.6); a missing zone means UTC.
    """
    text = text.strip()
    item_type = ItemType.DATE_TIME_EXTENDED if extended else ItemType.DATE_TIME
    match = _HEX_RE.fullmatch(text)
    if match:
        return _parse_hex_fixed(item_type, match.group(1))
    match = _DATETIME_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zone = match.group(7), match.group(8)
    try:
        when = _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.UTC)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date-time: {exc}") from None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        when -= sign * _dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    delta = when - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    if not extended:
        return check_int(item_type, seconds)
    micros = int((fraction or "").ljust(6, "0")[:6])
    return check_int(item_type, seconds * 1_000_000 + micros)


def datetime_to_text(value: int, extended: bool) -> str:
    """ISO 8601 in UTC (``2012-04-21T08:21:40+00:00``); hex when outside years 1-9999."""
    seconds, micros = divmod(value, 1_000_000) if extended else (value, 0)
    try:
        when = _EPOCH + _dt.timedelta(seconds=seconds)
    except OverflowError:
        when = None
    if when is None or not 1 <= when.year <= 9999:
        return hex_number(ItemType.DATE_TIME_EXTENDED if extended else ItemType.DATE_TIME, value)
    text = (
        f"{when.year:04d}-{when.month:02d}-{when.day:02d}T{when.hour:02d}:{when.minute:02d}:{when.second:02d}"
    )
    if extended:
        text += f".{micros:06d}"
    return text + "+00:00"


# ---------------------------------------------------------------------------------------------
# leaves, both directions

_HEXBYTES_RE: Final = re.compile(r"(?:[0-9A-Fa-f]{2})*")


def value_from_text(item_type: ItemType, vtag: int, text: str, symbols: bool) -> object:
    """The Item value a leaf's text stands for (XML ``value=``, or a JSON string)."""
    if symbols:
        symbol = Symbol.parse(text)
        if symbol is not None:
            return symbol
    if item_type == ItemType.TEXT_STRING:
        return text  # kept exactly, whitespace included
    if item_type == ItemType.BYTE_STRING:
        compact = text.strip()
        if not _HEXBYTES_RE.fullmatch(compact):
            raise ValueError(f"{text[:40]!r} is not a hex byte string")
        return bytes.fromhex(compact)
    if item_type == ItemType.INTEGER:
        if is_mask(vtag) and not _HEX_RE.fullmatch(text.strip()):
            return mask_from_text(vtag, text)
        return parse_number(item_type, text)
    if item_type == ItemType.ENUMERATION:
        return enum_from_text(vtag, text)
    if item_type == ItemType.BOOLEAN:
        lowered = text.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        if _HEX_RE.fullmatch(lowered):
            number = parse_number(ItemType.BOOLEAN, lowered)
            if number in (0, 1):
                return bool(number)
        raise ValueError(f"{text!r} is not a Boolean value")
    if item_type == ItemType.BIG_INTEGER:
        return big_from_hex(text)
    if item_type in (ItemType.LONG_INTEGER, ItemType.INTERVAL):
        return parse_number(item_type, text)
    if item_type in (ItemType.DATE_TIME, ItemType.DATE_TIME_EXTENDED):
        return datetime_from_text(text, item_type == ItemType.DATE_TIME_EXTENDED)
    raise ValueError(f"a {TYPE_NAME[item_type]} has no text value")


def _require(value: object, kinds: type | tuple[type, ...], item_type: ItemType) -> None:
    if not isinstance(value, kinds) or (isinstance(value, bool) and kinds is int):
        raise TypeError(f"{type(value).__name__} value for a {TYPE_NAME[item_type]} item")


def value_to_text(item_type: ItemType, vtag: int, value: object, mask_sep: str = " ") -> str:
    """The text form of a leaf value (the XML ``value=`` attribute)."""
    if isinstance(value, Symbol):
        return value.text
    if item_type == ItemType.TEXT_STRING:
        _require(value, str, item_type)
        assert isinstance(value, str)
        return value
    if item_type == ItemType.BYTE_STRING:
        _require(value, bytes, item_type)
        assert isinstance(value, bytes)
        return value.hex()
    if item_type == ItemType.BOOLEAN:
        _require(value, bool, item_type)
        return "true" if value else "false"
    _require(value, int, item_type)
    assert isinstance(value, int)
    if item_type == ItemType.BIG_INTEGER:
        return big_to_hex(value)
    check_int(item_type, value)
    if item_type == ItemType.INTEGER:
        return mask_to_text(vtag, value, mask_sep) if is_mask(vtag) else str(value)
    if item_type == ItemType.ENUMERATION:
        return enum_to_text(vtag, value)
    if item_type in (ItemType.DATE_TIME, ItemType.DATE_TIME_EXTENDED):
        return datetime_to_text(value, item_type == ItemType.DATE_TIME_EXTENDED)
    return str(value)  # Long Integer, Interval: decimal


def attribute_name_of(children: object) -> str | None:
    """The text of the first Attribute Name among Item children (context of Attribute Value)."""
    if not isinstance(children, tuple):
        return None
    for child in children:
        if child.tag == Tag.ATTRIBUTE_NAME and isinstance(child.value, str):
            return str(child.value)
    return None
