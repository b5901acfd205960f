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
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from firmware_hooks import harness


@dataclass
class PyKmipServer:
    port: int
    certs: Path
    process: subprocess.Popen[bytes]


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
        start_new_session=True,  # its own process group: what harness.stop_process kills
    )
    try:
        harness.wait_listening(process, port, startup_timeout, "PyKMIP server")
        yield PyKmipServer(port, certs, process)
    finally:
        harness.stop_process(process)
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
