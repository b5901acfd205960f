"""Register (SPEC-1.4 §4.3; SPEC-2.1 §6.1.40): the client supplies the managed object."""

from __future__ import annotations

from agent.model import RegisterRequest, RegisterResponse, Template
from agent.spec import V1_2, ItemType, ObjectType, Operation, ResultReason
from agent.ttlv import Item
from profiles.attrs import Attr
from profiles.operations.base import Context, Handler, check_object_type, fail, one
from profiles.operations.objects import (
    OBJECT_TAGS,
    check_client_attributes,
    check_key_block,
    insert_object,
    key_block,
    request_attributes,
)

R = ResultReason


def register(ctx: Context, payload: Item) -> list[Item]:
    req = ctx.decode(payload, RegisterRequest)
    ot = check_object_type(ctx, int(req.object_type))
    obj_tag = OBJECT_TAGS.get(ot)
    # the object is stored as the client sent it (the raw item, not a re-encoding of the model's)
    obj = None if obj_tag is None else one(payload, obj_tag, kind=ItemType.STRUCTURE)
    if obj is None:
        # SPEC-1.4 Table 330: "Object Type does not match type of cryptographic object provided"
        raise fail(R.INVALID_FIELD, "object does not match Object Type")
    own: list[Attr] = []  # attributes of the object itself found inside the managed object
    if isinstance(req.managed_object, Template):
        inner = [ctx.attr_in(a) for a in req.managed_object.attributes]
        own = [a for a in inner if a.name == "Name"]
        if own and ctx.version >= V1_2:
            # SPEC-1.2/1.4 Register errors: a Name attribute inside the Template structure. In 1.0
            # and 1.1 that Name names the Template itself (KMIP 1.0 Use Cases 3.1.2; SA-SED
            # profile SASED-M-2-10/11), and is not applied to objects created from it.
            raise fail(R.INVALID_FIELD, "Template structure contains a Name")
    elif ot not in (ObjectType.OPAQUE_OBJECT, ObjectType.CERTIFICATE):
        block = key_block(obj)
        if block is None:
            raise fail(R.INVALID_FIELD, "Key Block is required")
        check_key_block(block)
    attrs = check_client_attributes(
        ctx, request_attributes(ctx, req.attributes, req.template_names) + own, ot
    )
    mo = insert_object(ctx, ot, attrs, obj, generated=False, op=Operation.REGISTER)
    return ctx.encode(RegisterResponse(unique_identifier=mo.uid))


HANDLERS: dict[Operation, Handler] = {Operation.REGISTER: register}
