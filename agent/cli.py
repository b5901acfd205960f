"""``keyshelf-agent``: the agent on the command line, for administrators and firmware scripts.

Global options (before the command): ``--server HOST:PORT`` (repeatable, failover order),
``--ca``, ``--cert``, ``--key``, ``--kmip-version X.Y``, ``--config FILE`` (TOML, see
agent.config), ``--deadline SECONDS``, ``--json``. The environment (KEYSHELF_SERVERS, ...)
fills what the command line leaves out, the configuration file what both leave out.

Output: a readable table by default; ``--json`` prints one JSON document.

Exit codes (stable, for scripts):

====  ==========================================================================
0     success
1     the server refused the request for another reason (KMIP error), or the
      cartridge identifier matches several keys
2     bad input: usage, options, KAD / hex / configuration errors
3     not found (Item Not Found, Object Not Found, no key for the cartridge)
4     permission denied (Permission Denied, Not Authorised, authentication)
5     server unreachable: no connection, TLS failure, timeout, broken response,
      or the outcome of a create could not be confirmed
====  ==========================================================================
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import enum
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

EXIT_OK = 0
EXIT_KMIP_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_FOUND = 3
EXIT_PERMISSION_DENIED = 4
EXIT_UNREACHABLE = 5


class UsageError(ValueError):
    """Bad command-line input (exit code 2)."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="keyshelf-agent",
        description="KMIP agent: keys for tape libraries and self-encrypting drives.",
        epilog="exit codes: 0 ok, 1 KMIP error, 2 bad input, 3 not found, 4 permission denied, "
        "5 server unreachable",
    )
    p.add_argument(
        "--server", action="append", default=[], metavar="HOST:PORT", help="repeatable; failover order"
    )
    p.add_argument("--ca", metavar="FILE", help="CA bundle that signs the servers' certificates")
    p.add_argument("--cert", metavar="FILE", help="client certificate (PEM)")
    p.add_argument("--key", metavar="FILE", help="client private key (PEM)")
    p.add_argument("--kmip-version", metavar="X.Y", help="protocol version (default: Discover Versions)")
    p.add_argument("--server-name", metavar="NAME", help="name expected in the server certificate")
    p.add_argument("--pin", action="append", default=[], metavar="SHA256", help="server certificate pin")
    p.add_argument("--config", metavar="FILE", help="TOML configuration file")
    p.add_argument("--deadline", type=float, metavar="SECONDS", help="per-request deadline")
    p.add_argument("--json", action="store_true", help="print JSON")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("discover", help="protocol versions the server offers (Discover Versions)")
    sub.add_parser("query", help="operations, object types and server information (Query)")

    get = sub.add_parser("get", help="an object and its key material (Get)")
    get.add_argument("--uid", required=True)

    attrs = sub.add_parser("attributes", help="an object's attributes (Get Attributes)")
    attrs.add_argument("--uid", required=True)
    attrs.add_argument("names", nargs="*", help="attribute names (default: all)")

    loc = sub.add_parser("locate", help="find objects (Locate)")
    loc.add_argument("--name")
    loc.add_argument("--asi", metavar="NAMESPACE:DATA", help="Application Specific Information")
    loc.add_argument("--group", help="Object Group")
    loc.add_argument("--type", dest="object_type", help="Object Type, e.g. SymmetricKey, SecretData")
    loc.add_argument("--attribute", action="append", default=[], metavar="NAME=TEXT", help="text attribute")
    loc.add_argument("--max", type=int, dest="maximum_items")

    create = sub.add_parser("create", help="a new AES key (Create)")
    create.add_argument("--name")
    create.add_argument("--length", type=int, default=256)

    tape = sub.add_parser("tape-key", help="the key of a tape cartridge (Tape Library profile)")
    tape.add_argument("--kad", metavar="HEX", help="KAD; with --a-kad the unauthenticated part only")
    tape.add_argument("--a-kad", metavar="HEX", help="authenticated KAD")
    tape.add_argument("--generation", required=True, help="lto4 .. lto9")
    tape.add_argument("--new", action="store_true", help="create the key (blank cartridge): Create + Get")
    tape.add_argument("--barcode", help="barcode, stored for administrators (never used to locate)")
    tape.add_argument("--namespace", help="Application Namespace (default LIBRARY-LTO)")

    sed = sub.add_parser("sed-unlock-keys", help="authentication keys of an array's drives (SA-SED)")
    sed.add_argument("--group", help="the array's Object Group (default: configuration)")
    sed.add_argument("--drive", action="append", default=[], metavar="SERIAL", help="only these drives")

    reg = sub.add_parser("register-secret", help="register a drive authentication key (Secret Data)")
    reg.add_argument("--group", help="Object Group (default: configuration)")
    reg.add_argument("--drive", metavar="SERIAL", help="drive identity")
    reg.add_argument("--name", help="Name (default: generated, unique)")
    source = reg.add_mutually_exclusive_group(required=True)
    source.add_argument("--hex", metavar="HEX", help="the secret as hex")
    source.add_argument("--stdin", action="store_true", help="read the secret (raw bytes) from stdin")

    for name, text in (("activate", "Activate"), ("destroy", "Destroy")):
        cmd = sub.add_parser(name, help=f"{text} an object")
        cmd.add_argument("--uid", required=True)
    rev = sub.add_parser("revoke", help="Revoke an object")
    rev.add_argument("--uid", required=True)
    rev.add_argument("--reason", default="CessationOfOperation", help="e.g. KeyCompromise, Superseded")
    # Scripts write `keyshelf-agent tape-key ... --json` as often as `keyshelf-agent --json tape-key`:
    # accept it after the command too (SUPPRESS keeps the global value when it is not given there).
    for command in sub.choices.values():
        command.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    return p


