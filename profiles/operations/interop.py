"""Interop and Log (SPEC-2.1 §6.1.26 Interop, §6.1.28 Log): used by the OASIS BL-M-*-21 test
cases to bracket a test and to leave a message in the server's log."""

from __future__ import annotations

import logging

from agent.model import InteropRequest, InteropResponse, LogRequest, LogResponse
from agent.spec import InteropFunction, Operation, ResultReason
from agent.ttlv import Item
from profiles.operations.base import Context, Handler, fail

R = ResultReason
log = logging.getLogger("keyshelf.engine.interop")

_MAX_LOG_TEXT = 1024


def _printable(text: str) -> str:
    """Client text as one log line: bounded, control characters (CR, LF, ESC, ...) replaced, so
    that a client cannot forge log lines of its own in the text format."""
    return "".join(c if c.isprintable() else " " for c in text[:_MAX_LOG_TEXT])


def interop(ctx: Context, payload: Item) -> list[Item]:
    """Begin / End / Reset of a named interoperability test: acknowledged, nothing to reset
    (objects are per-client and tests clean up after themselves)."""
    req = ctx.decode(payload, InteropRequest)
    try:
        name = InteropFunction(req.interop_function).name
    except ValueError:
        raise fail(R.INVALID_FIELD, "unknown Interop Function") from None
    log.info("interop %s %s by %s", name, _printable(req.interop_identifier), ctx.identity)
    return ctx.encode(InteropResponse())


def log_message(ctx: Context, payload: Item) -> list[Item]:
    """Write the client's Log Message to the server log (client text, bounded; no key material
    is ever part of it on our side)."""
    text = _printable(ctx.decode(payload, LogRequest).log_message)
    log.info("client log from %s: %s", ctx.identity, text)
    return ctx.encode(LogResponse())


HANDLERS: dict[Operation, Handler] = {Operation.INTEROP: interop, Operation.LOG: log_message}
