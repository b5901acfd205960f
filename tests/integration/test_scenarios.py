"""Issue 5 scenarios end to end: simulated libraries, drives (over serial links), SED arrays and
the firmware hooks, against a key source.

Backends: ``memory`` (firmware_hooks.memory, always) and ``server`` (keyshelf-server processes
reached through the agent; skipped until the agent and server are importable). For failover
the secondary is a second keyshelf-server process on the SAME SQLite file (WAL), so it holds
the same keys without any replication step.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from agent.spec import LinkType
from firmware_hooks.boot_unlock import DriveOutcome
from firmware_hooks.memory import MemoryKeyServer
from firmware_hooks.scenarios import (
    barcodes,
    boot,
    check_one_key_per_cartridge,
    crypto_shred,
    read_all,
    rotate_with_power_cut,
    take_ownership_and_boot,
    write_all,
    write_then_read,
)
from firmware_hooks.tape_load import TapeLoadHook
from simulators.array import StorageArray
from simulators.cartridge import Cartridge
from simulators.rig import build_library, seeded_randbytes


@dataclass
class Backend:
    name: str
    tape: Any  # TapeKeySource
    admin: Any  # TapeAdmin
    primary: Any  # SedKeySource
    secondary: Any  # SedKeySource
    primary_down: Callable[[], None] = lambda: None
    closers: list[Callable[[], None]] = field(default_factory=list)


@pytest.fixture
def memory_backend() -> Backend:
    server = MemoryKeyServer("primary")

    def down() -> None:
        server.available = False

    return Backend("memory", server, server, server, server.replica("secondary"), down)


@pytest.fixture
def server_backend(kmip_server: Any, pki: Any) -> Iterator[Backend]:
    """Two keyshelf servers (real engine, TLS) on ONE SQLite file: the secondary sees every key
    the primary stores, as two server processes sharing the database would."""
    from agent import sync
    from firmware_hooks.agent_source import AgentSedSource, AgentTapeSource
    from profiles.server import build_handler
    from tests.integration.conftest import HOST, ServerThread

    handler, close = build_handler(kmip_server.config)
    secondary = ServerThread(kmip_server.config, handler).start()
    cert, key = pki.paths["client-a"]
    clients = [
        sync.Client([f"{HOST}:{s.port}"], cert=cert, key=key, ca=pki.ca, deadline=10.0)
        for s in (kmip_server, secondary)
    ]
    tape = AgentTapeSource(clients[0])
    backend = Backend(
        "server",
        tape,
        tape,
        AgentSedSource(clients[0], name="primary"),
        AgentSedSource(clients[1], name="secondary"),
        kmip_server.stop,
    )
    try:
        yield backend
    finally:
        for c in clients:
            c.close()
        secondary.stop()
        close()


@pytest.fixture(params=["memory", "server"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    yield request.getfixturevalue(f"{request.param}_backend")


def cartridges(n: int, prefix: str = "KS") -> list[Cartridge]:
    return [Cartridge(b) for b in barcodes(n, prefix)]


def test_scenario_1_write_shuffle_read_back(backend: Backend) -> None:
    carts = cartridges(40)
    with build_library(
        "LIB-A",
        drives=4,
        slots=48,
        key_provider=TapeLoadHook(backend.tape),
        transport="loop",
        randbytes=seeded_randbytes("s1"),
    ) as rig:
        result = write_then_read(rig.library, carts, rng=random.Random(1), records=2, record_size=2048)
    assert (result.written, result.read, result.verified) == (40, 40, 40)
    assert result.mismatches == [] and result.refused == {}
    assert (result.created, result.located) == (40, 40)
    assert all(result.read_in[b] != result.written_in[b] for b in result.written_in)
    assert check_one_key_per_cartridge(backend.admin, carts) == []
    assert len(set(result.uids.values())) == 40


def test_scenario_2_crypto_shred(backend: Backend) -> None:
    carts = cartridges(6)
    with build_library(
        "LIB-A", drives=2, slots=8, key_provider=TapeLoadHook(backend.tape), randbytes=seeded_randbytes("s2")
    ) as rig:
        written = write_all(rig.library, carts, records=2, record_size=512)
        victim = carts[2].barcode
        others = [c.barcode for c in carts if c.barcode != victim]
        shred = crypto_shred(
            rig.library, backend.admin, victim, written.uids[victim], others, records=2, record_size=512
        )
    assert shred.victim_refused == "destroyed"
    assert shred.others.verified == 5 and shred.others.mismatches == []


def test_scenario_3_two_libraries_share_one_key_server(backend: Backend) -> None:
    carts = cartridges(3, "AB")
    with (
        build_library(
            "LIB-A",
            drives=1,
            slots=4,
            key_provider=TapeLoadHook(backend.tape),
            randbytes=seeded_randbytes("a"),
        ) as a,
        build_library(
            "LIB-B",
            drives=2,
            slots=4,
            key_provider=TapeLoadHook(backend.tape),
            randbytes=seeded_randbytes("b"),
        ) as b,
    ):
        write_all(a.library, carts, records=2, record_size=700)
        moved = [a.library.export_cartridge(c.barcode) for c in carts]
        for c in moved:
            b.library.import_cartridge(c)
        result = read_all(b.library, [c.barcode for c in moved], records=2, record_size=700)
    assert result.verified == 3 and result.created == 0 and result.located == 3


def test_scenario_4_array_boot_failover_and_destroyed_key(backend: Backend) -> None:
    array = StorageArray("ARR", 24, randbytes=seeded_randbytes("arr"))
    servers = [backend.primary, backend.secondary]
    first = take_ownership_and_boot(array, backend.primary, servers)
    assert first.ok and len(first.unlocked) == 24 and array.locked() == []
    assert first.servers_used == {"primary": 24}

    victim = array.drives[7].serial
    (key,) = backend.primary.auth_keys(array.group, victim)
    backend.admin.destroy(key.uid)
    second = boot(array, servers)
    assert len(second.unlocked) == 23
    assert [(r.drive_id, r.outcome) for r in second.failed] == [(victim, DriveOutcome.KEY_DESTROYED)]
    assert array.locked() == [victim]

    backend.primary_down()
    third = boot(array, servers)
    assert len(third.unlocked) == 23 and third.servers_used == {"secondary": 23}
    assert [r.drive_id for r in third.failed] == [victim]


@pytest.mark.parametrize("step", ["registered", "changed", "retired"])
def test_scenario_5_rotation_across_power_cut(backend: Backend, step: str) -> None:
    array = StorageArray("ROT", 8, randbytes=seeded_randbytes("rot"))
    assert take_ownership_and_boot(array, backend.primary, [backend.primary]).ok
    assert rotate_with_power_cut(array, backend.primary, cut_after=3, step=step) is None
    after = boot(array, [backend.primary])
    assert after.ok, [(r.drive_id, r.outcome) for r in after.failed]
    # finishing the rotation converges to one fresh key per drive
    done = rotate_with_power_cut(array, backend.primary, cut_after=0, step="never")
    assert done is not None and len(done.rotated) == 8
    final = boot(array, [backend.primary])
    assert final.ok and not any(r.stale for r in final.drives)
    # the server holds the links of the last rotation (SPEC-1.4 §3.35), both ways
    for d in done.drives:
        (key,) = backend.primary.auth_keys(array.group, d.drive_id)
        assert key.uid == d.new_uid and d.replaced not in (None, d.new_uid)
        assert backend.primary.links(d.new_uid) == [(LinkType.REPLACED_OBJECT_LINK, d.replaced)]
        assert (LinkType.REPLACEMENT_OBJECT_LINK, d.new_uid) in backend.primary.links(d.replaced)


def test_scenario_6_small_fleet(backend: Backend) -> None:
    from firmware_hooks.fleet import run_fleet

    figures = run_fleet(cartridges=60, seds=60, drives=4, tape=backend.tape, sed_sources=[backend.primary])
    assert figures["cartridges"] == 60 and figures["drives_unlocked"] == 60
    assert figures["cartridge_keys_per_s"] > 0 and figures["boot_unlock_s"] >= 0


@dataclass
class HookShell:
    """``keyshelf-hook`` as an initramfs script runs it: a separate process, a TOML config,
    a fake sedutil-cli on PATH (tests.unit.test_hooks_sedutil), the real server."""

    root: Any
    config: Any
    env: dict[str, str]
    tool: Any
    hook: str
    group: str
    devices: dict[str, str]

    def run(self, *args: str) -> Any:
        import subprocess

        return subprocess.run(
            [self.hook, *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )

    def own(self, source: Any) -> dict[str, bytes]:
        """Take ownership of every drive with a key registered through ``source``."""
        import subprocess

        from firmware_hooks.devices import SedutilDrive

        def local(args: Any, timeout: float) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                list(args), env=self.env, capture_output=True, text=True, timeout=timeout, check=False
            )

        keys = {}
        for i, (drive_id, dev) in enumerate(self.devices.items()):
            keys[drive_id] = bytes([i + 1]) * 32
            source.register_auth_key(self.group, drive_id, keys[drive_id])
            assert (
                SedutilDrive(dev, sedutil=str(self.tool), runner=local).take_ownership(keys[drive_id]).value
                == "ok"
            )
        return keys


@pytest.fixture
def hook_shell(kmip_server: Any, pki: Any, tmp_path: Any) -> HookShell:
    import os
    import shutil
    import stat
    import sys
    from pathlib import Path

    from tests.integration.conftest import HOST
    from tests.unit.test_hooks_sedutil import FAKE

    root = Path(tmp_path)
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (root / "state").mkdir()
    tool = bin_dir / "sedutil-cli"
    tool.write_text(FAKE.format(python=sys.executable))
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    hook = shutil.which("keyshelf-hook", path=str(Path(sys.executable).parent)) or "keyshelf-hook"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_SEDUTIL_LOG": str(root / "argv.log"),
        "FAKE_SEDUTIL_STATE": str(root / "state"),
    }
    cert, key = pki.paths["client-a"]
    devices = {"SED-a": "/dev/sda", "SED-b": "/dev/sdb", "SED-c": "/dev/sdc"}
    config = root / "hook.toml"
    config.write_text(
        f'[server]\naddresses = ["{HOST}:{kmip_server.port}"]\n'
        f'ca = "{pki.ca}"\ncert = "{cert}"\nkey = "{key}"\n\n'
        "[timeouts]\nconnect = 2.0\ndeadline = 5.0\nretries = 1\n\n"
        '[boot]\ngroup = "rack-7"\ndeadline = 30\nretries = 1\nbackoff = 0\n'
        + "".join(f'\n[[boot.drive]]\nid = "{i}"\ndevice = "{d}"\n' for i, d in devices.items())
    )
    return HookShell(root, config, env, tool, hook, "rack-7", devices)


def sed_client(kmip_server: Any, pki: Any) -> Any:
    from agent import sync
    from tests.integration.conftest import HOST

    cert, key = pki.paths["client-a"]
    return sync.Client([f"{HOST}:{kmip_server.port}"], cert=cert, key=key, ca=pki.ca)


def test_keyshelf_hook_shell_entry_points_against_server(
    kmip_server: Any, pki: Any, hook_shell: HookShell
) -> None:
    """``keyshelf-hook boot-unlock`` / ``tape-load`` as separate processes against the server."""
    import json

    from firmware_hooks.agent_source import AgentSedSource

    config, run = hook_shell.config, hook_shell.run
    with sed_client(kmip_server, pki) as client:
        source = AgentSedSource(client)
        keys = hook_shell.own(source)

        done = run("boot-unlock", "--config", str(config), "--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["unlocked"] == 3 and {d["outcome"] for d in report["drives"]} == {"unlocked"}

        source.destroy(source.auth_keys(hook_shell.group, "SED-b")[0].uid)
        done = run("boot-unlock", "--config", str(config))
        assert done.returncode == 1
        assert "SED-b: key-destroyed" in done.stdout and "2/3 unlocked" in done.stdout

        key_out = hook_shell.root / "tape.key"
        done = run(
            "tape-load",
            "--config",
            str(config),
            "--barcode",
            "HOOK01L8",
            "--blank",
            "--json",
            "--key-out",
            str(key_out),
        )
        assert done.returncode == 0, done.stderr
        first = json.loads(done.stdout)
        assert first["created"] and len(key_out.read_bytes()) == 32
        done = run(
            "tape-load",
            "--config",
            str(config),
            "--barcode",
            "HOOK01L8",
            "--json",
            "--kad",
            f"{first['u_kad']}:{first['a_kad']}",
        )
        assert done.returncode == 0 and json.loads(done.stdout)["uid"] == first["uid"]
        secrets = [key_out.read_bytes().hex()] + [k.hex() for k in keys.values()]
        assert not any(x in done.stdout + done.stderr for x in secrets)  # key material never printed

    kmip_server.stop()
    done = run("boot-unlock", "--config", str(config))
    assert done.returncode == 4, done.stdout + done.stderr


def test_keyshelf_hook_rotate_against_server(kmip_server: Any, pki: Any, hook_shell: HookShell) -> None:
    """``keyshelf-hook rotate --config FILE --group G``: every drive moves to a fresh key, the
    server holds the links and only the new keys, boot-unlock opens every drive with them."""
    import json

    from firmware_hooks.agent_source import AgentSedSource

    config, run = hook_shell.config, hook_shell.run
    hook_shell.group = "rack-9"  # not the file's [boot] group: --group chooses
    with sed_client(kmip_server, pki) as client:
        source = AgentSedSource(client)
        keys = hook_shell.own(source)
        before = {d: source.auth_keys("rack-9", d)[0].uid for d in hook_shell.devices}

        done = run("rotate", "--config", str(config), "--group", "rack-9", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(done.stdout)
        assert (report["rotated"], report["failed"], report["retired"]) == (3, 0, 3)
        for d in report["drives"]:
            (new,) = source.auth_keys("rack-9", d["drive_id"])
            assert (new.uid, d["replaced"]) == (d["new_uid"], before[d["drive_id"]])
            assert new.key != keys[d["drive_id"]] and new.key.hex() not in done.stdout
            assert source.links(new.uid) == [(LinkType.REPLACED_OBJECT_LINK, d["replaced"])]
            assert source.links(d["replaced"]) == [(LinkType.REPLACEMENT_OBJECT_LINK, new.uid)]

        done = run("boot-unlock", "--config", str(config))  # [boot] group rack-7: no keys there
        assert done.returncode == 3 and "SED-a: key-missing" in done.stdout

        source.destroy(source.auth_keys("rack-9", "SED-c")[0].uid)
        done = run("rotate", "--config", str(config), "--group", "rack-9")
        assert done.returncode == 1, done.stdout + done.stderr
        assert "SED-c: destroyed" in done.stdout and "2/3 rotated in group rack-9" in done.stdout
        assert run("rotate", "--config", str(config)).returncode == 3  # nothing in rack-7

    kmip_server.stop()
    done = run("rotate", "--config", str(config), "--group", "rack-9")
    assert done.returncode == 4, done.stdout + done.stderr
