"""Lifecycle: the state machine table, per-version refusals, dates that take effect later."""

from __future__ import annotations

import pytest

from agent.errors import KmipError
from agent.spec import V1_4, V2_1, ItemType, LinkType, Operation, State, Tag, Version
from agent.ttlv import Item
from profiles.operations.lifecycle import TRANSITIONS, Event, next_state
from tests.unit.test_engine_helpers import (
    FAILED,
    RR,
    Clock,
    attr,
    create_aes,
    dt,
    e,
    i,
    item,
    make_engine,
    name,
    request,
    s,
    send,
    t,
    uid,
)

T = Tag
OP = Operation
V1_3 = Version(1, 3)
LIFECYCLE_REFUSAL = {V1_4: RR.PERMISSION_DENIED, V2_1: RR.WRONG_KEY_LIFECYCLE_STATE}


def state_of(engine: object, version: Version, key: str) -> int:
    from profiles.engine import Engine

    assert isinstance(engine, Engine)
    ref = e(T.ATTRIBUTE_REFERENCE, T.STATE) if version.major >= 2 else t(T.ATTRIBUTE_NAME, "State")
    got = send(engine, request(version, item(OP.GET_ATTRIBUTES, uid(key), ref)))
    assert got.items[0].ok
    if version.major >= 2:
        carrier = got.items[0].get(T.ATTRIBUTES)
        assert carrier is not None
        return int(carrier.value[0].value)
    return int(got.items[0].all(T.ATTRIBUTE)[0].value[-1].value)


def revoke(reason: int, key: str | None = None) -> Item:
    parts = [s(T.REVOCATION_REASON, e(T.REVOCATION_REASON_CODE, reason))]
    if key is not None:
        parts.insert(0, uid(key))
    return item(OP.REVOKE, *parts)


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("event", list(Event))
def test_transition_table_is_the_whole_state_machine(state: State, event: Event) -> None:
    if (state, event) in TRANSITIONS:
        assert next_state(state, event) == TRANSITIONS[(state, event)]
    else:
        with pytest.raises(KmipError) as info:
            next_state(state, event)
        assert info.value.reason == RR.WRONG_KEY_LIFECYCLE_STATE


@pytest.mark.parametrize("version", [Version(1, 0), V1_4, V2_1])
def test_activate_and_revoke_of_a_destroyed_object_are_lifecycle_refusals(version: Version) -> None:
    """SPEC-1.4 Table 346 ("Object is not in Pre-Active state": Permission Denied); SPEC-2.1
    Tables 166 / 297 do not list Object Destroyed for Activate / Revoke: Wrong Key Lifecycle
    State. Destroy of a destroyed object may answer Object Destroyed (SPEC-2.1 Table 210).
    Found by tests/props/test_engine_state_machine.py."""
    engine = make_engine()
    key = send(engine, request(version, create_aes(version, "gone"))).items[0].uid
    assert send(engine, request(version, item(OP.DESTROY, uid(key)))).items[0].ok
    for op in (item(OP.ACTIVATE, uid(key)), revoke(5, key)):  # Superseded: not a compromise
        got = send(engine, request(version, op)).items[0]
        assert got.status == FAILED and got.reason == LIFECYCLE_REFUSAL.get(version, RR.PERMISSION_DENIED)
    again = send(engine, request(version, item(OP.DESTROY, uid(key)))).items[0]
    assert again.reason == (RR.OBJECT_DESTROYED if version.major >= 2 else RR.PERMISSION_DENIED)
    assert send(engine, request(version, revoke(2, key))).items[0].ok  # transition 10
    assert state_of(engine, version, key) == State.DESTROYED_COMPROMISED


