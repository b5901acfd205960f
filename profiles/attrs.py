"""Attribute rules and the engine's version-neutral attribute form.

Inside the engine an attribute is an :class:`Attr`: its 1.x spec name ("Cryptographic
Length", "x-Barcode"), its value as a TTLV :class:`Item` tagged with the attribute's own tag
(custom and vendor attributes keep the Attribute Value tag), and its Attribute Index. The
same form is stored (one TTLV blob per object: :meth:`AttrSet.to_bytes`).

The wire forms (1.x ``Attribute{Attribute Name, [Attribute Index], Attribute Value}``,
SPEC-1.4 §2.1.1; 2.x attributes by their own tags and Vendor Attributes, SPEC-2.1 §4.60;
Attribute Name vs Attribute Reference, SPEC-2.1 §7.2) are agent.model's: handlers decode
request payloads into the model's ``<Op>Request`` classes and encode ``<Op>Response`` classes,
and :func:`attr_from_model` / :func:`attr_to_model` move one attribute between the model's
:class:`~agent.model.Attribute` (typed value) and :class:`Attr` (value Item).

The :data:`RULES` table holds, per attribute, the "Attribute Rules" rows of SPEC-1.4 §3
(Table 54 layout: multiple instances permitted, initially set by client, modifiable / deletable
by client) and the versions that define it. Index rows for Locate are built here too.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from agent.errors import KmipError
from agent.model import Attribute, Typed, from_item, to_item
from agent.spec import (
    V1_0,
    V1_1,
    V1_2,
    V1_3,
    V1_4,
    V2_0,
    V2_1,
    ItemType,
    Tag,
    Version,
    tag_by_name,
    tag_def,
)
from agent.ttlv import MAX_DEPTH, MAX_SIZE, Item, decode, encode, encode_structure
from profiles.store.base import Condition, IndexEntry

__all__ = [
    "RULES",
    "Attr",
    "AttrSet",
    "Rule",
    "attr_from_model",
    "attr_to_model",
    "canonical",
    "index_rows",
    "is_custom",
    "locate_conditions",
    "make_attr",
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


_new = object.__new__


def make_attr(name: str, value: Item, index: int) -> Attr:
    """``Attr(name, value, index)`` without the frozen dataclass's ``__init__`` (a third of
    the cost; thousands per request: every decoded blob, every attribute set)."""
    a: Attr = _new(Attr)
    a.__dict__.update(name=name, value=value, index=index)
    return a


# --------------------------------------------------------------------------------------------
# Conversion to and from the model's Attribute (agent.model: the one 1.x/2.x converter)
# --------------------------------------------------------------------------------------------

_CUSTOM_1X = ("x-", "y-")  # SPEC-1.4 §3.39: Custom Attribute names, client / server


def _form_version(tag: int) -> Version:
    """The version agent.model converts a standard attribute's value in: 2.1 (the attribute by
    its own tag, which is the engine form), or 1.4 for the 1.x-only ones (Certificate Identifier,
    ...: 2.x defines neither them nor their fields) and custom attributes, read and written as
    1.x Attribute{Attribute Name, Attribute Value}."""
    row = tag_def(tag)
    return V2_1 if row is None or row.in_version(V2_1) else V1_4


def _rule_of(name: str, version: Version) -> Rule | None:
    """The rule of a request's attribute name; None for a custom / vendor attribute.

    Raises AttrError("unknown") for a name that is neither (1.x custom names are x-/y- only,
    SPEC-1.4 §3.39; 2.x vendor names "<Vendor Identification>-<Attribute Name>", SPEC-2.1 §4.60)."""
    rule = RULES.get(name) or _BY_FOLDED.get(name.casefold())
    if rule is not None:
        return rule
    vendor, sep, rest = name.partition("-")
    if version >= V2_0:
        if sep and rest and vendor:
            return None
    elif name.startswith(_CUSTOM_1X) and len(name) > 2:
        return None
    raise AttrError("unknown", name)


def attr_from_model(attr: Attribute, version: Version) -> Attr:
    """The engine form of an attribute decoded by agent.model from a request of ``version``.

    The value Item is the model's own encoding of the value: by the attribute's tag (2.x), or
    the Attribute Value item of custom / vendor attributes (see :func:`_form_version`)."""
    rule = _rule_of(attr.name, version)
    if rule is not None and not rule.in_version(version):
        raise AttrError("version", rule.name)
    name = attr.name if rule is None else rule.name
    value = attr.value
    if isinstance(value, Typed) and rule is not None:
        value = value.value  # a standard attribute read under a case-folded name (generic codec)
    form = V1_4 if rule is None else _form_version(rule.tag)
    try:
        wire = to_item(Attribute(name, value), form)
    except (TypeError, ValueError):
        raise AttrError("type", name) from None
    if form == V1_4:  # Attribute{Attribute Name, Attribute Value}: the value, by its own tag
        found = [c for c in wire.value if c.tag == Tag.ATTRIBUTE_VALUE]
        wire = found[0] if found else Item(Tag.ATTRIBUTE_VALUE, ItemType.STRUCTURE, ())
        if rule is not None:
            wire = Item(rule.tag, wire.type, wire.value)
    return Attr(name, wire, attr.index or 0)


def attr_to_model(attr: Attr, version: Version) -> Attribute:
    """The model Attribute of an engine attribute (typed value; index 0 is omitted, a
    permitted variation, TLP §4.7.1), for agent.model to write in the peer's ``version``.

    Kept per attribute for plain values (Get Attributes shows mostly the same ones object after
    object): the model's Attribute is immutable and depends on nothing else (the version only
    through :data:`V2_0`). Not kept: structures (a Digest carries a hash of the key material),
    byte strings, the per-object identifiers. Bounded (emptied when full)."""
    value = attr.value
    if value.type in _MODEL_KEPT and attr.name not in _PER_OBJECT:
        key = (attr.name, attr.index, value, type(value.value), version >= V2_0)
        found = _MODEL.get(key)
        if found is None:
            found = _attr_to_model(attr, version)
            if len(_MODEL) >= _MODEL_MAX:
                _MODEL.clear()
            _MODEL[key] = found
        return found
    return _attr_to_model(attr, version)


_MODEL: dict[tuple[str, int, Item, type, bool], Attribute] = {}
_MODEL_MAX = 4096
_MODEL_KEPT = frozenset(
    {
        ItemType.INTEGER,
        ItemType.LONG_INTEGER,
        ItemType.ENUMERATION,
        ItemType.BOOLEAN,
        ItemType.DATE_TIME,
        ItemType.DATE_TIME_EXTENDED,
        ItemType.INTERVAL,
    }
)


def _attr_to_model(attr: Attr, version: Version) -> Attribute:
    value = attr.value
    if value.tag != Tag.ATTRIBUTE_VALUE and _form_version(value.tag) == V2_1:
        decoded = from_item(value, Attribute, V2_1)
    else:  # custom / vendor and 1.x-only attributes: read in their 1.x Attribute form
        if value.type == ItemType.DATE_TIME_EXTENDED and version < V2_0:
            # never sent to a 1.x peer (digest §1.1): shown as Date-Time
            value = Item(value.tag, ItemType.DATE_TIME, int(value.value) // 1_000_000)
        name = Item(Tag.ATTRIBUTE_NAME, ItemType.TEXT_STRING, attr.name)
        value = Item(Tag.ATTRIBUTE_VALUE, value.type, value.value)
        decoded = from_item(Item(Tag.ATTRIBUTE, ItemType.STRUCTURE, (name, value)), Attribute, V1_4)
    return Attribute(attr.name, decoded.value, attr.index or None)


def canonical_name(name: str) -> str:
    """The registered spelling of a standard attribute name; custom names unchanged.

    Raises AttrError("unknown") for a name that is neither. A standard attribute named in the
    vendor form with an empty Vendor Identification (PyKMIP 2.0 sends {"", "Name"}; agent.model
    reads it as "-Name") is that standard attribute."""
    if name.startswith("-"):
        name = name[1:]
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


class AttrSet:
    """The attributes of one managed object, in the order they were set.

    A set opened from a stored blob (:meth:`from_bytes`) is lazy: :meth:`get` / :meth:`value`
    read only the Attributes of the name asked for, found by walking the blob's top-level
    item boundaries (:func:`_spans`), until anything else needs :attr:`items`, which decodes
    the whole blob (a Get asks for five values of a twenty-attribute blob)."""

    __slots__ = ("_blob", "_items", "_spans")
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __init__(self, items: list[Attr] | None = None) -> None:
        self._items: list[Attr] | None = [] if items is None else items
        self._blob = b""
        self._spans: list[_Span] | None = None

    @property
    def items(self) -> list[Attr]:
        items = self._items
        if items is None:
            items = self._items = list(_decoded(self._blob))
            self._spans = None
        return items

    @items.setter
    def items(self, value: list[Attr]) -> None:
        self._items = value

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, AttrSet)
        return self.items == other.items

    def __repr__(self) -> str:
        return f"AttrSet(items={self.items!r})"

    def __iter__(self) -> Iterator[Attr]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def all(self, name: str) -> list[Attr]:
        return sorted((a for a in self.items if a.name == name), key=lambda a: a.index)

    def get(self, name: str) -> Attr | None:
        """The lowest-index instance (the first of equal indexes), or None."""
        best: Attr | None = None
        items = self._items
        if items is None:
            spans = self._spans
            if spans is None:
                spans = self._spans = _spans(self._blob)
                if spans is None:  # not the usual layout: decoded whole (raising what it raises)
                    return self.get_decoded(name)
            data = self._blob
            for n, start, end in spans:
                if n == name:
                    try:
                        a = _attr_at(data, start, end)
                    except _MALFORMED:
                        return self.get_decoded(name)  # the whole blob's decode error
                    if best is None or a.index < best.index:
                        best = a
            return best
        for a in items:
            if a.name == name and (best is None or a.index < best.index):
                best = a
        return best

    def instances(self, name: str) -> list[Attr]:
        """Every instance of ``name`` in stored order; of a blob not decoded yet, only those
        are decoded (a first Get checks the Digest of a twenty-attribute blob)."""
        if self._items is None:
            spans = self._spans
            if spans is None:
                spans = self._spans = _spans(self._blob)
            if spans is not None:
                data = self._blob
                try:
                    return [_attr_at(data, start, end) for n, start, end in spans if n == name]
                except _MALFORMED:
                    pass  # the whole blob's decode error, below
        return [a for a in self.items if a.name == name]

    def get_decoded(self, name: str) -> Attr | None:
        self.items  # noqa: B018 - decodes the blob
        return self.get(name)

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
        attr = make_attr(name, value, 0)
        items = self.items
        for i, a in enumerate(items):
            if a.name == name:
                items[i] = attr
                for j in range(i + 1, len(items)):
                    if items[j].name == name:  # later instances go
                        self.items = [x for k, x in enumerate(items) if x.name != name or k == i]
                        break
                return attr
        items.append(attr)
        return attr

    def add(self, name: str, value: Item) -> Attr:
        """A new instance with the next free index (indexes are never renumbered, SPEC-1.4 §2.1.1)."""
        existing = [a.index for a in self.items if a.name == name]
        attr = make_attr(name, value, (max(existing) + 1) if existing else 0)
        self.items.append(attr)
        return attr

    def replace_at(self, name: str, index: int, value: Item) -> Attr | None:
        items = self.items
        for i, a in enumerate(items):
            if a.name == name and a.index == index:
                items[i] = replace(a, value=value)
                return items[i]
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
        data = encode_structure(_STORE_TAG, [_attribute_bytes(a) for a in self.items])
        # The blob just written is the one the next open of this object reads (a Get after its
        # Create, after a Get cleared Fresh): keep its attributes as decoding would give them
        # (tests/unit/test_engine_helpers.py checks every cached entry against a fresh decode,
        # value types included).
        _remember(data, tuple(self.items))
        return data

    @classmethod
    def from_bytes(cls, data: bytes) -> AttrSet:
        # Decoding the blob is most of the cost of opening an object (every Get): the decoded
        # attributes (immutable) are kept per blob, so a blob read again is not decoded again.
        # Not secret: key material is never in this blob. Bounded: emptied when full. A blob
        # not seen is read lazily (see the class docstring).
        decoded = _DECODED.get(data)
        out = cls.__new__(cls)
        out._blob = data
        out._spans = None
        out._items = None if decoded is None else list(decoded)
        return out


# Encoded Attribute{Attribute Name, Attribute Index, value} per (name, index, value): most of
# what a Create or a save writes is the same from object to object (Object Type, algorithm,
# length, mask, Lease Time, Fresh, Sensitive, ..., dates within one second). Bounded (emptied
# when full), small values only; not secret (the blob holds no key material).
_ENCODED: dict[tuple[str, int, Item, type], bytes] = {}
_ENCODED_MAX = 4096
_ENCODED_LARGEST = 256  # bytes of one encoded attribute kept


def _attribute_bytes(a: Attr) -> bytes:
    value = a.value
    # True and 1 are equal keys, not equal encodings: the value's type is part of the key
    lookup = (a.name, a.index, value, type(value.value))
    key: tuple[str, int, Item, type] | None = lookup
    try:
        data = _ENCODED.get(lookup)
    except TypeError:  # an unhashable value (a list for a Structure's children): not cached
        key, data = None, None
    if data is None:
        data = encode(
            Item(
                Tag.ATTRIBUTE,
                ItemType.STRUCTURE,
                (
                    Item(Tag.ATTRIBUTE_NAME, ItemType.TEXT_STRING, a.name),
                    Item(Tag.ATTRIBUTE_INDEX, ItemType.INTEGER, a.index),
                    value,
                ),
            ),
            max_depth=MAX_DEPTH - 1,  # as deep as inside the Attributes structure
        )
        if key is not None and len(data) <= _ENCODED_LARGEST:
            if len(_ENCODED) >= _ENCODED_MAX:
                _ENCODED.clear()
            _ENCODED[key] = data
    return data


def decode_attributes(data: bytes) -> tuple[Attr, ...]:
    """The attributes of a stored blob, decoded (not kept in the per-blob cache)."""
    spans = _spans(data)
    if spans is not None:
        try:
            return tuple([_attr_at(data, start, end) for _, start, end in spans])
        except _MALFORMED:
            pass  # the whole blob's decode says what is wrong, as it always did
    return tuple(
        make_attr(str(name.value), value, int(index.value))
        for name, index, value in (a.value for a in decode(data).value)
    )


def _decoded(data: bytes) -> tuple[Attr, ...]:
    decoded = _DECODED.get(data)
    if decoded is None:
        decoded = decode_attributes(data)
        _remember(data, decoded)
    return decoded


# A stored blob's layout at its top level: Attributes{Attribute{Attribute Name, ...} ...}
_Span = tuple[str, int, int]  # an Attribute: its name, where its item starts and ends
_BLOB_WORD = _STORE_TAG << 8 | ItemType.STRUCTURE
_ATTRIBUTE_WORD = Tag.ATTRIBUTE << 8 | ItemType.STRUCTURE
_NAME_WORD = Tag.ATTRIBUTE_NAME << 8 | ItemType.TEXT_STRING
_HEADER = struct.Struct(">II").unpack_from  # Tag+Type word, Length
_HEADERS = struct.Struct(">IIII").unpack_from  # an Attribute's header and its name's
# what decoding one Attribute of a malformed blob may raise (DecodeError is a KmipError)
_MALFORMED = (KmipError, ValueError, TypeError)


def _spans(data: bytes) -> list[_Span] | None:
    """Every Attribute of a stored blob as (name, start, end), found by walking the item
    boundaries of the blob's top level (each Attribute's Length; never a search of the bytes:
    a custom attribute's text may hold anything), its name read from its first field. None
    when the blob does not have that layout exactly (then it is decoded whole)."""
    size = len(data)
    if size < 8 or size > MAX_SIZE:
        return None
    word, length = _HEADER(data, 0)
    if word != _BLOB_WORD or length != size - 8:
        return None
    out: list[_Span] = []
    pos = 8
    try:
        while pos < size:
            if pos + 16 > size:
                return None
            word, length, name_word, name_length = _HEADERS(data, pos)
            end = pos + 8 + length
            first = pos + 16
            if (
                word != _ATTRIBUTE_WORD
                or length & 7
                or end > size
                or name_word != _NAME_WORD
                or first + name_length > end
            ):
                return None
            out.append((data[first : first + name_length].decode("utf-8"), pos, end))
            pos = end
    except UnicodeDecodeError:
        return None
    return out


def _attr_at(data: bytes, start: int, end: int) -> Attr:
    """The Attribute item at ``data[start:end]`` (a :func:`_spans` span), decoded as it is
    when the whole blob is (same depth bound), or as it was the last time these bytes were."""
    raw = data[start:end]
    a = _ATTR_OF.get(raw)
    if a is None:
        name, index, value = decode(raw, max_depth=MAX_DEPTH - 1).value
        a = make_attr(str(name.value), value, int(index.value))
        if len(raw) <= _ATTR_LARGEST and a.name not in _PER_OBJECT:
            if len(_ATTR_OF) >= _ATTR_MAX:
                _ATTR_OF.clear()
            _ATTR_OF[raw] = a
    return a


# One Attribute's decoding per its encoded bytes: most attributes are the same bytes in every
# blob (Object Type, algorithm, length, mask, Lease Time, Fresh, ..., dates within one second),
# so a blob not in _DECODED costs a walk and a few look-ups. Not secret (no key material in the
# blob). Bounded (emptied when full); attributes that differ per object are not kept.
_ATTR_OF: dict[bytes, Attr] = {}
_ATTR_MAX = 4096
_ATTR_LARGEST = 256
_PER_OBJECT = frozenset({"Unique Identifier", "Short Unique Identifier"})


def replaced_value(
    data: bytes, name: str, old: Item, new: Item, *, opened: AttrSet | None = None
) -> bytes | None:
    """``data`` (a stored attributes blob) with its one instance of ``name`` changed from value
    ``old`` to ``new`` by patching bytes, not re-encoding (a Get clearing Fresh): only when
    ``old`` and ``new`` encode to the same length and exactly one instance of ``name`` has
    value ``old`` (the Attribute found by its item boundaries, its value its last field); else
    None. ``opened``: the AttrSet opened from ``data``, whose walk of the blob is reused. The
    result is cached decoded, like :meth:`AttrSet.to_bytes`'s, when ``data`` is."""
    before, after = _value_bytes(old), _value_bytes(new)
    if len(before) != len(after):
        return None
    spans = opened._spans if opened is not None and opened._blob is data else None
    if spans is None:
        spans = _spans(data)
        if spans is None:
            return None
    decoded = _DECODED.get(data)
    if decoded is not None:
        hits = [i for i, a in enumerate(decoded) if a.name == name and a.value == old]
    else:  # only the instances of ``name`` are decoded (the others are not looked at)
        hits = []
        for i, (n, start, end) in enumerate(spans):
            if n == name:
                try:
                    if _attr_at(data, start, end).value == old:
                        hits.append(i)
                except _MALFORMED:
                    return None
    if len(hits) != 1:
        return None
    at = spans[hits[0]][2] - len(before)
    if data[at : at + len(before)] != before:  # pragma: no cover - a decoded value re-encodes the same
        return None
    out = data[:at] + after + data[at + len(before) :]
    if decoded is not None:
        patched = list(decoded)
        patched[hits[0]] = make_attr(name, new, decoded[hits[0]].index)
        _remember(out, tuple(patched))
    return out


