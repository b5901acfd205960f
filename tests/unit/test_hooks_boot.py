"""boot_unlock, rotation and the tape-load hook, against the in-memory key server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from firmware_hooks.boot_unlock import BootReport, DriveOutcome, Failover, boot_unlock
from firmware_hooks.devices import SimulatedSed, Unlock
from firmware_hooks.memory import MemoryKeyServer
from firmware_hooks.rotate import rotate_auth_keys
from firmware_hooks.sources import ServerUnavailable
from firmware_hooks.tape_load import TapeLoadHook
from simulators.array import StorageArray
from simulators.cartridge import Kad
from simulators.library import KeyUnavailable, LoadEvent
from simulators.rig import seeded_randbytes


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def array_with_keys(n: int = 6) -> tuple[StorageArray, MemoryKeyServer, MemoryKeyServer]:
    primary = MemoryKeyServer("primary", token_bytes=seeded_randbytes("k"))
    secondary = primary.replica("secondary")
    array = StorageArray("A", n, randbytes=seeded_randbytes("a"), try_limit=5)
    array.take_ownership(primary)
    array.power_cycle()
    return array, primary, secondary


def boot(
    array: StorageArray, *servers: MemoryKeyServer, clock: FakeClock | None = None, **kw: object
) -> BootReport:
    clock = clock or FakeClock()
    return boot_unlock(
        [SimulatedSed(d) for d in array.drives],
        list(servers),
        group=array.group,
        clock=clock,
        sleep=clock.sleep,
        **kw,  # type: ignore[arg-type]
    )


def test_boot_unlocks_every_drive() -> None:
    array, primary, secondary = array_with_keys()
    report = boot(array, primary, secondary)
    assert report.ok and len(report.unlocked) == 6
    assert array.locked() == []
    assert report.servers_used == {"primary": 6}
    assert all(d.attempts == 1 and d.candidates == 1 and not d.stale for d in report.drives)


def test_failover_to_secondary() -> None:
    array, primary, secondary = array_with_keys()
    primary.available = False
    before = primary.calls
    report = boot(array, primary, secondary, workers=1)
    assert report.ok and report.servers_used == {"secondary": 6}
    # sticky preference: the dead primary is tried once, not once per drive
    assert primary.calls - before == 1


def test_all_servers_down_retries_with_backoff_then_reports() -> None:
    array, primary, secondary = array_with_keys(2)
    primary.available = secondary.available = False
    clock = FakeClock()
    report = boot(array, primary, secondary, clock=clock, retries=2, backoff=0.5, workers=1)
    assert [d.outcome for d in report.drives] == [DriveOutcome.SERVER_UNAVAILABLE] * 2
    assert clock.sleeps[:2] == [0.5, 1.0]
    assert report.drives[0].drive_id == array.drives[0].serial
    assert len(array.locked()) == 2


def test_destroyed_key_leaves_one_drive_locked_and_reported() -> None:
    array, primary, secondary = array_with_keys()
    victim = array.drives[3].serial
    (key,) = primary.auth_keys(array.group, victim)
    primary.destroy(key.uid)
    report = boot(array, primary, secondary)
    assert len(report.unlocked) == 5
    (failed,) = report.failed
    assert (failed.drive_id, failed.outcome) == (victim, DriveOutcome.KEY_DESTROYED)
    assert array.locked() == [victim]
    assert '"key-destroyed"' in report.to_json()


def test_missing_key_reported() -> None:
    array, primary, _ = array_with_keys(2)
    extra = StorageArray("A", 3, randbytes=seeded_randbytes("a"))
    extra.drives[2].take_ownership(extra.drives[2].msid, b"k" * 32)  # never registered
    extra.drives[2].power_cycle()
    report = boot_unlock([SimulatedSed(extra.drives[2])], [primary], group=array.group)
    assert report.drives[0].outcome is DriveOutcome.KEY_MISSING


def test_wrong_key_and_lockout() -> None:
    array, primary, _ = array_with_keys(1)
    d = array.drives[0]
    for _ in range(5):
        primary.register_auth_key(array.group, d.serial, b"w" * 32)  # 5 newer wrong keys
    report = boot(array, primary)
    assert report.drives[0].outcome is DriveOutcome.LOCKED_OUT
    d.power_cycle()
    for uid in primary.live_objects("sed")[1:]:
        primary.destroy(uid)
    primary.register_auth_key(array.group, d.serial, b"v" * 32)
    ok = boot(array, primary)
    assert ok.drives[0].outcome is DriveOutcome.UNLOCKED and ok.drives[0].stale


def test_deadline_reports_timeout_for_unfinished_drives() -> None:
    array, primary, _ = array_with_keys(3)
    clock = FakeClock()

    class Slow(SimulatedSed):
        def unlock(self, key: bytes) -> Unlock:
            clock.now += 100  # this drive takes "100 s"
            return super().unlock(key)

    targets = [Slow(array.drives[0]), SimulatedSed(array.drives[1]), SimulatedSed(array.drives[2])]
    report = boot_unlock(
        targets, [primary], group=array.group, deadline=50, workers=1, clock=clock, sleep=clock.sleep
    )
    assert [d.outcome for d in report.drives] == [
        DriveOutcome.UNLOCKED,
        DriveOutcome.TIMEOUT,
        DriveOutcome.TIMEOUT,
    ]


def test_failover_needs_a_source() -> None:
    with pytest.raises(ValueError):
        Failover([])


def test_rotation_with_power_cut_in_the_middle_keeps_every_drive_unlockable() -> None:
    array, primary, _ = array_with_keys(6)
    boot(array, primary)
    ids = [d.serial for d in array.drives]

    class PowerCut(Exception):
        pass

    def cut(step: str, drive_id: str) -> None:
        # drive 0 fully rotated, drive 1 registered but not changed, drive 2 changed but not retired
        if (step, drive_id) in {("registered", ids[1])}:
            raise PowerCut

    targets = [SimulatedSed(d) for d in array.drives]
    with pytest.raises(PowerCut):
        rotate_auth_keys(
            targets, primary, group=array.group, token_bytes=seeded_randbytes("r1"), checkpoint=cut
        )
    array.power_cycle()
    after = boot(array, primary)
    assert after.ok
    assert [d.stale for d in after.drives][:2] == [False, True]

    def cut2(step: str, drive_id: str) -> None:
        if (step, drive_id) == ("changed", ids[2]):
            raise PowerCut

    with pytest.raises(PowerCut):
        rotate_auth_keys(
            targets, primary, group=array.group, token_bytes=seeded_randbytes("r2"), checkpoint=cut2
        )
    array.power_cycle()
    assert boot(array, primary).ok
    # a full rotation afterwards converges: one live key per drive, all unlockable
    done = rotate_auth_keys(targets, primary, group=array.group, token_bytes=seeded_randbytes("r3"))
    assert done.rotated == ids and not done.failed
    assert len(primary.live_objects("sed")) == 6
    array.power_cycle()
    final = boot(array, primary)
    assert final.ok and not any(d.stale for d in final.drives)


def test_rotation_reports_server_down() -> None:
    array, primary, _ = array_with_keys(1)
    primary.available = False
    report = rotate_auth_keys([SimulatedSed(array.drives[0])], primary, group=array.group)
    assert report.failed == {array.drives[0].serial: "server-unavailable"}


# -- tape load hook ------------------------------------------------------------------------------


def event(kad: Kad | None, gen: int = 8) -> LoadEvent:
    return LoadEvent("L", 0, "D0", "ABC123L8", gen, kad)


def test_tape_load_blank_creates_with_generation_kad() -> None:
    server = MemoryKeyServer(token_bytes=seeded_randbytes("k"))
    hook = TapeLoadHook(server, token_bytes=seeded_randbytes("id"))
    grant = hook(event(None, 4))
    assert grant.created and len(grant.key) == 32
    assert (len(grant.kad.u_kad), len(grant.kad.a_kad)) == (20, 12)  # LTO-4: A-KAD is 12 bytes
    grant8 = hook(event(None, 8))
    assert (len(grant8.kad.u_kad), len(grant8.kad.a_kad)) == (0, 32)
    again = hook(event(grant.kad, 4))
    assert not again.created and again.key == grant.key and again.uid == grant.uid
    assert (hook.stats.created, hook.stats.located) == (2, 1)
    assert "key" not in repr(grant).replace("KeyGrant", "").split("kad")[0]


@pytest.mark.parametrize(
    "setup,reason", [("none", "not-found"), ("destroyed", "destroyed"), ("down", "server-unavailable")]
)
def test_tape_load_refusals(setup: str, reason: str) -> None:
    server = MemoryKeyServer()
    hook = TapeLoadHook(server)
    kad = Kad(b"", b"\x01" * 32)
    if setup == "destroyed":
        server.destroy(server.create_tape_key("lto8", kad.u_kad, kad.a_kad, "ABC123L8").uid)
    if setup == "down":
        server.available = False
    with pytest.raises(KeyUnavailable) as e:
        hook(event(kad))
    assert e.value.reason == reason
    assert hook.stats.refused == 1


def test_memory_server_down_raises_server_unavailable() -> None:
    server = MemoryKeyServer()
    server.available = False
    with pytest.raises(ServerUnavailable):
        server.auth_keys("g", "d")


def test_demo_data_dir_replaces_only_its_own(tmp_path: Path) -> None:
    from firmware_hooks.demo import MARKER, choose_data_dir

    own = tmp_path / "demo-data"
    own.mkdir()
    (own / MARKER).write_text("x")
    (own / "old.log").write_text("x")
    assert choose_data_dir(own) == own and not own.exists()  # removed, to be re-created
    other = tmp_path / "precious"
    other.mkdir()
    (other / "keep").write_text("x")
    chosen = choose_data_dir(other)
    assert chosen != other and (other / "keep").exists()
