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
    assert shred.victim_refused in {"destroyed", "not-found"}
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
    assert [(r.drive_id, r.outcome) for r in second.failed] in (
        [(victim, DriveOutcome.KEY_DESTROYED)],
        [(victim, DriveOutcome.KEY_MISSING)],
    )
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


def test_scenario_6_small_fleet(backend: Backend) -> None:
    from firmware_hooks.fleet import run_fleet

    figures = run_fleet(cartridges=60, seds=60, drives=4, tape=backend.tape, sed_sources=[backend.primary])
    assert figures["cartridges"] == 60 and figures["drives_unlocked"] == 60
    assert figures["cartridge_keys_per_s"] > 0 and figures["boot_unlock_s"] >= 0
