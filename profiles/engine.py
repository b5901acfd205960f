"""The KMIP engine: a request message in, a response message out, in the request's version.

Sans-IO: no sockets, time and randomness are parameters. The server calls :meth:`Engine.handle`
(bytes) or :meth:`Engine.handle_logged` (bytes plus what to log); tests may call
:meth:`Engine.handle_message` with an :class:`~agent.ttlv.Item` tree.

What it implements (section numbers of SPEC-1.4 unless noted, 2.x in SPEC-2.1):

* protocol version: answer in the request's version; a newer minor of a known major is
  answered in our newest minor of that major (§6.1 "backward compatibility with versions of the
  same major version"); an unknown major gets a header and one Batch Item without Operation,
  Operation Failed / Invalid Message (§11.1 Table 327); so does a message that cannot be parsed;
* batches (§6.12-6.15, §11.43): items run in order (valid whatever Batch Order
  Option says); Batch Error Continuation Option Stop (default: the failed item is the last one
  returned), Continue, Undo (every processed item is rolled back and answered Operation Undone,
  SPEC-2.1 BL-M-2-21); ID Placeholder (§4); Unique Batch Item ID echoed;
* Maximum Response Size: a response larger than it is replaced by Response Too Large items;
* Message Extension: a critical extension is refused for the whole message (SPEC-2.1 §9.14
  "the receiver SHALL reject the entire message"), a non-critical one ignored;
* errors: a KmipError becomes its Result Reason mapped to the request's version
  (agent.errors.reason_for_version); anything else General Failure with a fixed text, the
  traceback is logged locally only. Key material never reaches a log or a Result Message.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.errors import KmipError, reason_for_version
from agent.spec import (
    V1_0,
    V2_0,
    V2_1,
    BatchErrorContinuationOption,
    ItemType,
    Operation,
    ResultReason,
    ResultStatus,
    Tag,
    Version,
    enum_value_name,
)
from agent.ttlv import DecodeError, Item, decode, encode
from profiles.catalog import SUPPORTED_VERSIONS, Catalog
from profiles.entropy import new_uuid, random_bytes
from profiles.operations import HANDLERS
from profiles.operations.base import (
    Context,
    EngineConfig,
    Services,
    children,
    enum,
    fail,
    integer,
    one,
    struct,
    text,
)
from profiles.policy import Policy
from profiles.store.base import NonUniqueKey, Storage

__all__ = ["Engine", "EngineConfig", "ItemLog", "RequestLog"]

log = logging.getLogger("keyshelf.engine")

R = ResultReason
BECO = BatchErrorContinuationOption


@dataclass(frozen=True)
class ItemLog:
    """What the server logs about one batch item (never key material)."""

    operation: str  # "Create", or "?" when the item had none
    unique_identifiers: tuple[str, ...]
    status: str  # "Success", "Operation Failed", "Operation Undone"
    reason: str | None = None  # "Item Not Found", ...


@dataclass(frozen=True)
class RequestLog:
    """What the server logs about one request message."""

    identity: str
    version: str  # "1.4"
    items: tuple[ItemLog, ...]
    elapsed_ms: float
    client_correlation: str | None = None


@dataclass
class _Result:
    operation: int | None
    batch_id: bytes | None
    status: ResultStatus
    reason: ResultReason | None = None
    message: str | None = None
    payload: list[Item] | None = None
    uids: tuple[str, ...] = ()


class _Undo(Exception):
    """Leaves the batch transaction so that the store rolls it back."""


class _MessageError(Exception):
    def __init__(self, version: Version, reason: ResultReason, message: str) -> None:
        super().__init__(message)
        self.version = version
        self.reason = reason
        self.message = message


def _op_name(value: int | None) -> str:
    if value is None:
        return "?"
    return enum_value_name(Operation, value, xml=False) or f"0x{value:08X}"


def engine_config_from(config: Any) -> EngineConfig:
    """An EngineConfig from the server's ServerConfig (profiles, admins, batch limit)."""
    if isinstance(config, EngineConfig):
        return config
    if config is None:
        return EngineConfig()
    kwargs: dict[str, Any] = {}
    if getattr(config, "profiles", None):
        kwargs["profiles"] = tuple(config.profiles)
    if getattr(config, "admins", None) is not None:
        kwargs["admins"] = frozenset(config.admins)
    limits = getattr(config, "limits", None)
    if limits is not None and getattr(limits, "max_batch_items", None):
        kwargs["max_batch_items"] = int(limits.max_batch_items)
    return EngineConfig(**kwargs)


