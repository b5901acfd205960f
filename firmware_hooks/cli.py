"""``keyshelf-hook``: the firmware hooks as shell commands (an initramfs script can call them).

::

    keyshelf-hook boot-unlock --config /etc/keyshelf/hook.toml [--json] [--deadline S]
    keyshelf-hook rotate --config FILE [--group G] [--json]
    keyshelf-hook tape-load --config FILE --barcode ABC123L8 (--blank | --kad U_HEX:A_HEX)
                            [--key-out PATH] [--json]

boot-unlock unlocks every ``[[boot.drive]]`` with ``sedutil-cli`` (see
``firmware_hooks.devices``) and prints one line per drive (or a JSON report).
rotate gives every ``[[boot.drive]]`` a new authentication key (``firmware_hooks.rotate``:
register + link on the server, change the key on the drive with ``sedutil-cli``, retire the
old key), in the Object Group ``--group`` (default: ``[boot] group``); one line per drive
(or a JSON report). Safe to interrupt and to run again: it finishes an interrupted rotation.
tape-load prints the key's identifier and the KAD to write; the key itself goes only to
``--key-out`` (a new file, mode 0600), never to stdout or a log.

Exit status (every command):

==  ==========================================================================
0   everything done: every drive unlocked / rotated, the key delivered
1   partial: some drives unlocked / rotated, some not (each is reported)
2   usage or configuration error
3   nothing unlocked / rotated / no key: keys missing, destroyed or refused
    (by the server or the drives)
4   no key server reachable (after retries and failover)
==  ==========================================================================
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from firmware_hooks.boot_unlock import DriveOutcome, boot_unlock
from firmware_hooks.config import BootConfig, ConfigError, load_boot_config
from firmware_hooks.devices import SedutilDrive
from firmware_hooks.rotate import rotate_auth_keys
from firmware_hooks.sources import KeySourceError, SedKeySource, TapeKeySource
from firmware_hooks.tape_load import TapeLoadHook
from simulators.cartridge import Kad, parse_barcode
from simulators.library import KeyUnavailable, LoadEvent

__all__ = ["EXIT_NONE", "EXIT_OK", "EXIT_PARTIAL", "EXIT_UNAVAILABLE", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_NONE = 3
EXIT_UNAVAILABLE = 4

SedFactory = Callable[[Path], Sequence[SedKeySource]]
RotateFactory = Callable[[Path], SedKeySource]
TapeFactory = Callable[[Path], TapeKeySource]


def _agent_sed_sources(path: Path) -> Sequence[SedKeySource]:
    from firmware_hooks.agent_source import sed_sources_from_config

    return sed_sources_from_config(path)


def _agent_rotate_source(path: Path) -> SedKeySource:
    from firmware_hooks.agent_source import sed_source_from_config

    return sed_source_from_config(path)


def _agent_tape_source(path: Path) -> TapeKeySource:
    from firmware_hooks.agent_source import tape_source_from_config

    return tape_source_from_config(path)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="keyshelf-hook", description="keyshelf firmware hooks")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("boot-unlock", help="unlock every configured self-encrypting drive")
    b.add_argument("--config", type=Path, required=True)
    b.add_argument("--json", action="store_true", help="print the report as JSON")
    b.add_argument("--deadline", type=float, help="override [boot] deadline (seconds)")
    r = sub.add_parser("rotate", help="give every configured self-encrypting drive a new key")
    r.add_argument("--config", type=Path, required=True)
    r.add_argument("--group", help="the array's Object Group (default: [boot] group)")
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    t = sub.add_parser("tape-load", help="fetch (or create) the key of a loaded cartridge")
    t.add_argument("--config", type=Path, required=True)
    t.add_argument("--barcode", required=True)
    g = t.add_mutually_exclusive_group(required=True)
    g.add_argument("--blank", action="store_true", help="blank cartridge: create a new key and KAD")
    g.add_argument("--kad", help="the KAD the drive reported, U_HEX:A_HEX (either may be empty)")
    t.add_argument("--key-out", type=Path, help="write the 32-byte key here (new file, mode 0600)")
    t.add_argument("--json", action="store_true")
    return p


def _drives(config: BootConfig) -> list[SedutilDrive]:
    if not config.drives:
        raise ConfigError("no [[boot.drive]] configured")
    return [SedutilDrive(d.device, d.id, sedutil=config.sedutil) for d in config.drives]


def _exit_status(*, ok: bool, some: bool, unavailable: bool) -> int:
    """Every drive done / some / none because no server answered / none (module docstring)."""
    if ok:
        return EXIT_OK
    if some:
        return EXIT_PARTIAL
    return EXIT_UNAVAILABLE if unavailable else EXIT_NONE


def _boot(args: argparse.Namespace, sed_factory: SedFactory) -> int:
    config = load_boot_config(args.config)
    targets = _drives(config)
    sources = sed_factory(args.config)
    report = boot_unlock(
        targets,
        sources,
        group=config.group,
        deadline=args.deadline if args.deadline is not None else config.deadline,
        retries=config.retries,
        backoff=config.backoff,
        workers=config.workers,
    )
    if args.json:
        print(report.to_json())
    else:
        for d in report.drives:
            via = f" via {d.server}" if d.server else ""
            stale = " (older key: finish the rotation)" if d.stale else ""
            print(f"{d.drive_id}: {d.outcome.value}{via}{stale}")
        print(f"boot-unlock: {len(report.unlocked)}/{len(report.drives)} unlocked in {report.elapsed:.2f} s")
    unavailable = all(d.outcome is DriveOutcome.SERVER_UNAVAILABLE for d in report.drives)
    return _exit_status(ok=report.ok, some=bool(report.unlocked), unavailable=unavailable)


def _rotate(args: argparse.Namespace, rotate_factory: RotateFactory) -> int:
    config = load_boot_config(args.config)
    targets = _drives(config)
    if args.group is not None and not args.group:
        raise ConfigError("--group is empty")
    group = args.group or config.group
    source = rotate_factory(args.config)
    report = rotate_auth_keys(targets, source, group=group)
    if args.json:
        print(report.to_json())
    else:
        for d in report.drives:
            if d.ok:
                stale = " (finished an interrupted rotation)" if d.stale else ""
                print(f"{d.drive_id}: rotated, key {d.new_uid} replaces {d.replaced}{stale}")
            else:
                print(f"{d.drive_id}: {d.outcome}")
        print(f"rotate: {len(report.rotated)}/{len(report.drives)} rotated in group {group}")
    unavailable = all(d.outcome == "server-unavailable" for d in report.drives)
    return _exit_status(ok=report.ok, some=bool(report.rotated), unavailable=unavailable)


def _parse_kad(text: str) -> Kad:
    u_hex, sep, a_hex = text.partition(":")
    if not sep:
        raise ConfigError("--kad is U_HEX:A_HEX")
    try:
        return Kad(bytes.fromhex(u_hex), bytes.fromhex(a_hex))
    except ValueError:
        raise ConfigError("--kad is not hexadecimal") from None


def _tape(args: argparse.Namespace, tape_factory: TapeFactory) -> int:
    try:
        gen = parse_barcode(args.barcode)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    kad = None if args.blank else _parse_kad(args.kad)
    if kad is not None:
        try:
            kad.check(gen)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if args.key_out is not None and args.key_out.exists():
        raise ConfigError(f"{args.key_out} exists (the key is only written to a new file)")
    hook = TapeLoadHook(tape_factory(args.config))
    try:
        grant = hook(LoadEvent("shell", 0, "", args.barcode, gen.number, kad))
    except KeyUnavailable as exc:
        print(f"tape-load: {args.barcode}: no key ({exc.reason})", file=sys.stderr)
        return EXIT_UNAVAILABLE if exc.reason == "server-unavailable" else EXIT_NONE
    if args.key_out is not None:
        fd = os.open(args.key_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(grant.key)
    out = {
        "barcode": args.barcode,
        "uid": grant.uid,
        "created": grant.created,
        "u_kad": grant.kad.u_kad.hex().upper(),
        "a_kad": grant.kad.a_kad.hex().upper(),
        "key_out": str(args.key_out) if args.key_out else None,
    }
    if args.json:
        print(json.dumps(out))
    else:
        state = "created" if grant.created else "found"
        print(f"{args.barcode}: key {grant.uid} {state}; KAD {out['u_kad']}:{out['a_kad']}")
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None,
    *,
    sed_factory: SedFactory = _agent_sed_sources,
    tape_factory: TapeFactory = _agent_tape_source,
    rotate_factory: RotateFactory = _agent_rotate_source,
) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    try:
        if args.command == "boot-unlock":
            return _boot(args, sed_factory)
        if args.command == "rotate":
            return _rotate(args, rotate_factory)
        return _tape(args, tape_factory)
    except ConfigError as exc:
        print(f"keyshelf-hook: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeySourceError as exc:
        print(f"keyshelf-hook: {exc.reason}", file=sys.stderr)
        return EXIT_UNAVAILABLE


if __name__ == "__main__":
    sys.exit(main())