# -- output -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """JSON-safe form of results: enums by name, bytes as hex, dates in ISO 8601."""
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.repr or f.name == "key"
        }
    return value


def _emit(out: TextIO, as_json: bool, data: Any) -> None:
    if as_json:
        json.dump(_plain(data), out, indent=2, sort_keys=False)
        out.write("\n")
        return
    plain = _plain(data)
    if isinstance(plain, dict):
        width = max((len(k) for k in plain), default=0)
        for k, v in plain.items():
            text = ", ".join(map(str, v)) if isinstance(v, list) else str(v)
            out.write(f"{k.ljust(width)}  {text}\n")
    elif isinstance(plain, list):
        for row in plain:
            if isinstance(row, dict):
                out.write("  ".join(f"{k}={v}" for k, v in row.items()) + "\n")
            else:
                out.write(f"{row}\n")
    else:
        out.write(f"{plain}\n")


# -- commands ----------------------------------------------------------------------------


def _enum(cls: Any, text: str) -> Any:
    from agent.spec import enum_value_by_name

    value = enum_value_by_name(cls, text)
    if value is None:
        raise UsageError(f"unknown {cls.__name__} {text!r}")
    return cls(value)


def _hex(text: str, label: str) -> bytes:
    from agent.tape import KadError, parse_kad_hex

    try:
        return parse_kad_hex(text, label)
    except KadError as exc:
        raise UsageError(str(exc)) from None


