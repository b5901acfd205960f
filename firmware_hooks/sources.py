"""What the hooks need from the key server, as protocols (the agent implements them).

The hooks never see KMIP: a *key source* answers in terms of cartridges and drives, and
raises one of three errors. ``firmware_hooks.agent_source`` implements the protocols over
``agent`` (Locate by ASI + Get, Create + Get, Register Secret Data in an Object Group...);
``firmware_hooks.memory`` is an in-memory stand-in for tests and dry runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "FetchedKey",
    "KeyDestroyed",
    "KeyNotFound",
    "KeySourceError",
    "SedKeySource",
    "ServerUnavailable",
    "TapeKeySource",
]


class KeySourceError(Exception):
    """Root of the key-source errors; ``reason`` is a short stable token for reports."""

    reason = "error"
    server: str | None = None  # the key server that gave this answer, when known


class KeyNotFound(KeySourceError):
    """The server holds no key for this cartridge / drive (a definitive answer)."""

    reason = "not-found"


class KeyDestroyed(KeySourceError):
    """The key existed and was destroyed (crypto-shred): the data is gone on purpose."""

    reason = "destroyed"


class ServerUnavailable(KeySourceError):
    """Could not get an answer (connection refused, TLS failure, timeout): worth a retry
    or another server."""

    reason = "server-unavailable"


@dataclass(frozen=True)
class FetchedKey:
    uid: str
    key: bytes = field(repr=False)


class TapeKeySource(Protocol):
    """Tape keys by cartridge identity (Tape Library profile)."""

    name: str

    def create_tape_key(self, generation: str, u_kad: bytes, a_kad: bytes, barcode: str) -> FetchedKey:
        """A new AES-256 key whose ASI is built from the KAD (Create + Get, TL-M-2)."""
        ...

    def get_tape_key(self, generation: str, u_kad: bytes, a_kad: bytes) -> FetchedKey:
        """The key whose ASI matches the KAD (Locate + Get, TL-M-3); KeyNotFound/KeyDestroyed."""
        ...


class SedKeySource(Protocol):
    """SED authentication keys (SA-SED profile): Secret Data in the array's Object Group."""

    name: str

    def register_auth_key(self, group: str, drive_id: str, key: bytes, *, replaces: str | None = None) -> str:
        """Register ``key`` for ``drive_id``; returns its Unique Identifier. With ``replaces``
        (first step of a rotation, ``agent.sed.SedKeys.register``) the new key and the one it
        replaces are linked: new -> Replaced Object, old -> Replacement Object (SPEC-1.4 §3.35)."""
        ...

    def register(self, group: str, drive_id: str, key: bytes) -> None:
        """``register_auth_key`` without a result: ``simulators.array.AuthKeyRegistry``, so a
        source is what ``StorageArray.take_ownership`` registers the drives' keys with."""
        ...

    def auth_keys(self, group: str, drive_id: str) -> list[FetchedKey]:
        """Every live key registered for the drive, newest first (more than one only after an
        interrupted rotation). KeyNotFound if none; KeyDestroyed if all were destroyed."""
        ...

    def retire_auth_keys(self, group: str, drive_id: str, keep_uid: str) -> int:
        """Destroy the drive's keys other than ``keep_uid`` (last step of a rotation,
        ``agent.sed.SedKeys.retire``); returns how many. KeyNotFound if ``keep_uid`` is not
        among the drive's live keys."""
        ...