@pytest.mark.parametrize("version", [V1_4, V2_1])
def test_sklc_m_2_flow_with_version_specific_refusals(version: Version) -> None:
    engine = make_engine()
    key = send(engine, request(version, create_aes(version, "sklc"))).items[0].uid
    assert state_of(engine, version, key) == State.PRE_ACTIVE
    assert send(engine, request(version, item(OP.ACTIVATE, uid(key)))).items[0].ok
    assert state_of(engine, version, key) == State.ACTIVE
    again = send(engine, request(version, item(OP.ACTIVATE, uid(key))))
    assert again.items[0].reason == LIFECYCLE_REFUSAL[version]
    destroy = send(engine, request(version, item(OP.DESTROY, uid(key))))
    assert destroy.items[0].status == FAILED and destroy.items[0].reason == LIFECYCLE_REFUSAL[version]
    # Modify of the Activation Date once Active (SKLC-M-3)
    new_date = attr(version, "Activation Date", dt(T.ACTIVATION_DATE, 1_700_000_000))
    payload = s(T.NEW_ATTRIBUTE, new_date) if version.major >= 2 else new_date
    modify = send(engine, request(version, item(OP.MODIFY_ATTRIBUTE, uid(key), payload)))
    assert modify.items[0].reason == LIFECYCLE_REFUSAL[version]
    assert send(engine, request(version, revoke(2, key))).items[0].ok  # Key Compromise
    assert state_of(engine, version, key) == State.COMPROMISED
    # a compromised key can still be read (SKFF-M-9)
    assert send(engine, request(version, item(OP.GET, uid(key)))).items[0].ok
    assert send(engine, request(version, item(OP.DESTROY, uid(key)))).items[0].ok
    assert state_of(engine, version, key) == State.DESTROYED_COMPROMISED
    get = send(engine, request(version, item(OP.GET, uid(key))))
    assert get.items[0].reason == (RR.OBJECT_DESTROYED if version.major >= 2 else RR.ILLEGAL_OPERATION)


@pytest.mark.parametrize("version", [V1_4, V2_1])
def test_future_activation_date_takes_effect_when_the_clock_passes_it(version: Version) -> None:
    clock = Clock(1_800_000_000.0)
    engine = make_engine(clock=clock)
    soon = int(clock.now) + 3600
    later = int(clock.now) + 7200
    act = attr(version, "Activation Date", dt(T.ACTIVATION_DATE, soon))
    deact = attr(version, "Deactivation Date", dt(T.DEACTIVATION_DATE, later))
    key = send(engine, request(version, create_aes(version, "future", act, deact))).items[0].uid

    def locate_state(st: State) -> list[str]:
        a = attr(version, "State", e(T.STATE, st))
        loc = item(OP.LOCATE, s(T.ATTRIBUTES, a)) if version.major >= 2 else item(OP.LOCATE, a)
        return [str(u.value) for u in send(engine, request(version, loc)).items[0].all(T.UNIQUE_IDENTIFIER)]

    assert state_of(engine, version, key) == State.PRE_ACTIVE
    assert locate_state(State.PRE_ACTIVE) == [key] and locate_state(State.ACTIVE) == []
    clock.now = soon + 1
    assert state_of(engine, version, key) == State.ACTIVE
    assert locate_state(State.ACTIVE) == [key] and locate_state(State.PRE_ACTIVE) == []
    # Destroy is refused while Active, then allowed once the Deactivation Date has passed
    assert (
        send(engine, request(version, item(OP.DESTROY, uid(key)))).items[0].reason
        == LIFECYCLE_REFUSAL[version]
    )
    clock.now = later + 1
    assert state_of(engine, version, key) == State.DEACTIVATED
    assert send(engine, request(version, item(OP.DESTROY, uid(key)))).items[0].ok


def test_past_activation_date_makes_a_new_object_active() -> None:
    engine = make_engine(clock=Clock(1_800_000_000.0))
    act = attr(V2_1, "Activation Date", dt(T.ACTIVATION_DATE, 949_327_200))  # 2000-02-01 (BL-M-3-21)
    key = send(engine, request(V2_1, create_aes(V2_1, "past", act))).items[0].uid
    assert state_of(engine, V2_1, key) == State.ACTIVE


def test_revoke_other_reason_deactivates() -> None:
    engine = make_engine()
    key = send(engine, request(V1_4, create_aes(V1_4, "rv"))).items[0].uid
    # Pre-Active -> (revoke, non-compromise) is not a permitted transition
    assert send(engine, request(V1_4, revoke(1, key))).items[0].reason == RR.PERMISSION_DENIED
    assert send(engine, request(V1_4, item(OP.ACTIVATE, uid(key)), revoke(5, key))).items[1].ok  # Superseded
    assert state_of(engine, V1_4, key) == State.DEACTIVATED
    bad = send(engine, request(V1_4, revoke(0x99, key)))
    assert bad.items[0].reason == RR.INVALID_FIELD
    assert send(engine, request(V1_4, item(OP.DESTROY, uid(key)))).items[0].ok


