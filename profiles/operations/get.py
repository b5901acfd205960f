"""Get (SPEC-1.4 §4.11; SPEC-2.1 §6.1.23): the managed object, in the Key Format Type asked for."""

from __future__ import annotations

from agent.model import GetRequest, GetResponse
from agent.spec import ItemType, KeyFormatType, ObjectType, Operation, ResultReason, Tag, Version
from agent.ttlv import Item
from profiles.attrs import AttrSet, index_rows, make_attr, replaced_value
from profiles.operations.base import Context, Handler, boolean, enum, fail, one, struct, text
from profiles.operations.digest import holds_digest_value
from profiles.operations.objects import KEY_OBJECTS, key_block
from profiles.store import IndexEntry

R = ResultReason
KFT = KeyFormatType


def _replace_block(obj: Item, block: Item) -> Item:
    return struct(obj.tag, (block if c.tag == Tag.KEY_BLOCK else c for c in obj.value))


def _with_format(block: Item, fmt: int, material: Item) -> Item:
    out: list[Item] = []
    for c in block.value:
        if c.tag == Tag.KEY_FORMAT_TYPE:
            out.append(enum(Tag.KEY_FORMAT_TYPE, fmt))
        elif c.tag == Tag.KEY_VALUE:
            kept = (
                tuple(x for x in c.value if x.tag != Tag.KEY_MATERIAL) if c.type == ItemType.STRUCTURE else ()
            )
            out.append(struct(Tag.KEY_VALUE, (material, *kept)))
        else:
            out.append(c)
    return struct(Tag.KEY_BLOCK, out)


def convert(object_type: int, obj: Item, wanted: int | None) -> Item:
    """The object in Key Format Type ``wanted``: symmetric keys convert between Raw and
    Transparent Symmetric Key (SPEC-1.4 §2.1.7.1: Transparent Symmetric Key = {Key}); anything
    else is Key Format Type Not Supported (SPEC-1.4 Table 338)."""
    block = key_block(obj)
    if wanted is None:
        return obj
    if block is None:
        raise fail(R.KEY_FORMAT_TYPE_NOT_SUPPORTED, "object has no key format")
    fmt_item = one(block, Tag.KEY_FORMAT_TYPE)
    current = None if fmt_item is None else int(fmt_item.value)
    if wanted == current:
        return obj
    kv = one(block, Tag.KEY_VALUE)
    if object_type != ObjectType.SYMMETRIC_KEY or kv is None or kv.type != ItemType.STRUCTURE:
        raise fail(R.KEY_FORMAT_TYPE_NOT_SUPPORTED, "conversion not supported")
    material = one(kv, Tag.KEY_MATERIAL)
    if material is None:
        raise fail(R.KEY_FORMAT_TYPE_NOT_SUPPORTED, "conversion not supported")
    if (
        current == KFT.RAW
        and wanted == KFT.TRANSPARENT_SYMMETRIC_KEY
        and material.type == ItemType.BYTE_STRING
    ):
        new = struct(Tag.KEY_MATERIAL, (Item(Tag.KEY, ItemType.BYTE_STRING, material.value),))
    elif (
        current == KFT.TRANSPARENT_SYMMETRIC_KEY and wanted == KFT.RAW and material.type == ItemType.STRUCTURE
    ):
        key = one(material, Tag.KEY)
        if key is None:
            raise fail(R.KEY_FORMAT_TYPE_NOT_SUPPORTED, "conversion not supported")
        new = Item(Tag.KEY_MATERIAL, ItemType.BYTE_STRING, key.value)
    else:
        raise fail(R.KEY_FORMAT_TYPE_NOT_SUPPORTED, "conversion not supported")
    return _replace_block(obj, _with_format(block, wanted, new))


_TRUE = boolean(Tag.FRESH, True)
_FALSE = boolean(Tag.FRESH, False)


def _fresh_row(value: Item) -> IndexEntry:
    (row,) = index_rows([make_attr("Fresh", value, 0)])
    return row


# The one index row of Fresh True and of Fresh False, as every object's rows hold it.
_FRESH_ROWS = (_fresh_row(_TRUE), _fresh_row(_FALSE))


