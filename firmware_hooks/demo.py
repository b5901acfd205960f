"""The keyshelf demo (``make demo`` -> ``python -m simulators.demo`` -> this module).

1. a fresh data directory (``./demo-data``; a previous demo's directory is replaced, any other
   directory of that name is left alone and a temporary one is used instead);
2. ``keyshelf-server init`` there, then two ``keyshelf-server`` processes on its embedded
   SQLite database (the second is the failover secondary: same file, WAL);
3. scenario 1 (library with 4 drives on a serial line, 40 cartridges: write, shuffle, reload
   into other drives, read back, verify; one key per cartridge found by ASI), scenario 2
   (crypto-shred one cartridge), scenario 4 (24 SEDs: take ownership, boot-unlock; one key
   destroyed -> 23 + 1 reported; primary stopped -> failover to the secondary);
4. a summary; the servers are stopped; exit 0 only if every check passed. The last line is
   ``demo: N cartridges verified, M drives unlocked, 0 failures``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from firmware_hooks.boot_unlock import DriveOutcome
from firmware_hooks.harness import HarnessError, ServerProcess, init_data_dir
from firmware_hooks.scenarios import (
    barcodes,
    boot,
    check_one_key_per_cartridge,
    crypto_shred,
    take_ownership_and_boot,
    write_then_read,
)
from firmware_hooks.tape_load import TapeLoadHook
from simulators.array import StorageArray
from simulators.cartridge import Cartridge
from simulators.rig import build_library

MARKER = ".keyshelf-demo"


def choose_data_dir(requested: Path) -> Path:
    if requested.exists():
        if (requested / MARKER).is_file():
            shutil.rmtree(requested)  # our own previous run
        else:
            fresh = Path(tempfile.mkdtemp(prefix="keyshelf-demo-"))
            print(f"note: {requested} exists and is not a demo directory; using {fresh}")
            requested = fresh
            shutil.rmtree(requested)
    requested.parent.mkdir(parents=True, exist_ok=True)
    return requested


class Checks:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def expect(self, ok: bool, what: str) -> None:
        mark = "ok  " if ok else "FAIL"
        print(f"  [{mark}] {what}")
        if not ok:
            self.failures.append(what)


def progress_printer(stream: object = sys.stdout) -> Callable[[str, int, int], None]:
    tty = hasattr(stream, "isatty") and sys.stdout.isatty()

    def show(phase: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(1, total)
        line = f"  {phase:<6} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if tty:
            print("\r" + line, end="" if done < total else "\n", flush=True)
        elif done == total or done % 10 == 0:
            print(line, flush=True)

    return show


def run(data_dir: Path, cartridges: int, drives: int, seds: int) -> int:
    from agent import sync
    from firmware_hooks.agent_source import AgentSedSource, AgentTapeSource

    started = time.perf_counter()
    checks = Checks()
    data_dir = choose_data_dir(data_dir)
    print(f"keyshelf demo - data directory: {data_dir.resolve()}")
    init_data_dir(data_dir)
    (data_dir / MARKER).write_text("created by python -m simulators.demo\n", encoding="utf-8")
    config = data_dir / "keyshelf.toml"
    primary = ServerProcess(config, data_dir / "server-primary.log")
    secondary = ServerProcess(config, data_dir / "server-secondary.log")
    clients: list[sync.Client] = []
    verified = unlocked_drives = 0
    try:
        primary.start()
        secondary.start()
        print(f"servers: primary {primary.address}, secondary {secondary.address} (one SQLite file, WAL)")

        def client(address: str) -> sync.Client:
            c = sync.Client(
                [address],
                cert=data_dir / "client-a.crt",
                key=data_dir / "client-a.key",
                ca=data_dir / "ca.crt",
                deadline=10.0,
            )
            clients.append(c)
            return c

        tape = AgentTapeSource(client(primary.address), name="primary")
        sed_primary = AgentSedSource(clients[0], name="primary")
        sed_secondary = AgentSedSource(client(secondary.address), name="secondary")

        # -- scenario 1 ---------------------------------------------------------------------
        print(f"\nscenario 1: library with {drives} drives (serial line), {cartridges} cartridges")
        carts = [Cartridge(b) for b in barcodes(cartridges, "DM")]
        hook = TapeLoadHook(tape)
        with build_library(
            "DEMO-LIB", drives=drives, slots=cartridges + 8, key_provider=hook, transport="loop"
        ) as rig:
            t0 = time.perf_counter()
            result = write_then_read(
                rig.library,
                carts,
                rng=random.Random(),
                records=3,
                record_size=4096,
                progress=progress_printer(),
            )
            s1_time = time.perf_counter() - t0
            checks.expect(
                result.written == cartridges, f"{result.written} cartridges written, each with its own key"
            )
            checks.expect(
                result.verified == cartridges and not result.mismatches,
                f"{result.verified} cartridges read back in other drives, byte for byte",
            )
            checks.expect(
                all(result.read_in[b] != result.written_in[b] for b in result.written_in) or drives == 1,
                "every cartridge was reloaded into a different drive after the shuffle",
            )
            bad = check_one_key_per_cartridge(tape, carts)
            checks.expect(
                not bad, f"the server holds exactly one key per cartridge, found by ASI ({cartridges})"
            )
            checks.expect(
                len(set(result.uids.values())) == cartridges, f"{hook.stats.created} keys created, distinct"
            )
            print(f"  keys created {hook.stats.created}, located {hook.stats.located}; {s1_time:.1f} s")
            verified = result.verified

            # -- scenario 2 -------------------------------------------------------------------
            victim = carts[len(carts) // 2].barcode
            print(f"\nscenario 2: crypto-shred {victim}")
            others = [c.barcode for c in carts if c.barcode != victim][:8]
            shred = crypto_shred(rig.library, tape, victim, result.uids[victim], others, records=3)
            checks.expect(
                shred.victim_refused == "destroyed",
                f"{victim} can no longer be read (reason: {shred.victim_refused or 'none'})",
            )
            checks.expect(
                shred.others.verified == len(others), f"{shred.others.verified} other cartridges still read"
            )

        # -- scenario 4 -----------------------------------------------------------------------
        print(f"\nscenario 4: storage array of {seds} self-encrypting drives")
        array = StorageArray("DEMO", seds)
        servers = [sed_primary, sed_secondary]
        t0 = time.perf_counter()
        first = take_ownership_and_boot(array, sed_primary, servers)
        unlocked_drives = len(first.unlocked)
        checks.expect(
            first.ok, f"take ownership + power cycle + boot-unlock: {unlocked_drives}/{seds} unlocked"
        )
        victim_drive = array.drives[seds // 3].serial
        (key,) = sed_primary.auth_keys(array.group, victim_drive)
        sed_primary.destroy(key.uid)
        second = boot(array, servers)
        failed = [(r.drive_id, r.outcome) for r in second.failed]
        checks.expect(
            len(second.unlocked) == seds - 1
            and failed == [(victim_drive, DriveOutcome.KEY_DESTROYED)]
            and array.locked() == [victim_drive],
            f"key of {victim_drive} destroyed: {len(second.unlocked)} up, {victim_drive} reported "
            f"({failed[0][1].value if failed else '-'}) and still locked",
        )
        primary.stop()
        third = boot(array, servers)
        checks.expect(
            len(third.unlocked) == seds - 1 and third.servers_used == {"secondary": seds - 1},
            f"primary stopped: {len(third.unlocked)} unlocked through the secondary in {third.elapsed:.2f} s",
        )
        print(f"  boot-unlock times: {first.elapsed:.2f} s, {second.elapsed:.2f} s, {third.elapsed:.2f} s")
        s4_time = time.perf_counter() - t0

        print("\nsummary")
        print(f"  cartridges written {result.written}, read {result.read}, verified {result.verified}")
        print(
            f"  tape keys created {hook.stats.created}, located {hook.stats.located}, "
            f"refused {hook.stats.refused} (the shredded cartridge)"
        )
        print(f"  drives unlocked {unlocked_drives}/{seds} (then {seds - 1} + 1 reported, then failover)")
        total = time.perf_counter() - started
        print(f"  time: scenario 1 {s1_time:.1f} s, scenario 4 {s4_time:.1f} s, total {total:.1f} s")
    except (HarnessError, OSError) as exc:
        checks.failures.append(f"demo could not run: {exc}")
        print(f"error: {exc}", file=sys.stderr)
    finally:
        for c in clients:
            c.close()
        secondary.stop()
        primary.stop()
        print(f"servers stopped; data directory kept at {data_dir.resolve()} (logs: server-*.log)")
    if checks.failures:
        for f in checks.failures:
            print(f"failure: {f}")
    failures = len(checks.failures)
    print(f"demo: {verified} cartridges verified, {unlocked_drives} drives unlocked, {failures} failures")
    return 0 if not checks.failures else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simulators.demo", description="keyshelf end-to-end demo")
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("KEYSHELF_DEMO_DIR", "demo-data")))
    p.add_argument("--cartridges", type=int, default=40)
    p.add_argument("--drives", type=int, default=4)
    p.add_argument("--seds", type=int, default=24)
    args = p.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the servers this demo started are always stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    return run(args.data_dir, args.cartridges, args.drives, args.seds)


if __name__ == "__main__":
    sys.exit(main())