class Engine:
    """A profile-limited KMIP server core over a :class:`Storage`."""

    def __init__(
        self,
        config: EngineConfig | Any = None,
        store: Storage | None = None,
        keyprotect: object | None = None,
        clock: Callable[[], float] = time.time,
        *,
        random: Callable[[int], bytes] = random_bytes,
        new_uid: Callable[[], str] = new_uuid,
        timer: Callable[[], float] = time.perf_counter,
        handlers: Mapping[Operation, Any] | None = None,
    ) -> None:
        cfg = engine_config_from(config)
        if store is None:
            from profiles.store import open_store

            store = open_store("memory:")
        self.config = cfg
        self.store = store
        self.keyprotect = keyprotect  # the store wraps material; kept for the documented signature
        self.services = Services(
            config=cfg,
            store=store,
            catalog=Catalog(cfg.profiles),
            policy=Policy(cfg.admins),
            clock=clock,
            random=random,
            new_uid=new_uid,
        )
        self.handlers = dict(handlers if handlers is not None else HANDLERS)
        self._timer = timer
        self._name_lock = threading.Lock()

    # ---------------------------------------------------------------- entry points
    def handle(self, data: bytes, identity: str) -> bytes:
        """A TTLV request in, a TTLV response out. Never raises."""
        return self.handle_logged(data, identity)[0]

    def handle_logged(self, data: bytes, identity: str) -> tuple[bytes, RequestLog]:
        """Like :meth:`handle`, plus the request's log record."""
        start = self._timer()
        try:
            try:
                msg = decode(data)
            except DecodeError:
                version = _sniff_version(data)
                response = self._error_message(version, R.INVALID_MESSAGE, "message cannot be parsed")
                entry = RequestLog(
                    identity, str(version), (ItemLog("?", (), "Operation Failed", "Invalid Message"),), 0.0
                )
            else:
                response, entry = self._process(msg, identity)
            out = encode(response)
        except Exception:  # pragma: no cover - last resort, the engine must answer
            log.exception("internal error while handling a request")
            response = self._error_message(V1_0, R.GENERAL_FAILURE, "internal server error")
            out = encode(response)
            entry = RequestLog(identity, "?", (ItemLog("?", (), "Operation Failed", "General Failure"),), 0.0)
        elapsed = (self._timer() - start) * 1000.0
        return out, RequestLog(entry.identity, entry.version, entry.items, elapsed, entry.client_correlation)

    def handle_message(self, msg: Item, identity: str) -> Item:
        """A Request Message item in, a Response Message item out. Never raises."""
        try:
            return self._process(msg, identity)[0]
        except Exception:  # pragma: no cover - last resort, the engine must answer
            log.exception("internal error while handling a request")
            return self._error_message(_find_version(msg), R.GENERAL_FAILURE, "internal server error")

    # ---------------------------------------------------------------- message level
    def _now(self) -> int:
        return int(self.services.clock())

    def _process(self, msg: Item, identity: str) -> tuple[Item, RequestLog]:
        try:
            header, items, version, requested = self._parse_message(msg)
        except _MessageError as exc:
            response = self._error_message(exc.version, exc.reason, exc.message)
            reason = enum_value_name(ResultReason, reason_for_version(exc.reason, exc.version), xml=False)
            return response, RequestLog(
                identity, str(exc.version), (ItemLog("?", (), "Operation Failed", reason),), 0.0
            )
        ctx = Context(self.services, version, identity, self._now())
        ctx.request_version = requested  # = _requested_version(msg)
        correlation = _opt_text(header, Tag.CLIENT_CORRELATION_VALUE)

        option = _opt_int(header, Tag.BATCH_ERROR_CONTINUATION_OPTION) or BECO.STOP
        critical = any(_critical_extension(bi) for bi in items)
        if critical:
            # SPEC-2.1 §9.14: a critical extension not understood rejects the entire message;
            # SPEC-1.4 Table 327: Feature Not Supported.
            refusal = R.UNKNOWN_MESSAGE_EXTENSION if version >= V2_0 else R.FEATURE_NOT_SUPPORTED
            results = [
                _Result(
                    _item_op(bi), _item_id(bi), ResultStatus.OPERATION_FAILED, refusal, "critical extension"
                )
                for bi in items
            ]
        elif option in (BECO.UNDO, BECO.STOP, BECO.CONTINUE):
            # Names are unique server-wide (SPEC-1.4 §3.2): batches that may write a Name run one
            # at a time in this process, so that two of them cannot both find a Name free. The
            # lock is taken before any store transaction of the batch (no lock-order inversion).
            # It is released once the batch is committed, before the wait for the disk
            # (Storage.durability_scope), so that one fsync covers the batches queued behind it.
            writes_names = any(_item_op(bi) in _NAME_WRITERS for bi in items)
            name_lock = self._name_lock if writes_names else contextlib.nullcontext()
            with self.store.durability_scope(), name_lock:
                if option == BECO.UNDO:
                    results = self._run_undo(ctx, items)
                else:
                    results = self._run(ctx, items, stop=option == BECO.STOP)
        else:
            results = [
                _Result(
                    _item_op(bi), _item_id(bi), ResultStatus.OPERATION_FAILED, R.INVALID_FIELD, "bad option"
                )
                for bi in items
            ]

        response = self._response(version, ctx.now, results)
        max_size = _opt_int(header, Tag.MAXIMUM_RESPONSE_SIZE)
        if max_size is not None and len(encode(response)) > max_size:
            # SPEC-1.4 §11.1 Table 327: Maximum Response Size exceeded -> Response Too Large
            results = [
                _Result(
                    r.operation, r.batch_id, ResultStatus.OPERATION_FAILED, R.RESPONSE_TOO_LARGE, "too large"
                )
                for r in results
            ]
            response = self._response(version, ctx.now, results)
        entry = RequestLog(
            identity,
            str(version),
            tuple(
                ItemLog(
                    _op_name(r.operation),
                    r.uids,
                    enum_value_name(ResultStatus, r.status, xml=False) or str(int(r.status)),
                    None if r.reason is None else enum_value_name(ResultReason, r.reason, xml=False),
                )
                for r in results
            ),
            0.0,
            correlation,
        )
        return response, entry

    def _parse_message(self, msg: Item) -> tuple[Item, list[Item], Version, Version]:
        """(header, batch items, the version to answer in, the version the request names)."""
        if msg.tag != Tag.REQUEST_MESSAGE or msg.type != ItemType.STRUCTURE:
            raise _MessageError(_find_version(msg), R.INVALID_MESSAGE, "not a request message")
        try:
            header = one(msg, Tag.REQUEST_HEADER, kind=ItemType.STRUCTURE)
            pv = one(header, Tag.PROTOCOL_VERSION, kind=ItemType.STRUCTURE)
            major = one(pv, Tag.PROTOCOL_VERSION_MAJOR, kind=ItemType.INTEGER)
            minor = one(pv, Tag.PROTOCOL_VERSION_MINOR, kind=ItemType.INTEGER)
        except KmipError:
            raise _MessageError(_find_version(msg), R.INVALID_MESSAGE, "malformed header") from None
        if header is None or major is None or minor is None:
            raise _MessageError(_find_version(msg), R.INVALID_MESSAGE, "malformed header")
        version = _answer_version(int(major.value), int(minor.value))
        if version is None:
            # SPEC-1.4 §11.1 Table 327: protocol major version mismatch
            fallback = V2_1 if int(major.value) > 2 else V1_0
            raise _MessageError(fallback, R.INVALID_MESSAGE, "protocol version not supported")
        seen: set[int] = set()
        for c in header.value:
            if c.tag in _HEADER_SINGLE:
                if c.tag in seen:
                    raise _MessageError(version, R.INVALID_MESSAGE, "malformed header")
                seen.add(c.tag)
        try:
            count = one(header, Tag.BATCH_COUNT, kind=ItemType.INTEGER)
        except KmipError:
            raise _MessageError(version, R.INVALID_MESSAGE, "malformed header") from None
        items = children(msg, Tag.BATCH_ITEM)
        if count is None or int(count.value) != len(items) or not items:
            raise _MessageError(version, R.INVALID_MESSAGE, "Batch Count does not match the batch items")
        if len(items) > self.config.max_batch_items:
            raise _MessageError(version, R.INVALID_MESSAGE, "too many batch items")
        if any(bi.type != ItemType.STRUCTURE for bi in items):
            raise _MessageError(version, R.INVALID_MESSAGE, "malformed batch item")
        return header, items, version, Version(int(major.value), int(minor.value))

    # ---------------------------------------------------------------- batch level
    def _run(self, ctx: Context, items: Sequence[Item], *, stop: bool) -> list[_Result]:
        results: list[_Result] = []
        # One store transaction for the message (one durable commit per request); each item runs
        # in a nested scope of its own, so a failed item leaves no partial change behind while
        # the items before it are kept (Stop / Continue, SPEC-1.4 §6.13).
        with self.store.transaction():
            for bi in items:
                r = self._run_item(ctx, bi)
                results.append(r)
                if stop and r.status == ResultStatus.OPERATION_FAILED:
                    break  # SPEC-1.4 §6.13 Stop: later items are neither processed nor returned
        return results

    def _run_undo(self, ctx: Context, items: Sequence[Item]) -> list[_Result]:
        results: list[_Result] = []
        try:
            with self.store.transaction():
                for bi in items:
                    r = self._run_item(ctx, bi)
                    results.append(r)
                    if r.status == ResultStatus.OPERATION_FAILED:
                        raise _Undo
        except _Undo:
            # SPEC-1.4 §6.13 Undo: earlier items are undone and answered Operation Undone
            for r in results[:-1]:
                r.status = ResultStatus.OPERATION_UNDONE
        return results

    def _run_item(self, ctx: Context, bi: Item) -> _Result:
        op_value = _item_op(bi)
        batch_id = _item_id(bi)
        ctx.touched = []
        try:
            op_item = one(bi, Tag.OPERATION, kind=ItemType.ENUMERATION)
            one(bi, Tag.UNIQUE_BATCH_ITEM_ID, kind=ItemType.BYTE_STRING)
            payload = one(bi, Tag.REQUEST_PAYLOAD, kind=ItemType.STRUCTURE)
            if op_item is None:
                raise fail(R.INVALID_MESSAGE, "batch item without Operation")
            try:
                op = Operation(int(op_item.value))
            except ValueError:
                raise fail(R.OPERATION_NOT_SUPPORTED, "operation not supported") from None
            handler = self.handlers.get(op)
            if handler is None or not self.services.catalog.supports_operation(op, ctx.version):
                raise fail(R.OPERATION_NOT_SUPPORTED, "operation not supported")
            if payload is None:
                raise fail(R.INVALID_MESSAGE, "batch item without Request Payload")
            ctx.operation = op
            with self.store.transaction():
                try:
                    out = handler(ctx, payload)
                except NonUniqueKey:
                    # the handler's Name check passed, but another process on the same database
                    # stored the Name before our write: the store refused it (SPEC-1.4 §3.2)
                    raise fail(_name_taken_reason(ctx), "Name is not unique") from None
            return _Result(op_value, batch_id, ResultStatus.SUCCESS, payload=out, uids=tuple(ctx.touched))
        except KmipError as exc:
            if op_value in _PLACEHOLDER_SETTERS:
                # an operation that would have set the ID Placeholder failed: later items must not
                # act on an object from before it (they fail instead)
                ctx.placeholder = None
            reason = reason_for_version(exc.reason, ctx.version)
            return _Result(
                op_value,
                batch_id,
                ResultStatus.OPERATION_FAILED,
                reason,
                exc.message or None,
                uids=tuple(ctx.touched),
            )
        except Exception:
            log.exception("internal error in %s", _op_name(op_value))
            return _Result(
                op_value,
                batch_id,
                ResultStatus.OPERATION_FAILED,
                R.GENERAL_FAILURE,
                "internal server error",
                uids=tuple(ctx.touched),
            )

    # ---------------------------------------------------------------- response building
    def _header(self, version: Version, now: int, count: int) -> Item:
        return struct(
            Tag.RESPONSE_HEADER,
            (
                _version_item(version),
                Item(Tag.TIME_STAMP, ItemType.DATE_TIME, now),
                integer(Tag.BATCH_COUNT, count),
            ),
        )

    def _response(self, version: Version, now: int, results: Sequence[_Result]) -> Item:
        batch: list[Item] = []
        for r in results:
            fields: list[Item] = []
            if r.operation is not None:
                fields.append(enum(Tag.OPERATION, r.operation))
            if r.batch_id is not None:
                fields.append(Item(Tag.UNIQUE_BATCH_ITEM_ID, ItemType.BYTE_STRING, r.batch_id))
            fields.append(enum(Tag.RESULT_STATUS, r.status))
            if r.reason is not None:
                fields.append(enum(Tag.RESULT_REASON, reason_for_version(r.reason, version)))
            if r.message:
                fields.append(text(Tag.RESULT_MESSAGE, r.message))
            if r.payload is not None and r.status != ResultStatus.OPERATION_FAILED:
                fields.append(struct(Tag.RESPONSE_PAYLOAD, r.payload))
            batch.append(struct(Tag.BATCH_ITEM, fields))
        return struct(Tag.RESPONSE_MESSAGE, (self._header(version, now, len(batch)), *batch))

    def _error_message(self, version: Version, reason: ResultReason, message: str) -> Item:
        """Header and one Batch Item without Operation (SPEC-1.4 §11.1 Table 327)."""
        item = struct(
            Tag.BATCH_ITEM,
            (
                enum(Tag.RESULT_STATUS, ResultStatus.OPERATION_FAILED),
                enum(Tag.RESULT_REASON, reason_for_version(reason, version)),
                text(Tag.RESULT_MESSAGE, message),
            ),
        )
        return struct(Tag.RESPONSE_MESSAGE, (self._header(version, self._now(), 1), item))


