"""Discover Versions (SPEC-1.4 §4.26; SPEC-2.1 §6.1.19)."""

from __future__ import annotations

from agent.model import DiscoverVersionsRequest, DiscoverVersionsResponse, ProtocolVersion
from agent.spec import Operation
from agent.ttlv import Item
from profiles.catalog import SUPPORTED_VERSIONS
from profiles.operations.base import Context, Handler


def discover_versions(ctx: Context, payload: Item) -> list[Item]:
    """The server's versions in its order of preference; with a client list, only those both
    support ("the server SHALL return only the protocol versions that are supported by both"),
    an empty list if none; without one, all of them (SPEC-1.4 §4.26)."""
    asked = {pv.as_version() for pv in ctx.decode(payload, DiscoverVersionsRequest).protocol_version}
    versions = [v for v in SUPPORTED_VERSIONS if not asked or v in asked]
    return ctx.encode(
        DiscoverVersionsResponse(protocol_version=tuple(ProtocolVersion.of(v) for v in versions))
    )


HANDLERS: dict[Operation, Handler] = {Operation.DISCOVER_VERSIONS: discover_versions}
