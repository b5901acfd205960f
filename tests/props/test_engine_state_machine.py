"""The engine's object state machine against a model (Hypothesis RuleBasedStateMachine).

The machine drives the real :class:`~profiles.engine.Engine` in-process (``memory:`` store,
injected clock, randomness and identifiers) through random sequences of Create / Register
(symmetric keys, Secret Data), Activate, Revoke (compromise and other reasons, with or without a
Compromise Occurrence Date), Destroy, Get, Get Attributes, Check, Locate (by Name, by State,
with a Storage Status Mask), Archive, Recover, Add / Modify / Delete Attribute of the four
client dates (Activation, Deactivation, Process Start, Protect Stop; past or future) and clock
advances, each request in a protocol version drawn from 1.0-2.1 (mostly 1.4 and 2.1). Requests
are built with agent.model and go through the byte interface, as the server sends them.

The model keeps every object's state, dates and archive flag (digest §4: transitions §4.2, the
per-state rules and per-version refusals §4.3). After every step:

* the Result Status and Result Reason equal the model's, in the request's version;
* no answer is General Failure; the response decodes (agent.model) in the request's version,
  with the Response Payload class of the operation;
* Get Attributes reports the model's effective State and dates; Locate by State (and Name)
  returns exactly the model's objects (an invariant locates every State in 1.4 and 2.1 after
  each step); Get returns the material the object was made with;
* a destroyed object's material appears in no response at all.

Budget: the default (``KEYSHELF_SM_EXAMPLES`` = 40 programs of up to ``KEYSHELF_SM_STEPS`` =
40 steps) runs in a few seconds. A longer campaign:

    KEYSHELF_SM_EXAMPLES=2000 KEYSHELF_SM_STEPS=120 \\
        .venv/bin/pytest tests/props/test_engine_state_machine.py -q --timeout=0 \\
        --hypothesis-show-statistics

(about 4 programs of 100 steps a second; ``--hypothesis-show-statistics`` lists how often each
operation got each answer; ``--hypothesis-seed=N`` replays a campaign; a failure is shrunk and
printed as a program of rule calls.)

Where the spec leaves a behaviour open, the model follows what the engine documents (each
place says so): Revoke with a non-compromise reason on a Pre-Active or Compromised object
(digest §4.3 / §7: not a listed transition) is refused as a lifecycle error (Wrong Key
Lifecycle State, 1.x Permission Denied), as are Activate and such a Revoke of a destroyed object
(SPEC-2.1 Tables 166 / 297 do not list Object Destroyed; this machine found the engine answering
it, fixed in profiles.operations.lifecycle.next_state); Destroy of a destroyed object answers
Object Destroyed in 2.x (Table 210 lists it; digest §4.3 names no 2.x reason).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from agent.model import (
    ActivateRequest,
    ActivateResponse,
    AddAttributeRequest,
    AddAttributeResponse,
    ArchiveRequest,
    ArchiveResponse,
    Attribute,
    CheckRequest,
    CheckResponse,
    CreateRequest,
    CreateResponse,
    DeleteAttributeRequest,
    DeleteAttributeResponse,
    DestroyRequest,
    DestroyResponse,
    GetAttributesRequest,
    GetAttributesResponse,
    GetRequest,
    GetResponse,
    KeyBlock,
    KeyValue,
    LocateRequest,
    LocateResponse,
    ModifyAttributeRequest,
    ModifyAttributeResponse,
    Name,
    ProtocolVersion,
    RecoverRequest,
    RecoverResponse,
    RegisterRequest,
    RegisterResponse,
    RequestBatchItem,
    RequestHeader,
    RequestMessage,
    RequestPayload,
    ResponseBatchItem,
    RevocationReason,
    RevokeRequest,
    RevokeResponse,
    SecretData,
    SymmetricKey,
    decode_response,
    encode_message,
)
from agent.spec import (
    ALL_VERSIONS,
    V1_4,
    V2_0,
    V2_1,
    CryptographicAlgorithm,
    CryptographicUsageMask,
    KeyFormatType,
    ObjectType,
    Operation,
    ResultReason,
    ResultStatus,
    RevocationReasonCode,
    SecretDataType,
    State,
    StorageStatusMask,
    Version,
    value_in_version,
)
from profiles.engine import Engine, EngineConfig
from profiles.keyprotect import KeyProtector
from profiles.store import open_store

R = ResultReason
S = State
RRC = RevocationReasonCode
IDENTITY = "client-a"
T0 = 1_800_000_000

EXAMPLES = int(os.environ.get("KEYSHELF_SM_EXAMPLES", "40"))
SQLITE_EXAMPLES = int(os.environ.get("KEYSHELF_SM_SQLITE_EXAMPLES", "15"))
STEPS = int(os.environ.get("KEYSHELF_SM_STEPS", "40"))

DATES = ("Activation Date", "Deactivation Date", "Process Start Date", "Protect Stop Date")
LIVE = {S.PRE_ACTIVE, S.ACTIVE, S.DEACTIVATED, S.COMPROMISED}
DESTROYED = {S.DESTROYED, S.DESTROYED_COMPROMISED}
COMPROMISE = {RRC.KEY_COMPROMISE, RRC.CA_COMPROMISE}
CUM = CryptographicUsageMask
PROTECT = CUM.ENCRYPT | CUM.SIGN | CUM.WRAP_KEY | CUM.MAC_GENERATE
PROCESS = CUM.DECRYPT | CUM.VERIFY | CUM.UNWRAP_KEY | CUM.MAC_VERIFY
# SPEC-1.4 §3.24-3.27 as profiles/operations/attributes.py applies them: the states in which a
# client may add or modify each date (the state reached by dates that have passed)
DATE_STATES = {
    "Activation Date": {S.PRE_ACTIVE},
    "Process Start Date": {S.PRE_ACTIVE},
    "Protect Stop Date": {S.PRE_ACTIVE, S.ACTIVE},
    "Deactivation Date": {S.PRE_ACTIVE, S.ACTIVE},
}

# SPEC-1.4 §3.25-3.26: once reached, these dates SHALL NOT be changed
FROZEN = {"Process Start Date", "Protect Stop Date"}


def v2(version: Version) -> bool:
    return version >= V2_0


# Per-version refusals (digest §4.3 and the "other error mappings" under it).
def lifecycle_refusal(version: Version) -> ResultReason:
    """Activate / Destroy / Check / date change in the wrong state: SPEC-1.4 Tables 346/348,
    SKLC-M-2-14 / SKLC-M-2-21."""
    return R.WRONG_KEY_LIFECYCLE_STATE if v2(version) else R.PERMISSION_DENIED


def destroyed_refusal(version: Version) -> ResultReason:
    """Get of a destroyed object: BL-M-8-21 Object Destroyed; 1.x "the server only has attributes
    for this object" Illegal Operation (SPEC-1.4 Table 338)."""
    return R.OBJECT_DESTROYED if v2(version) else R.ILLEGAL_OPERATION


