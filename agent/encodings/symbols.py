"""Placeholders of the OASIS KMIP test-case files, and binding them to concrete values.

The test-case files write values a server chooses as placeholders: ``$UNIQUE_IDENTIFIER_0``,
``$NOW``, ``$NOW-3600``, ``$CORRELATION_VALUE``, ``$KEY_MATERIAL_1`` ... (see SOURCES.md of the
test-case folder). When asked to (``symbols=True`` in the loaders), the XML and JSON readers keep
them as :class:`Symbol` values inside the :class:`~agent.ttlv.Item` tree so that a harness can
bind them later with :func:`bind` (values it knows) or :func:`bind_defaults` (a deterministic
stand-in of the right item type for every remaining symbol, so that the tree can be TTLV-encoded).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from agent.spec import ItemType
from agent.ttlv import Item

__all__ = ["Symbol", "bind", "bind_defaults", "iter_symbols"]

# "$" + upper-case name + optional signed offset in seconds ("$NOW-3600").
_SYMBOL_RE = re.compile(r"\$([A-Z][A-Z0-9_]*)([+-][0-9]{1,18})?")

_INT_RANGES: dict[ItemType, tuple[int, int]] = {
    ItemType.INTEGER: (-(2**31), 2**31 - 1),
    ItemType.LONG_INTEGER: (-(2**63), 2**63 - 1),
    ItemType.ENUMERATION: (0, 2**32 - 1),
    ItemType.INTERVAL: (0, 2**32 - 1),
    ItemType.DATE_TIME: (-(2**63), 2**63 - 1),
    ItemType.DATE_TIME_EXTENDED: (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True, slots=True)
class Symbol:
    """A placeholder value such as ``$UNIQUE_IDENTIFIER_0`` or ``$NOW-3600``.

    ``text`` is the placeholder exactly as written; ``base`` is it without the offset
    (``$NOW``) and ``offset`` the signed number of seconds after it (``-3600``; 0 if none).
    """

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or _SYMBOL_RE.fullmatch(self.text) is None:
            raise ValueError(f"not a placeholder symbol: {self.text!r}")

    @property
    def base(self) -> str:
        match = _SYMBOL_RE.fullmatch(self.text)
        assert match is not None  # checked in __post_init__
        return "$" + match.group(1)

    @property
    def offset(self) -> int:
        match = _SYMBOL_RE.fullmatch(self.text)
        assert match is not None
        return int(match.group(2)) if match.group(2) else 0

    @staticmethod
    def parse(text: str) -> Symbol | None:
        """The symbol ``text`` spells, or None when it is not a placeholder."""
        return Symbol(text) if _SYMBOL_RE.fullmatch(text) else None

    def __str__(self) -> str:
        return self.text


def iter_symbols(item: Item) -> Iterator[tuple[Item, Symbol]]:
    """Every (leaf item, symbol) pair of a tree, depth first in document order."""
    if item.type == ItemType.STRUCTURE:
        for child in item.value:
            yield from iter_symbols(child)
    elif isinstance(item.value, Symbol):
        yield item, item.value


def _coerce(item_type: ItemType, value: object, symbol: Symbol) -> object:
    """Check (and where unambiguous convert) a bound value for an item of ``item_type``."""
    if item_type in (ItemType.DATE_TIME, ItemType.DATE_TIME_EXTENDED) and isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"{symbol.text}: naive datetime; give an aware one (UTC)")
        seconds = value.timestamp()
        value = int(seconds) if item_type == ItemType.DATE_TIME else round(seconds * 1_000_000)
    if item_type == ItemType.TEXT_STRING:
        ok = isinstance(value, str)
    elif item_type == ItemType.BYTE_STRING:
        if isinstance(value, bytearray | memoryview):
            value = bytes(value)
        ok = isinstance(value, bytes)
    elif item_type == ItemType.BOOLEAN:
        ok = isinstance(value, bool)
    elif item_type == ItemType.BIG_INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif item_type in _INT_RANGES:
        low, high = _INT_RANGES[item_type]
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    else:
        ok = False
    if not ok:
        raise ValueError(f"{symbol.text}: {value!r} is no value for an item of type {item_type.name}")
    return value


_NOW: Final = "$NOW"


def _now_value(item_type: ItemType, base: object, symbol: Symbol) -> object:
    """``$NOW`` (+/- offset): the base is POSIX seconds or an aware datetime (SOURCES.md)."""
    seconds = _coerce(ItemType.DATE_TIME, base, symbol)
    assert isinstance(seconds, int)
    seconds += symbol.offset
    return _coerce(
        item_type, seconds * 1_000_000 if item_type == ItemType.DATE_TIME_EXTENDED else seconds, symbol
    )


def _lookup(
    symbol: Symbol, item_type: ItemType, env: Mapping[str, object], now: int | None
) -> tuple[bool, object]:
    is_now = symbol.base == _NOW and item_type in (ItemType.DATE_TIME, ItemType.DATE_TIME_EXTENDED)
    if symbol.text in env and not is_now:
        return True, _coerce(item_type, env[symbol.text], symbol)
    if is_now:
        if symbol.text in env:  # an exact "$NOW-3600" entry wins over "$NOW" - 3600
            return True, _now_value(item_type, env[symbol.text], Symbol(_NOW))
        if _NOW in env:
            return True, _now_value(item_type, env[_NOW], symbol)
        if now is not None:
            return True, _now_value(item_type, now, symbol)
        return False, None
    if symbol.offset and symbol.base in env:
        # "$X+5": the base value moved by the offset.
        base = _coerce(item_type, env[symbol.base], symbol)
        if isinstance(base, int) and not isinstance(base, bool):
            return True, _coerce(item_type, base + symbol.offset, symbol)
        raise ValueError(f"{symbol.text}: an offset needs a numeric base value, got {base!r}")
    return False, None


def bind(item: Item, env: Mapping[str, object], *, now: int | None = None) -> Item:
    """Replace the symbols of ``item`` that ``env`` (or ``now``) knows by their values.

    ``env`` maps a placeholder text (``"$UNIQUE_IDENTIFIER_0"``) to a value of the item's type
    (str, bytes, int, bool). ``$NOW`` and ``$NOW+/-N`` are date-times N seconds from
    ``env["$NOW"]`` or else ``now`` (POSIX seconds or an aware datetime; scaled to microseconds
    for a Date Time Extended). Another symbol with an offset (``$X+5``) not in ``env`` itself
    takes its base value plus the offset. Unknown symbols stay. A value of the wrong type
    raises ValueError.
    """
    if item.type == ItemType.STRUCTURE:
        children = tuple(bind(child, env, now=now) for child in item.value)
        return item if children == item.value else Item(item.tag, item.type, children)
    if isinstance(item.value, Symbol):
        found, value = _lookup(item.value, ItemType(item.type), env, now)
        if found:
            return Item(item.tag, item.type, value)
    return item


def _stand_in(symbol: Symbol, item_type: ItemType, now: int) -> object:
    """A deterministic value of ``item_type`` for ``symbol`` (same symbol, same value)."""
    if item_type == ItemType.DATE_TIME:
        return now + symbol.offset
    if item_type == ItemType.DATE_TIME_EXTENDED:
        return (now + symbol.offset) * 1_000_000
    if item_type == ItemType.TEXT_STRING:
        return symbol.text
    digest = hashlib.sha256(symbol.text.encode("ascii")).digest()
    if item_type == ItemType.BYTE_STRING:
        return digest[:16]
    if item_type == ItemType.BOOLEAN:
        return bool(digest[0] & 1)
    number = int.from_bytes(digest[:3], "big")  # small and positive: fits every integer type
    return number + symbol.offset if item_type == ItemType.BIG_INTEGER else number


def bind_defaults(item: Item, now: int, env: Mapping[str, object] | None = None) -> Item:
    """Bind ``env`` (as :func:`bind`), then give every remaining symbol a stand-in value.

    Date-times become ``now`` plus the symbol's offset (POSIX seconds); text strings keep the
    placeholder text; byte strings get 16 bytes derived from the placeholder text; other types
    a small number derived from it. The result holds no :class:`Symbol` and can be TTLV-encoded.
    """
    item = bind(item, env or {}, now=now)
    if item.type == ItemType.STRUCTURE:
        children = tuple(bind_defaults(child, now) for child in item.value)
        return item if children == item.value else Item(item.tag, item.type, children)
    if isinstance(item.value, Symbol):
        return Item(item.tag, item.type, _stand_in(item.value, ItemType(item.type), now))
    return item
