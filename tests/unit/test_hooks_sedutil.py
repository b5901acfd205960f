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


# -- keyshelf-hook (the shell entry points) ------------------------------------------------------

from firmware_hooks.cli import EXIT_NONE, EXIT_OK, EXIT_PARTIAL, EXIT_UNAVAILABLE, EXIT_USAGE, main  # noqa: E402


def write_config(root: Path, devices: list[str], group: str = "arr") -> Path:
    drives = "".join(f'\n[[boot.drive]]\nid = "SED-{d[-1]}"\ndevice = "{d}"\n' for d in devices)
    path = root / "hook.toml"
    path.write_text(
        f'[server]\naddresses = ["127.0.0.1:1"]\n\n[boot]\ngroup = "{group}"\ndeadline = 30\nretries = 1\n'
        f"backoff = 0\nworkers = 4\n{drives}"
    )
    return path


def test_cli_boot_unlock_exit_codes(fake_sedutil: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = MemoryKeyServer("kms1")
    devices = ["/dev/sda", "/dev/sdb"]
    for dev in devices:
        key = dev.encode().ljust(32, b"0")
        SedutilDrive(dev).take_ownership(key)
        server.register_auth_key("arr", f"SED-{dev[-1]}", key)
    config = write_config(fake_sedutil, devices)

    def factory(path: Path) -> list[MemoryKeyServer]:
        return [server]

    assert main(["boot-unlock", "--config", str(config)], sed_factory=factory) == EXIT_OK
    out = capsys.readouterr().out
    assert "SED-a: unlocked via kms1" in out and "2/2 unlocked" in out
    server.destroy(server.auth_keys("arr", "SED-b")[0].uid)
    assert main(["boot-unlock", "--config", str(config), "--json"], sed_factory=factory) == EXIT_PARTIAL
    report = json.loads(capsys.readouterr().out)
    assert report["unlocked"] == 1 and report["drives"][1]["outcome"] == "key-destroyed"
    server.destroy(server.auth_keys("arr", "SED-a")[0].uid)
    assert main(["boot-unlock", "--config", str(config)], sed_factory=factory) == EXIT_NONE
    server.available = False
    assert main(["boot-unlock", "--config", str(config)], sed_factory=factory) == EXIT_UNAVAILABLE
    # key material never printed
    for dev in devices:
        assert dev.encode().ljust(32, b"0").hex() not in capsys.readouterr().out


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_USAGE
    assert main(["boot-unlock", "--config", str(tmp_path / "missing.toml")]) == EXIT_USAGE
    bad = tmp_path / "bad.toml"
    bad.write_text("[boot]\ndeadline = -1\ngroup = 'g'\n")
    assert main(["boot-unlock", "--config", str(bad)]) == EXIT_USAGE
    nodrives = tmp_path / "nodrives.toml"
    nodrives.write_text("[sed]\ngroup = 'g'\n")
    assert main(["boot-unlock", "--config", str(nodrives)]) == EXIT_USAGE
    assert main(["tape-load", "--config", str(bad), "--barcode", "BAD", "--blank"]) == EXIT_USAGE
    assert main(["tape-load", "--config", str(bad), "--barcode", "ABC123L8", "--kad", "zz:00"]) == EXIT_USAGE


def test_cli_tape_load_blank_then_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = MemoryKeyServer()
    config = tmp_path / "c.toml"
    config.write_text("")

    def factory(path: Path) -> MemoryKeyServer:
        return server

    key_out = tmp_path / "key.bin"
    args = ["tape-load", "--config", str(config), "--barcode", "ABC123L4", "--json"]
    assert main([*args, "--blank", "--key-out", str(key_out)], tape_factory=factory) == EXIT_OK
    first = json.loads(capsys.readouterr().out)
    assert first["created"] and len(first["a_kad"]) == 24  # LTO-4: 12-byte A-KAD
    assert key_out.stat().st_mode & 0o777 == 0o600 and len(key_out.read_bytes()) == 32
    assert key_out.read_bytes().hex() not in json.dumps(first)
    kad = f"{first['u_kad']}:{first['a_kad']}"
    assert main([*args, "--kad", kad], tape_factory=factory) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["uid"] == first["uid"]
    assert (
        main([*args, "--kad", kad, "--key-out", str(key_out)], tape_factory=factory) == EXIT_USAGE
    )  # exists
    server.destroy(first["uid"])
    assert main([*args, "--kad", kad], tape_factory=factory) == EXIT_NONE
    assert "destroyed" in capsys.readouterr().err
    server.available = False
    assert main([*args, "--kad", kad], tape_factory=factory) == EXIT_UNAVAILABLE


def test_cli_rotate_exit_codes(fake_sedutil: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = MemoryKeyServer("kms1")
    devices = ["/dev/sda", "/dev/sdb"]
    first = {}
    for dev in devices:
        key = dev.encode().ljust(32, b"0")
        SedutilDrive(dev).take_ownership(key)
        first[f"SED-{dev[-1]}"] = server.register_auth_key("rack", f"SED-{dev[-1]}", key)
    config = write_config(fake_sedutil, devices, group="unused")

    def factory(path: Path) -> MemoryKeyServer:
        return server

    def rotate(*extra: str) -> int:
        return main(["rotate", "--config", str(config), "--group", "rack", *extra], rotate_factory=factory)

    assert rotate() == EXIT_OK
    out = capsys.readouterr().out
    assert "2/2 rotated in group rack" in out
    for drive_id, old in first.items():
        (new,) = server.auth_keys("rack", drive_id)
        assert f"{drive_id}: rotated, key {new.uid} replaces {old}" in out
        assert SedutilDrive(f"/dev/sd{drive_id[-1]}").unlock(new.key) is Unlock.OK  # the drive took it
        assert new.key.hex() not in out  # key material never printed
    server.destroy(server.auth_keys("rack", "SED-b")[0].uid)
    assert rotate("--json") == EXIT_PARTIAL
    report = json.loads(capsys.readouterr().out)
    assert report["rotated"] == 1 and report["drives"][1]["outcome"] == "destroyed"
    assert main(["rotate", "--config", str(config)], rotate_factory=factory) == EXIT_NONE  # [boot] group
    assert "SED-a: not-found" in capsys.readouterr().out
    server.available = False
    assert rotate() == EXIT_UNAVAILABLE
    assert rotate("--group", "") == EXIT_USAGE
    assert main(["rotate", "--config", str(fake_sedutil / "missing.toml")]) == EXIT_USAGE
