"""The sedutil-cli adapter, against a fake sedutil-cli on PATH that records its arguments and
emulates an Opal drive's Admin1/SID passwords and global locking range."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from firmware_hooks.boot_unlock import DriveOutcome, boot_unlock
from firmware_hooks.devices import SedutilDrive, Unlock
from firmware_hooks.memory import MemoryKeyServer

FAKE = r'''#!{python}
"""Fake sedutil-cli: records argv, keeps per-device state in a JSON file."""
import json, os, sys
log, state_path = os.environ["FAKE_SEDUTIL_LOG"], os.environ["FAKE_SEDUTIL_STATE"]
with open(log, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\n")
args = sys.argv[1:]
if not args or not args[-1].startswith("/dev/"):
    sys.exit(0x0C)
op, dev = args[0], args[-1]
state_path = os.path.join(state_path, dev.replace("/", "_") + ".json")  # one file per drive
d = json.load(open(state_path)) if os.path.exists(state_path) else {{
    "admin1": None, "sid": None, "locked": False, "fails": 0}}
def save(code):
    json.dump(d, open(state_path, "w"))
    sys.exit(code)
def auth(pw, who="admin1"):
    if d["fails"] >= 5:
        save(0x12)
    if d[who] != pw:
        d["fails"] += 1
        save(0x12 if d["fails"] >= 5 else 0x01)
    d["fails"] = 0
if op == "--query":
    print(dev + " ATA fake\nLocking function (0x0002)\n    Locked = " + ("Y" if d["locked"] else "N")
          + ", LockingEnabled = Y, LockingSupported = Y, MBRDone = N, MBREnabled = Y, MediaEncrypt = Y")
    save(0)
if op == "--initialSetup":
    d["admin1"] = d["sid"] = args[1]
    save(0)
if op == "--setLockingRange":
    auth(args[3])
    d["locked"] = args[2] == "LK"
    save(0)
if op == "--setMBRDone":
    auth(args[2])
    save(0)
if op == "--setAdmin1Pwd":
    auth(args[1]); d["admin1"] = args[2]; save(0)
if op == "--setSIDPassword":
    auth(args[1], "sid"); d["sid"] = args[2]; save(0)
save(0x0C)
'''


@pytest.fixture
def fake_sedutil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "sedutil-cli"
    tool.write_text(FAKE.format(python=sys.executable))
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SEDUTIL_LOG", str(tmp_path / "argv.log"))
    (tmp_path / "state").mkdir()
    monkeypatch.setenv("FAKE_SEDUTIL_STATE", str(tmp_path / "state"))
    return tmp_path


def calls(root: Path) -> list[list[str]]:
    return [json.loads(line) for line in (root / "argv.log").read_text().splitlines()]


def set_locked(root: Path, dev: str) -> None:
    path = root / "state" / (dev.replace("/", "_") + ".json")
    state = json.loads(path.read_text())
    state["locked"] = True
    path.write_text(json.dumps(state))


K1, K2 = bytes(range(32)), bytes(range(1, 33))


def test_argument_forms(fake_sedutil: Path) -> None:
    drive = SedutilDrive("/dev/sdz", "SED-Z")
    assert drive.take_ownership(K1) is Unlock.OK
    set_locked(fake_sedutil, "/dev/sdz")
    assert drive.query_locked() is True
    assert drive.unlock(K1) is Unlock.OK
    assert drive.query_locked() is False
    assert drive.change_key(K1, K2) is Unlock.OK
    pw1, pw2 = K1.hex(), K2.hex()
    assert calls(fake_sedutil) == [
        ["--initialSetup", pw1, "/dev/sdz"],
        ["--query", "/dev/sdz"],
        ["--setLockingRange", "0", "RW", pw1, "/dev/sdz"],
        ["--setMBRDone", "on", pw1, "/dev/sdz"],
        ["--query", "/dev/sdz"],
        ["--setAdmin1Pwd", pw1, pw2, "/dev/sdz"],
        ["--setSIDPassword", pw1, pw2, "/dev/sdz"],
    ]


def test_wrong_key_lockout_and_missing_tool(fake_sedutil: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drive = SedutilDrive("/dev/sdy")
    drive.take_ownership(K1)
    results = [drive.unlock(K2) for _ in range(5)]
    assert results == [Unlock.WRONG_KEY] * 4 + [Unlock.LOCKED_OUT]
    assert drive.unlock(K1) is Unlock.LOCKED_OUT
    assert SedutilDrive("/dev/sdy", sedutil=str(fake_sedutil / "nope")).unlock(K1) is Unlock.FAILED
    assert SedutilDrive("/dev/sdy", sedutil="false").query_locked() is None


def test_boot_unlock_through_sedutil(fake_sedutil: Path) -> None:
    server = MemoryKeyServer()
    drives = [SedutilDrive(f"/dev/sd{c}", f"SED-{c}") for c in "abc"]
    for i, d in enumerate(drives):
        key = bytes([i]) * 32
        d.take_ownership(key)
        if i != 1:
            server.register_auth_key("arr", d.drive_id, key)
    report = boot_unlock(drives, [server], group="arr")
    assert [r.outcome for r in report.drives] == [
        DriveOutcome.UNLOCKED,
        DriveOutcome.KEY_MISSING,
        DriveOutcome.UNLOCKED,
    ]
