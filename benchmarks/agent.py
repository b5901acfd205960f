"""Footprint of the agent: import time, memory after one key fetch, round trips per flow.

    python benchmarks/agent.py [--json]

Starts its own keyshelf-server on loopback (``keyshelf-server init DIR`` + ``--config``),
provisions one tape key and 24 SED authentication keys, then measures in fresh child
processes (so nothing the benchmark itself imported is counted):

- ``import_ms``: the headline, what issue 4 bounds at 150 ms: ``import agent.sync, agent.tape,
  agent.sed`` (everything a key fetch needs: client, model, registry, TTLV), median of 7 fresh
  processes with compiled bytecode, as an installed agent runs (pip and device images ship
  .pyc; the cache here is a private temporary ``PYTHONPYCACHEPREFIX``, the tree is untouched);
- ``import_ms_key_fetch_stack``: the same figure under its descriptive name (kept for
  comparison with earlier runs, where ``import_ms`` was ``import agent`` alone);
- ``import_ms_key_fetch_stack_from_source``: the same import with ``PYTHONDONTWRITEBYTECODE=1``
  (keyshelf's modules compiled from source in every process, unless the tree has __pycache__);
- ``import_ms_agent_package``: ``import agent`` alone (an empty package: trivially small);
- ``rss_mb_after_fetch``: resident memory (VmRSS) of a process that imported the agent,
  connected over mutual TLS and fetched one tape key (Locate + Get);
- ``round_trips_tape_read``: request messages for one tape key read (configured version);
- ``round_trips_tape_read_negotiated``: the same on a fresh client that negotiates first;
- ``round_trips_boot_24``: request messages to fetch the keys of a 24-drive array;
- ``tape_read_ms_p50``: median latency of a tape key read on a warm connection.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
# this script is named like the package it measures: keep benchmarks/ off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))

from benchmarks import report  # noqa: E402

GROUP = "bench-array-24"
U_KAD = bytes.fromhex("0102030405060708")
A_KAD = bytes.fromhex("A1A2A3A4")

CHILD_FETCH = r"""
import json, sys, time
from agent import sync
from agent.tape import Cartridge
from agent.sed import Drive
d, port, version = sys.argv[1], sys.argv[2], (sys.argv[3] if sys.argv[3] != "-" else None)
cartridge = Cartridge("lto6", u_kad=bytes.fromhex(sys.argv[4]), a_kad=bytes.fromhex(sys.argv[5]))
with sync.Client([f"127.0.0.1:{port}"], f"{d}/client-a.crt", f"{d}/client-a.key", f"{d}/ca.crt", version) as c:
    key = sync.TapeKeys(c).key_for_read(cartridge)
    first = c.round_trips
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    rss_kb = int(status["VmRSS"].split()[0])
    hwm_kb = int(status["VmHWM"].split()[0])
    out = {"rss_kb": rss_kb, "hwm_kb": hwm_kb, "round_trips": first, "key_len": len(key.key)}
    if sys.argv[6] == "full":
        before = c.round_trips
        sync.TapeKeys(c).key_for_read(cartridge)
        out["round_trips_warm"] = c.round_trips - before
        times = []
        for _ in range(50):
            t = time.perf_counter()
            sync.TapeKeys(c).key_for_read(cartridge)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out["tape_read_ms_p50"] = times[len(times) // 2]
        before = c.round_trips
        keys = sync.SedKeys(c, sys.argv[7]).unlock_keys()
        out["round_trips_boot"] = c.round_trips - before
        out["drives"] = len(keys)
print(json.dumps(out))
"""


# PyKMIP's client (kmip.pie.client) doing the same kind of fetch against the same server: one
# Create then Get of an AES-256 key (it has no Tape Library helper), for the comparison figures.
CHILD_FETCH_PYKMIP = r"""
import json, os, sys, warnings
warnings.simplefilter("ignore")
from kmip.pie.client import ProxyKmipClient
from kmip import enums
d, port = sys.argv[1], int(sys.argv[2])
with ProxyKmipClient(hostname="127.0.0.1", port=port, cert=f"{d}/client-a.crt", key=f"{d}/client-a.key",
                     ca=f"{d}/ca.crt", config_file=os.devnull) as c:
    uid = c.create(enums.CryptographicAlgorithm.AES, 256)
    key = c.get(uid)
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    print(json.dumps({"rss_kb": int(status["VmRSS"].split()[0]), "key_len": len(key.value)}))
"""
PYKMIP_CLIENT_STACK = "kmip.pie.client"


@contextlib.contextmanager
def _server(data: Path) -> Iterator[int]:
    from firmware_hooks import harness

    harness.init_data_dir(data)
    with harness.ServerProcess(data / "keyshelf.toml", data / "server.log") as server:
        yield server.port


def _provision(data: Path, port: int) -> None:
    from agent import sync
    from agent.sed import Drive
    from agent.tape import Cartridge

    with sync.Client(
        [f"127.0.0.1:{port}"], data / "client-a.crt", data / "client-a.key", data / "ca.crt", "1.4"
    ) as client:
        sync.TapeKeys(client).key_for_write(Cartridge("lto6", u_kad=U_KAD, a_kad=A_KAD, barcode="BENCH1"))
        sed = sync.SedKeys(client, GROUP)
        for i in range(24):
            sed.register(Drive(serial=f"BENCH-{i:02d}"), os.urandom(32))


KEY_FETCH_STACK = "agent.sync, agent.tape, agent.sed"


def _child(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )
    return result.stdout.strip().splitlines()[-1]


def _import_ms(modules: str, *, bytecode: bool, runs: int = 7) -> float:
    """Median import time of ``modules`` in fresh processes (the first, cache-filling run of
    the bytecode case is not counted)."""
    code = f"import time; t = time.perf_counter(); import {modules}; print((time.perf_counter() - t) * 1000)"
    with tempfile.TemporaryDirectory(prefix="keyshelf-bench-pyc-") as cache:
        env = {
            k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
        }
        if bytecode:
            env["PYTHONPYCACHEPREFIX"] = cache
            _child(code, env=env)
        else:  # keyshelf compiled on every run (the standard library keeps its installed .pyc)
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        return statistics.median(float(_child(code, env=env)) for _ in range(runs))


def measure() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="keyshelf-bench-agent-") as tmp:
        data = Path(tmp) / "kms"
        with _server(data) as port:
            _provision(data, port)
            common = [str(data), str(port)]
            full = json.loads(_child(CHILD_FETCH, *common, "1.4", U_KAD.hex(), A_KAD.hex(), "full", GROUP))
            negotiated = json.loads(
                _child(CHILD_FETCH, *common, "-", U_KAD.hex(), A_KAD.hex(), "once", GROUP)
            )
            rss = json.loads(_child(CHILD_FETCH, *common, "1.4", U_KAD.hex(), A_KAD.hex(), "once", GROUP))
            pykmip_rss = json.loads(_child(CHILD_FETCH_PYKMIP, *common))
    key_fetch_stack = round(_import_ms(KEY_FETCH_STACK, bytecode=True), 1)
    pykmip_import = round(_import_ms(PYKMIP_CLIENT_STACK, bytecode=True), 1)
    pykmip_rss_mb = round(pykmip_rss["rss_kb"] / 1024, 1)
    return {
        "pykmip_import_ms": pykmip_import,
        "import_ratio_pykmip_over_keyshelf": round(pykmip_import / key_fetch_stack, 2),
        "pykmip_rss_mb_after_fetch": pykmip_rss_mb,
        "rss_ratio_pykmip_over_keyshelf": round(pykmip_rss_mb / (rss["rss_kb"] / 1024), 2),
        "import_ms": key_fetch_stack,
        "import_ms_key_fetch_stack": key_fetch_stack,
        "import_ms_key_fetch_stack_from_source": round(_import_ms(KEY_FETCH_STACK, bytecode=False), 1),
        "import_ms_agent_package": round(_import_ms("agent", bytecode=True), 1),
        "rss_mb_after_fetch": round(rss["rss_kb"] / 1024, 1),
        "peak_rss_mb_after_fetch": round(rss["hwm_kb"] / 1024, 1),
        "round_trips_tape_read": full["round_trips"],
        "round_trips_tape_read_negotiated": negotiated["round_trips"],
        "round_trips_boot_24": full["round_trips_boot"],
        "drives_unlocked": full["drives"],
        "tape_read_ms_p50": round(full["tape_read_ms_p50"], 2),
    }


def markdown(f: dict[str, object]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = [
        "## Agent footprint (`python benchmarks/agent.py`)",
        "",
        f"Measured {when}, Python {platform.python_version()}, {platform.machine()}, against keyshelf-server"
        " on loopback (mutual TLS); fresh child processes, medians of 7 imports with compiled bytecode.",
        "",
        "| figure | keyshelf agent | PyKMIP client | target (issue 4) |",
        "|---|---|---|---|",
        f"| import of the key-fetch stack, ms | {f['import_ms']} | {f['pykmip_import_ms']} | < 150 |",
        f"| resident memory after one key fetch, MB | {f['rss_mb_after_fetch']} | {f['pykmip_rss_mb_after_fetch']}"
        " | < 40 |",
        f"| round trips per tape read | {f['round_trips_tape_read']} | - | 1 |",
        f"| round trips per array boot, 24 drives | {f['round_trips_boot_24']} | - | as few as possible |",
        f"| tape read p50 on a warm connection, ms | {f['tape_read_ms_p50']} | - | - |",
        "",
        f"The keyshelf stack is `{KEY_FETCH_STACK}` (Locate by ASI + Get in one batch); PyKMIP's is"
        f" `{PYKMIP_CLIENT_STACK}` (Create + Get, it has no tape helper). From source, without bytecode,"
        f" keyshelf's import takes {f['import_ms_key_fetch_stack_from_source']} ms.",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()
    figures = measure()
    if not args.no_write:
        report.write_section("agent", markdown(figures))
    if args.json:
        print(json.dumps(figures))
    else:
        width = max(map(len, figures))
        for name, value in figures.items():
            print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
