"""What every operation handler shares: the engine configuration, the per-batch context,
payload helpers and the loaded managed object.

A handler is ``(ctx: Context, payload: Item) -> list[Item]``: it reads the Request Payload
Item and returns the children of the Response Payload. It raises :class:`KmipError` to fail
(the batch loop turns it into Result Status / Result Reason, SPEC-1.4 §11). Handlers that read
or write attributes decode the payload into agent.model's ``<Op>Request`` (:meth:`Context.decode`)
and answer with its ``<Op>Response`` (:meth:`Context.encode`): the model writes the 1.x or 2.x
attribute forms, the engine never builds them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar, get_args

from agent.errors import KmipError
from agent.model import Attribute, from_item, to_item
from agent.model import ManagedObject as ModelObject
from agent.spec import (
    V2_0,
    ItemType,
    ObjectType,
    Operation,
    ResultReason,
    State,
    Tag,
    UniqueIdentifier,
    Version,
    tag_def,
)
from agent.ttlv import Item, decode, encode
from profiles.attrs import Attr, AttrError, AttrSet, attr_from_model, index_rows
from profiles.catalog import DEFAULT_PROFILES, Catalog
from profiles.entropy import new_uuid, random_bytes
from profiles.keyprotect import KeyProtectionError
from profiles.operations.digest import remnant, stored_attributes, with_digest_values
from profiles.policy import Policy
from profiles.store.base import ObjectRecord, Storage

R = ResultReason
T = TypeVar("T")
log = logging.getLogger("keyshelf.engine")
# agent.model's managed object classes by tag (SPEC-1.4 §2.2, SPEC-2.1 §2.2)
_OBJECT_CLASSES: dict[int, type[ModelObject]] = {cls.TAG: cls for cls in get_args(ModelObject)}

Handler = Callable[["Context", Item], list[Item]]


@dataclass(frozen=True)
class EngineConfig:
    """The engine's settings (the server maps its ServerConfig onto this)."""

    profiles: tuple[str, ...] = DEFAULT_PROFILES
    admins: frozenset[str] = frozenset()
    vendor_identification: str = "keyshelf"
    server_information: str | None = None  # None: an empty Server Information structure
    # Query Application Namespaces (SPEC-1.4 §4.25); the tape profile's namespaces (TLP §2.4)
    application_namespaces: tuple[str, ...] = ("LIBRARY-LTO", "LIBRARY-LTO4", "LIBRARY-LTO5", "LIBRARY-LTO6")
    lease_time: int = 3600  # seconds, the Lease Time the server grants (SPEC-1.4 §3.20)
    max_batch_items: int = 256  # TLP §2.3 requires at least 32
    max_attributes: int = 1024  # instances per object (TLP 2.x: >= 32 vendor attributes)
    max_text: int = 65536  # characters per attribute name / text value (TLP: >= 255)
    max_locate_items: int = 10000  # upper bound of a Locate answer without Maximum Items
    # The Random Number Generator attribute / Query RNGs answer (SPEC-1.4 §3.44, §2.1.18): the
    # RNG Algorithm enumeration of the generator behind ``random``. The default
    # (profiles.entropy.random_bytes) draws from the kernel CSPRNG, which none of the named
    # algorithms describes: Unspecified. A deployment whose ``random`` is, e.g., an HSM's
    # ANSI X9.31 generator sets it here.
    rng_algorithm: int = 1  # RNG Algorithm Unspecified


@dataclass
class Services:
    """The long-lived things handlers use."""

    config: EngineConfig
    store: Storage
    catalog: Catalog
    policy: Policy
    clock: Callable[[], float] = time.time
    random: Callable[[int], bytes] = random_bytes
    new_uid: Callable[[], str] = new_uuid


def fail(reason: ResultReason, message: str) -> KmipError:
    """A KmipError with ``reason`` (mapped to the peer's version by the batch loop)."""
    return KmipError(message, reason)


# --------------------------------------------------------------------------------------------
# Payload helpers
# --------------------------------------------------------------------------------------------


def children(item: Item | None, tag: int) -> list[Item]:
    if item is None or item.type != ItemType.STRUCTURE:
        return []
    return [c for c in item.value if c.tag == tag]


def one(item: Item | None, tag: int, *, kind: ItemType | None = None) -> Item | None:
    """The single child ``tag`` of ``item``; a repeated field is Invalid Message (SPEC-1.4 §11.1)."""
    if item is None or item.type != ItemType.STRUCTURE:
        return None
    found: Item | None = None
    for c in item.value:
        if c.tag == tag:
            if found is not None:
                raise fail(R.INVALID_MESSAGE, "field repeated")
            found = c
    if found is not None and kind is not None and found.type != kind:
        raise fail(R.INVALID_MESSAGE, "field has the wrong item type")
    return found