def _value_bytes(item: Item) -> bytes:
    """``encode(item)``, kept for the few small values patched in place (Fresh)."""
    key = (item, type(item.value))
    data = _VALUE_BYTES.get(key)
    if data is None:
        data = encode(item)
        if len(_VALUE_BYTES) < 64 and item.type != ItemType.STRUCTURE:
            _VALUE_BYTES[key] = data
    return data


_VALUE_BYTES: dict[tuple[Item, type], bytes] = {}


_DECODED: dict[bytes, tuple[Attr, ...]] = {}
_DECODED_MAX = 4096


def _remember(data: bytes, decoded: tuple[Attr, ...]) -> None:
    if len(_DECODED) >= _DECODED_MAX:
        _DECODED.clear()
    _DECODED[data] = decoded


# --------------------------------------------------------------------------------------------
# Locate index rows and conditions
# --------------------------------------------------------------------------------------------

_MASK_ATTRIBUTES = {"Cryptographic Usage Mask", "Protection Storage Mask"}

# Attributes whose rows stay out of the store's lookup indexes (IndexEntry.indexed False): values
# that most objects share (flags, masks, the server's fixed choices), which an index would not
# narrow (a Boolean's index holds half the objects under one key) and which every Create would
# write into an index b-tree of their own: 21 of a new key's 28 rows, ~250 us of its ~790 us in
# the engine with SQLite. Locate checks them on the candidates the indexed conditions find (Name,
# ASI, Object Group, custom attributes, dates...), or on a scan of the objects that the Object
# Type / State / owner filters select. Object Type and State are the objects' own columns.
_UNINDEXED = frozenset(
    {
        "Object Type",
        "State",
        "Cryptographic Usage Mask",
        "Protection Storage Mask",
        "Key Format Type",
        "Digest",  # Locate matches Digest Values on the candidates (operations/locate.py)
        "Fresh",
        "Sensitive",
        "Always Sensitive",
        "Extractable",
        "Never Extractable",
        "Lease Time",
        "Random Number Generator",
        # nearly every key of a server shares one or two values (AES, 256): a lookup by them
        # reads most objects anyway, and their two b-tree leaves were 2 of a Create's ~18
        # WAL pages
        "Cryptographic Algorithm",
        "Cryptographic Length",
    }
)


