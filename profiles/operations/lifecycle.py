"""Lifecycle operations: Activate, Revoke, Destroy, Archive, Recover, Check, Obtain Lease,
Get Usage Allocation (SPEC-1.4 §4.10, §4.17-4.24; SPEC-2.1 §6.1.2ff).

The state machine is the table :data:`TRANSITIONS` (SPEC-1.4 §3.22 / SPEC-2.1 §4.57, "Only the
transitions described above are permitted"); a refused transition is Wrong Key Lifecycle State
in 2.x and Permission Denied in 1.x (SPEC-1.4 Tables 346 and 348, SKLC-M-2-14 / SKLC-M-2-21),
the mapping being agent.errors.reason_for_version. Future Activation / Deactivation Dates are
applied when an object is opened (operations.base.effective_state).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum

from agent.model import (
    ActivateRequest,
    ActivateResponse,
    ArchiveRequest,
    ArchiveResponse,
    Attribute,
    CheckRequest,
    CheckResponse,
    DestroyRequest,
    DestroyResponse,
    GetUsageAllocationRequest,
    GetUsageAllocationResponse,
    ObtainLeaseRequest,
    ObtainLeaseResponse,
    RecoverRequest,
    RecoverResponse,
    RevokeRequest,
    RevokeResponse,
)
from agent.spec import (
    CryptographicUsageMask,
    ObjectType,
    Operation,
    ResultReason,
    RevocationReasonCode,
    State,
    Tag,
)
from agent.ttlv import Item
from profiles.operations.base import (
    Context,
    Handler,
    ManagedObject,
    date,
    fail,
    one,
    struct,
)

R = ResultReason
S = State


class Event(Enum):
    ACTIVATE = "activate"
    REVOKE = "revoke"  # any reason other than a compromise
    COMPROMISE = "compromise"  # Revoke with Key Compromise / CA Compromise
    DESTROY = "destroy"


# (state, event) -> new state; SPEC-1.4 §3.22 transitions 2-10 (numbered in the comments)
TRANSITIONS: dict[tuple[State, Event], State] = {
    (S.PRE_ACTIVE, Event.ACTIVATE): S.ACTIVE,  # 4
    (S.PRE_ACTIVE, Event.DESTROY): S.DESTROYED,  # 2
    (S.PRE_ACTIVE, Event.COMPROMISE): S.COMPROMISED,  # 3
    (S.ACTIVE, Event.COMPROMISE): S.COMPROMISED,  # 5
    (S.ACTIVE, Event.REVOKE): S.DEACTIVATED,  # 6
    (S.DEACTIVATED, Event.DESTROY): S.DESTROYED,  # 7
    (S.DEACTIVATED, Event.COMPROMISE): S.COMPROMISED,  # 8
    (S.DEACTIVATED, Event.REVOKE): S.DEACTIVATED,  # already revoked: no change
    (S.COMPROMISED, Event.DESTROY): S.DESTROYED_COMPROMISED,  # 9
    (S.COMPROMISED, Event.COMPROMISE): S.COMPROMISED,  # already compromised: no change
    (S.DESTROYED, Event.COMPROMISE): S.DESTROYED_COMPROMISED,  # 10
    (S.DESTROYED_COMPROMISED, Event.COMPROMISE): S.DESTROYED_COMPROMISED,
}


def next_state(state: State, event: Event) -> State:
    """The state after ``event``, or a KmipError if the transition is not permitted.

    Wrong Key Lifecycle State from a destroyed state too: Activate and Revoke may not answer
    Object Destroyed (SPEC-2.1 Tables 166 and 297 list the reasons they SHALL return; SPEC-1.4
    Table 346: "Object is not in Pre-Active state" is Permission Denied). Destroy answers Object
    Destroyed itself (SPEC-2.1 Table 210 lists it)."""
    new = TRANSITIONS.get((state, event))
    if new is None:
        raise fail(R.WRONG_KEY_LIFECYCLE_STATE, "operation not permitted in this state")
    return new


def activate(ctx: Context, payload: Item) -> list[Item]:
    mo = ctx.open(ctx.uid(ctx.decode(payload, ActivateRequest).unique_identifier))
    if mo.object_type == ObjectType.TEMPLATE:
        raise fail(R.ILLEGAL_OPERATION, "object cannot be activated")  # SPEC-1.4 Table 346
    mo.rec.state = next_state(mo.state, Event.ACTIVATE)
    # SPEC-1.4 §4.19: the server sets the Activation Date to the time of the request
    mo.attrs.set("Activation Date", date(Tag.ACTIVATION_DATE, ctx.now))
    ctx.save(mo)
    return ctx.encode(ActivateResponse(unique_identifier=mo.uid))


_COMPROMISE = {RevocationReasonCode.KEY_COMPROMISE, RevocationReasonCode.CA_COMPROMISE}


def revoke(ctx: Context, payload: Item) -> list[Item]:
    req = ctx.decode(payload, RevokeRequest)
    mo = ctx.open(ctx.uid(req.unique_identifier))
    if mo.object_type == ObjectType.TEMPLATE:
        raise fail(R.ILLEGAL_OPERATION, "object cannot be revoked")
    if not isinstance(req.revocation_reason.revocation_reason_code, RevocationReasonCode):
        raise fail(R.INVALID_FIELD, "Revocation Reason is not recognized")  # Table 347
    compromise = req.revocation_reason.revocation_reason_code in _COMPROMISE
    mo.rec.state = next_state(mo.state, Event.COMPROMISE if compromise else Event.REVOKE)
    reason = ctx.attr_in(Attribute("Revocation Reason", req.revocation_reason))
    mo.attrs.set(reason.name, reason.value)
    if compromise:
        # SPEC-1.4 §4.20: Compromise Date = now; Compromise Occurrence Date from the request,
        # else the Initial Date (§3.29 "SHOULD default")
        occurred = req.compromise_occurrence_date
        when: object = mo.attrs.value("Initial Date")
        if occurred is not None:
            when = int(occurred.timestamp())
        if isinstance(when, int) and not mo.attrs.has("Compromise Occurrence Date"):
            mo.attrs.set("Compromise Occurrence Date", date(Tag.COMPROMISE_OCCURRENCE_DATE, when))
        if not mo.attrs.has("Compromise Date"):
            mo.attrs.set("Compromise Date", date(Tag.COMPROMISE_DATE, ctx.now))
    elif not isinstance(deact := mo.attrs.value("Deactivation Date"), int) or deact > ctx.now:
        mo.attrs.set("Deactivation Date", date(Tag.DEACTIVATION_DATE, ctx.now))
    ctx.save(mo)
    return ctx.encode(RevokeResponse(unique_identifier=mo.uid))


def destroy(ctx: Context, payload: Item) -> list[Item]:
    mo = ctx.open(ctx.uid(ctx.decode(payload, DestroyRequest).unique_identifier))
    if mo.object_type == ObjectType.TEMPLATE:
        if mo.rec.state == S.DESTROYED:
            raise fail(R.OBJECT_DESTROYED, "object has been destroyed")
        mo.rec.state = S.DESTROYED  # templates have no State attribute; the record still tracks it
    else:
        # SPEC-1.4 §4.21: only Pre-Active, Deactivated (and Compromised, transition 9) objects
        if mo.state in (S.DESTROYED, S.DESTROYED_COMPROMISED):
            raise fail(R.OBJECT_DESTROYED if ctx.v2 else R.PERMISSION_DENIED, "object has been destroyed")
        mo.rec.state = next_state(mo.state, Event.DESTROY)
        mo.attrs.set("Destroy Date", date(Tag.DESTROY_DATE, ctx.now))
    mo.set_material(None)  # the value is gone; the metadata remains (SKLC-O-1, BL-M-9-21)
    ctx.save(mo)
    return ctx.encode(DestroyResponse(unique_identifier=mo.uid))


def archive(ctx: Context, payload: Item) -> list[Item]:
    mo = ctx.open(ctx.uid(ctx.decode(payload, ArchiveRequest).unique_identifier))
    mo.rec.archived = True
    mo.attrs.set("Archive Date", date(Tag.ARCHIVE_DATE, ctx.now))  # SPEC-1.4 §3.32
    ctx.save(mo)
    return ctx.encode(ArchiveResponse(unique_identifier=mo.uid))


def recover(ctx: Context, payload: Item) -> list[Item]:
    mo = ctx.open(ctx.uid(ctx.decode(payload, RecoverRequest).unique_identifier), archived_ok=True)
    mo.rec.archived = False
    ctx.save(mo)
    ctx.set_placeholder(mo.uid, Operation.RECOVER)  # SPEC-2.1 §6.1: Recover sets the ID Placeholder
    return ctx.encode(RecoverResponse(unique_identifier=mo.uid))


CUM = CryptographicUsageMask
# SPEC-1.4 §3.22 / §3.25-3.26: uses that apply protection (stop at the Protect Stop Date) and
# uses that process protected data (start at the Process Start Date)
PROTECT = CUM.SIGN | CUM.ENCRYPT | CUM.WRAP_KEY | CUM.MAC_GENERATE | CUM.DERIVE_KEY | CUM.KEY_AGREEMENT
PROTECT |= CUM.CERTIFICATE_SIGN | CUM.CRL_SIGN
PROCESS = CUM.VERIFY | CUM.DECRYPT | CUM.UNWRAP_KEY | CUM.MAC_VERIFY


def usage_window_ok(mo: ManagedObject, mask: int, now: int) -> bool:
    """May the object be used for ``mask`` at ``now``? Only Active objects are used (Pre-Active:
    "SHALL NOT be used for any cryptographic purpose"; Deactivated / Compromised only under
    special permission, which this server does not grant), protection stops at the Protect Stop
    Date and processing starts at the Process Start Date (SPEC-1.4 §3.22, §3.25, §3.26)."""
    if mo.state != S.ACTIVE:
        return False
    stop = mo.attrs.value("Protect Stop Date")
    if mask & PROTECT and isinstance(stop, int) and now >= stop:
        return False
    start = mo.attrs.value("Process Start Date")
    return not (mask & PROCESS and isinstance(start, int) and now < start)


def check(ctx: Context, payload: Item) -> list[Item]:
    """SPEC-1.4 §4.10: may the object be used as described? On refusal the ID Placeholder is
    emptied; 2.x answers Incompatible Cryptographic Usage Mask (BL-M-2-21, BL-M-3-21)."""
    req = ctx.decode(payload, CheckRequest)
    mo = ctx.open(ctx.uid(req.unique_identifier))
    mask, lease, count = req.cryptographic_usage_mask, req.lease_time, req.usage_limits_count
    if mask is not None:
        have = mo.attrs.value("Cryptographic Usage Mask")
        if not isinstance(have, int) or have & mask != mask:
            ctx.placeholder = None
            raise fail(R.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK, "Check failed")
        if not usage_window_ok(mo, mask, ctx.now):
            ctx.placeholder = None
            raise fail(R.WRONG_KEY_LIFECYCLE_STATE, "Check failed")
    if lease is not None:
        granted = mo.attrs.value("Lease Time")
        if isinstance(granted, int) and lease > granted:
            ctx.placeholder = None
            raise fail(R.PERMISSION_DENIED, "Check failed")
    if count is not None:
        limits = mo.attrs.get("Usage Limits")
        remaining = None if limits is None else one(limits.value, Tag.USAGE_LIMITS_COUNT)
        if remaining is not None and count > int(remaining.value):
            ctx.placeholder = None
            raise fail(R.USAGE_LIMIT_EXCEEDED, "Check failed")
    return ctx.encode(CheckResponse(unique_identifier=mo.uid))


def obtain_lease(ctx: Context, payload: Item) -> list[Item]:
    """SPEC-1.4 §4.17: a lease on an Active object, for the server's Lease Time."""
    mo = ctx.open(ctx.uid(ctx.decode(payload, ObtainLeaseRequest).unique_identifier))
    if mo.state != S.ACTIVE:
        raise fail(R.WRONG_KEY_LIFECYCLE_STATE, "no lease for an object that is not Active")  # Table 344
    lease = mo.attrs.value("Lease Time")
    lease_time = lease if isinstance(lease, int) else ctx.config.lease_time
    changed = mo.attrs.value("Last Change Date")
    when = changed if isinstance(changed, int) else ctx.now
    return ctx.encode(
        ObtainLeaseResponse(
            unique_identifier=mo.uid,
            lease_time=lease_time,
            last_change_date=datetime.fromtimestamp(when, UTC),
        )
    )


