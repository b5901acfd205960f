"""Security review, engine level: authorization across identities for every operation, key
material kept out of Result Messages, request logs, log lines and reprs, bounded input, and
key protection at rest (wrong KEK, tampered blob, no half-written object).

Assertions are on Result Reasons and values, never on message texts.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sqlite3
from pathlib import Path
from typing import Any, cast

import pytest

from agent.spec import (
    V1_0,
    V1_2,
    V1_4,
    V2_0,
    V2_1,
    ItemType,
    ObjectType,
    Operation,
    Tag,
    UniqueIdentifier,
    Version,
)
from agent.ttlv import Item, decode, encode
from profiles.engine import Engine, EngineConfig
from profiles.keyprotect import CorruptBlob, KeyProtector, WrongKek
from profiles.store import open_store
from tests.unit.test_engine_helpers import (
    FAILED,
    RR,
    Clock,
    Response,
    attr,
    attributes,
    by,
    create_aes,
    e,
    i,
    item,
    make_engine,
    name,
    parse,
    request,
    s,
    send,
    t,
    uid,
)

T = Tag
OP = Operation
KNOWN = bytes.fromhex("5ec2e7c0ffee0000deadbeef0badf00da5a5a5a55a5a5a5a0123456789abcdef")
SECRET = b"correct horse battery staple 42!"  # 32 bytes of Secret Data (a password)


def forms(secret: bytes) -> list[bytes]:
    """The ways a secret could show up in text or bytes: raw, hex (both cases), base64."""
    out = [secret, secret.hex().encode(), secret.hex().upper().encode(), base64.b64encode(secret)]
    out.append(base64.urlsafe_b64encode(secret))
    out.append(repr(secret).encode())
    return out


def assert_absent(blob: bytes | str, *secrets: bytes) -> None:
    data = blob.encode("utf-8", "backslashreplace") if isinstance(blob, str) else blob
    for secret in secrets:
        for form in forms(secret):
            assert form not in data, f"secret found in {len(data)}-byte output"


def symmetric_key(material: bytes, *, alg: int = 3, length: int | None = None) -> Item:
    return s(
        T.SYMMETRIC_KEY,
        s(
            T.KEY_BLOCK,
            e(T.KEY_FORMAT_TYPE, 1),
            s(T.KEY_VALUE, by(T.KEY_MATERIAL, material)),
            e(T.CRYPTOGRAPHIC_ALGORITHM, alg),
            i(T.CRYPTOGRAPHIC_LENGTH, length if length is not None else 8 * len(material)),
        ),
    )


def secret_data(material: bytes) -> Item:
    return s(
        T.SECRET_DATA,
        e(T.SECRET_DATA_TYPE, 1),
        s(T.KEY_BLOCK, e(T.KEY_FORMAT_TYPE, 2), s(T.KEY_VALUE, by(T.KEY_MATERIAL, material))),
    )


def register(version: Version, obj: Item, *attrs: Item, ot: int = ObjectType.SYMMETRIC_KEY) -> Item:
    return item(OP.REGISTER, e(T.OBJECT_TYPE, ot), attributes(version, *attrs), obj)


def result_messages(resp: Response) -> list[str]:
    out = []
    for bi in resp.raw.value:
        if bi.tag == T.BATCH_ITEM:
            out += [str(c.value) for c in bi.value if c.tag == T.RESULT_MESSAGE]
    return out


# ============================================================================ authorization


def _revoke_payload() -> tuple[Item, ...]:
    return (s(T.REVOCATION_REASON, e(T.REVOCATION_REASON_CODE, 5)),)  # Cessation of Operation


def _ops(version: Version) -> list[tuple[Operation, tuple[Item, ...]]]:
    """(operation, payload after the Unique Identifier) for every operation that names an object."""
    if version.major >= 2:
        add = (s(T.NEW_ATTRIBUTE, t(T.DESCRIPTION, "b was here")),)
        mod = (s(T.NEW_ATTRIBUTE, t(T.DESCRIPTION, "b was here")),)
        dele: tuple[Item, ...] = (e(T.ATTRIBUTE_REFERENCE, T.DESCRIPTION),)
    else:
        add = (attr(version, "x-b", t(T.ATTRIBUTE_VALUE, "b was here")),)
        mod = (attr(version, "x-a", t(T.ATTRIBUTE_VALUE, "b was here")),)
        dele = (t(T.ATTRIBUTE_NAME, "x-a"),)
    ops: list[tuple[Operation, tuple[Item, ...]]] = [
        (OP.GET, ()),
        (OP.GET_ATTRIBUTES, ()),
        (OP.GET_ATTRIBUTE_LIST, ()),
        (OP.ADD_ATTRIBUTE, add),
        (OP.MODIFY_ATTRIBUTE, mod),
        (OP.DELETE_ATTRIBUTE, dele),
        (OP.ACTIVATE, ()),
        (OP.REVOKE, _revoke_payload()),
        (OP.DESTROY, ()),
        (OP.RE_KEY, ()),
        (OP.ARCHIVE, ()),
        (OP.RECOVER, ()),
        (OP.CHECK, ()),
        (OP.OBTAIN_LEASE, ()),
        (OP.GET_USAGE_ALLOCATION, (Item(T.USAGE_LIMITS_COUNT, ItemType.LONG_INTEGER, 1),)),
    ]
    if version.major >= 2:
        ops.append((OP.SET_ATTRIBUTE, (s(T.NEW_ATTRIBUTE, t(T.DESCRIPTION, "b")),)))
        ops.append(
            (OP.ADJUST_ATTRIBUTE, (e(T.ATTRIBUTE_REFERENCE, T.CRYPTOGRAPHIC_LENGTH), e(T.ADJUSTMENT_TYPE, 1)))
        )
    return ops


def _setup(version: Version) -> tuple[Engine, str, str]:
    """client-a's active key (with an x-a attribute in 1.x) and an archived one."""
    engine = make_engine(EngineConfig(admins=frozenset({"admin"})))
    extra = () if version.major >= 2 else (attr(version, "x-a", t(T.ATTRIBUTE_VALUE, "mine")),)
    key = send(engine, request(version, create_aes(version, "a-key", *extra))).items[0].uid
    assert send(engine, request(version, item(OP.ACTIVATE, uid(key)))).items[0].ok
    archived = send(engine, request(version, create_aes(version, "a-archived"))).items[0].uid
    assert send(engine, request(version, item(OP.ARCHIVE, uid(archived)))).items[0].ok
    return engine, key, archived


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        (V1_0, RR.ITEM_NOT_FOUND),
        (V1_2, RR.ITEM_NOT_FOUND),
        (V1_4, RR.ITEM_NOT_FOUND),
        (V2_0, RR.OBJECT_NOT_FOUND),
        (V2_1, RR.OBJECT_NOT_FOUND),
    ],
)
def test_other_identity_gets_not_found_for_every_operation_and_changes_nothing(
    version: Version, reason: int
) -> None:
    engine, key, archived = _setup(version)
    before = send(engine, request(version, item(OP.GET_ATTRIBUTES, uid(key)))).items[0].payload
    unknown = "no-such-object"
    for op, rest in _ops(version):
        target = archived if op == OP.RECOVER else key
        theirs = send(engine, request(version, item(op, uid(target), *rest)), identity="client-b")
        missing = send(engine, request(version, item(op, uid(unknown), *rest)), identity="client-b")
        # same answer as for an object that does not exist: no existence leak
        assert theirs.items[0].status == FAILED, op
        assert theirs.items[0].reason == reason, op
        assert (missing.items[0].status, missing.items[0].reason) == (FAILED, reason), op
        assert theirs.items[0].payload is None
    after = send(engine, request(version, item(OP.GET_ATTRIBUTES, uid(key)))).items[0].payload
    assert after == before
    # still archived (client-b's Recover did nothing), still the owner's
    assert send(engine, request(version, item(OP.GET, uid(archived)))).items[0].reason == RR.OBJECT_ARCHIVED
    # Locate by client-b finds none of client-a's objects, by name or by Unique Identifier
    if version.major >= 2:
        by_name = item(OP.LOCATE, s(T.ATTRIBUTES, name("a-key")))
    else:
        by_name = item(OP.LOCATE, attr(version, "Name", name("a-key")))
    located = send(engine, request(version, by_name), identity="client-b")
    assert located.items[0].ok and located.items[0].all(T.UNIQUE_IDENTIFIER) == []


