"""agent.sed: drive identity, ordering of candidate keys, and crash safety of rotation.

Rotation is run against an in-memory stand-in of the server (the KMIP semantics SedKeys
relies on: Locate matches every attribute, Register, Add Attribute, Get Attributes, Get,
Destroy) with a power cut injected before each server-changing step; after every cut the
key the drive currently accepts must still be on the server and offered at boot.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest

from agent import errors
from agent.model import (
    AddAttributeRequest,
    AddAttributeResponse,
    ApplicationSpecificInformation,
    Attribute,
    DestroyRequest,
    DestroyResponse,
    GetAttributesRequest,
    GetAttributesResponse,
    GetRequest,
    GetResponse,
    KeyBlock,
    KeyValue,
    Link,
    LocateRequest,
    LocateResponse,
    RegisterResponse,
    SecretData,
)
from agent.protocol import BatchResult
from agent.sed import Drive, SedKey, SedKeys, _newest_first, not_found_errors
from agent.spec import (
    KeyFormatType,
    LinkType,
    ObjectType,
    Operation,
    ResultReason,
    ResultStatus,
    SecretDataType,
)


def test_drive_identity() -> None:
    assert Drive(serial="S1").identity == "S1"
    assert Drive(wwn="5000c500a1b2c3d4").identity == "WWN:5000c500a1b2c3d4"
    assert Drive(serial="S1", wwn="5000").identity == "S1"
    with pytest.raises(ValueError):
        Drive()


def test_sed_key_repr_hides_the_secret() -> None:
    key = SedKey("u", b"\x99" * 32, "S1")
    assert "99" not in repr(key) and "<32 bytes>" in repr(key)


def test_newest_first_by_link_then_date() -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    old = SedKey("old", b"1", "S", t0)
    new = SedKey("new", b"2", "S", t0, replaces="old")  # same second: the link decides
    assert [k.uid for k in _newest_first([old, new])] == ["new", "old"]
    later = SedKey("later", b"3", "S", t0 + dt.timedelta(seconds=5))
    assert [k.uid for k in _newest_first([old, later])] == ["later", "old"]


def test_constructor_checks() -> None:
    client: Any = object()
    with pytest.raises(ValueError):
        SedKeys(client, "")
    with pytest.raises(ValueError):
        SedKeys(client, "g", identity="serial")
    with pytest.raises(ValueError):
        SedKeys(client, "g", identity="attribute", attribute_name="DriveId")
    with pytest.raises(ValueError):
        SedKeys(client, "g", max_batch=1)


def test_identity_attribute_forms() -> None:
    client: Any = object()
    asi = SedKeys(client, "g").identity_attribute(Drive(serial="S1"))
    assert asi == Attribute(
        "Application Specific Information", ApplicationSpecificInformation("SED-DRIVE", "S1")
    )
    custom = SedKeys(client, "g", identity="attribute").identity_attribute(Drive(serial="S1"))
    assert custom == Attribute("x-DriveIdentity", "S1")
    names = iter(["aa", "bb"])
    keys = SedKeys(client, "g", token_hex=lambda n: next(names))
    assert keys.default_name(Drive(serial="S1")) == "sed-auth/g/S1/aa"
    assert keys.default_name(None) == "sed-auth/g/drive/bb"


# --- an in-memory server ------------------------------------------------------------------


class PowerCut(Exception):
    pass


@dataclass
class Obj:
    uid: str
    attributes: list[Attribute]
    secret: bytes
    created: dt.datetime


@dataclass
class FakeKmip:
    """Just enough KMIP for SedKeys, with a power cut before the ``cut_at``-th change."""

    cut_at: int | None = None
    not_found: ResultReason = ResultReason.ITEM_NOT_FOUND  # 2.x servers: OBJECT_NOT_FOUND (0x37)
    objects: dict[str, Obj] = field(default_factory=dict)
    changes: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def deadline_at(self, deadline: float | None) -> float:
        return asyncio.get_running_loop().time() + 10

    def _change(self) -> None:
        if self.cut_at is not None and self.changes == self.cut_at:
            raise PowerCut
        self.changes += 1

    async def batch(self, *payloads: Any, **_: Any) -> tuple[Any, ...]:
        results = await self.batch_results(*payloads)
        return tuple(r.value() for r in results)

    async def batch_results(self, *payloads: Any, **_: Any) -> tuple[BatchResult, ...]:
        return tuple(self._one(p) for p in payloads)

    def _one(self, p: Any) -> BatchResult:
        if isinstance(p, LocateRequest):
            found = [o.uid for o in self.objects.values() if all(self._has(o, a) for a in p.attributes)]
            return BatchResult(
                Operation.LOCATE, ResultStatus.SUCCESS, payload=LocateResponse(unique_identifier=tuple(found))
            )
        obj = self.objects.get(str(p.unique_identifier))
        if obj is None:
            return BatchResult(Operation.GET, ResultStatus.OPERATION_FAILED, self.not_found)
        if isinstance(p, GetAttributesRequest):
            attrs = tuple(a for a in obj.attributes if a.name in p.attribute_names)
            return BatchResult(
                Operation.GET_ATTRIBUTES,
                ResultStatus.SUCCESS,
                payload=GetAttributesResponse(unique_identifier=obj.uid, attributes=attrs),
            )
        if isinstance(p, GetRequest):
            secret = SecretData(
                secret_data_type=SecretDataType.PASSWORD,
                key_block=KeyBlock(
                    key_format_type=KeyFormatType.OPAQUE, key_value=KeyValue(key_material=obj.secret)
                ),
            )
            answer = GetResponse(
                object_type=ObjectType.SECRET_DATA, unique_identifier=obj.uid, managed_object=secret
            )
            return BatchResult(Operation.GET, ResultStatus.SUCCESS, payload=answer)
        if isinstance(p, AddAttributeRequest):
            self._change()
            obj.attributes.append(p.attribute)
            return BatchResult(
                Operation.ADD_ATTRIBUTE,
                ResultStatus.SUCCESS,
                payload=AddAttributeResponse(unique_identifier=obj.uid),
            )
        if isinstance(p, DestroyRequest):
            self._change()
            del self.objects[obj.uid]
            return BatchResult(
                Operation.DESTROY, ResultStatus.SUCCESS, payload=DestroyResponse(unique_identifier=obj.uid)
            )
        raise AssertionError(f"unexpected {type(p).__name__}")

    @staticmethod
    def _has(obj: Obj, wanted: Attribute) -> bool:
        if wanted.name == "Object Type":
            return wanted.value == ObjectType.SECRET_DATA
        return any(a.name == wanted.name and a.value == wanted.value for a in obj.attributes)

    async def register_secret(self, secret: bytes, attributes: Any, **_: Any) -> RegisterResponse:
        self._change()
        uid = f"k{next(self._ids)}"
        created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # one second for all: links must order them
        attrs = [*attributes, Attribute("Initial Date", created)]
        self.objects[uid] = Obj(uid, attrs, secret, created)
        return RegisterResponse(unique_identifier=uid)

    async def destroy(self, uid: str, **_: Any) -> DestroyResponse:
        (answer,) = await self.batch(DestroyRequest(unique_identifier=uid))
        assert isinstance(answer, DestroyResponse)
        return answer


async def test_register_then_boot() -> None:
    kmip = FakeKmip()
    sed = SedKeys(kmip, "array")  # type: ignore[arg-type]
    for i in range(5):
        await sed.register(Drive(serial=f"S{i}"), bytes([i]) * 32)
    keys = await sed.unlock_keys()
    assert {ident: [k.key for k in ks] for ident, ks in keys.items()} == {
        f"S{i}": [bytes([i]) * 32] for i in range(5)
    }
    only = await sed.unlock_keys([Drive(serial="S3")])
    assert list(only) == ["S3"]
    await sed.register(Drive(serial="S8"), b"x", name="fixed")
    with pytest.raises(errors.ObjectAlreadyExists):  # SASED-M-2 step 1: the Name must be free
        await sed.register(Drive(serial="S9"), b"y", name="fixed")
    with pytest.raises(ValueError):
        await sed.register(Drive(serial="S9"), b"")


@pytest.mark.parametrize("cut_at", [0, 1, 2, 3, None])
async def test_rotation_survives_a_power_cut_at_every_step(cut_at: int | None) -> None:
    kmip = FakeKmip()
    sed = SedKeys(kmip, "array")  # type: ignore[arg-type]
    drive = Drive(serial="S1")
    await sed.register(drive, b"\x01" * 32)
    accepted = {"key": b"\x01" * 32}  # what the drive accepts right now

    async def apply(old: bytes | None, new: bytes) -> None:
        assert old == accepted["key"]
        accepted["key"] = new

    kmip.cut_at = None if cut_at is None else kmip.changes + cut_at
    with contextlib.suppress(PowerCut):
        await sed.rotate(drive, b"\x02" * 32, apply=apply)
    kmip.cut_at = None
    # boot after the cut: the drive's key is among the candidates (newest first)
    candidates = [k.key for k in await sed.keys_for(drive)]
    assert accepted["key"] in candidates
    if accepted["key"] == b"\x02" * 32:
        assert candidates[0] == b"\x02" * 32
    if cut_at is None:
        assert candidates == [b"\x02" * 32]


async def test_boot_skips_a_key_that_vanished_after_the_locate() -> None:
    kmip = FakeKmip()
    sed = SedKeys(kmip, "array")  # type: ignore[arg-type]
    await sed.register(Drive(serial="S1"), b"\x01" * 32)
    await sed.register(Drive(serial="S2"), b"\x02" * 32)
    real = kmip.batch_results

    async def racing(*payloads: Any, **kw: Any) -> tuple[BatchResult, ...]:
        if any(isinstance(p, GetRequest) for p in payloads):
            kmip.objects.pop("k1", None)  # destroyed between the Locate and the Get
        return await real(*payloads, **kw)

    kmip.batch_results = racing  # type: ignore[method-assign]
    keys = await sed.unlock_keys()
    assert list(keys) == ["S2"]
    kmip.objects.clear()
    kmip.batch_results = real  # type: ignore[method-assign]
    assert await sed.unlock_keys() == {}


def links_of(kmip: FakeKmip, uid: str) -> list[tuple[LinkType, str]]:
    return [
        (a.value.link_type, str(a.value.linked_object_identifier))
        for a in kmip.objects[uid].attributes
        if isinstance(a.value, Link)
    ]


async def test_rotation_links_new_and_old() -> None:
    kmip = FakeKmip()
    sed = SedKeys(kmip, "array")  # type: ignore[arg-type]
    drive = Drive(serial="S1")
    first = await sed.register(drive, b"\x01" * 32)
    second = await sed.register(drive, b"\x02" * 32, replaces=first)  # the hook's first step
    assert links_of(kmip, second) == [(LinkType.REPLACED_OBJECT_LINK, first)]
    assert links_of(kmip, first) == [(LinkType.REPLACEMENT_OBJECT_LINK, second)]
    assert [k.uid for k in await sed.keys_for(drive)] == [second, first]
    assert (await sed.keys_for(drive))[0].replaces == first
    assert await sed.retire(drive, keep_uid=second) == 1  # the hook's last step
    third = await sed.rotate(drive, b"\x03" * 32)
    assert links_of(kmip, third) == [(LinkType.REPLACED_OBJECT_LINK, second)]
    assert [k.uid for k in await sed.keys_for(drive)] == [third]


@pytest.mark.parametrize("reason", [ResultReason.ITEM_NOT_FOUND, ResultReason.OBJECT_NOT_FOUND])
async def test_not_found_is_the_same_answer_from_1x_and_2x_servers(reason: ResultReason) -> None:
    assert issubclass(type(errors.error_for(reason)), not_found_errors())
    kmip = FakeKmip(not_found=reason)
    sed = SedKeys(kmip, "array")  # type: ignore[arg-type]
    drive = Drive(serial="S1")
    old = await sed.register(drive, b"\x01" * 32)
    # the old key vanishes between the Locate and its Get: the server's own "not found"
    real = kmip.batch_results

    async def racing(*payloads: Any, **kw: Any) -> tuple[BatchResult, ...]:
        if any(isinstance(p, GetRequest) for p in payloads):
            kmip.objects.pop(old, None)
        return await real(*payloads, **kw)

    kmip.batch_results = racing  # type: ignore[method-assign]
    with pytest.raises(not_found_errors()):
        await sed.keys_for(drive)
    kmip.objects[old] = Obj(old, [], b"", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # back, for the Locate
    kmip.objects[old].attributes = [Attribute("Object Group", "array"), sed.identity_attribute(drive)]
    new = await sed.rotate(drive, b"\x02" * 32)  # no current key: a plain registration
    kmip.batch_results = real  # type: ignore[method-assign]
    assert [k.uid for k in await sed.keys_for(drive)] == [new]
    # the key to replace is gone: the new key's link is still written, the old one's is not needed
    newer = await sed.register(drive, b"\x03" * 32, replaces="gone")
    assert links_of(kmip, newer) == [(LinkType.REPLACED_OBJECT_LINK, "gone")]


@pytest.mark.parametrize("reason", [ResultReason.ITEM_NOT_FOUND, ResultReason.OBJECT_NOT_FOUND])
async def test_retire_skips_a_key_already_gone(reason: ResultReason) -> None:
    kmip = FakeKmip(not_found=reason)
    sed = SedKeys(kmip, "array")  # type: ignore[arg-type]
    drive = Drive(serial="S1")
    old = await sed.register(drive, b"\x01" * 32)
    new = await sed.register(drive, b"\x02" * 32, replaces=old)
    real = kmip.destroy

    async def raced(uid: str, **kw: Any) -> DestroyResponse:
        kmip.objects.pop(uid)  # destroyed by someone else just before
        return await real(uid, **kw)

    kmip.destroy = raced  # type: ignore[method-assign]
    assert await sed.retire(drive, keep_uid=new) == 0
    with pytest.raises(errors.ItemNotFound):
        await sed.retire(drive, keep_uid="not-this-drives")
