"""Several server processes behind one listener (``limits.processes``), shaped like uvicorn's
Multiprocess supervisor.

The engine holds the GIL for most of a request (decoding, policy, encoding, TLS records), so
one process uses one core however many threads it has. With ``processes = N`` the parent
process binds the listener, forks N workers and supervises them:

- The parent accepts every connection and passes it (``socket.send_fds``, SCM_RIGHTS over a
  Unix socket pair) to the worker with the fewest open connections. Why not SO_REUSEPORT or
  N loops accepting on one socket: the kernel hashes connections onto SO_REUSEPORT listeners
  (8 persistent connections on 2 processes often split 6/2), and an idle loop accepting on a
  shared socket takes a whole burst of connections alone. KMIP clients keep their
  connections, so the split matters. The parent does no TLS and never opens the store.
- Admission is the single-process rule (profiles/server.py), counted by the parent for every
  worker: at most ``limits.max_handshakes`` connections in their TLS handshake (beyond, the
  parent stops accepting: connections wait in the backlog), at most
  ``limits.max_connections`` authenticated ones. One byte per event on the channel: the
  worker sends ``a`` (a handshake gave an identity: may it be served?), ``h`` (a handshake
  ended without one), ``c`` (an admitted connection closed); the parent answers each ``a``
  with ``Y`` or ``N``, in order.
- Each worker is a whole server (profiles.server.Server without a listener): its own event
  loop, thread pool, Engine and store connections. The workers share the database file:
  SQLite serialises their writers with its lock (busy timeout
  profiles.store.sqlite.BUSY_TIMEOUT_S), each process group-commits its own writes, and
  Names are unique across processes because the store enforces them (IndexEntry.unique).
- SIGTERM / SIGINT: the parent closes the listener, forwards SIGTERM, and waits for the
  workers to drain (limits.shutdown_timeout, then SIGKILL after a grace period). A worker
  whose parent disappears (its channel reaches EOF) drains and exits too.
- A worker that dies while the server runs is logged and replaced (after one second if it
  lived less than that, so that a worker failing at start does not spin).

Everything that can fail at start-up (TLS files, KEK, database open and migrations, the bind)
is checked in the parent before any fork, so errors are reported once, with the usual exit
status. The parent has no threads and no open database connection when it forks.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import selectors
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from profiles.config import ServerConfig
from profiles.server import (
    LISTEN_BACKLOG,
    RequestHandler,
    Server,
    build_handler,
    build_ssl_context,
    log_listening,
    tune_gc,
)

log = logging.getLogger("keyshelf.server")

RESTART_DELAY = 1.0  # seconds before replacing a worker that lived less than this
KILL_GRACE = 5.0  # seconds after shutdown_timeout before SIGKILL
_ACCEPT_BURST = 64  # connections accepted per wake-up of the parent
_ANSWER_TIMEOUT = 5.0  # seconds the parent waits to hand admission answers to a worker


def process_count(config: ServerConfig) -> int:
    """limits.processes, with 0 = one per CPU."""
    n = config.limits.processes
    return n if n > 0 else (os.cpu_count() or 1)


@dataclass(eq=False)
class _Worker:
    slot: int
    pid: int
    channel: socket.socket  # parent's end: fds out, one byte per closed connection in
    started: float
    handshakes: int = 0  # connections handed over, still in their handshake
    clients: int = 0  # authenticated connections admitted


@dataclass
class Supervisor:
    """The parent process: listener, workers, signals. ``run()`` returns the exit status."""

    config: ServerConfig
    processes: int
    workers: dict[int, _Worker] = field(default_factory=dict)  # by slot
    _restart_at: dict[int, float] = field(default_factory=dict)  # dead slots -> when to respawn
    _stopping: bool = False
    _paused: bool = False  # not accepting: max_handshakes connections are in their handshake

    def run(self) -> int:
        check_startup(self.config)  # raises before anything is bound or forked
        self._listener = bind(self.config)
        self.port = int(self._listener.getsockname()[1])
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        for s in (self._listener, self._wake_r, self._wake_w):
            s.setblocking(False)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _SIGNALS}
        old_wakeup = signal.set_wakeup_fd(self._wake_w.fileno())
        try:
            self._selector.register(self._listener, selectors.EVENT_READ, self._accept)
            self._selector.register(self._wake_r, selectors.EVENT_READ, self._drain_wakeups)
            log_listening(self.config, self.port, processes=self.processes)
            for slot in range(self.processes):
                self._spawn(slot)
            self._loop()
            self._shutdown()
        finally:
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._selector.close()
            for s in (self._listener, self._wake_r, self._wake_w):
                s.close()
        return 0

    # -- the parent's loop ----------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping:
            self._reap()
            now = time.monotonic()
            for slot, when in list(self._restart_at.items()):
                if when <= now and not self._stopping:
                    del self._restart_at[slot]
                    self._spawn(slot)
            timeout = min((w - now for w in self._restart_at.values()), default=None)
            for key, _ in self._selector.select(None if timeout is None else max(timeout, 0.0)):
                callback: Callable[[], None] = key.data
                callback()

    def _on_signal(self, signum: int, frame: object) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self._stopping = True
        # SIGCHLD: the wake-up fd ends select(); _reap() runs next

    def _drain_wakeups(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while self._wake_r.recv(4096):
                pass

    def _handshakes(self) -> int:
        return sum(w.handshakes for w in self.workers.values())

    def _clients(self) -> int:
        return sum(w.clients for w in self.workers.values())

    def _pause_or_resume(self) -> None:
        """Accept only while fewer than max_handshakes connections are in their handshake."""
        if self._stopping:
            return
        full = self._handshakes() >= self.config.limits.max_handshakes
        if full and not self._paused:
            self._selector.unregister(self._listener)
        elif self._paused and not full:
            self._selector.register(self._listener, selectors.EVENT_READ, self._accept)
        self._paused = full

    def _accept(self) -> None:
        for _ in range(_ACCEPT_BURST):
            if self._handshakes() >= self.config.limits.max_handshakes:
                self._pause_or_resume()
                return
            try:
                conn, _addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE, ECONNABORTED, ...: the next accept may work
                log.warning("accept failed", extra={"fields": {"error": type(exc).__name__}})
                return
            with conn:
                self._hand_over(conn)

    def _hand_over(self, conn: socket.socket) -> None:
        """Pass ``conn`` to the least loaded worker; the parent's copy is closed by the caller."""
        if self._clients() >= self.config.limits.max_connections:
            log.warning("connection refused", extra={"fields": {"reason": "max connections"}})
            return
        for worker in sorted(self.workers.values(), key=lambda w: w.handshakes + w.clients):
            try:
                socket.send_fds(worker.channel, [b"f"], [conn.fileno()])
            except OSError:
                continue  # that worker is gone; _reap() replaces it
            worker.handshakes += 1
            return
        log.warning("connection refused", extra={"fields": {"reason": "no worker process"}})

    def _on_worker_message(self, worker: _Worker) -> None:
        try:
            data = worker.channel.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            answers = bytearray()
            for event in data:
                if event == ord("a"):  # handshake done with an identity: admit?
                    worker.handshakes = max(0, worker.handshakes - 1)
                    admitted = self._clients() < self.config.limits.max_connections
                    worker.clients += admitted
                    answers += b"Y" if admitted else b"N"
                elif event == ord("h"):  # handshake ended without an identity
                    worker.handshakes = max(0, worker.handshakes - 1)
                elif event == ord("c"):  # an admitted connection closed
                    worker.clients = max(0, worker.clients - 1)
            if answers:
                self._answer(worker, bytes(answers))
        else:  # the worker exited (or is exiting): stop listening to it; _reap() decides
            self._selector.unregister(worker.channel)
            worker.handshakes = worker.clients = 0
        self._pause_or_resume()

    def _answer(self, worker: _Worker, answers: bytes) -> None:
        """Send admission answers; the channel is non-blocking, a few bytes always fit unless
        the worker stopped reading (then wait a little: its connections wait for them)."""
        try:
            worker.channel.settimeout(_ANSWER_TIMEOUT)
            worker.channel.sendall(answers)
        except OSError:
            pass  # the worker is gone or stuck; _reap() deals with a dead one
        finally:
            with contextlib.suppress(OSError):
                worker.channel.setblocking(False)

    # -- workers --------------------------------------------------------------------------

    def _spawn(self, slot: int) -> None:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the parent's code
            status = 1
            try:
                parent_end.close()
                self._forget_parent_state()
                status = worker_main(self.config, child_end, self.port)
            except BaseException:
                log.exception("worker failed")
            finally:
                logging.shutdown()
                os._exit(status)
        child_end.close()
        parent_end.setblocking(False)
        worker = _Worker(slot, pid, parent_end, time.monotonic())
        self.workers[slot] = worker
        self._selector.register(parent_end, selectors.EVENT_READ, lambda: self._on_worker_message(worker))
        log.info("worker started", extra={"fields": {"pid": pid, "slot": slot}})

    def _forget_parent_state(self) -> None:
        """In a new worker: drop the parent's listener, channels, selector and signal setup."""
        signal.set_wakeup_fd(-1)
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        self._selector.close()
        for s in (self._listener, self._wake_r, self._wake_w):
            s.close()
        for other in self.workers.values():
            other.channel.close()

    def _reap(self) -> None:
        """Collect exited workers; schedule replacements unless stopping."""
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = next((w for w in self.workers.values() if w.pid == pid), None)
            if worker is None:
                continue
            del self.workers[worker.slot]
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(worker.channel)
            worker.channel.close()
            self._pause_or_resume()  # its handshakes no longer count
            code = os.waitstatus_to_exitcode(status)
            if self._stopping:
                log.info("worker stopped", extra={"fields": {"pid": pid, "status": code}})
                continue
            lived = time.monotonic() - worker.started
            log.error("worker exited", extra={"fields": {"pid": pid, "status": code, "restart": True}})
            self._restart_at[worker.slot] = time.monotonic() + (
                RESTART_DELAY if lived < RESTART_DELAY else 0.0
            )

    def _shutdown(self) -> None:
        """Stop accepting, let every worker drain (SIGTERM), SIGKILL what is left after the
        drain time plus a grace period."""
        if not self._paused:
            self._selector.unregister(self._listener)
        self._listener.close()
        for w in self.workers.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(w.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.config.limits.shutdown_timeout + KILL_GRACE
        while self.workers and time.monotonic() < deadline:
            self._reap()
            if self.workers:
                for key, _ in self._selector.select(max(0.0, deadline - time.monotonic())):
                    if key.fileobj is self._wake_r:
                        self._drain_wakeups()
                    else:
                        callback: Callable[[], None] = key.data
                        callback()
        for w in list(self.workers.values()):
            log.warning("worker killed after the drain time", extra={"fields": {"pid": w.pid}})
            with contextlib.suppress(ProcessLookupError):
                os.kill(w.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(w.pid, 0)
            w.channel.close()
        self.workers.clear()
        log.info("stopped", extra={"fields": {"processes": self.processes}})


_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD)


def check_startup(config: ServerConfig) -> None:
    """What a worker would fail on, checked once in the parent: TLS files, KEK, the database
    (opened, migrated, KEK check value compared, closed again before any fork)."""
    build_ssl_context(config.tls)
    _handler, close = build_handler(config)
    close()


def bind(config: ServerConfig) -> socket.socket:
    """The listening socket (as asyncio.start_server binds it: SO_REUSEADDR, backlog 100)."""
    infos = socket.getaddrinfo(config.host, config.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(LISTEN_BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


# -- one worker -------------------------------------------------------------------------------


def worker_main(config: ServerConfig, channel: socket.socket, port: int) -> int:
    """A worker process: its own engine and store, serving the connections the parent passes."""
    handler, close = build_handler(config)
    tune_gc()
    try:
        asyncio.run(serve_passed(config, handler, channel, port))
    finally:
        close()
    return 0


class ChannelAdmission:
    """A worker's side of the parent's admission count (profiles.server.Admission): the
    parent counts max_connections for every worker and answers each ``a`` in order."""

    def __init__(self, channel: socket.socket) -> None:
        self._channel = channel
        self._waiting: collections.deque[asyncio.Future[bool]] = collections.deque()

    def _send(self, event: bytes) -> bool:
        try:
            self._channel.send(event)
        except OSError:
            return False  # the parent is gone: the worker stops once the channel reads EOF
        return True

    async def admit(self) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if not self._send(b"a"):
            return False
        self._waiting.append(answer)
        return await answer

    def answer(self, admitted: bool) -> None:
        """The parent's next answer (in the order of the questions)."""
        if not self._waiting:
            return
        waiting = self._waiting.popleft()
        if not waiting.done():
            waiting.set_result(admitted)
        elif admitted:  # its connection was cancelled meanwhile: give the place back
            self._send(b"c")

    def refuse_waiting(self) -> None:
        """The parent is gone: nobody will answer."""
        while self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.done():
                waiting.set_result(False)

    def handshake_ended(self) -> None:
        self._send(b"h")

    def closed(self) -> None:
        self._send(b"c")


async def serve_passed(
    config: ServerConfig, handler: RequestHandler, channel: socket.socket, port: int
) -> None:
    """Serve connections received on ``channel`` until SIGTERM/SIGINT or the parent is gone."""
    admission = ChannelAdmission(channel)
    server = Server(config, handler, admission=admission)
    server.adopt(port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    channel.setblocking(False)
    tasks: set[asyncio.Task[None]] = set()

    def on_channel() -> None:
        try:
            data, fds, _flags, _addr = socket.recv_fds(channel, 64, 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, fds = b"", []
        for fd in fds:
            task = loop.create_task(server.serve_socket(socket.socket(fileno=fd)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        for answer in data:
            if answer in b"YN":
                admission.answer(answer == ord("Y"))
        if not data and not fds:  # EOF: the parent is gone, nobody will pass connections
            loop.remove_reader(channel.fileno())
            admission.refuse_waiting()
            stop.set()

    loop.add_reader(channel.fileno(), on_channel)
    log.info("worker serving", extra={"fields": {"pid": os.getpid(), "port": port}})
    try:
        await stop.wait()
    finally:
        with contextlib.suppress(ValueError, OSError):
            loop.remove_reader(channel.fileno())
        await server.shutdown()  # drains and cancels the connection tasks after the timeout
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)
        channel.close()


def run(config: ServerConfig) -> int:
    """keyshelf-server with ``limits.processes`` != 1: supervise workers until SIGTERM/SIGINT."""
    return Supervisor(config, process_count(config)).run()
