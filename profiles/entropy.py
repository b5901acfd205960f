"""Random bytes for key material, identifiers and wrapping nonces, drawn from the operating
system's CSPRNG (os.urandom, getrandom(2)) a page at a time.

Each os.urandom call releases the GIL around its system call; with the store's fsync and
checkpoint threads in the same process, the event loop then waited to take the GIL back three
times per Create (key, Unique Identifier, wrapping nonce). The pool makes that one call per
~100 Creates. Bytes handed out are zeroed in the pool; a forked child (server workers) starts
with an empty pool, so no two processes ever hand out the same bytes.
"""

from __future__ import annotations

import os
import threading
import uuid

_POOL_SIZE = 4096
_LARGEST = 256  # larger requests go to os.urandom directly


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._at = 0

    def reset(self) -> None:
        self._lock = threading.Lock()  # (a lock held by another thread at fork time stays held)
        self._buf[:] = bytes(len(self._buf))
        self._buf = bytearray()
        self._at = 0

    def take(self, n: int) -> bytes:
        if n > _LARGEST:
            return os.urandom(n)
        with self._lock:
            at = self._at
            if at + n > len(self._buf):
                self._buf[:] = bytes(len(self._buf))
                self._buf = bytearray(os.urandom(_POOL_SIZE))
                at = 0
            out = bytes(self._buf[at : at + n])
            self._buf[at : at + n] = bytes(n)
            self._at = at + n
            return out


_pool = _Pool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pool.reset)


def random_bytes(n: int) -> bytes:
    """``n`` bytes from the operating system's CSPRNG (ValueError if ``n`` is negative)."""
    if n < 0:
        raise ValueError("negative byte count")
    return _pool.take(n)


def new_uuid() -> str:
    """A random (version 4) UUID in its text form, as a Unique Identifier."""
    return str(uuid.UUID(bytes=random_bytes(16), version=4))
