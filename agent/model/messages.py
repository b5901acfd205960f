"""Request/response messages, headers and batch items (spec 1.4 section 7, 2.1 section 8).

A batch item's payload is typed by its Operation (``payload_classes``). A payload that does
not decode does not fail the whole message: the batch item keeps the payload's Item and the
error in ``payload_error`` (spec 1.4 11.1: "batch item/payload cannot be parsed" fails that
item). A payload of an Operation without a class (extensions) stays the Item.
"""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from agent.errors import KmipError
from agent.model._fields import local_metadata, required_tagged
from agent.model.payloads import RequestPayload, ResponsePayload
from agent.model.structures import Authentication, MessageExtension, Nonce, ProtocolVersion
from agent.spec import (
    AsynchronousIndicator,
    BatchErrorContinuationOption,
    Operation,
    ResultReason,
    ResultStatus,
    Tag,
)
from agent.ttlv import Item

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # processed on first use: import time (issue 4), see _deferred
    from agent.model._deferred import dataclass


@dataclass(frozen=True, kw_only=True)
class RequestHeader:
    """Request Header (spec 1.4 Table 282, 2.1 Table 395).

    ``asynchronous_indicator`` is a Boolean in 1.x and an Enumeration in 2.x.
    """

    TAG: ClassVar[int] = Tag.REQUEST_HEADER
    protocol_version: ProtocolVersion
    maximum_response_size: int | None = None
    client_correlation_value: str | None = None
    server_correlation_value: str | None = None
    asynchronous_indicator: bool | AsynchronousIndicator | None = None
    attestation_capable_indicator: bool | None = None
    attestation_type: tuple[int, ...] = ()
    authentication: Authentication | None = None
    batch_error_continuation_option: BatchErrorContinuationOption | None = None
    batch_order_option: bool | None = None
    time_stamp: datetime | None = None
    batch_count: int


@dataclass(frozen=True, kw_only=True)
class ResponseHeader:
    """Response Header (spec 1.4 Table 284, 2.1 Table 398)."""

    TAG: ClassVar[int] = Tag.RESPONSE_HEADER
    protocol_version: ProtocolVersion
    time_stamp: datetime
    nonce: Nonce | None = None
    server_hashed_password: bytes | None = None
    attestation_type: tuple[int, ...] = ()
    client_correlation_value: str | None = None
    server_correlation_value: str | None = None
    batch_count: int


@dataclass(frozen=True, kw_only=True)
class RequestBatchItem:
    """Request Batch Item (spec 1.4 Table 283, 2.1 Table 396)."""

    TAG: ClassVar[int] = Tag.BATCH_ITEM
    operation: Operation
    ephemeral: bool | None = None
    unique_batch_item_id: bytes | None = None
    request_payload: RequestPayload | Item
    message_extension: tuple[MessageExtension, ...] = ()
    #: set by the decoder when the payload did not decode (then request_payload is the Item)
    payload_error: KmipError | None = field(
        default=None, compare=False, repr=False, metadata=local_metadata()
    )


@dataclass(frozen=True, kw_only=True)
class ResponseBatchItem:
    """Response Batch Item (spec 1.4 Table 285, 2.1 Table 397)."""

    TAG: ClassVar[int] = Tag.BATCH_ITEM
    operation: Operation | None = None
    unique_batch_item_id: bytes | None = None
    result_status: ResultStatus
    result_reason: ResultReason | None = None
    result_message: str | None = None
    asynchronous_correlation_value: bytes | None = None
    response_payload: ResponsePayload | Item | None = None
    message_extension: tuple[MessageExtension, ...] = ()
    #: set by the decoder when the payload did not decode (then response_payload is the Item)
    payload_error: KmipError | None = field(
        default=None, compare=False, repr=False, metadata=local_metadata()
    )


@dataclass(frozen=True)
class RequestMessage:
    TAG: ClassVar[int] = Tag.REQUEST_MESSAGE
    request_header: RequestHeader
    batch_items: tuple[RequestBatchItem, ...] = required_tagged(Tag.BATCH_ITEM)


@dataclass(frozen=True)
class ResponseMessage:
    TAG: ClassVar[int] = Tag.RESPONSE_MESSAGE
    response_header: ResponseHeader
    batch_items: tuple[ResponseBatchItem, ...] = required_tagged(Tag.BATCH_ITEM)
