"""The end-to-end scenarios of issue 5, as functions shared by the integration tests, the demo
(``python -m simulators.demo``) and the fleet benchmark.

Each runs devices from ``simulators`` with the hooks of this package against any key source
(the real server through ``firmware_hooks.agent_source``, or ``firmware_hooks.memory``) and
returns a result with the counts it verified; a mismatch is recorded, never raised, so a
report can say exactly what failed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from firmware_hooks.boot_unlock import BootReport, boot_unlock
from firmware_hooks.devices import SimulatedSed
from firmware_hooks.rotate import RotationReport, rotate_auth_keys
from firmware_hooks.sources import SedKeySource
from simulators.array import StorageArray
from simulators.cartridge import Cartridge
from simulators.drive import DriveError
from simulators.library import LibraryError, TapeLibrary

__all__ = [
    "Progress",
    "TapeAdmin",
    "TapeResult",
    "barcodes",
    "crypto_shred",
    "record_data",
    "write_then_read",
]

Progress = Callable[[str, int, int], None]  # (phase, done, total)


def _quiet(phase: str, done: int, total: int) -> None:
    pass


class TapeAdmin(Protocol):
    """What a scenario checks on the server side (an administrator's view)."""

    def tape_uids(self, generation: str, u_kad: bytes, a_kad: bytes) -> list[str]:
        """Every key whose ASI matches the KAD (Locate by ASI)."""
        ...

    def destroy(self, uid: str) -> None: ...


def barcodes(count: int, prefix: str = "KS", generation: int = 9) -> list[str]:
    """``count`` LTO barcodes: prefix + serial number, 6 characters, + "L<generation>"."""
    width = 6 - len(prefix)
    return [f"{prefix}{i:0{width}d}L{generation}" for i in range(count)]


def record_data(barcode: str, index: int, size: int) -> bytes:
    """Deterministic content for record ``index`` of a cartridge (verifiable byte for byte)."""
    return random.Random(f"{barcode}/{index}").randbytes(size)


@dataclass
class TapeResult:
    written: int = 0
    read: int = 0
    verified: int = 0
    created: int = 0
    located: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # barcode -> reason
    mismatches: list[str] = field(default_factory=list)
    uids: dict[str, str] = field(default_factory=dict)  # barcode -> key uid
    written_in: dict[str, int] = field(default_factory=dict)
    read_in: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0


def write_all(
    library: TapeLibrary,
    cartridges: Sequence[Cartridge],
    *,
    records: int = 3,
    record_size: int = 4096,
    progress: Progress = _quiet,
    result: TapeResult | None = None,
) -> TapeResult:
    """Import the cartridges and write ``records`` records to each, round-robin over drives."""
    out = result or TapeResult()
    start = time.perf_counter()
    drives = len(library.bays)
    for c in cartridges:
        library.import_cartridge(c)
    for i, c in enumerate(cartridges):
        drive = i % drives
        mounted = library.mount(c.barcode, drive)
        out.created += mounted.created
        out.located += not mounted.created
        out.uids[c.barcode] = mounted.uid
        for r in range(records):
            library.write(drive, record_data(c.barcode, r, record_size))
        library.dismount(drive)
        out.written += 1
        out.written_in[c.barcode] = drive
        progress("write", i + 1, len(cartridges))
    out.elapsed += time.perf_counter() - start
    return out


def read_all(
    library: TapeLibrary,
    barcodes_: Sequence[str],
    *,
    records: int = 3,
    record_size: int = 4096,
    avoid: dict[str, int] | None = None,
    progress: Progress = _quiet,
    result: TapeResult | None = None,
) -> TapeResult:
    """Mount each cartridge (in a drive other than ``avoid[barcode]`` when there is a choice),
    read every record back and compare byte for byte."""
    out = result or TapeResult()
    start = time.perf_counter()
    drives = len(library.bays)
    for i, barcode in enumerate(barcodes_):
        drive = i % drives
        if avoid and drives > 1 and avoid.get(barcode) == drive:
            drive = (drive + 1) % drives
        try:
            mounted = library.mount(barcode, drive)
        except LibraryError as exc:
            out.refused[barcode] = exc.reason or exc.code.value
            progress("read", i + 1, len(barcodes_))
            continue
        out.located += not mounted.created
        out.created += mounted.created
        ok = True
        try:
            for r in range(records):
                if library.read(drive) != record_data(barcode, r, record_size):
                    ok = False
        except DriveError as exc:
            ok = False
            out.refused[barcode] = exc.code.name
        library.dismount(drive)
        out.read += 1
        out.read_in[barcode] = drive
        if ok:
            out.verified += 1
        else:
            out.mismatches.append(barcode)
        progress("read", i + 1, len(barcodes_))
    out.elapsed += time.perf_counter() - start
    return out


def write_then_read(
    library: TapeLibrary,
    cartridges: Sequence[Cartridge],
    *,
    rng: random.Random,
    records: int = 3,
    record_size: int = 4096,
    progress: Progress = _quiet,
) -> TapeResult:
    """Scenario 1: write every cartridge with its own key, shuffle the slots, reload each into a
    different drive, read everything back and verify byte for byte."""
    out = write_all(library, cartridges, records=records, record_size=record_size, progress=progress)
    library.shuffle(rng)
    order = [c.barcode for c in cartridges]
    rng.shuffle(order)
    return read_all(
        library,
        order,
        records=records,
        record_size=record_size,
        avoid=out.written_in,
        progress=progress,
        result=out,
    )


def check_one_key_per_cartridge(admin: TapeAdmin, cartridges: Sequence[Cartridge]) -> list[str]:
    """Barcodes whose ASI does not find exactly one key (empty list = all good)."""
    bad = []
    for c in cartridges:
        kad = c.kad
        if kad is None or len(admin.tape_uids(f"lto{c.generation.number}", kad.u_kad, kad.a_kad)) != 1:
            bad.append(c.barcode)
    return bad


@dataclass
class ShredResult:
    victim: str
    victim_refused: str  # the reason the victim could not be read ("" = it could: failure)
    others: TapeResult


def crypto_shred(
    library: TapeLibrary,
    admin: TapeAdmin,
    victim: str,
    uid: str,
    others: Sequence[str],
    *,
    records: int = 3,
    record_size: int = 4096,
) -> ShredResult:
    """Scenario 2: destroy one cartridge's key; it can no longer be read, the others still can."""
    admin.destroy(uid)
    victim_result = read_all(library, [victim], records=records, record_size=record_size)
    reason = victim_result.refused.get(victim, "")
    return ShredResult(victim, reason, read_all(library, others, records=records, record_size=record_size))


def take_ownership_and_boot(
    array: StorageArray,
    registry: SedKeySource,
    sources: Sequence[SedKeySource],
    *,
    deadline: float = 60.0,
    workers: int = 16,
) -> BootReport:
    """Scenario 4 (first part): own every drive, power-cycle, boot-unlock all of them."""
    array.take_ownership(registry)
    return boot(array, sources, deadline=deadline, workers=workers)


def boot(
    array: StorageArray, sources: Sequence[SedKeySource], *, deadline: float = 60.0, workers: int = 16
) -> BootReport:
    """Power-cycle the array and run the boot-unlock hook on it."""
    return array.boot(
        lambda a: boot_unlock(
            [SimulatedSed(d) for d in a.drives], sources, group=a.group, deadline=deadline, workers=workers
        )
    )


class PowerCut(Exception):
    """Raised from a rotation checkpoint to simulate losing power at that point."""


def rotate_with_power_cut(
    array: StorageArray, source: SedKeySource, *, cut_after: int, step: str = "registered"
) -> RotationReport | None:
    """Scenario 5: rotate every drive's key and cut the power at drive ``cut_after``'s ``step``;
    returns the report if the rotation finished (no cut happened), None after a cut."""
    victim = array.drives[cut_after].serial

    def checkpoint(at: str, drive_id: str) -> None:
        if (at, drive_id) == (step, victim):
            raise PowerCut(f"{step} {drive_id}")

    try:
        return rotate_auth_keys(
            [SimulatedSed(d) for d in array.drives], source, group=array.group, checkpoint=checkpoint
        )
    except PowerCut:
        array.power_cycle()
        return None