async def _run(args: argparse.Namespace, config: Any, out: TextIO) -> int:
    from agent.client import Client, key_material

    overrides: dict[str, Any] = {}
    if args.deadline is not None:
        if args.deadline <= 0:
            raise UsageError("--deadline must be positive")
        overrides["deadline"] = args.deadline
    if not config.servers:
        raise UsageError("no server: give --server HOST:PORT, KEYSHELF_SERVERS or a configuration file")
    async with Client.from_config(config, **overrides) as kmip:
        cmd = args.command
        if cmd == "discover":
            versions = await kmip.discover_versions()
            _emit(out, args.json, {"versions": [str(v) for v in versions]})
        elif cmd == "query":
            answer = await kmip.query()
            _emit(
                out,
                args.json,
                {
                    "operations": list(answer.operation),
                    "object_types": list(answer.object_type),
                    "vendor": answer.vendor_identification,
                    "protocol_version": str(await kmip.protocol_version()),
                },
            )
        elif cmd == "get":
            got = await kmip.get(args.uid)
            record: dict[str, Any] = {"uid": got.unique_identifier, "object_type": got.object_type}
            try:
                record["key"] = key_material(got.managed_object)
            except (TypeError, ValueError):
                record["key"] = None
            _emit(out, args.json, record)
        elif cmd == "attributes":
            answer_attrs = await kmip.get_attributes(args.uid, args.names)
            _emit(out, args.json, {a.name: a.value for a in answer_attrs.attributes})
        elif cmd == "locate":
            await _locate(kmip, args, out)
        elif cmd == "create":
            created = await kmip.create_symmetric_key(length=args.length, name=args.name)
            _emit(out, args.json, {"uid": created.unique_identifier})
        elif cmd == "tape-key":
            await _tape_key(kmip, args, config, out)
        elif cmd == "sed-unlock-keys":
            from agent.sed import Drive, SedKeys

            group = args.group or config.sed_group
            if not group:
                raise UsageError("--group (or [sed] group in the configuration) is needed")
            sed = SedKeys(kmip, group, namespace=config.sed_namespace)
            drives = [Drive(serial=s) for s in args.drive] or None
            keys = await sed.unlock_keys(drives)
            rows = [
                {"drive": ident, "uid": k.uid, "key": k.key, "rank": rank}
                for ident, ks in sorted(keys.items())
                for rank, k in enumerate(ks)
            ]
            _emit(out, args.json, rows)
            if not keys or (drives and len(keys) < len(drives)):
                return EXIT_NOT_FOUND  # no key for the array, or for one of the drives asked
        elif cmd == "register-secret":
            from agent.sed import Drive, SedKeys

            group = args.group or config.sed_group
            if not group:
                raise UsageError("--group (or [sed] group in the configuration) is needed")
            secret = _hex(args.hex, "secret") if args.hex else sys.stdin.buffer.read()
            if not secret:
                raise UsageError("the secret is empty")
            sed = SedKeys(kmip, group, namespace=config.sed_namespace)
            drive = Drive(serial=args.drive) if args.drive else None
            uid = await sed.register(drive, secret, name=args.name)
            _emit(out, args.json, {"uid": uid})
        elif cmd in ("activate", "destroy"):
            await (kmip.activate(args.uid) if cmd == "activate" else kmip.destroy(args.uid))
            _emit(out, args.json, {"uid": args.uid})
        elif cmd == "revoke":
            from agent.spec import RevocationReasonCode

            await kmip.revoke(args.uid, _enum(RevocationReasonCode, args.reason))
            _emit(out, args.json, {"uid": args.uid})
        else:  # pragma: no cover - argparse rejects unknown commands
            raise UsageError(f"unknown command {cmd}")
    return EXIT_OK


async def _locate(kmip: Any, args: argparse.Namespace, out: TextIO) -> None:
    from agent.model import ApplicationSpecificInformation, Attribute
    from agent.spec import ObjectType

    extra = []
    for spec in args.attribute:
        name, sep, text = spec.partition("=")
        if not sep or not name:
            raise UsageError("--attribute takes NAME=TEXT")
        extra.append(Attribute(name, text))
    application = None
    if args.asi:
        namespace, sep, data = args.asi.partition(":")
        if not sep or not namespace:
            raise UsageError("--asi takes NAMESPACE:DATA")
        application = ApplicationSpecificInformation(namespace, data)
    found = await kmip.locate(
        extra,
        object_type=_enum(ObjectType, args.object_type) if args.object_type else None,
        name=args.name,
        application=application,
        group=args.group,
        maximum_items=args.maximum_items,
    )
    _emit(
        out,
        args.json,
        {"uids": list(found.unique_identifier)} if args.json else list(found.unique_identifier),
    )