def indexed(name: str) -> bool:
    """Whether the index rows of attribute ``name`` (or of a field ``name/Field``) are in the
    store's lookup indexes (IndexEntry.indexed, Condition.indexed)."""
    return name.split("/", 1)[0] not in _UNINDEXED


def condition(
    name: str, key: str | None = None, low: int | None = None, high: int | None = None
) -> Condition:
    """A Locate Condition on the rows of ``name``, flagged as they are stored."""
    return Condition(name, key, low, high, indexed(name))


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


# Names SHALL be unique within the key management domain (SPEC-1.4 §3.2): the store refuses a
# second unique row (NonUniqueKey), across every server process on the database. Destroyed
# objects release their Names (State Destroyed / Destroyed Compromised, SPEC-1.4 §3.22).
_UNIQUE_ROW = "Name/Name Value"
_RELEASED_STATES = (5, 6)


def index_rows(attrs: Iterable[Attr]) -> list[IndexEntry]:
    """The rows the store indexes for Locate: one per value, one per structure field, one per
    mask bit (Locate matches masks by AND, SPEC-1.4 §4.9). Name Values are unique rows while
    the object is not destroyed."""
    attrs = list(attrs)
    released = any(a.name == "State" and a.value.value in _RELEASED_STATES for a in attrs)
    rows: list[IndexEntry] = []
    extend = rows.extend
    for a in attrs:
        v = a.value
        key = (a.name, v, type(v.value))
        try:
            entries = _ROWS.get(key)
        except TypeError:  # an unhashable value (a list for a Structure's children): not cached
            entries = _entries(_attribute_rows(a.name, v))
        else:
            if entries is None:
                spec = _attribute_rows(a.name, v)
                entries = _entries(spec)
                if sum(len(r[1]) for r in spec) <= _ROWS_LARGEST:  # small values only
                    if len(_ROWS) >= _ROWS_MAX:
                        _ROWS.clear()
                    _ROWS[key] = entries
        extend(entries[released])
    return rows