def text(tag: int, value: str) -> Item:
    return Item(tag, ItemType.TEXT_STRING, value)


def enum(tag: int, value: int) -> Item:
    return Item(tag, ItemType.ENUMERATION, int(value))


def integer(tag: int, value: int) -> Item:
    return Item(tag, ItemType.INTEGER, int(value))


def boolean(tag: int, value: bool) -> Item:
    return Item(tag, ItemType.BOOLEAN, bool(value))


def date(tag: int, value: int) -> Item:
    return Item(tag, ItemType.DATE_TIME, int(value))


def struct(tag: int, items: Iterable[Item]) -> Item:
    return Item(tag, ItemType.STRUCTURE, tuple(items))


# --------------------------------------------------------------------------------------------
# Managed objects
# --------------------------------------------------------------------------------------------


@dataclass
class ManagedObject:
    """A stored object opened for one operation: its record, attributes and effective state."""

    rec: ObjectRecord
    attrs: AttrSet

    @property
    def uid(self) -> str:
        return self.rec.uid

    @property
    def object_type(self) -> int:
        return self.rec.object_type

    @property
    def state(self) -> State:
        return State(self.rec.state)

    def material_item(self) -> Item | None:
        """The managed object with its value; None once destroyed."""
        if self.rec.material is None:
            return None
        item = decode(self.rec.material)
        return None if item.tag == Tag.DIGEST else item  # a destroyed object's remnant (digest.py)

    def set_material(self, item: Item | None) -> None:
        """None: the value is gone (Destroy); its Digest stays, wrapped like the value was."""
        self.rec.material = remnant(self.rec.object_type, self.rec.material) if item is None else encode(item)

    def reported_attrs(self) -> AttrSet:
        """The attributes as reported: with the Digest Value derived from the material."""
        return with_digest_values(self.rec.object_type, self.rec.material, self.attrs)


def has_state(object_type: int) -> bool:
    """Templates have no State (SPEC-1.4 §3.22 applies to cryptographic objects)."""
    return object_type != ObjectType.TEMPLATE


def effective_state(stored: int, attrs: AttrSet, now: int) -> int:
    """The state at ``now``: a future Activation / Deactivation Date takes effect when it
    arrives (SPEC-1.4 §3.22 transitions 4 and 6: "Activation Date has been reached",
    "Deactivation Date has been reached")."""
    if stored not in (State.PRE_ACTIVE, State.ACTIVE):
        return stored
    act = attrs.value("Activation Date")
    deact = attrs.value("Deactivation Date")
    return dated_state(
        stored,
        activation_reached=isinstance(act, int) and act <= now,
        deactivation_reached=isinstance(deact, int) and deact <= now,
    )


def dated_state(stored: int, *, activation_reached: bool, deactivation_reached: bool) -> int:
    """The state once the dates that were reached take effect (:func:`effective_state`; Locate
    answers the same from the index rows of the dates, without loading the objects)."""
    state = stored
    if state == State.PRE_ACTIVE and activation_reached:
        state = State.ACTIVE
    if state == State.ACTIVE and deactivation_reached:
        state = State.DEACTIVATED
    return state


# --------------------------------------------------------------------------------------------
# Per-batch context
# --------------------------------------------------------------------------------------------