def not_found(version: Version) -> ResultReason:
    return R.OBJECT_NOT_FOUND if v2(version) else R.ITEM_NOT_FOUND


def name_taken(version: Version) -> ResultReason:
    return R.NON_UNIQUE_NAME_ATTRIBUTE if v2(version) else R.INVALID_FIELD  # SPEC-1.4 Tables 328/330


@dataclass
class Obj:
    """What the model knows about one managed object."""

    uid: str
    kind: ObjectType
    material: bytes
    mask: int
    name: str | None
    initial: int
    state: State = S.PRE_ACTIVE
    archived: bool = False
    dates: dict[str, int] = field(default_factory=dict)
    occurred: int | None = None  # Compromise Occurrence Date

    def settle(self, now: int) -> None:
        """Dates that have been reached take effect (SPEC-1.4 §3.22 transitions 4 and 6). The
        clock never goes back, so applying them eagerly equals the engine's effective state."""
        act, deact = self.dates.get("Activation Date"), self.dates.get("Deactivation Date")
        if self.state == S.PRE_ACTIVE and act is not None and act <= now:
            self.state = S.ACTIVE
        if self.state == S.ACTIVE and deact is not None and deact <= now:
            self.state = S.DEACTIVATED


@dataclass
class Outcome:
    op: Operation
    status: ResultStatus
    reason: ResultReason | None
    item: ResponseBatchItem
    raw: bytes


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


