"""The KMIP JSON encoding (JSON profile): Item trees to and from JSON text.

Each item is an object ``{"tag": ..., "type": ..., "value": ...}`` (ENC §4.1.6; digest
section 3.5). ``tag`` is the CamelCase name or ``0x`` + 6 hex digits; an optional ``name`` is
ignored on input. ``type`` may be omitted for a Structure, whose value is an array of child
objects (or null). Leaf values:

========================  ==========================================  =======================
type                      accepted on input                            written
========================  ==========================================  =======================
Integer                   number, ``0x`` hex, mask names ``A|B``       number; masks ``A|B``
LongInteger               number, ``0x`` hex                           number; hex if >= 2**52
BigInteger                number, ``0x`` hex (two's complement)        ``0x`` hex, 8n bytes
Enumeration               number, ``0x`` hex, CamelCase name           name, else ``0x`` hex
Boolean                   true/false, ``0x`` hex                       true/false
TextString                string (kept exactly)                        string
ByteString                hex without ``0x``                           lower-case hex
DateTime(Extended)        ISO 8601, ``0x`` hex, number                 ISO 8601 UTC ``+00:00``
Interval                  number, ``0x`` hex                           number
========================  ==========================================  =======================

Errors: malformed input raises ValueError.
"""

from __future__ import annotations

import json as _json
from typing import Any, Final

from agent.encodings import _values as codec
from agent.encodings.symbols import Symbol
from agent.spec import ItemType, Tag
from agent.ttlv import Item

__all__ = ["dumps", "from_json_object", "loads", "to_json_object"]

MAX_DEPTH: Final = 64
_EXACT_LIMIT: Final = 1 << 52  # ENC §4.1.6: larger Long/Big Integers go as hex strings
_KEYS: Final = frozenset({"tag", "name", "type", "value"})


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a KMIP JSON value")


def _int_value(item_type: ItemType, vtag: int, value: object, symbols: bool) -> int | Symbol:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{value!r} is not a {codec.TYPE_NAME[item_type]} value")
    if isinstance(value, int):
        return value if item_type == ItemType.BIG_INTEGER else codec.check_int(item_type, value)
    parsed = codec.value_from_text(item_type, vtag, value, symbols)
    assert isinstance(parsed, int | Symbol)
    return parsed


def _leaf(item_type: ItemType, vtag: int, value: object, symbols: bool) -> object:
    if item_type in (ItemType.TEXT_STRING, ItemType.BYTE_STRING):
        if not isinstance(value, str):
            raise ValueError(f"{codec.TYPE_NAME[item_type]} value must be a string, not {value!r}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text with a lone surrogate is not valid UTF-8") from None
        return codec.value_from_text(item_type, vtag, value, symbols)
    if item_type == ItemType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return codec.value_from_text(item_type, vtag, value, symbols)
        raise ValueError(f"{value!r} is not a Boolean value")
    return _int_value(item_type, vtag, value, symbols)


def from_json_object(
    obj: object, *, symbols: bool = False, _name: str | None = None, _depth: int = 0
) -> Item:
    """An Item from the parsed JSON form (dicts and lists as :func:`json.loads` gives them)."""
    if _depth > MAX_DEPTH:
        raise ValueError(f"structures nested deeper than {MAX_DEPTH}")
    if not isinstance(obj, dict):
        raise ValueError(f"a KMIP JSON item is an object, not {type(obj).__name__}")
    unknown = set(obj) - _KEYS
    if unknown:
        raise ValueError(f"unknown keys in a KMIP JSON item: {sorted(unknown)}")
    tag_ref = obj.get("tag")
    if not isinstance(tag_ref, str):
        raise ValueError("a KMIP JSON item needs a string 'tag'")
    tag = codec.tag_from_text(tag_ref)
    type_ref = obj.get("type", "Structure")
    if not isinstance(type_ref, str):
        raise ValueError(f"'type' must be a string, not {type_ref!r}")
    item_type = codec.type_from_name(type_ref)
    value = obj.get("value")
    if item_type == ItemType.STRUCTURE:
        if value is None:
            return Item(tag, item_type, ())
        if not isinstance(value, list):
            raise ValueError(f"the value of Structure {tag_ref} must be an array")
        context = _attribute_name(value, symbols)
        children = tuple(
            from_json_object(child, symbols=symbols, _name=context, _depth=_depth + 1) for child in value
        )
        return Item(tag, item_type, children)
    if "value" not in obj:
        raise ValueError(f"{tag_ref} of type {type_ref} has no 'value'")
    return Item(tag, item_type, _leaf(item_type, codec.value_tag(tag, _name), value, symbols))