def test_get_attributes_after_destroy_keeps_metadata() -> None:
    engine = make_engine()
    key = send(engine, request(V2_1, create_aes(V2_1, "meta"))).items[0].uid
    assert send(engine, request(V2_1, item(OP.DESTROY, uid(key)))).items[0].ok
    assert state_of(engine, V2_1, key) == State.DESTROYED
    # Locate does not find destroyed objects unless the Storage Status Mask asks for them
    loc = item(OP.LOCATE, s(T.ATTRIBUTES, name("meta")))
    assert send(engine, request(V2_1, loc)).items[0].all(T.UNIQUE_IDENTIFIER) == []
    with_destroyed = item(OP.LOCATE, i(T.STORAGE_STATUS_MASK, 5), s(T.ATTRIBUTES, name("meta")))
    assert send(engine, request(V2_1, with_destroyed)).items[0].uid == key
    # the name is free again
    assert send(engine, request(V2_1, create_aes(V2_1, "meta"))).items[0].ok


def test_archive_and_recover() -> None:
    engine = make_engine()
    key = send(engine, request(V1_4, create_aes(V1_4, "arch"))).items[0].uid
    assert send(engine, request(V1_4, item(OP.ARCHIVE, uid(key)))).items[0].ok
    assert send(engine, request(V1_4, item(OP.GET, uid(key)))).items[0].reason == RR.OBJECT_ARCHIVED
    loc = item(OP.LOCATE, attr(V1_4, "Name", name("arch")))
    assert send(engine, request(V1_4, loc)).items[0].all(T.UNIQUE_IDENTIFIER) == []
    archived = item(OP.LOCATE, i(T.STORAGE_STATUS_MASK, 2), attr(V1_4, "Name", name("arch")))
    assert send(engine, request(V1_4, archived)).items[0].uid == key
    rec = send(engine, request(V1_4, item(OP.RECOVER, uid(key)), item(OP.GET)))
    assert rec.items[0].ok and rec.items[1].ok


@pytest.mark.parametrize(
    ("version", "reason"), [(V1_4, RR.PERMISSION_DENIED), (V2_1, RR.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK)]
)
def test_check_usage_mask(version: Version, reason: int) -> None:
    engine = make_engine()
    mask = attr(version, "Cryptographic Usage Mask", i(T.CRYPTOGRAPHIC_USAGE_MASK, 0x04))  # Encrypt only
    from tests.unit.test_engine_helpers import attributes

    attrs = attributes(
        version,
        attr(version, "Cryptographic Algorithm", e(T.CRYPTOGRAPHIC_ALGORITHM, 3)),
        attr(version, "Cryptographic Length", i(T.CRYPTOGRAPHIC_LENGTH, 128)),
        mask,
    )
    key = send(engine, request(version, item(OP.CREATE, e(T.OBJECT_TYPE, 2), attrs))).items[0].uid
    # a Pre-Active key may not be used for anything (SPEC-1.4 §3.22)
    early = send(engine, request(version, item(OP.CHECK, uid(key), i(T.CRYPTOGRAPHIC_USAGE_MASK, 0x04))))
    assert early.items[0].reason == LIFECYCLE_REFUSAL[version]
    assert send(engine, request(version, item(OP.ACTIVATE, uid(key)))).items[0].ok
    ok = send(engine, request(version, item(OP.CHECK, uid(key), i(T.CRYPTOGRAPHIC_USAGE_MASK, 0x04))))
    assert ok.items[0].ok and ok.items[0].uid == key
    bad = send(
        engine, request(version, item(OP.CHECK, uid(key), i(T.CRYPTOGRAPHIC_USAGE_MASK, 0x08)), item(OP.GET))
    )
    assert bad.items[0].reason == reason
    assert len(bad.items) == 1  # Stop


def test_obtain_lease_and_usage_allocation() -> None:
    engine = make_engine()
    limits = attr(
        V1_4,
        "Usage Limits",
        s(
            T.USAGE_LIMITS,
            Item(T.USAGE_LIMITS_TOTAL, ItemType.LONG_INTEGER, 10),
            Item(T.USAGE_LIMITS_COUNT, ItemType.LONG_INTEGER, 10),
            e(T.USAGE_LIMITS_UNIT, 2),
        ),
    )
    key = send(engine, request(V1_4, create_aes(V1_4, "lease", limits))).items[0].uid
    assert (
        send(engine, request(V1_4, item(OP.OBTAIN_LEASE, uid(key)))).items[0].reason == RR.PERMISSION_DENIED
    )
    assert send(engine, request(V1_4, item(OP.ACTIVATE, uid(key)))).items[0].ok
    lease = send(engine, request(V1_4, item(OP.OBTAIN_LEASE, uid(key))))
    lt = lease.items[0].get(T.LEASE_TIME)
    assert lt is not None and lt.value == 3600
    take = item(OP.GET_USAGE_ALLOCATION, uid(key), Item(T.USAGE_LIMITS_COUNT, ItemType.LONG_INTEGER, 7))
    assert send(engine, request(V1_4, take)).items[0].ok
    assert send(engine, request(V1_4, take)).items[0].reason == RR.PERMISSION_DENIED  # only 3 left
    other = send(engine, request(V1_4, create_aes(V1_4, "nolimits"), item(OP.ACTIVATE)))
    nolim = item(
        OP.GET_USAGE_ALLOCATION, uid(other.items[0].uid), Item(T.USAGE_LIMITS_COUNT, ItemType.LONG_INTEGER, 1)
    )
    assert send(engine, request(V1_4, nolim)).items[0].reason == RR.ILLEGAL_OPERATION


