"""Query (SPEC-1.4 §4.25; SPEC-2.1 §6.1.37): what the claimed profiles support."""

from __future__ import annotations

from typing import Any

from agent.model import (
    CapabilityInformation,
    ProfileInformation,
    ProtectionStorageMasks,
    QueryRequest,
    QueryResponse,
    RNGParameters,
)
from agent.spec import (
    V1_3,
    V1_4,
    ItemType,
    Operation,
    ProfileName,
    ProtectionStorageMask,
    QueryFunction,
    RNGAlgorithm,
    Tag,
)
from agent.ttlv import Item
from profiles.operations.base import Context, Handler

QF = QueryFunction


def query(ctx: Context, payload: Item) -> list[Item]:
    """Answer each requested Query Function; unknown or unsupported functions are ignored
    (the response lists what the server can report, SPEC-1.4 §4.25)."""
    functions = set(ctx.decode(payload, QueryRequest).query_function)
    catalog = ctx.services.catalog
    cfg = ctx.config
    answer: dict[str, Any] = {}
    if QF.QUERY_OPERATIONS in functions:
        answer["operation"] = tuple(catalog.operations(ctx.version))
    if QF.QUERY_OBJECTS in functions:
        answer["object_type"] = tuple(catalog.object_types(ctx.version))
    if QF.QUERY_SERVER_INFORMATION in functions:
        answer["vendor_identification"] = cfg.vendor_identification
        # Server Information is vendor-specific in 1.x; 2.x defines Server Name (SPEC-2.1 §2.1.27)
        info = (
            ()
            if cfg.server_information is None or not ctx.v2
            else (Item(Tag.SERVER_NAME, ItemType.TEXT_STRING, cfg.server_information),)
        )
        answer["server_information"] = Item(Tag.SERVER_INFORMATION, ItemType.STRUCTURE, info)
    if QF.QUERY_APPLICATION_NAMESPACES in functions:
        answer["application_namespace"] = tuple(cfg.application_namespaces)
    if QF.QUERY_PROFILES in functions and ctx.version >= V1_3:
        # Profile Information {Profile Name} per claimed profile (SPEC-1.4 §2.1.19)
        answer["profile_information"] = tuple(
            ProfileInformation(profile_name=ProfileName(name)) for name in catalog.profile_names(ctx.version)
        )
    if QF.QUERY_CAPABILITIES in functions and ctx.version >= V1_3:
        # SPEC-1.4 §2.1.24: Batch Undo / Continue Capability from 1.4 (the model leaves them out
        # before). Unwrap Mode, Destroy Action, Shredding Algorithm, RNG Mode: nothing the server
        # promises beyond the defaults (Unspecified = 1 in each enumeration)
        batch = True if ctx.version >= V1_4 else None
        answer["capability_information"] = (
            CapabilityInformation(
                streaming_capability=False,
                asynchronous_capability=False,
                attestation_capability=False,
                batch_undo_capability=batch,
                batch_continue_capability=batch,
                unwrap_mode=1,
                destroy_action=1,
                shredding_algorithm=1,
                rng_mode=1,
            ),
        )
    if QF.QUERY_RNGS in functions and ctx.version >= V1_3:
        answer["rng_parameters"] = (RNGParameters(rng_algorithm=RNGAlgorithm(cfg.rng_algorithm)),)
    if QF.QUERY_STORAGE_PROTECTION_MASKS in functions and ctx.v2:
        # SPEC-2.1 §6.1.37: the masks the server can honour; keys are held in software
        answer["protection_storage_masks"] = ProtectionStorageMasks((ProtectionStorageMask.SOFTWARE,))
    # Query Extension List / Map: no extensions defined by this server
    return ctx.encode(QueryResponse(**answer))


HANDLERS: dict[Operation, Handler] = {Operation.QUERY: query}
