"""Sans-IO KMIP protocol pieces: no sockets, no asyncio, no clocks.

``Framer`` cuts a TTLV byte stream (TLS, or an HTTPS body) into whole messages. A message is
one top-level Structure, Request Message (0x420078) or Response Message (0x42007B), so its
8-byte header (Tag, Type, Length; KMIP 1.4 section 9.1.1, KMIP 2.1 section 10.1) says how
many bytes follow. The header is checked as soon as its 8 bytes are in, before any of the
body is buffered, so an oversized or malformed message is refused without reading it.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from agent.errors import KmipError, error_for
from agent.model import (
    PAYLOADS,
    DiscoverVersionsRequest,
    ProtocolVersion,
    RequestBatchItem,
    RequestHeader,
    RequestMessage,
    RequestPayload,
    decode_response,
    encode_message,
)
from agent.spec import (
    BatchErrorContinuationOption,
    ItemType,
    Operation,
    ResultReason,
    ResultStatus,
    Version,
)
from agent.ttlv import MAX_SIZE, DecodeError, Item

__all__ = [
    "CREATING_OPERATIONS",
    "BatchResult",
    "ClientSession",
    "Framer",
    "Pending",
    "ResponseMismatch",
]

_HEADER: Final = struct.Struct(">II")  # Tag(3) and Type(1) as one word, then Length
_HEADER_SIZE: Final = _HEADER.size
_TAG_PREFIXES: Final = (0x42, 0x54)  # KMIP 1.4 section 9.1.1.1
# request payload class -> its Operation: the inverse of the model's PAYLOADS table
_OPERATION_OF: Final[dict[type, Operation]] = {
    request: Operation(op) for op, (request, _) in PAYLOADS.items()
}


class Framer:
    """Split a byte stream into whole TTLV messages.

    ``max_size`` bounds a whole message (header included), in bytes. ``expect_tags``, if
    given, is the set of acceptable top-level tags (e.g. ``{Tag.REQUEST_MESSAGE}`` on a
    server, ``{Tag.RESPONSE_MESSAGE}`` on a client).

    A bad header raises ``DecodeError``; the framer then stays failed and every later
    ``feed`` raises too, because the stream can no longer be split reliably (KMIP 2.1
    section 10.1, "Codec Error": such connections should be closed).
    """

    def __init__(self, max_size: int = MAX_SIZE, expect_tags: Collection[int] | None = None) -> None:
        if max_size < _HEADER_SIZE:
            raise ValueError("max_size must leave room for at least a TTLV header")
        self.max_size = max_size
        self.expect_tags: frozenset[int] | None = None if expect_tags is None else frozenset(expect_tags)
        self._buffer = bytearray()
        self._need = 0  # size of the message whose header has been checked, 0 if none yet
        self._error: DecodeError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received that are not yet part of a returned message."""
        return len(self._buffer)

    @property
    def failed(self) -> bool:
        """True once a bad header has been seen; the connection should be closed."""
        return self._error is not None

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next bytes of the stream; return the messages they complete, in order."""
        if self._error is not None:
            raise DecodeError("the stream already failed to frame")
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        start = 0
        available = len(buffer)
        while True:
            if not self._need:
                if available - start < _HEADER_SIZE:
                    break
                self._need = self._check_header(buffer, start)
            end = start + self._need
            if end > available:
                break
            messages.append(bytes(buffer[start:end]))
            start = end
            self._need = 0
        if start:
            del buffer[:start]
        return messages

    def _check_header(self, buffer: bytearray, start: int) -> int:
        word: int
        length: int
        word, length = _HEADER.unpack_from(buffer, start)
        tag, item_type = word >> 8, word & 0xFF
        problem = None
        if tag >> 16 not in _TAG_PREFIXES:
            problem = "bad tag"
        elif self.expect_tags is not None and tag not in self.expect_tags:
            problem = "unexpected message tag"
        elif item_type != ItemType.STRUCTURE:
            problem = "a message is a Structure"
        elif length % 8:
            problem = "a Structure's length is a multiple of 8"
        elif _HEADER_SIZE + length > self.max_size:
            problem = "message larger than the size bound"
        if problem is not None:
            self._error = DecodeError(problem)
            del buffer[:]
            raise self._error
        return _HEADER_SIZE + length


# ---------------------------------------------------------------------------------------------
# Client session (sans-IO): request messages out, batch results in.
# Message structure: SPEC-1.4 §7.1 Tables 280-285, SPEC-2.1 §8 Tables 395-398.
# ---------------------------------------------------------------------------------------------

#: operations that make new managed objects: never resent blindly after a transport failure
CREATING_OPERATIONS: Final[frozenset[Operation]] = frozenset(
    {
        Operation.CREATE,
        Operation.CREATE_KEY_PAIR,
        Operation.REGISTER,
        Operation.RE_KEY,
        Operation.RE_KEY_KEY_PAIR,
        Operation.DERIVE_KEY,
        Operation.CERTIFY,
        Operation.RE_CERTIFY,
        Operation.CREATE_SPLIT_KEY,
        Operation.JOIN_SPLIT_KEY,
        Operation.IMPORT,
    }
)


class ResponseMismatch(Exception):
    """The peer's message is well-formed TTLV but not a valid response to the request sent
    (wrong message tag, missing header, batch items that do not correlate). A remote error."""


@dataclass(frozen=True)
class Pending:
    """What a request sent expects back: its version and batch items (by Unique Batch Item ID)."""

    version: Version
    operations: tuple[Operation, ...]
    ids: tuple[bytes | None, ...]


@dataclass(frozen=True)
class BatchResult:
    """One response batch item: status, reason, message and the typed payload (None on failure)."""

    operation: Operation | None
    status: ResultStatus | None  # None: the server did not return this item (an earlier item failed)
    reason: ResultReason | None = None
    message: str = ""
    payload: Any = field(default=None, repr=False)  # may hold key material: never in a repr/log

    @property
    def ok(self) -> bool:
        return self.status == ResultStatus.SUCCESS

    @property
    def operation_not_supported(self) -> bool:
        return self.reason == ResultReason.OPERATION_NOT_SUPPORTED

    def error(self) -> KmipError | None:
        """The typed error this item stands for (SPEC-1.4 §6.9-6.11), or None on success."""
        if self.ok:
            return None
        if self.status is None:
            return error_for(ResultReason.GENERAL_FAILURE, "batch item not processed")
        if self.status == ResultStatus.OPERATION_PENDING:
            return error_for(ResultReason.FEATURE_NOT_SUPPORTED, "asynchronous result not supported")
        reason = self.reason if self.reason is not None else ResultReason.GENERAL_FAILURE
        text = self.message or ("operation undone" if self.status == ResultStatus.OPERATION_UNDONE else "")
        return error_for(reason, text)

    def value(self) -> Any:
        """The payload, or raise the item's typed error."""
        err = self.error()
        if err is not None:
            raise err
        return self.payload