@dataclass
class Context:
    """One request message being processed: version, identity, time, ID Placeholder."""

    services: Services
    version: Version
    identity: str
    now: int
    placeholder: str | None = None
    # 2.x Unique Identifier enumerations / integers (SPEC-2.1 §11.58): what earlier items returned
    by_operation: dict[int, str] = field(default_factory=dict)
    returned: list[str] = field(default_factory=list)
    # the current item's object ids, for the request log
    touched: list[str] = field(default_factory=list)
    operation: Operation = Operation.QUERY
    # the version the request was written in: agent.model reads a payload strictly in a version
    # the server speaks exactly (unknown field -> Invalid Field) and ignores unknown fields of a
    # newer minor answered in ``version`` (SPEC-1.4 §11.1 Table 327); None = ``version``
    request_version: Version | None = None

    @property
    def v2(self) -> bool:
        return self.version >= V2_0

    @property
    def store(self) -> Storage:
        return self.services.store

    @property
    def config(self) -> EngineConfig:
        return self.services.config

    @property
    def is_admin(self) -> bool:
        return self.services.policy.is_admin(self.identity)

    # ---- identifiers ----
    def set_placeholder(self, uid: str | None, op: Operation | None = None) -> None:
        """SPEC-1.4 §4 / SPEC-2.1 §6.1: operations returning one Unique Identifier set the ID
        Placeholder; a Locate matching several objects empties it."""
        self.placeholder = uid
        if uid is not None:
            self.returned.append(uid)
            if op is not None:
                self.by_operation[int(op)] = uid

    def uid(self, value: str | int | None) -> str:
        """A decoded request's Unique Identifier (agent.model UID): text, the ID Placeholder when
        omitted (SPEC-1.4 §4), or a 2.x placeholder - a UniqueIdentifier enumeration or the n-th
        identifier returned in this batch, negative from the end (SPEC-2.1 §11.58)."""
        if value is None:
            if self.placeholder is None:
                raise fail(R.OBJECT_NOT_FOUND, "no Unique Identifier and no ID Placeholder")
            return self.placeholder
        if isinstance(value, str):
            return value
        if isinstance(value, UniqueIdentifier):
            return self._uid_from_enum(int(value))
        try:
            return self.returned[value]
        except IndexError:
            raise fail(R.OBJECT_NOT_FOUND, "no such earlier Unique Identifier") from None

    def _uid_from_enum(self, value: int) -> str:
        mapping: dict[int, Operation] = {
            UniqueIdentifier.CREATE: Operation.CREATE,
            UniqueIdentifier.REGISTER: Operation.REGISTER,
            UniqueIdentifier.LOCATE: Operation.LOCATE,
            UniqueIdentifier.RE_KEY: Operation.RE_KEY,
        }
        if value == UniqueIdentifier.ID_PLACEHOLDER:
            uid = self.placeholder
        else:
            op = mapping.get(value)
            uid = None if op is None else self.by_operation.get(int(op))
        if uid is None:
            raise fail(R.OBJECT_NOT_FOUND, "ID Placeholder is empty")
        return uid

    # ---- objects ----
    def open(self, uid: str, *, archived_ok: bool = False) -> ManagedObject:
        """Load an object the caller may use. Unknown objects and objects of other owners are
        both Item Not Found / Object Not Found, so their existence does not leak."""
        try:
            rec = self.store.load(uid, index=False)  # Context.save rebuilds the index rows
        except KeyProtectionError as exc:
            # a wrapped blob that does not authenticate (tampered, moved, other KEK): refuse with
            # a fixed text and log which object, never the blob or a plaintext
            log.error("stored key material of %s failed its integrity check (%s)", uid, type(exc).__name__)
            raise fail(R.GENERAL_FAILURE, "stored key material failed its integrity check") from None
        if rec is None or not self.services.policy.may_access(self.identity, rec.owner):
            raise fail(R.OBJECT_NOT_FOUND, "object not found")
        if self.v2 and rec.object_type == ObjectType.TEMPLATE:
            # Templates do not exist in 2.x (SPEC-2.1 §11.34: Object Type 6 is Reserved)
            raise fail(R.OBJECT_NOT_FOUND, "object not found")
        if rec.archived and not archived_ok:
            raise fail(R.OBJECT_ARCHIVED, "object is archived")
        attrs = AttrSet.from_bytes(rec.attributes)
        if has_state(rec.object_type):
            state = effective_state(rec.state, attrs, self.now)
            if state != rec.state:
                rec.state = state
                attrs.set("State", enum(Tag.STATE, state))
        self.touched.append(uid)
        return ManagedObject(rec, attrs)

    def save(self, obj: ManagedObject, *, changed: bool = True, durable: bool = True) -> None:
        """Write back; ``changed`` sets Last Change Date (SPEC-1.4 §3.38); ``durable=False``
        only for writes whose loss in a crash is harmless (Storage.update)."""
        if changed:
            obj.attrs.set("Last Change Date", date(Tag.LAST_CHANGE_DATE, self.now))
        # SPEC-1.4 §3.49 / §3.51: Always Sensitive stays True only while Sensitive has always been
        # True; Never Extractable stays True only while Extractable has always been False
        if obj.attrs.value("Always Sensitive") is True and obj.attrs.value("Sensitive") is not True:
            obj.attrs.set("Always Sensitive", boolean(Tag.ALWAYS_SENSITIVE, False))
        if obj.attrs.value("Never Extractable") is True and obj.attrs.value("Extractable") is not False:
            obj.attrs.set("Never Extractable", boolean(Tag.NEVER_EXTRACTABLE, False))
        if has_state(obj.object_type):
            obj.rec.state = effective_state(obj.rec.state, obj.attrs, self.now)
            obj.attrs.set("State", enum(Tag.STATE, obj.rec.state))
        # never a Digest Value in the attributes blob or the index (digest.py; one stored in clear
        # by an earlier version is dropped here)
        stored = stored_attributes(obj.attrs)
        obj.rec.attributes = stored.to_bytes()
        obj.rec.index = index_rows(stored)
        self.store.update(obj.rec, durable=durable)

    # ---- payloads and attributes in and out (agent.model converts) ----
    def decode(self, payload: Item, cls: type[T]) -> T:
        """The typed request payload, read in the request's own version (agent.model: wrong
        item type / unknown field -> Invalid Field, repeated field -> Invalid Message)."""
        if self.v2:
            payload = _prepare_v2(payload)
        return from_item(payload, cls, self.request_version or self.version)

    def decode_object(self, obj: Item) -> ModelObject:
        """A stored managed object as agent.model's class of its tag, in the answer's version."""
        cls = _OBJECT_CLASSES.get(obj.tag)
        if cls is None:
            raise fail(R.GENERAL_FAILURE, "stored object of an unknown kind")
        return from_item(obj, cls, self.version)

    def encode(self, response: object) -> list[Item]:
        """The Response Payload's children for a typed ``<Op>Response``, in the answer's version."""
        return list(to_item(response, self.version).value)

    def attr_in(self, attribute: Attribute) -> Attr:
        """One attribute of the request, decoded by agent.model, in the engine's form."""
        try:
            attr = attr_from_model(attribute, self.version)
        except AttrError as exc:
            if exc.kind == "type":
                raise fail(R.INVALID_ATTRIBUTE_VALUE, "attribute value has the wrong type") from None
            raise fail(R.INVALID_ATTRIBUTE, "attribute not known to this version") from None
        if len(attr.name) > self.config.max_text:
            raise fail(R.INVALID_ATTRIBUTE, "attribute name too long")
        if _too_long(attr.value, self.config.max_text):
            # the bound holds for texts inside structures too (Name Value, Application Data, ...)
            raise fail(R.INVALID_ATTRIBUTE_VALUE, "attribute value too long")
        return attr


