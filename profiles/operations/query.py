"""Query (SPEC-1.4 §4.25; SPEC-2.1 §6.1.37): what the claimed profiles support."""

from __future__ import annotations

from agent.spec import (
    V1_3,
    V1_4,
    ItemType,
    Operation,
    QueryFunction,
    Tag,
)
from agent.ttlv import Item
from profiles.operations.base import Context, Handler, boolean, children, enum, integer, struct, text

QF = QueryFunction


def query(ctx: Context, payload: Item) -> list[Item]:
    """Answer each requested Query Function; unknown or unsupported functions are ignored
    (the response lists what the server can report, SPEC-1.4 §4.25)."""
    functions = {
        int(f.value) for f in children(payload, Tag.QUERY_FUNCTION) if f.type == ItemType.ENUMERATION
    }
    catalog = ctx.services.catalog
    cfg = ctx.config
    out: list[Item] = []
    if QF.QUERY_OPERATIONS in functions:
        out.extend(enum(Tag.OPERATION, op) for op in catalog.operations(ctx.version))
    if QF.QUERY_OBJECTS in functions:
        out.extend(enum(Tag.OBJECT_TYPE, ot) for ot in catalog.object_types(ctx.version))
    if QF.QUERY_SERVER_INFORMATION in functions:
        out.append(text(Tag.VENDOR_IDENTIFICATION, cfg.vendor_identification))
        # Server Information is vendor-specific in 1.x; 2.x defines Server Name (SPEC-2.1 §2.1.27)
        info = (
            []
            if cfg.server_information is None or not ctx.v2
            else [text(Tag.SERVER_NAME, cfg.server_information)]
        )
        out.append(struct(Tag.SERVER_INFORMATION, info))
    if QF.QUERY_APPLICATION_NAMESPACES in functions:
        out.extend(text(Tag.APPLICATION_NAMESPACE, ns) for ns in cfg.application_namespaces)
    if QF.QUERY_PROFILES in functions and ctx.version >= V1_3:
        # Profile Information {Profile Name} per claimed profile (SPEC-1.4 §2.1.19)
        out.extend(
            struct(Tag.PROFILE_INFORMATION, (enum(Tag.PROFILE_NAME, name),))
            for name in catalog.profile_names(ctx.version)
        )
    if QF.QUERY_CAPABILITIES in functions and ctx.version >= V1_3:
        caps = [
            boolean(Tag.STREAMING_CAPABILITY, False),
            boolean(Tag.ASYNCHRONOUS_CAPABILITY, False),
            boolean(Tag.ATTESTATION_CAPABILITY, False),
        ]
        if ctx.version >= V1_4:
            # SPEC-1.4 §2.1.24: Batch Undo / Continue Capability
            caps += [boolean(Tag.BATCH_UNDO_CAPABILITY, True), boolean(Tag.BATCH_CONTINUE_CAPABILITY, True)]
        # Unwrap Mode, Destroy Action, Shredding Algorithm, RNG Mode: nothing the server
        # promises beyond the defaults (Unspecified = 1 in each enumeration)
        caps += [
            enum(Tag.UNWRAP_MODE, 1),
            enum(Tag.DESTROY_ACTION, 1),
            enum(Tag.SHREDDING_ALGORITHM, 1),
            enum(Tag.RNG_MODE, 1),
        ]
        out.append(struct(Tag.CAPABILITY_INFORMATION, caps))
    if QF.QUERY_RNGS in functions and ctx.version >= V1_3:
        out.append(struct(Tag.RNG_PARAMETERS, (enum(Tag.RNG_ALGORITHM, cfg.rng_algorithm),)))
    if QF.QUERY_STORAGE_PROTECTION_MASKS in functions and ctx.v2:
        # SPEC-2.1 §6.1.37: the masks the server can honour; keys are held in software
        out.append(struct(Tag.PROTECTION_STORAGE_MASKS, (integer(Tag.PROTECTION_STORAGE_MASK, 1),)))
    if QF.QUERY_EXTENSION_LIST in functions or QF.QUERY_EXTENSION_MAP in functions:
        pass  # no extensions defined by this server
    return out


HANDLERS: dict[Operation, Handler] = {Operation.QUERY: query}
