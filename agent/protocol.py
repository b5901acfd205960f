"""Sans-IO KMIP protocol pieces: no sockets, no asyncio, no clocks.

``Framer`` cuts a TTLV byte stream (TLS, or an HTTPS body) into whole messages. A message is
one top-level Structure, Request Message (0x420078) or Response Message (0x42007B), so its
8-byte header (Tag, Type, Length; KMIP 1.4 section 9.1.1, KMIP 2.1 section 10.1) says how
many bytes follow. The header is checked as soon as its 8 bytes are in, before any of the
body is buffered, so an oversized or malformed message is refused without reading it.
"""

from __future__ import annotations

import struct
from collections.abc import Collection
from typing import Final

from agent.spec import ItemType
from agent.ttlv import MAX_SIZE, DecodeError

__all__ = ["Framer"]

_HEADER: Final = struct.Struct(">II")  # Tag(3) and Type(1) as one word, then Length
_HEADER_SIZE: Final = _HEADER.size
_TAG_PREFIXES: Final = (0x42, 0x54)  # KMIP 1.4 section 9.1.1.1


class Framer:
    """Split a byte stream into whole TTLV messages.

    ``max_size`` bounds a whole message (header included), in bytes. ``expect_tags``, if
    given, is the set of acceptable top-level tags (e.g. ``{Tag.REQUEST_MESSAGE}`` on a
    server, ``{Tag.RESPONSE_MESSAGE}`` on a client).

    A bad header raises ``DecodeError``; the framer then stays failed and every later
    ``feed`` raises too, because the stream can no longer be split reliably (KMIP 2.1
    section 10.1, "Codec Error": such connections should be closed).
    """

    def __init__(self, max_size: int = MAX_SIZE, expect_tags: Collection[int] | None = None) -> None:
        if max_size < _HEADER_SIZE:
            raise ValueError("max_size must leave room for at least a TTLV header")
        self.max_size = max_size
        self.expect_tags: frozenset[int] | None = None if expect_tags is None else frozenset(expect_tags)
        self._buffer = bytearray()
        self._need = 0  # size of the message whose header has been checked, 0 if none yet
        self._error: DecodeError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received that are not yet part of a returned message."""
        return len(self._buffer)

    @property
    def failed(self) -> bool:
        """True once a bad header has been seen; the connection should be closed."""
        return self._error is not None

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next bytes of the stream; return the messages they complete, in order."""
        if self._error is not None:
            raise DecodeError("the stream already failed to frame")
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        start = 0
        available = len(buffer)
        while True:
            if not self._need:
                if available - start < _HEADER_SIZE:
                    break
                self._need = self._check_header(buffer, start)
            end = start + self._need
            if end > available:
                break
            messages.append(bytes(buffer[start:end]))
            start = end
            self._need = 0
        if start:
            del buffer[:start]
        return messages

    def _check_header(self, buffer: bytearray, start: int) -> int:
        word: int
        length: int
        word, length = _HEADER.unpack_from(buffer, start)
        tag, item_type = word >> 8, word & 0xFF
        problem = None
        if tag >> 16 not in _TAG_PREFIXES:
            problem = "bad tag"
        elif self.expect_tags is not None and tag not in self.expect_tags:
            problem = "unexpected message tag"
        elif item_type != ItemType.STRUCTURE:
            problem = "a message is a Structure"
        elif length % 8:
            problem = "a Structure's length is a multiple of 8"
        elif _HEADER_SIZE + length > self.max_size:
            problem = "message larger than the size bound"
        if problem is not None:
            self._error = DecodeError(problem)
            del buffer[:]
            raise self._error
        return _HEADER_SIZE + length
