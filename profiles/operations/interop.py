"""Interop and Log (SPEC-2.1 §6.1.26 Interop, §6.1.28 Log): used by the OASIS BL-M-*-21 test
cases to bracket a test and to leave a message in the server's log."""

from __future__ import annotations

import logging

from agent.spec import InteropFunction, ItemType, Operation, ResultReason, Tag
from agent.ttlv import Item
from profiles.operations.base import Context, Handler, fail, one

R = ResultReason
log = logging.getLogger("keyshelf.engine.interop")

_MAX_LOG_TEXT = 1024


def interop(ctx: Context, payload: Item) -> list[Item]:
    """Begin / End / Reset of a named interoperability test: acknowledged, nothing to reset
    (objects are per-client and tests clean up after themselves)."""
    function = one(payload, Tag.INTEROP_FUNCTION, kind=ItemType.ENUMERATION)
    ident = one(payload, Tag.INTEROP_IDENTIFIER, kind=ItemType.TEXT_STRING)
    if function is None:
        raise fail(R.INVALID_MESSAGE, "Interop Function is required")
    try:
        name = InteropFunction(int(function.value)).name
    except ValueError:
        raise fail(R.INVALID_FIELD, "unknown Interop Function") from None
    log.info(
        "interop %s %s by %s", name, "" if ident is None else str(ident.value)[:_MAX_LOG_TEXT], ctx.identity
    )
    return []


def log_message(ctx: Context, payload: Item) -> list[Item]:
    """Write the client's Log Message to the server log (client text, bounded; no key material
    is ever part of it on our side)."""
    message = one(payload, Tag.LOG_MESSAGE, kind=ItemType.TEXT_STRING)
    if message is None:
        raise fail(R.INVALID_MESSAGE, "Log Message is required")
    text = str(message.value)[:_MAX_LOG_TEXT].replace("\n", " ")
    log.info("client log from %s: %s", ctx.identity, text)
    return []


HANDLERS: dict[Operation, Handler] = {Operation.INTEROP: interop, Operation.LOG: log_message}
