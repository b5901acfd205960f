"""Operation handlers, one module per family; :data:`HANDLERS` is the dispatch table the
engine uses (keyed by Operation, no if/elif chain)."""

from __future__ import annotations

from agent.spec import Operation
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

__all__ = ["HANDLERS", "Handler"]
