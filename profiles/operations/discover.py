"""Discover Versions (SPEC-1.4 §4.26; SPEC-2.1 §6.1.19)."""

from __future__ import annotations

from agent.spec import ItemType, Operation, Tag, Version
from agent.ttlv import Item
from profiles.catalog import SUPPORTED_VERSIONS
from profiles.operations.base import Context, Handler, children, integer, struct


def _version_item(v: Version) -> Item:
    return struct(
        Tag.PROTOCOL_VERSION,
        (integer(Tag.PROTOCOL_VERSION_MAJOR, v.major), integer(Tag.PROTOCOL_VERSION_MINOR, v.minor)),
    )


def discover_versions(ctx: Context, payload: Item) -> list[Item]:
    """The server's versions in its order of preference; with a client list, only those both
    support ("the server SHALL return only the protocol versions that are supported by both"),
    an empty list if none; without one, all of them."""
    asked: list[Version] = []
    for pv in children(payload, Tag.PROTOCOL_VERSION):
        vals = (
            {c.tag: c.value for c in pv.value if c.type == ItemType.INTEGER}
            if pv.type == ItemType.STRUCTURE
            else {}
        )
        if Tag.PROTOCOL_VERSION_MAJOR in vals and Tag.PROTOCOL_VERSION_MINOR in vals:
            asked.append(
                Version(int(vals[Tag.PROTOCOL_VERSION_MAJOR]), int(vals[Tag.PROTOCOL_VERSION_MINOR]))
            )
    if not children(payload, Tag.PROTOCOL_VERSION):
        return [_version_item(v) for v in SUPPORTED_VERSIONS]
    return [_version_item(v) for v in SUPPORTED_VERSIONS if v in asked]


HANDLERS: dict[Operation, Handler] = {Operation.DISCOVER_VERSIONS: discover_versions}