# SPEC-1.4 §4 / SPEC-2.1 §6.1: the operations whose result is copied into the ID Placeholder
_PLACEHOLDER_SETTERS = {
    Operation.CREATE,
    Operation.REGISTER,
    Operation.RE_KEY,
    Operation.LOCATE,
    Operation.RECOVER,
}

_NAME_WRITERS = {
    Operation.CREATE,
    Operation.REGISTER,
    Operation.RE_KEY,
    Operation.ADD_ATTRIBUTE,
    Operation.MODIFY_ATTRIBUTE,
    Operation.SET_ATTRIBUTE,
}

_ATTRIBUTE_WRITERS = {Operation.ADD_ATTRIBUTE, Operation.MODIFY_ATTRIBUTE, Operation.SET_ATTRIBUTE}


def _name_taken_reason(ctx: Context) -> ResultReason:
    """What operations.objects.check_name_unique answers for a Name in use: 2.x Non Unique Name
    Attribute; 1.x Illegal Operation for the attribute operations (SPEC-1.4 Tables 341/342),
    Invalid Field for the ones creating an object (Tables 328/330)."""
    if ctx.v2:
        return R.NON_UNIQUE_NAME_ATTRIBUTE
    return R.ILLEGAL_OPERATION if ctx.operation in _ATTRIBUTE_WRITERS else R.INVALID_FIELD