@pytest.mark.parametrize("version", [V1_4, V2_1])
def test_admin_may_use_every_owners_objects(version: Version) -> None:
    engine, key, archived = _setup(version)
    for op, rest in _ops(version):
        if op in (OP.DESTROY, OP.RE_KEY, OP.ARCHIVE, OP.GET_USAGE_ALLOCATION, OP.ADJUST_ATTRIBUTE):
            continue  # checked below / need state this key lacks
        target = archived if op == OP.RECOVER else key
        got = send(engine, request(version, item(op, uid(target), *rest)), identity="admin")
        if op == OP.MODIFY_ATTRIBUTE and version.major >= 2:
            continue  # nothing to modify yet on a 2.x key; not an authorization matter
        # state refusals (1.x Permission Denied for Wrong Key Lifecycle State) are fine here
        assert got.items[0].reason not in (RR.ITEM_NOT_FOUND, RR.OBJECT_NOT_FOUND), op
        if op in (OP.GET, OP.GET_ATTRIBUTES, OP.GET_ATTRIBUTE_LIST, OP.ADD_ATTRIBUTE, OP.RECOVER):
            assert got.items[0].ok, op
    # the admin's Locate sees every owner's objects
    if version.major >= 2:
        by_name = item(OP.LOCATE, s(T.ATTRIBUTES, name("a-archived")))
        ssm = (i(T.STORAGE_STATUS_MASK, 3),)
    else:
        by_name = item(OP.LOCATE, attr(version, "Name", name("a-archived")))
        ssm = (i(T.STORAGE_STATUS_MASK, 3),)
    located = send(engine, request(version, item(OP.LOCATE, *by_name.value[1].value, *ssm)), identity="admin")
    assert [u.value for u in located.items[0].all(T.UNIQUE_IDENTIFIER)] == [archived]


