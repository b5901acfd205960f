"""A keyshelf-server started for the conformance run, and a mutual-TLS TTLV exchange with it.

The server runs as a separate process from a fresh data directory made by
``keyshelf-server init`` (its private CA, server and client certificates, KEK), exactly as
an administrator would start it; the harness is one of the two client identities. Processes
are started and stopped by the demo's harness (firmware_hooks.harness), the one copy of it.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from firmware_hooks import harness

READ_TIMEOUT = 30.0


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


@contextlib.contextmanager
def live_server(datadir: Path | None = None, startup_timeout: float = 30.0) -> Iterator[LiveServer]:
    """Initialise a fresh data directory, start keyshelf-server on a free port, stop it after."""
    with contextlib.ExitStack() as stack:
        if datadir is None:
            datadir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="keyshelf-conf-"))) / "data"
        harness.init_data_dir(datadir)
        process = harness.ServerProcess(datadir / "keyshelf.toml", datadir / "server.log")
        stack.enter_context(process.start(startup_timeout))
        assert process.proc is not None
        yield LiveServer(datadir, process.port, process.proc)
