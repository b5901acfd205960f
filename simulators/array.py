"""A storage array of self-encrypting drives.

Take ownership: a fresh random authentication key per drive, registered through the injected
:class:`AuthKeyRegistry` (the agent: Secret Data in the array's Object Group) *before* the
drive is told to use it, so a power cut can never leave a drive with a key the server lacks.
Boot: power the drives on (they come up locked) and run the injected boot hook
(``firmware_hooks.boot_unlock``; devices never import the hooks).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol, TypeVar

from simulators.sed import SelfEncryptingDrive

__all__ = ["AuthKeyRegistry", "StorageArray"]

T = TypeVar("T")


class AuthKeyRegistry(Protocol):
    def register(self, group: str, drive_id: str, key: bytes) -> None:
        """Store ``key`` as the authentication key of ``drive_id`` in Object Group ``group``."""
        ...


class StorageArray:
    def __init__(
        self,
        name: str,
        drives: int,
        *,
        randbytes: Callable[[int], bytes] = os.urandom,
        try_limit: int = 5,
    ) -> None:
        self.name = name
        self.group = f"array-{name}"
        self._randbytes = randbytes
        self.drives = [
            SelfEncryptingDrive(f"{name}-SED{i:04d}", try_limit=try_limit, randbytes=randbytes)
            for i in range(drives)
        ]

    def drive(self, serial: str) -> SelfEncryptingDrive:
        for d in self.drives:
            if d.serial == serial:
                return d
        raise KeyError(serial)

    def take_ownership(self, registry: AuthKeyRegistry) -> int:
        """Own every unowned drive with its own random key; returns how many were taken."""
        taken = 0
        for d in self.drives:
            if d.owned:
                continue
            key = self._randbytes(32)
            registry.register(self.group, d.serial, key)
            d.take_ownership(d.msid, key)
            taken += 1
        return taken

    def power_cycle(self) -> None:
        for d in self.drives:
            d.power_cycle()

    def boot(self, hook: Callable[[StorageArray], T]) -> T:
        """Power on and hand the (locked) drives to the boot hook; returns its report."""
        self.power_cycle()
        return hook(self)

    def locked(self) -> list[str]:
        return [d.serial for d in self.drives if d.locked]
