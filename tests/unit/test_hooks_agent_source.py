"""firmware_hooks.agent_source over agent.sed, against the in-memory KMIP stand-in of test_sed:
how the server's answers map to the hooks' (a 1.x Item Not Found and a 2.x Object Not Found
are both "key missing", never "refused"), and that the rotation's server steps are SedKeys'."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from agent import errors
from agent.model import GetAttributesRequest, GetRequest, LocateResponse
from agent.protocol import BatchResult
from agent.spec import LinkType, ResultReason
from firmware_hooks.agent_source import AgentSedSource, KeyRefused, _mapped
from firmware_hooks.sources import KeyDestroyed, KeyNotFound
from tests.unit.test_sed import FakeKmip

R = TypeVar("R")
BOTH = [ResultReason.ITEM_NOT_FOUND, ResultReason.OBJECT_NOT_FOUND]  # 1.x, 2.x (0x37)


class FakeSync:
    """The part of ``agent.sync.Client`` the source uses, over a FakeKmip."""

    servers = ("fake:5696",)

    def __init__(self, kmip: FakeKmip) -> None:
        self.aio = kmip
        kmip.default_deadline = 5.0  # type: ignore[attr-defined]

    def run(self, coro: Coroutine[Any, Any, R], timeout: float | None = None) -> R:
        return asyncio.run(coro)

    def destroy(self, uid: str) -> Any:
        return asyncio.run(self.aio.destroy(uid))

    def get_attributes(self, uid: str, names: list[str]) -> Any:
        request = GetAttributesRequest(unique_identifier=uid, attribute_names=tuple(names))
        return asyncio.run(self.aio.batch(request))[0]

    def locate(self, *args: Any, **kwargs: Any) -> LocateResponse:
        return LocateResponse(unique_identifier=())  # nothing destroyed to report


def source_over(reason: ResultReason) -> tuple[AgentSedSource, FakeKmip]:
    kmip = FakeKmip(not_found=reason)
    return AgentSedSource(FakeSync(kmip)), kmip  # type: ignore[arg-type]


@pytest.mark.parametrize("reason", BOTH)
def test_missing_object_is_key_not_found_in_1x_and_2x(reason: ResultReason) -> None:
    source, kmip = source_over(reason)
    with pytest.raises(KeyNotFound):
        source.destroy("no-such-uid")
    with pytest.raises(KeyNotFound):
        source.auth_keys("arr", "never-registered")  # Locate finds nothing
    uid = source.register_auth_key("arr", "S1", b"\x01" * 32)
    real = kmip.batch_results

    async def racing(*payloads: Any, **kw: Any) -> tuple[BatchResult, ...]:
        if any(isinstance(p, GetRequest) for p in payloads):
            kmip.objects.pop(uid, None)  # gone between the Locate and the Get: the server answers
        return await real(*payloads, **kw)

    kmip.batch_results = racing  # type: ignore[method-assign]
    with pytest.raises(KeyNotFound) as caught:
        source.auth_keys("arr", "S1")
    assert not isinstance(caught.value, KeyRefused) and caught.value.reason == "not-found"
    kmip.batch_results = real  # type: ignore[method-assign]
    with pytest.raises(KeyNotFound):
        source.retire_auth_keys("arr", "S1", uid)


@pytest.mark.parametrize(
    ("error", "mapped"),
    [
        (errors.ItemNotFound(), KeyNotFound),
        (errors.ObjectNotFound(), KeyNotFound),
        (errors.ObjectDestroyed(), KeyDestroyed),
        (errors.PermissionDenied(), KeyRefused),
        (errors.error_for(ResultReason.OBJECT_NOT_FOUND), KeyNotFound),
    ],
)
def test_error_mapping(error: errors.KmipError, mapped: type[Exception]) -> None:
    with pytest.raises(mapped), _mapped("kms"):
        raise error


def test_rotation_steps_are_the_agents() -> None:
    source, _ = source_over(ResultReason.OBJECT_NOT_FOUND)
    old = source.register_auth_key("arr", "S1", b"\x01" * 32)
    new = source.register_auth_key("arr", "S1", b"\x02" * 32, replaces=old)
    assert [k.uid for k in source.auth_keys("arr", "S1")] == [new, old]
    assert source.links(new) == [(LinkType.REPLACED_OBJECT_LINK, old)]
    assert source.links(old) == [(LinkType.REPLACEMENT_OBJECT_LINK, new)]
    assert source.retire_auth_keys("arr", "S1", new) == 1
    assert [k.key for k in source.auth_keys("arr", "S1")] == [b"\x02" * 32]
