"""Replay one OASIS KMIP test-case file against a server and compare every response.

The files hold alternating RequestMessage / ResponseMessage elements (one pair per step).
For each step the request's placeholders are bound (``$UNIQUE_IDENTIFIER_N`` to the N-th
identifier the server returned earlier in this file, ``$NOW-3600`` to a time), the request is
encoded to TTLV and sent through ``exchange`` (bytes in, bytes out: mutual TLS in the harness,
the engine directly in unit tests), and the decoded response is matched against the expected
one.

Matching follows the permitted variations of the KMIP profiles (Profiles 1.4 section 5
"conformance"; Tape Library profile section 4; digest section 3.1.5):

- server-chosen values: placeholders bind on first sight (``$UNIQUE_IDENTIFIER_N``,
  ``$KEY_MATERIAL_N``, ...), ``$NOW`` within a tolerance, Vendor Identification, Server
  Information, Server Correlation Value, Nonce;
- extra attributes in Get Attributes / Get Attribute List answers, extra operations, object
  types and profiles in Query answers (expected is a sub-multiset, in any order);
- Result Message is free text: compared only for presence where the status is a failure;
- the order of identifiers returned by Locate.
Everything else must be equal: tags, item types, values, order of the other fields.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

from agent.encodings import Symbol, bind_defaults
from agent.encodings.xml import load_test_case
from agent.spec import ItemType, Operation, ResultReason, ResultStatus, Tag
from agent.ttlv import DecodeError, Item, decode, encode

NOW_TOLERANCE = 300  # seconds; the files' $NOW is "about now"

Exchange = Callable[[bytes], bytes]

# Fields a server chooses freely: their values are not compared (presence rules below).
FREE_VALUES = {
    Tag.VENDOR_IDENTIFICATION,
    Tag.SERVER_INFORMATION,
    Tag.SERVER_CORRELATION_VALUE,
    Tag.NONCE,
    Tag.RESULT_MESSAGE,
    Tag.RANDOM_NUMBER_GENERATOR,  # which RNG the server uses (SPEC-1.4 3.44): its own choice
    Tag.DIGEST_VALUE,  # computed over key material the server may have generated
}
# 1.x attributes (Attribute Name text) whose value is the server's own choice.
FREE_ATTRIBUTE_NAMES = {"Random Number Generator"}
# Key material the server generates (Create, Re-key) is random: compared only when the same
# bytes were sent by the client earlier in the file (Register), else only its length.
MATERIAL_TAGS = {Tag.KEY_MATERIAL, Tag.KEY}
# Optional response fields a server may add or leave out.
OPTIONAL_FIELDS = {
    Tag.SERVER_CORRELATION_VALUE,
    Tag.CLIENT_CORRELATION_VALUE,
    Tag.NONCE,
    Tag.RESULT_MESSAGE,
    Tag.ATTESTATION_TYPE,
    Tag.SERVER_HASHED_PASSWORD,
}
# Operations whose response payloads list things a server may have more of.
SUBSET_OPERATIONS = {Operation.GET_ATTRIBUTES, Operation.GET_ATTRIBUTE_LIST, Operation.QUERY}
ORDER_FREE_OPERATIONS = {Operation.LOCATE}


class Mismatch(Exception):
    """The first difference between the expected and the actual response."""


@dataclass
class StepResult:
    index: int
    ok: bool
    detail: str = ""


@dataclass
class FileResult:
    path: Path
    steps: list[StepResult] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(s.ok for s in self.steps)

    @property
    def first_mismatch(self) -> str | None:
        if self.error is not None:
            return self.error
        for step in self.steps:
            if not step.ok:
                return f"step {step.index}: {step.detail}"
        return None


def _symbol_text(value: object) -> str | None:
    return value.text if isinstance(value, Symbol) else None


def _now_offset(text: str) -> int | None:
    """``$NOW`` -> 0, ``$NOW-3600`` -> -3600, anything else -> None."""
    symbol = Symbol.parse(text)
    if symbol is None or symbol.base != "$NOW":
        return None
    return symbol.offset


class Bindings:
    """Placeholder values learned from responses, used in later requests."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.values: dict[str, object] = {}
        self.sent_material: set[bytes] = set()
        self._now = now

    def now(self) -> int:
        return int(self._now())

    def copy(self) -> Bindings:
        other = Bindings(self._now)
        other.values = dict(self.values)
        other.sent_material = self.sent_material
        return other

    def remember_request(self, item: Item) -> None:
        """Record key material the client sent, so only that is compared byte for byte."""
        if item.type == ItemType.STRUCTURE:
            for child in item.value:
                self.remember_request(child)
        elif item.tag in MATERIAL_TAGS and isinstance(item.value, bytes):
            self.sent_material.add(item.value)


def bind_request(item: Item, bindings: Bindings) -> Item:
    """Replace every placeholder in a request by its bound value."""
    return bind_defaults(item, bindings.now(), bindings.values)


