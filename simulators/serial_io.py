"""Thin adapters that put the sans-IO protocol on a serial line (pyserial or a pty fd).

- :class:`SerialLink` - the library end: stop-and-wait with a sequence number, a response
  timeout and retransmission; frames with a bad CRC are dropped and counted.
- :class:`DeviceEndpoint` - the drive end, sans-IO: bytes in -> response bytes out; a
  retransmitted command (same seq and payload) gets the cached response, so a command whose
  response was lost is not executed twice.
- :class:`DeviceServer` - a thread serving endpoints on a channel (the drive side of a pty).
- :class:`LoopbackBus` - ``serial_for_url("loop://")`` echoes what is written, so both ends
  share the one port: the bus hands command frames to in-process endpoints and response
  frames to the host. Used in unit tests (with fault injection by :class:`FaultyChannel`).
- :func:`open_pty` / :class:`FdChannel` - a real pty pair: pyserial opens the slave by path,
  the drive thread serves the master fd.

Every read has a timeout; nothing here blocks forever.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import struct
import termios
import threading
import time
import tty
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import serial

from simulators.framing import MAX_PAYLOAD, Frame, FrameDecoder, FrameKind, encode_frame

__all__ = [
    "Channel",
    "DeviceEndpoint",
    "DeviceServer",
    "FaultyChannel",
    "FdChannel",
    "LinkStats",
    "LinkTimeout",
    "LoopbackBus",
    "SerialLink",
    "loop_port",
    "open_pty",
]


class Channel(Protocol):
    """What a link needs of a port; pyserial's ``Serial`` (with a read timeout) fits.

    ``read(n)`` must return within its timeout, with fewer bytes (or none) if none came.
    """

    def read(self, size: int = 1, /) -> bytes: ...
    def write(self, data: bytes, /) -> int | None: ...


def _drain(channel: Channel, first: bytes) -> bytes:
    """After a 1-byte blocking read, take whatever else is already waiting."""
    waiting = getattr(channel, "in_waiting", 0)
    if isinstance(waiting, int) and waiting > 0:
        return first + channel.read(waiting)
    return first


class LinkTimeout(Exception):
    """No valid response after every retransmission."""

    def __init__(self, address: int, attempts: int) -> None:
        super().__init__(f"drive {address}: no response after {attempts} attempts")
        self.address = address
        self.attempts = attempts


@dataclass
class LinkStats:
    commands: int = 0
    retransmissions: int = 0
    timeouts: int = 0


class SerialLink:
    """The host end of the line: ``transact(address, payload) -> payload``."""

    def __init__(
        self,
        channel: Channel,
        *,
        retries: int = 3,
        response_timeout: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if getattr(channel, "timeout", 0) is None:
            raise ValueError("the serial port needs a read timeout (timeout=None blocks forever)")
        self.channel = channel
        self.retries = retries
        self.response_timeout = response_timeout
        self._clock = clock
        self._decoder = FrameDecoder()
        self._seq = 0
        self._lock = threading.Lock()  # several drives may share one line
        self.stats = LinkStats()

    @property
    def crc_errors(self) -> int:
        return self._decoder.crc_errors

    def bind(self, address: int) -> Callable[[bytes], bytes]:
        """A ``transact(payload)`` for one drive address (what DriveClient takes)."""
        return lambda payload: self.transact(address, payload)

    def transact(self, address: int, payload: bytes) -> bytes:
        with self._lock:
            self._seq = (self._seq + 1) % 256
            seq = self._seq
            frame = encode_frame(Frame(address, seq, FrameKind.COMMAND, payload))
            self.stats.commands += 1
            attempts = 1 + self.retries
            for attempt in range(attempts):
                if attempt:
                    self.stats.retransmissions += 1
                self.channel.write(frame)
                deadline = self._clock() + self.response_timeout
                while self._clock() < deadline:
                    chunk = self.channel.read(1)
                    if not chunk:
                        self._decoder.reset()  # idle line: drop a partial (damaged) frame
                        continue
                    for reply in self._decoder.feed(_drain(self.channel, chunk)):
                        if reply.kind is FrameKind.RESPONSE and reply.address == address and reply.seq == seq:
                            return reply.payload
                        # anything else is a stale response to an earlier retransmission
                self.stats.timeouts += 1
            raise LinkTimeout(address, attempts)


class DeviceEndpoint:
    """The drive end, sans-IO: received bytes in, bytes to send back out."""

    def __init__(self, address: int, handler: Callable[[bytes], bytes]) -> None:
        self.address = address
        self._handler = handler
        self._decoder = FrameDecoder()
        self._last: tuple[int, bytes, bytes] | None = None  # seq, command, encoded response
        self.duplicates = 0

    @property
    def crc_errors(self) -> int:
        return self._decoder.crc_errors

    def receive(self, data: bytes) -> bytes:
        out = bytearray()
        for frame in self._decoder.feed(data):
            if frame.kind is not FrameKind.COMMAND or frame.address != self.address:
                continue
            if self._last is not None and self._last[0] == frame.seq and self._last[1] == frame.payload:
                self.duplicates += 1  # our response was lost: replay it, do not execute twice
                out += self._last[2]
                continue
            response = encode_frame(
                Frame(self.address, frame.seq, FrameKind.RESPONSE, self._handler(frame.payload))
            )
            self._last = (frame.seq, frame.payload, response)
            out += response
        return bytes(out)

    def idle(self) -> None:
        if self._decoder.pending:
            self._decoder.reset()


class DeviceServer:
    """Serves endpoints on a channel from a thread until :meth:`stop` (or the context exits)."""

    def __init__(self, channel: Channel, endpoints: Iterable[DeviceEndpoint]) -> None:
        self.channel = channel
        self.endpoints = list(endpoints)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drive-serial", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> DeviceServer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def __enter__(self) -> DeviceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self.channel.read(1)
                if not chunk:
                    for e in self.endpoints:
                        e.idle()
                    continue
                data = _drain(self.channel, chunk)
                out = b"".join(e.receive(data) for e in self.endpoints)
                if out:
                    self.channel.write(out)
        except BaseException as exc:  # reported to the test/owner, never swallowed silently
            self.error = exc


class LoopbackBus:
    """A host-side channel over ``loop://`` that also plays the drives on the same line."""

    def __init__(self, port: Channel, endpoints: Mapping[int, DeviceEndpoint]) -> None:
        self.port = port
        self.endpoints = dict(endpoints)
        self._decoder = FrameDecoder()
        self._to_host = bytearray()

    @property
    def in_waiting(self) -> int:
        return len(self._to_host)

    def write(self, data: bytes, /) -> int | None:
        return self.port.write(data)

    def read(self, size: int = 1, /) -> bytes:
        while not self._to_host:
            chunk = self.port.read(1)
            if not chunk:
                self._decoder.reset()
                for e in self.endpoints.values():
                    e.idle()
                return b""
            for frame in self._decoder.feed(_drain(self.port, chunk)):
                if frame.kind is FrameKind.COMMAND:
                    endpoint = self.endpoints.get(frame.address)
                    if endpoint is not None:
                        reply = endpoint.receive(encode_frame(frame))
                        if reply:
                            self.port.write(reply)
                else:
                    self._to_host += encode_frame(frame)
        out = bytes(self._to_host[:size])
        del self._to_host[:size]
        return out