class ClientSession:
    """Builds request messages and correlates their responses; no I/O, no clock.

    ``max_response_size`` is sent as Maximum Response Size (SPEC-1.4 §6.3) when set.
    """

    def __init__(self, *, max_response_size: int | None = None) -> None:
        self.max_response_size = max_response_size

    def operation_of(self, payload: object) -> Operation:
        """The Operation whose request payload class ``payload`` is."""
        try:
            return _OPERATION_OF[type(payload)]
        except KeyError:
            raise TypeError(f"{type(payload).__name__} is not a request payload") from None

    def request(
        self,
        version: Version,
        payloads: Sequence[RequestPayload],
        *,
        order: bool | None = None,
        continuation: BatchErrorContinuationOption | None = None,
        correlation: str | None = None,
    ) -> tuple[bytes, Pending]:
        """Encode one request message carrying ``payloads`` as batch items, in order.

        With more than one item: Batch Order Option True unless ``order`` says otherwise
        (SPEC-1.4 §6.12; the ID Placeholder needs ordered execution, §4) and Unique Batch Item
        IDs 01, 02, ... (REQUIRED when Batch Count > 1, Table 283). A single item carries
        neither, as in the OASIS single-item test cases (SASED-M-2/3).
        """
        if not payloads:
            raise ValueError("a request needs at least one batch item")
        operations = tuple(self.operation_of(p) for p in payloads)
        many = len(payloads) > 1
        width = 1 if len(payloads) < 256 else 2
        ids = tuple((i + 1).to_bytes(width, "big") if many else None for i in range(len(payloads)))
        if order is None and many:
            order = True
        header = RequestHeader(
            protocol_version=ProtocolVersion.of(version),
            maximum_response_size=self.max_response_size,
            # Client Correlation Value exists from 1.4 (SPEC-1.4 §6.19); never sent to older peers
            client_correlation_value=correlation if version >= Version(1, 4) else None,
            batch_error_continuation_option=continuation,
            batch_order_option=order,
            batch_count=len(payloads),
        )
        items = tuple(
            RequestBatchItem(operation=op, unique_batch_item_id=batch_id, request_payload=payload)
            for op, batch_id, payload in zip(operations, ids, payloads)
        )
        data = encode_message(RequestMessage(header, items), version)
        return data, Pending(version, operations, ids)

    def discover_versions(self, header: Version, versions: Sequence[Version]) -> tuple[bytes, Pending]:
        """A Discover Versions request listing ``versions`` in preference order (SPEC-1.4 §4.26)."""
        payload = DiscoverVersionsRequest(protocol_version=tuple(ProtocolVersion.of(v) for v in versions))
        return self.request(header, [payload])

    @staticmethod
    def versions_of(result: BatchResult) -> list[Version]:
        """The versions a Discover Versions response offers, in the server's order."""
        payload = result.value()
        return [v.as_version() for v in payload.protocol_version]

    def response(self, data: bytes, pending: Pending) -> tuple[BatchResult, ...]:
        """Decode a response message and return one result per request batch item, in order.

        Items are matched by Unique Batch Item ID (by position when the request had none);
        an item the server did not return (Batch Error Continuation Stop, SPEC-1.4 §6.13)
        gets status None. A message-level failure (a batch item without Operation, SPEC-1.4
        §11.1 Table 327) is reported on every item.
        """
        try:
            message = decode_response(data)
        except KmipError as exc:
            raise ResponseMismatch(f"undecodable response ({exc.reason.name})") from exc
        items = message.batch_items
        if message.response_header.batch_count != len(items) or not items:
            raise ResponseMismatch("Batch Count does not match the batch items")
        results: list[BatchResult | None] = [None] * len(pending.operations)
        for position, item in enumerate(items):
            if item.unique_batch_item_id is not None and item.unique_batch_item_id in pending.ids:
                slot = pending.ids.index(item.unique_batch_item_id)
            elif item.operation is None and item.result_status != ResultStatus.SUCCESS and len(items) == 1:
                failed = BatchResult(None, item.result_status, item.result_reason, item.result_message or "")
                return tuple(
                    BatchResult(op, failed.status, failed.reason, failed.message) for op in pending.operations
                )
            elif item.unique_batch_item_id is None and len(pending.operations) == 1 and position == 0:
                slot = 0
            else:
                raise ResponseMismatch("a response batch item does not correlate with the request")
            if results[slot] is not None:
                raise ResponseMismatch("two response batch items for one request item")
            if item.operation is not None and item.operation != pending.operations[slot]:
                raise ResponseMismatch("a response batch item is for another operation")
            payload = item.response_payload
            if item.result_status == ResultStatus.SUCCESS and (
                item.payload_error is not None or isinstance(payload, Item)
            ):
                raise ResponseMismatch(f"invalid {pending.operations[slot].name} response payload")
            results[slot] = BatchResult(
                pending.operations[slot],
                item.result_status,
                item.result_reason,
                item.result_message or "",
                payload if item.result_status == ResultStatus.SUCCESS else None,
            )
        return tuple(
            r if r is not None else BatchResult(pending.operations[i], None) for i, r in enumerate(results)
        )
