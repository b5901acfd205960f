"""Attribute operations: Get Attributes, Get Attribute List, Add / Modify / Delete Attribute
(SPEC-1.4 §4.12-4.16; SPEC-2.1 §6.1.24-6.1.26, §6.1.2, §6.1.30, §6.1.18) and the 2.x Set
Attribute (§6.1.46) and Adjust Attribute (§6.1.1).

Result Reasons are raised in their 2.x form; the batch loop maps them to 1.x
(agent.errors.reason_for_version) except where a 1.x table names a different reason for the
same condition, which is chosen here explicitly.
"""

from __future__ import annotations

from agent.spec import (
    AdjustmentType,
    ItemType,
    Operation,
    ResultReason,
    State,
    Tag,
    Version,
)
from agent.ttlv import Item
from profiles.attrs import (
    Attr,
    AttrError,
    attr_to_v1,
    canonical,
    canonical_name,
    is_custom,
    name_from_reference,
    reference_for,
    rule_for,
)
from profiles.operations.base import (
    Context,
    Handler,
    ManagedObject,
    children,
    fail,
    one,
    text,
    uid_item,
)
from profiles.operations.objects import check_name_unique, fill_application_data

R = ResultReason


def visible(a: Attr, version: Version) -> bool:
    """An attribute a client of ``version`` can be shown (per-version availability)."""
    rule = rule_for(a.name)
    if rule is None:
        return False
    if is_custom(a.name):
        # 1.x custom attribute names are x-/y- only (SPEC-1.4 §3.39); other vendors' 2.x Vendor
        # Attributes have no 1.x spelling
        return version.major >= 2 or a.name.startswith(("x-", "y-"))
    return rule.in_version(version)


def _open(ctx: Context, payload: Item) -> ManagedObject:
    uid = ctx.request_uid(payload)
    return ctx.open(uid)


def _requested_names(ctx: Context, payload: Item) -> list[str]:
    try:
        if ctx.v2:
            names = [name_from_reference(r) for r in children(payload, Tag.ATTRIBUTE_REFERENCE)]
        else:
            names = [canonical_name(str(n.value)) for n in children(payload, Tag.ATTRIBUTE_NAME)]
    except AttrError:
        raise fail(R.INVALID_ATTRIBUTE, "unknown attribute") from None
    if len(set(names)) != len(names):
        raise fail(R.INVALID_MESSAGE, "the same attribute is requested twice")  # SPEC-1.4 Table 339
    return names


def get_attributes(ctx: Context, payload: Item) -> list[Item]:
    mo = _open(ctx, payload)
    names = _requested_names(ctx, payload)
    if names:
        selected = [a for n in names for a in mo.attrs.all(n)]
    else:
        selected = list(mo.attrs)
    selected = [a for a in selected if visible(a, ctx.version)]
    return [uid_item(mo.uid), *ctx.attrs_out(selected)]


def get_attribute_list(ctx: Context, payload: Item) -> list[Item]:
    mo = _open(ctx, payload)
    names = [n for n in mo.attrs.names() if any(visible(a, ctx.version) for a in mo.attrs.all(n))]
    if ctx.v2:
        return [uid_item(mo.uid), *(reference_for(n) for n in names)]
    return [uid_item(mo.uid), *(text(Tag.ATTRIBUTE_NAME, n) for n in names)]


def _client_writable(ctx: Context, a: Attr, *, modify: bool) -> None:
    rule = rule_for(a.name)
    if rule is None:
        raise fail(R.INVALID_ATTRIBUTE, "unknown attribute")
    allowed = rule.client_modify if modify else rule.client_init
    if not allowed:
        # SPEC-1.4 Tables 341/342: read-only -> Permission Denied; SPEC-2.1: Attribute Read Only
        # (BL-M-7-21, BL-M-10-21)
        raise fail(R.ATTRIBUTE_READ_ONLY, "attribute is read-only")


