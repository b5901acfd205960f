"""boot_unlock, rotation and the tape-load hook, against the in-memory key server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from agent.spec import LinkType
from firmware_hooks.boot_unlock import BootReport, DriveOutcome, Failover, boot_unlock
from firmware_hooks.devices import SimulatedSed, Unlock
from firmware_hooks.memory import MemoryKeyServer
from firmware_hooks.rotate import rotate_auth_keys
from firmware_hooks.sources import KeyNotFound, ServerUnavailable
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
    assert report.drives[0].step == "" and report.drives[0].new_uid is None


def test_rotation_links_each_new_key_to_the_key_it_replaces() -> None:
    """The in-memory source models the agent's server steps: Register, Link both ways, retire."""
    array, primary, _ = array_with_keys(2)
    group = array.group
    before = {d.serial: primary.auth_keys(group, d.serial)[0].uid for d in array.drives}
    targets = [SimulatedSed(d) for d in array.drives]
    report = rotate_auth_keys(targets, primary, group=group, token_bytes=seeded_randbytes("n"))
    assert report.ok and report.retired == 2 and primary.ops["link"] == 2
    for d in report.drives:
        assert (d.outcome, d.step, d.candidates, d.stale, d.retired) == ("rotated", "retired", 1, False, 1)
        assert d.replaced == before[d.drive_id] and d.new_uid is not None
        assert [k.uid for k in primary.auth_keys(group, d.drive_id)] == [d.new_uid]
        assert primary.links(d.new_uid) == [(LinkType.REPLACED_OBJECT_LINK, before[d.drive_id])]
        assert primary.links(before[d.drive_id]) == [(LinkType.REPLACEMENT_OBJECT_LINK, d.new_uid)]
    assert '"replaced"' in report.to_json()


def test_rotation_finishes_an_interrupted_one_and_chains_the_links() -> None:
    array, primary, _ = array_with_keys(1)
    drive_id, group = array.drives[0].serial, array.group
    (first,) = primary.auth_keys(group, drive_id)

    class PowerCut(Exception):
        pass

    def cut(step: str, drive_id: str) -> None:
        raise PowerCut

    targets = [SimulatedSed(array.drives[0])]
    with pytest.raises(PowerCut):  # registered and linked, the drive still on its first key
        rotate_auth_keys(targets, primary, group=group, token_bytes=seeded_randbytes("x"), checkpoint=cut)
    array.power_cycle()
    unused = primary.auth_keys(group, drive_id)[0].uid
    report = rotate_auth_keys(targets, primary, group=group, token_bytes=seeded_randbytes("y"))
    (d,) = report.drives
    assert d.ok and d.stale and d.candidates == 2 and d.retired == 2 and d.replaced == unused
    assert primary.links(unused) == [
        (LinkType.REPLACED_OBJECT_LINK, first.uid),
        (LinkType.REPLACEMENT_OBJECT_LINK, d.new_uid),
    ]
    assert primary.live_objects("sed") == [d.new_uid]


def test_rotation_drive_refusing_every_key_keeps_its_own() -> None:
    array, primary, _ = array_with_keys(1)
    drive_id, group = array.drives[0].serial, array.group
    (own,) = primary.auth_keys(group, drive_id)
    primary.destroy(own.uid)
    primary.register_auth_key(group, drive_id, b"w" * 32)  # a key the drive does not take
    report = rotate_auth_keys([SimulatedSed(array.drives[0])], primary, group=group)
    (d,) = report.drives
    assert (d.outcome, d.step, d.retired) == ("wrong-key", "registered", 0)
    assert len(primary.auth_keys(group, drive_id)) == 2  # nothing retired: the drive decides
    with pytest.raises(KeyNotFound):
        primary.retire_auth_keys(group, drive_id, own.uid)  # only a live key of the drive is kept
    primary.destroy(d.new_uid or "")
    assert rotate_auth_keys([SimulatedSed(array.drives[0])], primary, group=group).failed == {
        drive_id: "wrong-key"
    }
    for uid in primary.live_objects("sed"):
        primary.destroy(uid)
    assert rotate_auth_keys([SimulatedSed(array.drives[0])], primary, group=group).failed == {
        drive_id: "destroyed"
    }


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
