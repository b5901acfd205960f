"""Authentication keys of self-encrypting drives: the KMIP SA-SED profile, client side.

SASED §1.1: an *Authentication Key* is the secret a self-encrypting drive checks before it
performs sensitive operations (unlock). The storage array keeps one per drive on the KMIP
server as **Secret Data** of Secret Data Type **Password** (Key Format Opaque) in the array's
**Object Group** (SASED §2.3, §3.1.2; kmip-digest §3.2), and fetches them at boot.

- Drive identity (serial number, else WWN) is stored as Application Specific Information
  ``{namespace, identity}`` (default) or as a custom attribute (``identity="attribute"``):
  SASED §2.2 says a client SHOULD NOT invent custom attributes that duplicate standard ones.
- Registration follows SASED-M-2 (1.4 / 2.x form): Locate by Name (must find nothing), then
  Register Secret Data with Object Group, identity and Name. Each key gets a Name unique on
  the server (SPEC-1.4 §3.2), so a Register whose outcome is unknown is found again instead
  of being sent twice.
- Boot follows SASED-M-3 in as few round trips as possible: one Locate by Object Group +
  Object Type, then Get Attributes + Get for every key found, packed into batches of at most
  ``max_batch`` items (32 = what a Tape Library server must accept, TLP §2.3; a batch of
  independent items with explicit identifiers needs no ordering).
- Rotation never leaves a drive without a retrievable key. The server side of it is two
  steps of this class, used by :meth:`SedKeys.rotate` and by the firmware hook
  (``firmware_hooks.rotate``, which adds the drive steps) alike:
  :meth:`SedKeys.register` with ``replaces`` (Register, then Link new -> Replaced Object old
  and old -> Replacement Object new, SPEC-1.4 §3.35), and, once the drive holds the new key,
  :meth:`SedKeys.retire` (destroy the others). A power cut at any point leaves at least the
  key the drive currently accepts on the server; :meth:`SedKeys.keys_for` returns every
  candidate, newest first, and the array tries them in that order.
- "No such object" is Item Not Found from a 1.x server and Object Not Found (0x37) from a
  2.x one: both mean the same here (:func:`not_found_errors`).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from agent.client import Client
    from agent.errors import KmipError
    from agent.model import Attribute
    from agent.protocol import BatchResult

IDENTITY_NAMESPACE: Final = "SED-DRIVE"
IDENTITY_ATTRIBUTE: Final = "x-DriveIdentity"
_ASI = "Application Specific Information"


@dataclass(frozen=True)
class Drive:
    """A self-encrypting drive: serial number and/or World Wide Name."""

    serial: str | None = None
    wwn: str | None = None

    def __post_init__(self) -> None:
        if not (self.serial or self.wwn):
            raise ValueError("a drive needs a serial number or a WWN")

    @property
    def identity(self) -> str:
        """The text stored on the server: the serial number, else ``WWN:<wwn>``."""
        return self.serial if self.serial else f"WWN:{self.wwn}"


@dataclass(frozen=True)
class SedKey:
    """An authentication key as fetched. ``repr`` never shows the secret."""

    uid: str
    key: bytes = field(repr=False)
    identity: str | None
    initial_date: datetime | None = None
    replaces: str | None = None  # uid of the key this one replaced (Link Replaced Object)

    def __repr__(self) -> str:
        return f"SedKey(uid={self.uid!r}, identity={self.identity!r}, key=<{len(self.key)} bytes>)"


class SedKeys:
    """SED authentication keys of one array (Object Group ``group``) over a Client."""

    def __init__(
        self,
        client: Client,
        group: str,
        *,
        identity: str = "asi",
        namespace: str = IDENTITY_NAMESPACE,
        attribute_name: str = IDENTITY_ATTRIBUTE,
        max_batch: int = 32,
        token_hex: Callable[[int], str] = secrets.token_hex,
    ) -> None:
        if not group:
            raise ValueError("an Object Group is needed")
        if identity not in ("asi", "attribute"):
            raise ValueError("identity is 'asi' or 'attribute'")
        if not attribute_name.startswith("x-"):
            raise ValueError("a client's custom attribute name starts with 'x-' (SPEC-1.4 §3.39)")
        if max_batch < 2:
            raise ValueError("max_batch must be at least 2")
        self.client = client
        self.group = group
        self.identity_mode = identity
        self.namespace = namespace
        self.attribute_name = attribute_name
        self.max_batch = max_batch
        self._token_hex = token_hex

    # -- attributes -----------------------------------------------------------------------

    def identity_attribute(self, drive: Drive) -> Attribute:
        from agent.model import ApplicationSpecificInformation, Attribute

        if self.identity_mode == "asi":
            return Attribute(_ASI, ApplicationSpecificInformation(self.namespace, drive.identity))
        return Attribute(self.attribute_name, drive.identity)

    @property
    def identity_name(self) -> str:
        return _ASI if self.identity_mode == "asi" else self.attribute_name

    def _identity_of(self, attributes: Sequence[Attribute]) -> str | None:
        from agent.model import ApplicationSpecificInformation

        for a in attributes:
            if self.identity_mode == "asi" and isinstance(a.value, ApplicationSpecificInformation):
                if a.value.application_namespace == self.namespace:
                    return a.value.application_data
            elif a.name == self.attribute_name and isinstance(a.value, str):
                return a.value
        return None

    def default_name(self, drive: Drive | None) -> str:
        """A Name unique on the server for a new key (Names are unique, SPEC-1.4 §3.2)."""
        who = drive.identity if drive is not None else "drive"
        return f"sed-auth/{self.group}/{who}/{self._token_hex(8)}"

    # -- registration (SASED-M-2) ------------------------------------------------------------

    async def register(
        self,
        drive: Drive | None,
        key: bytes,
        *,
        name: str | None = None,
        attributes: Sequence[Attribute] = (),
        replaces: str | None = None,
        deadline: float | None = None,
    ) -> str:
        """Register ``key`` as the drive's authentication key; returns its Unique Identifier.

        SASED-M-2-14/21: Locate{Name, Object Type Secret Data} must find nothing (else
        ``agent.errors.ObjectAlreadyExists``), then Register Secret Data (Password, Opaque) with
        attributes Object Group, drive identity, ``attributes`` (x-...), Name.
        With ``replaces`` (the uid of the key this one succeeds, first step of a rotation) the
        two are then linked, see :meth:`link_replacement`.
        """
        from agent.errors import ObjectAlreadyExists
        from agent.model import Attribute, Name
        from agent.spec import ObjectType

        if not isinstance(key, bytes) or not key:
            raise ValueError("an authentication key is a non-empty byte string")
        chosen = name if name is not None else self.default_name(drive)
        end = self.client.deadline_at(deadline)
        existing = await self.client.batch(
            _locate(Attribute("Name", Name(chosen)), Attribute("Object Type", ObjectType.SECRET_DATA)),
            end=end,
        )
        if existing[0].unique_identifier:
            raise ObjectAlreadyExists("an authentication key with this Name exists")
        attrs: list[Attribute] = [Attribute("Object Group", self.group)]
        if drive is not None:
            attrs.append(self.identity_attribute(drive))
        attrs += [*attributes, Attribute("Name", Name(chosen))]
        remaining = max(0.001, end - _now())
        answer = await self.client.register_secret(key, attrs, deadline=remaining)
        uid = str(answer.unique_identifier)
        if replaces is not None:
            await self.link_replacement(uid, replaces, deadline=max(0.001, end - _now()))
        return uid

    async def link_replacement(self, new_uid: str, old_uid: str, *, deadline: float | None = None) -> None:
        """Link a new key to the one it replaces (SPEC-1.4 §3.35), one batch of two Add Attribute:
        new -> Link(Replaced Object, old), old -> Link(Replacement Object, new).

        The new key's link is required (it orders the keys at boot, :func:`_newest_first`); the
        old key's may fail only because that key is gone (destroyed or removed meanwhile)."""
        from agent.errors import ObjectDestroyed
        from agent.model import AddAttributeRequest, Attribute, Link
        from agent.spec import BatchErrorContinuationOption, LinkType

        results = await self.client.batch_results(
            AddAttributeRequest(
                unique_identifier=new_uid,
                attribute=Attribute("Link", Link(LinkType.REPLACED_OBJECT_LINK, old_uid)),
            ),
            AddAttributeRequest(
                unique_identifier=old_uid,
                attribute=Attribute("Link", Link(LinkType.REPLACEMENT_OBJECT_LINK, new_uid)),
            ),
            order=False,
            continuation=BatchErrorContinuationOption.CONTINUE,
            deadline=deadline,
        )
        results[0].value()
        error = results[1].error()
        if error is not None and not isinstance(error, (*not_found_errors(), ObjectDestroyed)):
            raise error

    # -- boot (SASED-M-3) ---------------------------------------------------------------------

    async def unlock_keys(
        self, drives: Sequence[Drive] | None = None, *, deadline: float | None = None
    ) -> dict[str, list[SedKey]]:
        """Every authentication key of the array, by drive identity, newest first.

        One Locate by Object Group + Object Type (SASED-M-3 step 1), then Get Attributes
        (identity, Initial Date, Link) + Get per key, batched. With ``drives``, only those.
        """
        from agent.model import Attribute
        from agent.spec import ObjectType

        end = self.client.deadline_at(deadline)
        (located,) = await self.client.batch(
            _locate(Attribute("Object Group", self.group), Attribute("Object Type", ObjectType.SECRET_DATA)),
            end=end,
        )
        keys = await self._fetch([str(u) for u in located.unique_identifier], end)
        wanted = None if drives is None else {d.identity for d in drives}
        found: dict[str, list[SedKey]] = {}
        for k in keys:
            if k.identity is None or (wanted is not None and k.identity not in wanted):
                continue
            found.setdefault(k.identity, []).append(k)
        return {ident: _newest_first(ks) for ident, ks in found.items()}

    async def keys_for(self, drive: Drive, *, deadline: float | None = None) -> list[SedKey]:
        """The drive's keys, newest first (more than one only after an interrupted rotation).
        Raises ``agent.errors.ItemNotFound`` when there is none (or, when every key found vanished
        before its Get, the server's own error: Item/Object Not Found, Object Destroyed)."""
        from agent.errors import ItemNotFound
        from agent.model import Attribute
        from agent.spec import ObjectType

        end = self.client.deadline_at(deadline)
        (located,) = await self.client.batch(
            _locate(
                Attribute("Object Group", self.group),
                Attribute("Object Type", ObjectType.SECRET_DATA),
                self.identity_attribute(drive),
            ),
            end=end,
        )
        keys = await self._fetch([str(u) for u in located.unique_identifier], end)
        if not keys:
            raise ItemNotFound("no authentication key for this drive")
        return _newest_first(keys)

    async def _fetch(self, uids: Sequence[str], end: float) -> list[SedKey]:
        """Get Attributes + Get for each uid, ``max_batch // 2`` keys per request message."""
        from agent.client import key_material
        from agent.model import GetAttributesRequest, GetRequest
        from agent.spec import BatchErrorContinuationOption

        names = (self.identity_name, "Initial Date", "Link")
        per_message = self.max_batch // 2
        keys: list[SedKey] = []
        failures: list[BatchResult] = []
        for start in range(0, len(uids), per_message):
            chunk = uids[start : start + per_message]
            payloads: list[Any] = []
            for uid in chunk:
                payloads += [
                    GetAttributesRequest(unique_identifier=uid, attribute_names=names),
                    GetRequest(unique_identifier=uid),
                ]
            # independent items with explicit identifiers: order not needed, keep going past
            # a failed item (SPEC-1.4 §6.13 Continue) so one bad key does not hide the others
            results = await self.client.batch_results(
                *payloads, order=False, continuation=BatchErrorContinuationOption.CONTINUE, end=end
            )
            for i, uid in enumerate(chunk):
                attrs_result, get_result = results[2 * i], results[2 * i + 1]
                if attrs_result.ok and get_result.ok:
                    keys.append(self._sed_key(uid, attrs_result, get_result, key_material))
                else:  # e.g. destroyed since the Locate: not a usable key, the others still are
                    failures.append(get_result if attrs_result.ok else attrs_result)
        if failures and not keys:
            failures[0].value()  # nothing usable at all: raise the server's typed error
        return keys

    def _sed_key(
        self,
        uid: str,
        attrs_result: BatchResult,
        get_result: BatchResult,
        key_material: Callable[[object], bytes],
    ) -> SedKey:
        from agent.model import Link
        from agent.spec import LinkType

        attributes = attrs_result.value().attributes
        identity = self._identity_of(attributes)
        initial = next((a.value for a in attributes if a.name == "Initial Date"), None)
        replaces = next(
            (
                str(a.value.linked_object_identifier)
                for a in attributes
                if isinstance(a.value, Link) and a.value.link_type == LinkType.REPLACED_OBJECT_LINK
            ),
            None,
        )
        secret = key_material(get_result.value().managed_object)
        return SedKey(uid, secret, identity, initial if isinstance(initial, datetime) else None, replaces)

    # -- rotation -------------------------------------------------------------------------

    async def rotate(
        self,
        drive: Drive,
        new_key: bytes,
        *,
        apply: Callable[[bytes | None, bytes], Awaitable[None]] | None = None,
        deadline: float | None = None,
    ) -> str:
        """Replace the drive's authentication key; returns the new key's Unique Identifier.

        1. :meth:`register` the new key with ``replaces`` = the newest current key: Register,
           then Link new -> Replaced Object old, old -> Replacement Object new (the old key
           stays retrievable);
        2. ``apply(old_key, new_key)`` sets the new key on the drive (if given);
        3. only then :meth:`retire` the old key(s).
        A power cut before 3 leaves both keys, the new one first in :meth:`keys_for`.
        ``firmware_hooks.rotate`` runs the same server steps around its own drive steps.
        """
        try:
            current = await self.keys_for(drive, deadline=deadline)
        except not_found_errors():
            current = []
        old = current[0] if current else None
        new_uid = await self.register(drive, new_key, replaces=old.uid if old else None, deadline=deadline)
        if apply is not None:
            await apply(old.key if old else None, new_key)
        await self.retire(drive, keep_uid=new_uid, deadline=deadline)
        return new_uid

    async def retire(self, drive: Drive, keep_uid: str, *, deadline: float | None = None) -> int:
        """Destroy the drive's keys other than ``keep_uid``; returns how many were destroyed.

        Destroy is allowed on Pre-Active keys (SA-SED keys are never activated); an Active one
        is first revoked (Cessation of Operation -> Deactivated, SPEC-1.4 §4.20, §3.22). A key
        already gone (Item/Object Not Found, Object Destroyed) is not counted. Raises
        ``ItemNotFound`` when ``keep_uid`` is not among the drive's keys."""
        from agent.errors import ItemNotFound, ObjectDestroyed, PermissionDenied, WrongKeyLifecycleState

        try:
            keys = await self.keys_for(drive, deadline=deadline)
        except not_found_errors():
            keys = []
        if keep_uid not in {k.uid for k in keys}:
            raise ItemNotFound("the key to keep is not among the drive's keys")
        gone: tuple[type[KmipError], ...] = (*not_found_errors(), ObjectDestroyed)
        count = 0
        for k in keys:
            if k.uid == keep_uid:
                continue
            try:
                try:
                    await self.client.destroy(k.uid, deadline=deadline)
                except (PermissionDenied, WrongKeyLifecycleState):
                    await self.client.revoke(k.uid, deadline=deadline)
                    await self.client.destroy(k.uid, deadline=deadline)
            except gone:
                continue  # retired meanwhile (another rotation, an administrator)
            count += 1
        return count


def not_found_errors() -> tuple[type[KmipError], ...]:
    """The errors meaning "no such object": 1.x Item Not Found, 2.x Object Not Found (0x37)."""
    from agent.errors import ItemNotFound, ObjectNotFound

    return (ItemNotFound, ObjectNotFound)


def _locate(*attributes: Attribute) -> Any:
    from agent.model import LocateRequest

    return LocateRequest(attributes=attributes)


def _now() -> float:
    import asyncio

    return asyncio.get_running_loop().time()


def _newest_first(keys: Sequence[SedKey]) -> list[SedKey]:
    """Newest first: a key that replaced another comes before it; then by Initial Date."""
    replaced = {k.replaces for k in keys if k.replaces}
    epoch = datetime.min

    def rank(k: SedKey) -> tuple[int, datetime]:
        stamp = k.initial_date.replace(tzinfo=None) if k.initial_date else epoch
        return (0 if k.uid in replaced else 1, stamp)

    return sorted(keys, key=rank, reverse=True)


__all__ = ["IDENTITY_ATTRIBUTE", "IDENTITY_NAMESPACE", "Drive", "SedKey", "SedKeys", "not_found_errors"]
