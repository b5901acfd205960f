"""Operation handlers, one module per family; :data:`HANDLERS` is the dispatch table the
engine uses (keyed by Operation, no if/elif chain).

Every handler reads its payload as agent.model's ``<Op>Request`` (Context.decode), so the
fields a payload may hold are the model's: in a version the server speaks exactly, a field
outside the operation's request or not defined in that version is Invalid Field; in a newer
minor version it is ignored (SPEC-1.4 §11.1 Table 327).
"""

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
