"""keyshelf-server with ``limits.processes = 2``: one listener, two worker processes on one
SQLite database, supervised by the parent (profiles/supervisor.py)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.spec import V1_4, V2_1, Operation
from agent.ttlv import decode, encode
from firmware_hooks import harness
from tests.conformance.live import TlsExchange
from tests.unit.test_engine_helpers import RR, Response, create_aes, item, parse, request, uid

pytestmark = pytest.mark.timeout(120)


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry.name))
    return found


def wait_for(condition: object, what: str) -> None:
    """Poll until ``condition()`` is true (a generous bound only against hanging the run)."""
    end = time.monotonic() + 60
    while not condition():  # type: ignore[operator]
        if time.monotonic() > end:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[harness.ServerProcess]:
    data = tmp_path / "data"
    harness.init_data_dir(data)
    config = data / "keyshelf.toml"
    config.write_text(config.read_text().replace("[limits]\n", "[limits]\nprocesses = 2\n", 1))
    process = harness.ServerProcess(config, data / "server.log")
    with process.start():
        # the parent listens before it forks the workers: the port answering does not mean
        # both exist yet (a test that counted them at once failed in a clean-checkout run)
        assert process.proc is not None
        parent = process.proc.pid
        wait_for(lambda: len(children(parent)) == 2, "both workers forked")
        yield process


def connect(server: harness.ServerProcess) -> TlsExchange:
    data = server.config.parent
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(data / "ca.crt"))
    ctx.load_cert_chain(data / "client-a.crt", data / "client-a.key")
    ctx.check_hostname = False
    return TlsExchange(("127.0.0.1", server.port), ctx)


def send(conn: TlsExchange, msg: object) -> Response:
    return parse(decode(conn(encode(msg))))  # type: ignore[arg-type]


def log_events(server: harness.ServerProcess, event: str) -> list[dict[str, object]]:
    lines = server.log.read_text().splitlines()
    return [r for r in (json.loads(line) for line in lines if line.startswith("{")) if r["event"] == event]


def test_two_workers_share_connections_and_the_database(server: harness.ServerProcess) -> None:
    assert server.proc is not None
    assert len(children(server.proc.pid)) == 2
    conns = [connect(server) for _ in range(4)]
    try:
        uids = [
            send(c, request(V1_4, create_aes(V1_4, f"key-{n}"))).items[0].uid for n, c in enumerate(conns)
        ]
        for c in conns:  # every worker reads what the others wrote
            for u in uids:
                assert send(c, request(V1_4, item(Operation.GET, uid(u)))).items[0].ok
        # a Name is unique across the workers too (the store enforces it)
        again = [send(c, request(V2_1, create_aes(V2_1, "key-0"))).items[0].reason for c in conns]
        assert again == [RR.NON_UNIQUE_NAME_ATTRIBUTE] * 4
    finally:
        for c in conns:
            c.close()
    assert server.stop() == 0
    workers = [r for r in log_events(server, "stopped") if "requests" in r]
    assert len(workers) == 2
    assert all(int(r["requests"]) > 0 for r in workers)  # type: ignore[call-overload]


def limited_server(
    tmp_path: Path, max_connections: int, max_handshakes: int, timeout: float
) -> harness.ServerProcess:
    """Two worker processes with the given admission limits (not started)."""
    data = tmp_path / "data"
    harness.init_data_dir(data)
    config = data / "keyshelf.toml"
    text = config.read_text()
    for old, new in (
        ("[limits]\n", "[limits]\nprocesses = 2\n"),
        ("max_connections = 256", f"max_connections = {max_connections}"),
        ("max_handshakes = 64", f"max_handshakes = {max_handshakes}"),
        ("handshake_timeout = 10.0", f"handshake_timeout = {timeout}"),
    ):
        assert old in text
        text = text.replace(old, new, 1)
    config.write_text(text)
    return harness.ServerProcess(config, data / "server.log")


def test_admission_counts_authenticated_connections_across_workers(tmp_path: Path) -> None:
    """The parent applies the single-process rule for every worker: silent TCP connections
    (never a TLS handshake) do not count against max_connections, whose bound holds in total."""
    process = limited_server(tmp_path, max_connections=2, max_handshakes=3, timeout=60.0)
    with process.start():
        silent = [socket.create_connection(("127.0.0.1", process.port), timeout=15) for _ in range(2)]
        admitted: list[TlsExchange] = []
        try:
            for _ in range(2):
                admitted.append(connect(process))
                assert send(admitted[-1], request(V1_4, item(Operation.DISCOVER_VERSIONS))).items[0].ok
            with pytest.raises((ssl.SSLError, ConnectionError)):  # a third authenticated one
                third = connect(process)
                try:
                    send(third, request(V1_4, item(Operation.DISCOVER_VERSIONS)))
                finally:
                    third.close()
        finally:
            for c in admitted:
                c.close()
            for s in silent:
                s.close()
        # both places are free again once those connections closed (the workers said so)
        wait_for(lambda: _served(process), "a client served again")
        assert process.stop() == 0
    refused = [r for r in log_events(process, "connection refused") if r.get("reason") == "max connections"]
    assert len(refused) >= 1


def test_a_flood_of_silent_connections_delays_but_never_shuts_out_a_client_across_workers(
    tmp_path: Path,
) -> None:
    """More silent connections than max_connections and max_handshakes: the parent hands out
    max_handshakes of them and leaves the rest in the backlog; a client queued behind them is
    served once their handshakes time out (the workers report each one)."""
    process = limited_server(tmp_path, max_connections=2, max_handshakes=2, timeout=0.5)
    with process.start():
        silent = [socket.create_connection(("127.0.0.1", process.port), timeout=15) for _ in range(6)]
        try:
            client = connect(process)
            try:
                assert send(client, request(V1_4, item(Operation.DISCOVER_VERSIONS))).items[0].ok
            finally:
                client.close()
        finally:
            for s in silent:
                s.close()
        assert process.stop() == 0
    assert len(log_events(process, "handshake refused")) >= 5  # the flood ahead of it timed out


def _served(process: harness.ServerProcess) -> bool:
    conns = []
    try:
        for _ in range(2):
            conns.append(connect(process))
            if not send(conns[-1], request(V1_4, item(Operation.DISCOVER_VERSIONS))).items[0].ok:
                return False
    except (ssl.SSLError, ConnectionError):
        return False
    finally:
        for c in conns:
            c.close()
    return True


def test_a_dead_worker_is_replaced_and_sigterm_stops_all(server: harness.ServerProcess) -> None:
    assert server.proc is not None
    parent = server.proc.pid
    first = children(parent)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(children(parent)) == 2 and victim not in children(parent), "a new worker")
    workers = children(parent)
    conns = [connect(server) for _ in range(3)]
    try:
        for c in conns:
            assert send(c, request(V1_4, create_aes(V1_4))).items[0].ok
    finally:
        for c in conns:
            c.close()
    assert server.stop() == 0
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert [r["pid"] for r in log_events(server, "worker exited")] == [victim]
