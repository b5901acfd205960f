"""``dataclass`` whose processing waits until the class is first used.

Issue 4: the agent must import in under 150 ms. ``dataclasses.dataclass`` compiles about six
functions per class (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, frozen
``__setattr__`` / ``__delattr__``), ~0.5 ms a class; the model has ~200 classes and a key fetch
uses a few dozen. The model modules therefore decorate their classes with :func:`dataclass`
from here (mypy is shown ``dataclasses.dataclass``: see their ``TYPE_CHECKING`` imports), which
only records the arguments. The real ``dataclasses.dataclass`` runs on the class, under a
lock and at most once, the first time the class is

* instantiated or unpickled (``__new__``),
* introspected: ``dataclasses.fields`` / ``is_dataclass`` (``__dataclass_fields__``, which is
  also how the processing of a subclass reaches its bases) or ``inspect.signature``
  (``__signature__``).

The class is then what ``dataclasses.dataclass`` makes of it, with two attributes left over:

* ``__new__`` stays (CPython cannot give a class back ``object.__new__`` once it has had a
  Python ``__new__``: calls with arguments would fail); it costs ~0.25 us per construction.
  Decoding does not construct (``agent.model.convert`` fills ``__dict__`` directly).
* ``__signature__`` gives the signature of the generated ``__init__`` (without it
  ``inspect.signature`` would report the ``__new__`` above, ``(*args, **kwargs)``).

Code that creates instances with ``object.__new__`` must :func:`build` the class first.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any, TypeVar, overload

__all__ = ["build", "build_all", "dataclass", "pending"]

T = TypeVar("T", bound=type)

_FIELDS = "__dataclass_fields__"
#: class -> dataclass() keyword arguments, until processed
_PENDING: dict[type, dict[str, Any]] = {}
#: classes being processed by the thread that holds the lock (re-entry returns at once)
_BUILDING: set[type] = set()
# re-entrant: processing a class processes its bases first; other threads wait for the end
_LOCK = threading.RLock()
_object_new = object.__new__


def build(cls: type) -> None:
    """Run ``dataclasses.dataclass`` on ``cls`` (and its pending bases) unless already done."""
    if cls not in _PENDING:
        return
    with _LOCK:
        if cls not in _PENDING or cls in _BUILDING:
            return
        _BUILDING.add(cls)
        try:
            for base in reversed(cls.__mro__[1:]):
                build(base)
            dataclasses.dataclass(cls, **_PENDING[cls])
            # removed last: a thread finding it pending waits on the lock until it is complete
            del _PENDING[cls]
        finally:
            _BUILDING.discard(cls)


def pending() -> tuple[type, ...]:
    """The classes not processed yet (tests: which classes an import or a fetch built)."""
    return tuple(_PENDING)


def build_all() -> None:
    """Process every pending class (servers that prefer to pay at start-up, tests)."""
    for cls in pending():
        build(cls)


def _new(cls: type, *args: Any, **kwargs: Any) -> Any:
    if cls in _PENDING:
        build(cls)
    return _object_new(cls)


class _Fields:
    """``__dataclass_fields__`` until ``dataclasses.dataclass`` replaces it."""

    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        build(self.cls)
        value = self.cls.__dict__.get(_FIELDS)
        if value is None or value is self:  # being processed by this thread: not yet
            raise AttributeError(_FIELDS)
        return value


class _Signature:
    """``__signature__``: the generated ``__init__``'s, as ``inspect.signature`` would give it."""

    __slots__ = ()

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is not None or owner is None:
            return None
        import inspect  # only when someone asks; dataclasses has imported it anyway

        build(owner)
        init = owner.__init__  # type: ignore[misc]
        if init is object.__init__:
            return None
        sig = inspect.signature(init)
        return sig.replace(parameters=tuple(sig.parameters.values())[1:])


_SIGNATURE = _Signature()


@overload
def dataclass(cls: T, /, **params: Any) -> T: ...
@overload
def dataclass(cls: None = None, /, **params: Any) -> Callable[[T], T]: ...


def dataclass(cls: T | None = None, /, **params: Any) -> T | Callable[[T], T]:
    """Like ``dataclasses.dataclass`` (same arguments), processed on first use.

    ``slots=True`` is refused: it makes a new class, so the deferred one could not be it.
    """
    if params.get("slots"):
        raise TypeError("deferred dataclasses cannot use slots=True")

    def wrap(c: T) -> T:
        own = c.__dict__
        if "__new__" in own or "__signature__" in own or _FIELDS in own:
            raise TypeError(f"{c.__name__}: a deferred dataclass cannot define __new__ or __signature__")
        _PENDING[c] = params
        placeholders = {"__new__": staticmethod(_new), "__signature__": _SIGNATURE, _FIELDS: _Fields(c)}
        for name, value in placeholders.items():
            setattr(c, name, value)
        return c

    return wrap if cls is None else wrap(cls)