def get_usage_allocation(ctx: Context, payload: Item) -> list[Item]:
    """SPEC-1.4 §4.18: take ``Usage Limits Count`` units from the object's Usage Limits."""
    req = ctx.decode(payload, GetUsageAllocationRequest)
    mo = ctx.open(ctx.uid(req.unique_identifier))
    wanted = req.usage_limits_count
    if wanted <= 0:
        raise fail(R.INVALID_MESSAGE, "Usage Limits Count is required")  # Table 345
    limits = mo.attrs.get("Usage Limits")
    if limits is None:
        raise fail(R.ILLEGAL_OPERATION, "object has no Usage Limits")  # Table 345
    if not usage_window_ok(mo, PROTECT, ctx.now):
        raise fail(R.WRONG_KEY_LIFECYCLE_STATE, "object cannot be used for protection now")
    remaining = one(limits.value, Tag.USAGE_LIMITS_COUNT)
    left = int(remaining.value) if remaining is not None else None
    if left is not None and wanted > left:
        raise fail(R.PERMISSION_DENIED if not ctx.v2 else R.USAGE_LIMIT_EXCEEDED, "usage allocation refused")
    if remaining is not None and left is not None:
        fields = [
            Item(Tag.USAGE_LIMITS_COUNT, remaining.type, left - wanted)
            if c.tag == Tag.USAGE_LIMITS_COUNT
            else c
            for c in limits.value.value
        ]
        mo.attrs.replace_at("Usage Limits", limits.index, struct(Tag.USAGE_LIMITS, fields))
        ctx.save(mo)
    return ctx.encode(GetUsageAllocationResponse(unique_identifier=mo.uid))


HANDLERS: dict[Operation, Handler] = {
    Operation.ACTIVATE: activate,
    Operation.REVOKE: revoke,
    Operation.DESTROY: destroy,
    Operation.ARCHIVE: archive,
    Operation.RECOVER: recover,
    Operation.CHECK: check,
    Operation.OBTAIN_LEASE: obtain_lease,
    Operation.GET_USAGE_ALLOCATION: get_usage_allocation,
}