@pytest.mark.parametrize("version", [V1_4, V2_1])
def test_admin_rekey_leaves_the_replacement_with_the_owner(version: Version) -> None:
    """An administrator re-keying a client's key must not take the replacement away from that
    client (the replacement inherits the owner of the key it replaces)."""
    engine, key, _ = _setup(version)
    rekeyed = send(engine, request(version, item(OP.RE_KEY, uid(key))), identity="admin")
    assert rekeyed.items[0].ok
    new = rekeyed.items[0].uid
    assert send(engine, request(version, item(OP.GET, uid(new)))).items[0].ok
    other = send(engine, request(version, item(OP.GET, uid(new))), identity="client-b")
    assert other.items[0].reason in (RR.ITEM_NOT_FOUND, RR.OBJECT_NOT_FOUND)


def test_id_placeholder_cannot_reach_another_identitys_object_1x() -> None:
    engine, key, _ = _setup(V1_4)
    # Locate (client-b sees nothing) then Get / Destroy through the ID Placeholder
    locate = item(OP.LOCATE, attr(V1_4, "Name", name("a-key")))
    for op in (OP.GET, OP.DESTROY, OP.GET_ATTRIBUTES):
        resp = send(
            engine,
            request(V1_4, locate, item(op), header=(e(T.BATCH_ERROR_CONTINUATION_OPTION, 1),)),
            identity="client-b",
        )
        assert resp.items[0].ok and resp.items[0].all(T.UNIQUE_IDENTIFIER) == []
        assert resp.items[1].status == FAILED and resp.items[1].reason == RR.ITEM_NOT_FOUND
    # a failed Re-key of client-a's key leaves no placeholder behind
    resp = send(
        engine,
        request(
            V1_4, item(OP.RE_KEY, uid(key)), item(OP.GET), header=(e(T.BATCH_ERROR_CONTINUATION_OPTION, 1),)
        ),
        identity="client-b",
    )
    assert [x.reason for x in resp.items] == [RR.ITEM_NOT_FOUND, RR.ITEM_NOT_FOUND]
    # an own Create, then a Get naming client-a's key explicitly: still not found
    resp = send(engine, request(V1_4, create_aes(V1_4), item(OP.GET, uid(key))), identity="client-b")
    assert resp.items[0].ok and resp.items[1].reason == RR.ITEM_NOT_FOUND
    assert send(engine, request(V1_4, item(OP.GET, uid(key)))).items[0].ok


def test_id_placeholder_cannot_reach_another_identitys_object_2x() -> None:
    engine, key, _ = _setup(V2_1)
    cont = (e(T.BATCH_ERROR_CONTINUATION_OPTION, 1),)
    for placeholder in (
        e(T.UNIQUE_IDENTIFIER, UniqueIdentifier.ID_PLACEHOLDER),
        e(T.UNIQUE_IDENTIFIER, UniqueIdentifier.LOCATE),
        e(T.UNIQUE_IDENTIFIER, UniqueIdentifier.CREATE),
        i(T.UNIQUE_IDENTIFIER, 0),
        i(T.UNIQUE_IDENTIFIER, -1),
    ):
        locate = item(OP.LOCATE, s(T.ATTRIBUTES, name("a-key")))
        resp = send(
            engine, request(V2_1, locate, item(OP.GET, placeholder), header=cont), identity="client-b"
        )
        assert resp.items[1].status == FAILED and resp.items[1].reason == RR.OBJECT_NOT_FOUND
        resp = send(
            engine,
            request(V2_1, item(OP.GET, uid(key)), item(OP.DESTROY, placeholder), header=cont),
            identity="client-b",
        )
        assert [x.reason for x in resp.items] == [RR.OBJECT_NOT_FOUND, RR.OBJECT_NOT_FOUND]
    assert send(engine, request(V2_1, item(OP.GET, uid(key)))).items[0].ok


def test_template_of_another_identity_is_not_usable_1x() -> None:
    engine = make_engine()
    template = s(T.TEMPLATE, attr(V1_4, "Cryptographic Algorithm", e(T.CRYPTOGRAPHIC_ALGORITHM, 3)))
    reg = item(
        OP.REGISTER,
        e(T.OBJECT_TYPE, ObjectType.TEMPLATE),
        attributes(V1_4, attr(V1_4, "Name", name("tpl-a"))),
        template,
    )
    assert send(engine, request(V1_4, reg)).items[0].ok
    by_template = item(
        OP.CREATE,
        e(T.OBJECT_TYPE, 2),
        s(
            T.TEMPLATE_ATTRIBUTE,
            name("tpl-a"),
            attr(V1_4, "Cryptographic Length", i(T.CRYPTOGRAPHIC_LENGTH, 128)),
        ),
    )
    assert send(engine, request(V1_4, by_template), identity="client-b").items[0].reason == RR.ITEM_NOT_FOUND
    assert send(engine, request(V1_4, by_template)).items[0].ok


# ============================================================================ key material