# SPEC-1.4 §3.24-3.27: the dates a client may change, and in which states
_DATE_STATES = {
    "Activation Date": {State.PRE_ACTIVE},
    "Process Start Date": {State.PRE_ACTIVE},
    "Protect Stop Date": {State.PRE_ACTIVE, State.ACTIVE},
    "Deactivation Date": {State.PRE_ACTIVE, State.ACTIVE},
}


def _check_state(mo: ManagedObject, name: str) -> None:
    allowed = _DATE_STATES.get(name)
    if allowed is not None and mo.rec.state not in allowed:
        # SPEC-1.4 SKLC-M-3-14: Permission Denied; SPEC-2.1 SKLC-M-3-21: Wrong Key Lifecycle State
        raise fail(R.WRONG_KEY_LIFECYCLE_STATE, "attribute cannot be changed in this state")


def _new_attribute(ctx: Context, payload: Item) -> Attr:
    if ctx.v2:
        carrier = one(payload, Tag.NEW_ATTRIBUTE, kind=ItemType.STRUCTURE)
        if carrier is None or len(carrier.value) != 1:
            raise fail(R.INVALID_MESSAGE, "New Attribute is required")
        return ctx.attr_in(carrier.value[0])
    item = one(payload, Tag.ATTRIBUTE, kind=ItemType.STRUCTURE)
    if item is None:
        raise fail(R.INVALID_MESSAGE, "Attribute is required")
    return ctx.attr_in(item)


def _check_limits(ctx: Context, mo: ManagedObject) -> None:
    if len(mo.attrs) >= ctx.config.max_attributes:
        raise fail(R.INDEX_OUT_OF_BOUNDS if not ctx.v2 else R.SERVER_LIMIT_EXCEEDED, "too many attributes")


def add_attribute(ctx: Context, payload: Item) -> list[Item]:
    mo = _open(ctx, payload)
    attr = _new_attribute(ctx, payload)
    if not ctx.v2 and one(one(payload, Tag.ATTRIBUTE), Tag.ATTRIBUTE_INDEX) is not None:
        raise fail(R.INVALID_FIELD, "new attribute must not carry an Attribute Index")  # Table 341
    _client_writable(ctx, attr, modify=False)
    rule = rule_for(attr.name)
    assert rule is not None
    if not rule.multi and mo.attrs.has(attr.name):
        # SPEC-1.4 Table 341: Illegal Operation; SPEC-2.1 BL-M-5-21: Attribute Single Valued
        raise fail(R.ATTRIBUTE_SINGLE_VALUED, "attribute already exists")
    _check_state(mo, attr.name)
    _check_limits(ctx, mo)
    if attr.name == "Name":
        check_name_unique(ctx, attr.value, exclude=None, v1_reason=R.ILLEGAL_OPERATION)
    attr = fill_application_data(ctx, attr)
    added = mo.attrs.add(attr.name, attr.value)
    ctx.save(mo)
    if ctx.v2:
        return [uid_item(mo.uid)]
    return [uid_item(mo.uid), attr_to_v1(added)]


def _value_equal(a: Item, b: Item) -> bool:
    return a.type == b.type and canonical(a) == canonical(b)