_HEADER_SINGLE = frozenset(  # at most once in a Request Header
    {
        Tag.MAXIMUM_RESPONSE_SIZE,
        Tag.ASYNCHRONOUS_INDICATOR,
        Tag.AUTHENTICATION,
        Tag.BATCH_ERROR_CONTINUATION_OPTION,
        Tag.BATCH_ORDER_OPTION,
        Tag.TIME_STAMP,
        Tag.CLIENT_CORRELATION_VALUE,
        Tag.SERVER_CORRELATION_VALUE,
    }
)


def _answer_version(major: int, minor: int) -> Version | None:
    """The version to answer a request of ``major.minor`` in, or None for another major."""
    asked = Version(major, minor)
    if asked in SUPPORTED_VERSIONS:
        return asked
    same_major = [v for v in SUPPORTED_VERSIONS if v.major == major]
    if not same_major or minor < 0:
        return None
    return max(same_major)  # a newer minor: answer in our newest minor of that major


def _version_item(version: Version) -> Item:
    return struct(
        Tag.PROTOCOL_VERSION,
        (
            integer(Tag.PROTOCOL_VERSION_MAJOR, version.major),
            integer(Tag.PROTOCOL_VERSION_MINOR, version.minor),
        ),
    )


def _find_version(msg: Item) -> Version:
    """Best effort: the request's protocol version if it can be read, else 1.0."""
    try:
        for h in msg.value if msg.type == ItemType.STRUCTURE else ():
            if h.tag == Tag.REQUEST_HEADER and h.type == ItemType.STRUCTURE:
                for pv in h.value:
                    if pv.tag == Tag.PROTOCOL_VERSION and pv.type == ItemType.STRUCTURE:
                        vals = {c.tag: c.value for c in pv.value if c.type == ItemType.INTEGER}
                        v = _answer_version(
                            int(vals.get(Tag.PROTOCOL_VERSION_MAJOR, -1)),
                            int(vals.get(Tag.PROTOCOL_VERSION_MINOR, -1)),
                        )
                        if v is not None:
                            return v
    except Exception:  # pragma: no cover - defensive; any shape is possible here
        pass
    return V1_0


