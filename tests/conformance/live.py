"""A keyshelf-server started for the conformance run, and a mutual-TLS TTLV exchange with it.

The server runs as a separate process from a fresh data directory made by
``keyshelf-server init`` (its private CA, server and client certificates, KEK), exactly as
an administrator would start it; the harness is one of the two client identities.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

READ_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_command() -> list[str]:
    exe = Path(sys.executable).with_name("keyshelf-server")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "profiles.cli"]


@dataclass
class LiveServer:
    datadir: Path
    port: int
    process: subprocess.Popen[bytes]

    def client_context(self, identity: str = "client-a") -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.datadir / "ca.crt"))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.datadir / f"{identity}.crt", self.datadir / f"{identity}.key")
        ctx.check_hostname = False
        return ctx

    def connect(self, identity: str = "client-a") -> TlsExchange:
        return TlsExchange(("127.0.0.1", self.port), self.client_context(identity))


class TlsExchange:
    """One persistent mutual-TLS connection; ``__call__`` sends one TTLV message and reads one."""

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext) -> None:
        raw = socket.create_connection(address, timeout=READ_TIMEOUT)
        self.sock = context.wrap_socket(raw, server_hostname=address[0])

    def _read_exact(self, count: int) -> bytes:
        chunks = []
        while count:
            chunk = self.sock.recv(count)
            if not chunk:
                raise ConnectionError("server closed the connection")
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def __call__(self, request: bytes) -> bytes:
        self.sock.sendall(request)
        header = self._read_exact(8)
        (length,) = struct.unpack(">I", header[4:])
        return header + self._read_exact(length)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _wait_listening(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"keyshelf-server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError("keyshelf-server did not start listening in time")


@contextlib.contextmanager
def live_server(datadir: Path | None = None, startup_timeout: float = 30.0) -> Iterator[LiveServer]:
    """Initialise a fresh data directory, start keyshelf-server on a free port, stop it after."""
    with contextlib.ExitStack() as stack:
        if datadir is None:
            datadir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="keyshelf-conf-"))) / "data"
        init = subprocess.run(
            [*_server_command(), "init", str(datadir)], capture_output=True, timeout=120, check=False
        )
        if init.returncode != 0:
            raise RuntimeError(f"keyshelf-server init failed: {init.stderr.decode(errors='replace')}")
        port = free_port()
        log = (datadir / "server.log").open("wb")
        stack.callback(log.close)
        process = subprocess.Popen(
            [*_server_command(), "--config", str(datadir / "keyshelf.toml"), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            _wait_listening(port, process, time.monotonic() + startup_timeout)
            yield LiveServer(datadir, port, process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
