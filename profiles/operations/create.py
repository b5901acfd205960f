"""Create (SPEC-1.4 §4.1; SPEC-2.1 §6.1.3): the server generates a symmetric key (or, in 2.x,
Secret Data) from the client's attributes."""

from __future__ import annotations

from agent.model import CreateRequest, CreateResponse
from agent.spec import (
    V1_4,
    ItemType,
    KeyFormatType,
    ObjectType,
    Operation,
    ResultReason,
    SecretDataType,
    Tag,
)
from agent.ttlv import Item
from profiles.operations.base import (
    Context,
    Handler,
    check_object_type,
    enum,
    fail,
    struct,
)
from profiles.operations.objects import (
    check_client_attributes,
    generate_symmetric,
    insert_object,
    request_attributes,
    symmetric_key_item,
)

R = ResultReason


def create(ctx: Context, payload: Item) -> list[Item]:
    req = ctx.decode(payload, CreateRequest)
    ot = check_object_type(ctx, int(req.object_type))
    # Secret Data from 1.4 on (TC-CREATE-SD-1-14: Password, Opaque key format, Cryptographic Length bits)
    creatable = {ObjectType.SYMMETRIC_KEY} | ({ObjectType.SECRET_DATA} if ctx.version >= V1_4 else set())
    if ot not in creatable:
        raise fail(R.INVALID_FIELD if not ctx.v2 else R.INVALID_OBJECT_TYPE, "object type cannot be created")
    attrs = check_client_attributes(ctx, request_attributes(ctx, req.attributes, req.template_names), ot)
    values = {a.name: a.value.value for a in attrs}
    if ot == ObjectType.SYMMETRIC_KEY:
        alg = values.get("Cryptographic Algorithm")
        length = values.get("Cryptographic Length")
        if not isinstance(alg, int) or not isinstance(length, int):
            raise fail(R.MISSING_DATA, "Cryptographic Algorithm and Cryptographic Length are required")
        obj = symmetric_key_item(generate_symmetric(ctx, alg, length), alg, length)
    else:
        length = values.get("Cryptographic Length", 256)
        if not isinstance(length, int) or length <= 0 or length % 8 or length > 8192:
            raise fail(R.INVALID_FIELD, "unsupported Cryptographic Length")
        material = ctx.services.random(length // 8)
        obj = struct(
            Tag.SECRET_DATA,
            (
                enum(Tag.SECRET_DATA_TYPE, SecretDataType.PASSWORD),
                struct(
                    Tag.KEY_BLOCK,
                    (
                        enum(Tag.KEY_FORMAT_TYPE, KeyFormatType.OPAQUE),
                        struct(Tag.KEY_VALUE, (Item(Tag.KEY_MATERIAL, ItemType.BYTE_STRING, material),)),
                    ),
                ),
            ),
        )
    mo = insert_object(ctx, ot, attrs, obj, generated=True, op=Operation.CREATE)
    return ctx.encode(CreateResponse(object_type=ot, unique_identifier=mo.uid))


HANDLERS: dict[Operation, Handler] = {Operation.CREATE: create}
