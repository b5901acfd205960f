"""``keyshelf-server``: run the KMIP server, or bootstrap a data directory to try it out.

    keyshelf-server init DIR [--host H] [--port N] [--key-type rsa|ec]
    keyshelf-server --config DIR/keyshelf.toml [--host H] [--port N]

``init`` writes a CA, a server certificate, two client identities (CN client-a, client-b),
a key-encryption key and a configuration that uses them; it refuses to overwrite anything.
The server runs until SIGTERM or SIGINT, then stops accepting, answers in-flight requests
and closes the store. Exit status: 0 after a clean stop, 1 on a refused ``init``, 2 on a
configuration or startup error (the message says what to fix).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from profiles import pki
from profiles.config import DEFAULT_PORT, ConfigError, ServerConfig
from profiles.keyprotect import KeyProtectionError, write_kek_file
from profiles.logsetup import configure
from profiles.store.base import StoreError

CONFIG_NAME = "keyshelf.toml"
KEK_NAME = "kek.key"
INIT_FILES = (
    CONFIG_NAME,
    "ca.crt",
    "server.crt",
    "server.key",
    "client-a.crt",
    "client-a.key",
    "client-b.crt",
    "client-b.key",
    KEK_NAME,
)

CONFIG_TEMPLATE = """\
# keyshelf-server configuration written by `keyshelf-server init`.
# Relative paths are relative to this file's directory. Every setting has a default.

[server]
host = "{host}"
port = {port}
data_dir = "."

[tls]
certificate = "server.crt"
private_key = "server.key"
client_ca = "ca.crt"        # client certificates must chain to this CA
identity = "cn"             # client identity = certificate subject CN; or "san-dns", "san-email",
                            # "san-uri": the first subjectAltName of that kind ("san" = "san-dns")
minimum_version = "1.2"

[storage]
url = "sqlite:///keyshelf.db"

[keys]
kek_file = "{kek}"          # 32-byte key-encryption key (hex), must stay mode 0600

[limits]
max_message_size = 1048576
max_connections = 256       # authenticated connections (counted once the TLS handshake is done)
max_handshakes = 64         # connections in their TLS handshake; more wait in the listen backlog
handshake_timeout = 10.0
idle_timeout = 300.0
read_timeout = 10.0
workers = 8

[admin]
identities = []             # e.g. ["client-a"]: may act on every client's objects

[logging]
level = "INFO"
format = "json"
"""


def init(directory: Path, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, key_type: str = "rsa") -> str:
    """Bootstrap ``directory``; returns the connection instructions. FileExistsError if any
    file it would write already exists (nothing is written then)."""
    existing = [name for name in INIT_FILES if (directory / name).exists()]
    if existing:
        raise FileExistsError(", ".join(existing))
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca = pki.make_ca("keyshelf CA", key_type=key_type)
    pki.write_new(directory / "ca.crt", ca.cert_pem(), 0o644)
    names = list(pki.DEFAULT_SERVER_NAMES)
    if host not in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "::"):
        try:
            names.append(f"IP:{ipaddress.ip_address(host)}")
        except ValueError:
            names.append(f"DNS:{host}")
    server = pki.issue(ca, "keyshelf-server", server=True, san=names, key_type=key_type)
    pki.write_pair(server, directory / "server.crt", directory / "server.key")
    for name in ("client-a", "client-b"):
        client = pki.issue(ca, name, key_type=key_type)
        pki.write_pair(client, directory / f"{name}.crt", directory / f"{name}.key")
    write_kek_file(directory / KEK_NAME)
    config = CONFIG_TEMPLATE.format(host=host, port=port, kek=KEK_NAME)
    pki.write_new(directory / CONFIG_NAME, config.encode(), 0o644)
    return instructions(directory.resolve(), host, port)


def instructions(d: Path, host: str, port: int) -> str:
    connect_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"""\
keyshelf data directory ready: {d}

Start the server:
  keyshelf-server --config {d}/{CONFIG_NAME}

Connect a client (TTLV over mutual TLS, TLS >= 1.2) to {connect_host}:{port} with:
  CA certificate:      {d}/ca.crt
  client certificate:  {d}/client-a.crt   (identity "client-a")
  client private key:  {d}/client-a.key
  a second identity:   {d}/client-b.crt, {d}/client-b.key   (identity "client-b")

Check the TLS handshake:
  openssl s_client -connect {connect_host}:{port} -CAfile {d}/ca.crt \\
      -cert {d}/client-a.crt -key {d}/client-a.key -brief </dev/null

From Python with PyKMIP:
  from kmip.pie.client import ProxyKmipClient
  from kmip import enums
  with ProxyKmipClient(hostname="{connect_host}", port={port}, cert="{d}/client-a.crt",
                       key="{d}/client-a.key", ca="{d}/ca.crt") as c:
      uid = c.create(enums.CryptographicAlgorithm.AES, 256)
      print(uid, c.get(uid))
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keyshelf-server", description="keyshelf KMIP server")
    parser.add_argument("--config", type=Path, help=f"TOML configuration file (e.g. DIR/{CONFIG_NAME})")
    parser.add_argument("--host", help="listen address (overrides [server] host)")
    parser.add_argument("--port", type=int, help="listen port (overrides [server] port; 0 = any free port)")
    sub = parser.add_subparsers(dest="command")
    p_init = sub.add_parser("init", help="bootstrap a data directory with certificates, a KEK and a config")
    p_init.add_argument("directory", type=Path)
    p_init.add_argument("--host", dest="init_host", default="127.0.0.1", help="address the config listens on")
    p_init.add_argument("--port", dest="init_port", type=int, default=DEFAULT_PORT)
    p_init.add_argument("--key-type", choices=("rsa", "ec"), default="rsa")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "init":
        try:
            text = init(args.directory, host=args.init_host, port=args.init_port, key_type=args.key_type)
        except FileExistsError as exc:
            print(
                f"keyshelf-server: {args.directory} already holds {exc.args[0]}; refusing to overwrite "
                "(choose an empty or new directory)",
                file=sys.stderr,
            )
            return 1
        except OSError as exc:
            print(f"keyshelf-server: cannot initialise {args.directory}: {exc.strerror}", file=sys.stderr)
            return 1
        print(text, end="")
        return 0
    return run(args.config, host=args.host, port=args.port)


def run(config_path: Path | None, *, host: str | None = None, port: int | None = None) -> int:
    """Load the configuration and serve until SIGTERM/SIGINT."""
    try:
        config = ServerConfig.load(config_path) if config_path is not None else ServerConfig.defaults()
        config = config.with_overrides(host=host, port=port)
    except ConfigError as exc:
        print(f"keyshelf-server: {exc}", file=sys.stderr)
        return 2
    configure(config.log_level, config.log_format)
    from profiles.server import serve
    from profiles.supervisor import process_count
    from profiles.supervisor import run as run_processes

    try:
        if process_count(config) > 1:
            return run_processes(config)
        asyncio.run(serve(config))
    except (ConfigError, KeyProtectionError, StoreError) as exc:
        logging.getLogger("keyshelf.server").error("startup failed", extra={"fields": {"error": str(exc)}})
        print(f"keyshelf-server: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"keyshelf-server: cannot listen on {config.host}:{config.port}: {exc.strerror}", file=sys.stderr
        )
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