def _all_paths(engine: Engine, version: Version) -> list[tuple[bytes, Response]]:
    """Run success and failure paths that carry KNOWN / SECRET; (raw response, parsed) each."""
    out: list[tuple[bytes, Response]] = []

    def go(msg: Item, identity: str = "client-a") -> Response:
        raw = engine.handle(encode(msg), identity)
        resp = parse(decode(raw))
        out.append((raw, resp))
        return resp

    sd_ot = ObjectType.SECRET_DATA
    key = go(request(version, register(version, symmetric_key(KNOWN)))).items[0].uid
    sd = go(request(version, register(version, secret_data(SECRET), ot=sd_ot))).items[0].uid
    # failures after the key bytes were parsed
    bad_attr = attr(version, "x-n", t(T.ATTRIBUTE_VALUE, "n")) if version.major < 2 else e(T.STATE, 2)
    go(request(version, register(version, symmetric_key(KNOWN), bad_attr)))
    go(
        request(
            version,
            register(version, symmetric_key(KNOWN), attr(version, "Bogus Name", i(T.ATTRIBUTE_VALUE, 1))),
        )
    )
    dup_block = s(
        T.SYMMETRIC_KEY,
        s(
            T.KEY_BLOCK,
            e(T.KEY_FORMAT_TYPE, 1),
            s(T.KEY_VALUE, by(T.KEY_MATERIAL, KNOWN)),
            s(T.KEY_VALUE, by(T.KEY_MATERIAL, SECRET)),
        ),
    )
    go(request(version, register(version, dup_block)))
    wrong_type = s(
        T.SYMMETRIC_KEY,
        s(T.KEY_BLOCK, e(T.KEY_FORMAT_TYPE, 1), s(T.KEY_VALUE, t(T.KEY_MATERIAL, KNOWN.hex()))),
    )
    go(request(version, register(version, wrong_type)))
    no_format = s(T.SYMMETRIC_KEY, s(T.KEY_BLOCK, s(T.KEY_VALUE, by(T.KEY_MATERIAL, KNOWN))))
    go(request(version, register(version, no_format)))
    go(request(version, register(version, secret_data(SECRET), ot=ObjectType.SYMMETRIC_KEY)))
    go(request(version, register(version, symmetric_key(KNOWN), ot=0x7777)))
    # a payload field the model refuses, next to the key bytes
    go(
        request(
            version,
            item(
                OP.REGISTER,
                e(T.OBJECT_TYPE, 2),
                attributes(version),
                symmetric_key(KNOWN),
                t(T.NAME_VALUE, "x"),
            ),
        )
    )
    # Get: success, Maximum Response Size, unsupported formats / wrapping, other identity
    go(request(version, item(OP.GET, uid(key))))
    go(request(version, item(OP.GET, uid(sd))))
    go(request(version, item(OP.GET, uid(key)), header=(i(T.MAXIMUM_RESPONSE_SIZE, 64),)))
    go(request(version, item(OP.GET, uid(key), e(T.KEY_FORMAT_TYPE, 3))))
    go(request(version, item(OP.GET, uid(sd), e(T.KEY_FORMAT_TYPE, 7))))
    go(request(version, item(OP.GET, uid(key))), identity="client-b")
    go(
        request(
            version,
            item(OP.GET, uid(key)),
            item(OP.GET, uid(sd)),
            item(OP.CHECK, uid(key), i(T.CRYPTOGRAPHIC_USAGE_MASK, 4)),
        )
    )
    # Re-key of a registered key, then Get of the replacement
    rekeyed = go(request(version, item(OP.RE_KEY, uid(key)), item(OP.GET)))
    assert rekeyed.items[0].ok
    # garbage and truncation of a message carrying the key bytes
    good = encode(request(version, register(version, symmetric_key(KNOWN))))
    for broken in (good[:-5], good[:40] + b"\xff" * 16 + good[56:], good + b"\0" * 8):
        raw = engine.handle(broken, "client-a")
        out.append((raw, parse(decode(raw))))
    return out


@pytest.mark.parametrize("version", [V1_4, V2_1])
def test_key_material_never_in_result_messages_logs_or_request_logs(
    version: Version, server_log: io.StringIO
) -> None:
    engine = make_engine()
    responses = _all_paths(engine, version)
    reasons = {x.reason for _, r in responses for x in r.items if x.status == FAILED}
    # the failure paths above really failed, for the right kind of reason
    assert {RR.INVALID_MESSAGE, RR.INVALID_FIELD} <= reasons
    assert RR.RESPONSE_TOO_LARGE in reasons
    assert RR.ITEM_NOT_FOUND in reasons or RR.OBJECT_NOT_FOUND in reasons
    for raw, resp in responses:
        for message in result_messages(resp):
            assert_absent(message, KNOWN, SECRET)
        if all(x.status == FAILED for x in resp.items):
            assert_absent(raw, KNOWN, SECRET)  # a refused request never echoes the key
    # the request log entries (what the server writes per request)
    for msg in (
        request(version, register(version, symmetric_key(KNOWN))),
        request(
            version, register(version, symmetric_key(KNOWN), attr(version, "Bogus", i(T.ATTRIBUTE_VALUE, 1)))
        ),
        request(version, item(OP.GET, uid("uid-1"))),
    ):
        _, entry = engine.handle_logged(encode(msg), "client-a")
        assert_absent(repr(entry), KNOWN, SECRET)
    assert_absent(server_log.getvalue(), KNOWN, SECRET)


def test_internal_error_with_key_bytes_in_its_message_is_not_logged_or_answered(
    server_log: io.StringIO,
) -> None:
    """A handler bug whose exception text carries key bytes: General Failure, fixed text, and
    the server's formatter withholds the exception message."""

    def broken(ctx: object, payload: Item) -> list[Item]:
        raise ValueError(f"bad key {KNOWN.hex()} {SECRET!r}")

    from profiles.operations import HANDLERS

    engine = Engine(EngineConfig(), open_store("memory:"), handlers={**HANDLERS, OP.GET: broken})
    raw = engine.handle(encode(request(V1_4, item(OP.GET, uid("x")))), "client-a")
    resp = parse(decode(raw))
    assert resp.items[0].reason == RR.GENERAL_FAILURE
    assert_absent(raw, KNOWN, SECRET)
    assert "ValueError" in server_log.getvalue()
    assert_absent(server_log.getvalue(), KNOWN, SECRET)


