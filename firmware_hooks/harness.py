"""Run ``keyshelf-server`` processes for the demo and the fleet benchmark.

Devices reach the server only over the network, so the server is a separate process started
from its console script (never imported). Two processes on the same configuration share one
SQLite file (WAL): the second is a failover secondary that holds every key the first stores.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

__all__ = [
    "HarnessError",
    "ServerProcess",
    "free_port",
    "init_data_dir",
    "server_command",
    "stop_process",
    "wait_listening",
    "write_agent_config",
]

HOST = "127.0.0.1"


class HarnessError(RuntimeError):
    pass


def server_command() -> list[str]:
    """``keyshelf-server`` next to this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).with_name("keyshelf-server")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("keyshelf-server")
    if found is None:
        raise HarnessError("keyshelf-server not found (pip install -e . first)")
    return [found]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def init_data_dir(path: Path) -> None:
    """``keyshelf-server init DIR``: CA, server and client certificates, KEK, keyshelf.toml."""
    done = subprocess.run(
        [*server_command(), "init", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise HarnessError(f"keyshelf-server init failed ({done.returncode}): {done.stderr.strip()[-400:]}")


def write_agent_config(path: Path, data_dir: Path, addresses: list[str], identity: str = "client-a") -> Path:
    """An agent/hook configuration using the init directory's CA and a client identity."""
    servers = ", ".join(f'"{a}"' for a in addresses)
    path.write_text(
        "[server]\n"
        f"addresses = [{servers}]\n"
        f'ca = "{data_dir / "ca.crt"}"\n'
        f'cert = "{data_dir / f"{identity}.crt"}"\n'
        f'key = "{data_dir / f"{identity}.key"}"\n\n'
        "[timeouts]\nconnect = 3.0\ndeadline = 10.0\nretries = 2\n",
        encoding="utf-8",
    )
    return path


def wait_listening(proc: subprocess.Popen[bytes], port: int, timeout: float, what: str) -> None:
    """Return once ``port`` accepts connections; HarnessError if ``proc`` exits or time runs out."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise HarnessError(f"{what} exited ({proc.returncode})")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise HarnessError(f"{what} did not listen on {HOST}:{port} within {timeout:.0f} s")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """SIGTERM (graceful drain), then SIGKILL to the process group (``start_new_session``)
    after ``timeout``; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    return proc.returncode


@dataclass
class ServerProcess:
    config: Path
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    _log_file: IO[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self._log_file = self.log.open("ab")
        self.proc = subprocess.Popen(
            [*server_command(), "--config", str(self.config), "--port", str(self.port)],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the demo's terminal reaches us, we stop it
        )
        try:
            wait_listening(self.proc, self.port, timeout, f"keyshelf-server (log {self.log})")
        except HarnessError:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (graceful drain), then SIGKILL after ``timeout``; returns the exit status."""
        status = None if self.proc is None else stop_process(self.proc, timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return status

    def __enter__(self) -> ServerProcess:
        # ``with process.start(timeout):`` enters an already started process: never start twice
        running = self.proc is not None and self.proc.poll() is None
        return self if running else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