@dataclass
class FaultyChannel:
    """Fault injection for tests: damages or drops chosen writes / reads (0-based call numbers)."""

    inner: Channel
    corrupt_writes: set[int] = field(default_factory=set)
    drop_writes: set[int] = field(default_factory=set)
    corrupt_reads: set[int] = field(default_factory=set)
    writes: int = 0
    reads: int = 0

    @property
    def in_waiting(self) -> int:
        waiting = getattr(self.inner, "in_waiting", 0)
        return waiting if isinstance(waiting, int) else 0

    def write(self, data: bytes, /) -> int | None:
        n = self.writes
        self.writes += 1
        if n in self.drop_writes:
            return len(data)
        if n in self.corrupt_writes:
            data = _flip(data)
        return self.inner.write(data)

    def read(self, size: int = 1, /) -> bytes:
        data = self.inner.read(size)
        if data:
            n = self.reads
            self.reads += 1
            if n in self.corrupt_reads:
                data = _flip(data)
        return data


def loop_port(timeout: float = 0.02) -> Any:
    """``serial_for_url("loop://")`` with a buffer that holds the largest frame.

    pyserial's loop port queues at most 4096 bytes and a single-threaded writer would block
    on a bigger frame with nobody reading; the write timeout turns any such case into an
    exception instead of a hang.
    """
    # The loop port refuses writes that would take longer than the write timeout at its
    # baud rate: a fast nominal rate keeps whole frames well inside it.
    port = serial.serial_for_url(
        "loop://", timeout=timeout, write_timeout=2.0, baudrate=4_000_000, do_not_open=True
    )
    port.buffer_size = 2 * (MAX_PAYLOAD + 64)  # type: ignore[attr-defined]  # loop:// only
    port.open()
    return port


def _flip(data: bytes) -> bytes:
    if not data:
        return data
    i = len(data) - 1  # the last byte: inside the CRC, so the frame keeps its shape
    return data[:i] + bytes([data[i] ^ 0x5A]) + data[i + 1 :]


class FdChannel:
    """A channel over a file descriptor (the master side of a pty), select()-based timeouts."""

    def __init__(self, fd: int, timeout: float = 0.05) -> None:
        self.fd = fd
        self.timeout = timeout

    @property
    def in_waiting(self) -> int:
        buf = fcntl.ioctl(self.fd, termios.FIONREAD, b"\x00\x00\x00\x00")
        return int(struct.unpack("i", buf)[0])

    def read(self, size: int = 1, /) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], self.timeout)
        if not ready:
            return b""
        try:
            return os.read(self.fd, size)
        except OSError:  # the other side closed (EIO on a pty master)
            return b""

    def write(self, data: bytes, /) -> int | None:
        view = memoryview(data)
        while view:
            _, ready, _ = select.select([], [self.fd], [], self.timeout)
            if not ready:
                raise TimeoutError("serial write timed out")
            n = os.write(self.fd, view)
            view = view[n:]
        return len(data)


@dataclass
class PtyPair:
    """A pty: ``path`` is the device node pyserial opens; ``master`` is served by the drive."""

    master: int
    slave: int
    path: str

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


def open_pty() -> PtyPair:
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no line editing, 8-bit clean (pyserial sets this too on open)
    return PtyPair(master, slave, os.ttyname(slave))
