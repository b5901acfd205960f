"""Concurrent mixed load on a two-worker server (the event-loop engine, group commit and the
cross-process file lock all at work), then a restart: everything acknowledged is there, with
the same key bytes; everything acknowledged destroyed is gone; no Name is held twice."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from agent.spec import V1_4, V2_1, Operation, Tag
from agent.ttlv import Item
from firmware_hooks import harness
from tests.conformance.live import TlsExchange
from tests.integration.test_server_processes import connect, send
from tests.unit.test_engine_helpers import RR, attr, create_aes, item, name, request, uid

pytestmark = pytest.mark.timeout(180)

WORKERS = 6
ROUNDS = 40


def key_bytes(conn: TlsExchange, u: str) -> bytes | None:
    result = send(conn, request(V1_4, item(Operation.GET, uid(u)))).items[0]
    if not result.ok:
        return None
    found: list[bytes] = []

    def walk(node: Item) -> None:
        if node.tag == Tag.KEY_MATERIAL and isinstance(node.value, bytes):
            found.append(node.value)
        elif isinstance(node.value, tuple):
            for c in node.value:
                walk(c)

    assert result.payload is not None
    walk(result.payload)
    assert len(found) == 1
    return found[0]


def located(conn: TlsExchange, key_name: str) -> list[str]:
    found = send(conn, request(V1_4, item(Operation.LOCATE, attr(V1_4, "Name", name(key_name))))).items[0]
    assert found.ok
    return [str(u.value) for u in found.all(Tag.UNIQUE_IDENTIFIER)]


def test_concurrent_mixed_load_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    harness.init_data_dir(data)
    config = data / "keyshelf.toml"
    config.write_text(config.read_text().replace("[limits]\n", "[limits]\nprocesses = 2\n", 1))
    kept: dict[str, tuple[str, bytes]] = {}  # uid -> (Name, key bytes): acknowledged, not destroyed
    destroyed: set[str] = set()
    lock = threading.Lock()
    errors: list[BaseException] = []
    refused: list[str] = []

    def worker(n: int, server: harness.ServerProcess) -> None:
        rng = random.Random(n)
        conn = connect(server)
        mine: list[str] = []
        try:
            for r in range(ROUNDS):
                version = V2_1 if r % 2 else V1_4
                # half the Names are contended: another worker tries the same one
                key_name = f"k{r}-{n // 2}" if r % 3 == 0 else f"w{n}-k{r}"
                created = send(conn, request(version, create_aes(version, key_name))).items[0]
                if not created.ok:
                    assert created.reason in (RR.NON_UNIQUE_NAME_ATTRIBUTE, RR.INVALID_FIELD), created
                    assert key_name.startswith("k")  # only a contended Name may be taken
                    refused.append(key_name)
                    continue
                u = created.uid
                first = key_bytes(conn, u)  # a first Get (clears Fresh)
                assert first is not None and key_bytes(conn, u) == first
                assert located(conn, key_name) == [u]
                with lock:
                    kept[u] = (key_name, first)
                mine.append(u)
                if rng.random() < 0.3:  # a Pre-Active key may be destroyed
                    victim = mine.pop(rng.randrange(len(mine)))
                    assert send(conn, request(V1_4, item(Operation.DESTROY, uid(victim)))).items[0].ok
                    with lock:
                        kept.pop(victim)
                        destroyed.add(victim)
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    with harness.ServerProcess(config, data / "server.log") as server:
        threads = [threading.Thread(target=worker, args=(n, server)) for n in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(150)
        assert not errors, errors[0]
        assert server.stop() == 0
    held = [key_name for key_name, _ in kept.values()]
    assert len(held) == len(set(held)), "a Name acknowledged for two live keys"
    with harness.ServerProcess(config, data / "server.log") as server:
        conn = connect(server)
        try:
            for u, (key_name, kb) in kept.items():
                assert key_bytes(conn, u) == kb, u
                assert located(conn, key_name) == [u]
            for u in destroyed:
                assert key_bytes(conn, u) is None, u
        finally:
            conn.close()
    assert len(kept) > WORKERS * ROUNDS // 2
    assert refused  # the contended Names were refused to the later worker (2 x 14 per pair)


@pytest.mark.parametrize("processes", [1, 2])
def test_creates_acknowledged_under_concurrent_load_survive_kill_9(tmp_path: Path, processes: int) -> None:
    """Clients create keys as fast as they can while the server's whole process group is
    SIGKILLed: every Create answered before the kill is there after a restart, with the key
    bytes its first Get returned. (A kill keeps what reached the page cache: this checks that
    nothing is answered before its COMMIT, not the fsync; test_server_durable_ack.py holds an
    fsync back and sees the answer wait for it.)"""
    import os
    import signal
    import time

    data = tmp_path / "data"
    harness.init_data_dir(data)
    config = data / "keyshelf.toml"
    text = config.read_text().replace("[limits]\n", f"[limits]\nprocesses = {processes}\n", 1)
    config.write_text(text)
    acked: dict[str, bytes] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int, server: harness.ServerProcess) -> None:
        conn = connect(server)
        try:
            r = 0
            while not stop.is_set():
                r += 1
                created = send(conn, request(V1_4, create_aes(V1_4, f"c{n}-{r}"))).items[0]
                assert created.ok
                with lock:
                    acked[created.uid] = b""  # acknowledged: the response has arrived
                kb = key_bytes(conn, created.uid)
                assert kb is not None
                with lock:
                    acked[created.uid] = kb
        except (OSError, ConnectionError, AssertionError, ValueError):
            pass  # the kill cuts the connection mid-request
        finally:
            conn.close()

    server = harness.ServerProcess(config, data / "server.log").start()
    assert server.proc is not None
    threads = [threading.Thread(target=client, args=(n, server)) for n in range(6)]
    try:
        for t in threads:
            t.start()
        time.sleep(1.5)
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        server.stop()
    assert len(acked) > 20
    with harness.ServerProcess(config, data / "server.log") as again:
        conn = connect(again)
        try:
            for u, kb in acked.items():
                got = key_bytes(conn, u)
                assert got is not None, f"acknowledged key {u} lost"
                assert kb in (b"", got)
        finally:
            conn.close()