def test_rekey_moves_name_links_and_offsets_dates() -> None:
    clock = Clock(1_800_000_000.0)
    engine = make_engine(clock=clock)
    now = int(clock.now)
    act = attr(V1_4, "Activation Date", dt(T.ACTIVATION_DATE, now - 100))
    deact = attr(V1_4, "Deactivation Date", dt(T.DEACTIVATION_DATE, now + 1000))
    old = send(engine, request(V1_4, create_aes(V1_4, "rk", act, deact))).items[0].uid
    clock.now += 50
    rk = send(
        engine, request(V1_4, item(OP.RE_KEY, uid(old), Item(T.OFFSET, ItemType.INTERVAL, 10)), item(OP.GET))
    )
    assert rk.items[0].ok and rk.items[1].ok
    new = rk.items[0].uid
    assert new != old and rk.items[1].uid == new

    def attrs_of(key: str) -> dict[str, list[object]]:
        got = send(engine, request(V1_4, item(OP.GET_ATTRIBUTES, uid(key))))
        out: dict[str, list[object]] = {}
        for a in got.items[0].all(T.ATTRIBUTE):
            out.setdefault(str(a.value[0].value), []).append(a.value[-1].value)
        return out

    new_attrs, old_attrs = attrs_of(new), attrs_of(old)
    assert "Name" in new_attrs and "Name" not in old_attrs
    new_act = now + 50 + 10
    assert new_attrs["Activation Date"] == [new_act]
    assert new_attrs["Deactivation Date"] == [now + 1000 + (new_act - (now - 100))]
    links_new = [(int(v[0].value), v[1].value) for v in new_attrs["Link"]]  # type: ignore[index]
    links_old = [(int(v[0].value), v[1].value) for v in old_attrs["Link"]]  # type: ignore[index]
    assert links_new == [(LinkType.REPLACED_OBJECT_LINK, old)]
    assert links_old == [(LinkType.REPLACEMENT_OBJECT_LINK, new)]


@pytest.mark.parametrize("version", [V1_4, V2_1])
def test_protect_stop_and_process_start_windows(version: Version) -> None:
    clock = Clock(1_800_000_000.0)
    engine = make_engine(clock=clock)
    now = int(clock.now)
    dates = (
        attr(version, "Activation Date", dt(T.ACTIVATION_DATE, now - 10)),
        attr(version, "Process Start Date", dt(T.PROCESS_START_DATE, now + 100)),
        attr(version, "Protect Stop Date", dt(T.PROTECT_STOP_DATE, now + 200)),
    )
    key = send(engine, request(version, create_aes(version, "window", *dates))).items[0].uid

    def check(mask: int) -> int | None:
        return (
            send(engine, request(version, item(OP.CHECK, uid(key), i(T.CRYPTOGRAPHIC_USAGE_MASK, mask))))
            .items[0]
            .reason
        )

    assert check(0x04) is None  # Encrypt: before the Protect Stop Date
    assert check(0x08) == LIFECYCLE_REFUSAL[version]  # Decrypt: the Process Start Date is later
    clock.now = now + 150
    assert check(0x08) is None and check(0x04) is None
    clock.now = now + 250
    assert check(0x04) == LIFECYCLE_REFUSAL[version] and check(0x08) is None


