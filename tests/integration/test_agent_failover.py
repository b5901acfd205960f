"""Failover: two keyshelf-server processes on one SQLite database plus an address where
nothing listens; the primary is killed (SIGKILL) in the middle of a run of tape key writes
and reads. Every request still succeeds (within its deadline: the client raises
RequestTimeout otherwise) and no cartridge ends up with two keys."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.client import Client, RetryPolicy
from agent.tape import Cartridge, TapeKey, TapeKeys, new_identifier

SERVER = str(Path(sys.executable).with_name("keyshelf-server"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"keyshelf-server exited: {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError("keyshelf-server did not listen in time")


@contextlib.contextmanager
def servers(data: Path, count: int) -> Iterator[list[tuple[int, subprocess.Popen[bytes]]]]:
    """``count`` keyshelf-server processes sharing the data directory (one SQLite database)."""
    started: list[tuple[int, subprocess.Popen[bytes]]] = []
    try:
        for i in range(count):
            port = free_port()
            log = data / f"server-{i}.log"
            process = subprocess.Popen(
                [SERVER, "--config", str(data / "keyshelf.toml"), "--port", str(port)],
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            started.append((port, process))
            wait_listening(port, process, log)
        yield started
    finally:
        for _, process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    if not os.path.exists(SERVER):
        pytest.skip("keyshelf-server console script not installed")
    data = tmp_path / "kms"
    subprocess.run([SERVER, "init", str(data)], check=True, capture_output=True, timeout=60)
    return data


async def test_primary_killed_mid_run(data_dir: Path) -> None:
    with servers(data_dir, 2) as running:
        (primary, primary_process), (secondary, _) = running
        dead = free_port()  # nothing listens there
        client = Client(
            [f"127.0.0.1:{primary}", f"127.0.0.1:{dead}", f"127.0.0.1:{secondary}"],
            data_dir / "client-a.crt",
            data_dir / "client-a.key",
            data_dir / "ca.crt",
            "1.4",
            deadline=10.0,
            connect_timeout=2.0,
            retry=RetryPolicy(attempts=4, base_delay=0.02, max_delay=0.2, set_aside=30.0),
        )
        tape = TapeKeys(client)
        cartridges = [Cartridge("lto7", *new_identifier("lto7")) for _ in range(40)]
        written: dict[int, TapeKey] = {}
        half = asyncio.Event()

        async def work(i: int) -> None:
            written[i] = await tape.key_for_write(cartridges[i])
            if len(written) >= len(cartridges) // 2:
                half.set()
            read = await tape.key_for_read(cartridges[i])
            assert (read.uid, read.key) == (written[i].uid, written[i].key)

        async def killer() -> None:
            await half.wait()
            primary_process.send_signal(signal.SIGKILL)  # mid-run: other writes are in flight

        async with client:
            async with asyncio.TaskGroup() as group:
                group.create_task(killer())
                for i in range(len(cartridges)):
                    group.create_task(work(i))
            assert primary_process.wait(timeout=30) == -signal.SIGKILL
            # after the failover, reads of every cartridge still work
            for i, cartridge in enumerate(cartridges):
                assert (await tape.key_for_read(cartridge)).uid == written[i].uid

        # one key per cartridge, checked on the surviving server
        async with Client(
            [f"127.0.0.1:{secondary}"],
            data_dir / "client-a.crt",
            data_dir / "client-a.key",
            data_dir / "ca.crt",
            "1.4",
        ) as check:
            for cartridge in cartridges:
                asi = tape.asi(cartridge)
                found = await check.locate(application=asi)
                assert len(found.unique_identifier) == 1
