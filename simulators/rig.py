"""Assemble a library with its drives wired over a chosen transport.

- ``"direct"``: DriveClient -> DriveController.handle in-process (no line; for scale runs).
- ``"loop"``: every drive on one ``serial_for_url("loop://")`` line, by address.
- ``"pty"``: one pty per drive, the drive side served by a thread, pyserial opening the
  slave device node by path. Call :meth:`Rig.close` (or use ``with``) to stop the threads.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import serial

from simulators.adi import DriveController
from simulators.drive import TapeDrive
from simulators.library import KeyProvider, TapeLibrary, make_bays
from simulators.serial_io import (
    DeviceEndpoint,
    DeviceServer,
    FdChannel,
    LoopbackBus,
    PtyPair,
    SerialLink,
    loop_port,
    open_pty,
)

__all__ = ["Rig", "build_library", "seeded_randbytes"]

TRANSPORTS = ("direct", "loop", "pty")


def seeded_randbytes(seed: int | str) -> Callable[[int], bytes]:
    """Deterministic randomness for simulations and tests (never for real keys)."""
    rng = random.Random(seed)
    return rng.randbytes


@dataclass
class _Parts:
    """What the transport holds open: closed by ``_close`` (also when building fails)."""

    links: list[SerialLink] = field(default_factory=list)
    endpoints: list[DeviceEndpoint] = field(default_factory=list)
    _servers: list[DeviceServer] = field(default_factory=list)
    _ptys: list[PtyPair] = field(default_factory=list)
    _ports: list[Any] = field(default_factory=list)


@dataclass
class Rig(_Parts):
    library: TapeLibrary = field(kw_only=True)
    drives: list[TapeDrive] = field(kw_only=True)

    def close(self) -> None:
        _close(self)

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_library(
    name: str,
    *,
    drives: int,
    slots: int,
    key_provider: KeyProvider,
    transport: str = "direct",
    generation: int = 9,
    randbytes: Callable[[int], bytes] = os.urandom,
    port_timeout: float = 0.02,
    response_timeout: float = 0.5,
) -> Rig:
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {TRANSPORTS}")
    tape_drives = [TapeDrive(f"{name}-D{i:02d}", generation, randbytes=randbytes) for i in range(drives)]
    controllers = [DriveController(d, randbytes) for d in tape_drives]
    rig = _Parts()
    transacts: list[Callable[[bytes], bytes]] = []
    if transport == "direct":
        transacts = [c.handle for c in controllers]
    elif transport == "loop":
        port = loop_port(port_timeout)
        rig._ports.append(port)
        endpoints = {i + 1: DeviceEndpoint(i + 1, c.handle) for i, c in enumerate(controllers)}
        rig.endpoints = list(endpoints.values())
        link = SerialLink(LoopbackBus(port, endpoints), response_timeout=response_timeout)
        rig.links.append(link)
        transacts = [link.bind(i + 1) for i in range(drives)]
    else:
        try:
            _serve_ptys(controllers, rig, transacts, port_timeout, response_timeout)
        except BaseException:
            _close(rig)
            raise
    bays = make_bays(tape_drives, lambda i: transacts[i], randbytes)
    library = TapeLibrary(name, slots, bays, key_provider)
    return Rig(
        rig.links, rig.endpoints, rig._servers, rig._ptys, rig._ports, library=library, drives=tape_drives
    )


def _close(parts: _Parts) -> None:
    for server in parts._servers:
        server.stop()
    for port in parts._ports:
        with contextlib.suppress(Exception):
            port.close()
    for pty in parts._ptys:
        pty.close()
    parts._servers.clear()
    parts._ports.clear()
    parts._ptys.clear()


def _serve_ptys(
    controllers: list[DriveController],
    rig: _Parts,
    transacts: list[Callable[[bytes], bytes]],
    port_timeout: float,
    response_timeout: float,
) -> None:
    for c in controllers:
        pty = open_pty()
        rig._ptys.append(pty)
        endpoint = DeviceEndpoint(1, c.handle)
        rig.endpoints.append(endpoint)
        rig._servers.append(DeviceServer(FdChannel(pty.master, port_timeout), [endpoint]).start())
        port = serial.Serial(pty.path, baudrate=115200, timeout=port_timeout, write_timeout=1.0)
        rig._ports.append(port)
        link = SerialLink(port, response_timeout=response_timeout)
        rig.links.append(link)
        transacts.append(link.bind(1))
