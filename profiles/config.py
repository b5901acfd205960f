"""Server configuration: one TOML file, every setting with a sane default.

Layout (all tables and keys optional; relative paths are relative to the file's directory)::

    [server]
    host = "127.0.0.1"            # listen address
    port = 5696                   # IANA-assigned KMIP port (kmip-digest §3.4)
    data_dir = "."                # where the default SQLite database lives

    [tls]
    certificate = "server.crt"    # PEM server certificate (chain)
    private_key = "server.key"    # PEM private key (mode 0600)
    client_ca = "ca.crt"          # PEM CA bundle client certificates must chain to
    identity = "cn"               # "cn": subject Common Name; "san-dns", "san-email", "san-uri":
                                  # the first subjectAltName of that kind ("san" = "san-dns"); a
                                  # certificate without one (or with an empty one) is refused
    minimum_version = "1.2"       # "1.2" or "1.3"; never lower (Profiles 1.4 §3.1: TLS 1.0 SHALL NOT)

    [storage]
    url = "sqlite:///keyshelf.db" # relative sqlite paths are relative to data_dir; or "memory:"

    [keys]
    kek_file = "kek.key"          # 32-byte key-encryption key (hex or raw), mode 0600

    [profiles]
    claimed = ["Baseline Server", "Tape Library Server", ...]   # engine/catalog interpret the names

    [limits]
    max_message_size = 1048576    # request bytes; checked from the 8-byte TTLV header
    max_connections = 256         # authenticated connections (TLS handshake done, certificate
                                  # verified, identity read); more are closed after the handshake
    max_handshakes = 64           # connections in their TLS handshake at once (all processes);
                                  # further ones wait in the listen backlog, not accepted, so
                                  # silent TCP connections delay clients but cannot shut them out
    idle_timeout = 300.0          # seconds a connection may wait between requests
    read_timeout = 10.0           # seconds to receive one whole request once it started
    handshake_timeout = 10.0      # seconds from accept to a completed TLS handshake
    workers = 8                   # threads for requests that do not run on the event loop: a
                                  # Locate with a Digest filter (with the SQLite or memory store
                                  # everything else runs on the loop, and a durable write's answer
                                  # awaits its group fsync there); 0 = everything on the loop
    processes = 1                 # server processes (each its own engine, store connections and
                                  # workers) behind one listener; 0 = one per CPU (profiles/supervisor.py,
                                  # README "Running the server")
    inline_reads = true           # for a store without the fsync hand-over: read-only requests
                                  # (Locate, Query, ...) on the loop, others in threads
    shutdown_timeout = 10.0       # drain time for in-flight requests after SIGTERM
    max_batch_items = 256         # engine: more batch items -> Invalid Message

    [admin]
    identities = ["client-a"]     # client identities with administrator rights (any owner)

    [logging]
    level = "INFO"
    format = "json"               # "json": one JSON object per line; "text": key=value

Unknown tables or keys are errors (a typo must not silently fall back to a default).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from agent.config import ConfigError as ConfigError  # noqa: PLC0414 (re-exported: one ConfigError)
from agent.config import read_toml
from profiles.catalog import PROFILES

DEFAULT_PORT = 5696
# tls.identity: the subject CN, or the first subjectAltName of one kind ("san" = "san-dns").
IDENTITY_MODES = ("cn", "san", "san-dns", "san-email", "san-uri")
DEFAULT_DB_NAME = "keyshelf.db"
# Default: claim every profile of the catalog (issue 3: "Default: all of them").
DEFAULT_PROFILES: tuple[str, ...] = tuple(profile.title for profile in PROFILES.values())


@dataclass(frozen=True)
class TlsConfig:
    certificate: Path | None = None
    private_key: Path | None = None
    client_ca: Path | None = None
    identity: str = "cn"
    minimum_version: str = "1.2"


@dataclass(frozen=True)
class LimitsConfig:
    max_message_size: int = 1 << 20
    max_connections: int = 256
    max_handshakes: int = 64
    idle_timeout: float = 300.0
    read_timeout: float = 10.0
    handshake_timeout: float = 10.0
    workers: int = 8
    processes: int = 1
    inline_reads: bool = True
    shutdown_timeout: float = 10.0
    max_batch_items: int = 256


@dataclass(frozen=True)
class ServerConfig:
    """Everything the server, the store and the engine are configured with."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=lambda: Path("."))
    tls: TlsConfig = field(default_factory=TlsConfig)
    storage_url: str | None = None  # None: sqlite file DEFAULT_DB_NAME under data_dir
    kek_file: Path | None = None
    profiles: tuple[str, ...] = DEFAULT_PROFILES
    admins: frozenset[str] = frozenset()
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    log_level: str = "INFO"
    log_format: str = "json"

    @property
    def store_url(self) -> str:
        """The storage URL with relative SQLite paths resolved against data_dir."""
        url = self.storage_url
        if url is None:
            return f"sqlite:///{(self.data_dir / DEFAULT_DB_NAME).resolve()}"
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            return prefix + str((self.data_dir / url[len(prefix) :]).resolve())
        return url

    @classmethod
    def defaults(cls) -> ServerConfig:
        return cls()

    @classmethod
    def load(cls, path: str | Path) -> ServerConfig:
        """Read and validate a TOML configuration file."""
        p = Path(path)
        return cls.from_dict(read_toml(p), base=p.resolve().parent)

    @classmethod
    def from_dict(cls, doc: dict[str, Any], base: Path) -> ServerConfig:
        """Build from a parsed TOML document; relative paths are taken relative to ``base``."""
        known = {"server", "tls", "storage", "keys", "profiles", "limits", "admin", "logging"}
        for table in doc:
            if table not in known:
                raise ConfigError(f"unknown configuration table [{table}]")
        server = _table(doc, "server", {"host": str, "port": int, "data_dir": str})
        tls = _table(
            doc,
            "tls",
            {
                "certificate": str,
                "private_key": str,
                "client_ca": str,
                "identity": str,
                "minimum_version": str,
            },
        )
        storage = _table(doc, "storage", {"url": str})
        keys = _table(doc, "keys", {"kek_file": str})
        profiles = _table(doc, "profiles", {"claimed": list})
        limits_types: dict[str, type] = {
            f.name: type(getattr(LimitsConfig(), f.name)) for f in fields(LimitsConfig)
        }
        limits = _table(doc, "limits", limits_types)
        admin = _table(doc, "admin", {"identities": list})
        logging = _table(doc, "logging", {"level": str, "format": str})

        def path(value: object) -> Path | None:
            return None if value is None else (base / str(value)).resolve()

        cfg = cls(
            host=server.get("host", "127.0.0.1"),
            port=server.get("port", DEFAULT_PORT),
            data_dir=path(server.get("data_dir", ".")) or base,
            tls=TlsConfig(
                certificate=path(tls.get("certificate")),
                private_key=path(tls.get("private_key")),
                client_ca=path(tls.get("client_ca")),
                identity=tls.get("identity", "cn"),
                minimum_version=tls.get("minimum_version", "1.2"),
            ),
            storage_url=storage.get("url"),
            kek_file=path(keys.get("kek_file")),
            profiles=tuple(_strings(profiles.get("claimed", list(DEFAULT_PROFILES)), "profiles.claimed")),
            admins=frozenset(_strings(admin.get("identities", []), "admin.identities")),
            limits=LimitsConfig(**limits),
            log_level=logging.get("level", "INFO").upper(),
            log_format=logging.get("format", "json"),
        )
        cfg.validate()
        return cfg

    def with_overrides(self, *, host: str | None = None, port: int | None = None) -> ServerConfig:
        """A copy with command-line overrides applied."""
        cfg = replace(
            self, host=self.host if host is None else host, port=self.port if port is None else port
        )
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Raise ConfigError on a setting that cannot work."""
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"server.port {self.port} is not a TCP port")
        if self.tls.identity not in IDENTITY_MODES:
            raise ConfigError(
                f"tls.identity must be one of {', '.join(IDENTITY_MODES)}, not {self.tls.identity!r}"
            )
        if self.tls.minimum_version not in ("1.2", "1.3"):
            raise ConfigError(f'tls.minimum_version must be "1.2" or "1.3", not {self.tls.minimum_version!r}')
        lim = self.limits
        if lim.max_message_size < 8:
            raise ConfigError("limits.max_message_size must be at least 8 bytes")
        if lim.max_connections < 1:
            raise ConfigError("limits.max_connections must be at least 1")
        if lim.max_handshakes < 1:
            raise ConfigError("limits.max_handshakes must be at least 1")
        if lim.workers < 0:
            raise ConfigError("limits.workers must be 0 (on the event loop) or more")
        if lim.processes < 0:
            raise ConfigError("limits.processes must be 0 (one per CPU) or more")
        if lim.max_batch_items < 1:
            raise ConfigError("limits.max_batch_items must be at least 1")
        for name in ("idle_timeout", "read_timeout", "handshake_timeout", "shutdown_timeout"):
            if getattr(lim, name) <= 0:
                raise ConfigError(f"limits.{name} must be positive")
        if self.log_format not in ("json", "text"):
            raise ConfigError(f'logging.format must be "json" or "text", not {self.log_format!r}')
        if self.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigError(f"logging.level {self.log_level!r} is not a log level")


def _table(doc: dict[str, Any], name: str, types: dict[str, type]) -> dict[str, Any]:
    table = doc.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}] must be a table")
    for key, value in table.items():
        expected = types.get(key)
        if expected is None:
            raise ConfigError(f"unknown setting {name}.{key}")
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            table[key] = float(value)
            continue
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{name}.{key} must be of type {expected.__name__}")
    return dict(table)


def _strings(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{what} must be a list of strings")
    return list(value)
