"""Run PyKMIP's server (PyPI ``pykmip``) on loopback, for interop tests and benchmarks.

PyKMIP's ``KmipServer.serve()`` installs signal handlers, so it must run in a main thread:
the server runs as a child process (``python -m tests.interop.pykmip_server``) with the
certificates of a keyshelf data directory (``keyshelf-server init``), and is stopped with
SIGTERM. The module is only a launcher: PyKMIP is the implementation nobody here wrote.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from firmware_hooks import harness


@dataclass
class PyKmipServer:
    port: int
    certs: Path
    process: subprocess.Popen[bytes]


def _wait(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"PyKMIP server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise TimeoutError("PyKMIP server did not start listening in time")


@contextlib.contextmanager
def pykmip_server(certs: Path, workdir: Path, startup_timeout: float = 60.0) -> Iterator[PyKmipServer]:
    """Start PyKMIP's server with ``certs``/{ca.crt, server.crt, server.key}; stop it after."""
    port = harness.free_port()
    log = (workdir / "pykmip-server.out").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.interop.pykmip_server",
            "--port",
            str(port),
            "--certs",
            str(certs),
            "--workdir",
            str(workdir),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        _wait(port, process, time.monotonic() + startup_timeout)
        yield PyKmipServer(port, certs, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="run PyKMIP's KMIP server on loopback")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--certs", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    from kmip.services.server import KmipServer

    server = KmipServer(
        hostname="127.0.0.1",
        port=args.port,
        certificate_path=str(args.certs / "server.crt"),
        key_path=str(args.certs / "server.key"),
        ca_path=str(args.certs / "ca.crt"),
        auth_suite="TLS1.2",
        config_path=None,
        log_path=str(args.workdir / "pykmip-server.log"),
        policy_path=None,
        enable_tls_client_auth=True,
        logging_level=logging.WARNING,
        database_path=str(args.workdir / "pykmip.sqlite"),
    )
    with server:
        server.serve()


if __name__ == "__main__":
    main()