async def _tape_key(kmip: Any, args: argparse.Namespace, config: Any, out: TextIO) -> None:
    from agent.tape import (
        Cartridge,
        KadError,
        TapeKeys,
        lookup_generation,
        new_identifier,
        split_application_data,
    )

    try:
        gen = lookup_generation(args.generation, config.tape_generations)
        if args.kad is None:
            if not args.new or args.a_kad is not None:
                raise UsageError("--kad is needed (only --new may make up a new identifier)")
            u_kad, a_kad = new_identifier(gen, generations=config.tape_generations)
        elif args.a_kad is not None:
            u_kad, a_kad = _hex(args.kad, "--kad"), _hex(args.a_kad, "--a-kad")
        else:
            whole = _hex(args.kad, "--kad")
            u_kad, a_kad = split_application_data(
                whole.hex().upper(), gen, generations=config.tape_generations
            )
        tape = TapeKeys(
            kmip, namespace=args.namespace or config.tape_namespace, generations=config.tape_generations
        )
        cartridge = Cartridge(gen.name, u_kad=u_kad, a_kad=a_kad, barcode=args.barcode)
        tape.asi(cartridge)  # validates the KAD sizes before any network traffic
    except KadError as exc:
        raise UsageError(str(exc)) from None
    if args.new:
        # an identifier typed by a person may already be in use: look before creating
        key = await tape.key_for_write(cartridge, check_unique=args.kad is not None)
    else:
        key = await tape.key_for_read(cartridge)
    record: dict[str, Any] = {"uid": key.uid, "key": key.key}
    if not args.json:
        record["application_data"] = key.application_data
    if args.new:  # what the drive writes; uppercase hex as in Application Data (TLP §1.1)
        record["u_kad"], record["a_kad"] = key.u_kad.hex().upper(), key.a_kad.hex().upper()
    _emit(out, args.json, record)


# -- entry point ----------------------------------------------------------------------


def _exit_code(exc: BaseException) -> int:
    from agent import errors
    from agent.client import TransportError
    from agent.tape import AmbiguousKey

    if isinstance(exc, TransportError):
        return EXIT_UNREACHABLE
    if isinstance(exc, errors.ItemNotFound | errors.ObjectNotFound):
        return EXIT_NOT_FOUND
    if isinstance(exc, errors.PermissionDenied | errors.NotAuthorized | errors.AuthenticationNotSuccessful):
        return EXIT_PERMISSION_DENIED
    if isinstance(exc, errors.KmipError | AmbiguousKey):
        return EXIT_KMIP_ERROR
    return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one command; returns the exit code (see the module docstring)."""
    stdout = out if out is not None else sys.stdout
    stderr = err if err is not None else sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or usage errors (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
    from agent.config import AgentConfig, ConfigError

    try:
        config = AgentConfig.load(args.config)
        cli: dict[str, Any] = {}
        if args.server:
            cli["servers"] = tuple(args.server)
        for key in ("ca", "cert", "key", "server_name"):
            if getattr(args, key):
                cli[key] = getattr(args, key)
        if args.kmip_version:
            cli["kmip_version"] = args.kmip_version
        if args.pin:
            cli["pins"] = tuple(args.pin)
        config = dataclasses.replace(config, **cli)
        return asyncio.run(_run(args, config, stdout))
    except (UsageError, ConfigError) as exc:
        stderr.write(f"keyshelf-agent: {exc}\n")
        return EXIT_BAD_INPUT
    except Exception as exc:
        code = _exit_code(exc)
        if code == EXIT_BAD_INPUT and not isinstance(exc, ValueError | OSError):
            raise
        kind = type(exc).__name__
        stderr.write(f"keyshelf-agent: {kind}: {exc}\n")
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