def test_reprs_of_objects_carrying_key_material_hide_it() -> None:
    from agent import model
    from agent.protocol import BatchResult
    from agent.sed import SedKey
    from agent.spec import KeyFormatType, ResultStatus, SecretDataType, WrappingMethod
    from agent.tape import TapeKey
    from profiles.attrs import AttrSet
    from profiles.operations.base import ManagedObject
    from profiles.store.base import ObjectRecord

    kv = model.KeyValue(key_material=KNOWN)
    block = model.KeyBlock(key_format_type=KeyFormatType.RAW, key_value=kv)
    wrapped = model.KeyBlock(
        key_format_type=KeyFormatType.RAW,
        key_value=KNOWN,  # a Key Value given as a Byte String (wrapped form, SPEC-1.4 §2.1.3)
        key_wrapping_data=model.KeyWrappingData(wrapping_method=WrappingMethod.ENCRYPT),
    )
    transparent = model.KeyBlock(
        key_format_type=KeyFormatType.TRANSPARENT_SYMMETRIC_KEY,
        key_value=model.KeyValue(key_material=model.TransparentSymmetricKey(KNOWN)),
    )
    secret_int = int.from_bytes(KNOWN, "big")
    objects: list[object] = [
        kv,
        block,
        wrapped,
        transparent,
        model.SymmetricKey(block),
        model.SymmetricKey(wrapped),
        model.SecretData(
            SecretDataType.PASSWORD,
            model.KeyBlock(
                key_format_type=KeyFormatType.OPAQUE, key_value=model.KeyValue(key_material=SECRET)
            ),
        ),
        model.OpaqueObject(cast(Any, 0x80000001), SECRET),
        model.TransparentRSAPrivateKey(modulus=7, private_exponent=secret_int, p=secret_int, q=secret_int),
        model.GetResponse(
            object_type=ObjectType.SYMMETRIC_KEY,
            unique_identifier="u",
            managed_object=model.SymmetricKey(block),
        ),
        model.RegisterRequest(
            object_type=ObjectType.SYMMETRIC_KEY, managed_object=model.SymmetricKey(wrapped)
        ),
        BatchResult(Operation.GET, ResultStatus.SUCCESS, None, "", model.SymmetricKey(block)),
        TapeKey("u", KNOWN, "AD", "LIBRARY-LTO", b"", b""),
        SedKey("u", SECRET, "drive"),
        ObjectRecord("u", 2, "client-a", 1, 0, False, b"", encode(symmetric_key(KNOWN)), []),
        KeyProtector(KNOWN),
    ]
    rec = ObjectRecord(
        "u", 2, "client-a", 1, 0, False, AttrSet().to_bytes(), encode(symmetric_key(KNOWN)), []
    )
    objects.append(ManagedObject(rec, AttrSet()))
    for obj in objects:
        text = repr(obj) + str(obj)
        assert_absent(text, KNOWN, SECRET)
        assert str(secret_int) not in text and hex(secret_int)[2:] not in text


# ============================================================================ bounded input


def _nested(depth: int) -> bytes:
    body = b""
    for _ in range(depth):
        body = _wrap(body)
    return body


def _wrap(body: bytes) -> bytes:
    return (T.ATTRIBUTE << 8 | ItemType.STRUCTURE).to_bytes(4, "big") + len(body).to_bytes(4, "big") + body


@pytest.mark.parametrize("depth", [33, 200, 5000])
def test_deeply_nested_message_is_invalid_message(depth: int) -> None:
    engine = make_engine()
    inner = _nested(depth)
    msg = (
        (T.REQUEST_MESSAGE << 8 | ItemType.STRUCTURE).to_bytes(4, "big")
        + len(inner).to_bytes(4, "big")
        + inner
    )
    resp = parse(decode(engine.handle(msg, "client-a")))
    assert resp.items[0].status == FAILED and resp.items[0].reason == RR.INVALID_MESSAGE


@pytest.mark.parametrize(
    ("version", "reason"), [(V1_4, RR.INDEX_OUT_OF_BOUNDS), (V2_1, RR.SERVER_LIMIT_EXCEEDED)]
)
def test_huge_attribute_count_refused_and_nothing_stored(version: Version, reason: int) -> None:
    engine = make_engine(EngineConfig(max_attributes=64))
    many = [attr(version, "x-n", t(T.ATTRIBUTE_VALUE, str(n))) for n in range(5000)]
    resp = send(engine, request(version, create_aes(version, "many", *many)))
    assert resp.items[0].status == FAILED and resp.items[0].reason == reason
    assert engine.store.count() == 0