def _too_long(value: Item, limit: int) -> bool:
    """True if a Text String in ``value`` (at any depth) is longer than ``limit`` characters."""
    if value.type == ItemType.TEXT_STRING:
        return len(value.value) > limit
    if value.type == ItemType.STRUCTURE:
        return any(_too_long(c, limit) for c in value.value)
    return False


_VENDOR_ID = re.compile(r"[A-Za-z0-9_.]+")  # SPEC-2.1 §4.60 Vendor Identification characters


def _prepare_v2(item: Item) -> Item:
    """A 2.x request payload as agent.model reads it, after two checks the model cannot make:

    * Vendor Identification characters (SPEC-2.1 §4.60): the model joins a Vendor Attribute's
      names as "<vendor>-<name>", so a vendor "a-b" would be read as vendor "a";
    * a Date Time Extended where the registry says Date-Time (an attribute date, SPEC-2.1 §4)
      is accepted as that Date-Time (seconds): dates are stored as Date-Time so that 1.x
      clients can be shown them (digest §1.1: never emit Date Time Extended to a 1.x peer).
    """
    changed = False
    out: list[Item] = []
    for c in item.value:
        new = c
        if c.type == ItemType.STRUCTURE:
            new = _prepare_v2(c)
        elif c.type == ItemType.DATE_TIME_EXTENDED:
            row = tag_def(c.tag)
            if row is not None and row.type == ItemType.DATE_TIME:
                new = Item(c.tag, ItemType.DATE_TIME, int(c.value) // 1_000_000)
        elif (
            c.tag == Tag.VENDOR_IDENTIFICATION
            and c.type == ItemType.TEXT_STRING
            and c.value  # "": PyKMIP 2.0 names a standard attribute with Vendor Identification ""
            and not _VENDOR_ID.fullmatch(c.value)
        ):
            raise fail(R.INVALID_ATTRIBUTE, "invalid Vendor Identification")
        changed = changed or new is not c
        out.append(new)
    return Item(item.tag, item.type, tuple(out)) if changed else item


def check_object_type(ctx: Context, value: int) -> ObjectType:
    """An Object Type the claimed profiles handle in this version, else Invalid Field (SPEC-1.4
    Table 328 "Object Type is not recognized") / Operation Not Supported for known but
    unclaimed types (the profile-limited server)."""
    try:
        ot = ObjectType(value)
    except ValueError:
        raise fail(R.INVALID_FIELD, "Object Type is not recognized") from None
    if not ctx.services.catalog.supports_object_type(ot, ctx.version):
        raise fail(R.INVALID_FIELD, "Object Type is not supported by this server")
    return ot