# Index rows per (name, value): like the encoded attributes (_ENCODED), most attributes of a new
# object are the same as the previous object's. The entries (immutable) of a live object and of
# a destroyed one (Names released). Bounded (emptied when full).
_RowSpec = tuple[tuple[str, str, int | None, bool, bool], ...]  # unique (a Name Value), indexed
_Entries = tuple[tuple[IndexEntry, ...], tuple[IndexEntry, ...]]
_ROWS: dict[tuple[str, Item, type], _Entries] = {}
_ROWS_MAX = 4096
_ROWS_LARGEST = 512  # characters of index keys per cached attribute


def _entries(spec: _RowSpec) -> _Entries:
    live = tuple(
        IndexEntry(name, text, num, unique, looked_up) for name, text, num, unique, looked_up in spec
    )
    if not any(e.unique for e in live):
        return live, live
    return live, tuple(IndexEntry(e.name, e.key, e.num, False, e.indexed) for e in live)


def _attribute_rows(name: str, v: Item) -> _RowSpec:
    looked_up = indexed(name)
    if name in _MASK_ATTRIBUTES and v.type == ItemType.INTEGER:
        mask = int(v.value)
        rows: list[tuple[str, str, int | None, bool, bool]] = [(name, "mask", mask, False, looked_up)]
        bit = 1
        while bit <= mask:
            if mask & bit:
                rows.append((name, f"bit:{bit:x}", None, False, looked_up))
            bit <<= 1
        return tuple(rows)
    rows = [(name, canonical(v), _num(v), False, looked_up)]
    if v.type == ItemType.STRUCTURE:
        for c in v.value:
            if c.type != ItemType.STRUCTURE:
                field = _field_name(name, c)
                rows.append((field, canonical(c), _num(c), field == _UNIQUE_ROW, looked_up))
    return tuple(rows)


