"""Operation handlers, one module per family; :data:`HANDLERS` is the dispatch table the
engine uses (keyed by Operation, no if/elif chain)."""

from __future__ import annotations

from agent.spec import Operation, Tag
from profiles.operations import (
    attributes,
    create,
    discover,
    get,
    interop,
    lifecycle,
    locate,
    query,
    register,
    rekey,
)
from profiles.operations.base import Handler

HANDLERS: dict[Operation, Handler] = {}
for _module in (discover, query, create, register, get, attributes, locate, lifecycle, rekey, interop):
    HANDLERS.update(_module.HANDLERS)

__all__ = ["HANDLERS", "REQUEST_FIELDS", "Handler"]


def _tags(*tags: int) -> frozenset[int]:
    return frozenset(tags)


_ATTRS = (Tag.TEMPLATE_ATTRIBUTE, Tag.ATTRIBUTES, Tag.PROTECTION_STORAGE_MASKS)
_UID = Tag.UNIQUE_IDENTIFIER
_OBJECTS = (
    Tag.CERTIFICATE,
    Tag.SYMMETRIC_KEY,
    Tag.PUBLIC_KEY,
    Tag.PRIVATE_KEY,
    Tag.SPLIT_KEY,
    Tag.TEMPLATE,
    Tag.SECRET_DATA,
    Tag.OPAQUE_OBJECT,
    Tag.PGP_KEY,
    Tag.CERTIFICATE_REQUEST,
)

# The fields each Request Payload may hold (SPEC-1.4 §4 request payload tables; SPEC-2.1 §6.1).
# A field outside its operation's set, or one the request's version does not define, is
# Invalid Field when the request is in a version the server speaks exactly, and ignored when
# the client speaks a newer minor version (SPEC-1.4 §11.1 Table 327).
REQUEST_FIELDS: dict[Operation, frozenset[int]] = {
    Operation.DISCOVER_VERSIONS: _tags(Tag.PROTOCOL_VERSION),
    Operation.QUERY: _tags(Tag.QUERY_FUNCTION),
    Operation.CREATE: _tags(Tag.OBJECT_TYPE, *_ATTRS),
    Operation.REGISTER: _tags(Tag.OBJECT_TYPE, *_ATTRS, *_OBJECTS),
    Operation.RE_KEY: _tags(_UID, Tag.OFFSET, *_ATTRS),
    Operation.LOCATE: _tags(
        Tag.MAXIMUM_ITEMS,
        Tag.OFFSET_ITEMS,
        Tag.STORAGE_STATUS_MASK,
        Tag.OBJECT_GROUP_MEMBER,
        Tag.ATTRIBUTE,
        Tag.ATTRIBUTES,
    ),
    Operation.CHECK: _tags(_UID, Tag.USAGE_LIMITS_COUNT, Tag.CRYPTOGRAPHIC_USAGE_MASK, Tag.LEASE_TIME),
    Operation.GET: _tags(
        _UID, Tag.KEY_FORMAT_TYPE, Tag.KEY_WRAP_TYPE, Tag.KEY_COMPRESSION_TYPE, Tag.KEY_WRAPPING_SPECIFICATION
    ),
    Operation.GET_ATTRIBUTES: _tags(_UID, Tag.ATTRIBUTE_NAME, Tag.ATTRIBUTE_REFERENCE),
    Operation.GET_ATTRIBUTE_LIST: _tags(_UID),
    Operation.ADD_ATTRIBUTE: _tags(_UID, Tag.ATTRIBUTE, Tag.NEW_ATTRIBUTE),
    Operation.MODIFY_ATTRIBUTE: _tags(_UID, Tag.ATTRIBUTE, Tag.CURRENT_ATTRIBUTE, Tag.NEW_ATTRIBUTE),
    Operation.DELETE_ATTRIBUTE: _tags(
        _UID, Tag.ATTRIBUTE_NAME, Tag.ATTRIBUTE_INDEX, Tag.CURRENT_ATTRIBUTE, Tag.ATTRIBUTE_REFERENCE
    ),
    Operation.SET_ATTRIBUTE: _tags(_UID, Tag.NEW_ATTRIBUTE),
    Operation.ADJUST_ATTRIBUTE: _tags(
        _UID, Tag.ATTRIBUTE_REFERENCE, Tag.ADJUSTMENT_TYPE, Tag.ADJUSTMENT_VALUE
    ),
    Operation.OBTAIN_LEASE: _tags(_UID),
    Operation.GET_USAGE_ALLOCATION: _tags(_UID, Tag.USAGE_LIMITS_COUNT),
    Operation.ACTIVATE: _tags(_UID),
    Operation.REVOKE: _tags(_UID, Tag.REVOCATION_REASON, Tag.COMPROMISE_OCCURRENCE_DATE),
    Operation.DESTROY: _tags(_UID),
    Operation.ARCHIVE: _tags(_UID),
    Operation.RECOVER: _tags(_UID),
    Operation.INTEROP: _tags(Tag.INTEROP_FUNCTION, Tag.INTEROP_IDENTIFIER),
    Operation.LOG: _tags(Tag.LOG_MESSAGE),
}