@pytest.mark.parametrize("version", [V1_4, V2_1])
def test_100k_character_name_and_value_refused(version: Version) -> None:
    engine = make_engine()
    big = "N" * 100_000
    resp = send(engine, request(version, create_aes(version, big)))
    assert resp.items[0].status == FAILED
    assert resp.items[0].reason in (RR.INVALID_ATTRIBUTE_VALUE, RR.INVALID_FIELD)
    custom = attr(version, "x-" + big, t(T.ATTRIBUTE_VALUE, "v"))
    resp = send(engine, request(version, create_aes(version, "ok-name", custom)))
    assert resp.items[0].status == FAILED
    assert resp.items[0].reason in (RR.INVALID_ATTRIBUTE, RR.INVALID_FIELD)
    assert engine.store.count() == 0
    # the engine still serves
    assert send(engine, request(version, create_aes(version, "after"))).items[0].ok


def test_too_many_batch_items_is_invalid_message() -> None:
    engine = make_engine(EngineConfig(max_batch_items=8))
    resp = send(engine, request(V1_4, *[item(OP.QUERY, e(T.QUERY_FUNCTION, 1)) for _ in range(9)]))
    assert len(resp.items) == 1 and resp.items[0].reason == RR.INVALID_MESSAGE


# ============================================================================ at rest


@pytest.fixture
def kek(tmp_path: Path) -> KeyProtector:
    return KeyProtector(bytes(range(32)))


def _sqlite_engine(path: Path, protector: KeyProtector, **kw: object) -> Engine:
    counter = iter(range(1, 1_000_000))
    run = path.stat().st_mtime_ns if path.exists() else 0  # uids stay unique over reopenings
    return Engine(
        EngineConfig(),
        open_store(f"sqlite:///{path}", protector),
        clock=Clock(),
        new_uid=lambda: f"uid-{run}-{next(counter)}",
        **kw,  # type: ignore[arg-type]
    )


def test_sqlite_holds_no_plaintext_and_wrong_kek_refused_at_open(tmp_path: Path, kek: KeyProtector) -> None:
    db = tmp_path / "k.db"
    engine = _sqlite_engine(db, kek)
    assert send(engine, request(V1_4, register(V1_4, symmetric_key(KNOWN)))).items[0].ok
    sd = send(engine, request(V1_4, register(V1_4, secret_data(SECRET), ot=ObjectType.SECRET_DATA))).items[0]
    assert sd.ok
    # the Digest of the password is reported, also once the value is destroyed, but never stored
    # in clear: an unsalted SHA-256 of a password allows an offline dictionary attack
    assert digest_value(engine, V2_1, sd.uid) == hashlib.sha256(SECRET).digest()
    assert send(engine, request(V1_4, item(OP.DESTROY, uid(sd.uid)))).items[0].ok
    assert digest_value(engine, V1_4, sd.uid) == hashlib.sha256(SECRET).digest()
    engine.store.close()
    digests = [hashlib.sha256(m).digest() for m in (KNOWN, SECRET)]
    for f in tmp_path.iterdir():
        assert_absent(f.read_bytes(), KNOWN, SECRET, *digests)
    with pytest.raises(WrongKek):
        open_store(f"sqlite:///{db}", KeyProtector(b"\x42" * 32))


def digest_value(engine: Engine, version: Version, key: str) -> bytes | None:
    """The Digest Value Get Attributes reports for ``key`` (None: no Digest, or no value)."""
    ref = e(T.ATTRIBUTE_REFERENCE, T.DIGEST) if version.major >= 2 else t(T.ATTRIBUTE_NAME, "Digest")
    got = send(engine, request(version, item(OP.GET_ATTRIBUTES, uid(key), ref))).items[0]
    assert got.ok
    if version.major >= 2:
        carrier = got.get(T.ATTRIBUTES)
        values = [] if carrier is None else [c for c in carrier.value if c.tag == T.DIGEST]
    else:
        values = [a.value[-1] for a in got.all(T.ATTRIBUTE)]
    assert len(values) <= 1
    found = [c.value for v in values for c in v.value if c.tag == T.DIGEST_VALUE]
    return bytes(found[0]) if found else None


def _locate_digest(engine: Engine, version: Version, value: bytes, mask: int | None = None) -> list[str]:
    digest = s(T.DIGEST, e(T.HASHING_ALGORITHM, 6), by(T.DIGEST_VALUE, value))  # SHA-256
    payload = [] if mask is None else [i(T.STORAGE_STATUS_MASK, mask)]
    if version.major >= 2:
        payload.append(s(T.ATTRIBUTES, digest))
    else:
        payload.append(attr(version, "Digest", digest))
    got = send(engine, request(version, item(OP.LOCATE, *payload))).items[0]
    assert got.ok
    return [str(u.value) for u in got.all(T.UNIQUE_IDENTIFIER)]


