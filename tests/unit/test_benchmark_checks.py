"""The server benchmark's load generator checks responses on their bytes (quick_check,
quick_uid): it must accept exactly the successful responses and read the right identifier."""

from __future__ import annotations

import pytest

from agent.spec import Operation, ResultReason, ResultStatus, Tag
from agent.ttlv import Item, encode
from benchmarks import server as bench
from tests.unit.test_engine_helpers import e, i, s, t


def _response(*items: tuple[int, str | None]) -> bytes:
    batch = []
    for status, uid in items:
        payload = (
            []
            if uid is None
            else [s(Tag.RESPONSE_PAYLOAD, e(Tag.OBJECT_TYPE, 2), t(Tag.UNIQUE_IDENTIFIER, uid))]
        )
        reason = [] if status == ResultStatus.SUCCESS else [e(Tag.RESULT_REASON, ResultReason.ITEM_NOT_FOUND)]
        batch.append(
            s(
                Tag.BATCH_ITEM,
                e(Tag.OPERATION, Operation.CREATE),
                e(Tag.RESULT_STATUS, status),
                *reason,
                *payload,
            )
        )
    header = s(
        Tag.RESPONSE_HEADER,
        s(Tag.PROTOCOL_VERSION, i(Tag.PROTOCOL_VERSION_MAJOR, 1), i(Tag.PROTOCOL_VERSION_MINOR, 2)),
        i(Tag.BATCH_COUNT, len(batch)),
    )
    message: Item = s(Tag.RESPONSE_MESSAGE, header, *batch)
    return encode(message)


def test_success_and_its_identifier() -> None:
    ok = _response((ResultStatus.SUCCESS, "key-0042"))
    bench.quick_check(ok)
    assert bench.quick_uid(ok) == "key-0042" == bench.uids_of(ok)[0]
    bench.quick_check(_response((ResultStatus.SUCCESS, None), (ResultStatus.SUCCESS, "b")))


@pytest.mark.parametrize(
    "response",
    [
        _response((ResultStatus.OPERATION_FAILED, None)),
        _response((ResultStatus.SUCCESS, "a"), (ResultStatus.OPERATION_FAILED, None)),
        encode(s(Tag.RESPONSE_MESSAGE, s(Tag.RESPONSE_HEADER, i(Tag.BATCH_COUNT, 0)))),
    ],
    ids=["failed", "second-item-failed", "no-status"],
)
def test_anything_else_is_refused(response: bytes) -> None:
    with pytest.raises(RuntimeError):
        bench.quick_check(response)
    with pytest.raises(RuntimeError):
        bench.quick_uid(response)
