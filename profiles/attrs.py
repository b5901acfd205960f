"""Attribute rules and the engine's version-neutral attribute form.

Inside the engine an attribute is an :class:`Attr`: its 1.x spec name ("Cryptographic
Length", "x-Barcode"), its value as a TTLV :class:`Item` tagged with the attribute's own tag
(custom and vendor attributes keep the Attribute Value tag), and its Attribute Index. The
same form is stored (one TTLV blob per object) and converted at the edge to the request's
protocol version:

* 1.x: ``Attribute{Attribute Name, [Attribute Index], Attribute Value}`` (SPEC-1.4 §2.1.1);
  custom attributes are named ``x-...`` (client) / ``y-...`` (server) (SPEC-1.4 §3.39).
* 2.x: the attribute's own tag inside ``Attributes``; vendor attributes as
  ``Attribute{Vendor Identification, Attribute Name, Attribute Value}``, where Vendor
  Identification "x" / "y" stand for the 1.x ``x-`` / ``y-`` prefixes (SPEC-2.1 §4.60, §2.6 of
  the digest); attributes are selected with Attribute Reference (SPEC-2.1 §7.2).

The :data:`RULES` table holds, per attribute, the "Attribute Rules" rows of SPEC-1.4 §3
(Table 54 layout: multiple instances permitted, initially set by client, modifiable / deletable
by client) and the versions that define it. Index rows for Locate are built here too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agent.spec import (
    V1_0,
    V1_1,
    V1_2,
    V1_3,
    V1_4,
    V2_0,
    ItemType,
    Tag,
    Version,
    tag_by_name,
    tag_def,
)
from agent.ttlv import Item, decode, encode
from profiles.store.base import Condition, IndexEntry

__all__ = [
    "RULES",
    "Attr",
    "AttrSet",
    "Rule",
    "attr_from_v1",
    "attr_from_v2",
    "attr_to_v1",
    "attr_to_v2",
    "canonical",
    "index_rows",
    "is_custom",
    "locate_conditions",
    "name_from_reference",
    "reference_for",
    "rule_for",
    "short_unique_identifier",
]

# Attribute carrier tags that are not attributes themselves.
_NUMERIC = {
    ItemType.INTEGER,
    ItemType.LONG_INTEGER,
    ItemType.BIG_INTEGER,
    ItemType.ENUMERATION,
    ItemType.DATE_TIME,
    ItemType.DATE_TIME_EXTENDED,
    ItemType.INTERVAL,
}
_DATE_TYPES = {ItemType.DATE_TIME, ItemType.DATE_TIME_EXTENDED}


class AttrError(ValueError):
    """An attribute in a request is malformed; ``kind`` says which Result Reason applies.

    kinds: "unknown" (name/tag not an attribute), "type" (wrong item type for the attribute),
    "version" (the attribute does not exist in the request's version).
    """

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} attribute {name!r}")
        self.kind = kind
        self.name = name


@dataclass(frozen=True)
class Rule:
    """SPEC-1.4 §3 attribute rules for one attribute (client's point of view)."""

    name: str
    tag: int
    multi: bool = False  # Multiple instances permitted
    client_init: bool = False  # may be given by the client in Create/Register/Add Attribute
    client_modify: bool = False  # Modifiable by client
    client_delete: bool = False  # Deletable by client
    since: Version = V1_0
    until: Version | None = None
    pre_active_only: bool = False  # modifiable only while Pre-Active (dates, SPEC-1.4 §3.24-3.27)

    def in_version(self, version: Version) -> bool:
        return self.since <= version and (self.until is None or version <= self.until)


def _r(name: str, **kw: Any) -> Rule:
    row = tag_by_name(name)
    if row is None:  # pragma: no cover - the registry defines every attribute tag
        raise LookupError(name)
    return Rule(name=name, tag=row.code, **kw)


_RO = {"client_init": False}
_CLIENT = {"client_init": True, "client_modify": True, "client_delete": True}
_CLIENT_MULTI = {"multi": True, **_CLIENT}
_DATE = {"client_init": True, "client_modify": True, "pre_active_only": True}

# SPEC-1.4 §3.1-3.50 attribute rule tables; 2.x-only attributes from SPEC-2.1 §4.
RULES_LIST: tuple[Rule, ...] = (
    _r("Unique Identifier"),
    _r("Name", **_CLIENT_MULTI),
    _r("Object Type"),
    _r("Cryptographic Algorithm", client_init=True),
    _r("Cryptographic Length", client_init=True),
    _r("Cryptographic Parameters", **_CLIENT_MULTI),
    _r("Cryptographic Domain Parameters", client_init=True),
    _r("Certificate Type", client_init=True),  # BL-M-10-21 registers it; the server re-derives it
    _r("Certificate Length", since=V1_1),
    _r("X.509 Certificate Identifier", since=V1_1, until=V1_4),
    _r("X.509 Certificate Subject", since=V1_1, until=V1_4),
    _r("X.509 Certificate Issuer", since=V1_1, until=V1_4),
    _r("Certificate Identifier", until=V1_4),
    _r("Certificate Subject", until=V1_4),
    _r("Certificate Issuer", until=V1_4),
    _r("Digital Signature Algorithm", since=V1_1),
    _r("Digest", multi=True),
    _r("Operation Policy Name", client_init=True, until=V1_4),
    _r("Cryptographic Usage Mask", client_init=True),
    _r("Lease Time"),
    _r("Usage Limits", client_init=True, client_modify=True, client_delete=True),
    _r("State"),
    _r("Initial Date"),
    _r("Activation Date", **_DATE),
    _r("Process Start Date", **_DATE),
    _r("Protect Stop Date", **_DATE),
    _r("Deactivation Date", **_DATE),
    _r("Destroy Date"),
    _r("Compromise Occurrence Date"),
    _r("Compromise Date"),
    _r("Revocation Reason"),
    _r("Archive Date"),
    _r("Object Group", **_CLIENT_MULTI),
    _r("Fresh", client_init=True, since=V1_1),
    _r("Link", **_CLIENT_MULTI),
    _r("Application Specific Information", **_CLIENT_MULTI),
    _r("Contact Information", **_CLIENT),
    _r("Last Change Date"),
    _r("Alternative Name", since=V1_2, **_CLIENT_MULTI),
    _r("Key Value Present", since=V1_2),
    _r("Key Value Location", since=V1_2, **_CLIENT_MULTI),
    _r("Original Creation Date", client_init=True, since=V1_2),
    _r("Random Number Generator", client_init=True, since=V1_3),
    _r("PKCS#12 Friendly Name", since=V1_4, **_CLIENT),
    _r("Description", since=V1_4, **_CLIENT),
    _r("Comment", since=V1_4, **_CLIENT),
    _r("Sensitive", client_init=True, client_modify=True, since=V1_4),
    _r("Always Sensitive", since=V1_4),
    _r("Extractable", client_init=True, client_modify=True, since=V1_4),
    _r("Never Extractable", since=V1_4),
    # 2.x (SPEC-2.1 §4); the Certificate Subject/Issuer parts below exist from 1.4 (TC-CERTATTR-1-14)
    _r("Short Unique Identifier", since=V2_0),
    _r("Key Format Type", since=V2_0),
    _r("Protection Storage Mask", since=V2_0),
    _r("NIST Key Type", client_init=True, since=V2_0),
    _r("Protection Level", since=V2_0, **_CLIENT),
    _r("Protection Period", since=V2_0, **_CLIENT),
    _r("Quantum Safe", client_init=True, since=V2_0),
    _r("Certificate Subject CN", since=V1_4),
    _r("Certificate Subject O", since=V1_4),
    _r("Certificate Subject OU", since=V1_4),
    _r("Certificate Subject Email", since=V1_4),
    _r("Certificate Subject C", since=V1_4),
    _r("Certificate Subject ST", since=V1_4),
    _r("Certificate Subject L", since=V1_4),
    _r("Certificate Issuer CN", since=V1_4),
    _r("Certificate Issuer O", since=V1_4),
    _r("Certificate Issuer OU", since=V1_4),
    _r("Certificate Issuer C", since=V1_4),
    _r("Certificate Issuer ST", since=V1_4),
    _r("Certificate Issuer L", since=V1_4),
)

RULES: dict[str, Rule] = {r.name: r for r in RULES_LIST}
_BY_TAG: dict[int, Rule] = {r.tag: r for r in RULES_LIST}
_BY_FOLDED: dict[str, Rule] = {r.name.casefold(): r for r in RULES_LIST}

_CUSTOM_CLIENT = Rule(
    "x-", Tag.ATTRIBUTE_VALUE, multi=True, client_init=True, client_modify=True, client_delete=True
)
_CUSTOM_SERVER = Rule("y-", Tag.ATTRIBUTE_VALUE, multi=True)


def is_custom(name: str) -> bool:
    """True for a 1.x Custom Attribute / 2.x Vendor Attribute name ("x-Barcode", "acme-Id")."""
    return name not in RULES and "-" in name


def rule_for(name: str) -> Rule | None:
    """The rule of an attribute name; custom ``y-`` names are server-only (SPEC-1.4 §3.39)."""
    rule = RULES.get(name)
    if rule is not None:
        return rule
    if is_custom(name):
        return _CUSTOM_SERVER if name.startswith("y-") else _CUSTOM_CLIENT
    return None


def rule_by_tag(tag: int) -> Rule | None:
    return _BY_TAG.get(tag)


@dataclass(frozen=True)
class Attr:
    """One attribute instance in the engine's version-neutral form."""

    name: str
    value: Item  # tag: the attribute's own tag, or Attribute Value for custom attributes
    index: int = 0


# --------------------------------------------------------------------------------------------
# Conversion to and from the wire forms
# --------------------------------------------------------------------------------------------


def _child(item: Item, tag: int) -> Item | None:
    for c in item.value:
        if c.tag == tag:
            found: Item = c
            return found
    return None


def _check_type(rule: Rule, value: Item) -> None:
    row = tag_def(rule.tag)
    if row is None or row.type is None or rule.tag == Tag.ATTRIBUTE_VALUE:
        return
    if value.type != row.type and not (row.type == ItemType.DATE_TIME and value.type in _DATE_TYPES):
        raise AttrError("type", rule.name)


def attr_from_v1(item: Item, version: Version) -> Attr:
    """``Attribute{Attribute Name, [Attribute Index], Attribute Value}`` (SPEC-1.4 §2.1.1)."""
    if item.tag != Tag.ATTRIBUTE or item.type != ItemType.STRUCTURE:
        raise AttrError("unknown", "?")
    name_item = _child(item, Tag.ATTRIBUTE_NAME)
    if name_item is None or name_item.type != ItemType.TEXT_STRING:
        raise AttrError("unknown", "?")
    index_item = _child(item, Tag.ATTRIBUTE_INDEX)
    value_item = _child(item, Tag.ATTRIBUTE_VALUE)
    name = str(name_item.value)
    index = int(index_item.value) if index_item is not None and index_item.type == ItemType.INTEGER else 0
    rule = RULES.get(name) or _BY_FOLDED.get(name.casefold())
    if rule is None:
        if not name.startswith(("x-", "y-")) or len(name) < 3:
            # 1.x Custom Attribute names start with "x-" (client) or "y-" (server), SPEC-1.4 §3.39
            raise AttrError("unknown", name)
        if value_item is None:
            value_item = Item(Tag.ATTRIBUTE_VALUE, ItemType.STRUCTURE, ())
        return Attr(name, value_item, index)
    if not rule.in_version(version):
        raise AttrError("version", rule.name)
    if value_item is None:
        value_item = Item(rule.tag, ItemType.STRUCTURE, ())
    value = Item(rule.tag, value_item.type, value_item.value)
    _check_type(rule, value)
    return Attr(rule.name, value, index)


def attr_from_v2(item: Item, version: Version) -> Attr:
    """One member of a 2.x ``Attributes`` structure (SPEC-2.1 §7.1), or a Vendor Attribute."""
    if item.tag == Tag.ATTRIBUTE:
        if item.type != ItemType.STRUCTURE:
            raise AttrError("unknown", "?")
        vendor = _child(item, Tag.VENDOR_IDENTIFICATION)
        name = _child(item, Tag.ATTRIBUTE_NAME)
        value = _child(item, Tag.ATTRIBUTE_VALUE)
        if vendor is None or name is None or not _VENDOR_ID.fullmatch(str(vendor.value)) or not name.value:
            raise AttrError("unknown", "?")
        if value is None:
            value = Item(Tag.ATTRIBUTE_VALUE, ItemType.STRUCTURE, ())
        return Attr(f"{vendor.value}-{name.value}", value, 0)
    rule = _BY_TAG.get(item.tag)
    if rule is None:
        row = tag_def(item.tag)
        raise AttrError("unknown", row.name if row else hex(item.tag))
    if not rule.in_version(version):
        raise AttrError("version", rule.name)
    _check_type(rule, item)
    if item.type == ItemType.DATE_TIME_EXTENDED:
        # stored as Date-Time so that 1.x clients can be shown it (Date Time Extended is 2.x only)
        item = Item(item.tag, ItemType.DATE_TIME, int(item.value) // 1_000_000)
    return Attr(rule.name, item, 0)


_VENDOR_ID = re.compile(r"[A-Za-z0-9_.]+")  # SPEC-2.1 §4.60 Vendor Identification characters


def attr_to_v1(attr: Attr, *, with_index: bool = True) -> Item:
    """The 1.x Attribute structure; index 0 is omitted (a permitted variation, TLP §4.7.1)."""
    children = [Item(Tag.ATTRIBUTE_NAME, ItemType.TEXT_STRING, attr.name)]
    if with_index and attr.index:
        children.append(Item(Tag.ATTRIBUTE_INDEX, ItemType.INTEGER, attr.index))
    value = attr.value
    if value.type == ItemType.DATE_TIME_EXTENDED:  # never sent to a 1.x peer (digest §1.1)
        value = Item(value.tag, ItemType.DATE_TIME, int(value.value) // 1_000_000)
    children.append(Item(Tag.ATTRIBUTE_VALUE, value.type, value.value))
    return Item(Tag.ATTRIBUTE, ItemType.STRUCTURE, tuple(children))


def _split_vendor(name: str) -> tuple[str, str]:
    vendor, _, rest = name.partition("-")
    return vendor, rest


def attr_to_v2(attr: Attr) -> Item:
    """The 2.x form: the attribute's own tagged item, or a Vendor Attribute."""
    if is_custom(attr.name):
        vendor, rest = _split_vendor(attr.name)
        return Item(
            Tag.ATTRIBUTE,
            ItemType.STRUCTURE,
            (
                Item(Tag.VENDOR_IDENTIFICATION, ItemType.TEXT_STRING, vendor),
                Item(Tag.ATTRIBUTE_NAME, ItemType.TEXT_STRING, rest),
                Item(Tag.ATTRIBUTE_VALUE, attr.value.type, attr.value.value),
            ),
        )
    return attr.value


def reference_for(name: str) -> Item:
    """A 2.x Attribute Reference naming ``name`` (SPEC-2.1 §7.2)."""
    if is_custom(name):
        vendor, rest = _split_vendor(name)
        return Item(
            Tag.ATTRIBUTE_REFERENCE,
            ItemType.STRUCTURE,
            (
                Item(Tag.VENDOR_IDENTIFICATION, ItemType.TEXT_STRING, vendor),
                Item(Tag.ATTRIBUTE_NAME, ItemType.TEXT_STRING, rest),
            ),
        )
    return Item(Tag.ATTRIBUTE_REFERENCE, ItemType.ENUMERATION, RULES[name].tag)


def name_from_reference(item: Item) -> str:
    """The attribute name an Attribute Reference (Enumeration of a Tag, or vendor structure) means."""
    if item.type == ItemType.STRUCTURE:
        vendor = _child(item, Tag.VENDOR_IDENTIFICATION)
        name = _child(item, Tag.ATTRIBUTE_NAME)
        if name is None:
            raise AttrError("unknown", "?")
        if vendor is None or vendor.value == "":
            # a standard attribute named in the structure form (PyKMIP 2.0 sends
            # {Vendor Identification "", Attribute Name "Name"})
            return canonical_name(str(name.value))
        return f"{vendor.value}-{name.value}"
    if item.type in (ItemType.ENUMERATION, ItemType.INTEGER):
        rule = _BY_TAG.get(int(item.value))
        if rule is None:
            raise AttrError("unknown", hex(int(item.value)))
        return rule.name
    if item.type == ItemType.TEXT_STRING:  # tolerated: a 1.x-style name
        return canonical_name(str(item.value))
    raise AttrError("unknown", "?")


def canonical_name(name: str) -> str:
    """The registered spelling of a standard attribute name; custom names unchanged.

    Raises AttrError("unknown") for a name that is neither."""
    rule = RULES.get(name) or _BY_FOLDED.get(name.casefold())
    if rule is not None:
        return rule.name
    if is_custom(name):
        return name
    raise AttrError("unknown", name)


# --------------------------------------------------------------------------------------------
# The attribute set of one object
# --------------------------------------------------------------------------------------------

_STORE_TAG = Tag.ATTRIBUTES  # engine-internal storage envelope; never sent on the wire


@dataclass
class AttrSet:
    """The attributes of one managed object, in the order they were set."""

    items: list[Attr] = field(default_factory=list)

    def __iter__(self) -> Iterator[Attr]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def all(self, name: str) -> list[Attr]:
        return sorted((a for a in self.items if a.name == name), key=lambda a: a.index)

    def get(self, name: str) -> Attr | None:
        found = self.all(name)
        return found[0] if found else None

    def value(self, name: str) -> object | None:
        """The Python value of the lowest-index instance, or None."""
        a = self.get(name)
        return None if a is None else a.value.value

    def has(self, name: str) -> bool:
        return any(a.name == name for a in self.items)

    def names(self) -> list[str]:
        seen: dict[str, None] = {}
        for a in self.items:
            seen.setdefault(a.name, None)
        return list(seen)

    def set(self, name: str, value: Item) -> Attr:
        """Replace every instance of ``name`` with one instance of index 0."""
        attr = Attr(name, value, 0)
        for i, a in enumerate(self.items):
            if a.name == name:
                self.items[i] = attr
                self.items = [x for j, x in enumerate(self.items) if x.name != name or j == i]
                return attr
        self.items.append(attr)
        return attr

    def add(self, name: str, value: Item) -> Attr:
        """A new instance with the next free index (indexes are never renumbered, SPEC-1.4 §2.1.1)."""
        existing = [a.index for a in self.items if a.name == name]
        attr = Attr(name, value, (max(existing) + 1) if existing else 0)
        self.items.append(attr)
        return attr

    def replace_at(self, name: str, index: int, value: Item) -> Attr | None:
        for i, a in enumerate(self.items):
            if a.name == name and a.index == index:
                self.items[i] = replace(a, value=value)
                return self.items[i]
        return None

    def remove(self, name: str, index: int | None = None) -> list[Attr]:
        """Delete one instance (``index``) or all instances; returns what was removed."""
        gone = [a for a in self.items if a.name == name and (index is None or a.index == index)]
        self.items = [a for a in self.items if a not in gone]
        return gone

    def copy(self) -> AttrSet:
        return AttrSet(list(self.items))

    # storage: Attributes{ Attribute{Attribute Name, Attribute Index, <value item>} ... }
    def to_bytes(self) -> bytes:
        children = tuple(
            Item(
                Tag.ATTRIBUTE,
                ItemType.STRUCTURE,
                (
                    Item(Tag.ATTRIBUTE_NAME, ItemType.TEXT_STRING, a.name),
                    Item(Tag.ATTRIBUTE_INDEX, ItemType.INTEGER, a.index),
                    a.value,
                ),
            )
            for a in self.items
        )
        return encode(Item(_STORE_TAG, ItemType.STRUCTURE, children))

    @classmethod
    def from_bytes(cls, data: bytes) -> AttrSet:
        root = decode(data)
        out: list[Attr] = []
        for a in root.value:
            name, index, value = a.value
            out.append(Attr(str(name.value), value, int(index.value)))
        return cls(out)


# --------------------------------------------------------------------------------------------
# Locate index rows and conditions
# --------------------------------------------------------------------------------------------

_MASK_ATTRIBUTES = {"Cryptographic Usage Mask", "Protection Storage Mask"}
# Structures whose every field is normally present: Locate compares them whole.
_WHOLE = {"Name", "Alternative Name", "Link"}


def canonical(item: Item) -> str:
    """Canonical text of a value for equality in the index (structures: fields by tag)."""
    if item.type == ItemType.STRUCTURE:
        return "\x1f".join(f"{c.tag:06x}={canonical(c)}" for c in sorted(item.value, key=lambda c: c.tag))
    if item.type == ItemType.BOOLEAN:
        return "1" if item.value else "0"
    if item.type == ItemType.BYTE_STRING:
        return bytes(item.value).hex()
    if item.type == ItemType.DATE_TIME_EXTENDED:
        return str(int(item.value) // 1_000_000)
    return str(item.value)


def _num(item: Item) -> int | None:
    if item.type == ItemType.DATE_TIME_EXTENDED:
        return int(item.value) // 1_000_000
    if item.type in _NUMERIC:
        return int(item.value)
    if item.type == ItemType.BOOLEAN:
        return 1 if item.value else 0
    return None


def _field_name(name: str, child: Item) -> str:
    row = tag_def(child.tag)
    return f"{name}/{row.name if row else hex(child.tag)}"


def index_rows(attrs: Iterable[Attr]) -> list[IndexEntry]:
    """The rows the store indexes for Locate: one per value, one per structure field, one per
    mask bit (Locate matches masks by AND, SPEC-1.4 §4.9)."""
    rows: list[IndexEntry] = []
    for a in attrs:
        v = a.value
        if a.name in _MASK_ATTRIBUTES and v.type == ItemType.INTEGER:
            rows.append(IndexEntry(a.name, "mask", int(v.value)))
            mask = int(v.value)
            bit = 1
            while bit <= mask:
                if mask & bit:
                    rows.append(IndexEntry(a.name, f"bit:{bit:x}"))
                bit <<= 1
            continue
        rows.append(IndexEntry(a.name, canonical(v), _num(v)))
        if v.type == ItemType.STRUCTURE:
            for c in v.value:
                if c.type != ItemType.STRUCTURE:
                    rows.append(IndexEntry(_field_name(a.name, c), canonical(c), _num(c)))
    return rows


def locate_conditions(name: str, values: Sequence[Item]) -> list[Condition]:
    """Conditions for the Locate request instances of one attribute (SPEC-1.4 §4.9).

    Two instances of a date attribute give an inclusive range; a mask gives one condition per
    set bit; a partial structure is matched field by field."""
    if values and all(v.type in _DATE_TYPES for v in values) and len(values) == 2:
        lo, hi = sorted(int(_num(v) or 0) for v in values)
        return [Condition(name, low=lo, high=hi)]
    out: list[Condition] = []
    for v in values:
        if name in _MASK_ATTRIBUTES and v.type == ItemType.INTEGER:
            mask = int(v.value)
            bit = 1
            while bit <= mask:
                if mask & bit:
                    out.append(Condition(name, key=f"bit:{bit:x}"))
                bit <<= 1
            if mask == 0:
                out.append(Condition(name))
        elif v.type == ItemType.STRUCTURE and name not in _WHOLE:
            for c in v.value:
                if c.type != ItemType.STRUCTURE:
                    out.append(Condition(_field_name(name, c), key=canonical(c)))
        else:
            out.append(Condition(name, key=canonical(v)))
    return out


def short_unique_identifier(uid: str) -> bytes:
    """2.x Short Unique Identifier: SHA-256 of the Unique Identifier (SPEC-2.1 §4.51)."""
    return hashlib.sha256(uid.encode()).digest()