@pytest.mark.parametrize("version", [V1_4, V2_1])
def test_digest_is_derived_from_the_material_and_located_by_value(
    tmp_path: Path, kek: KeyProtector, version: Version
) -> None:
    """SPEC-1.4 §3.17: the server sets the SHA-256 Digest of the key material; keyshelf keeps it
    out of the attributes blob and the index and derives it again from the unwrapped material
    (a destroyed object keeps it in its wrapped remnant). Locate by Digest Value still works
    (SPEC-1.4 §4.9: all attributes are allowed): it compares the candidates' digests."""
    db = tmp_path / "k.db"
    engine = _sqlite_engine(db, kek, random=lambda n: bytes(range(n)))
    key = send(engine, request(version, register(version, symmetric_key(KNOWN)))).items[0].uid
    ot = ObjectType.SECRET_DATA
    sd = send(engine, request(version, register(version, secret_data(SECRET), ot=ot))).items[0].uid
    generated = send(engine, request(version, create_aes(version))).items[0].uid
    assert digest_value(engine, version, key) == hashlib.sha256(KNOWN).digest()
    assert digest_value(engine, version, sd) == hashlib.sha256(SECRET).digest()
    assert digest_value(engine, version, generated) == hashlib.sha256(bytes(range(32))).digest()
    # the Digest Value is in no stored row: neither the attributes nor the index
    con = sqlite3.connect(db)
    rows = con.execute("SELECT attributes, index_rows FROM objects").fetchall()
    con.close()
    for attributes_blob, index in rows:
        assert_absent(bytes(attributes_blob) + str(index).encode(), hashlib.sha256(SECRET).digest())
        assert b"Digest Value" not in str(index).encode()
    assert _locate_digest(engine, version, hashlib.sha256(SECRET).digest()) == [sd]
    assert _locate_digest(engine, version, hashlib.sha256(KNOWN).digest()) == [key]
    assert _locate_digest(engine, version, hashlib.sha256(b"guess").digest()) == []
    # destroyed: the value is gone, its Digest is still reported (SKLC-O-1) and found (2.x mask)
    assert send(engine, request(version, item(OP.DESTROY, uid(sd)))).items[0].ok
    assert digest_value(engine, version, sd) == hashlib.sha256(SECRET).digest()
    assert _locate_digest(engine, version, hashlib.sha256(SECRET).digest()) == []
    if version.major >= 2:
        assert _locate_digest(engine, version, hashlib.sha256(SECRET).digest(), mask=5) == [sd]
    get = send(engine, request(version, item(OP.GET, uid(sd)))).items[0]
    assert get.reason == (RR.OBJECT_DESTROYED if version.major >= 2 else RR.ILLEGAL_OPERATION)
    engine.store.close()


def test_digest_value_stored_by_an_earlier_version_is_ignored_and_dropped(
    tmp_path: Path, kek: KeyProtector
) -> None:
    """A database written before the Digest Value was kept out: the stored value is never
    reported (derived from the material instead) and leaves the attributes blob and the index
    at the object's next write."""
    from profiles.attrs import AttrSet, index_rows

    db = tmp_path / "k.db"
    engine = _sqlite_engine(db, kek)
    ot = ObjectType.SECRET_DATA
    sd = send(engine, request(V1_4, register(V1_4, secret_data(SECRET), ot=ot))).items[0].uid
    stale = b"\x5a" * 32
    rec = engine.store.load(sd)
    assert rec is not None
    attrs = AttrSet.from_bytes(rec.attributes)
    (old,) = attrs.all("Digest")
    attrs.replace_at(
        "Digest",
        old.index,
        s(T.DIGEST, *old.value.value[:1], by(T.DIGEST_VALUE, stale), *old.value.value[1:]),
    )
    rec.attributes, rec.index = attrs.to_bytes(), index_rows(attrs)
    engine.store.update(rec)  # as the earlier version stored it
    assert digest_value(engine, V1_4, sd) == hashlib.sha256(SECRET).digest()
    assert _locate_digest(engine, V1_4, stale) == []
    assert (
        send(
            engine,
            request(
                V1_4,
                item(
                    OP.ADD_ATTRIBUTE,
                    uid(sd),
                    attr(V1_4, "Contact Information", t(T.CONTACT_INFORMATION, "ops")),
                ),
            ),
        )
        .items[0]
        .ok
    )
    rec = engine.store.load(sd)
    assert rec is not None
    assert stale not in rec.attributes and stale.hex() not in {e.key for e in rec.index}
    assert all(e.name != "Digest/Digest Value" for e in rec.index)
    assert digest_value(engine, V1_4, sd) == hashlib.sha256(SECRET).digest()
    engine.store.close()


def test_tampered_blob_is_a_clear_failure_never_plaintext(tmp_path: Path, kek: KeyProtector) -> None:
    db = tmp_path / "k.db"
    engine = _sqlite_engine(db, kek)
    key = send(engine, request(V1_4, register(V1_4, symmetric_key(KNOWN)))).items[0].uid
    other = send(engine, request(V1_4, register(V1_4, symmetric_key(SECRET)))).items[0].uid
    engine.store.close()
    con = sqlite3.connect(db)
    (blob,) = con.execute("SELECT material FROM objects WHERE uid = ?", (key,)).fetchone()
    flipped = bytearray(blob)
    flipped[-20] ^= 0x01
    con.execute("UPDATE objects SET material = ? WHERE uid = ?", (bytes(flipped), key))
    # a blob moved onto another object's row fails too (AAD = uid)
    con.execute("UPDATE objects SET material = ? WHERE uid = ?", (blob, other))
    con.commit()
    con.close()
    with pytest.raises(CorruptBlob):
        kek.unwrap(bytes(flipped), key.encode())
    engine = _sqlite_engine(db, kek)
    for target in (key, other):
        raw = engine.handle(encode(request(V1_4, item(OP.GET, uid(target)))), "client-a")
        resp = parse(decode(raw))
        assert resp.items[0].status == FAILED and resp.items[0].reason == RR.GENERAL_FAILURE
        assert_absent(raw, KNOWN, SECRET)
    # the other objects and the engine are unaffected
    assert send(engine, request(V1_4, create_aes(V1_4))).items[0].ok
    engine.store.close()


