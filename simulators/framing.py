"""Frames of the library <-> drive serial protocol (sans-IO).

::

    +------+------+-----+------+---------+-----------+-----------+
    | 'K'  | 'S'  | adr | seq  | kind    | len (BE16)| payload   | CRC-32 (BE32)
    +------+------+-----+------+---------+-----------+-----------+
                  \\______________ covered by the CRC ___________/

``adr`` is the drive's address on the line, ``seq`` the host's sequence number (a response
carries the seq of its command), ``kind`` 1 = command (host -> drive), 2 = response.
The CRC is CRC-32 (IEEE, zlib) over address, seq, kind, length and payload.

The decoder takes bytes in any chunking (whole, one byte at a time, with garbage or trailing
data) and returns whole frames; a frame whose CRC does not match is dropped and the decoder
resynchronises on the next magic. Nothing else is raised for peer bytes.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

__all__ = ["MAGIC", "MAX_PAYLOAD", "Frame", "FrameDecoder", "FrameKind", "encode_frame"]

MAGIC = b"KS"
MAX_PAYLOAD = 65535
_HEADER = struct.Struct(">2sBBBH")  # magic, address, seq, kind, length
_CRC = struct.Struct(">I")


class FrameKind(IntEnum):
    COMMAND = 1
    RESPONSE = 2


@dataclass(frozen=True)
class Frame:
    address: int
    seq: int
    kind: FrameKind
    payload: bytes


def encode_frame(frame: Frame) -> bytes:
    if len(frame.payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(frame.payload)} bytes exceeds {MAX_PAYLOAD}")
    head = _HEADER.pack(MAGIC, frame.address, frame.seq, int(frame.kind), len(frame.payload))
    body = head[2:] + frame.payload
    return MAGIC + body + _CRC.pack(zlib.crc32(body))


class FrameDecoder:
    """Bytes in, frames out; counts what it had to drop."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.crc_errors = 0
        self.discarded_bytes = 0

    def reset(self) -> None:
        """Drop a partial frame: called when the line has been idle (an inter-frame gap), so a
        damaged length field cannot swallow the frames that follow it."""
        self.discarded_bytes += len(self._buf)
        self._buf.clear()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while True:
            start = self._buf.find(MAGIC)
            if start < 0:
                # keep a trailing 'K' that may start the next magic
                keep = 1 if self._buf.endswith(MAGIC[:1]) else 0
                self.discarded_bytes += len(self._buf) - keep
                del self._buf[: len(self._buf) - keep]
                return frames
            if start:
                self.discarded_bytes += start
                del self._buf[:start]
            if len(self._buf) < _HEADER.size:
                return frames
            _, address, seq, kind, length = _HEADER.unpack_from(self._buf)
            total = _HEADER.size + length + _CRC.size
            if len(self._buf) < total:
                return frames
            body = bytes(self._buf[2 : _HEADER.size + length])
            (crc,) = _CRC.unpack_from(self._buf, _HEADER.size + length)
            if crc != zlib.crc32(body) or kind not in (FrameKind.COMMAND, FrameKind.RESPONSE):
                # Not a frame (or a damaged one): skip this magic and look for the next.
                self.crc_errors += 1
                self.discarded_bytes += 1
                del self._buf[:1]
                continue
            frames.append(Frame(address, seq, FrameKind(kind), body[_HEADER.size - 2 :]))
            del self._buf[:total]
