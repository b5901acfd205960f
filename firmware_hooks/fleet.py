"""Scenario 6: a simulated fleet - N cartridges through one library, M self-encrypting drives in
one array - measuring key throughput and boot-unlock time (``benchmarks/fleet.py`` reports it).

The tape path is sequential (one robot, as in a real library): every mount is one key request
(Create + Get for a blank cartridge, Locate + Get after), so cartridge keys/s is the end-to-end
rate of the tape-load hook including the simulated drive work. The drives talk to the library
through the in-process transport here; the serial lines are measured by their own tests.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

from firmware_hooks.boot_unlock import boot_unlock
from firmware_hooks.devices import SimulatedSed
from firmware_hooks.scenarios import Progress, barcodes, read_all, write_all
from firmware_hooks.sources import SedKeySource, TapeKeySource
from firmware_hooks.tape_load import TapeLoadHook
from simulators.array import StorageArray
from simulators.cartridge import Cartridge
from simulators.rig import build_library

__all__ = ["run_fleet"]


def _quiet(phase: str, done: int, total: int) -> None:
    pass


def run_fleet(
    *,
    cartridges: int,
    seds: int,
    drives: int,
    tape: TapeKeySource,
    sed_sources: Sequence[SedKeySource],
    workers: int = 16,
    deadline: float = 600.0,
    name: str = "FLEET",
    progress: Progress = _quiet,
    randbytes: Callable[[int], bytes] = os.urandom,
) -> dict[str, float | int]:
    hook = TapeLoadHook(tape)
    carts = [Cartridge(b) for b in barcodes(cartridges, name[:2])]
    rig = build_library(name, drives=drives, slots=cartridges, key_provider=hook, randbytes=randbytes)
    with rig:
        written = write_all(rig.library, carts, records=1, record_size=256, progress=progress)
        read = read_all(
            rig.library, [c.barcode for c in carts], records=1, record_size=256, progress=progress
        )
    array = StorageArray(name, seds, randbytes=randbytes)
    t0 = time.perf_counter()
    array.take_ownership(sed_sources[0])
    register_s = time.perf_counter() - t0
    array.power_cycle()
    t1 = time.perf_counter()
    report = boot_unlock(
        [SimulatedSed(d) for d in array.drives],
        sed_sources,
        group=array.group,
        workers=workers,
        deadline=deadline,
    )
    boot_s = time.perf_counter() - t1
    tape_s = written.elapsed + read.elapsed
    keys = hook.stats.created + hook.stats.located
    return {
        "cartridges": cartridges,
        "drives": drives,
        "seds": seds,
        "workers": workers,
        "verified": read.verified,
        "cartridge_keys": keys,
        "cartridge_keys_per_s": round(keys / tape_s, 1) if tape_s else 0.0,
        "create_keys_per_s": round(hook.stats.created / written.elapsed, 1) if written.elapsed else 0.0,
        "locate_keys_per_s": round(hook.stats.located / read.elapsed, 1) if read.elapsed else 0.0,
        "register_s": round(register_s, 3),
        "boot_unlock_s": round(boot_s, 3),
        "drives_unlocked": len(report.unlocked),
    }
