"""Integration fixtures: a generated PKI and keyshelf servers on free loopback ports.

Reusable by every integration test (import the helpers from ``tests.integration.conftest``):

``pki`` (session)            a CA + server cert + clients ``client-a``, ``client-b`` (CN = identity),
                             ``san-client`` (SAN URI identity), ``rogue`` (signed by another CA) and
                             ``expired``; ``pki.client_context("client-a")`` gives a client SSLContext
                             (``None`` name = no client certificate); ``pki.paths`` for files.
``kek_file``                 a fresh 0600 KEK file in tmp_path.
``make_config``              ``make_config(**limits) -> ServerConfig`` on 127.0.0.1 port 0, with the PKI,
                             an SQLite store in tmp_path and the KEK; tiny timeouts are fine.
``kmip_server``              a running server with the REAL engine (profiles.engine) and an SQLite
                             store: ``.port``, ``.config``, ``.stop()``. Skipped if the engine is absent.
``ServerThread(config, handler)``  any handler (e.g. ``EchoHandler``) served from a background
                             thread with its own event loop; usable from sync and async tests; a
                             context manager that always stops the server (drain, then join).
``tls_connect(port, ctx)``, ``read_message(sock)``, ``roundtrip(sock, data)``  blocking client helpers
                             with socket timeouts, so nothing hangs; ``refused(port, ctx)``: the
                             server turns this client away (in the handshake or at the first read).
``EchoHandler``              a fake engine for transport tests: answers a framed Request Message with a
                             Response Message carrying the identity and the request's bytes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from profiles import pki as pkimod
from profiles.config import LimitsConfig, ServerConfig, TlsConfig
from profiles.keyprotect import write_kek_file

HOST = "127.0.0.1"
SOCKET_TIMEOUT = 15.0

REQUEST_MESSAGE = 0x420078
RESPONSE_MESSAGE = 0x42007B
UNIQUE_IDENTIFIER = 0x420094
RESULT_MESSAGE = 0x42007D
TEXT, BYTES, STRUCTURE = 0x07, 0x08, 0x01


# -- PKI --------------------------------------------------------------------------------------


@dataclass
class Pki:
    """Certificates and keys written under ``root`` (PEM)."""

    root: Path
    paths: dict[str, tuple[Path, Path]] = field(default_factory=dict)  # name -> (cert, key)

    @classmethod
    def create(cls, root: Path, ca: pkimod.Issued) -> Pki:
        """An empty PKI under ``root`` that trusts ``ca`` (written as ca.crt)."""
        root.mkdir(parents=True, exist_ok=True)
        pkimod.write_new(root / "ca.crt", ca.cert_pem(), 0o644)
        return cls(root)

    def add(self, name: str, issued: pkimod.Issued) -> None:
        """Write ``name``.crt / ``name``.key under root and record them in ``paths``."""
        cert, key = self.root / f"{name}.crt", self.root / f"{name}.key"
        pkimod.write_pair(issued, cert, key)
        self.paths[name] = (cert, key)

    @property
    def ca(self) -> Path:
        return self.root / "ca.crt"

    def client_context(
        self,
        name: str | None = "client-a",
        *,
        minimum: ssl.TLSVersion | None = None,
        maximum: ssl.TLSVersion | None = None,
    ) -> ssl.SSLContext:
        """A client context that trusts the CA and presents ``name``'s certificate (None: none)."""
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if minimum is not None:
            ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
        if name is not None:
            cert, key = self.paths[name]
            ctx.load_cert_chain(cert, key)
        return ctx


def make_pki(root: Path, key_type: str = "ec") -> Pki:
    """Write a CA, a server certificate and the test clients under ``root``."""
    ca = pkimod.make_ca("keyshelf test CA", key_type=key_type)
    out = Pki.create(root, ca)
    out.add("server", pkimod.issue(ca, "keyshelf-server", server=True, key_type=key_type))
    for name in ("client-a", "client-b"):
        out.add(name, pkimod.issue(ca, name, key_type=key_type))
    out.add(
        "san-client", pkimod.issue(ca, "ignored-cn", san=["URI:urn:keyshelf:library-7"], key_type=key_type)
    )
    now = dt.datetime.now(dt.UTC)
    out.add(
        "expired",
        pkimod.issue(
            ca,
            "expired",
            key_type=key_type,
            not_before=now - dt.timedelta(days=30),
            not_after=now - dt.timedelta(days=1),
        ),
    )
    other_ca = pkimod.make_ca("some other CA", key_type=key_type)
    out.add("rogue", pkimod.issue(other_ca, "client-a", key_type=key_type))  # right CN, wrong CA
    return out


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def kek_file(tmp_path: Path) -> Path:
    path = tmp_path / "kek.key"
    write_kek_file(path)
    return path