versions = st.sampled_from([V1_4] * 4 + [V2_1] * 4 + list(ALL_VERSIONS))
names = st.none() | st.sampled_from(["alpha", "beta", "gamma"])
offsets = st.sampled_from([0, -1, 1]) | st.integers(min_value=-5000, max_value=5000)
masks = st.sampled_from([int(CUM.ENCRYPT), int(CUM.DECRYPT), int(CUM.ENCRYPT | CUM.DECRYPT)])
date_sets = st.dictionaries(st.sampled_from(DATES), offsets, max_size=3)
picks = st.integers(min_value=0, max_value=1000)
kinds = st.sampled_from([ObjectType.SYMMETRIC_KEY, ObjectType.SECRET_DATA])


class EngineStateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.draws = 0
        self.last_random = b""
        self.uids = 0
        self.registered = 0
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.owed: list[tuple[int, int]] = []  # durable writes not synced yet (SQLite)
        if self.on_sqlite:
            self._tmp = tempfile.TemporaryDirectory(prefix="keyshelf-sm-")
            store = open_store(f"sqlite:///{self._tmp.name}/sm.db", KeyProtector(bytes(32)))
            store.batch_owed(True)  # type: ignore[attr-defined]  # as a single-process server
        else:
            store = open_store("memory:")
        self.store = store
        self.engine = Engine(
            EngineConfig(),
            store,
            clock=lambda: float(self.now),
            random=self._random,
            new_uid=self._new_uid,
        )
        self.objects: dict[str, Obj] = {}

    on_sqlite = False  # SQLiteEngineStateMachine: the SQLite store, requests as the event loop runs them

    def sync_owed(self) -> None:
        owed, self.owed = self.owed, []
        errors = self.store.sync_owed(owed)  # type: ignore[attr-defined]
        assert errors == [None] * len(owed), errors

    def teardown(self) -> None:
        if self.owed:
            self.sync_owed()
        self.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    # ------------------------------------------------------------------ injected services
    def _random(self, n: int) -> bytes:
        self.draws += 1
        out = b""
        while len(out) < n:
            out += hashlib.sha256(b"%d/%d" % (self.draws, len(out))).digest()
        self.last_random = out[:n]
        return self.last_random

    def _new_uid(self) -> str:
        self.uids += 1
        return f"obj-{self.uids}"

    # ------------------------------------------------------------------ plumbing
    def send(self, version: Version, op: Operation, payload: RequestPayload, expected_cls: type) -> Outcome:
        msg = RequestMessage(
            RequestHeader(protocol_version=ProtocolVersion.of(version), batch_count=1),
            (RequestBatchItem(operation=op, request_payload=payload),),
        )
        if self.on_sqlite:
            # as profiles/server.py runs a request: on one thread, durability handed over, the
            # durable writes of up to 3 requests left open together and synced at once (the
            # next requests read them through the open transaction, as the server's do)
            with self.store.owed_durability() as owed:  # type: ignore[attr-defined]
                raw = self.engine.handle(encode_message(msg), IDENTITY)
            if owed.seq or owed.gen:
                self.owed.append((owed.seq, owed.gen))
            if len(self.owed) >= 3:
                self.sync_owed()
        else:
            raw = self.engine.handle(encode_message(msg), IDENTITY)
        resp = decode_response(raw)
        assert resp.response_header.protocol_version.as_version() == version
        assert len(resp.batch_items) == 1
        bi = resp.batch_items[0]
        assert bi.payload_error is None, bi.payload_error
        assert bi.operation == op
        assert bi.result_reason != R.GENERAL_FAILURE, (op, bi.result_message)
        if bi.result_reason is not None:
            assert value_in_version(ResultReason, bi.result_reason, version), bi.result_reason
        if bi.result_status == ResultStatus.SUCCESS:
            assert isinstance(bi.response_payload, expected_cls), bi.response_payload
        else:
            assert bi.result_status == ResultStatus.OPERATION_FAILED and bi.response_payload is None
        # a destroyed object's value is gone: no answer carries it (digest §4.1, SPEC-1.4 §4.21)
        for o in self.objects.values():
            if o.state in DESTROYED:
                assert o.material not in raw, o.uid
        return Outcome(op, bi.result_status, bi.result_reason, bi, raw)

    def expect(self, got: Outcome, reason: ResultReason | None) -> None:
        # --hypothesis-show-statistics lists how often each (operation, answer) pair was seen
        event(f"{got.op.name}: {'Success' if reason is None else reason.name}")
        if reason is None:
            assert got.status == ResultStatus.SUCCESS, (got.reason, got.item.result_message)
        else:
            assert got.status == ResultStatus.OPERATION_FAILED, f"expected {reason.name}, got success"
            assert got.reason == reason, (got.reason, reason, got.item.result_message)

    def pick(self, i: int) -> Obj:
        uids = sorted(self.objects)
        return self.objects[uids[i % len(uids)]]

    def settle(self) -> None:
        for o in self.objects.values():
            o.settle(self.now)

    def live_name(self, name: str | None) -> bool:
        return name is not None and any(
            o.name == name and o.state not in DESTROYED for o in self.objects.values()
        )

    def new_object_attrs(
        self, name: str | None, mask: int, dates: dict[str, int], *, length: int | None
    ) -> tuple[Attribute, ...]:
        out = [Attribute("Cryptographic Usage Mask", CUM(mask))]
        if length is not None:
            out += [
                Attribute("Cryptographic Algorithm", CryptographicAlgorithm.AES),
                Attribute("Cryptographic Length", length),
            ]
        if name is not None:
            out.append(Attribute("Name", Name(name)))
        out += [Attribute(d, utc(self.now + off)) for d, off in dates.items()]
        return tuple(out)

    def add_object(
        self, uid: str, kind: ObjectType, material: bytes, mask: int, name: str | None, dates: dict[str, int]
    ) -> None:
        assert uid not in self.objects
        o = Obj(uid, kind, material, mask, name, self.now, dates={d: self.now + x for d, x in dates.items()})
        o.settle(self.now)  # SPEC-1.4 §3.22 transition 1: a past Activation Date makes it Active
        self.objects[uid] = o

    # ------------------------------------------------------------------ rules: new objects
    @rule(version=versions, kind=kinds, name=names, mask=masks, dates=date_sets)
    def create(
        self, version: Version, kind: ObjectType, name: str | None, mask: int, dates: dict[str, int]
    ) -> None:
        symmetric = kind == ObjectType.SYMMETRIC_KEY
        attrs = self.new_object_attrs(name, mask, dates, length=256 if symmetric else None)
        got = self.send(
            version, Operation.CREATE, CreateRequest(object_type=kind, attributes=attrs), CreateResponse
        )
        if not symmetric and version < V1_4:
            # Secret Data is created from 1.4 on (TC-CREATE-SD-1-14); before: Invalid Field
            self.expect(got, R.INVALID_FIELD)
        elif self.live_name(name):
            self.expect(got, name_taken(version))
        else:
            self.expect(got, None)
            assert isinstance(got.item.response_payload, CreateResponse)
            uid = str(got.item.response_payload.unique_identifier)
            self.add_object(uid, kind, self.last_random, mask, name, dates)

    @rule(version=versions, kind=kinds, name=names, mask=masks, dates=date_sets, seed=st.binary(min_size=4))
    def register(
        self,
        version: Version,
        kind: ObjectType,
        name: str | None,
        mask: int,
        dates: dict[str, int],
        seed: bytes,
    ) -> None:
        # unique per object: the "destroyed material appears nowhere" check must not see a live
        # object's value that happens to be equal
        self.registered += 1
        material = hashlib.sha256(b"register/%d/" % self.registered + seed).digest()
        managed: SymmetricKey | SecretData
        if kind == ObjectType.SYMMETRIC_KEY:
            managed = SymmetricKey(
                key_block=KeyBlock(
                    key_format_type=KeyFormatType.RAW,
                    key_value=KeyValue(key_material=material),
                    cryptographic_algorithm=CryptographicAlgorithm.AES,
                    cryptographic_length=256,
                )
            )
        else:
            managed = SecretData(
                secret_data_type=SecretDataType.PASSWORD,
                key_block=KeyBlock(
                    key_format_type=KeyFormatType.OPAQUE, key_value=KeyValue(key_material=material)
                ),
            )
        attrs = self.new_object_attrs(name, mask, dates, length=None)
        req = RegisterRequest(object_type=kind, attributes=attrs, managed_object=managed)
        got = self.send(version, Operation.REGISTER, req, RegisterResponse)
        if self.live_name(name):
            self.expect(got, name_taken(version))
            return
        self.expect(got, None)
        assert isinstance(got.item.response_payload, RegisterResponse)
        self.add_object(str(got.item.response_payload.unique_identifier), kind, material, mask, name, dates)

    # ------------------------------------------------------------------ rules: the clock
    @rule(seconds=st.sampled_from([0, 1]) | st.integers(min_value=0, max_value=6000))
    def advance_clock(self, seconds: int) -> None:
        before = {o.uid: o.state for o in self.objects.values()}
        self.now += seconds
        self.settle()
        for o in self.objects.values():
            if o.state != before[o.uid]:
                event(f"clock: {before[o.uid].name} -> {o.state.name}")

    # ------------------------------------------------------------------ rules: lifecycle
    @precondition(lambda self: self.objects)
    @rule(version=versions, which=picks)
    def activate(self, version: Version, which: int) -> None:
        o = self.pick(which)
        got = self.send(
            version, Operation.ACTIVATE, ActivateRequest(unique_identifier=o.uid), ActivateResponse
        )
        if o.archived:
            self.expect(got, R.OBJECT_ARCHIVED)
        elif o.state == S.PRE_ACTIVE:
            self.expect(got, None)
            # SPEC-1.4 §4.19: Activation Date = the time of the request (a passed Deactivation
            # Date then takes effect at once)
            o.state = S.ACTIVE
            o.dates["Activation Date"] = self.now
            o.settle(self.now)
        else:
            # SPEC-1.4 Table 346 "not in Pre-Active state", destroyed ones too; SPEC-2.1 Table 166
            self.expect(got, lifecycle_refusal(version))

    @precondition(lambda self: self.objects)
    @rule(
        version=versions,
        which=picks,
        reason=st.sampled_from(list(RRC)),
        occurred=st.none() | st.integers(min_value=-100_000, max_value=0),
    )
    def revoke(self, version: Version, which: int, reason: RRC, occurred: int | None) -> None:
        o = self.pick(which)
        req = RevokeRequest(
            unique_identifier=o.uid,
            revocation_reason=RevocationReason(reason),
            compromise_occurrence_date=None if occurred is None else utc(self.now + occurred),
        )
        got = self.send(version, Operation.REVOKE, req, RevokeResponse)
        if o.archived:
            self.expect(got, R.OBJECT_ARCHIVED)
        elif reason in COMPROMISE:
            # transitions 3, 5, 8, 10 (and no change once compromised); SPEC-1.4 §4.20: the
            # Compromise Occurrence Date from the request, else the Initial Date (§3.29)
            self.expect(got, None)
            o.state = S.DESTROYED_COMPROMISED if o.state in DESTROYED else S.COMPROMISED
            if o.occurred is None:
                o.occurred = o.initial if occurred is None else self.now + occurred
        elif o.state == S.ACTIVE:
            self.expect(got, None)  # transition 6: Deactivation Date = now unless already passed
            o.state = S.DEACTIVATED
            deact = o.dates.get("Deactivation Date")
            if deact is None or deact > self.now:
                o.dates["Deactivation Date"] = self.now
        elif o.state == S.DEACTIVATED:
            self.expect(got, None)  # already revoked: no change
        else:
            # Pre-Active / Compromised / destroyed with a non-compromise reason: not a listed
            # transition (digest §4.3; §7 leaves the error open): the engine documents a
            # lifecycle refusal (lifecycle.next_state; SPEC-2.1 Table 297 has no Object Destroyed)
            self.expect(got, lifecycle_refusal(version))

    @precondition(lambda self: self.objects)
    @rule(version=versions, which=picks)
    def destroy(self, version: Version, which: int) -> None:
        o = self.pick(which)
        got = self.send(version, Operation.DESTROY, DestroyRequest(unique_identifier=o.uid), DestroyResponse)
        if o.archived:
            self.expect(got, R.OBJECT_ARCHIVED)
        elif o.state in (S.PRE_ACTIVE, S.DEACTIVATED):
            self.expect(got, None)  # transitions 2, 7
            o.state = S.DESTROYED
        elif o.state == S.COMPROMISED:
            self.expect(got, None)  # transition 9
            o.state = S.DESTROYED_COMPROMISED
        elif o.state in DESTROYED:
            # digest §4.3 "already destroyed => refused": 1.x Permission Denied (Table 348); in
            # 2.x the engine documents Object Destroyed (lifecycle.destroy)
            self.expect(got, R.OBJECT_DESTROYED if v2(version) else R.PERMISSION_DENIED)
        else:
            self.expect(got, lifecycle_refusal(version))  # Active (SKLC-M-2)

    @precondition(lambda self: self.objects)
    @rule(version=versions, which=picks)
    def archive(self, version: Version, which: int) -> None:
        o = self.pick(which)
        got = self.send(version, Operation.ARCHIVE, ArchiveRequest(unique_identifier=o.uid), ArchiveResponse)
        self.expect(got, R.OBJECT_ARCHIVED if o.archived else None)
        o.archived = True

    @precondition(lambda self: self.objects)
    @rule(version=versions, which=picks)
    def recover(self, version: Version, which: int) -> None:
        o = self.pick(which)
        got = self.send(version, Operation.RECOVER, RecoverRequest(unique_identifier=o.uid), RecoverResponse)
        self.expect(got, None)
        o.archived = False

    # ------------------------------------------------------------------ rules: reads
    @precondition(lambda self: self.objects)
    @rule(version=versions, which=picks)
    def get(self, version: Version, which: int) -> None:
        o = self.pick(which)
        got = self.send(version, Operation.GET, GetRequest(unique_identifier=o.uid), GetResponse)
        if o.archived:
            self.expect(got, R.OBJECT_ARCHIVED)
        elif o.state in DESTROYED:
            self.expect(got, destroyed_refusal(version))
        else:
            # every live state may be read, Compromised too (SKFF-M-9-14)
            self.expect(got, None)
            payload = got.item.response_payload
            assert isinstance(payload, GetResponse)
            assert payload.unique_identifier == o.uid and payload.object_type == o.kind
            managed = payload.managed_object
            assert isinstance(managed, SymmetricKey if o.kind == ObjectType.SYMMETRIC_KEY else SecretData)
            kv = managed.key_block.key_value
            assert isinstance(kv, KeyValue) and kv.key_material == o.material

    @rule(version=versions)
    def get_unknown(self, version: Version) -> None:
        got = self.send(version, Operation.GET, GetRequest(unique_identifier="no-such-object"), GetResponse)
        self.expect(got, not_found(version))

    @precondition(lambda self: self.objects)
    @rule(version=versions, which=picks)
    def get_attributes(self, version: Version, which: int) -> None:
        o = self.pick(which)
        wanted = ("State", *DATES, "Compromise Occurrence Date")
        req = GetAttributesRequest(unique_identifier=o.uid, attribute_names=wanted)
        got = self.send(version, Operation.GET_ATTRIBUTES, req, GetAttributesResponse)
        if o.archived:
            self.expect(got, R.OBJECT_ARCHIVED)
            return
        self.expect(got, None)  # every state, Destroyed too (SKLC-O-1-14, BL-M-9-21)
        payload = got.item.response_payload
        assert isinstance(payload, GetAttributesResponse)
        seen: dict[str, object] = {}
        for a in payload.attributes:
            assert a.name not in seen, a.name
            seen[a.name] = a.value
        assert seen.pop("State") == o.state, (seen, o)
        occurred = seen.pop("Compromise Occurrence Date", None)
        assert occurred == (None if o.occurred is None else utc(o.occurred))
        assert seen == {d: utc(v) for d, v in o.dates.items()}

    @precondition(lambda self: self.objects)
    @rule(version=versions, which=picks, mask=st.none() | st.sampled_from(list(CUM)[:8]))
    def check(self, version: Version, which: int, mask: CUM | None) -> None:
        o = self.pick(which)
        req = CheckRequest(unique_identifier=o.uid, cryptographic_usage_mask=mask)
        got = self.send(version, Operation.CHECK, req, CheckResponse)
        if o.archived:
            self.expect(got, R.OBJECT_ARCHIVED)
        elif mask is None:
            self.expect(got, None)
        elif o.mask & mask != mask:
            # SPEC-2.1 BL-M-2/3-21 Incompatible Cryptographic Usage Mask; 1.x Permission Denied
            self.expect(got, R.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK if v2(version) else R.PERMISSION_DENIED)
        elif not self.usable(o, mask):
            self.expect(got, lifecycle_refusal(version))
        else:
            self.expect(got, None)

    def usable(self, o: Obj, mask: int) -> bool:
        """SPEC-1.4 §3.22, §3.25-3.26: only Active objects, protection before the Protect Stop
        Date, processing from the Process Start Date."""
        if o.state != S.ACTIVE:
            return False
        stop, start = o.dates.get("Protect Stop Date"), o.dates.get("Process Start Date")
        if mask & PROTECT and stop is not None and self.now >= stop:
            return False
        return not (mask & PROCESS and start is not None and self.now < start)

    @rule(
        version=versions,
        name=names,
        state=st.none() | st.sampled_from(list(S)),
        storage=st.none() | st.sampled_from([1, 2, 3, 4, 5, 7]),
    )
    def locate(self, version: Version, name: str | None, state: State | None, storage: int | None) -> None:
        if storage is not None and storage & StorageStatusMask.DESTROYED_STORAGE and not v2(version):
            storage = None  # Destroyed Storage is a 2.x bit
        attrs: list[Attribute] = []
        if name is not None:
            attrs.append(Attribute("Name", Name(name)))
        if state is not None:
            attrs.append(Attribute("State", state))
        req = LocateRequest(
            attributes=tuple(attrs),
            storage_status_mask=None if storage is None else StorageStatusMask(storage),
        )
        got = self.send(version, Operation.LOCATE, req, LocateResponse)
        self.expect(got, None)
        payload = got.item.response_payload
        assert isinstance(payload, LocateResponse)
        found = [str(u) for u in payload.unique_identifier]
        assert len(found) == len(set(found))
        assert set(found) == self.located(version, name, state, storage)

    def located(
        self, version: Version, name: str | None, state: State | None, storage: int | None
    ) -> set[str]:
        """SPEC-1.4 §4.9: on-line objects by default, Archival Storage the archived ones; 2.x
        Destroyed Storage (SPEC-2.1 §12.3) the destroyed ones, which a State filter asking for
        a destroyed State also finds (SKFF-M-5: otherwise Locate after Destroy is empty)."""
        mask = storage or StorageStatusMask.ON_LINE_STORAGE
        online = bool(mask & StorageStatusMask.ON_LINE_STORAGE)
        archival = bool(mask & StorageStatusMask.ARCHIVAL_STORAGE)
        states: set[State] = set(LIVE) if online or archival else set()
        archived: set[bool] = {True, False} if online and archival else {archival}
        if v2(version) and mask & StorageStatusMask.DESTROYED_STORAGE:
            states |= DESTROYED
            if not (online or archival):
                archived = {True, False}
        if state is not None:
            states = states | ({state} & DESTROYED)
        return {
            o.uid
            for o in self.objects.values()
            if o.state in states
            and o.archived in archived
            and (state is None or o.state == state)
            and (name is None or o.name == name)
        }

    # ------------------------------------------------------------------ rules: dates
    @precondition(lambda self: self.objects)
    @rule(version=versions, which=picks, date=st.sampled_from(DATES), offset=offsets)
    def add_date(self, version: Version, which: int, date: str, offset: int) -> None:
        o = self.pick(which)
        req = AddAttributeRequest(unique_identifier=o.uid, attribute=Attribute(date, utc(self.now + offset)))
        got = self.send(version, Operation.ADD_ATTRIBUTE, req, AddAttributeResponse)
        if o.archived:
            self.expect(got, R.OBJECT_ARCHIVED)
        elif date in o.dates:
            # SPEC-1.4 Table 341 Illegal Operation; SPEC-2.1 BL-M-5-21 Attribute Single Valued
            self.expect(got, R.ATTRIBUTE_SINGLE_VALUED if v2(version) else R.ILLEGAL_OPERATION)
        elif o.state not in DATE_STATES[date]:
            self.expect(got, lifecycle_refusal(version))
        else:
            self.expect(got, None)
            o.dates[date] = self.now + offset
            o.settle(self.now)

    @precondition(lambda self: self.objects)
    @rule(version=versions, which=picks, date=st.sampled_from(DATES), offset=offsets)
    def modify_date(self, version: Version, which: int, date: str, offset: int) -> None:
        o = self.pick(which)
        attribute = Attribute(date, utc(self.now + offset), index=None if v2(version) else 0)
        req = ModifyAttributeRequest(unique_identifier=o.uid, attribute=attribute)
        got = self.send(version, Operation.MODIFY_ATTRIBUTE, req, ModifyAttributeResponse)
        if o.archived:
            self.expect(got, R.OBJECT_ARCHIVED)
        elif date not in o.dates:
            # SPEC-1.4 Table 342 Invalid Field; SPEC-2.1 Attribute Not Found
            self.expect(got, R.ATTRIBUTE_NOT_FOUND if v2(version) else R.INVALID_FIELD)
        elif o.state not in DATE_STATES[date] or (date in FROZEN and o.dates[date] <= self.now):
            # SKLC-M-3-14 Permission Denied / SKLC-M-3-21 Wrong Key Lifecycle State; a reached
            # Process Start / Protect Stop Date SHALL NOT be changed (SPEC-1.4 §3.25-3.26)
            self.expect(got, lifecycle_refusal(version))
        else:
            self.expect(got, None)
            o.dates[date] = self.now + offset
            o.settle(self.now)

    @precondition(lambda self: self.objects)
    @rule(version=versions, which=picks, date=st.sampled_from(DATES))
    def delete_date(self, version: Version, which: int, date: str) -> None:
        o = self.pick(which)
        req = DeleteAttributeRequest(unique_identifier=o.uid, attribute_name=date)
        got = self.send(version, Operation.DELETE_ATTRIBUTE, req, DeleteAttributeResponse)
        if o.archived:
            self.expect(got, R.OBJECT_ARCHIVED)
        else:
            # the dates are not deletable by a client (SPEC-1.4 §3.24-3.27 rule tables): 1.x
            # Permission Denied (Table 343), 2.x Attribute Read Only
            self.expect(got, R.ATTRIBUTE_READ_ONLY if v2(version) else R.PERMISSION_DENIED)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def locate_by_state_matches_the_model(self) -> None:
        """Every State, in the two main versions: exactly the model's on-line objects."""
        for version in (V1_4, V2_1):
            for state in S:
                req = LocateRequest(attributes=(Attribute("State", state),))
                got = self.send(version, Operation.LOCATE, req, LocateResponse)
                self.expect(got, None)
                payload = got.item.response_payload
                assert isinstance(payload, LocateResponse)
                want = {o.uid for o in self.objects.values() if o.state == state and not o.archived}
                assert {str(u) for u in payload.unique_identifier} == want, (state.name, version)


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


EngineStateMachine.TestCase.settings = _settings(EXAMPLES)
TestEngineStateMachine = EngineStateMachine.TestCase


class SQLiteEngineStateMachine(EngineStateMachine):
    """The same machine on the SQLite store (index tables, Fresh row swap, group commit),
    each request inside owed_durability() (its durable writes left open: batch_owed) and
    answered once sync_owed made it durable."""

    on_sqlite = True


SQLiteEngineStateMachine.TestCase.settings = _settings(SQLITE_EXAMPLES)
TestSQLiteEngineStateMachine = SQLiteEngineStateMachine.TestCase