def modify_attribute(ctx: Context, payload: Item) -> list[Item]:
    mo = _open(ctx, payload)
    attr = _new_attribute(ctx, payload)
    rule = rule_for(attr.name)
    if rule is None:
        raise fail(R.INVALID_ATTRIBUTE, "unknown attribute")
    if not rule.client_modify:
        raise fail(R.ATTRIBUTE_READ_ONLY, "attribute is read-only")
    existing = mo.attrs.all(attr.name)
    if not existing:
        # SPEC-1.4 Table 342: "A specified attribute does not exist" -> Invalid Field
        raise fail(R.ATTRIBUTE_NOT_FOUND if ctx.v2 else R.INVALID_FIELD, "attribute does not exist")
    if ctx.v2:
        current = one(payload, Tag.CURRENT_ATTRIBUTE, kind=ItemType.STRUCTURE)
        if current is not None and len(current.value) == 1:
            cur = ctx.attr_in(current.value[0])
            match = [a for a in existing if _value_equal(a.value, cur.value)]
            if not match:
                raise fail(R.ATTRIBUTE_INSTANCE_NOT_FOUND, "no matching attribute instance")
            target = match[0]
        elif len(existing) > 1:
            # SPEC-2.1 §6.1.30: without Current Attribute the attribute must be single-valued
            raise fail(R.MULTI_VALUED_ATTRIBUTE, "Current Attribute is required")
        else:
            target = existing[0]
    else:
        target_list = [a for a in existing if a.index == attr.index]
        if not target_list:
            raise fail(R.ITEM_NOT_FOUND, "no matching attribute instance")  # Table 342
        target = target_list[0]
    _check_state(mo, attr.name)
    if attr.name == "Name":
        check_name_unique(ctx, attr.value, exclude=mo.uid, v1_reason=R.ILLEGAL_OPERATION)
    attr = fill_application_data(ctx, attr)
    new = mo.attrs.replace_at(attr.name, target.index, attr.value)
    assert new is not None
    ctx.save(mo)
    if ctx.v2:
        return [uid_item(mo.uid)]
    return [uid_item(mo.uid), attr_to_v1(new)]


def delete_attribute(ctx: Context, payload: Item) -> list[Item]:
    mo = _open(ctx, payload)
    index: int | None
    value: Item | None = None
    if ctx.v2:
        current = one(payload, Tag.CURRENT_ATTRIBUTE, kind=ItemType.STRUCTURE)
        ref = one(payload, Tag.ATTRIBUTE_REFERENCE)
        if current is not None and len(current.value) == 1:
            cur = ctx.attr_in(current.value[0])
            name, value = cur.name, cur.value
        elif ref is not None:
            try:
                name = name_from_reference(ref)
            except AttrError:
                raise fail(R.INVALID_ATTRIBUTE, "unknown attribute") from None
        else:
            raise fail(R.INVALID_MESSAGE, "Current Attribute or Attribute Reference is required")
        index = None
    else:
        name_item = one(payload, Tag.ATTRIBUTE_NAME, kind=ItemType.TEXT_STRING)
        if name_item is None:
            raise fail(R.INVALID_MESSAGE, "Attribute Name is required")
        try:
            name = canonical_name(str(name_item.value))
        except AttrError:
            raise fail(R.ITEM_NOT_FOUND, "no attribute with that name") from None
        idx = one(payload, Tag.ATTRIBUTE_INDEX)
        index = int(idx.value) if idx is not None else 0
    rule = rule_for(name)
    if rule is None:
        raise fail(R.INVALID_ATTRIBUTE, "unknown attribute")
    if not rule.client_delete:
        # SPEC-1.4 Table 343: read-only / REQUIRED attribute -> Permission Denied
        raise fail(R.ATTRIBUTE_READ_ONLY, "attribute cannot be deleted")
    existing = mo.attrs.all(name)
    if value is not None:
        existing = [a for a in existing if _value_equal(a.value, value)]
    elif index is not None:
        existing = [a for a in existing if a.index == index]
    if not existing:
        # SPEC-1.4 Table 343: Item Not Found; SPEC-2.1: Attribute Not Found
        raise fail(R.ATTRIBUTE_NOT_FOUND if ctx.v2 else R.ITEM_NOT_FOUND, "no such attribute instance")
    for a in existing:
        mo.attrs.remove(a.name, a.index)
    ctx.save(mo)
    if ctx.v2:
        return [uid_item(mo.uid)]
    return [uid_item(mo.uid), attr_to_v1(existing[0])]