_PV_PATTERN = bytes.fromhex("42006a0200000004")


def _sniff_version(data: bytes) -> Version:
    """The protocol version of an undecodable message, read from its raw bytes if possible
    (digest §1.2: frame the Invalid Message answer in the request's version where it can be read)."""
    at = data.find(_PV_PATTERN)
    if at < 0 or len(data) < at + 32:
        return V1_0
    major = int.from_bytes(data[at + 8 : at + 12], "big", signed=True)
    minor_at = at + 16
    if data[minor_at : minor_at + 8] != bytes.fromhex("42006b0200000004"):
        return V1_0
    minor = int.from_bytes(data[minor_at + 8 : minor_at + 12], "big", signed=True)
    v = _answer_version(major, minor)
    if v is None:
        return V2_1 if major > 2 else V1_0
    return v


def _opt_int(header: Item, tag: int) -> int | None:
    for c in header.value:
        if c.tag == tag and isinstance(c.value, int) and not isinstance(c.value, bool):
            return int(c.value)
    return None


def _opt_text(header: Item, tag: int) -> str | None:
    for c in header.value:
        if c.tag == tag and c.type == ItemType.TEXT_STRING:
            return str(c.value)
    return None


def _item_op(bi: Item) -> int | None:
    if bi.type != ItemType.STRUCTURE:
        return None
    for c in bi.value:
        if c.tag == Tag.OPERATION and c.type == ItemType.ENUMERATION:
            return int(c.value)
    return None


def _item_id(bi: Item) -> bytes | None:
    if bi.type != ItemType.STRUCTURE:
        return None
    for c in bi.value:
        if c.tag == Tag.UNIQUE_BATCH_ITEM_ID and c.type == ItemType.BYTE_STRING:
            return bytes(c.value)
    return None


def _critical_extension(bi: Item) -> bool:
    for ext in children(bi, Tag.MESSAGE_EXTENSION):
        for c in ext.value if ext.type == ItemType.STRUCTURE else ():
            if c.tag == Tag.CRITICALITY_INDICATOR and c.value is True:
                return True
    return False
