"""Blocking facade of the agent for firmware without an event loop.

``agent.sync.Client`` has the methods of :class:`agent.client.Client`, blocking. It owns one
private event loop in a background thread (started in the constructor, stopped by
:meth:`Client.close` or the ``with`` block), so connections persist between calls and
several threads may call it at once; each call is still bounded by the request deadline.
``TapeKeys`` and ``SedKeys`` wrap :mod:`agent.tape` and :mod:`agent.sed` the same way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from agent import client as _client
from agent.client import (
    ConnectionLost,
    InvalidResponse,
    NoCommonVersion,
    OutcomeUnknown,
    RequestTimeout,
    RetryPolicy,
    ServerAddress,
    ServerUnreachable,
    TransportError,
)

if TYPE_CHECKING:
    from agent import sed as _sed
    from agent import tape as _tape
    from agent.config import AgentConfig

P = ParamSpec("P")
R = TypeVar("R")

__all__ = [
    "Client",
    "ConnectionLost",
    "InvalidResponse",
    "NoCommonVersion",
    "OutcomeUnknown",
    "RequestTimeout",
    "RetryPolicy",
    "SedKeys",
    "ServerAddress",
    "ServerUnreachable",
    "TapeKeys",
    "TransportError",
]

_GRACE = 5.0  # seconds beyond a request's deadline before the caller stops waiting


class _LoopThread:
    """An event loop running in a daemon thread, for blocking callers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="keyshelf-agent-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, R], timeout: float | None) -> R:
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("agent.sync called from its own event loop thread")
        if self.loop.is_closed():
            coro.close()
            raise RuntimeError("the client is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise RequestTimeout("no answer within the deadline") from None

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


def _blocking(
    method: Callable[Concatenate[_client.Client, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Client, P], R]:
    name = method.__name__

    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> R:
        bound: Callable[P, Coroutine[Any, Any, R]] = getattr(self.aio, name)
        deadline = kwargs.get("deadline")
        budget = deadline if isinstance(deadline, int | float) else self.aio.default_deadline
        return self._loop.run(bound(*args, **kwargs), budget * 3 + _GRACE)

    call.__name__ = name
    call.__qualname__ = f"Client.{name}"
    call.__doc__ = method.__doc__
    return call


class Client:
    """Blocking KMIP client; the constructor takes the arguments of :class:`agent.client.Client`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.aio = _client.Client(*args, **kwargs)
        self._loop = _LoopThread()

    @classmethod
    def from_config(cls, config: AgentConfig, **overrides: Any) -> Client:
        self = cls.__new__(cls)
        self.aio = _client.Client.from_config(config, **overrides)
        self._loop = _LoopThread()
        return self

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections and stop the background loop (idempotent)."""
        if not self._loop.loop.is_closed():
            try:
                self._loop.run(self.aio.close(), _GRACE)
            finally:
                self._loop.stop()

    def run(self, coro: Coroutine[Any, Any, R], timeout: float | None = None) -> R:
        """Run a coroutine that uses :attr:`aio` on the client's loop, blocking."""
        return self._loop.run(coro, timeout)

    @property
    def round_trips(self) -> int:
        return self.aio.round_trips

    @property
    def servers(self) -> tuple[ServerAddress, ...]:
        return self.aio.servers

    protocol_version = _blocking(_client.Client.protocol_version)
    batch = _blocking(_client.Client.batch)
    batch_results = _blocking(_client.Client.batch_results)
    create = _blocking(_client.Client.create)
    create_symmetric_key = _blocking(_client.Client.create_symmetric_key)
    create_key_pair = _blocking(_client.Client.create_key_pair)
    register = _blocking(_client.Client.register)
    register_secret = _blocking(_client.Client.register_secret)
    rekey = _blocking(_client.Client.rekey)
    locate = _blocking(_client.Client.locate)
    check = _blocking(_client.Client.check)
    get = _blocking(_client.Client.get)
    get_attributes = _blocking(_client.Client.get_attributes)
    get_attribute_list = _blocking(_client.Client.get_attribute_list)
    add_attribute = _blocking(_client.Client.add_attribute)
    modify_attribute = _blocking(_client.Client.modify_attribute)
    delete_attribute = _blocking(_client.Client.delete_attribute)
    set_attribute = _blocking(_client.Client.set_attribute)
    activate = _blocking(_client.Client.activate)
    revoke = _blocking(_client.Client.revoke)
    destroy = _blocking(_client.Client.destroy)
    query = _blocking(_client.Client.query)
    discover_versions = _blocking(_client.Client.discover_versions)


class TapeKeys:
    """Blocking :class:`agent.tape.TapeKeys` on a :class:`Client`."""

    def __init__(self, client: Client, **options: Any) -> None:
        from agent.tape import TapeKeys as _TapeKeys

        self._client = client
        self.aio = _TapeKeys(client.aio, **options)

    def _budget(self) -> float:
        # a write may Locate and Create again after an unknown outcome: a few deadlines
        return self._client.aio.default_deadline * 4 + _GRACE

    def key_for_write(self, cartridge: _tape.Cartridge, **kwargs: Any) -> _tape.TapeKey:
        return self._client.run(self.aio.key_for_write(cartridge, **kwargs), self._budget())

    def key_for_read(self, cartridge: _tape.Cartridge, **kwargs: Any) -> _tape.TapeKey:
        return self._client.run(self.aio.key_for_read(cartridge, **kwargs), self._budget())


class SedKeys:
    """Blocking :class:`agent.sed.SedKeys` on a :class:`Client`."""

    def __init__(self, client: Client, group: str, **options: Any) -> None:
        from agent.sed import SedKeys as _SedKeys

        self._client = client
        self.aio = _SedKeys(client.aio, group, **options)

    def _budget(self) -> float:
        return self._client.aio.default_deadline * 6 + _GRACE

    def register(self, drive: _sed.Drive | None, key: bytes, **kwargs: Any) -> str:
        return self._client.run(self.aio.register(drive, key, **kwargs), self._budget())

    def unlock_keys(self, drives: Sequence[_sed.Drive] | None = None) -> dict[str, list[_sed.SedKey]]:
        return self._client.run(self.aio.unlock_keys(drives), self._budget())

    def keys_for(self, drive: _sed.Drive) -> list[_sed.SedKey]:
        return self._client.run(self.aio.keys_for(drive), self._budget())

    def rotate(self, drive: _sed.Drive, new_key: bytes, **kwargs: Any) -> str:
        return self._client.run(self.aio.rotate(drive, new_key, **kwargs), self._budget())

    def retire(self, drive: _sed.Drive, keep_uid: str) -> int:
        return self._client.run(self.aio.retire(drive, keep_uid), self._budget())
