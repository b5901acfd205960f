"""The one generic converter between model dataclasses and Item trees.

Every dataclass is compiled once per protocol version into a plan: for each field its tag(s),
whether it repeats, whether it is required, and a decoder/encoder pair chosen from the field's
annotation and the tag registry (agent.spec). Decoding and encoding then only walk the plan;
no reflection happens per message.

Annotations understood: ``int`` / ``bool`` / ``str`` / ``bytes`` / ``datetime`` (aware UTC;
Date-Time = POSIX seconds, Date Time Extended = microseconds), the registry's IntEnum and
IntFlag classes, nested dataclasses, ``tuple[X, ...]`` (repeated), ``X | None`` (optional),
unions of dataclasses (chosen by the item's tag, or by shape when they share a tag), unions
by item type (``str | int``: Text String, or a 2.x Enumeration/Integer ID placeholder),
``Item`` (kept as is), ``object`` (any type; see :class:`agent.model.attributes.Typed`) and
:class:`Attribute` through the version-specific carriers of ``_fields``.

Decoding errors (spec 1.4 section 11.1 Table 327, digest 1.2 "General errors"):

* wrong item type, unknown tag, missing required field -> InvalidField; unknown tags are
  ignored when the message's minor version is newer than the newest one we know for its major;
* the same single-valued field twice -> InvalidMessage.

Encoding a value of the wrong Python type is local misuse: TypeError / ValueError.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import IntEnum, IntFlag
from typing import Any, Final, TypeVar, cast

from agent import ttlv
from agent.errors import InvalidField, InvalidMessage, KmipError
from agent.model._deferred import build
from agent.model._fields import BARE
from agent.model.attributes import ATTRIBUTE_VALUE_CLASSES, Attribute, Name, Typed
from agent.model.messages import RequestMessage, ResponseMessage
from agent.model.payloads import PAYLOADS, Payload, RequestPayload
from agent.spec import V1_4, V2_1, ItemType, Tag, TagDef, Version, tag_by_name, tag_def
from agent.ttlv import Item

T = TypeVar("T")

STRUCTURE: Final = ItemType.STRUCTURE
INTEGER: Final = ItemType.INTEGER
ENUMERATION: Final = ItemType.ENUMERATION
TEXT: Final = ItemType.TEXT_STRING
BYTES: Final = ItemType.BYTE_STRING
BOOLEAN: Final = ItemType.BOOLEAN
DATE_TIME: Final = ItemType.DATE_TIME
DATE_TIME_EXTENDED: Final = ItemType.DATE_TIME_EXTENDED
_INT_TYPES: Final = frozenset(
    {ItemType.INTEGER, ItemType.LONG_INTEGER, ItemType.BIG_INTEGER, ItemType.INTERVAL, ItemType.ENUMERATION}
)

#: the newest minor version known per major; a newer minor's unknown fields are ignored
_LATEST: Final = {1: V1_4, 2: V2_1}

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND: Final = timedelta(seconds=1)
_MICROSECOND: Final = timedelta(microseconds=1)

_MISSING: Final = object()
_item: Final = tuple.__new__  # _item(Item, (tag, type, value)): Item without NamedTuple's __new__

#: compiled plans per wire version (see Ctx), filled on first use
_PLANS: dict[Version, dict[type, Plan]] = {}


class Ctx:
    """What a conversion needs to know about the protocol version.

    ``wire`` is the version whose fields are read and written: the message's version, or the
    newest one we know of its major (2.2 -> 2.1; 3.x -> 2.1). ``strict``: unknown fields are
    errors, not ignored (spec 1.4 11.1: only a newer minor's unknown fields are ignored).
    """

    __slots__ = ("plans", "strict", "v2", "version", "wire")

    def __init__(self, version: Version) -> None:
        self.version = version
        self.v2 = version[0] >= 2
        latest = _LATEST.get(version[0])
        self.strict = latest is not None and (version[0], version[1]) <= latest
        if latest is None:
            self.wire = _LATEST[2] if version[0] > 2 else Version(1, 0)
        else:
            self.wire = min(Version(version[0], version[1]), latest)
        self.plans = _PLANS.setdefault(self.wire, {})


_CTX: dict[tuple[int, int], Ctx] = {}


def context(version: tuple[int, int]) -> Ctx:
    """The conversion context of a protocol version (cached for the versions we know: a peer
    choosing the version numbers must not grow a cache)."""
    ctx = _CTX.get(version)
    if ctx is None:
        ctx = Ctx(Version(version[0], version[1]))
        if ctx.strict:
            _CTX[version] = ctx
    return ctx


Decoder = Callable[[Item, Ctx], Any]
Encoder = Callable[[Any, Ctx], Item]


def _tag_name(tag: int) -> str:
    td = tag_def(tag)
    return td.name if td is not None else f"0x{tag:06X}"


def _wrong_type(tag: int) -> InvalidField:
    return InvalidField(f"wrong item type for {_tag_name(tag)}")


# --- leaf codecs ----------------------------------------------------------------------------


def _scalar(tag: int, item_type: ItemType, py: type) -> tuple[Decoder, Encoder]:
    """Text, bytes, bool and plain integers: the value is the Item's value."""

    def dec(item: Item, ctx: Ctx) -> Any:
        if item.type != item_type:
            raise _wrong_type(item.tag)
        return item.value

    def enc(value: Any, ctx: Ctx) -> Item:
        if not isinstance(value, py) or (py is int and isinstance(value, bool)):
            raise TypeError(f"{_tag_name(tag)} needs {py.__name__}, not {type(value).__name__}")
        return _item(Item, (tag, item_type, value))

    return dec, enc


def _enum(
    tag: int, item_type: ItemType, cls: type[IntEnum] | type[IntFlag] | None
) -> tuple[Decoder, Encoder]:
    """Enumerations (unknown/extension values stay plain ints) and IntFlag masks."""
    members: dict[Any, Any] = dict(cls._value2member_map_) if cls is not None else {}
    flag = cls if cls is not None and issubclass(cls, IntFlag) else None

    def dec(item: Item, ctx: Ctx) -> Any:
        if item.type != item_type:
            raise _wrong_type(item.tag)
        value = item.value
        if flag is not None:
            # a negative Integer is not a set of bits: kept as the int so it round-trips
            return flag(value) if value >= 0 else value
        return members.get(value, value)

    def enc(value: Any, ctx: Ctx) -> Item:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{_tag_name(tag)} needs an int, not {type(value).__name__}")
        return _item(Item, (tag, item_type, int(value)))

    return dec, enc


def _datetime(tag: int, item_type: ItemType) -> tuple[Decoder, Encoder]:
    unit = _MICROSECOND if item_type == DATE_TIME_EXTENDED else _SECOND

    def dec(item: Item, ctx: Ctx) -> Any:
        if item.type != item_type:
            raise _wrong_type(item.tag)
        try:
            return _EPOCH + item.value * unit
        except OverflowError:
            raise InvalidField(f"{_tag_name(item.tag)} out of range") from None

    def enc(value: Any, ctx: Ctx) -> Item:
        if not isinstance(value, datetime):
            raise TypeError(f"{_tag_name(tag)} needs a datetime, not {type(value).__name__}")
        return _item(Item, (tag, item_type, (value - _EPOCH) // unit))

    return dec, enc


def _raw(tag: int) -> tuple[Decoder, Encoder]:
    """A vendor-defined structure kept as its Item (Server Information, Vendor Extension)."""

    def dec(item: Item, ctx: Ctx) -> Any:
        return item

    def enc(value: Any, ctx: Ctx) -> Item:
        if not isinstance(value, Item):
            raise TypeError(f"{_tag_name(tag)} needs an Item, not {type(value).__name__}")
        return value if value.tag == tag else _item(Item, (tag, value.type, value.value))

    return dec, enc


_GENERIC_TYPES: Final = {TEXT: str, INTEGER: int, BOOLEAN: bool, BYTES: bytes}


def _generic(tag: int) -> tuple[Decoder, Encoder]:
    """Any item type (custom attribute values, Adjustment Value): see attributes.Typed."""

    def dec(item: Item, ctx: Ctx) -> Any:
        t = item.type
        if t in _GENERIC_TYPES:
            return item.value
        if t == DATE_TIME:
            try:
                return _EPOCH + item.value * _SECOND
            except OverflowError:
                return Typed(DATE_TIME, item.value)  # beyond datetime's range: kept as the number
        if t == STRUCTURE:
            return item
        return Typed(ItemType(t), item.value)

    def enc(value: Any, ctx: Ctx) -> Item:
        if isinstance(value, str):
            return _item(Item, (tag, TEXT, value))
        if isinstance(value, bool):
            return _item(Item, (tag, BOOLEAN, value))
        if isinstance(value, IntEnum):
            return _item(Item, (tag, ENUMERATION, int(value)))
        if isinstance(value, int):
            return _item(Item, (tag, INTEGER, int(value)))
        if isinstance(value, bytes):
            return _item(Item, (tag, BYTES, value))
        if isinstance(value, datetime):
            return _item(Item, (tag, DATE_TIME, (value - _EPOCH) // _SECOND))
        if isinstance(value, Typed):
            return _item(Item, (tag, value.type, value.value))
        if isinstance(value, Item):
            return value if value.tag == tag else _item(Item, (tag, value.type, value.value))
        raise TypeError(f"{_tag_name(tag)}: no KMIP item type for {type(value).__name__}")

    return dec, enc


# --- structures -------------------------------------------------------------------------------


class _Field:
    __slots__ = ("companion", "dec", "deferred", "enc", "index", "name", "repeated", "required", "tags")

    def __init__(
        self,
        name: str,
        index: int,
        tags: tuple[int, ...],
        dec: Decoder,
        enc: Encoder,
        *,
        repeated: bool,
        required: bool,
    ) -> None:
        self.name = name
        self.index = index
        self.tags = tags
        self.dec = dec
        self.enc = enc
        self.repeated = repeated
        self.required = required
        self.companion: int | None = None
        self.deferred: Callable[[Any, list[Any], Ctx], tuple[Any, KmipError | None]] | None = None


_SINGLE, _REPEATED, _PAIR, _DEFERRED = 0, 1, 2, 3
_new: Final = object.__new__


class Plan:
    """The compiled conversion of one dataclass in one protocol version.

    A field whose tag the version does not define (Client Correlation Value before 1.4,
    Ephemeral before 2.0, Attribute Index in 2.x) is neither written nor accepted there.
    """

    def __init__(self, cls: type, wire: Version) -> None:
        self.cls = cls
        v2 = wire.major >= 2
        fields = dataclasses.fields(cls)
        hints = typing.get_type_hints(cls)
        self.names: tuple[str, ...] = tuple(f.name for f in fields)
        self.defaults: list[Any] = []
        self.by_tag: dict[int, _Field] = {}
        self.steps: dict[int, tuple[int, Decoder, int]] = {}
        self.checks = False
        #: the class does not exist in this version (a required field is not defined there)
        self.undefined = False
        self.required: list[_Field] = []
        self.repeated: list[int] = []
        self.deferred: list[_Field] = []
        self.error_index: int | None = None
        self.encoders: list[tuple[str, Encoder, int, str]] = []
        index = {f.name: i for i, f in enumerate(fields)}
        for i, f in enumerate(fields):
            if f.default is not dataclasses.MISSING:
                self.defaults.append(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                self.defaults.append(f.default_factory())
            else:
                self.defaults.append(_MISSING)
            if f.metadata.get("local"):
                if f.name == "payload_error":
                    self.error_index = i
                continue
            if f.metadata.get("companion"):
                continue
            cname = f.name.replace("attributes", "template_names")
            companion = index.get(cname) if cname != f.name else None
            if v2 or "attributes" not in f.metadata or not isinstance(_carrier(f, v2), int):
                companion = None
            fp = _compile_field(cls, f, hints[f.name], i, v2=v2, companion=companion)
            if fp is None or not _in_version(fp.tags, wire) or wire < f.metadata.get("since", wire):
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    self.undefined = True  # a required field this version lacks
                continue
            for t in fp.tags:
                if t in self.by_tag:
                    raise TypeError(f"{cls.__name__}: tag 0x{t:06X} used by two fields")
                self.by_tag[t] = fp
            if fp.required:
                self.required.append(fp)
            if fp.repeated:
                self.repeated.append(i)
            if fp.deferred is not None:
                self.deferred.append(fp)
            mode = _REPEATED if fp.repeated else _PAIR if fp.companion is not None else _SINGLE
            companion_name = fields[fp.companion].name if fp.companion is not None else ""
            self.encoders.append((f.name, fp.enc, mode, companion_name))
            step = (i, fp.dec, _DEFERRED if fp.deferred is not None else mode)
            self.steps.update(dict.fromkeys(fp.tags, step))
        self.checks = bool(self.repeated or self.required or self.deferred or self.undefined)

    def decode(self, item: Item, ctx: Ctx) -> Any:
        if item.type != STRUCTURE:
            raise _wrong_type(item.tag)
        defaults = self.defaults
        vals = defaults.copy()
        steps = self.steps
        for child in item.value:
            step = steps.get(child.tag)
            if step is None:
                if ctx.strict:
                    raise InvalidField(f"unexpected {_tag_name(child.tag)} in {_tag_name(item.tag)}")
                continue
            i, dec, mode = step
            if mode == _SINGLE:
                if vals[i] is not defaults[i]:
                    raise InvalidMessage(f"{_tag_name(child.tag)} repeated in {_tag_name(item.tag)}")
                vals[i] = dec(child, ctx)
            elif mode == _REPEATED:
                current = vals[i]
                if type(current) is list:
                    current.append(dec(child, ctx))
                else:
                    vals[i] = [dec(child, ctx)]
            elif vals[i] is not defaults[i]:
                raise InvalidMessage(f"{_tag_name(child.tag)} repeated in {_tag_name(item.tag)}")
            elif mode == _DEFERRED:
                vals[i] = child
            else:  # _PAIR: a Template-Attribute fills the attributes and the template names
                vals[i], vals[self.by_tag[child.tag].companion] = dec(child, ctx)  # type: ignore[index]
        if self.checks:
            self._finish(vals, item, ctx)
        obj: Any = _new(self.cls)
        obj.__dict__.update(zip(self.names, vals))
        return obj

    def _finish(self, vals: list[Any], item: Item, ctx: Ctx) -> None:
        if self.undefined:
            raise InvalidField(f"{_tag_name(item.tag)} is not defined in this protocol version")
        for i in self.repeated:
            if type(vals[i]) is list:
                vals[i] = tuple(vals[i])
        for fp in self.required:
            if vals[fp.index] is _MISSING:
                raise InvalidField(f"{_tag_name(fp.tags[0])} missing in {_tag_name(item.tag)}")
        for fp in self.deferred:
            raw = vals[fp.index]
            if isinstance(raw, Item):
                assert fp.deferred is not None
                vals[fp.index], error = fp.deferred(raw, vals, ctx)
                if error is not None and self.error_index is not None:
                    vals[self.error_index] = error

    def encode(self, obj: Any, tag: int, ctx: Ctx) -> Item:
        if not isinstance(obj, self.cls):
            raise TypeError(f"{_tag_name(tag)} needs {self.cls.__name__}, not {type(obj).__name__}")
        d = obj.__dict__
        out: list[Item] = []
        for name, enc, mode, companion in self.encoders:
            value = d[name]
            if mode == _PAIR:  # a Template-Attribute: attributes and template names
                names = d[companion]
                if value is not None or names:
                    out.append(enc((value if value is not None else (), names), ctx))
            elif value is None:
                continue
            elif mode == _REPEATED:
                for v in value:
                    out.append(enc(v, ctx))
            else:
                out.append(enc(value, ctx))
        return _item(Item, (tag, STRUCTURE, tuple(out)))

    def accepts(self, item: Item) -> bool:
        """Whether ``item``'s children fit this class (shape match for unions sharing a tag)."""
        if self.undefined:
            return False
        present = {child.tag for child in item.value}
        return present <= self.by_tag.keys() and all(
            any(t in present for t in fp.tags) for fp in self.required
        )


def _in_version(tags: tuple[int, ...], wire: Version) -> bool:
    if len(tags) != 1:
        return True  # unions (managed objects) are checked by the engine, not here
    td = tag_def(tags[0])
    return td is None or td.in_version(wire)


def _plan(cls: type, ctx: Ctx) -> Plan:
    p = ctx.plans.get(cls)
    if p is None:
        p = ctx.plans[cls] = Plan(cls, ctx.wire)
    return p


def plan(cls: type, version: tuple[int, int]) -> Plan:
    """The compiled plan of a model class in ``version`` (compiled once, then cached)."""
    return _plan(cls, context(version))


def _struct(cls: type, tag: int) -> tuple[Decoder, Encoder]:
    def dec(item: Item, ctx: Ctx) -> Any:
        p = ctx.plans.get(cls)
        if p is None:
            p = _plan(cls, ctx)
        return p.decode(item, ctx)

    def enc(value: Any, ctx: Ctx) -> Item:
        p = ctx.plans.get(cls)
        if p is None:
            p = _plan(cls, ctx)
        return p.encode(value, tag, ctx)

    return dec, enc


# --- annotations -> codecs ------------------------------------------------------------------


def _members(hint: Any) -> tuple[list[Any], bool, bool]:
    """(union members without None, optional, repeated) of an annotation."""
    optional = repeated = False
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(hint)
        members = [a for a in args if a is not type(None)]
        optional = len(members) < len(args)
        if len(members) == 1:
            hint = members[0]
            origin = typing.get_origin(hint)
        else:
            return _flatten(members), optional, False
    if origin is tuple:
        repeated = True
        hint = typing.get_args(hint)[0]
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            return _flatten(list(typing.get_args(hint))), optional, True
    return [hint], optional, repeated


def _flatten(members: list[Any]) -> list[Any]:
    out: list[Any] = []
    for m in members:
        if typing.get_origin(m) in (typing.Union, types.UnionType):
            out.extend(_flatten(list(typing.get_args(m))))
        elif m is not type(None):
            out.append(m)
    return out


def _leaf(py: Any, tag: int, td: TagDef | None) -> tuple[ItemType, Decoder, Encoder]:
    """The item type and codec of one non-union annotation for ``tag``."""
    reg_type = td.type if td is not None else None
    if py is Item:
        return STRUCTURE, *_raw(tag)
    if py is object:
        return STRUCTURE, *_generic(tag)
    if _is_dataclass_type(py):
        return STRUCTURE, *_struct(cast(type, py), tag)
    if py is bool:
        return BOOLEAN, *_scalar(tag, BOOLEAN, bool)
    if py is str:
        return TEXT, *_scalar(tag, TEXT, str)
    if py is bytes:
        return BYTES, *_scalar(tag, BYTES, bytes)
    if py is datetime:
        t = DATE_TIME_EXTENDED if reg_type == DATE_TIME_EXTENDED else DATE_TIME
        return t, *_datetime(tag, t)
    if isinstance(py, type) and issubclass(py, IntFlag):
        t = reg_type if reg_type in _INT_TYPES else INTEGER
        return t, *_enum(tag, t, py)
    if isinstance(py, type) and issubclass(py, IntEnum):
        return ENUMERATION, *_enum(tag, ENUMERATION, py)
    if py is int:
        if td is not None and td.mask:
            return INTEGER, *_enum(tag, INTEGER, td.enum)
        if reg_type == ENUMERATION or (reg_type is None and td is not None and td.enum is not None):
            return ENUMERATION, *_enum(tag, ENUMERATION, td.enum if td is not None else None)
        t = reg_type if reg_type is not None and reg_type in _INT_TYPES else INTEGER
        return t, *_scalar(tag, t, int)
    raise TypeError(f"no codec for annotation {py!r} of {_tag_name(tag)}")


def _union(
    members: list[Any], tag: int | None, td: TagDef | None
) -> tuple[tuple[int, ...], Decoder, Encoder]:
    """A field whose value may take several forms, told apart by the item's tag and type."""
    table: dict[tuple[int, int], list[tuple[Any, Decoder, Encoder]]] = {}
    encoders: list[tuple[Any, Encoder, bool]] = []  # (python type, encoder, 2.x only)
    tags: list[int] = []
    v2_only: set[tuple[int, int]] = set()
    for m in members:
        mtag = tag
        if _is_dataclass_type(m):
            own = getattr(m, "TAG", None)
            if tag is None or (own is not None and _distinct_tags(members)):
                mtag = own
        if mtag is None:
            raise TypeError(f"union member {m!r} has no tag")
        if mtag not in tags:
            tags.append(mtag)
        mtd = td if mtag == tag else tag_def(mtag)
        if m is int and mtd is not None and mtd.enum is not None and mtd.type != ENUMERATION:
            # a tag whose type differs by version (2.x Unique Identifier: Text String, or an
            # Enumeration / Integer ID placeholder, spec 2.1 4.58; Asynchronous Indicator):
            # enum members are Enumerations, other ints Integers
            edec, eenc = _enum(mtag, ENUMERATION, mtd.enum)
            table.setdefault((mtag, ENUMERATION), []).append((mtd.enum, edec, eenc))
            encoders.append((mtd.enum, eenc, True))
            idec, ienc = _scalar(mtag, INTEGER, int)
            table.setdefault((mtag, INTEGER), []).append((int, idec, ienc))
            encoders.append((int, ienc, True))
            v2_only.update({(mtag, ENUMERATION), (mtag, INTEGER)})
            continue
        t, mdec, menc = _leaf(m, mtag, mtd)
        table.setdefault((mtag, t), []).append((m, mdec, menc))
        encoders.append((m, menc, False))
    # bool before int, IntEnum before int: the first isinstance match encodes
    encoders.sort(key=lambda e: 0 if e[0] is bool else 1 if _is_enum(e[0]) else 2)
    shapes: dict[tuple[int, int], list[type]] = {k: [c[0] for c in v] for k, v in table.items() if len(v) > 1}
    single: dict[tuple[int, int], Decoder] = {k: v[0][1] for k, v in table.items()}

    by_type = len(tags) == 1  # one tag: the item's own tag may differ (attribute values)
    if by_type:
        shapes = {(0, k[1]): v for k, v in shapes.items()}
        single = {(0, k[1]): v for k, v in single.items()}
        v2_only = {(0, k[1]) for k in v2_only}

    def dec(item: Item, ctx: Ctx) -> Any:
        key = (0 if by_type else item.tag, item.type)
        if not ctx.v2 and key in v2_only:
            raise _wrong_type(item.tag)  # 1.x identifiers are Text Strings only
        candidates = shapes.get(key)
        if candidates is None:
            d = single.get(key)
            if d is None:
                raise _wrong_type(item.tag)
            return d(item, ctx)
        for cls in candidates:
            p = _plan(cls, ctx)
            if p.accepts(item):
                return p.decode(item, ctx)
        if ctx.strict:
            raise InvalidField(f"{_tag_name(item.tag)} matches no known structure")
        return _plan(candidates[0], ctx).decode(item, ctx)

    def enc(value: Any, ctx: Ctx) -> Item:
        for py, e, only2 in encoders:
            if isinstance(value, py) and not (py is int and isinstance(value, bool)):
                if only2 and not ctx.v2:
                    raise ValueError(f"{_tag_name(tags[0])}: ID placeholders are 2.x only")
                return e(value, ctx)
        raise TypeError(f"{_tag_name(tags[0])}: no form for {type(value).__name__}")

    return tuple(tags), dec, enc


def _is_dataclass_type(py: Any) -> bool:
    """``dataclasses.is_dataclass`` for a class, without processing a deferred one: plans of
    union members are compiled when an item of theirs is met (a Get of a Symmetric Key does
    not process the other managed-object and transparent-key classes)."""
    return isinstance(py, type) and any("__dataclass_fields__" in c.__dict__ for c in py.__mro__)


def _is_enum(py: Any) -> bool:
    return isinstance(py, type) and issubclass(py, IntEnum)


def _distinct_tags(members: list[Any]) -> bool:
    own = {getattr(m, "TAG", None) for m in members if _is_dataclass_type(m)}
    return len(own) > 1


def _field_tag(f: dataclasses.Field[Any]) -> int | None:
    explicit = f.metadata.get("tag")
    if explicit is not None:
        return int(explicit)
    try:
        return int(Tag[f.name.upper()])
    except KeyError:
        return None


def _carrier(f: dataclasses.Field[Any], v2: bool) -> Tag | str | None:
    v1c, v2c = f.metadata["attributes"]
    return cast("Tag | str | None", v2c if v2 else v1c)


def _compile_field(
    cls: type, f: dataclasses.Field[Any], hint: Any, index: int, *, v2: bool, companion: int | None
) -> _Field | None:
    members, _, repeated = _members(hint)
    required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    if "attributes" in f.metadata:
        carrier = _carrier(f, v2)
        if carrier is None:
            return None
        tags, dec, enc, repeated = _attribute_carrier(carrier, repeated, v2, companion is not None)
        fp = _Field(f.name, index, tags, dec, enc, repeated=repeated, required=required)
        fp.companion = companion
        return fp
    if "attribute_names" in f.metadata:
        if not f.metadata["attribute_names"][v2]:
            return None
        if v2:
            ref_dec, ref_enc = _attribute_reference_codec()
            return _Field(
                f.name,
                index,
                (Tag.ATTRIBUTE_REFERENCE,),
                ref_dec,
                ref_enc,
                repeated=repeated,
                required=required,
            )
        dec, enc = _scalar(Tag.ATTRIBUTE_NAME, TEXT, str)
        return _Field(f.name, index, (Tag.ATTRIBUTE_NAME,), dec, enc, repeated=repeated, required=required)
    tag = _field_tag(f)
    if len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], Payload):
        raise TypeError(f"{cls.__name__}.{f.name}: payload fields are unions with Item")
    if any(isinstance(m, type) and issubclass(m, Payload) for m in members):
        return _payload_field(f, index, tag, required)
    if len(members) == 1:
        py = members[0]
        if tag is None and _is_dataclass_type(py):
            tag = getattr(py, "TAG", None)
        if tag is None:
            raise TypeError(f"{cls.__name__}.{f.name}: no tag")
        _, dec, enc = _leaf(py, tag, tag_def(tag))
        return _Field(f.name, index, (tag,), dec, enc, repeated=repeated, required=required)
    tags, dec, enc = _union(members, tag, tag_def(tag) if tag is not None else None)
    return _Field(f.name, index, tags, dec, enc, repeated=repeated, required=required)


def _payload_field(f: dataclasses.Field[Any], index: int, tag: int | None, required: bool) -> _Field:
    """A batch item's payload: its class follows the batch item's Operation (decoded after)."""
    assert tag is not None
    request = tag == Tag.REQUEST_PAYLOAD

    def resolve(raw: Item, vals: list[Any], ctx: Ctx) -> tuple[Any, KmipError | None]:
        classes = PAYLOADS.get(vals[0])  # Operation is the first field of a batch item
        if classes is None or getattr(classes[not request], "RAW", False):
            return raw, None
        try:
            payload = _plan(classes[0] if request else classes[1], ctx).decode(raw, ctx)
        except KmipError as exc:
            return raw, exc
        payload.__dict__["_item"] = raw  # the original, for exact replay (original_item)
        return payload, None

    def dec(item: Item, ctx: Ctx) -> Any:  # used only through resolve()
        return item

    def enc(value: Any, ctx: Ctx) -> Item:
        if isinstance(value, Item):
            return value if value.tag == tag else _item(Item, (tag, value.type, value.value))
        return _plan(type(value), ctx).encode(value, tag, ctx)

    fp = _Field(f.name, index, (tag,), dec, enc, repeated=False, required=required)
    fp.deferred = resolve
    return fp


# --- attributes -------------------------------------------------------------------------------


class _AttrCodec:
    """The value codec of one attribute (by 1.x name / 2.x tag)."""

    __slots__ = ("dec", "enc1", "enc2", "name", "tag")

    def __init__(self, name: str, tag: int | None) -> None:
        self.name = name
        self.tag = tag
        td = tag_def(tag) if tag is not None else None
        py = _value_type(tag, td)
        if isinstance(py, list):
            _, self.dec, self.enc1 = _union(py, Tag.ATTRIBUTE_VALUE, td)
            _, _, self.enc2 = _union(py, tag, td) if tag is not None else (None, None, self.enc1)
        else:
            _, self.dec, self.enc1 = _leaf(py, Tag.ATTRIBUTE_VALUE, td)
            self.enc2 = _leaf(py, tag, td)[2] if tag is not None else self.enc1


def _value_type(tag: int | None, td: TagDef | None) -> Any:
    """The Python type of an attribute's value, from the registry (or generic)."""
    if tag is None or td is None:
        return object
    cls = ATTRIBUTE_VALUE_CLASSES.get(tag)
    if cls is not None:
        return cls
    if tag in (Tag.UNIQUE_IDENTIFIER, Tag.LINKED_OBJECT_IDENTIFIER):
        return [str, int]
    t = td.type
    if t is None:
        return object
    if t == STRUCTURE:
        return Item
    if t == ENUMERATION:
        return td.enum if td.enum is not None else int
    if t in _INT_TYPES:
        return td.enum if td.mask and td.enum is not None else int
    return {TEXT: str, BYTES: bytes, BOOLEAN: bool, DATE_TIME: datetime, DATE_TIME_EXTENDED: datetime}[t]


_BY_NAME: dict[str, _AttrCodec] = {}
_BY_TAG: dict[int, _AttrCodec] = {}


_CUSTOM = _AttrCodec("", None)  # every custom/unknown attribute: one generic codec


def _attr_by_name(name: str) -> _AttrCodec:
    """The codec of an attribute name. Only registry names are cached: custom names come from
    peers and must not grow a cache."""
    codec = _BY_NAME.get(name)
    if codec is not None:
        return codec
    if name.startswith(("x-", "y-")):
        return _CUSTOM
    td = tag_by_name(name)
    if td is None or (td.name != name and name not in td.aliases):
        return _CUSTOM  # names must match exactly; tolerance is for the registry's own lookups
    codec = _BY_TAG.get(td.code)
    if codec is None:
        codec = _BY_TAG[td.code] = _AttrCodec(td.name, td.code)
    _BY_NAME[name] = codec
    return codec


def _attr_by_tag(tag: int, ctx: Ctx) -> _AttrCodec:
    codec = _BY_TAG.get(tag)
    if codec is None:
        td = tag_def(tag)
        if td is None:
            if ctx.strict:
                raise InvalidField(f"unknown attribute tag 0x{tag:06X}")
            return _AttrCodec(f"0x{tag:06X}", None)  # a newer minor's attribute, kept generic
        codec = _attr_by_name(td.name)
    return codec


_ATTRIBUTE: Final = int(Tag.ATTRIBUTE)
_ATTRIBUTE_NAME: Final = int(Tag.ATTRIBUTE_NAME)
_ATTRIBUTE_INDEX: Final = int(Tag.ATTRIBUTE_INDEX)
_ATTRIBUTE_VALUE: Final = int(Tag.ATTRIBUTE_VALUE)
_VENDOR_IDENTIFICATION: Final = int(Tag.VENDOR_IDENTIFICATION)


def _attribute(name: str, value: object, index: int | None) -> Attribute:
    attr: Any = _new(Attribute)
    attr.__dict__.update(name=name, value=value, index=index)
    return cast(Attribute, attr)


def _decode_attribute_v1(item: Item, ctx: Ctx) -> Attribute:
    """1.x Attribute {Attribute Name, Attribute Index?, Attribute Value} (spec 1.4 2.1.1)."""
    if item.tag != _ATTRIBUTE or item.type != STRUCTURE:
        raise _wrong_type(item.tag)
    children = item.value
    if len(children) == 2:  # the usual {Name, Value}
        first, raw = children
        if first.tag == _ATTRIBUTE_NAME and first.type == TEXT and raw.tag == _ATTRIBUTE_VALUE:
            return _attribute(first.value, _attr_by_name(first.value).dec(raw, ctx), None)
    name = index = raw = None
    for child in children:
        tag = child.tag
        if tag == _ATTRIBUTE_NAME and child.type == TEXT and name is None:
            name = child.value
        elif tag == _ATTRIBUTE_INDEX and child.type == INTEGER and index is None:
            index = child.value
        elif tag == _ATTRIBUTE_VALUE and raw is None:
            raw = child
        elif tag in (_ATTRIBUTE_NAME, _ATTRIBUTE_INDEX, _ATTRIBUTE_VALUE):
            raise InvalidField("malformed Attribute")
        elif ctx.strict:
            raise InvalidField(f"unexpected {_tag_name(tag)} in Attribute")
    if name is None:
        raise InvalidField("Attribute Name missing in Attribute")
    return _attribute(name, _attr_by_name(name).dec(raw, ctx) if raw is not None else None, index)


def _encode_attribute_v1(attr: Attribute, ctx: Ctx) -> Item:
    if not isinstance(attr, Attribute):
        raise TypeError(f"Attribute needed, not {type(attr).__name__}")
    children = [_item(Item, (_ATTRIBUTE_NAME, TEXT, attr.name))]
    if attr.index is not None:
        children.append(_item(Item, (_ATTRIBUTE_INDEX, INTEGER, attr.index)))
    if attr.value is not None:
        children.append(_attr_by_name(attr.name).enc1(attr.value, ctx))
    return _item(Item, (_ATTRIBUTE, STRUCTURE, tuple(children)))


def _decode_attribute_v2(item: Item, ctx: Ctx) -> Attribute:
    """2.x: an attribute by its own tag, or a Vendor Attribute (spec 2.1 4.60) "vendor-name"."""
    if item.tag != _ATTRIBUTE:
        codec = _attr_by_tag(item.tag, ctx)
        return _attribute(codec.name, codec.dec(item, ctx), None)
    if item.type != STRUCTURE:
        raise _wrong_type(item.tag)
    vendor = name = raw = None
    for child in item.value:
        tag = child.tag
        if tag == _VENDOR_IDENTIFICATION and child.type == TEXT and vendor is None:
            vendor = child.value
        elif tag == _ATTRIBUTE_NAME and child.type == TEXT and name is None:
            name = child.value
        elif tag == _ATTRIBUTE_VALUE and raw is None:
            raw = child
        elif ctx.strict:
            raise InvalidField("malformed Vendor Attribute")
    if vendor is None or name is None:
        raise InvalidField("Vendor Identification or Attribute Name missing in Vendor Attribute")
    full = f"{vendor}-{name}"
    return _attribute(full, _attr_by_name(full).dec(raw, ctx) if raw is not None else None, None)


def _encode_attribute_v2(attr: Attribute, ctx: Ctx) -> Item:
    if not isinstance(attr, Attribute):
        raise TypeError(f"Attribute needed, not {type(attr).__name__}")
    codec = _attr_by_name(attr.name)
    if codec.tag is not None:
        return codec.enc2(attr.value, ctx)
    if attr.name.startswith("0x"):
        return _generic(int(attr.name, 16))[1](attr.value, ctx)
    vendor, sep, name = attr.name.partition("-")
    if not sep:
        raise ValueError(f"attribute {attr.name!r} is neither a 2.x attribute nor vendor-name")
    children = [
        _item(Item, (_VENDOR_IDENTIFICATION, TEXT, vendor)),
        _item(Item, (_ATTRIBUTE_NAME, TEXT, name)),
    ]
    if attr.value is not None:
        children.append(codec.enc1(attr.value, ctx))
    return _item(Item, (_ATTRIBUTE, STRUCTURE, tuple(children)))


def _decode_attribute(item: Item, ctx: Ctx) -> Attribute:
    return _decode_attribute_v2(item, ctx) if ctx.v2 else _decode_attribute_v1(item, ctx)


def _encode_attribute(attr: Attribute, ctx: Ctx) -> Item:
    return _encode_attribute_v2(attr, ctx) if ctx.v2 else _encode_attribute_v1(attr, ctx)


def _attribute_carrier(
    carrier: Tag | str, repeated: bool, v2: bool, with_names: bool
) -> tuple[tuple[int, ...], Decoder, Encoder, bool]:
    """(tags, decoder, encoder, repeated) of an attribute field in one major version."""
    build(Attribute)  # _attribute() makes instances with object.__new__
    if carrier == BARE:
        # 1.x Attribute items directly in the parent (Locate, Get Attributes response, Key Value)
        return (Tag.ATTRIBUTE,), _decode_attribute_v1, _encode_attribute_v1, repeated
    wrapper = int(cast(Tag, carrier))
    if not repeated:
        # New Attribute / Current Attribute: exactly one attribute by its own tag
        def dec_one(item: Item, ctx: Ctx) -> Any:
            if item.type != STRUCTURE:
                raise _wrong_type(item.tag)
            if len(item.value) != 1:
                raise InvalidField(f"{_tag_name(item.tag)} holds {len(item.value)} attributes")
            return _decode_attribute_v2(item.value[0], ctx)

        def enc_one(value: Any, ctx: Ctx) -> Item:
            return Item(wrapper, STRUCTURE, (_encode_attribute_v2(value, ctx),))

        return (wrapper,), dec_one, enc_one, False
    if v2:
        # Attributes / Common / Private Key / Public Key Attributes (spec 2.1 7.2-7.5)
        def dec_many(item: Item, ctx: Ctx) -> Any:
            if item.type != STRUCTURE:
                raise _wrong_type(item.tag)
            return tuple(_decode_attribute_v2(child, ctx) for child in item.value)

        def enc_many(value: Any, ctx: Ctx) -> Item:
            return Item(wrapper, STRUCTURE, tuple(_encode_attribute_v2(a, ctx) for a in value))

        return (wrapper,), dec_many, enc_many, False
    # 1.x Template-Attribute family {Name*, Attribute*} (spec 1.4 2.1.8); the Name items
    # (Template references) go to the companion ``template_names`` field when there is one
    name_dec, name_enc = _struct(Name, Tag.NAME)

    def dec_ta(item: Item, ctx: Ctx) -> Any:
        if item.type != STRUCTURE:
            raise _wrong_type(item.tag)
        attrs: list[Attribute] = []
        names: list[Any] = []
        for child in item.value:
            if child.tag == Tag.ATTRIBUTE:
                attrs.append(_decode_attribute_v1(child, ctx))
            elif child.tag == Tag.NAME and with_names:
                names.append(name_dec(child, ctx))
            elif ctx.strict:
                raise InvalidField(f"unexpected {_tag_name(child.tag)} in {_tag_name(item.tag)}")
        return (tuple(attrs), tuple(names)) if with_names else tuple(attrs)

    def enc_ta(value: Any, ctx: Ctx) -> Item:
        attrs, names = value if with_names else (value, ())
        children = [name_enc(n, ctx) for n in names]
        children.extend(_encode_attribute_v1(a, ctx) for a in attrs)
        return _item(Item, (wrapper, STRUCTURE, tuple(children)))

    return (wrapper,), dec_ta, enc_ta, False


def _attribute_reference_codec() -> tuple[Decoder, Encoder]:
    """2.x Attribute Reference (spec 2.1 5.5): the attribute's Tag as an Enumeration, or
    {Vendor Identification, Attribute Name}; the model holds the 1.x-style name either way."""

    def dec(item: Item, ctx: Ctx) -> Any:
        if item.type == ENUMERATION:
            td = tag_def(item.value)
            if td is None:
                if ctx.strict:
                    raise InvalidField("Attribute Reference to an unknown tag")
                return f"0x{item.value:06X}"
            return td.name
        if item.type != STRUCTURE:
            raise _wrong_type(item.tag)
        vendor = name = None
        for child in item.value:
            if child.tag == Tag.VENDOR_IDENTIFICATION and child.type == TEXT:
                vendor = child.value
            elif child.tag == Tag.ATTRIBUTE_NAME and child.type == TEXT:
                name = child.value
            elif ctx.strict:
                raise InvalidField("malformed Attribute Reference")
        if vendor is None or name is None:
            raise InvalidField("malformed Attribute Reference")
        return f"{vendor}-{name}"

    def enc(value: Any, ctx: Ctx) -> Item:
        if not isinstance(value, str):
            raise TypeError("an attribute name is a str")
        codec = _attr_by_name(value)
        if codec.tag is not None:
            return _item(Item, (Tag.ATTRIBUTE_REFERENCE, ENUMERATION, codec.tag))
        if value.startswith("0x"):
            return _item(Item, (Tag.ATTRIBUTE_REFERENCE, ENUMERATION, int(value, 16)))
        vendor, sep, name = value.partition("-")
        if not sep:
            raise ValueError(f"attribute {value!r} is neither a 2.x attribute nor vendor-name")
        return Item(
            Tag.ATTRIBUTE_REFERENCE,
            STRUCTURE,
            (
                _item(Item, (Tag.VENDOR_IDENTIFICATION, TEXT, vendor)),
                _item(Item, (Tag.ATTRIBUTE_NAME, TEXT, name)),
            ),
        )

    return dec, enc


# --- public entry points ------------------------------------------------------------------------


def to_item(obj: object, version: tuple[int, int]) -> Item:
    """The Item tree of a model object in ``version`` (its tag is the class's TAG)."""
    ctx = context(version)
    if isinstance(obj, Attribute):
        return _encode_attribute(obj, ctx)
    cls = type(obj)
    tag = getattr(cls, "TAG", None)
    if tag is None or "__dataclass_fields__" not in cls.__dict__:
        raise TypeError(f"not a model object: {cls.__name__}")
    return _plan(cls, ctx).encode(obj, tag, ctx)


def from_item(item: Item, cls: type[T], version: tuple[int, int]) -> T:
    """The model object of class ``cls`` an Item tree holds; raises KmipError (see module doc)."""
    ctx = context(version)
    if cls is Attribute:
        build(Attribute)  # _attribute() makes instances with object.__new__
        return cast(T, _decode_attribute(item, ctx))
    return cast(T, _plan(cls, ctx).decode(item, ctx))


def original_item(payload: object) -> Item | None:
    """The Item a decoded batch-item payload came from (None for payloads built locally)."""
    d = getattr(payload, "__dict__", None)
    return d.get("_item") if d is not None else None


def message_version(item: Item) -> Version:
    """The Protocol Version in a message's header; InvalidMessage if there is none."""
    if item.type == STRUCTURE:
        for header in item.value:
            if header.tag in (Tag.REQUEST_HEADER, Tag.RESPONSE_HEADER) and header.type == STRUCTURE:
                for pv in header.value:
                    if pv.tag == Tag.PROTOCOL_VERSION and pv.type == STRUCTURE:
                        major = minor = None
                        for part in pv.value:
                            if part.type == INTEGER:
                                if part.tag == Tag.PROTOCOL_VERSION_MAJOR:
                                    major = part.value
                                elif part.tag == Tag.PROTOCOL_VERSION_MINOR:
                                    minor = part.value
                        if major is not None and minor is not None:
                            return Version(major, minor)
                break
    raise InvalidMessage("no Protocol Version in the message header")


def _decode_message(data: bytes, cls: type[T], tag: int) -> T:
    item = ttlv.decode(data)
    if item.tag != tag or item.type != STRUCTURE:
        raise InvalidMessage(f"expected {_tag_name(tag)}")
    return from_item(item, cls, message_version(item))


def decode_request(data: bytes) -> RequestMessage:
    """TTLV bytes -> RequestMessage, in the version of its header. Raises KmipError
    (DecodeError/InvalidMessage/InvalidField); payload errors stay in ``payload_error``."""
    return _decode_message(data, RequestMessage, Tag.REQUEST_MESSAGE)


def decode_response(data: bytes) -> ResponseMessage:
    """TTLV bytes -> ResponseMessage (see decode_request)."""
    return _decode_message(data, ResponseMessage, Tag.RESPONSE_MESSAGE)


def encode_message(msg: RequestMessage | ResponseMessage, version: tuple[int, int] | None = None) -> bytes:
    """A message's TTLV bytes, in ``version`` or else the version of its header."""
    if version is None:
        header = msg.request_header if isinstance(msg, RequestMessage) else msg.response_header
        pv = header.protocol_version
        version = (pv.protocol_version_major, pv.protocol_version_minor)
    return ttlv.encode(to_item(msg, version))


__all__ = [
    "RequestPayload",
    "decode_request",
    "decode_response",
    "encode_message",
    "from_item",
    "message_version",
    "original_item",
    "plan",
    "to_item",
]
