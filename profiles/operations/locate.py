"""Locate (SPEC-1.4 §4.9; SPEC-2.1 §6.1.27): an indexed query over the caller's objects.

Every attribute of the request must match (AND). Date attributes given twice form an
inclusive range, once an exact value; Cryptographic Usage Mask matches by bitwise AND; Object
Type and State are filters of the query. The effective State depends on dates and the clock, so
a State filter widens the stored-state filter and re-checks the candidates it returns.
"""

from __future__ import annotations

from collections import defaultdict

from agent.spec import (
    V1_3,
    ItemType,
    ObjectGroupMember,
    ObjectType,
    Operation,
    ResultReason,
    State,
    StorageStatusMask,
    Tag,
)
from agent.ttlv import Item
from profiles.attrs import AttrSet, locate_conditions
from profiles.operations.base import (
    Context,
    Handler,
    children,
    effective_state,
    fail,
    integer,
    one,
    one_int,
    uid_item,
)
from profiles.store.base import Condition, LocateQuery

R = ResultReason
SSM = StorageStatusMask

_LIVE = (State.PRE_ACTIVE, State.ACTIVE, State.DEACTIVATED, State.COMPROMISED)
_DESTROYED = (State.DESTROYED, State.DESTROYED_COMPROMISED)
# stored states that can be effective state S at read time (future dates take effect later)
_STORED_FOR = {
    State.PRE_ACTIVE: {State.PRE_ACTIVE},
    State.ACTIVE: {State.PRE_ACTIVE, State.ACTIVE},
    State.DEACTIVATED: {State.PRE_ACTIVE, State.ACTIVE, State.DEACTIVATED},
}


def locate(ctx: Context, payload: Item) -> list[Item]:
    if ctx.v2:
        carrier = one(payload, Tag.ATTRIBUTES, kind=ItemType.STRUCTURE)
        raw = list(carrier.value) if carrier is not None else []
    else:
        raw = children(payload, Tag.ATTRIBUTE)
    attrs = [ctx.attr_in(i) for i in raw]  # unknown attributes: Invalid Field (SPEC-1.4 Table 336)
    grouped: dict[str, list[Item]] = defaultdict(list)
    for a in attrs:
        grouped[a.name].append(a.value)

    mask = one_int(payload, Tag.STORAGE_STATUS_MASK)
    mask = SSM.ON_LINE_STORAGE if mask is None or mask == 0 else mask
    archived: bool | None
    if mask & SSM.ON_LINE_STORAGE and mask & SSM.ARCHIVAL_STORAGE:
        archived = None
    elif mask & SSM.ARCHIVAL_STORAGE:
        archived = True
    else:
        archived = False
    # 2.x Storage Status Mask Destroyed selects destroyed objects (SPEC-2.1 §12.3); otherwise
    # only objects whose value is still held are found (SKFF-M-5: Locate after Destroy is empty)
    allowed: set[int] = set()
    if mask & (SSM.ON_LINE_STORAGE | SSM.ARCHIVAL_STORAGE):
        allowed |= set(_LIVE)
    if ctx.v2 and mask & SSM.DESTROYED_STORAGE:
        allowed |= set(_DESTROYED)
        if not mask & (SSM.ON_LINE_STORAGE | SSM.ARCHIVAL_STORAGE):
            archived = None

    object_types: list[int] | None = None
    if "Object Type" in grouped:
        types = {int(v.value) for v in grouped.pop("Object Type")}
        if len(types) > 1:
            return _answer(ctx, [], None, payload)
        object_types = list(types)

    wanted_states: set[int] | None = None
    if "State" in grouped:
        wanted_states = {int(v.value) for v in grouped.pop("State")}
        if len(wanted_states) > 1:
            return _answer(ctx, [], None, payload)
    if wanted_states is not None and wanted_states & set(_DESTROYED):
        allowed |= wanted_states & set(_DESTROYED)  # asking for destroyed objects by State finds them
    stored_states = set(allowed)
    if wanted_states is not None:
        stored_states &= set().union(*(_STORED_FOR.get(State(s), {s}) for s in wanted_states))

    conditions: list[Condition] = []
    for name, values in grouped.items():
        conditions.extend(locate_conditions(name, values))

    group_member = one_int(payload, Tag.OBJECT_GROUP_MEMBER)
    if group_member == ObjectGroupMember.GROUP_MEMBER_FRESH:
        conditions.append(Condition("Fresh", key="1"))

    max_items = one_int(payload, Tag.MAXIMUM_ITEMS)
    offset = one_int(payload, Tag.OFFSET_ITEMS) or 0
    if (max_items is not None and max_items < 0) or offset < 0:
        raise fail(R.INVALID_FIELD, "negative Maximum Items or Offset Items")
    if object_types is None and ctx.v2:
        # no Templates for 2.x clients (SPEC-2.1 §11.34: Object Type 6 is Reserved)
        object_types = [int(t) for t in ObjectType if t != ObjectType.TEMPLATE]
    query = LocateQuery(
        conditions=conditions,
        object_types=object_types,
        states=sorted(stored_states),
        owner=ctx.services.policy.locate_owner(ctx.identity),
        archived=archived,
        limit=ctx.config.max_locate_items,
    )
    uids = ctx.store.locate(query)
    if wanted_states is not None:
        uids = [u for u in uids if _effective(ctx, u) in wanted_states]
    total = len(uids)
    uids = uids[offset:]
    if max_items is not None:
        uids = uids[:max_items]
    return _answer(ctx, uids, total, payload)


def _effective(ctx: Context, uid: str) -> int | None:
    rec = ctx.store.load(uid)
    if rec is None:
        return None
    return effective_state(rec.state, AttrSet.from_bytes(rec.attributes), ctx.now)


def _answer(ctx: Context, uids: list[str], total: int | None, payload: Item) -> list[Item]:
    # SPEC-1.4 §4.9: one result sets the ID Placeholder; several (with Maximum Items absent or
    # > 1) empty it, so that dependent batch items fail; none leaves nothing to use either.
    ctx.set_placeholder(uids[0] if len(uids) == 1 else None, Operation.LOCATE)
    ctx.touched.extend(uids[:8])
    out: list[Item] = []
    # Located Items answers a paged request (Offset Items given, as in TC-OFFSET-1-14)
    paged = one(payload, Tag.OFFSET_ITEMS) is not None
    if paged and total is not None and ctx.version >= V1_3:
        out.append(integer(Tag.LOCATED_ITEMS, total))  # SPEC-1.4 §4.9 Located Items
    out.extend(uid_item(u) for u in uids)
    return out


HANDLERS: dict[Operation, Handler] = {Operation.LOCATE: locate}
