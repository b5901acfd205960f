"""The tape-load hook: the library calls it when a cartridge has been loaded.

Blank cartridge (the drive reported no KAD): make a new client-created identifier
(``agent.tape.new_identifier``: 32 random bytes split into U-KAD / A-KAD for the
generation), have the server create a key with that ASI (Create + Get) and hand the key and
the KAD to the drive, which writes the KAD with every record.

Written cartridge: look its key up by the ASI rebuilt from the KAD (Locate + Get). A
missing or destroyed key is never replaced by a new one - that would make the cartridge's
data unreadable for good and hide the cause - it is reported (KeyUnavailable with the
reason) and the library leaves the drive without a key.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from agent.tape import new_identifier
from firmware_hooks.sources import KeySourceError, TapeKeySource
from simulators.cartridge import Kad
from simulators.library import KeyGrant, KeyUnavailable, LoadEvent

__all__ = ["TapeLoadHook", "TapeLoadStats"]

KEY_SIZE = 32


@dataclass
class TapeLoadStats:
    created: int = 0
    located: int = 0
    refused: int = 0


class TapeLoadHook:
    """``hook(event) -> KeyGrant``; raises ``KeyUnavailable(reason)``."""

    def __init__(
        self, source: TapeKeySource, *, token_bytes: Callable[[int], bytes] = secrets.token_bytes
    ) -> None:
        self.source = source
        self._token_bytes = token_bytes
        self.stats = TapeLoadStats()
        self._lock = threading.Lock()

    def __call__(self, event: LoadEvent) -> KeyGrant:
        generation = f"lto{event.generation}"
        try:
            if event.kad is None:
                u_kad, a_kad = new_identifier(generation, token_bytes=self._token_bytes)
                fetched = self.source.create_tape_key(generation, u_kad, a_kad, event.barcode)
                kad, created = Kad(u_kad, a_kad), True
            else:
                kad = event.kad
                fetched = self.source.get_tape_key(generation, kad.u_kad, kad.a_kad)
                created = False
        except KeySourceError as exc:
            self._count("refused")
            raise KeyUnavailable(exc.reason, f"{event.barcode}: {exc.reason}") from exc
        if len(fetched.key) != KEY_SIZE:
            self._count("refused")
            raise KeyUnavailable("bad-key", f"{event.barcode}: server key is not AES-256")
        self._count("created" if created else "located")
        return KeyGrant(fetched.key, kad, created, fetched.uid)

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self.stats, name, getattr(self.stats, name) + 1)