def _attribute_name(children: list[object], symbols: bool) -> str | None:
    """The first Attribute Name text among the children (as the writer chooses it)."""
    for child in children:
        if (
            isinstance(child, dict)
            and child.get("type") == "TextString"
            and isinstance(child.get("value"), str)
        ):
            try:
                tag = codec.tag_from_text(child.get("tag", ""))
            except (ValueError, TypeError):
                continue
            if tag == Tag.ATTRIBUTE_NAME and not (symbols and Symbol.parse(child["value"])):
                return str(child["value"])
    return None


def loads(text: str, *, symbols: bool = False) -> Item:
    """One item (usually a message) from KMIP JSON text.

    With ``symbols=True`` strings such as ``"$NOW-3600"`` become :class:`Symbol` values.
    """
    try:
        obj = _json.loads(text, parse_constant=_reject_constant)
    except _json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    return from_json_object(obj, symbols=symbols)


def _json_leaf(item_type: ItemType, vtag: int, value: object) -> object:
    if isinstance(value, Symbol):
        return value.text
    if item_type in (ItemType.INTEGER, ItemType.LONG_INTEGER, ItemType.INTERVAL):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{type(value).__name__} value for a {codec.TYPE_NAME[item_type]} item")
        codec.check_int(item_type, value)
        if item_type == ItemType.INTEGER:
            return codec.value_to_text(item_type, vtag, value, "|") if codec.is_mask(vtag) else value
        if item_type == ItemType.LONG_INTEGER and abs(value) >= _EXACT_LIMIT:
            return codec.hex_number(item_type, value)
        return value
    if item_type == ItemType.BIG_INTEGER:
        return "0x" + codec.value_to_text(item_type, vtag, value)
    if item_type == ItemType.BOOLEAN:
        codec.value_to_text(item_type, vtag, value)  # type check
        return value
    return codec.value_to_text(item_type, vtag, value)


def to_json_object(item: Item, _name: str | None = None, _depth: int = 0) -> dict[str, Any]:
    """The JSON form of an Item as dicts and lists (for :func:`json.dumps`)."""
    if _depth > MAX_DEPTH:
        raise ValueError(f"structures nested deeper than {MAX_DEPTH}")
    name = codec.tag_name(item.tag)
    tag_ref = name if name is not None else codec.tag_hex(item.tag)
    item_type = ItemType(item.type)
    if item_type == ItemType.STRUCTURE:
        if not isinstance(item.value, tuple):
            raise TypeError(f"{type(item.value).__name__} value for a Structure item")
        context = codec.attribute_name_of(item.value)
        return {"tag": tag_ref, "value": [to_json_object(c, context, _depth + 1) for c in item.value]}
    value = _json_leaf(item_type, codec.value_tag(item.tag, _name), item.value)
    return {"tag": tag_ref, "type": codec.TYPE_NAME[item_type], "value": value}


def dumps(item: Item, *, indent: int | None = None) -> str:
    """An item as KMIP JSON text (compact unless ``indent`` is given); non-ASCII kept as is."""
    separators = (",", ":") if indent is None else (",", ": ")
    return _json.dumps(to_json_object(item), ensure_ascii=False, indent=indent, separators=separators)
