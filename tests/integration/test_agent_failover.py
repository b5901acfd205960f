"""Failover: two keyshelf-server processes on one SQLite database plus an address where
nothing listens; the primary is killed (SIGKILL) in the middle of a run of tape key writes
and reads. Every request still succeeds (within its deadline: the client raises
RequestTimeout otherwise) and no cartridge ends up with two keys."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.client import Client, RetryPolicy
from agent.tape import Cartridge, TapeKey, TapeKeys, new_identifier
from firmware_hooks import harness


@contextlib.contextmanager
def servers(data: Path, count: int) -> Iterator[list[tuple[int, subprocess.Popen[bytes]]]]:
    """``count`` keyshelf-server processes sharing the data directory (one SQLite database)."""
    with contextlib.ExitStack() as stack:
        started = []
        for i in range(count):
            process = harness.ServerProcess(data / "keyshelf.toml", data / f"server-{i}.log")
            stack.enter_context(process)
            assert process.proc is not None
            started.append((process.port, process.proc))
        yield started


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    try:
        harness.server_command()
    except harness.HarnessError:
        pytest.skip("keyshelf-server console script not installed")
    data = tmp_path / "kms"
    harness.init_data_dir(data)
    return data


async def test_primary_killed_mid_run(data_dir: Path) -> None:
    with servers(data_dir, 2) as running:
        (primary, primary_process), (secondary, _) = running
        dead = harness.free_port()  # nothing listens there
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
