"""Locate (SPEC-1.4 §4.9; SPEC-2.1 §6.1.27): an indexed query over the caller's objects.

Every attribute of the request must match (AND). Date attributes given twice form an
inclusive range, once an exact value; Cryptographic Usage Mask matches by bitwise AND; Object
Type and State are filters of the query. The effective State depends on dates and the clock, so
a State filter widens the stored-state filter and classifies the candidates it returns with a
few more indexed queries on the Activation / Deactivation Date rows (never by loading objects:
Locate runs on the server's event loop and needs no KEK).

Digest Value is not in the index (operations/digest.py: never stored in clear), yet "all
attributes are allowed to be used" (SPEC-1.4 §4.9): a Digest in the request is matched by its
other fields in the index, then by the Digest Value computed from each candidate's unwrapped
material. That form alone loads (and unwraps) candidates.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace

from agent.model import LocateRequest, LocateResponse
from agent.spec import (
    V1_3,
    ObjectGroupMember,
    ObjectType,
    Operation,
    ResultReason,
    State,
    StorageStatusMask,
    Tag,
)
from agent.ttlv import Item
from profiles.attrs import AttrSet, condition, locate_conditions
from profiles.keyprotect import KeyProtectionError
from profiles.operations.base import Context, Handler, dated_state, fail
from profiles.operations.digest import NAME as DIGEST
from profiles.operations.digest import with_digest_values, without_value
from profiles.store.base import Condition, LocateQuery

R = ResultReason
SSM = StorageStatusMask
log = logging.getLogger("keyshelf.engine")

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

    digests: list[bytes] = []  # Digest Values asked for: matched on the candidates (module doc)
    if DIGEST in grouped:
        stripped = []
        for v in grouped[DIGEST]:
            digests.extend(bytes(c.value) for c in v.value if c.tag == Tag.DIGEST_VALUE)
            stripped.append(without_value(v))
        grouped[DIGEST] = stripped

    conditions: list[Condition] = []
    if DIGEST in grouped:
        conditions.append(condition(DIGEST))  # has a Digest (its other fields: below)
    for name, values in grouped.items():
        conditions.extend(locate_conditions(name, values))

    if req.object_group_member == ObjectGroupMember.GROUP_MEMBER_FRESH:
        conditions.append(condition("Fresh", key="1"))
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
        uids = _in_states(ctx, query, uids, wanted_states)
    if digests:
        uids = [u for u in uids if _has_digests(ctx, u, digests)]
    total = len(uids)
    uids = uids[offset:]
    if max_items is not None:
        uids = uids[:max_items]
    return _answer(ctx, uids, total, req)


def _in_states(ctx: Context, query: LocateQuery, uids: list[str], wanted: set[int]) -> list[str]:
    """The candidates whose effective State (base.effective_state: a stored Pre-Active / Active
    state moves on when the Activation / Deactivation Date is reached, SPEC-1.4 §3.22
    transitions 4 and 6) is wanted, from the index rows of the dates: one query per stored
    transitional state and per date condition, with ``query``'s conditions, order and limit.
    The matches of a narrower query among the first ``limit`` candidates are among its own
    first ``limit`` results (same total order), so the limit drops none of them."""
    stored = set(query.states or ())
    transitional = stored & {State.PRE_ACTIVE, State.ACTIVE}
    if not transitional:
        return uids  # no date changes a stored state in ``stored`` (all of them are wanted)

    def narrower(states: set[int], *extra: Condition) -> set[str]:
        if not states:
            return set()
        q = replace(query, conditions=[*query.conditions, *extra], states=sorted(states))
        return set(ctx.store.locate(q))

    pre_active = narrower(transitional & {State.PRE_ACTIVE})
    active = narrower(transitional & {State.ACTIVE})
    activated = narrower(transitional & {State.PRE_ACTIVE}, condition("Activation Date", high=ctx.now))
    deactivated = narrower(transitional, condition("Deactivation Date", high=ctx.now))

    def keep(uid: str) -> bool:
        if uid in pre_active:
            state: int = State.PRE_ACTIVE
        elif uid in active:
            state = State.ACTIVE
        else:
            return True  # a stored state no date changes: one of the wanted ones (_STORED_FOR)
        effective = dated_state(
            state, activation_reached=uid in activated, deactivation_reached=uid in deactivated
        )
        return effective in wanted

    return [u for u in uids if keep(u)]


def _has_digests(ctx: Context, uid: str, wanted: list[bytes]) -> bool:
    """True if the candidate's Digest Values (derived from its material) include every wanted one."""
    try:
        rec = ctx.store.load(uid)
    except KeyProtectionError as exc:
        log.error("stored key material of %s failed its integrity check (%s)", uid, type(exc).__name__)
        return False
    if rec is None:
        return False
    attrs = with_digest_values(rec.object_type, rec.material, AttrSet.from_bytes(rec.attributes))
    have = {bytes(c.value) for a in attrs.all(DIGEST) for c in a.value.value if c.tag == Tag.DIGEST_VALUE}
    return all(w in have for w in wanted)


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