def set_attribute(ctx: Context, payload: Item) -> list[Item]:
    """SPEC-2.1 §6.1.46: set (add or replace) an attribute that has at most one instance."""
    mo = _open(ctx, payload)
    attr = _new_attribute(ctx, payload)
    rule = rule_for(attr.name)
    if rule is None:
        raise fail(R.INVALID_ATTRIBUTE, "unknown attribute")
    if len(mo.attrs.all(attr.name)) > 1:
        # SPEC-2.1 §6.1.46 / TC-SETATTR-3-20: only an attribute with at most one instance can be
        # set; a multi-instance attribute (vendor attributes too) with one instance is replaced
        raise fail(R.MULTI_VALUED_ATTRIBUTE, "attribute has several values")
    exists = mo.attrs.has(attr.name)
    if not (rule.client_modify if exists else rule.client_init):
        raise fail(R.ATTRIBUTE_READ_ONLY, "attribute is read-only")
    _check_state(mo, attr.name)
    if not exists:
        _check_limits(ctx, mo)
    if attr.name == "Name":
        check_name_unique(ctx, attr.value, exclude=mo.uid, v1_reason=R.ILLEGAL_OPERATION)
    mo.attrs.set(attr.name, attr.value)
    ctx.save(mo)
    return [uid_item(mo.uid)]


def adjust_attribute(ctx: Context, payload: Item) -> list[Item]:
    """SPEC-2.1 §6.1.1: increment / decrement / negate a numeric or date attribute."""
    mo = _open(ctx, payload)
    ref = one(payload, Tag.ATTRIBUTE_REFERENCE)
    kind = one(payload, Tag.ADJUSTMENT_TYPE, kind=ItemType.ENUMERATION)
    amount = one(payload, Tag.ADJUSTMENT_VALUE)
    if ref is None or kind is None:
        raise fail(R.INVALID_MESSAGE, "Attribute Reference and Adjustment Type are required")
    try:
        name = name_from_reference(ref)
    except AttrError:
        raise fail(R.INVALID_ATTRIBUTE, "unknown attribute") from None
    rule = rule_for(name)
    if rule is None:
        raise fail(R.INVALID_ATTRIBUTE, "unknown attribute")
    if not rule.client_modify:
        raise fail(R.ATTRIBUTE_READ_ONLY, "attribute is read-only")
    if len(mo.attrs.all(name)) > 1:
        raise fail(R.MULTI_VALUED_ATTRIBUTE, "attribute has several values")  # as Set Attribute
    current = mo.attrs.get(name)
    if current is None:
        raise fail(R.ATTRIBUTE_NOT_FOUND, "attribute does not exist")
    v = current.value
    if not isinstance(v.value, int) or isinstance(v.value, bool):
        raise fail(R.INVALID_DATA_TYPE, "attribute is not numeric")
    step = int(amount.value) if amount is not None and isinstance(amount.value, int) else 1
    if int(kind.value) == AdjustmentType.INCREMENT:
        new = int(v.value) + step
    elif int(kind.value) == AdjustmentType.DECREMENT:
        new = int(v.value) - step
    elif int(kind.value) == AdjustmentType.NEGATE:
        new = -int(v.value)
    else:
        raise fail(R.INVALID_FIELD, "unknown Adjustment Type")
    if v.type == ItemType.INTEGER and not -(2**31) <= new < 2**31:
        raise fail(R.NUMERIC_RANGE, "result out of range")
    _check_state(mo, name)
    mo.attrs.set(name, Item(v.tag, v.type, new))
    ctx.save(mo)
    return [uid_item(mo.uid)]


HANDLERS: dict[Operation, Handler] = {
    Operation.GET_ATTRIBUTES: get_attributes,
    Operation.GET_ATTRIBUTE_LIST: get_attribute_list,
    Operation.ADD_ATTRIBUTE: add_attribute,
    Operation.MODIFY_ATTRIBUTE: modify_attribute,
    Operation.DELETE_ATTRIBUTE: delete_attribute,
    Operation.SET_ATTRIBUTE: set_attribute,
    Operation.ADJUST_ATTRIBUTE: adjust_attribute,
}
