"""Scenario 6: a simulated fleet against a real keyshelf-server (or the in-memory source).

    python benchmarks/fleet.py                      # 1,000 cartridges + 1,000 SEDs, updates BENCHMARKS.md
    python benchmarks/fleet.py --json --cartridges 200 --drives 200
    python benchmarks/fleet.py --memory --json      # device side only, no server

``--drives`` is the number of self-encrypting drives in the array; ``--tape-drives`` the
drives of the tape library. Prints (``--json``) cartridge_keys_per_s, boot_unlock_s and the
sizes used; without ``--json`` it writes its section of BENCHMARKS.md (between the
``<!-- fleet:begin -->`` and ``<!-- fleet:end -->`` markers; nothing else is touched).

The server is started by ``keyshelf-server init`` + ``keyshelf-server --config`` in a temporary
directory (embedded SQLite) and stopped afterwards.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this directory is first on sys.path and benchmarks/agent.py would shadow
# the agent package: drop it before importing the project.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import report  # noqa: E402
from firmware_hooks.fleet import run_fleet  # noqa: E402
from firmware_hooks.harness import ServerProcess, init_data_dir  # noqa: E402
from firmware_hooks.memory import MemoryKeyServer  # noqa: E402


def measure(cartridges: int, seds: int, tape_drives: int, workers: int, memory: bool) -> dict[str, object]:
    if memory:
        server = MemoryKeyServer()
        figures: dict[str, object] = dict(
            run_fleet(
                cartridges=cartridges,
                seds=seds,
                drives=tape_drives,
                tape=server,
                sed_sources=[server],
                workers=workers,
            )
        )
        figures["backend"] = "memory"
        return figures
    from agent import sync
    from firmware_hooks.agent_source import AgentSedSource, AgentTapeSource

    with tempfile.TemporaryDirectory(prefix="keyshelf-fleet-") as tmp:
        data = Path(tmp) / "server"
        init_data_dir(data)
        with ServerProcess(data / "keyshelf.toml", Path(tmp) / "server.log") as server:
            client = sync.Client(
                [server.address],
                cert=data / "client-a.crt",
                key=data / "client-a.key",
                ca=data / "ca.crt",
                deadline=30.0,
                max_connections=max(8, workers),
            )
            try:
                figures = dict(
                    run_fleet(
                        cartridges=cartridges,
                        seds=seds,
                        drives=tape_drives,
                        workers=workers,
                        tape=AgentTapeSource(client),
                        sed_sources=[AgentSedSource(client, name="primary")],
                    )
                )
            finally:
                client.close()
        figures["backend"] = "keyshelf-server (SQLite, mutual TLS, loopback)"
        return figures


def markdown(f: dict[str, object]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return "\n".join(
        [
            "## Fleet simulation (scenario 6)",
            "",
            f"`python benchmarks/fleet.py` on {when}, Python {platform.python_version()}, {platform.machine()}; "
            f"backend: {f['backend']}.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| cartridges (one library, {f['drives']} drives, sequential robot) | {f['cartridges']} |",
            f"| cartridge keys/s (Create+Get and Locate+Get, incl. drive work) | {f['cartridge_keys_per_s']} |",
            f"| ... create (blank cartridge) keys/s | {f['create_keys_per_s']} |",
            f"| ... locate (written cartridge) keys/s | {f['locate_keys_per_s']} |",
            f"| cartridges verified after reload | {f['verified']} |",
            f"| self-encrypting drives | {f['seds']} |",
            f"| take ownership (register every auth key), s | {f['register_s']} |",
            f"| boot-unlock of every drive ({f['workers']} in parallel), s | {f['boot_unlock_s']} |",
            f"| drives unlocked | {f['drives_unlocked']} |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cartridges", type=int, default=1000)
    p.add_argument("--drives", type=int, default=1000, help="self-encrypting drives in the array")
    p.add_argument("--tape-drives", type=int, default=4, help="drives in the tape library")
    p.add_argument("--workers", type=int, default=16, help="drives unlocked in parallel at boot")
    p.add_argument("--memory", action="store_true", help="in-memory key source instead of keyshelf-server")
    p.add_argument("--json", action="store_true", help="print the figures as JSON (BENCHMARKS.md untouched)")
    args = p.parse_args(argv)
    figures = measure(args.cartridges, args.drives, args.tape_drives, args.workers, args.memory)
    ok = figures["verified"] == args.cartridges and figures["drives_unlocked"] == args.drives
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        report.write_section("fleet", markdown(figures))
        print(markdown(figures))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