def test_failure_mid_register_leaves_no_half_written_object(tmp_path: Path, kek: KeyProtector) -> None:
    """A Register that dies after its insert (here: the ID Placeholder update raises) is rolled
    back with its item: no object, no Name taken, and a retry succeeds."""
    import profiles.operations.objects as objects

    db = tmp_path / "k.db"
    engine = _sqlite_engine(db, kek)
    real = objects.insert_object

    def crash_after_insert(*args: object, **kwargs: object) -> object:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("crash after insert")

    reg = register(V1_4, symmetric_key(KNOWN), attr(V1_4, "Name", name("atomic")))
    import profiles.operations.register as register_mod

    setattr(register_mod, "insert_object", crash_after_insert)  # noqa: B010
    try:
        resp = send(engine, request(V1_4, reg))
    finally:
        setattr(register_mod, "insert_object", real)  # noqa: B010
    assert resp.items[0].reason == RR.GENERAL_FAILURE
    assert engine.store.count() == 0
    engine.store.close()
    engine = _sqlite_engine(db, kek)  # what a restart sees
    assert engine.store.count() == 0
    assert send(engine, request(V1_4, reg)).items[0].ok
    engine.store.close()


def test_client_log_text_cannot_forge_log_lines(server_log: io.StringIO) -> None:
    """2.x Log / Interop write client text to the server log: one line, control characters gone."""
    engine = make_engine()
    forged = "hello\r\n2026-01-01 INFO request client=admin\x1b[2J" + "x" * 5000
    assert send(engine, request(V2_1, item(OP.LOG, t(T.LOG_MESSAGE, forged)))).items[0].ok
    records = [line for line in server_log.getvalue().splitlines() if "client log" in line]
    assert len(records) == 1
    assert "\\r" not in records[0] and "\\n" not in records[0] and "\\u001b" not in records[0]
    assert len(records[0]) < 2000


def test_admin_identities_from_the_configuration_file(tmp_path: Path) -> None:
    """[admin] identities in keyshelf.toml reach the engine's policy; nobody else is an admin."""
    from profiles.config import ServerConfig

    path = tmp_path / "keyshelf.toml"
    path.write_text('[admin]\nidentities = ["ops-1"]\n')
    config = ServerConfig.load(path)
    engine = Engine(config, open_store("memory:"))
    key = send(engine, request(V1_4, create_aes(V1_4, "cfg")), identity="client-a").items[0].uid
    assert send(engine, request(V1_4, item(OP.GET, uid(key))), identity="ops-1").items[0].ok
    for other in ("client-b", "ops-2", "OPS-1", ""):
        got = send(engine, request(V1_4, item(OP.GET, uid(key))), identity=other)
        assert got.items[0].reason == RR.ITEM_NOT_FOUND


@pytest.mark.parametrize(
    ("version", "reason"), [(V1_4, RR.INDEX_OUT_OF_BOUNDS), (V2_1, RR.SERVER_LIMIT_EXCEEDED)]
)
def test_locate_with_thousands_of_attributes_gets_a_reason_not_general_failure(
    tmp_path: Path, kek: KeyProtector, version: Version, reason: int
) -> None:
    engine = _sqlite_engine(tmp_path / "k.db", kek)
    assert send(engine, request(version, create_aes(version, "n-1"))).items[0].ok
    for count in (300, 1000, 5000):
        names = [attr(version, "Name", name(str(k))) for k in range(count)]
        payload = s(T.ATTRIBUTES, *names) if version.major >= 2 else None
        located = item(OP.LOCATE, payload) if payload is not None else item(OP.LOCATE, *names)
        resp = send(engine, request(version, located))
        assert resp.items[0].status == FAILED and resp.items[0].reason == reason
    # the bound leaves ordinary Locates alone
    few = [attr(version, "Name", name("n-1"))]
    payload = s(T.ATTRIBUTES, *few) if version.major >= 2 else None
    located = item(OP.LOCATE, payload) if payload is not None else item(OP.LOCATE, *few)
    assert len(send(engine, request(version, located)).items[0].all(T.UNIQUE_IDENTIFIER)) == 1
    engine.store.close()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o666])
def test_server_refuses_to_start_with_a_group_or_world_readable_kek(tmp_path: Path, mode: int) -> None:
    from profiles.config import ServerConfig
    from profiles.keyprotect import KekFileError, write_kek_file
    from profiles.server import build_handler

    kek_path = tmp_path / "kek.key"
    write_kek_file(kek_path)
    kek_path.chmod(mode)
    config = ServerConfig(data_dir=tmp_path, kek_file=kek_path)
    with pytest.raises(KekFileError):
        build_handler(config)
    assert not (tmp_path / "keyshelf.db").exists()  # refused before the store was created


def test_server_refuses_sqlite_without_a_kek(tmp_path: Path) -> None:
    from profiles.config import ConfigError, ServerConfig
    from profiles.server import build_handler

    with pytest.raises(ConfigError):
        build_handler(ServerConfig(data_dir=tmp_path, kek_file=None))
    assert not (tmp_path / "keyshelf.db").exists()
