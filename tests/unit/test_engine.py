"""Engine: versions, batches, ID Placeholder, errors, authorization, profile limits.

Assertions are on Result Status / Result Reason values and payload values, never on texts.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.spec import (
    ALL_VERSIONS,
    V1_0,
    V1_2,
    V1_4,
    V2_0,
    V2_1,
    ItemType,
    KeyFormatType,
    Operation,
    QueryFunction,
    Tag,
    Version,
)
from agent.ttlv import Item, encode
from profiles.engine import Engine, EngineConfig
from profiles.keyprotect import KeyProtector
from profiles.store import LocateQuery, open_store
from tests.unit.test_engine_helpers import (
    FAILED,
    RR,
    SUCCESS,
    UNDONE,
    Clock,
    attr,
    attributes,
    b,
    by,
    create_aes,
    e,
    i,
    item,
    make_engine,
    name,
    pv,
    request,
    s,
    send,
    t,
    uid,
)

T = Tag
OP = Operation
V1_3 = Version(1, 3)


def locate_by_name(version: Version, value: str) -> Item:
    if version.major >= 2:
        return item(OP.LOCATE, s(T.ATTRIBUTES, name(value)))
    return item(OP.LOCATE, attr(version, "Name", name(value)))


# ------------------------------------------------------------------ versions


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_answer_in_request_version(version: Version) -> None:
    engine = make_engine()
    resp = send(engine, request(version, item(OP.QUERY, e(T.QUERY_FUNCTION, QueryFunction.QUERY_OPERATIONS))))
    assert resp.version == version
    assert resp.items[0].ok
    ops = {int(x.value) for x in resp.items[0].all(T.OPERATION)}
    assert {OP.QUERY, OP.LOCATE, OP.GET, OP.CREATE, OP.REGISTER, OP.DESTROY} <= ops
    assert (OP.DISCOVER_VERSIONS in ops) == (version >= Version(1, 1))
    assert (OP.SET_ATTRIBUTE in ops) == (version >= V2_0)


def test_newer_minor_is_answered_in_our_newest_minor() -> None:
    resp = send(make_engine(), request(Version(1, 7), item(OP.QUERY, e(T.QUERY_FUNCTION, 1))))
    assert resp.version == V1_4 and resp.items[0].ok
    resp = send(make_engine(), request(Version(2, 9), item(OP.QUERY, e(T.QUERY_FUNCTION, 1))))
    assert resp.version == V2_1 and resp.items[0].ok


@pytest.mark.parametrize("major", [0, 3, 7])
def test_unsupported_major_is_invalid_message_without_operation(major: int) -> None:
    resp = send(make_engine(), request(Version(major, 0), item(OP.QUERY, e(T.QUERY_FUNCTION, 1))))
    assert len(resp.items) == 1
    only = resp.items[0]
    assert only.operation is None
    assert only.status == FAILED and only.reason == RR.INVALID_MESSAGE


def test_unparseable_bytes_are_invalid_message_in_readable_version() -> None:
    engine = make_engine()
    good = encode(request(V1_2, item(OP.QUERY, e(T.QUERY_FUNCTION, 1))))
    broken = good[:-3]  # truncated: not a TTLV item any more
    from agent.ttlv import decode
    from tests.unit.test_engine_helpers import parse

    resp = parse(decode(engine.handle(broken, "client-a")))
    assert resp.version == V1_2
    assert resp.items[0].operation is None
    assert resp.items[0].reason == RR.INVALID_MESSAGE
    resp = parse(decode(engine.handle(b"\x00garbage", "client-a")))
    assert resp.items[0].reason == RR.INVALID_MESSAGE


def test_batch_count_mismatch_is_invalid_message() -> None:
    msg = request(V1_4, item(OP.QUERY, e(T.QUERY_FUNCTION, 1)))
    header = msg.value[0]
    bad_header = s(T.REQUEST_HEADER, pv(V1_4), i(T.BATCH_COUNT, 2))
    assert header.tag == T.REQUEST_HEADER
    resp = send(make_engine(), s(T.REQUEST_MESSAGE, bad_header, *msg.value[1:]))
    assert resp.items[0].reason == RR.INVALID_MESSAGE


def test_discover_versions() -> None:
    engine = make_engine()
    resp = send(engine, request(V1_4, item(OP.DISCOVER_VERSIONS)))
    got = [(int(v.value[0].value), int(v.value[1].value)) for v in resp.items[0].all(T.PROTOCOL_VERSION)]
    assert got == [(2, 1), (2, 0), (1, 4), (1, 3), (1, 2), (1, 1), (1, 0)]
    resp = send(
        engine,
        request(V1_4, item(OP.DISCOVER_VERSIONS, pv(Version(1, 2)), pv(Version(9, 9)), pv(V1_4))),
    )
    got = [(int(v.value[0].value), int(v.value[1].value)) for v in resp.items[0].all(T.PROTOCOL_VERSION)]
    assert got == [(1, 4), (1, 2)]
    resp = send(engine, request(V1_4, item(OP.DISCOVER_VERSIONS, pv(Version(3, 0)))))
    assert resp.items[0].ok and resp.items[0].all(T.PROTOCOL_VERSION) == []


def test_discover_versions_is_not_a_1_0_operation() -> None:
    resp = send(make_engine(), request(V1_0, item(OP.DISCOVER_VERSIONS)))
    assert resp.items[0].reason == RR.OPERATION_NOT_SUPPORTED


# ------------------------------------------------------------------ batches


@pytest.mark.parametrize("version", [V1_0, V1_4, V2_0, V2_1])
def test_create_then_get_with_id_placeholder(version: Version) -> None:
    engine = make_engine()
    resp = send(
        engine,
        request(
            version,
            create_aes(version, "k1", batch_id=b"\x01"),
            item(OP.GET, batch_id=b"\x02"),
            header=[b(T.BATCH_ORDER_OPTION, True)],
        ),
    )
    create, get = resp.items
    assert (create.batch_id, get.batch_id) == (b"\x01", b"\x02")
    assert create.ok and get.ok
    assert get.uid == create.uid
    key = get.get(T.SYMMETRIC_KEY)
    assert key is not None
    block = key.value[0]
    fmt = next(c for c in block.value if c.tag == T.KEY_FORMAT_TYPE)
    assert fmt.value == KeyFormatType.RAW
    material = [
        c for c in next(c for c in block.value if c.tag == T.KEY_VALUE).value if c.tag == T.KEY_MATERIAL
    ]
    assert len(material[0].value) == 32


def test_locate_then_get_with_placeholder_and_ambiguity() -> None:
    engine = make_engine()
    group = attr(V1_4, "Object Group", t(T.OBJECT_GROUP, "g1"))
    for n in ("a", "b"):
        assert send(engine, request(V1_4, create_aes(V1_4, n, group))).items[0].ok
    only_a = send(engine, request(V1_4, locate_by_name(V1_4, "a"), item(OP.GET)))
    assert only_a.items[0].ok and only_a.items[1].ok
    assert only_a.items[1].uid == only_a.items[0].uid
    both = send(
        engine,
        request(
            V1_4,
            item(OP.LOCATE, attr(V1_4, "Object Group", t(T.OBJECT_GROUP, "g1"))),
            item(OP.GET),
        ),
    )
    assert len(both.items[0].all(T.UNIQUE_IDENTIFIER)) == 2
    # several matches empty the ID Placeholder (SPEC-1.4 §4.9): the dependent Get fails
    assert both.items[1].status == FAILED and both.items[1].reason == RR.ITEM_NOT_FOUND


def test_2x_unique_identifier_enumeration_and_integer() -> None:
    engine = make_engine()
    resp = send(
        engine,
        request(
            V2_1,
            create_aes(V2_1, "n1"),
            item(OP.GET_ATTRIBUTES, e(T.UNIQUE_IDENTIFIER, 1), e(T.ATTRIBUTE_REFERENCE, T.STATE)),
            item(OP.GET_ATTRIBUTES, i(T.UNIQUE_IDENTIFIER, 0), e(T.ATTRIBUTE_REFERENCE, T.STATE)),
            item(OP.GET_ATTRIBUTES, e(T.UNIQUE_IDENTIFIER, 3), e(T.ATTRIBUTE_REFERENCE, T.STATE)),
        ),
    )
    assert all(r.ok for r in resp.items)
    assert {r.uid for r in resp.items} == {resp.items[0].uid}


def test_stop_drops_later_items_continue_runs_them() -> None:
    engine = make_engine()
    items = (item(OP.GET, uid("nope"), batch_id=b"1"), item(OP.QUERY, e(T.QUERY_FUNCTION, 1), batch_id=b"2"))
    stop = send(engine, request(V1_4, *items))  # Stop is the default (SPEC-1.4 §6.13)
    assert [r.batch_id for r in stop.items] == [b"1"]
    assert stop.items[0].reason == RR.ITEM_NOT_FOUND
    cont = send(engine, request(V1_4, *items, header=[e(T.BATCH_ERROR_CONTINUATION_OPTION, 1)]))
    assert [r.status for r in cont.items] == [FAILED, SUCCESS]


def test_undo_rolls_back_and_answers_operation_undone() -> None:
    engine = make_engine()
    resp = send(
        engine,
        request(
            V2_1,
            create_aes(V2_1, "undo-me", batch_id=b"1"),
            item(OP.ACTIVATE, batch_id=b"2"),
            item(OP.GET, uid("missing"), batch_id=b"3"),
            item(OP.QUERY, e(T.QUERY_FUNCTION, 1), batch_id=b"4"),
            header=[e(T.BATCH_ERROR_CONTINUATION_OPTION, 3)],
        ),
    )
    assert [r.status for r in resp.items] == [UNDONE, UNDONE, FAILED]
    assert resp.items[2].reason == RR.OBJECT_NOT_FOUND
    assert resp.items[0].uid  # undone items keep their payload (BL-M-2-21)
    found = send(engine, request(V2_1, locate_by_name(V2_1, "undo-me")))
    assert found.items[0].all(T.UNIQUE_IDENTIFIER) == []


def test_response_too_large() -> None:
    engine = make_engine()
    q = item(OP.QUERY, e(T.QUERY_FUNCTION, 1), e(T.QUERY_FUNCTION, 2))
    small = send(engine, request(V1_4, q, header=[i(T.MAXIMUM_RESPONSE_SIZE, 256)]))
    assert small.items[0].status == FAILED and small.items[0].reason == RR.RESPONSE_TOO_LARGE
    assert small.items[0].operation == OP.QUERY
    big = send(engine, request(V1_4, q, header=[i(T.MAXIMUM_RESPONSE_SIZE, 4096)]))
    assert big.items[0].ok


def _extension(critical: bool) -> Item:
    return s(
        T.MESSAGE_EXTENSION,
        t(T.VENDOR_IDENTIFICATION, "acme"),
        b(T.CRITICALITY_INDICATOR, critical),
        s(T.VENDOR_EXTENSION),
    )


@pytest.mark.parametrize(
    ("version", "reason"), [(V1_4, RR.FEATURE_NOT_SUPPORTED), (V2_1, RR.UNKNOWN_MESSAGE_EXTENSION)]
)
def test_critical_extension_refused_non_critical_ignored(version: Version, reason: int) -> None:
    engine = make_engine()
    q = e(T.QUERY_FUNCTION, 1)
    resp = send(engine, request(version, item(OP.QUERY, q, extra=[_extension(True)]), item(OP.QUERY, q)))
    assert [r.reason for r in resp.items] == [reason, reason]  # the entire message is rejected
    resp = send(engine, request(version, item(OP.QUERY, q, extra=[_extension(False)])))
    assert resp.items[0].ok


def test_unknown_operation_and_missing_payload() -> None:
    engine = make_engine()
    unknown = s(T.BATCH_ITEM, e(T.OPERATION, 0x8000_0001), s(T.REQUEST_PAYLOAD))
    resp = send(engine, request(V1_4, unknown))
    assert resp.items[0].reason == RR.OPERATION_NOT_SUPPORTED and resp.items[0].operation == 0x8000_0001
    no_payload = s(T.BATCH_ITEM, e(T.OPERATION, OP.QUERY))
    assert send(engine, request(V1_4, no_payload)).items[0].reason == RR.INVALID_MESSAGE


def test_internal_error_is_general_failure_without_details() -> None:
    def boom(ctx: object, payload: Item) -> list[Item]:
        raise RuntimeError("secret 0123456789abcdef")

    engine = Engine(EngineConfig(), open_store("memory:"), clock=Clock(), handlers={OP.QUERY: boom})
    raw = engine.handle(encode(request(V1_4, item(OP.QUERY))), "client-a")
    assert b"secret" not in raw and b"0123456789abcdef" not in raw
    from agent.ttlv import decode
    from tests.unit.test_engine_helpers import parse

    assert parse(decode(raw)).items[0].reason == RR.GENERAL_FAILURE


# ------------------------------------------------------------------ profiles, authorization


def test_profile_limited_operation_not_supported() -> None:
    engine = make_engine(EngineConfig(profiles=("Storage Array with Self Encrypting Drives Server",)))
    resp = send(engine, request(V1_4, create_aes(V1_4, "x")))
    assert resp.items[0].reason == RR.OPERATION_NOT_SUPPORTED
    q = send(engine, request(V1_4, item(OP.QUERY, e(T.QUERY_FUNCTION, 1), e(T.QUERY_FUNCTION, 2))))
    ops = {int(x.value) for x in q.items[0].all(T.OPERATION)}
    assert OP.CREATE not in ops and OP.REGISTER in ops
    types = {int(x.value) for x in q.items[0].all(T.OBJECT_TYPE)}
    assert types == {7, 6}  # Secret Data, Template


def test_query_profiles_reports_claimed_profiles() -> None:
    engine = make_engine(EngineConfig(profiles=("tape-library", "baseline")))
    q = send(engine, request(V1_4, item(OP.QUERY, e(T.QUERY_FUNCTION, QueryFunction.QUERY_PROFILES))))
    names = {int(p.value[0].value) for p in q.items[0].all(T.PROFILE_INFORMATION)}
    # every 1.x version's value up to the request's (TC-Q-PROF-1-14), never a 2.x one
    assert {0x0A, 0x0B, 0x0C, 0x5C, 0x80, 0x01, 0x55, 0x79} == names
    q = send(engine, request(V2_1, item(OP.QUERY, e(T.QUERY_FUNCTION, QueryFunction.QUERY_PROFILES))))
    assert sorted(int(p.value[0].value) for p in q.items[0].all(T.PROFILE_INFORMATION)) == [0x107, 0x12B]


def test_unknown_profile_name_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        make_engine(EngineConfig(profiles=("No Such Server",)))


@pytest.mark.parametrize(("version", "reason"), [(V1_4, RR.ITEM_NOT_FOUND), (V2_1, RR.OBJECT_NOT_FOUND)])
def test_other_identity_sees_item_not_found(version: Version, reason: int) -> None:
    engine = make_engine()
    key = send(engine, request(version, create_aes(version, "mine"))).items[0].uid
    for op in (OP.GET, OP.GET_ATTRIBUTES, OP.DESTROY, OP.ACTIVATE):
        other = send(engine, request(version, item(op, uid(key))), identity="client-b")
        assert other.items[0].reason == reason
    located = send(engine, request(version, locate_by_name(version, "mine")), identity="client-b")
    assert located.items[0].all(T.UNIQUE_IDENTIFIER) == []
    admin = send(engine, request(version, item(OP.GET, uid(key))), identity="admin")
    assert admin.items[0].ok


# ------------------------------------------------------------------ attributes


@pytest.mark.parametrize("version", [V1_0, V1_4, V2_1])
def test_32_custom_attributes_with_255_character_names_and_values(version: Version) -> None:
    engine = make_engine()
    names = [f"x-{n:02d}" + "N" * 250 + "-end" for n in range(32)]
    assert all(len(n) >= 255 for n in names)
    values = [f"{n:02d}" + "v" * 253 for n in range(32)]
    customs = [attr(version, n, t(T.ATTRIBUTE_VALUE, v)) for n, v in zip(names, values)]
    created = send(engine, request(version, create_aes(version, "custom", *customs)))
    assert created.items[0].ok
    got = send(engine, request(version, item(OP.GET_ATTRIBUTES, uid(created.items[0].uid))))
    assert got.items[0].ok
    found: dict[str, str] = {}
    if version.major >= 2:
        carrier = got.items[0].get(T.ATTRIBUTES)
        assert carrier is not None
        for a in carrier.value:
            if a.tag == T.ATTRIBUTE:
                vendor, n, v = a.value
                found[f"{vendor.value}-{n.value}"] = v.value
    else:
        for a in got.items[0].all(T.ATTRIBUTE):
            n, v = a.value[0], a.value[-1]
            if str(n.value).startswith("x-"):
                found[str(n.value)] = v.value
    assert found == dict(zip(names, values))
    # and a Locate by one of them finds the object
    loc_attr = attr(version, names[7], t(T.ATTRIBUTE_VALUE, values[7]))
    loc = item(OP.LOCATE, s(T.ATTRIBUTES, loc_attr)) if version.major >= 2 else item(OP.LOCATE, loc_attr)
    assert send(engine, request(version, loc)).items[0].uid == created.items[0].uid


@pytest.mark.parametrize(
    ("version", "reason"), [(V1_4, RR.INVALID_FIELD), (V2_1, RR.NON_UNIQUE_NAME_ATTRIBUTE)]
)
def test_names_are_unique_server_wide(version: Version, reason: int) -> None:
    engine = make_engine()
    assert send(engine, request(version, create_aes(version, "dup"))).items[0].ok
    again = send(engine, request(version, create_aes(version, "dup")), identity="client-b")
    assert again.items[0].reason == reason


@pytest.mark.parametrize(
    ("version", "reason"), [(V1_4, RR.INVALID_FIELD), (V2_1, RR.NON_UNIQUE_NAME_ATTRIBUTE)]
)
def test_names_are_unique_across_server_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: Version, reason: int
) -> None:
    """Two engines on one SQLite file (two keyshelf-server processes, the failover setup): the
    second one's Name check passes, then the first one stores the Name before the second
    writes; the store refuses the second write and the engine answers as for any Name in use."""
    protector = KeyProtector(os.urandom(32))
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = open_store(url, protector), open_store(url, protector)
    try:
        a, b = Engine(EngineConfig(), first), Engine(EngineConfig(), second)
        locate = second.locate
        won = []

        def locate_then_lose_the_race(q: LocateQuery) -> list[str]:
            found = locate(q)  # b's Name check: the Name is free...
            if not won:  # ...until a stores it
                won.append(send(a, request(version, create_aes(version, "shared"))).items[0])
            return found

        monkeypatch.setattr(second, "locate", locate_then_lose_the_race)
        lost = send(b, request(version, create_aes(version, "shared")), identity="client-b").items[0]
        monkeypatch.undo()
        assert won[0].ok
        assert lost.reason == reason
        for engine in (a, b):
            found = send(engine, request(version, locate_by_name(version, "shared")))
            assert [x.uid for x in found.items] == [won[0].uid]
    finally:
        first.close()
        second.close()


def test_add_modify_delete_attribute_1x() -> None:
    engine = make_engine()
    key = send(engine, request(V1_4, create_aes(V1_4, "attrs"))).items[0].uid
    x = attr(V1_4, "x-colour", t(T.ATTRIBUTE_VALUE, "red"))
    added = send(engine, request(V1_4, item(OP.ADD_ATTRIBUTE, uid(key), x)))
    assert added.items[0].ok
    # a single-instance attribute cannot be added twice: 1.x Illegal Operation
    alg = attr(V1_4, "Contact Information", t(T.CONTACT_INFORMATION, "ops"))
    assert send(engine, request(V1_4, item(OP.ADD_ATTRIBUTE, uid(key), alg))).items[0].ok
    again = send(engine, request(V1_4, item(OP.ADD_ATTRIBUTE, uid(key), alg)))
    assert again.items[0].reason == RR.ILLEGAL_OPERATION
    # read-only attributes: Permission Denied
    state = attr(V1_4, "State", e(T.STATE, 2))
    assert send(engine, request(V1_4, item(OP.MODIFY_ATTRIBUTE, uid(key), state))).items[0].reason == (
        RR.PERMISSION_DENIED
    )
    blue = attr(V1_4, "x-colour", t(T.ATTRIBUTE_VALUE, "blue"))
    modified = send(engine, request(V1_4, item(OP.MODIFY_ATTRIBUTE, uid(key), blue)))
    assert modified.items[0].ok
    value = modified.items[0].get(T.ATTRIBUTE)
    assert value is not None and value.value[-1].value == "blue"
    deleted = send(
        engine, request(V1_4, item(OP.DELETE_ATTRIBUTE, uid(key), t(T.ATTRIBUTE_NAME, "x-colour")))
    )
    assert deleted.items[0].ok
    gone = send(engine, request(V1_4, item(OP.DELETE_ATTRIBUTE, uid(key), t(T.ATTRIBUTE_NAME, "x-colour"))))
    assert gone.items[0].reason == RR.ITEM_NOT_FOUND
    missing = send(engine, request(V1_4, item(OP.MODIFY_ATTRIBUTE, uid(key), blue)))
    assert missing.items[0].reason == RR.INVALID_FIELD


def test_2x_attribute_operations() -> None:
    engine = make_engine()
    key = send(engine, request(V2_1, create_aes(V2_1, "two"))).items[0].uid
    desc = s(T.NEW_ATTRIBUTE, t(T.DESCRIPTION, "d1"))
    assert send(engine, request(V2_1, item(OP.ADD_ATTRIBUTE, uid(key), desc))).items[0].ok
    assert send(engine, request(V2_1, item(OP.ADD_ATTRIBUTE, uid(key), desc))).items[0].reason == (
        RR.ATTRIBUTE_SINGLE_VALUED
    )
    ro = s(T.NEW_ATTRIBUTE, e(T.STATE, 4))
    assert send(engine, request(V2_1, item(OP.MODIFY_ATTRIBUTE, uid(key), ro))).items[0].reason == (
        RR.ATTRIBUTE_READ_ONLY
    )
    setd = s(T.NEW_ATTRIBUTE, t(T.DESCRIPTION, "d2"))
    assert send(engine, request(V2_1, item(OP.SET_ATTRIBUTE, uid(key), setd))).items[0].ok
    got = send(
        engine, request(V2_1, item(OP.GET_ATTRIBUTES, uid(key), e(T.ATTRIBUTE_REFERENCE, T.DESCRIPTION)))
    )
    carrier = got.items[0].get(T.ATTRIBUTES)
    assert carrier is not None and [c.value for c in carrier.value] == ["d2"]
    lst = send(engine, request(V2_1, item(OP.GET_ATTRIBUTE_LIST, uid(key))))
    refs = {int(r.value) for r in lst.items[0].all(T.ATTRIBUTE_REFERENCE) if r.type == ItemType.ENUMERATION}
    assert {T.DESCRIPTION, T.STATE, T.UNIQUE_IDENTIFIER, T.SHORT_UNIQUE_IDENTIFIER} <= refs
    dele = send(
        engine, request(V2_1, item(OP.DELETE_ATTRIBUTE, uid(key), e(T.ATTRIBUTE_REFERENCE, T.DESCRIPTION)))
    )
    assert dele.items[0].ok
    dele = send(
        engine, request(V2_1, item(OP.DELETE_ATTRIBUTE, uid(key), e(T.ATTRIBUTE_REFERENCE, T.DESCRIPTION)))
    )
    assert dele.items[0].reason == RR.ATTRIBUTE_NOT_FOUND


def test_attribute_availability_per_version() -> None:
    engine = make_engine()
    key = send(engine, request(V2_1, create_aes(V2_1, "ver"))).items[0].uid
    for version, present, absent in (
        (
            V1_0,
            {"Name", "State"},
            {"Fresh", "Sensitive", "Original Creation Date", "Short Unique Identifier"},
        ),
        (V1_2, {"Fresh", "Original Creation Date"}, {"Sensitive", "Random Number Generator"}),
        (V1_4, {"Sensitive", "Random Number Generator"}, {"Short Unique Identifier", "Key Format Type"}),
    ):
        lst = send(engine, request(version, item(OP.GET_ATTRIBUTE_LIST, uid(key))))
        names = {str(n.value) for n in lst.items[0].all(T.ATTRIBUTE_NAME)}
        assert present <= names and not (absent & names), version


def test_get_key_format_conversion() -> None:
    engine = make_engine()
    key = send(engine, request(V1_4, create_aes(V1_4, "conv"))).items[0].uid
    tsk = send(
        engine,
        request(V1_4, item(OP.GET, uid(key), e(T.KEY_FORMAT_TYPE, KeyFormatType.TRANSPARENT_SYMMETRIC_KEY))),
    )
    assert tsk.items[0].ok
    sym = tsk.items[0].get(T.SYMMETRIC_KEY)
    assert sym is not None
    block = sym.value[0]
    kv = next(c for c in block.value if c.tag == T.KEY_VALUE)
    material = kv.value[0]
    assert material.type == ItemType.STRUCTURE and material.value[0].tag == T.KEY
    assert material.value[0].value == bytes(range(32))
    bad = send(engine, request(V1_4, item(OP.GET, uid(key), e(T.KEY_FORMAT_TYPE, KeyFormatType.PKCS_8))))
    assert bad.items[0].reason == RR.KEY_FORMAT_TYPE_NOT_SUPPORTED


def test_register_secret_data_and_opaque_and_template_reference() -> None:
    engine = make_engine()
    tmpl = s(
        T.TEMPLATE,
        attr(V1_3, "Object Group", t(T.OBJECT_GROUP, "grp")),
        attr(V1_3, "x-a", t(T.ATTRIBUTE_VALUE, "1")),
    )
    reg_t = item(OP.REGISTER, e(T.OBJECT_TYPE, 6), attributes(V1_3, attr(V1_3, "Name", name("tmpl"))), tmpl)
    assert send(engine, request(V1_3, reg_t)).items[0].ok
    secret = s(
        T.SECRET_DATA,
        e(T.SECRET_DATA_TYPE, 1),
        s(T.KEY_BLOCK, e(T.KEY_FORMAT_TYPE, 2), s(T.KEY_VALUE, by(T.KEY_MATERIAL, b"pw" * 16))),
    )
    ta = s(T.TEMPLATE_ATTRIBUTE, name("tmpl"), attr(V1_3, "Name", name("secret")))
    reg = send(engine, request(V1_3, item(OP.REGISTER, e(T.OBJECT_TYPE, 7), ta, secret)))
    assert reg.items[0].ok
    by_group = item(
        OP.LOCATE,
        attr(V1_3, "Object Group", t(T.OBJECT_GROUP, "grp")),
        attr(V1_3, "Object Type", e(T.OBJECT_TYPE, 7)),
    )
    found = send(engine, request(V1_3, by_group, item(OP.GET)))
    assert found.items[0].uid == reg.items[0].uid and found.items[1].ok
    missing_t = s(T.TEMPLATE_ATTRIBUTE, name("no-such-template"))
    bad = send(engine, request(V1_3, item(OP.REGISTER, e(T.OBJECT_TYPE, 7), missing_t, secret)))
    assert bad.items[0].reason == RR.ITEM_NOT_FOUND
    opaque = s(T.OPAQUE_OBJECT, e(T.OPAQUE_DATA_TYPE, 0x80000001), by(T.OPAQUE_DATA_VALUE, b"blob"))
    reg_o = send(
        engine, request(V2_1, item(OP.REGISTER, e(T.OBJECT_TYPE, 8), s(T.ATTRIBUTES, name("op")), opaque))
    )
    assert reg_o.items[0].ok
    mismatch = send(engine, request(V2_1, item(OP.REGISTER, e(T.OBJECT_TYPE, 2), s(T.ATTRIBUTES), opaque)))
    assert mismatch.items[0].reason == RR.INVALID_FIELD


def test_request_log_has_operations_ids_and_no_key_material() -> None:
    engine = make_engine()
    data = encode(request(V1_4, create_aes(V1_4, "logged"), item(OP.GET)))
    raw, entry = engine.handle_logged(data, "client-a")
    assert entry.identity == "client-a" and entry.version == "1.4"
    assert [x.operation for x in entry.items] == ["Create", "Get"]
    assert [x.status for x in entry.items] == ["Success", "Success"]
    assert entry.items[0].unique_identifiers == ("uid-1",)
    assert entry.elapsed_ms >= 0
    assert bytes(range(32)).hex() not in repr(entry)
    assert bytes(range(32)) in raw  # the key is in the response, not in the log
    _, failed = engine.handle_logged(encode(request(V2_1, item(OP.GET, uid("zz")))), "client-a")
    assert failed.items[0].reason == "Object Not Found"


# ------------------------------------------------------------------ locate


def test_locate_filters_paging_and_located_items() -> None:
    engine = make_engine()
    asi = s(
        T.APPLICATION_SPECIFIC_INFORMATION,
        t(T.APPLICATION_NAMESPACE, "LIBRARY-LTO"),
        t(T.APPLICATION_DATA, "AB"),
    )
    other_asi = s(
        T.APPLICATION_SPECIFIC_INFORMATION,
        t(T.APPLICATION_NAMESPACE, "LIBRARY-LTO"),
        t(T.APPLICATION_DATA, "CD"),
    )
    uids = []
    for n, a in (("l1", asi), ("l2", other_asi), ("l3", other_asi)):
        created = send(
            engine, request(V1_4, create_aes(V1_4, n, attr(V1_4, "Application Specific Information", a)))
        )
        uids.append(created.items[0].uid)
    by_asi = send(engine, request(V1_4, item(OP.LOCATE, attr(V1_4, "Application Specific Information", asi))))
    assert [str(u.value) for u in by_asi.items[0].all(T.UNIQUE_IDENTIFIER)] == [uids[0]]
    # Cryptographic Usage Mask matches by AND (SPEC-1.4 §4.9): Encrypt alone matches Encrypt|Decrypt
    by_mask = send(
        engine,
        request(
            V1_4, item(OP.LOCATE, attr(V1_4, "Cryptographic Usage Mask", i(T.CRYPTOGRAPHIC_USAGE_MASK, 4)))
        ),
    )
    assert len(by_mask.items[0].all(T.UNIQUE_IDENTIFIER)) == 3
    by_sign = send(
        engine,
        request(
            V1_4, item(OP.LOCATE, attr(V1_4, "Cryptographic Usage Mask", i(T.CRYPTOGRAPHIC_USAGE_MASK, 1)))
        ),
    )
    assert by_sign.items[0].all(T.UNIQUE_IDENTIFIER) == []
    # newest first, Offset Items / Maximum Items, Located Items counts all matches (1.3+)
    paged = send(engine, request(V1_4, item(OP.LOCATE, i(T.MAXIMUM_ITEMS, 1), i(T.OFFSET_ITEMS, 1))))
    located = paged.items[0].get(T.LOCATED_ITEMS)
    assert located is not None and located.value == 3
    assert [str(u.value) for u in paged.items[0].all(T.UNIQUE_IDENTIFIER)] == [uids[1]]
    first = send(engine, request(V1_4, item(OP.LOCATE, i(T.MAXIMUM_ITEMS, 1)), item(OP.GET)))
    assert first.items[0].get(T.LOCATED_ITEMS) is None  # only with Offset Items (TC-OFFSET-1-14)
    assert first.items[0].uid == uids[2] and first.items[1].uid == uids[2]
    two = send(engine, request(V1_4, item(OP.LOCATE, i(T.MAXIMUM_ITEMS, 2)), item(OP.GET)))
    assert two.items[1].reason == RR.ITEM_NOT_FOUND  # two results empty the ID Placeholder
    everything = send(engine, request(V1_4, item(OP.LOCATE)))
    assert [str(u.value) for u in everything.items[0].all(T.UNIQUE_IDENTIFIER)] == uids[::-1]
    assert everything.items[0].get(T.LOCATED_ITEMS) is None
    # an attribute the server does not know: Invalid Field (SPEC-1.4 Table 336)
    unknown = s(T.ATTRIBUTE, t(T.ATTRIBUTE_NAME, "No Such Attribute"), t(T.ATTRIBUTE_VALUE, "x"))
    assert send(engine, request(V1_4, item(OP.LOCATE, unknown))).items[0].reason == RR.INVALID_FIELD


def test_locate_date_range_2x() -> None:
    engine = make_engine()
    from tests.unit.test_engine_helpers import dt

    stop = dt(T.PROTECT_STOP_DATE, 949_327_200)
    created = send(engine, request(V2_1, create_aes(V2_1, "dated", stop)))
    inside = item(
        OP.LOCATE, s(T.ATTRIBUTES, dt(T.PROTECT_STOP_DATE, 949_000_000), dt(T.PROTECT_STOP_DATE, 950_000_000))
    )
    outside = item(
        OP.LOCATE, s(T.ATTRIBUTES, dt(T.PROTECT_STOP_DATE, 950_000_000), dt(T.PROTECT_STOP_DATE, 960_000_000))
    )
    assert send(engine, request(V2_1, inside)).items[0].uid == created.items[0].uid
    assert send(engine, request(V2_1, outside)).items[0].all(T.UNIQUE_IDENTIFIER) == []


def test_vendor_attributes_other_than_x_are_hidden_from_1x() -> None:
    engine = make_engine()
    acme = s(
        T.ATTRIBUTE, t(T.VENDOR_IDENTIFICATION, "acme"), t(T.ATTRIBUTE_NAME, "Slot"), i(T.ATTRIBUTE_VALUE, 7)
    )
    key = send(engine, request(V2_1, create_aes(V2_1, "vend", acme))).items[0].uid
    lst2 = send(engine, request(V2_1, item(OP.GET_ATTRIBUTE_LIST, uid(key))))
    assert any(r.type == ItemType.STRUCTURE for r in lst2.items[0].all(T.ATTRIBUTE_REFERENCE))
    lst1 = send(engine, request(V1_4, item(OP.GET_ATTRIBUTE_LIST, uid(key))))
    assert "acme-Slot" not in {str(n.value) for n in lst1.items[0].all(T.ATTRIBUTE_NAME)}
    bad = s(
        T.ATTRIBUTE, t(T.VENDOR_IDENTIFICATION, "a-b"), t(T.ATTRIBUTE_NAME, "Slot"), i(T.ATTRIBUTE_VALUE, 7)
    )
    assert send(engine, request(V2_1, create_aes(V2_1, "vend2", bad))).items[0].reason == RR.INVALID_ATTRIBUTE
    server_only = s(
        T.ATTRIBUTE, t(T.VENDOR_IDENTIFICATION, "y"), t(T.ATTRIBUTE_NAME, "Mine"), i(T.ATTRIBUTE_VALUE, 1)
    )
    refused = send(engine, request(V2_1, create_aes(V2_1, "vend3", server_only)))
    assert refused.items[0].reason == RR.ATTRIBUTE_READ_ONLY


def test_create_secret_data_from_1_4() -> None:
    engine = make_engine()
    ta = attributes(V1_4, attr(V1_4, "Cryptographic Length", i(T.CRYPTOGRAPHIC_LENGTH, 80)))
    resp = send(engine, request(V1_4, item(OP.CREATE, e(T.OBJECT_TYPE, 7), ta), item(OP.GET)))
    assert resp.items[0].ok and resp.items[1].ok
    secret = resp.items[1].get(T.SECRET_DATA)
    assert secret is not None
    block = secret.value[1]
    material = next(c for c in block.value if c.tag == T.KEY_VALUE).value[0]
    assert len(material.value) == 10
    older = send(engine, request(V1_3, item(OP.CREATE, e(T.OBJECT_TYPE, 7), ta)))
    assert older.items[0].reason == RR.INVALID_FIELD


def test_query_capabilities_1_4() -> None:
    resp = send(
        make_engine(), request(V1_4, item(OP.QUERY, e(T.QUERY_FUNCTION, QueryFunction.QUERY_CAPABILITIES)))
    )
    cap = resp.items[0].get(T.CAPABILITY_INFORMATION)
    assert cap is not None
    values = {c.tag: c.value for c in cap.value}
    assert values[T.BATCH_UNDO_CAPABILITY] is True and values[T.BATCH_CONTINUE_CAPABILITY] is True
    assert values[T.STREAMING_CAPABILITY] is False


def test_unknown_payload_field_same_version_invalid_field_newer_minor_ignored() -> None:
    engine = make_engine()
    stray = t(T.ATTRIBUTE_NAME, "stray")  # not a Query field
    q = item(OP.QUERY, e(T.QUERY_FUNCTION, 1), stray)
    assert send(engine, request(V1_4, q)).items[0].reason == RR.INVALID_FIELD
    assert send(engine, request(Version(1, 9), q)).items[0].ok
    # a 2.x-only carrier in a 1.x request is unknown in that version
    two_x = item(OP.CREATE, e(T.OBJECT_TYPE, 2), s(T.ATTRIBUTES))
    assert send(engine, request(V1_4, two_x)).items[0].reason == RR.INVALID_FIELD


def test_templates_are_1x_only() -> None:
    engine = make_engine()
    tmpl = s(T.TEMPLATE, attr(V1_3, "Object Group", t(T.OBJECT_GROUP, "g")))
    reg = item(OP.REGISTER, e(T.OBJECT_TYPE, 6), attributes(V1_3, attr(V1_3, "Name", name("t1"))), tmpl)
    tid = send(engine, request(V1_3, reg)).items[0].uid
    assert send(engine, request(V1_4, item(OP.GET, uid(tid)))).items[0].ok
    assert send(engine, request(V2_1, item(OP.GET, uid(tid)))).items[0].reason == RR.OBJECT_NOT_FOUND
    assert send(engine, request(V2_1, item(OP.LOCATE))).items[0].all(T.UNIQUE_IDENTIFIER) == []
    assert send(engine, request(V2_1, item(OP.REGISTER, e(T.OBJECT_TYPE, 6), s(T.ATTRIBUTES), tmpl))).items[
        0
    ].reason == (RR.INVALID_FIELD)
    # a Template's Name inside the Template structure is refused (SPEC-1.4 Table 330)
    bad = s(T.TEMPLATE, attr(V1_3, "Name", name("inner")))
    assert (
        send(engine, request(V1_3, item(OP.REGISTER, e(T.OBJECT_TYPE, 6), s(T.TEMPLATE_ATTRIBUTE), bad)))
        .items[0]
        .reason
        == RR.INVALID_FIELD
    )


def test_interop_and_log_2_1() -> None:
    engine = make_engine()
    begin = item(OP.INTEROP, e(T.INTEROP_FUNCTION, 1), t(T.INTEROP_IDENTIFIER, "BL-M-1-21"))
    assert send(engine, request(V2_1, begin)).items[0].ok
    assert send(engine, request(V2_1, item(OP.LOG, t(T.LOG_MESSAGE, "hello")))).items[0].ok
    # a missing required field: agent.model's rule (INTERFACES.md agent/model), Invalid Field
    assert send(engine, request(V2_1, item(OP.LOG))).items[0].reason == RR.INVALID_FIELD
    assert send(engine, request(V1_4, item(OP.LOG, t(T.LOG_MESSAGE, "x")))).items[0].reason == (
        RR.OPERATION_NOT_SUPPORTED
    )


def test_sensitive_and_extractable_2_1() -> None:
    engine = make_engine()
    key = send(engine, request(V2_1, create_aes(V2_1, "sens", b(T.SENSITIVE, True)))).items[0].uid
    assert send(engine, request(V2_1, item(OP.GET, uid(key)))).items[0].reason == RR.SENSITIVE

    def flags() -> dict[int, object]:
        refs = [e(T.ATTRIBUTE_REFERENCE, x) for x in (T.SENSITIVE, T.ALWAYS_SENSITIVE)]
        got = send(engine, request(V2_1, item(OP.GET_ATTRIBUTES, uid(key), *refs)))
        carrier = got.items[0].get(T.ATTRIBUTES)
        assert carrier is not None
        return {c.tag: c.value for c in carrier.value}

    assert flags() == {T.SENSITIVE: True, T.ALWAYS_SENSITIVE: True}
    off = item(OP.SET_ATTRIBUTE, uid(key), s(T.NEW_ATTRIBUTE, b(T.SENSITIVE, False)))
    assert send(engine, request(V2_1, off)).items[0].ok
    assert flags() == {T.SENSITIVE: False, T.ALWAYS_SENSITIVE: False}
    assert send(engine, request(V2_1, item(OP.GET, uid(key)))).items[0].ok
    locked = send(engine, request(V2_1, create_aes(V2_1, "noexp", b(T.EXTRACTABLE, False)))).items[0].uid
    assert send(engine, request(V2_1, item(OP.GET, uid(locked)))).items[0].reason == RR.NOT_EXTRACTABLE
    # 1.3 has neither reason: Permission Denied
    assert send(engine, request(V1_3, item(OP.GET, uid(locked)))).items[0].reason == RR.PERMISSION_DENIED


def test_concurrent_creates_of_one_name_give_one_object() -> None:
    import threading

    engine = make_engine()
    barrier = threading.Barrier(6)
    outcomes: list[int | None] = []

    def create() -> None:
        barrier.wait()
        outcomes.append(send(engine, request(V2_1, create_aes(V2_1, "race"))).items[0].reason)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcomes, key=lambda r: r or 0) == [None] + [RR.NON_UNIQUE_NAME_ATTRIBUTE] * 5


def test_attribute_reference_structure_with_empty_vendor_names_a_standard_attribute() -> None:
    engine = make_engine()
    key = send(engine, request(V2_0, create_aes(V2_0, "ref"))).items[0].uid
    ref = s(T.ATTRIBUTE_REFERENCE, t(T.VENDOR_IDENTIFICATION, ""), t(T.ATTRIBUTE_NAME, "Name"))
    assert send(engine, request(V2_0, item(OP.DELETE_ATTRIBUTE, uid(key), ref))).items[0].ok
    lst = send(engine, request(V2_0, item(OP.GET_ATTRIBUTE_LIST, uid(key))))
    assert T.NAME not in {
        int(r.value) for r in lst.items[0].all(T.ATTRIBUTE_REFERENCE) if r.type == ItemType.ENUMERATION
    }


def test_locate_destroyed_by_state() -> None:
    engine = make_engine()
    key = send(engine, request(V1_4, create_aes(V1_4, "gone"))).items[0].uid
    assert send(engine, request(V1_4, item(OP.DESTROY, uid(key)))).items[0].ok
    by_state = item(OP.LOCATE, attr(V1_4, "State", e(T.STATE, 5)))
    assert send(engine, request(V1_4, by_state)).items[0].uid == key
    assert send(engine, request(V1_4, item(OP.LOCATE))).items[0].all(T.UNIQUE_IDENTIFIER) == []


def test_failed_create_empties_the_placeholder() -> None:
    engine = make_engine()
    first = send(engine, request(V1_4, create_aes(V1_4, "p1")))
    assert first.items[0].ok
    resp = send(
        engine,
        request(
            V1_4,
            create_aes(V1_4, "p2"),
            create_aes(V1_4, "p1"),  # duplicate Name: fails
            item(OP.GET),
            header=[e(T.BATCH_ERROR_CONTINUATION_OPTION, 1)],
        ),
    )
    assert [r.ok for r in resp.items] == [True, False, False]
    assert resp.items[2].reason == RR.ITEM_NOT_FOUND  # not the key of item 1


def test_adjust_attribute_2x() -> None:
    engine = make_engine()
    counter = s(
        T.ATTRIBUTE, t(T.VENDOR_IDENTIFICATION, "x"), t(T.ATTRIBUTE_NAME, "uses"), i(T.ATTRIBUTE_VALUE, 5)
    )
    key = send(engine, request(V2_1, create_aes(V2_1, "adj", counter))).items[0].uid
    ref = s(T.ATTRIBUTE_REFERENCE, t(T.VENDOR_IDENTIFICATION, "x"), t(T.ATTRIBUTE_NAME, "uses"))
    inc = item(OP.ADJUST_ATTRIBUTE, uid(key), ref, e(T.ADJUSTMENT_TYPE, 1), i(T.ADJUSTMENT_VALUE, 3))
    assert send(engine, request(V2_1, inc)).items[0].ok
    got = send(engine, request(V2_1, item(OP.GET_ATTRIBUTES, uid(key), ref)))
    carrier = got.items[0].get(T.ATTRIBUTES)
    assert carrier is not None and carrier.value[0].value[-1].value == 8
    neg = item(OP.ADJUST_ATTRIBUTE, uid(key), ref, e(T.ADJUSTMENT_TYPE, 3))
    assert send(engine, request(V2_1, neg)).items[0].ok
    state_ref = e(T.ATTRIBUTE_REFERENCE, T.STATE)
    ro = item(OP.ADJUST_ATTRIBUTE, uid(key), state_ref, e(T.ADJUSTMENT_TYPE, 1))
    assert send(engine, request(V2_1, ro)).items[0].reason == RR.ATTRIBUTE_READ_ONLY


def test_query_server_information_and_namespaces() -> None:
    engine = make_engine()
    fns = [
        e(T.QUERY_FUNCTION, f)
        for f in (QueryFunction.QUERY_SERVER_INFORMATION, QueryFunction.QUERY_APPLICATION_NAMESPACES)
    ]
    resp = send(engine, request(V1_4, item(OP.QUERY, *fns)))
    vendor = resp.items[0].get(T.VENDOR_IDENTIFICATION)
    assert vendor is not None and vendor.value == "keyshelf"
    assert resp.items[0].get(T.SERVER_INFORMATION) is not None
    assert "LIBRARY-LTO" in {n.value for n in resp.items[0].all(T.APPLICATION_NAMESPACE)}
    # a namespace without Application Data: generated for a supported namespace (SPEC-1.4 §3.36)
    gen = s(T.APPLICATION_SPECIFIC_INFORMATION, t(T.APPLICATION_NAMESPACE, "LIBRARY-LTO"))
    ok = send(
        engine, request(V1_4, create_aes(V1_4, "gen", attr(V1_4, "Application Specific Information", gen)))
    )
    assert ok.items[0].ok
    other = s(T.APPLICATION_SPECIFIC_INFORMATION, t(T.APPLICATION_NAMESPACE, "ACME"))
    bad = send(
        engine, request(V1_4, create_aes(V1_4, "gen2", attr(V1_4, "Application Specific Information", other)))
    )
    assert bad.items[0].reason == RR.APPLICATION_NAMESPACE_NOT_SUPPORTED


def test_engine_takes_the_server_config() -> None:
    from dataclasses import replace

    from profiles.config import ServerConfig

    cfg = replace(ServerConfig.defaults(), admins=frozenset({"root"}))
    engine = Engine(cfg, open_store("memory:"), clock=Clock())
    q = send(engine, request(V2_1, item(OP.QUERY, e(T.QUERY_FUNCTION, QueryFunction.QUERY_PROFILES))))
    names = {int(p.value[0].value) for p in q.items[0].all(T.PROFILE_INFORMATION)}
    assert {0x12B, 0x107, 0x109, 0x11D} <= names  # Baseline, Tape Library, SKLC, SA-SED servers
    key = send(engine, request(V2_1, create_aes(V2_1, "cfg")), identity="someone").items[0].uid
    assert send(engine, request(V2_1, item(OP.GET, uid(key))), identity="root").items[0].ok


def test_date_time_extended_is_never_shown_to_1x() -> None:
    engine = make_engine()
    when = Item(T.ACTIVATION_DATE, ItemType.DATE_TIME_EXTENDED, 1_900_000_000_123_456)
    vendor = s(
        T.ATTRIBUTE,
        t(T.VENDOR_IDENTIFICATION, "x"),
        t(T.ATTRIBUTE_NAME, "when"),
        Item(T.ATTRIBUTE_VALUE, ItemType.DATE_TIME_EXTENDED, 1_900_000_000_000_001),
    )
    key = send(engine, request(V2_1, create_aes(V2_1, "dte", when, vendor))).items[0].uid
    got = send(engine, request(V1_4, item(OP.GET_ATTRIBUTES, uid(key))))
    types = {str(a.value[0].value): a.value[-1].type for a in got.items[0].all(T.ATTRIBUTE)}
    assert types["Activation Date"] == ItemType.DATE_TIME and types["x-when"] == ItemType.DATE_TIME


def test_1x_custom_attribute_names_need_x_prefix() -> None:
    engine = make_engine()
    bad = s(T.ATTRIBUTE, t(T.ATTRIBUTE_NAME, "z-colour"), t(T.ATTRIBUTE_VALUE, "red"))
    assert send(engine, request(V1_4, create_aes(V1_4, "zc", bad))).items[0].reason == RR.INVALID_FIELD
    server_only = s(T.ATTRIBUTE, t(T.ATTRIBUTE_NAME, "y-colour"), t(T.ATTRIBUTE_VALUE, "red"))
    assert (
        send(engine, request(V1_4, create_aes(V1_4, "yc", server_only))).items[0].reason == RR.INVALID_FIELD
    )


def _same_item(a: Item, b: Item) -> bool:
    """Equal down to the Python types of the values (a bool is not an int here)."""
    if (a.tag, a.type, type(a.value)) != (b.tag, b.type, type(b.value)):
        return False
    if a.type == ItemType.STRUCTURE:
        return len(a.value) == len(b.value) and all(
            _same_item(x, y) for x, y in zip(a.value, b.value, strict=True)
        )
    return bool(a.value == b.value)


@pytest.mark.parametrize("version", [V1_4, V2_1])
def test_attribute_cache_holds_what_decoding_the_blob_gives(
    version: Version, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AttrSet.to_bytes keeps the attributes it wrote for the next open (profiles/attrs.py):
    every cached entry must be exactly what decoding its blob gives, value types included."""
    from profiles import attrs as attrs_module
    from tests.unit.test_engine_helpers import dt

    cache: dict[bytes, tuple[object, ...]] = {}
    monkeypatch.setattr(attrs_module, "_DECODED", cache)
    engine = make_engine()
    now = int(engine.services.clock())
    more = (
        attr(version, "x-colour", t(T.ATTRIBUTE_VALUE, "red")),
        attr(version, "Activation Date", dt(T.ACTIVATION_DATE, now - 10)),
        attr(version, "Extractable", b(T.EXTRACTABLE, True)),
        attr(version, "Object Group", t(T.OBJECT_GROUP, "g")),
    )
    key = send(engine, request(version, create_aes(version, "cached", *more))).items[0].uid
    plain = send(engine, request(version, create_aes(version))).items[0].uid
    x = attr(version, "x-size", i(T.ATTRIBUTE_VALUE, 7))
    if version >= V2_0:
        x = s(T.NEW_ATTRIBUTE, x)
    for msg in (
        item(OP.GET, uid(key)),
        item(OP.GET_ATTRIBUTES, uid(key)),
        item(OP.ADD_ATTRIBUTE, uid(key), x),
        item(OP.GET, uid(plain)),
        item(OP.RE_KEY, uid(key)),
        item(OP.DESTROY, uid(plain)),
        item(OP.ACTIVATE, uid(send(engine, request(version, create_aes(version))).items[0].uid)),
    ):
        assert send(engine, request(version, msg)).items[0].ok, msg
    assert len(cache) >= 6
    for blob, cached in cache.items():
        fresh = attrs_module.decode_attributes(blob)
        assert [(a.name, a.index) for a in cached] == [(a.name, a.index) for a in fresh]  # type: ignore[attr-defined]
        assert all(_same_item(a.value, f.value) for a, f in zip(cached, fresh, strict=True))  # type: ignore[attr-defined]
