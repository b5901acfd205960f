"""Re-key (SPEC-1.4 §4.4; SPEC-2.1 §6.1.41): a replacement for an existing symmetric key.

The replacement takes the existing key's attributes (Table 173 lists the exceptions), its
Name(s) move to the replacement, and the two are linked (Replacement Object / Replaced Object).
With an Offset the dates are recomputed as in Table 172; without one they are copied.
"""

from __future__ import annotations

from agent.model import ReKeyRequest, ReKeyResponse
from agent.spec import LinkType, ObjectType, Operation, ResultReason, Tag
from agent.ttlv import Item
from profiles.attrs import Attr, rule_for
from profiles.operations.base import Context, Handler, date, enum, fail, one, struct, text
from profiles.operations.objects import (
    check_client_attributes,
    generate_symmetric,
    insert_object,
    key_block,
    request_attributes,
    symmetric_key_item,
)

R = ResultReason

# Table 173: not copied to the replacement (set anew by the server or not set at all)
_NOT_COPIED = {
    "Unique Identifier",
    "Initial Date",
    "Destroy Date",
    "Compromise Occurrence Date",
    "Compromise Date",
    "Revocation Reason",
    "Digest",
    "Link",
    "Last Change Date",
    "Random Number Generator",
    "State",
    "Short Unique Identifier",
    "Archive Date",
    "Fresh",
    "Always Sensitive",
    "Never Extractable",
    "Lease Time",
    "Original Creation Date",
    "Key Format Type",
    "Protection Storage Mask",
    "Object Type",
    "Cryptographic Algorithm",
    "Cryptographic Length",
}
_DATES = ("Activation Date", "Process Start Date", "Protect Stop Date", "Deactivation Date")


def _link(kind: int, uid: str) -> Item:
    return struct(Tag.LINK, (enum(Tag.LINK_TYPE, kind), text(Tag.LINKED_OBJECT_IDENTIFIER, uid)))


def rekey(ctx: Context, payload: Item) -> list[Item]:
    req = ctx.decode(payload, ReKeyRequest)
    old = ctx.open(ctx.uid(req.unique_identifier))
    if old.object_type != ObjectType.SYMMETRIC_KEY:
        raise fail(R.PERMISSION_DENIED if not ctx.v2 else R.INVALID_OBJECT_TYPE, "object cannot be re-keyed")
    material = old.material_item()
    block = key_block(material)
    if block is None:
        raise fail(R.KEY_VALUE_NOT_PRESENT, "the key value is not present")  # Table 331
    alg = one(block, Tag.CRYPTOGRAPHIC_ALGORITHM)
    length = one(block, Tag.CRYPTOGRAPHIC_LENGTH)
    if alg is None or length is None:
        raise fail(R.PERMISSION_DENIED, "object cannot be re-keyed")
    offset = req.offset
    requested = check_client_attributes(
        ctx, request_attributes(ctx, req.attributes or (), req.template_names), ObjectType.SYMMETRIC_KEY
    )
    if offset is not None and any(a.name in _DATES for a in requested):
        raise fail(R.INVALID_MESSAGE, "Offset together with date attributes")  # Table 331

    copied: list[Attr] = [a for a in old.attrs if a.name not in _NOT_COPIED and a.name not in _DATES]
    old_dates = {n: old.attrs.value(n) for n in _DATES}
    if offset is not None:
        activation = old_dates["Activation Date"]
        if not isinstance(activation, int):
            raise fail(R.ILLEGAL_OPERATION, "no Activation Date to offset from")  # Table 331
        new_activation = ctx.now + offset  # Table 172: AT2 = IT2 + Offset
        shift = new_activation - activation
        for n in _DATES:
            v = old_dates[n]
            if isinstance(v, int):
                when = new_activation if n == "Activation Date" else v + shift
                copied.append(Attr(n, date(_DATE_TAGS[n], when)))
    else:
        for n in _DATES:
            v = old_dates[n]
            if isinstance(v, int):
                copied.append(Attr(n, date(_DATE_TAGS[n], v)))
    # Table 173 Usage Limits: the replacement gets Count = Total
    limits = old.attrs.get("Usage Limits")
    if limits is not None:
        copied = [a for a in copied if a.name != "Usage Limits"]
        total = one(limits.value, Tag.USAGE_LIMITS_TOTAL)
        fields = [
            Item(Tag.USAGE_LIMITS_COUNT, c.type, total.value)
            if c.tag == Tag.USAGE_LIMITS_COUNT and total
            else c
            for c in limits.value.value
        ]
        copied.append(Attr("Usage Limits", struct(Tag.USAGE_LIMITS, fields)))
    # request attributes override copied single-valued ones; multi-valued ones (Name) are added
    # after the copied instances (TC-REKEY-1-10: the replacement has both names)
    override = {a.name for a in requested if (rule := rule_for(a.name)) is None or not rule.multi}
    client = [a for a in copied if a.name not in override] + requested

    # Name moves from the existing key to the replacement (Table 173)
    old.attrs.remove("Name")
    ctx.save(old)

    algorithm, bits = int(alg.value), int(length.value)
    new_obj = symmetric_key_item(generate_symmetric(ctx, algorithm, bits), algorithm, bits)
    client.append(Attr("Link", _link(LinkType.REPLACED_OBJECT_LINK, old.uid)))
    new = insert_object(
        ctx,
        ObjectType.SYMMETRIC_KEY,
        client,
        new_obj,
        generated=True,
        op=Operation.RE_KEY,
        owner=old.rec.owner,
    )

    old.attrs.add("Link", _link(LinkType.REPLACEMENT_OBJECT_LINK, new.uid))
    ctx.save(old)
    return ctx.encode(ReKeyResponse(unique_identifier=new.uid))


_DATE_TAGS = {
    "Activation Date": Tag.ACTIVATION_DATE,
    "Process Start Date": Tag.PROCESS_START_DATE,
    "Protect Stop Date": Tag.PROTECT_STOP_DATE,
    "Deactivation Date": Tag.DEACTIVATION_DATE,
}

HANDLERS: dict[Operation, Handler] = {Operation.RE_KEY: rekey}
