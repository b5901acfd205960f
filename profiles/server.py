"""The TTLV-over-mutual-TLS listener (port 5696), shaped like uvicorn: Config, ServerState, Server.

Transport rules (kmip-digest §1.1 framing, §3.4 transport):

- TLS >= 1.2 only (Profiles 1.4 §3.1: TLS 1.0 SHALL NOT), client certificate required and
  verified against the configured CA; the client identity is the certificate's subject CN
  (or its first subjectAltName of the configured kind: DNS, e-mail or URI) and is passed to the
  engine as data. A handshake without a certificate, with one from another CA, or an expired
  one fails and is logged; a certificate without a usable identity (none, empty, blank or
  unprintable) is closed right after the handshake and logged (Python's ssl module offers no
  hook to refuse it inside the handshake).
- Each connection reads through ``agent.protocol.Framer``: the 8-byte header is checked (tag,
  Structure type, length bound) before the body is buffered, so a header announcing 1 GiB is
  refused after at most one read chunk.
- Timeouts: ``idle_timeout`` between requests; ``read_timeout`` for one whole request once its
  first byte arrived (a client trickling bytes is dropped); ``handshake_timeout``; writes are
  bounded by ``read_timeout`` too.
- Admission: ``max_connections`` counts authenticated connections only (handshake done,
  certificate verified, identity read); connections still in their handshake are bounded by
  ``max_handshakes`` (and ``handshake_timeout``): beyond it the listener is not accepted from,
  so a flood of silent TCP connections delays other clients but never takes their places.
- Requests on one connection are answered in order; connections are served concurrently.
  TLS runs on ``ssl.SSLSocket`` objects driven by the loop's readiness callbacks (TlsStream),
  not through asyncio's pure-Python TLS transport.
- Where the engine runs: with a store that hands its durability waits over
  (DeferredDurability, the SQLite backend), every request runs on the event loop except a
  Locate with a Digest filter (it unwraps every candidate's material: thread pool); a
  durable write commits on the loop and its response waits, as an awaited future, until the
  loop syncs (Server._sync_owed: one fsync, on the loop, once every writing connection
  waits or COMMIT_DELAY_S after the first). The only process on a store batches its durable
  writes in one open transaction until then (store.batch_owed). With another store, requests
  that may wait on the disk run in a bounded thread pool (``workers``; 0 = on the loop) and
  only the reads (INLINE_OPERATIONS) on the loop.
- A framing error (bad header, oversized) gets the engine's Invalid Message response and the
  connection is closed, because later messages can no longer be separated (SPEC-2.1 §10.1
  "Codec Error"). A well-framed but undecodable message gets Invalid Message and the
  connection stays open. Nothing a client sends stops the server serving others.
- Shutdown: stop accepting, close idle connections, let in-flight requests finish and be
  answered, cancel what is still running after ``shutdown_timeout``.

One log line per request message: identity, peer, version, per batch item operation / unique
identifiers / result, milliseconds. Payloads are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import signal
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from agent.protocol import Framer
from agent.spec import ItemType, Operation, Tag
from agent.ttlv import DecodeError
from profiles.config import ConfigError, ServerConfig, TlsConfig
from profiles.logsetup import info_fields
from profiles.store.base import COMMIT_DELAY_S

log = logging.getLogger("keyshelf.server")

READ_CHUNK = 65536
LISTEN_BACKLOG = 100  # as asyncio.start_server; connections beyond max_handshakes wait here
ACCEPT_RETRY_DELAY = 1.0  # seconds before accepting again after EMFILE/ENFILE (as asyncio)
# TLS 1.2 suites: forward-secret AEAD first; the two RSA-key-exchange CBC-SHA256 suites last,
# because the KMIP Basic Authentication Suite (Profiles 1.4 §3.1, kmip-digest §3.4) requires
# TLS_RSA_WITH_AES_256_CBC_SHA256 / TLS_RSA_WITH_AES_128_CBC_SHA256 and tape drives use them.
TLS12_CIPHERS = (
    "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:AES256-SHA256:AES128-SHA256:!aNULL:!eNULL:!DSS"
)


# Operations that never wait on the disk. A request made only of these runs on the event loop:
# skipping the thread hand-off saves ~65 us. Get is one of them: its only write, clearing Fresh
# on the first Get (SPEC-1.4 §3.34), is not durable (Storage.update(durable=False)) and waits for
# no fsync. Everything else runs in the thread pool, where concurrent writers share one fsync
# (profiles/store/sqlite.py group commit) and an fsync never stalls the loop.
INLINE_OPERATIONS = frozenset(
    {
        Operation.GET,
        Operation.GET_ATTRIBUTES,
        Operation.GET_ATTRIBUTE_LIST,
        Operation.LOCATE,
        Operation.QUERY,
        Operation.DISCOVER_VERSIONS,
    }
)
# An Operation item as encoded in a batch item: tag 0x42005C, type Enumeration, length 4
# (kmip-digest §1.1), followed by the 4-byte value and 4 bytes of padding.
_OPERATION_ITEM = (Tag.OPERATION << 8 | ItemType.ENUMERATION).to_bytes(4, "big") + (4).to_bytes(4, "big")
# A Digest filter in a Locate: 1.x names it (Attribute Name "Digest", a Text String of 6 bytes),
# 2.x carries the Digest structure itself. Such a Locate unwraps every candidate's key material
# to compare Digest Values (operations/locate.py: the value is never stored), so it is CPU work
# proportional to the store, not an indexed read: it runs in the thread pool.
_DIGEST_NAME_ITEM = (
    (Tag.ATTRIBUTE_NAME << 8 | ItemType.TEXT_STRING).to_bytes(4, "big") + (6).to_bytes(4, "big") + b"Digest"
)
_DIGEST_ITEM = (Tag.DIGEST << 8 | ItemType.STRUCTURE).to_bytes(4, "big")


def _has_item(data: bytes, header: bytes) -> bool:
    """True if ``header`` occurs at an item boundary candidate (TTLV items start at offsets
    that are multiples of 8 from the message start)."""
    pos = data.find(header)
    while pos >= 0:
        if pos % 8 == 0:
            return True
        pos = data.find(header, pos + 1)
    return False


def _operations(data: bytes) -> Iterator[int]:
    """The values of the Operation items found at item boundaries of a raw request (a hint:
    a byte string holding the same bytes can only move a request to the other executor)."""
    pos = data.find(_OPERATION_ITEM)
    while pos >= 0:
        yield int.from_bytes(data[pos + 8 : pos + 12], "big")
        pos = data.find(_OPERATION_ITEM, pos + 16)


def _digest_locate(data: bytes) -> bool:
    """True if the raw request may hold a Locate with a Digest filter (a hint, as reads_only)."""
    return Operation.LOCATE in _operations(data) and (
        _has_item(data, _DIGEST_NAME_ITEM) or _has_item(data, _DIGEST_ITEM)
    )


def reads_only(data: bytes) -> bool:
    """Scheduling hint, never a decision about the request: True if the raw request holds at
    least one Operation item, all of them are in INLINE_OPERATIONS, and no Locate among them
    carries a Digest filter."""
    operations = list(_operations(data))
    return bool(operations) and INLINE_OPERATIONS.issuperset(operations) and not _digest_locate(data)


# -- what the server needs from the engine ---------------------------------------------------


class ItemSummary(Protocol):
    """Per batch item log data (profiles.engine.ItemLog)."""

    @property
    def operation(self) -> str: ...
    @property
    def unique_identifiers(self) -> Sequence[str]: ...
    @property
    def status(self) -> str: ...
    @property
    def reason(self) -> str | None: ...


class RequestSummary(Protocol):
    """Per request log data (profiles.engine.RequestLog)."""

    @property
    def version(self) -> str: ...
    @property
    def items(self) -> Sequence[ItemSummary]: ...


class RequestHandler(Protocol):
    """The engine as the server sees it: blocking, thread-safe, never raises."""

    def handle_logged(self, data: bytes, identity: str) -> tuple[bytes, RequestSummary]: ...


class Owed(Protocol):
    @property
    def seq(self) -> int: ...

    @property
    def gen(self) -> int: ...


@runtime_checkable
class DeferredDurability(Protocol):
    """A store whose durable writes can be waited for after the request that made them
    (profiles/store/sqlite.py). Inside ``owed_durability()`` the engine's writes commit but
    do not wait for the disk; the scope then names the write unit (``seq``, 0: none) that
    must be on disk before the response may be sent, and the fsync (``gen``, 0: none) that
    must have ended (the request read what another process wrote and has not synced yet);
    ``sync_owed([(seq, gen), ...])`` makes a batch of them durable with one group fsync on the
    calling thread, and gives for each None or the error it failed with (the store's
    StoreError: the response must not be sent). It never raises. ``batch_owed()``: the
    durable writes may stay in one open transaction until that sync commits them together
    (only where no other process writes to the store)."""

    def owed_durability(self) -> AbstractContextManager[Owed]: ...

    def sync_owed(self, owed: Sequence[tuple[int, int]]) -> Sequence[Exception | None]: ...

    def batch_owed(self, on: bool = True) -> None: ...


# -- TLS ------------------------------------------------------------------------------------


def build_ssl_context(tls: TlsConfig) -> ssl.SSLContext:
    """Server context: TLS >= 1.2, client certificate required and verified against client_ca."""
    if tls.certificate is None or tls.private_key is None or tls.client_ca is None:
        raise ConfigError(
            "tls.certificate, tls.private_key and tls.client_ca must be configured "
            "(keyshelf-server init DIR writes a working set)"
        )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if tls.minimum_version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
    ctx.set_ciphers(TLS12_CIPHERS)
    try:
        ctx.load_cert_chain(tls.certificate, tls.private_key)
        ctx.load_verify_locations(cafile=tls.client_ca)
    except OSError as exc:
        raise ConfigError(f"cannot load TLS files: {exc.strerror}: {exc.filename}") from None
    except ssl.SSLError as exc:
        raise ConfigError(f"cannot load TLS certificate/key/CA: {exc.reason or exc}") from None
    return ctx


# tls.identity (config.IDENTITY_MODES) -> the subjectAltName kind it reads (ssl.getpeercert()
# names); "cn" reads the subject. "san" is "san-dns": it once meant the first subjectAltName of
# any kind, so that a certificate's URI or e-mail address could pass for another client's DNS name.
SAN_KINDS = {"san": "DNS", "san-dns": "DNS", "san-email": "email", "san-uri": "URI"}


def usable_identity(value: str) -> bool:
    """An owner name: not empty, printable, no surrounding blanks (an empty CN would make every
    such certificate one owner; " client-a" would pass for client-a in a log)."""
    return bool(value) and value.isprintable() and value == value.strip()


def peer_identity(cert: dict[str, Any] | None, mode: str = "cn") -> str | None:
    """The client identity from a verified peer certificate (``ssl.getpeercert()`` form): the
    first subject Common Name ("cn") or the first subjectAltName of the mode's kind
    (SAN_KINDS); None if there is none or it is not usable (``usable_identity``)."""
    if not cert:
        return None
    if mode == "cn":
        values = [value for rdn in cert.get("subject", ()) for key, value in rdn if key == "commonName"]
    elif mode in SAN_KINDS:
        values = [value for kind, value in cert.get("subjectAltName", ()) if kind == SAN_KINDS[mode]]
    else:
        raise ValueError(f"unknown identity mode {mode!r}")
    if not values or not usable_identity(str(values[0])):
        return None
    return str(values[0])


def _handshake_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return str(exc.reason or type(exc).__name__)
    if isinstance(exc, TimeoutError):
        return "handshake timeout"
    return type(exc).__name__


class TlsStream:
    """The server side of one TLS connection: an ``ssl.SSLSocket`` on a non-blocking socket,
    driven by the event loop's readiness callbacks.

    The SSLSocket does the record layer and the socket I/O in C. asyncio's own TLS transport
    (``loop.start_tls``: asyncio/sslproto.py) passes every record through memory BIOs and a
    chain of protocol and transport objects written in Python, which cost more server CPU per
    request than the engine's whole Get does (kmip-digest §1.1: one request message, one
    response message, in order).

    Reading: once the handshake is done the socket stays registered for readability and the
    callback drains it into a buffer (so epoll, level-triggered, never calls it twice for the
    same bytes) and wakes the reader; past ``READ_CHUNK`` buffered bytes reading pauses until
    the connection consumes them. Writing: straight to the socket; only a full socket buffer
    makes the writer wait for writability."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: ssl.SSLSocket) -> None:
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._eof = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._reading = False  # _on_readable is registered
        self._closed = False

    @classmethod
    def wrap(cls, sock: socket.socket, context: ssl.SSLContext) -> TlsStream:
        """Server-side TLS over an accepted, non-blocking TCP socket (handshake not started)."""
        sock.setblocking(False)  # one passed from the supervisor may arrive blocking
        with contextlib.suppress(OSError):  # as asyncio sets it (TCP only)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tls = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return cls(asyncio.get_running_loop(), tls)

    # -- handshake and peer -------------------------------------------------------------------

    async def handshake(self) -> None:
        """The server side of the TLS handshake (ssl.SSLError if the peer is refused)."""
        while True:
            try:
                self._sock.do_handshake()
                return
            except ssl.SSLWantReadError:
                await self._ready(self._loop.add_reader, self._loop.remove_reader)
            except ssl.SSLWantWriteError:
                await self._ready(self._loop.add_writer, self._loop.remove_writer)

    def peercert(self) -> dict[str, Any] | None:
        return self._sock.getpeercert()

    def version(self) -> str | None:
        return self._sock.version()

    def cipher(self) -> str:
        cipher = self._sock.cipher()
        return cipher[0] if cipher else "?"

    # -- reading ------------------------------------------------------------------------------

    def _on_readable(self) -> None:
        try:
            while True:
                chunk = self._sock.recv(READ_CHUNK)
                if not chunk:
                    self._eof = True
                    break
                self._chunks.append(chunk)
                self._buffered += len(chunk)
                if self._buffered >= READ_CHUNK or not self._sock.pending():
                    break  # more bytes on the socket: epoll calls again
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLWantWriteError:
            # TLS needs to write before it can read on (a TLS 1.3 key update): retry the read
            # once the socket is writable
            self._pause()
            self._loop.add_writer(self._fd, self._retry_read)
            return
        except (ssl.SSLError, OSError) as exc:
            self._error = exc
        if self._eof or self._error is not None or self._buffered >= READ_CHUNK:
            self._pause()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _retry_read(self) -> None:
        self._loop.remove_writer(self._fd)
        if not self._closed:
            self._on_readable()
            if not (self._eof or self._error is not None or self._buffered >= READ_CHUNK):
                self._resume()

    def _pause(self) -> None:
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False

    def _resume(self) -> None:
        if not self._reading and not self._closed:
            self._loop.add_reader(self._fd, self._on_readable)
            self._reading = True

    async def read(self, deadline: float) -> bytes:
        """The next bytes received (up to ``READ_CHUNK``), b"" at end of stream; TimeoutError
        if none arrived by ``deadline`` (loop time); raises the connection's error
        (ConnectionError, OSError, ssl.SSLError). The timer exists only while it waits: one
        call_at, not an asyncio.timeout() scope per request."""
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self._eof:
                return b""
            self._resume()
            waiter = self._loop.create_future()
            self._waiter = waiter
            timer = self._loop.call_at(deadline, _expire, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        return data

    # -- writing ------------------------------------------------------------------------------

    def write_now(self, data: bytes) -> memoryview | None:
        """Hand ``data`` to the socket; what did not fit (None: everything was sent)."""
        view = memoryview(data)
        try:
            while view:
                view = view[self._sock.send(view) :]
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
            return view
        return None

    async def write_rest(self, rest: memoryview) -> None:
        """Send what ``write_now`` left, waiting for the socket to drain."""
        view: memoryview | None = rest
        while view:
            await self._ready(self._loop.add_writer, self._loop.remove_writer)
            view = self.write_now(view.tobytes())

    async def _ready(
        self,
        add: Callable[..., object],
        remove: Callable[[int], object],
    ) -> None:
        waiter: asyncio.Future[None] = self._loop.create_future()
        add(self._fd, _wake, waiter)
        try:
            await waiter
        finally:
            if not self._closed:
                remove(self._fd)

    def close(self) -> None:
        """Abort: unregister and close the socket (no close_notify, as transport.abort())."""
        if self._closed:
            return
        self._pause()
        self._closed = True
        self._loop.remove_writer(self._fd)
        self._sock.close()


# -- server ---------------------------------------------------------------------------------


@dataclass(eq=False)
class Connection:
    """One client connection, tracked by ServerState."""

    task: asyncio.Task[Any]
    peer: str
    identity: str | None = None
    busy: bool = False  # a request is being received, processed or answered
    requests: int = 0
    handshaking: bool = True  # counted in ServerState.handshakes
    slot: bool = False  # holds one of the listener's max_handshakes slots
    admitted: bool = False  # counted in ServerState.clients (against max_connections)


def log_listening(config: ServerConfig, port: int, **extra: object) -> None:
    """The one "listening" log line, written by a single server or by the supervisor."""
    fields: dict[str, object] = {
        "host": config.host,
        "port": port,
        "tls_min": config.tls.minimum_version,
        **extra,
        "workers": config.limits.workers,
        "max_connections": config.limits.max_connections,
        "max_handshakes": config.limits.max_handshakes,
    }
    log.info("listening", extra={"fields": fields})


@dataclass
class ServerState:
    """Shared, observable state of a running Server (uvicorn's ServerState)."""

    connections: set[Connection] = field(default_factory=set)  # every open one, any stage
    total_connections: int = 0
    total_requests: int = 0
    refused_handshakes: int = 0
    closing: bool = False
    handshakes: int = 0  # connections in their TLS handshake (limits.max_handshakes)
    clients: int = 0  # authenticated connections (limits.max_connections)


class Admission(Protocol):
    """Where ``max_connections`` is counted when the Server is one of several processes
    (profiles.supervisor: the parent counts for all). Without one, the Server counts itself.
    Each connection the Server serves ends its handshake exactly once: by ``admit()`` (its
    certificate gave an identity), else by ``handshake_ended()``; an admitted one calls
    ``closed()`` when it ends."""

    async def admit(self) -> bool:
        """May this authenticated connection be served (False: max_connections reached)?"""
        ...

    def handshake_ended(self) -> None:
        """A connection left its handshake without an identity (failed, refused, closed)."""
        ...

    def closed(self) -> None:
        """An admitted connection ended."""
        ...


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _expire(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


def bind_listeners(host: str, port: int) -> list[socket.socket]:
    """Non-blocking listening sockets, one per address ``host`` resolves to, bound as
    asyncio.start_server binds them (SO_REUSEADDR; IPv6 only on an IPv6 address; backlog
    LISTEN_BACKLOG: where connections wait while max_handshakes are in their handshake)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    addresses = dict.fromkeys((family, kind, proto, address) for family, kind, proto, _, address in infos)
    socks: list[socket.socket] = []
    try:
        for family, kind, proto, address in addresses:
            sock = socket.socket(family, kind, proto)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks


class Server:
    """Serves ``handler`` over mutual TLS. ``start`` binds, ``shutdown`` drains.

    Admission, in two stages (an unauthenticated client must not take an authenticated one's
    place): a connection in its TLS handshake holds one of ``max_handshakes`` slots for at most
    ``handshake_timeout``; when all are taken the listener is not accepted from, so further
    connections wait in the kernel's listen backlog (delayed, not reset). Once the handshake
    is done and the certificate gave an identity, the connection counts against
    ``max_connections`` (``admission``: counted by the supervisor for every process); beyond
    it, it is closed and logged. A connection accepted while ``max_connections``
    authenticated ones are open is closed at once."""

    def __init__(
        self,
        config: ServerConfig,
        handler: RequestHandler,
        ssl_context: ssl.SSLContext | None = None,
        *,
        admission: Admission | None = None,
    ) -> None:
        self.config = config
        self.handler = handler
        self.ssl_context = ssl_context or build_ssl_context(config.tls)
        self.state = ServerState()
        self.admission = admission
        self._listeners: list[socket.socket] = []
        self._accepting: asyncio.Task[None] | None = None
        self._accepted: set[asyncio.Task[None]] = set()  # the accept loop's connection tasks
        self._slots = asyncio.Semaphore(config.limits.max_handshakes)
        self._port: int | None = None
        workers = config.limits.workers
        self._executor = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="keyshelf-engine") if workers else None
        )
        # With a store that hands durability waits over (DeferredDurability), every request
        # but a Digest Locate runs on the event loop: the engine's CPU work stays on one
        # thread (no hand-off to a pool thread and back, no contention for the GIL), and a
        # durable write's response awaits the loop's own group fsync (_sync_owed).
        store = getattr(handler, "store", None)
        self._durability = store if isinstance(store, DeferredDurability) else None
        # Connections whose last durable write is at most WRITERS_WINDOW_S old, oldest first:
        # how many clients write concurrently, for the store's commit delay (_writers).
        self._recent_writers: dict[Connection, float] = {}
        # Responses waiting for the disk: (seq, gen) owed and the future their request awaits.
        # The loop syncs them itself (_sync_owed), once every concurrent writer waits or
        # COMMIT_DELAY_S after the first (the timer).
        self._owed: list[tuple[int, int, asyncio.Future[None]]] = []
        self._sync_timer: asyncio.TimerHandle | None = None
        if self._durability is not None and admission is None:
            # The only server process on the store: its durable writes wait in one open
            # transaction for _sync_owed (one COMMIT for the batch). A worker of several does
            # not: the open transaction would hold the other workers' writes for a batch.
            self._durability.batch_owed(True)

    @property
    def port(self) -> int:
        """The bound TCP port (useful with port 0); kept after the listener closed."""
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    async def start(self) -> None:
        """Bind and start accepting. Raises OSError if the address is unavailable."""
        self._listeners = bind_listeners(self.config.host, self.config.port)
        self._port = int(self._listeners[0].getsockname()[1])
        self._accepting = asyncio.get_running_loop().create_task(self._accept_loop())
        log_listening(self.config, self.port)

    async def _accept_loop(self) -> None:
        """Accept while a handshake slot is free; otherwise leave connections in the backlog."""
        loop = asyncio.get_running_loop()
        while True:
            await self._slots.acquire()
            try:
                sock = await self._accept_any()
            except BaseException as exc:
                self._slots.release()
                if not isinstance(exc, OSError):
                    raise  # cancelled: shutdown
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    # out of descriptors or memory: retry later (as asyncio's own server does)
                    log.warning("accept failed", extra={"fields": {"error": type(exc).__name__}})
                    await asyncio.sleep(ACCEPT_RETRY_DELAY)
                continue  # ECONNABORTED and the like: that connection is gone
            task = loop.create_task(self._run_connection(sock, slot=True))
            self._accepted.add(task)
            task.add_done_callback(self._accepted.discard)

    async def _accept_any(self) -> socket.socket:
        """The next connection on any listener (the slot taken first is for whichever)."""
        loop = asyncio.get_running_loop()
        while True:
            for listener in self._listeners:
                try:
                    sock, _address = listener.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                sock.setblocking(False)
                return sock
            readable: asyncio.Future[None] = loop.create_future()
            for listener in self._listeners:
                loop.add_reader(listener.fileno(), _wake, readable)
            try:
                await readable
            finally:
                for listener in self._listeners:
                    loop.remove_reader(listener.fileno())

    def adopt(self, port: int) -> None:
        """Serve connections accepted by another process (profiles.supervisor) instead of
        binding: ``port`` is the listener's, for ``self.port``; connections come in through
        :meth:`serve_socket`."""
        self._port = port

    async def serve_socket(self, sock: socket.socket) -> None:
        """Serve one connection accepted elsewhere (a connected TCP socket; TLS not started),
        exactly as one accepted by :meth:`start`'s listener (the handshake bound is then the
        accepting process's)."""
        await self._run_connection(sock, slot=False)

    async def shutdown(self) -> None:
        """Stop accepting, drain in-flight requests, cancel after shutdown_timeout."""
        state = self.state
        if state.closing:
            return
        state.closing = True
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
        for listener in self._listeners:
            listener.close()
        for conn in list(state.connections):
            if not conn.busy:
                conn.task.cancel()
        tasks = [c.task for c in state.connections] + [t for t in self._accepted if not t.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.config.limits.shutdown_timeout)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("shutdown cancelled requests", extra={"fields": {"count": len(pending)}})
                await asyncio.wait(pending, timeout=5)
        if self._executor is not None:
            # Engine calls of cancelled connections may still be running: let them finish.
            await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)
        log.info(
            "stopped",
            extra={
                "fields": {
                    "connections": state.total_connections,
                    "requests": state.total_requests,
                    "refused_handshakes": state.refused_handshakes,
                }
            },
        )

    async def serve(self, stop: asyncio.Event) -> None:
        """Start, run until ``stop`` is set, then shut down."""
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.shutdown()

    # -- one connection -------------------------------------------------------------------

    async def _run_connection(self, sock: socket.socket, *, slot: bool) -> None:
        state = self.state
        try:
            peername = sock.getpeername()
            peer = f"{peername[0]}:{peername[1]}"
        except (OSError, IndexError, TypeError):
            peer = "?"
        task = asyncio.current_task()
        assert task is not None
        conn = Connection(task, peer, slot=slot)
        state.connections.add(conn)
        state.handshakes += 1
        stream: TlsStream | None = None
        try:
            full = self.admission is None and state.clients >= self.config.limits.max_connections
            if state.closing or full:
                reason = "shutting down" if state.closing else "max connections"
                log.warning("connection refused", extra={"fields": {"peer": peer, "reason": reason}})
                return
            state.total_connections += 1
            stream = TlsStream.wrap(sock, self.ssl_context)
            await self._serve_connection(conn, stream)
        except asyncio.CancelledError:
            pass  # shutdown; the transport is aborted below
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            log.info("connection lost", extra={"fields": {"peer": peer, "error": type(exc).__name__}})
        except Exception:
            log.error("connection failed", exc_info=True, extra={"fields": {"peer": peer}})
        finally:
            self._end_handshake(conn, admitting=False)
            if conn.admitted:
                conn.admitted = False
                state.clients -= 1
                if self.admission is not None:
                    self.admission.closed()
            state.connections.discard(conn)
            self._recent_writers.pop(conn, None)
            if stream is not None:
                stream.close()
            else:
                sock.close()

    def _sync_owed(self) -> None:
        """Group commit on the loop: one fsync (the store's ``sync_owed``) for every response
        waiting for the disk, then each is released (or failed). Run when every connection
        that writes is waiting, so the loop has nothing else to do meanwhile, or when the
        commit delay is over. Blocking the loop for the fsync (~0.2-0.6 ms here) costs less
        than handing the wait to a thread: the thread's wake-ups and GIL hand-offs cost
        ~90 us of CPU per Create at concurrency 8, and with every client waiting the loop
        would only have slept."""
        if self._sync_timer is not None:
            self._sync_timer.cancel()
            self._sync_timer = None
        owed, self._owed = self._owed, []
        if not owed:
            return
        assert self._durability is not None
        errors: Sequence[Exception | None]
        try:
            errors = self._durability.sync_owed([(seq, gen) for seq, gen, _ in owed])
        except Exception as exc:  # (the contract says it never raises: nobody may hang on it)
            errors = [exc] * len(owed)
        for (_, _, future), error in zip(owed, errors, strict=True):
            if future.done():
                continue  # its task was cancelled (shutdown): nobody waits any more
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    def _writers(self, conn: Connection) -> int:
        """The connections of this process that made a durable write within WRITERS_WINDOW_S,
        ``conn`` (writing now) included."""
        now = time.monotonic()
        recent = self._recent_writers
        recent.pop(conn, None)
        recent[conn] = now  # the newest last
        cutoff = now - WRITERS_WINDOW_S
        while True:  # (ends at ``conn`` at the latest)
            oldest, at = next(iter(recent.items()))
            if at >= cutoff:
                return len(recent)
            del recent[oldest]

    def _end_handshake(self, conn: Connection, *, admitting: bool) -> None:
        """``conn`` leaves its handshake (once): its slot is free again; the supervisor hears
        of it unless it is about to ask to admit the connection."""
        if not conn.handshaking:
            return
        conn.handshaking = False
        self.state.handshakes -= 1
        if conn.slot:
            self._slots.release()
        if not admitting and self.admission is not None:
            self.admission.handshake_ended()

    async def _admit(self, conn: Connection) -> bool:
        """Count the authenticated ``conn`` against max_connections, if there is room."""
        self._end_handshake(conn, admitting=True)
        if self.admission is not None:
            if not await self.admission.admit():
                return False
        elif self.state.clients >= self.config.limits.max_connections:
            return False
        conn.admitted = True
        self.state.clients += 1
        return True

    async def _serve_connection(self, conn: Connection, stream: TlsStream) -> None:
        limits = self.config.limits
        try:
            async with asyncio.timeout(limits.handshake_timeout):
                await stream.handshake()
        except (ssl.SSLError, TimeoutError, ConnectionError, OSError) as exc:
            self.state.refused_handshakes += 1
            log.warning(
                "handshake refused", extra={"fields": {"peer": conn.peer, "reason": _handshake_reason(exc)}}
            )
            return
        identity = peer_identity(stream.peercert(), self.config.tls.identity)
        if identity is None:
            self.state.refused_handshakes += 1
            log.warning(
                "handshake refused",
                extra={
                    "fields": {
                        "peer": conn.peer,
                        "reason": f"certificate has no usable {self.config.tls.identity} identity",
                    }
                },
            )
            return
        if not await self._admit(conn):
            log.warning(
                "connection refused",
                extra={"fields": {"peer": conn.peer, "client": identity, "reason": "max connections"}},
            )
            return
        conn.identity = identity
        log.info(
            "connected",
            extra={
                "fields": {
                    "peer": conn.peer,
                    "client": identity,
                    "tls": stream.version(),
                    "cipher": stream.cipher(),
                }
            },
        )
        loop = asyncio.get_running_loop()
        framer = Framer(limits.max_message_size, expect_tags={Tag.REQUEST_MESSAGE})
        deadline: float | None = None  # read deadline of the message being received
        while True:
            if framer.buffered == 0:
                deadline = None
                conn.busy = False
                if self.state.closing:
                    return
                wait_until = loop.time() + limits.idle_timeout
            else:
                if deadline is None:
                    deadline = loop.time() + limits.read_timeout
                wait_until = deadline
            try:
                data = await stream.read(wait_until)
            except TimeoutError:
                reason = "idle timeout" if deadline is None else "read timeout"
                log.info(
                    "connection dropped",
                    extra={"fields": {"peer": conn.peer, "client": identity, "reason": reason}},
                )
                return
            if not data:
                if framer.buffered:
                    log.info(
                        "connection dropped",
                        extra={
                            "fields": {"peer": conn.peer, "client": identity, "reason": "truncated message"}
                        },
                    )
                return
            conn.busy = True
            if deadline is None:
                deadline = loop.time() + limits.read_timeout
            try:
                messages = framer.feed(data)
            except DecodeError as exc:
                # The stream cannot be split any more: answer Invalid Message, then close.
                log.info(
                    "connection dropped",
                    extra={"fields": {"peer": conn.peer, "client": identity, "reason": f"framing: {exc}"}},
                )
                await self._answer(conn, stream, data[:READ_CHUNK], identity)
                return
            for message in messages:
                if not await self._answer(conn, stream, message, identity):
                    return
            if messages:
                deadline = None  # a partial remainder starts its own clock at the next read

    async def _answer(self, conn: Connection, stream: TlsStream, data: bytes, identity: str) -> bool:
        """Run one request through the engine and write the response. False: close."""
        start = time.perf_counter()
        durability = self._durability
        owed = owed_gen = 0
        try:
            if self._executor is None:
                inline = True
            elif durability is not None:
                inline = not _digest_locate(data)
            else:
                inline = self.config.limits.inline_reads and reads_only(data)
            if not inline:
                assert self._executor is not None
                loop = asyncio.get_running_loop()
                response, summary = await loop.run_in_executor(
                    self._executor, self.handler.handle_logged, data, identity
                )
            elif durability is not None:
                with durability.owed_durability() as scope:
                    response, summary = self.handler.handle_logged(data, identity)
                owed, owed_gen = scope.seq, scope.gen
            else:
                response, summary = self.handler.handle_logged(data, identity)
        except Exception:
            # The engine contract says it never raises; if it does, nothing can be answered.
            log.error(
                "engine failed", exc_info=True, extra={"fields": {"peer": conn.peer, "client": identity}}
            )
            return False
        if owed or owed_gen:
            assert durability is not None
            try:
                # (a read waiting for another process's write is not a writer of this one)
                writers = self._writers(conn) if owed else len(self._recent_writers) or 1
                loop = asyncio.get_running_loop()
                future = loop.create_future()
                self._owed.append((owed, owed_gen, future))
                if len(self._owed) >= writers:
                    self._sync_owed()
                elif self._sync_timer is None:
                    self._sync_timer = loop.call_later(COMMIT_DELAY_S, self._sync_owed)
                await future
            except Exception:
                # The group fsync failed (the store refuses durable writes from now on): the
                # write may not survive a crash, so it is not acknowledged. The client sees the
                # connection close without an answer and must treat the request as failed.
                log.error(
                    "durable write not confirmed: connection closed without an answer",
                    exc_info=True,
                    extra={"fields": {"peer": conn.peer, "client": identity}},
                )
                return False
        # Logged and counted before the write, so a client holding its response can rely on both.
        # The line is built only from the engine's summary (nothing is decoded again for it).
        if log.isEnabledFor(logging.INFO):
            info_fields(
                log,
                "request",
                {
                    "client": identity,
                    "peer": conn.peer,
                    "version": summary.version,
                    "items": [
                        {
                            "op": item.operation,
                            "uid": list(item.unique_identifiers),
                            "result": item.status,
                            "reason": item.reason,
                        }
                        for item in summary.items
                    ],
                    "bytes_in": len(data),
                    "bytes_out": len(response),
                    "ms": round((time.perf_counter() - start) * 1000.0, 3),
                },
            )
        conn.requests += 1
        self.state.total_requests += 1
        rest = stream.write_now(response)
        if rest is None:
            return True  # all handed to the kernel: no wait (and no timer) needed
        try:
            async with asyncio.timeout(self.config.limits.read_timeout):
                await stream.write_rest(rest)
        except TimeoutError:
            log.info(
                "connection dropped",
                extra={"fields": {"peer": conn.peer, "client": identity, "reason": "write timeout"}},
            )
            return False
        return True


# -- the whole process ------------------------------------------------------------------------


# Cyclic garbage collection, tuned for a long-running server whose requests allocate many
# short-lived containers: with CPython's default first-generation threshold (700) a Create
# spent ~39 us of ~700 us in collections (452 young collections per 5,000 Creates, each
# also walking the start-up objects once they reach the older generations). The start-up
# heap (modules, registry, catalog, caches) is frozen out of collection, and the
# young generation is collected every 20,000 net container allocations: ~7 us per Create.
# Reference counting still frees acyclic garbage at once; only cycles wait longer.
GC_THRESHOLDS = (20_000, 50, 100)
# A connection counts as a concurrent writer for this long after its last durable write: a
# client writing in a loop (a robot labelling a magazine of cartridges) sends its next request
# well within it; its later silence makes the commit delay wait in vain at most once per
# fsync, for at most COMMIT_DELAY_S.
WRITERS_WINDOW_S = 0.05


def tune_gc() -> None:
    """Freeze the objects built so far and raise the collection thresholds (GC_THRESHOLDS);
    called once a server process has built its engine, before it serves."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def build_handler(config: ServerConfig) -> tuple[RequestHandler, Callable[[], None]]:
    """Open the store (KEK from config) and build the engine; returns (engine, close)."""
    from profiles.keyprotect import KeyProtector
    from profiles.store import open_store

    url = config.store_url
    protector = KeyProtector.from_file(config.kek_file) if config.kek_file is not None else None
    if protector is None and not url.startswith("memory:"):
        raise ConfigError("keys.kek_file must be configured: key material is stored wrapped")
    build_ssl_context(config.tls)  # refuse a bad TLS setup before touching the store
    store = open_store(url, protector)
    try:
        from profiles.engine import Engine

        engine = Engine(config, store, protector)
    except BaseException:
        store.close()
        raise
    return engine, store.close


async def serve(
    config: ServerConfig,
    *,
    handler: RequestHandler | None = None,
    stop: asyncio.Event | None = None,
    install_signal_handlers: bool = True,
) -> None:
    """Run a server until SIGTERM/SIGINT (or ``stop``), then drain and close the store."""
    close: Callable[[], None] = lambda: None  # noqa: E731
    if handler is None:
        handler, close = build_handler(config)
        tune_gc()
    try:
        server = Server(config, handler)
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        if install_signal_handlers:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
        try:
            await server.serve(stop)
        finally:
            if install_signal_handlers:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    with contextlib.suppress(ValueError, RuntimeError):
                        loop.remove_signal_handler(sig)
    finally:
        close()