def config_for(pki: Pki, data_dir: Path, kek: Path | None, **limits: Any) -> ServerConfig:
    """A ServerConfig on 127.0.0.1, port 0, SQLite under ``data_dir`` (``memory:`` if kek is None)."""
    cert, key = pki.paths["server"]
    identity = limits.pop("identity", "cn")
    return ServerConfig(
        host=HOST,
        port=0,
        data_dir=data_dir,
        tls=TlsConfig(certificate=cert, private_key=key, client_ca=pki.ca, identity=identity),
        storage_url=None if kek is not None else "memory:",
        kek_file=kek,
        limits=replace(LimitsConfig(), **limits),
        log_format="text",
    )


@pytest.fixture
def make_config(pki: Pki, tmp_path: Path, kek_file: Path) -> Callable[..., ServerConfig]:
    def make(**limits: Any) -> ServerConfig:
        return config_for(pki, tmp_path, kek_file, **limits)

    return make


# -- servers ----------------------------------------------------------------------------------


class ServerThread:
    """Runs ``profiles.server.Server`` on its own event loop in a background thread."""

    def __init__(self, config: ServerConfig, handler: Any) -> None:
        from profiles.server import Server

        self.server = Server(config, handler)
        self.config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="keyshelf-test-server", daemon=True)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def state(self) -> Any:
        return self.server.state

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                await self.server.start()
            except BaseException as exc:
                self._error = exc
                self._ready.set()
                return
            self._ready.set()
            await self._stop.wait()
            await self.server.shutdown()

        asyncio.run(main())

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("server did not start within 30 s")
        if self._error is not None:
            raise self._error
        return self

    def begin_shutdown(self) -> None:
        """Ask the server to shut down (stop accepting, drain) without waiting."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)

    def stop(self, timeout: float = 30.0) -> None:
        self.begin_shutdown()
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError("server thread did not stop")

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def kmip_server(make_config: Callable[..., ServerConfig]) -> Iterator[ServerThread]:
    """A running keyshelf server with the real engine over an SQLite store in tmp_path."""
    pytest.importorskip("profiles.engine")
    from profiles.server import build_handler

    config = make_config()
    handler, close = build_handler(config)
    try:
        with ServerThread(config, handler) as running:
            yield running
    finally:
        close()


# -- a fake engine and blocking client helpers -----------------------------------------------


def ttlv(tag: int, item_type: int, value: bytes) -> bytes:
    """One TTLV item (KMIP 1.4 §9.1.1: tag(3) type(1) length(4) value padded to 8)."""
    pad = (-len(value)) % 8
    return tag.to_bytes(3, "big") + bytes([item_type]) + struct.pack(">I", len(value)) + value + b"\0" * pad


def request(text: str = "hello") -> bytes:
    """A small well-framed Request Message (not a valid KMIP request: EchoHandler doesn't care)."""
    return ttlv(REQUEST_MESSAGE, STRUCTURE, ttlv(UNIQUE_IDENTIFIER, TEXT, text.encode()))


@dataclass(frozen=True)
class FakeItemLog:
    operation: str
    unique_identifiers: tuple[str, ...]
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class FakeRequestLog:
    version: str
    items: tuple[FakeItemLog, ...]


class EchoHandler:
    """Fake engine. A framed Request Message gets a Response Message holding the identity
    (Unique Identifier) and the request bytes (Byte String); anything else gets a Response
    Message with Result Message "invalid". ``gate``: block each call until it is set (for
    drain tests); ``entered`` is set when a call is waiting on the gate. ``fail``: raise."""

    def __init__(self, gate: threading.Event | None = None, fail: bool = False) -> None:
        self.gate = gate
        self.fail = fail
        self.entered = threading.Event()
        self.calls = 0
        self._lock = threading.Lock()

    def handle_logged(self, data: bytes, identity: str) -> tuple[bytes, FakeRequestLog]:
        with self._lock:
            self.calls += 1
        if self.fail:
            raise RuntimeError("engine bug")
        if self.gate is not None:
            self.entered.set()
            if not self.gate.wait(timeout=30):
                raise RuntimeError("gate never opened")
        framed = (
            len(data) >= 8
            and data[:4] == ttlv(REQUEST_MESSAGE, STRUCTURE, b"")[:4]
            and len(data) == 8 + struct.unpack(">I", data[4:8])[0]
        )
        if framed:
            body = ttlv(UNIQUE_IDENTIFIER, TEXT, identity.encode()) + ttlv(0x420045, BYTES, data)
            log = FakeRequestLog("fake", (FakeItemLog("Echo", (identity,), "Success"),))
        else:
            body = ttlv(RESULT_MESSAGE, TEXT, b"invalid")
            log = FakeRequestLog("fake", (FakeItemLog("?", (), "Operation Failed", "Invalid Message"),))
        return ttlv(RESPONSE_MESSAGE, STRUCTURE, body), log


def echo_identity(response: bytes) -> str:
    """The identity an EchoHandler response carries."""
    assert response[:4] == ttlv(RESPONSE_MESSAGE, STRUCTURE, b"")[:4], response[:16].hex()
    first = response[8:]
    assert first[:3] == UNIQUE_IDENTIFIER.to_bytes(3, "big"), "not an echo response"
    n = struct.unpack(">I", first[4:8])[0]
    return first[8 : 8 + n].decode()


def tls_connect(port: int, ctx: ssl.SSLContext, timeout: float = SOCKET_TIMEOUT) -> ssl.SSLSocket:
    """A blocking TLS connection to the loopback server (handshake done)."""
    sock = socket.create_connection((HOST, port), timeout=timeout)
    try:
        return ctx.wrap_socket(sock, server_hostname=HOST)
    except BaseException:
        sock.close()
        raise


def recv_exact(sock: socket.socket, n: int) -> bytes:
    """Exactly n bytes; ConnectionError on EOF first."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def read_message(sock: socket.socket) -> bytes:
    """One whole TTLV message (header + body)."""
    header = recv_exact(sock, 8)
    return header + recv_exact(sock, struct.unpack(">I", header[4:8])[0])


def roundtrip(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    return read_message(sock)


def refused(port: int, ctx: ssl.SSLContext, data: bytes | None = None) -> bool:
    """True if the server refuses this client: handshake error, or closed before answering
    ``data`` (default ``request()``). With TLS 1.3 a client finishes its side of the handshake
    before the server has checked the client certificate, so a refusal may surface on the
    first read instead of in ``wrap_socket``: both count."""
    try:
        sock = tls_connect(port, ctx)
    except (ssl.SSLError, ConnectionError):
        return True
    with sock:
        try:
            roundtrip(sock, request() if data is None else data)
        except (ssl.SSLError, ConnectionError):
            return True
    return False


def wait_for(predicate: Callable[[], bool], limit: float = 10.0) -> bool:
    """Poll ``predicate`` until true or ``limit`` seconds passed (a bound, not a measurement):
    the server counts a refused handshake on its own thread, after the client has seen it."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def closed_by_peer(sock: socket.socket) -> bool:
    """True if the peer closed (EOF, reset or a TLS alert) before sending anything more.
    On a plain socket a TLS alert is a record of content type 21 (RFC 8446 §5.1, RFC 5246
    §6.2.1) followed by the close."""
    try:
        first = sock.recv(1)
        if first != b"\x15" or isinstance(sock, ssl.SSLSocket):
            return first == b""
        rest = b""
        while chunk := sock.recv(64):
            rest += chunk
            if len(rest) > 64:
                return False  # more than an alert record: the peer is talking, not closing
        return True
    except (ConnectionError, ssl.SSLError):
        return True


# -- real KMIP requests (agent.model) ---------------------------------------------------------


def kmip_request(operation: Any, payload: Any, version: Any = None) -> bytes:
    """A one-item Request Message (KMIP 1.4 §7 / 2.1 §8) as TTLV bytes; version defaults to 1.4."""
    from agent import model
    from agent.spec import V1_4

    msg = model.RequestMessage(
        request_header=model.RequestHeader(
            protocol_version=model.ProtocolVersion.of(version or V1_4), batch_count=1
        ),
        batch_items=(model.RequestBatchItem(operation=operation, request_payload=payload),),
    )
    return model.encode_message(msg)


def kmip_call(sock: socket.socket, operation: Any, payload: Any, version: Any = None) -> Any:
    """Send one operation, return the decoded ResponseBatchItem."""
    from agent import model

    response = model.decode_response(roundtrip(sock, kmip_request(operation, payload, version)))
    assert len(response.batch_items) == 1
    return response.batch_items[0]


def create_aes_key(sock: socket.socket, version: Any = None, *, name: str | None = None) -> str:
    """Create an AES-256 key over ``sock``; returns its Unique Identifier."""
    from agent import model
    from agent.spec import (
        CryptographicAlgorithm,
        CryptographicUsageMask,
        NameType,
        ObjectType,
        Operation,
        ResultStatus,
    )

    attributes = [
        model.Attribute("Cryptographic Algorithm", CryptographicAlgorithm.AES),
        model.Attribute("Cryptographic Length", 256),
        model.Attribute(
            "Cryptographic Usage Mask", CryptographicUsageMask.ENCRYPT | CryptographicUsageMask.DECRYPT
        ),
    ]
    if name is not None:
        attributes.append(model.Attribute("Name", model.Name(name, NameType.UNINTERPRETED_TEXT_STRING)))
    item = kmip_call(
        sock,
        Operation.CREATE,
        model.CreateRequest(object_type=ObjectType.SYMMETRIC_KEY, attributes=tuple(attributes)),
        version,
    )
    assert item.result_status == ResultStatus.SUCCESS, (item.result_reason, item.result_message)
    return str(item.response_payload.unique_identifier)


def get_key_bytes(sock: socket.socket, uid: str, version: Any = None) -> bytes:
    """Get a symmetric key over ``sock``; returns its raw key bytes."""
    from agent import model
    from agent.spec import Operation, ResultStatus

    item = kmip_call(sock, Operation.GET, model.GetRequest(unique_identifier=uid), version)
    assert item.result_status == ResultStatus.SUCCESS, (item.result_reason, item.result_message)
    material = item.response_payload.managed_object.key_block.key_value.key_material
    assert isinstance(material, bytes)
    return material
