"""Durability: what was acknowledged survives kill -9 of the writer (SIGKILL, no cleanup).

Store level: a child process inserts records in a tight loop and prints each uid after
``insert`` returned; the parent kills it with SIGKILL mid-stream, reopens the database and
finds every acknowledged record (synchronous=FULL: the WAL is fsynced before insert returns).

Server level: ``keyshelf-server`` from an ``init`` directory; Create over mutual TLS, the
response is the acknowledgement; kill -9; restart; Get returns the same key bytes; SIGTERM
then stops it with status 0.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from profiles.keyprotect import KeyProtector, write_kek_file
from profiles.store import open_store

REPO = Path(__file__).resolve().parents[2]

WRITER = r"""
import sys
from profiles.keyprotect import KeyProtector
from profiles.store import IndexEntry, ObjectRecord, open_store

store = open_store("sqlite:///" + sys.argv[1], KeyProtector.from_file(sys.argv[2]))
i = 0
while True:
    uid = f"uid-{i}"
    store.insert(ObjectRecord(uid=uid, object_type=2, owner="client-a", state=1, created=i,
                              archived=False, attributes=b"a", material=b"key-%d" % i,
                              index=[IndexEntry("Name", uid)]))
    print(uid, flush=True)  # the acknowledgement: only after insert returned
    i += 1
"""


def read_until_lines(proc: subprocess.Popen[bytes], count: int, timeout: float) -> bytes:
    """Bytes from the child's stdout holding at least ``count`` lines; fails (never hangs)
    after ``timeout``."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    buf = b""
    while buf.count(b"\n") < count:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"child acknowledged only {len(buf.splitlines())} of {count} writes")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                pytest.fail(f"child exited early with {proc.wait(timeout=5)}")
            buf += chunk
    return buf


def test_acknowledged_inserts_survive_kill_9(tmp_path: Path) -> None:
    db, kek = tmp_path / "d.db", tmp_path / "kek"
    write_kek_file(kek)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(kek)], stdout=subprocess.PIPE, env=env, cwd=tmp_path
    )
    try:
        out = read_until_lines(proc, 40, timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.stdout is not None
        out += proc.stdout.read()  # what it printed before SIGKILL landed; the pipe is at EOF
        # Whole lines only: a partial last line was not a complete acknowledgement.
        acked = out.decode().split("\n")[:-1]
        assert len(acked) >= 40
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    store = open_store(f"sqlite:///{db}", KeyProtector.from_file(kek))
    try:
        for uid in acked:
            rec = store.load(uid)
            assert rec is not None, f"acknowledged {uid} lost"
            assert rec.material == b"key-" + uid.removeprefix("uid-").encode()
        assert store.count() >= len(acked)
    finally:
        store.close()


# -- the whole server: keyshelf-server as a subprocess ----------------------------------------


def start_server_process(config: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``keyshelf-server --config CONFIG --port 0`` logging to a fresh ``log_path``; returns
    the process and its bound port (read from the structured "listening" log line)."""
    import json

    with log_path.open("xb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "profiles.cli", "--config", str(config), "--port", "0"],
            stdout=log,
            stderr=log,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            cwd=REPO,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in log_path.read_text().splitlines():
            if line.startswith("{") and json.loads(line).get("event") == "listening":
                return proc, int(json.loads(line)["port"])
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=10)
    pytest.fail("server did not report listening within 60 s")


def test_acknowledged_create_survives_kill_9_of_server(tmp_path: Path) -> None:
    from profiles.cli import main
    from tests.integration.conftest import Pki, create_aes_key, get_key_bytes, tls_connect

    data = tmp_path / "data"
    assert main(["init", str(data), "--key-type", "ec"]) == 0
    config = data / "keyshelf.toml"
    client = Pki(data, {"client-a": (data / "client-a.crt", data / "client-a.key")})
    proc, port = start_server_process(config, tmp_path / "first.log")
    try:
        with tls_connect(port, client.client_context("client-a")) as sock:
            acked = {}
            for _ in range(5):
                uid = create_aes_key(sock)  # acknowledged: the response has arrived
                acked[uid] = get_key_bytes(sock, uid)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait(timeout=10)

    log_path = tmp_path / "second.log"
    proc, port = start_server_process(config, log_path)
    try:
        with tls_connect(port, client.client_context("client-a")) as sock:
            for uid, key in acked.items():
                assert get_key_bytes(sock, uid) == key
        # SIGTERM: a clean stop with exit status 0.
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait(timeout=10)
    logs = (tmp_path / "first.log").read_text() + log_path.read_text()
    assert '"event":"stopped"' in log_path.read_text()
    assert logs.count('"event":"request"') == 15  # 5 Create + 5 Get, then 5 Get
    for key in acked.values():
        assert key.hex() not in logs
