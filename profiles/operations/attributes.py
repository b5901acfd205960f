"""Attribute operations: Get Attributes, Get Attribute List, Add / Modify / Delete Attribute
(SPEC-1.4 §4.12-4.16; SPEC-2.1 §6.1.24-6.1.26, §6.1.2, §6.1.30, §6.1.18) and the 2.x Set
Attribute (§6.1.46) and Adjust Attribute (§6.1.1).

Payloads are agent.model's ``<Op>Request`` / ``<Op>Response``: the model reads and writes the
1.x Attribute / Attribute Name and the 2.x New / Current Attribute / Attribute Reference forms.
Result Reasons are raised in their 2.x form; the batch loop maps them to 1.x
(agent.errors.reason_for_version) except where a 1.x table names a different reason for the
same condition, which is chosen here explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from agent.model import (
    AddAttributeRequest,
    AddAttributeResponse,
    AdjustAttributeRequest,
    AdjustAttributeResponse,
    DeleteAttributeRequest,
    DeleteAttributeResponse,
    GetAttributeListRequest,
    GetAttributeListResponse,
    GetAttributesRequest,
    GetAttributesResponse,
    ModifyAttributeRequest,
    ModifyAttributeResponse,
    SetAttributeRequest,
    SetAttributeResponse,
    Typed,
)
from agent.spec import AdjustmentType, ItemType, Operation, ResultReason, State, Version
from agent.ttlv import Item
from profiles.attrs import Attr, AttrError, attr_to_model, canonical, canonical_name, is_custom, rule_for
from profiles.operations.base import Context, Handler, ManagedObject, fail
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


def _requested_names(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    try:
        for n in names:
            out.append(canonical_name(n))
    except AttrError:
        raise fail(R.INVALID_ATTRIBUTE, "unknown attribute") from None
    if len(set(out)) != len(out):
        raise fail(R.INVALID_MESSAGE, "the same attribute is requested twice")  # SPEC-1.4 Table 339
    return out


def get_attributes(ctx: Context, payload: Item) -> list[Item]:
    req = ctx.decode(payload, GetAttributesRequest)
    mo = ctx.open(ctx.uid(req.unique_identifier))
    names = _requested_names(req.attribute_names)
    attrs = mo.reported_attrs()  # Digest Value derived from the material (operations/digest.py)
    if names:
        selected = [a for n in names for a in attrs.all(n)]
    else:
        selected = list(attrs)
    out = tuple(attr_to_model(a, ctx.version) for a in selected if visible(a, ctx.version))
    return ctx.encode(GetAttributesResponse(unique_identifier=mo.uid, attributes=out))


def get_attribute_list(ctx: Context, payload: Item) -> list[Item]:
    req = ctx.decode(payload, GetAttributeListRequest)
    mo = ctx.open(ctx.uid(req.unique_identifier))
    names = [n for n in mo.attrs.names() if any(visible(a, ctx.version) for a in mo.attrs.all(n))]
    return ctx.encode(GetAttributeListResponse(unique_identifier=mo.uid, attribute_names=tuple(names)))


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


# SPEC-1.4 §3.25 / §3.26: "Once the Process Start Date [Protect Stop Date] has occurred, then this
# attribute SHALL NOT be changed or deleted before the object is destroyed", whatever the state
_FROZEN_ONCE_REACHED = {"Process Start Date", "Protect Stop Date"}


def _check_state(ctx: Context, mo: ManagedObject, name: str) -> None:
    allowed = _DATE_STATES.get(name)
    if allowed is not None and mo.rec.state not in allowed:
        # SPEC-1.4 SKLC-M-3-14: Permission Denied; SPEC-2.1 SKLC-M-3-21: Wrong Key Lifecycle State
        raise fail(R.WRONG_KEY_LIFECYCLE_STATE, "attribute cannot be changed in this state")
    current = mo.attrs.value(name) if name in _FROZEN_ONCE_REACHED else None
    if isinstance(current, int) and current <= ctx.now:
        raise fail(R.WRONG_KEY_LIFECYCLE_STATE, "attribute cannot be changed once its date has passed")


def _check_limits(ctx: Context, mo: ManagedObject) -> None:
    if len(mo.attrs) >= ctx.config.max_attributes:
        raise fail(R.INDEX_OUT_OF_BOUNDS if not ctx.v2 else R.SERVER_LIMIT_EXCEEDED, "too many attributes")


def add_attribute(ctx: Context, payload: Item) -> list[Item]:
    req = ctx.decode(payload, AddAttributeRequest)
    mo = ctx.open(ctx.uid(req.unique_identifier))
    attr = ctx.attr_in(req.attribute)
    if not ctx.v2 and req.attribute.index is not None:
        raise fail(R.INVALID_FIELD, "new attribute must not carry an Attribute Index")  # Table 341
    _client_writable(ctx, attr, modify=False)
    rule = rule_for(attr.name)
    assert rule is not None
    if not rule.multi and mo.attrs.has(attr.name):
        # SPEC-1.4 Table 341: Illegal Operation; SPEC-2.1 BL-M-5-21: Attribute Single Valued
        raise fail(R.ATTRIBUTE_SINGLE_VALUED, "attribute already exists")
    _check_state(ctx, mo, attr.name)
    _check_limits(ctx, mo)
    if attr.name == "Name":
        check_name_unique(ctx, attr.value, exclude=None, v1_reason=R.ILLEGAL_OPERATION)
    attr = fill_application_data(ctx, attr)
    added = mo.attrs.add(attr.name, attr.value)
    ctx.save(mo)
    # the attribute is echoed in 1.x only (SPEC-1.4 §4.13); agent.model drops it for 2.x
    return ctx.encode(
        AddAttributeResponse(unique_identifier=mo.uid, attribute=attr_to_model(added, ctx.version))
    )


def _value_equal(a: Item, b: Item) -> bool:
    return a.type == b.type and canonical(a) == canonical(b)


def modify_attribute(ctx: Context, payload: Item) -> list[Item]:
    req = ctx.decode(payload, ModifyAttributeRequest)
    mo = ctx.open(ctx.uid(req.unique_identifier))
    attr = ctx.attr_in(req.attribute)
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
        if req.current_attribute is not None:
            cur = ctx.attr_in(req.current_attribute)
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
    _check_state(ctx, mo, attr.name)
    if attr.name == "Name":
        check_name_unique(ctx, attr.value, exclude=mo.uid, v1_reason=R.ILLEGAL_OPERATION)
    attr = fill_application_data(ctx, attr)
    new = mo.attrs.replace_at(attr.name, target.index, attr.value)
    assert new is not None
    ctx.save(mo)
    return ctx.encode(
        ModifyAttributeResponse(unique_identifier=mo.uid, attribute=attr_to_model(new, ctx.version))
    )


def delete_attribute(ctx: Context, payload: Item) -> list[Item]:
    req = ctx.decode(payload, DeleteAttributeRequest)
    mo = ctx.open(ctx.uid(req.unique_identifier))
    index: int | None = None
    value: Item | None = None
    if req.current_attribute is not None:  # 2.x only
        cur = ctx.attr_in(req.current_attribute)
        name, value = cur.name, cur.value
    elif req.attribute_name is not None:
        try:
            name = canonical_name(req.attribute_name)
        except AttrError:
            # SPEC-1.4 Table 343: no attribute of that name -> Item Not Found; 2.x Invalid Attribute
            raise fail(R.INVALID_ATTRIBUTE if ctx.v2 else R.ITEM_NOT_FOUND, "unknown attribute") from None
        if not ctx.v2:
            index = req.attribute_index or 0
    elif ctx.v2:
        raise fail(R.INVALID_MESSAGE, "Current Attribute or Attribute Reference is required")
    else:
        raise fail(R.INVALID_MESSAGE, "Attribute Name is required")
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
    return ctx.encode(
        DeleteAttributeResponse(unique_identifier=mo.uid, attribute=attr_to_model(existing[0], ctx.version))
    )


def set_attribute(ctx: Context, payload: Item) -> list[Item]:
    """SPEC-2.1 §6.1.46: set (add or replace) an attribute that has at most one instance."""
    req = ctx.decode(payload, SetAttributeRequest)
    mo = ctx.open(ctx.uid(req.unique_identifier))
    attr = ctx.attr_in(req.attribute)
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
    _check_state(ctx, mo, attr.name)
    if not exists:
        _check_limits(ctx, mo)
    if attr.name == "Name":
        check_name_unique(ctx, attr.value, exclude=mo.uid, v1_reason=R.ILLEGAL_OPERATION)
    mo.attrs.set(attr.name, attr.value)
    ctx.save(mo)
    return ctx.encode(SetAttributeResponse(unique_identifier=mo.uid))


def adjust_attribute(ctx: Context, payload: Item) -> list[Item]:
    """SPEC-2.1 §6.1.1: increment / decrement / negate a numeric or date attribute."""
    req = ctx.decode(payload, AdjustAttributeRequest)
    mo = ctx.open(ctx.uid(req.unique_identifier))
    try:
        name = canonical_name(req.attribute_name)
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
    step = _step(req.adjustment_value)
    if req.adjustment_type == AdjustmentType.INCREMENT:
        new = int(v.value) + step
    elif req.adjustment_type == AdjustmentType.DECREMENT:
        new = int(v.value) - step
    elif req.adjustment_type == AdjustmentType.NEGATE:
        new = -int(v.value)
    else:
        raise fail(R.INVALID_FIELD, "unknown Adjustment Type")
    if v.type == ItemType.INTEGER and not -(2**31) <= new < 2**31:
        raise fail(R.NUMERIC_RANGE, "result out of range")
    _check_state(ctx, mo, name)
    mo.attrs.set(name, Item(v.tag, v.type, new))
    ctx.save(mo)
    return ctx.encode(AdjustAttributeResponse(unique_identifier=mo.uid))


def _step(value: object) -> int:
    """The Adjustment Value (any numeric item type, agent.model's generic value); 1 if absent."""
    if isinstance(value, Typed):
        value = value.value
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return 1


HANDLERS: dict[Operation, Handler] = {
    Operation.GET_ATTRIBUTES: get_attributes,
    Operation.GET_ATTRIBUTE_LIST: get_attribute_list,
    Operation.ADD_ATTRIBUTE: add_attribute,
    Operation.MODIFY_ATTRIBUTE: modify_attribute,
    Operation.DELETE_ATTRIBUTE: delete_attribute,
    Operation.SET_ATTRIBUTE: set_attribute,
    Operation.ADJUST_ATTRIBUTE: adjust_attribute,
}
