"""Agent configuration: a small TOML file and/or environment variables. No global state.

Precedence: explicit arguments (command line) > environment > file > defaults.

File (all keys optional)::

    [server]
    addresses = ["kms1.example:5696", "kms2.example:5696"]   # failover order
    ca = "/etc/keyshelf/ca.pem"
    cert = "/etc/keyshelf/agent.pem"
    key = "/etc/keyshelf/agent.key"
    server_name = "kms.example"        # name checked in the server certificate
    check_hostname = true
    pins = ["<sha256 hex of the server certificate>"]
    kmip_version = "1.4"               # absent: negotiate with Discover Versions

    [timeouts]
    connect = 5.0
    deadline = 15.0                    # per request, failover and retries included
    retries = 3
    idle = 60.0
    max_connections = 8

    [tape]
    namespace = "LIBRARY-LTO"          # or "generation" for LIBRARY-LTO4 .. LIBRARY-LTO9
    [tape.generations.lto10]           # formats the built-in table does not know
    a_kad = 60
    u_kad = 32
    namespace = "LIBRARY-LTO10"

    [sed]
    group = "array-7"
    namespace = "SED-DRIVE"

Environment: ``KEYSHELF_SERVERS`` (comma separated), ``KEYSHELF_CA``, ``KEYSHELF_CERT``,
``KEYSHELF_KEY``, ``KEYSHELF_SERVER_NAME``, ``KEYSHELF_PINS`` (comma separated),
``KEYSHELF_KMIP_VERSION``, ``KEYSHELF_CONNECT_TIMEOUT``, ``KEYSHELF_DEADLINE``,
``KEYSHELF_RETRIES``, ``KEYSHELF_SED_GROUP``; ``KEYSHELF_AGENT_CONFIG`` names the file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agent.tape import LTO_GENERATIONS, NAMESPACE, Generation

CONFIG_ENV = "KEYSHELF_AGENT_CONFIG"


class ConfigError(ValueError):
    """The configuration file or an environment variable is not valid."""


@dataclass(frozen=True)
class AgentConfig:
    servers: tuple[str, ...] = ()
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    server_name: str | None = None
    check_hostname: bool = True
    pins: tuple[str, ...] = ()
    kmip_version: str | None = None
    connect_timeout: float = 5.0
    deadline: float = 15.0
    retries: int = 3
    idle_timeout: float = 60.0
    max_connections: int = 8
    tape_namespace: str = NAMESPACE
    tape_generations: Mapping[str, Generation] = field(default_factory=lambda: LTO_GENERATIONS)
    sed_group: str | None = None
    sed_namespace: str = "SED-DRIVE"

    @classmethod
    def load(cls, path: str | Path | None = None, env: Mapping[str, str] | None = None) -> AgentConfig:
        """File (``path``, else ``$KEYSHELF_AGENT_CONFIG`` if set) overlaid by the environment."""
        environ = os.environ if env is None else env
        config = cls()
        file = path if path is not None else environ.get(CONFIG_ENV)
        if file:
            config = config.merged_file(Path(file))
        return config.merged_env(environ)

    def merged_file(self, path: Path) -> AgentConfig:
        return self.merged(read_toml(path), base=path.parent)

    def merged(self, data: Mapping[str, Any], *, base: Path | None = None) -> AgentConfig:
        """Overlay a parsed TOML document; relative file names are relative to ``base``."""
        known = {"server", "timeouts", "tape", "sed"}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown configuration section(s): {', '.join(sorted(unknown))}")
        server = _section(data, "server")
        timeouts = _section(data, "timeouts")
        tape = _section(data, "tape")
        sed = _section(data, "sed")
        changes: dict[str, Any] = {}

        def path_of(value: object, key: str) -> str:
            text = _str(value, key)
            return str(base / text) if base is not None and not Path(text).is_absolute() else text

        for key, value in server.items():
            if key == "addresses":
                changes["servers"] = tuple(_str(v, "server.addresses") for v in _list(value, key))
            elif key in ("ca", "cert", "key"):
                changes[key] = path_of(value, f"server.{key}")
            elif key == "server_name":
                changes[key] = _str(value, "server.server_name")
            elif key == "check_hostname":
                changes[key] = _bool(value, "server.check_hostname")
            elif key == "pins":
                changes[key] = tuple(_str(v, "server.pins") for v in _list(value, key))
            elif key == "kmip_version":
                changes[key] = _str(value, "server.kmip_version")
            else:
                raise ConfigError(f"unknown key server.{key}")
        names = {"connect": "connect_timeout", "deadline": "deadline", "idle": "idle_timeout"}
        for key, value in timeouts.items():
            if key in names:
                changes[names[key]] = _positive(value, f"timeouts.{key}")
            elif key in ("retries", "max_connections"):
                changes[key] = _count(value, f"timeouts.{key}")
            else:
                raise ConfigError(f"unknown key timeouts.{key}")
        for key, value in tape.items():
            if key == "namespace":
                changes["tape_namespace"] = _str(value, "tape.namespace")
            elif key == "generations":
                table = dict(self.tape_generations)
                for name, spec in _section(tape, "generations").items():
                    entry = _section({name: spec}, name)
                    try:
                        table[name.lower()] = Generation(
                            name.lower(),
                            a_kad=_count(entry["a_kad"], f"tape.generations.{name}.a_kad"),
                            u_kad=_count(entry["u_kad"], f"tape.generations.{name}.u_kad"),
                            namespace=_str(
                                entry.get("namespace", f"LIBRARY-{name.upper()}"),
                                f"tape.generations.{name}.namespace",
                            ),
                        )
                    except KeyError as exc:
                        raise ConfigError(f"tape.generations.{name} needs {exc.args[0]}") from None
                changes["tape_generations"] = table
            else:
                raise ConfigError(f"unknown key tape.{key}")
        for key, value in sed.items():
            if key == "group":
                changes["sed_group"] = _str(value, "sed.group")
            elif key == "namespace":
                changes["sed_namespace"] = _str(value, "sed.namespace")
            else:
                raise ConfigError(f"unknown key sed.{key}")
        return replace(self, **changes)

    def merged_env(self, env: Mapping[str, str]) -> AgentConfig:
        changes: dict[str, Any] = {}
        if env.get("KEYSHELF_SERVERS"):
            changes["servers"] = tuple(s.strip() for s in env["KEYSHELF_SERVERS"].split(",") if s.strip())
        for key in ("ca", "cert", "key", "server_name", "kmip_version"):
            value = env.get(f"KEYSHELF_{key.upper()}")
            if value:
                changes[key] = value
        if env.get("KEYSHELF_PINS"):
            changes["pins"] = tuple(p.strip() for p in env["KEYSHELF_PINS"].split(",") if p.strip())
        for var, key in (("KEYSHELF_CONNECT_TIMEOUT", "connect_timeout"), ("KEYSHELF_DEADLINE", "deadline")):
            if env.get(var):
                try:
                    changes[key] = _positive(float(env[var]), var)
                except ValueError:
                    raise ConfigError(f"{var} must be a positive number") from None
        if env.get("KEYSHELF_RETRIES"):
            if not env["KEYSHELF_RETRIES"].isdigit():
                raise ConfigError("KEYSHELF_RETRIES must be a whole number")
            changes["retries"] = int(env["KEYSHELF_RETRIES"])
        if env.get("KEYSHELF_SED_GROUP"):
            changes["sed_group"] = env["KEYSHELF_SED_GROUP"]
        return replace(self, **changes)


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's document (the agent's and the server's configuration files)."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration {path} is not valid TOML: {exc}") from None


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _list(value: object, key: str) -> list[object]:
    if not isinstance(value, list):
        raise ConfigError(f"{key} must be a list")
    return value


def _str(value: object, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} must be a non-empty string")
    return value


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false")
    return value


def _positive(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key} must be a positive number")
    return float(value)


def _count(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{key} must be a whole number")
    return value