@pytest.mark.parametrize("version", [V1_4, V2_1])
def test_locate_by_state_follows_dated_transitions_without_loading_objects(
    version: Version, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Locate's State filter answers the effective State (dates reached take effect, SPEC-1.4
    §3.22 transitions 4 and 6) from the index: exactly the objects Get Attributes shows in that
    State, at every clock position, and no object is loaded (no material unwrapped)."""
    clock = Clock(1_800_000_000.0)
    engine = make_engine(clock=clock)
    t0 = int(clock.now)

    def dates(act: int | None = None, deact: int | None = None) -> list[Item]:
        out = []
        if act is not None:
            out.append(attr(version, "Activation Date", dt(T.ACTIVATION_DATE, act)))
        if deact is not None:
            out.append(attr(version, "Deactivation Date", dt(T.DEACTIVATION_DATE, deact)))
        return out

    def create(label: str, *more: Item) -> str:
        got = send(engine, request(version, create_aes(version, label, *more))).items[0]
        assert got.ok
        return got.uid

    def ok(*items: Item) -> None:
        assert all(r.ok for r in send(engine, request(version, *items)).items)

    keys = [
        create("plain"),
        create("act-later", *dates(t0 + 100)),
        create("act-deact-later", *dates(t0 + 100, t0 + 200)),
        create("deact-before-act", *dates(t0 + 100, t0 + 50)),
        create("deact-only", *dates(None, t0 + 50)),
    ]
    active = create("active-deact-later", *dates(None, t0 + 150))
    ok(item(OP.ACTIVATE, uid(active)))
    plain_active = create("active")
    ok(item(OP.ACTIVATE, uid(plain_active)))
    revoked = create("revoked")
    ok(item(OP.ACTIVATE, uid(revoked)), revoke(5, revoked))
    compromised = create("compromised", *dates(t0 + 100))
    ok(revoke(2, compromised))
    destroyed = create("destroyed", *dates(t0 + 100))
    ok(item(OP.DESTROY, uid(destroyed)))
    keys += [active, plain_active, revoked, compromised, destroyed]

    loads: list[str] = []
    load = engine.store.load

    def counted(u: str, **kw: bool) -> object:
        loads.append(u)
        return load(u, **kw)

    monkeypatch.setattr(engine.store, "load", counted)

    def locate_state(st: State) -> set[str]:
        a = attr(version, "State", e(T.STATE, st))
        loc = item(OP.LOCATE, s(T.ATTRIBUTES, a)) if version.major >= 2 else item(OP.LOCATE, a)
        loads.clear()
        got = send(engine, request(version, loc)).items[0]
        assert got.ok and loads == []
        return {str(u.value) for u in got.all(T.UNIQUE_IDENTIFIER)}

    seen: set[tuple[str, int]] = set()
    for offset in (0, 60, 120, 160, 250):
        clock.now = t0 + offset
        states = {k: state_of(engine, version, k) for k in keys}
        seen |= {(k, st) for k, st in states.items()}
        for st in (State.PRE_ACTIVE, State.ACTIVE, State.DEACTIVATED, State.COMPROMISED, State.DESTROYED):
            assert locate_state(st) == {k for k, v in states.items() if v == st}, (offset, st.name)
    # every dated transition was exercised
    assert (keys[1], State.ACTIVE) in seen and (keys[2], State.DEACTIVATED) in seen
    assert (keys[3], State.PRE_ACTIVE) in seen and (active, State.DEACTIVATED) in seen


@pytest.mark.parametrize("version", [V1_4, V2_1])
@pytest.mark.parametrize("date", ["Protect Stop Date", "Process Start Date"])
def test_process_start_and_protect_stop_dates_are_frozen_once_reached(version: Version, date: str) -> None:
    """SPEC-1.4 §3.25 / §3.26: once the date has occurred it SHALL NOT be changed (before, it may).
    An Active key whose Protect Stop Date had passed could be given a later one, and protect
    again. Found by tests/props/test_engine_state_machine.py."""
    clock = Clock(1_800_000_000.0)
    engine = make_engine(clock=clock)
    now = int(clock.now)
    tag = T.PROTECT_STOP_DATE if date == "Protect Stop Date" else T.PROCESS_START_DATE
    key = send(
        engine, request(version, create_aes(version, "frozen", attr(version, date, dt(tag, now + 10))))
    )
    key_uid = key.items[0].uid
    if date == "Protect Stop Date":
        assert send(engine, request(version, item(OP.ACTIVATE, uid(key_uid)))).items[0].ok

    def modify(value: int) -> int | None:
        new = attr(version, date, dt(tag, value))
        payload = s(T.NEW_ATTRIBUTE, new) if version.major >= 2 else new
        return (
            send(engine, request(version, item(OP.MODIFY_ATTRIBUTE, uid(key_uid), payload))).items[0].reason
        )

    assert modify(now + 20) is None  # not reached yet: may change
    clock.now = now + 20
    assert modify(now + 1000) == LIFECYCLE_REFUSAL[version]
