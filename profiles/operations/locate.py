"""Locate (SPEC-1.4 §4.9; SPEC-2.1 §6.1.27): an indexed query over the caller's objects.

Every attribute of the request must match (AND). Date attributes given twice form an
inclusive range, once an exact value; Cryptographic Usage Mask matches by bitwise AND; Object
Type and State are filters of the query. The effective State depends on dates and the clock, so
a State filter widens the stored-state filter and re-checks the candidates it returns.
"""

from __future__ import annotations

from collections import defaultdict

from agent.model import LocateRequest, LocateResponse
from agent.spec import (
    V1_3,
    ObjectGroupMember,
    ObjectType,
    Operation,
    ResultReason,
    State,
    StorageStatusMask,
)
from agent.ttlv import Item
from profiles.attrs import AttrSet, locate_conditions
from profiles.operations.base import (
    Context,
    Handler,
    effective_state,
    fail,
)
from profiles.store.base import Condition, LocateQuery

R = ResultReason
SSM = StorageStatusMask

_LIVE = (State.PRE_ACTIVE, State.ACTIVE, State.DEACTIVATED, State.COMPROMISED)
_DESTROYED = (State.DESTROYED, State.DESTROYED_COMPROMISED)
MAX_CONDITIONS = 256  # index conditions of one Locate (attributes, structure fields, mask bits)
# stored states that can be effective state S at read time (future dates take effect later)
_STORED_FOR = {
    State.PRE_ACTIVE: {State.PRE_ACTIVE},
    State.ACTIVE: {State.PRE_ACTIVE, State.ACTIVE},
    State.DEACTIVATED: {State.PRE_ACTIVE, State.ACTIVE, State.DEACTIVATED},
}


def locate(ctx: Context, payload: Item) -> list[Item]:
    req = ctx.decode(payload, LocateRequest)
    # unknown attributes: Invalid Field (SPEC-1.4 Table 336)
    attrs = [ctx.attr_in(a) for a in req.attributes]
    grouped: dict[str, list[Item]] = defaultdict(list)
    for a in attrs:
        grouped[a.name].append(a.value)

    mask = int(req.storage_status_mask or 0) or SSM.ON_LINE_STORAGE
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
            return _answer(ctx, [], None, req)
        object_types = list(types)

    wanted_states: set[int] | None = None
    if "State" in grouped:
        wanted_states = {int(v.value) for v in grouped.pop("State")}
        if len(wanted_states) > 1:
            return _answer(ctx, [], None, req)
    if wanted_states is not None and wanted_states & set(_DESTROYED):
        allowed |= wanted_states & set(_DESTROYED)  # asking for destroyed objects by State finds them
    stored_states = set(allowed)
    if wanted_states is not None:
        stored_states &= set().union(*(_STORED_FOR.get(State(s), {s}) for s in wanted_states))

    conditions: list[Condition] = []
    for name, values in grouped.items():
        conditions.extend(locate_conditions(name, values))

    if req.object_group_member == ObjectGroupMember.GROUP_MEMBER_FRESH:
        conditions.append(Condition("Fresh", key="1"))
    if len(conditions) > MAX_CONDITIONS:
        # each condition is a term of one indexed query: a bound keeps the query within what the
        # store can plan (SQLite refuses ~1000 terms) and answers with a reason, not General Failure
        raise fail(R.SERVER_LIMIT_EXCEEDED if ctx.v2 else R.INDEX_OUT_OF_BOUNDS, "too many Locate attributes")

    max_items = req.maximum_items
    offset = req.offset_items or 0
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
    return _answer(ctx, uids, total, req)


def _effective(ctx: Context, uid: str) -> int | None:
    rec = ctx.store.load(uid)
    if rec is None:
        return None
    return effective_state(rec.state, AttrSet.from_bytes(rec.attributes), ctx.now)


def _answer(ctx: Context, uids: list[str], total: int | None, req: LocateRequest) -> list[Item]:
    # SPEC-1.4 §4.9: one result sets the ID Placeholder; several (with Maximum Items absent or
    # > 1) empty it, so that dependent batch items fail; none leaves nothing to use either.
    ctx.set_placeholder(uids[0] if len(uids) == 1 else None, Operation.LOCATE)
    ctx.touched.extend(uids[:8])
    # Located Items answers a paged request (Offset Items given, as in TC-OFFSET-1-14);
    # SPEC-1.4 §4.9 Located Items (1.3 on; agent.model leaves it out where undefined)
    paged = req.offset_items is not None and total is not None and ctx.version >= V1_3
    return ctx.encode(LocateResponse(located_items=total if paged else None, unique_identifier=tuple(uids)))


HANDLERS: dict[Operation, Handler] = {Operation.LOCATE: locate}