class Matcher:
    def __init__(self, bindings: Bindings, request_version: Item | None = None) -> None:
        self.b = bindings
        self.request_version = request_version

    # -- leaves ---------------------------------------------------------------------
    def leaf(self, exp: Item, act: Item, path: str) -> None:
        if exp.type != act.type:
            raise Mismatch(f"{path}: type {act.type.name}, expected {exp.type.name}")
        sym = _symbol_text(exp.value)
        if sym is not None:
            offset = _now_offset(sym)
            if offset is not None and act.type in (ItemType.DATE_TIME, ItemType.DATE_TIME_EXTENDED):
                value = act.value if act.type == ItemType.DATE_TIME else act.value // 1_000_000
                target = self.b.now() + offset
                if abs(value - target) > NOW_TOLERANCE:
                    raise Mismatch(f"{path}: time {value} not within {NOW_TOLERANCE}s of {sym}")
                return
            if sym in self.b.values:
                if self.b.values[sym] != act.value:
                    raise Mismatch(f"{path}: {sym} is {self.b.values[sym]!r}, got {act.value!r}")
                return
            self.b.values[sym] = act.value
            return
        if exp.tag in FREE_VALUES:
            return
        if (
            exp.tag in MATERIAL_TAGS
            and isinstance(exp.value, bytes)
            and exp.value not in self.b.sent_material
        ):
            if len(exp.value) != len(act.value):
                raise Mismatch(
                    f"{path}: generated key material of {len(act.value)} bytes, expected {len(exp.value)}"
                )
            return
        if exp.value != act.value:
            shown = "<key material>" if exp.tag == Tag.KEY_MATERIAL else f"{act.value!r}"
            expected = "<key material>" if exp.tag == Tag.KEY_MATERIAL else f"{exp.value!r}"
            raise Mismatch(f"{path}: value {shown}, expected {expected}")

    # -- structures -----------------------------------------------------------------
    def item(self, exp: Item, act: Item, path: str, op: int | None = None) -> None:
        if exp.tag != act.tag:
            raise Mismatch(f"{path}: tag {_name(act.tag)}, expected {_name(exp.tag)}")
        here = f"{path}/{_name(exp.tag)}"
        if exp.type != ItemType.STRUCTURE or act.type != ItemType.STRUCTURE:
            self.leaf(exp, act, here)
            return
        if exp.tag in FREE_VALUES:
            return
        if exp.tag == Tag.ATTRIBUTE and _attribute_name(exp) in FREE_ATTRIBUTE_NAMES:
            if _attribute_name(act) != _attribute_name(exp):
                raise Mismatch(
                    f"{here}: attribute {_attribute_name(act)!r}, expected {_attribute_name(exp)!r}"
                )
            return
        if exp.tag == Tag.PROTOCOL_VERSION and path.endswith("RESPONSE_HEADER") and self.request_version:
            # A response is framed in the request's protocol version (SPEC-1.4 section 6.1, every
            # OASIS vector but one: OMOS-O-1-14 step 1 answers a 1.4 request with 1.3).
            exp = self.request_version
        exp_children = [c for c in exp.value if c.tag not in OPTIONAL_FIELDS]
        act_children = [c for c in act.value if c.tag not in OPTIONAL_FIELDS]
        if exp.tag == Tag.BATCH_ITEM:
            op = _operation_of(act)
            self._check_result_message(exp, act, here)
        if exp.tag == Tag.RESPONSE_PAYLOAD and op in SUBSET_OPERATIONS:
            self.subset(exp_children, act_children, here, op)
            return
        if exp.tag == Tag.ATTRIBUTES and op in SUBSET_OPERATIONS:
            self.subset(exp_children, act_children, here, op)
            return
        if exp.tag == Tag.RESPONSE_PAYLOAD and op in ORDER_FREE_OPERATIONS:
            self.order_free(exp_children, act_children, here)
            return
        self.sequence(exp_children, act_children, here, op)

    def sequence(self, exp: list[Item], act: list[Item], path: str, op: int | None) -> None:
        for i, (e, a) in enumerate(zip(exp, act)):
            if e.tag != a.tag:
                raise Mismatch(
                    f"{path}[{i}]: found {_name(a.tag)}, expected {_name(e.tag)}"
                    f" (expected fields {_names(exp)}, got {_names(act)})"
                )
            self.item(e, a, path, op)
        if len(exp) != len(act):
            raise Mismatch(
                f"{path}: {len(act)} fields, expected {len(exp)}: got {_names(act)}, expected {_names(exp)}"
            )

    def subset(self, exp: list[Item], act: list[Item], path: str, op: int | None = None) -> None:
        """Every expected child matches a distinct actual child; extra actual children allowed."""
        remaining = list(act)
        for e in exp:
            for j, a in enumerate(remaining):
                if a.tag != e.tag:
                    continue
                trial = Matcher(self.b.copy(), self.request_version)
                try:
                    trial.item(e, a, path, op)
                except Mismatch:
                    continue
                self.b.values = trial.b.values
                del remaining[j]
                break
            else:
                raise Mismatch(f"{path}: no match for expected {_describe(e)}")

    def order_free(self, exp: list[Item], act: list[Item], path: str) -> None:
        """Like ``sequence`` but identifiers may come back in any order (Locate)."""
        exp_ids = [e for e in exp if e.tag == Tag.UNIQUE_IDENTIFIER]
        act_ids = [a for a in act if a.tag == Tag.UNIQUE_IDENTIFIER]
        if len(exp_ids) != len(act_ids):
            raise Mismatch(f"{path}: {len(act_ids)} identifiers, expected {len(exp_ids)}")
        bound = all(_symbol_text(e.value) in self.b.values or _symbol_text(e.value) is None for e in exp_ids)
        if bound:
            self.subset(exp_ids, act_ids, path)
        else:
            self.sequence(exp_ids, act_ids, path, None)
        rest_exp = [e for e in exp if e.tag != Tag.UNIQUE_IDENTIFIER]
        rest_act = [a for a in act if a.tag != Tag.UNIQUE_IDENTIFIER]
        self.sequence(rest_exp, rest_act, path, None)

    def _check_result_message(self, exp: Item, act: Item, path: str) -> None:
        """Report a different Result Status with the operation and Result Reason, not as a bare number.

        The Result Message is free text: it is never compared.
        """
        want, got = _field(exp, Tag.RESULT_STATUS), _field(act, Tag.RESULT_STATUS)
        if want is None or got is None or want.value == got.value or isinstance(want.value, Symbol):
            return
        op = _operation_of(act)
        reason = _field(act, Tag.RESULT_REASON)
        raise Mismatch(
            f"{path}: {_enum_name(Operation, op)} answered {_enum_name(ResultStatus, got.value)}"
            f" ({_enum_name(ResultReason, reason.value if reason else None)}),"
            f" expected {_enum_name(ResultStatus, want.value)}"
        )