def locate_conditions(name: str, values: Sequence[Item]) -> list[Condition]:
    """Conditions for the Locate request instances of one attribute (SPEC-1.4 §4.9).

    Two instances of a date attribute give an inclusive range; a mask gives one condition per
    set bit; a partial structure is matched field by field."""
    if values and all(v.type in _DATE_TYPES for v in values) and len(values) == 2:
        lo, hi = sorted(int(_num(v) or 0) for v in values)
        return [condition(name, low=lo, high=hi)]
    out: list[Condition] = []
    for v in values:
        if name in _MASK_ATTRIBUTES and v.type == ItemType.INTEGER:
            mask = int(v.value)
            bit = 1
            while bit <= mask:
                if mask & bit:
                    out.append(condition(name, key=f"bit:{bit:x}"))
                bit <<= 1
            if mask == 0:
                out.append(condition(name))
        elif v.type == ItemType.STRUCTURE and name not in _WHOLE:
            for c in v.value:
                if c.type != ItemType.STRUCTURE:
                    out.append(condition(_field_name(name, c), key=canonical(c)))
        else:
            out.append(condition(name, key=canonical(v)))
    return out


def short_unique_identifier(uid: str) -> bytes:
    """2.x Short Unique Identifier: SHA-256 of the Unique Identifier (SPEC-2.1 §4.51)."""
    return hashlib.sha256(uid.encode()).digest()
