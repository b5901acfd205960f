"""Lookups derived from the tables in :mod:`agent.spec.tags` and :mod:`agent.spec.enums`.

Indexes over tags are built at import (a few hundred entries); indexes over an enumeration's
values are built on first use of that enumeration. Unknown names and values give ``None``:
the caller decides which Result Reason that is.
"""

from __future__ import annotations

import re
from enum import IntFlag
from functools import cache
from typing import NamedTuple

from agent.spec.core import Version
from agent.spec.enums import VALUES, ValueDef
from agent.spec.naming import fold, xml_name
from agent.spec.tags import TAGS, EnumClass, Tag, TagDef

_BY_CODE: dict[int, TagDef] = {t.code: t for t in TAGS}
_BY_NAME: dict[str, TagDef] = {}
_BY_FOLDED: dict[str, TagDef] = {}
_BY_XML: dict[str, TagDef] = {}
for _t in TAGS:
    for _n in (_t.name, *_t.aliases):
        _BY_NAME[_n] = _t
        _BY_FOLDED[fold(_n)] = _t
        _BY_XML.setdefault(xml_name(_n), _t)
    _BY_XML[_t.xml] = _t
del _t, _n

_HEX = re.compile(r"0x[0-9A-Fa-f]{1,8}")


def tag_def(code: int) -> TagDef | None:
    """The registry row of a tag code, or None for an unknown (e.g. extension 0x54xxxx) tag."""
    return _BY_CODE.get(code)


def tag_by_name(name: str) -> TagDef | None:
    """The row of a spec name, 1.x or 2.x ("Unique Identifier"); case and spacing are tolerated."""
    row = _BY_NAME.get(name)
    return row if row is not None else _BY_FOLDED.get(fold(name))


def tag_by_xml(name: str) -> TagDef | None:
    """The row of an XML/JSON element name ("UniqueIdentifier"), exact match."""
    return _BY_XML.get(name)


class _Index(NamedTuple):
    by_value: dict[int, ValueDef]
    by_name: dict[str, int]  # spec names, aliases and their XML forms, exact
    by_folded: dict[str, int]  # case-/space-insensitive spec names


@cache
def _index(cls: EnumClass) -> _Index:
    if cls is Tag:
        rows: tuple[ValueDef, ...] = tuple(ValueDef(t.code, t.name, t.first, t.last, t.aliases) for t in TAGS)
    else:
        rows = VALUES.get(cls, ())
    by_value = {r.value: r for r in rows}
    by_name: dict[str, int] = {}
    by_folded: dict[str, int] = {}
    for r in rows:
        for n in (r.name, *r.aliases):
            by_name.setdefault(n, r.value)
            by_name.setdefault(xml_name(n), r.value)
            by_folded.setdefault(fold(n), r.value)
    if cls is Tag:
        by_name.update({t.xml: t.code for t in TAGS})
    return _Index(by_value, by_name, by_folded)


def value_def(cls: EnumClass, value: int) -> ValueDef | None:
    """The table row (spec name, versions, aliases) of an enumeration value or mask bit."""
    return _index(cls).by_value.get(int(value))


def enum_value_name(cls: EnumClass, value: int, xml: bool = True) -> str | None:
    """Name of an enumeration value: XML/JSON form ("SymmetricKey") or spec form ("Symmetric Key").

    None for a value not in the table (an extension 0x8XXXXXXX, or unknown): callers encode
    those as hex ("0x80000001", ENC §4.1.2 / §6.1.2).
    """
    if cls is Tag and xml:
        row = _BY_CODE.get(int(value))
        return row.xml if row is not None else None
    vdef = _index(cls).by_value.get(int(value))
    if vdef is None:
        return None
    return xml_name(vdef.name) if xml else vdef.name


def enum_value_by_name(cls: EnumClass, text: str) -> int | None:
    """The value of an XML/JSON name, a spec name (1.x or 2.x spelling) or hex ("0x00000002").

    Hex is accepted for any value, known or not (extensions); None if a name is unknown.
    """
    if _HEX.fullmatch(text):
        return int(text, 16)
    idx = _index(cls)
    found = idx.by_name.get(text)
    if found is None:
        found = idx.by_folded.get(fold(text))
    return found


def mask_from_names(cls: type[IntFlag], text: str) -> int | None:
    """A bit mask from names separated by spaces (XML, ENC §6.1.3) or "|" (JSON, ENC §4.1.3).

    With "|" each part may be a spec name ("Wrap Key|Encrypt"); with spaces only XML names
    ("WrapKey Encrypt"). Hex parts ("0x00000004") are OR-ed in as they are. None if any part
    is unknown. The empty string is 0.
    """
    parts = text.split("|") if "|" in text else text.split()
    result = 0
    for part in parts:
        bit = enum_value_by_name(cls, part.strip())
        if bit is None:
            return None
        result |= bit
    return result


def mask_to_names(cls: type[IntFlag], value: int, sep: str = " ") -> str:
    """XML names of the bits set in ``value``, lowest bit first, joined by ``sep``.

    Bits without a name are given as one trailing hex part ("Encrypt 0x80000000"); 0 gives "".
    """
    value = int(value)
    parts: list[str] = []
    rest = value
    for vdef in sorted(_index(cls).by_value.values(), key=lambda r: r.value):
        if vdef.value and value & vdef.value == vdef.value:
            parts.append(xml_name(vdef.name))
            rest &= ~vdef.value
    if rest:
        parts.append(f"0x{rest:08X}")
    return sep.join(parts)


def value_in_version(cls: EnumClass, value: int, version: Version) -> bool:
    """False if the table says the value is not defined in ``version`` (first/last bounds).

    Values whose first version is not recorded count as defined from the enumeration's start.
    Unknown values (extensions) give True: whether to accept them is the caller's policy.
    """
    vdef = value_def(cls, value)
    if vdef is None:
        return True
    if vdef.first is not None and version < vdef.first:
        return False
    return vdef.last is None or version <= vdef.last


def enum_for_tag(code: int) -> EnumClass | None:
    """The enumeration (IntEnum) or mask (IntFlag) class of a tag's value, if any."""
    row = _BY_CODE.get(code)
    return row.enum if row is not None else None