def _field(item: Item, tag: int) -> Item | None:
    children: tuple[Item, ...] = item.value
    return next((child for child in children if child.tag == tag), None)


def _enum_name(cls: type[IntEnum], value: object) -> str:
    try:
        return cls(value).name  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return str(value)


def _attribute_name(attribute: Item) -> object:
    for child in attribute.value:
        if child.tag == Tag.ATTRIBUTE_NAME:
            return child.value
    return None


def _request_version(request: Item) -> Item | None:
    header = _field(request, Tag.REQUEST_HEADER)
    return _field(header, Tag.PROTOCOL_VERSION) if header is not None else None


def _operation_of(batch_item: Item) -> int | None:
    for child in batch_item.value:
        if child.tag == Tag.OPERATION:
            return int(child.value)
    return None


def _name(tag: int) -> str:
    try:
        return Tag(tag).name
    except ValueError:
        return f"0x{tag:06X}"


def _names(items: list[Item]) -> str:
    return ",".join(_name(i.tag) for i in items)


def _describe(item: Item) -> str:
    if item.type == ItemType.STRUCTURE:
        inner = ",".join(_describe(c) for c in item.value[:3])
        return f"{_name(item.tag)}{{{inner}}}"
    return f"{_name(item.tag)}={item.value!r}"


def pair_steps(messages: list[Item]) -> list[tuple[Item, Item]]:
    """(request, expected response) pairs of one test case's messages."""
    requests = [m for m in messages if m.tag == Tag.REQUEST_MESSAGE]
    responses = [m for m in messages if m.tag == Tag.RESPONSE_MESSAGE]
    if len(requests) != len(responses):
        raise ValueError(f"{len(requests)} requests but {len(responses)} responses")
    return list(zip(requests, responses))


def steps_of(path: Path) -> Iterator[tuple[Item, Item]]:
    yield from pair_steps(load_test_case(path))


def replay_file(path: Path, exchange: Exchange, now: Callable[[], float] = time.time) -> FileResult:
    """Replay every step of one file; stop at the first failing step (later steps depend on it)."""
    return replay_case(path, lambda: load_test_case(path), exchange, now)


def replay_case(
    source: Path,
    load: Callable[[], list[Item]],
    exchange: Exchange,
    now: Callable[[], float] = time.time,
) -> FileResult:
    """Replay the messages ``load()`` gives (a file, or a case printed in a profile document)."""
    result = FileResult(source)
    bindings = Bindings(now)
    try:
        steps = pair_steps(load())
    except Exception as exc:  # a case the loader cannot read is reported, not raised
        result.error = f"cannot load test case: {type(exc).__name__}: {exc}"
        return result
    for index, (request, expected) in enumerate(steps):
        try:
            bound = bind_request(request, bindings)
            bindings.remember_request(bound)
            wire = encode(bound)
        except Exception as exc:
            result.steps.append(StepResult(index, False, f"cannot bind/encode request: {exc}"))
            break
        try:
            answer = exchange(wire)
        except Exception as exc:
            result.steps.append(StepResult(index, False, f"exchange failed: {type(exc).__name__}: {exc}"))
            break
        try:
            actual = decode(answer)
        except DecodeError as exc:
            result.steps.append(StepResult(index, False, f"undecodable response: {exc}"))
            break
        try:
            Matcher(bindings, _request_version(bound)).item(expected, actual, "")
        except Mismatch as exc:
            result.steps.append(StepResult(index, False, str(exc)))
            break
        result.steps.append(StepResult(index, True))
    return result