def _patch_fresh(ctx: Context, uid: str, blob: bytes, attrs: AttrSet) -> bool:
    """The cheap exact update of a first Get: Fresh's value bytes patched in the stored
    attributes blob and its index row swapped in the store's copy, nothing else rewritten (no
    re-encoding, no second load, no index rows rebuilt, no material re-wrap). A
    compare-and-set on the blob read by this Get; False (the caller saves the whole record)
    if the blob does not allow the patch, its stored rows hold no Fresh True row, it holds a
    Digest Value stored in clear by an earlier version (a full save drops it), or it changed
    meanwhile."""
    if holds_digest_value(attrs):  # (the patch leaves the Digests as they are)
        return False
    new = replaced_value(blob, "Fresh", _TRUE, _FALSE, opened=attrs)
    if new is None:
        return False
    return ctx.store.update_attributes(uid, blob, new, swap=_FRESH_ROWS, durable=False)


def get(ctx: Context, payload: Item) -> list[Item]:
    req = ctx.decode(payload, GetRequest)
    mo = ctx.open(ctx.uid(req.unique_identifier))
    obj = mo.material_item()
    if obj is None:
        # SPEC-2.1 BL-M-8-21: Object Destroyed; 1.x "the server only has attributes for this
        # object" -> Illegal Operation (SPEC-1.4 Table 338), mapped by reason_for_version
        raise fail(R.OBJECT_DESTROYED, "object has been destroyed")
    if req.key_wrapping_specification is not None:
        raise fail(R.FEATURE_NOT_SUPPORTED, "key wrapping is not supported")
    if req.key_compression_type is not None:
        raise fail(R.KEY_COMPRESSION_TYPE_NOT_SUPPORTED, "key compression is not supported")
    if mo.object_type in KEY_OBJECTS:
        # SPEC-1.4 §3.48 / §3.50, Table 338: Sensitive / not Extractable keys are not returned
        # unwrapped (SPEC-2.1 BL-M-12-21)
        if mo.attrs.value("Sensitive") is True:
            raise fail(R.SENSITIVE, "object is sensitive")
        if mo.attrs.value("Extractable") is False:
            raise fail(R.NOT_EXTRACTABLE, "object is not extractable")
    out = convert(mo.object_type, obj, req.key_format_type)
    # SPEC-1.4 §3.34: Fresh becomes False once the object has been retrieved (BL-M-13-21).
    # Not durable: a Fresh=False lost in a crash only reports the key fresh once more,
    # while waiting for the fsync would make every first Get wait on the disk.
    if mo.attrs.value("Fresh") is True and not _patch_fresh(ctx, mo.uid, mo.rec.attributes, mo.attrs):
        mo.attrs.set("Fresh", _FALSE)
        ctx.save(mo, changed=False, durable=False)
    return _response(ctx, mo.object_type, mo.uid, out)


def _response(ctx: Context, object_type: int, uid: str, obj: Item) -> list[Item]:
    """The Get Response Payload's children: agent.model's GetResponse of the object read with
    the model in the answer's version. For an object of a shape (tags, item types, values but
    its Byte Strings') whose model round trip was seen to give the response built directly,
    that response without the round trip: the model's answer depends on nothing else."""
    shape = _shape(obj)
    key = None if shape is None else (ctx.version, object_type, shape)
    if key is not None and _SAME.get(key):
        return [_object_type(object_type), text(Tag.UNIQUE_IDENTIFIER, uid), obj]
    out = ctx.encode(
        GetResponse(
            object_type=ObjectType(object_type),
            unique_identifier=uid,
            managed_object=ctx.decode_object(obj),
        )
    )
    if key is not None:
        if len(_SAME) >= _SAME_MAX:
            _SAME.clear()
        _SAME[key] = out == [_object_type(object_type), text(Tag.UNIQUE_IDENTIFIER, uid), obj]
    return out


# (version, Object Type, shape) -> whether the model's response is the object as stored
_SAME: dict[tuple[Version, int, tuple[object, ...]], bool] = {}
_SAME_MAX = 256
_SHAPED = {ItemType.ENUMERATION, ItemType.INTEGER, ItemType.BOOLEAN}


def _shape(item: Item) -> tuple[object, ...] | None:
    """Tag, item type and value of every item but the Byte Strings' (key material is never
    kept in a cache key), for objects of Structures, Byte Strings and small numbers only
    (Enumeration, Integer, Boolean); None for any other object (no fast path)."""
    if item.type == ItemType.STRUCTURE:
        parts: list[object] = [item.tag]
        for c in item.value:
            sub = _shape(c)
            if sub is None:
                return None
            parts.append(sub)
        return tuple(parts)
    if item.type == ItemType.BYTE_STRING:
        return (item.tag, ItemType.BYTE_STRING)
    if item.type in _SHAPED:
        return (item.tag, item.type, item.value, type(item.value))
    return None


def _object_type(value: int) -> Item:
    return enum(Tag.OBJECT_TYPE, value)


HANDLERS: dict[Operation, Handler] = {Operation.GET: get}
