"""Configuration of the shell entry points: the agent's TOML file plus a ``[boot]`` section.

The same file serves ``keyshelf-agent`` (sections ``[server]``, ``[timeouts]``, ``[tape]``,
``[sed]``; see ``agent.config``) and ``keyshelf-hook``::

    [server]
    addresses = ["kms1.example:5696", "kms2.example:5696"]   # primary first, then failover
    ca = "/etc/keyshelf/ca.crt"
    cert = "/etc/keyshelf/array.crt"
    key = "/etc/keyshelf/array.key"

    [boot]
    group = "array-7"          # the array's Object Group (default: [sed] group)
    deadline = 60.0            # seconds for the whole boot
    retries = 3                # rounds over the server list per drive
    backoff = 0.2              # first pause between rounds, doubled each round
    workers = 16               # drives unlocked in parallel
    sedutil = "sedutil-cli"    # path or name on PATH

    [[boot.drive]]
    id = "SED-0001"            # the name its key was registered under
    device = "/dev/sda"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BootConfig", "ConfigError", "DriveSpec", "load_boot_config"]


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class DriveSpec:
    id: str
    device: str


@dataclass(frozen=True)
class BootConfig:
    group: str
    drives: tuple[DriveSpec, ...] = ()
    deadline: float = 60.0
    retries: int = 3
    backoff: float = 0.2
    workers: int = 16
    sedutil: str = "sedutil-cli"


def _number(section: dict[str, Any], key: str, default: float, kind: type) -> Any:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"[boot] {key} must be a non-negative number")
    return kind(value)


def load_boot_config(path: Path) -> BootConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    boot = raw.get("boot", {})
    sed = raw.get("sed", {})
    if not isinstance(boot, dict) or not isinstance(sed, dict):
        raise ConfigError("[boot] and [sed] must be tables")
    group = boot.get("group", sed.get("group"))
    if not isinstance(group, str) or not group:
        raise ConfigError("[boot] group (or [sed] group) is required")
    drives = []
    for i, entry in enumerate(boot.get("drive", [])):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("id"), str)
            or not isinstance(entry.get("device"), str)
        ):
            raise ConfigError(f"[[boot.drive]] #{i + 1} needs string id and device")
        drives.append(DriveSpec(entry["id"], entry["device"]))
    sedutil = boot.get("sedutil", "sedutil-cli")
    if not isinstance(sedutil, str):
        raise ConfigError("[boot] sedutil must be a string")
    return BootConfig(
        group=group,
        drives=tuple(drives),
        deadline=_number(boot, "deadline", 60.0, float),
        retries=_number(boot, "retries", 3, int),
        backoff=_number(boot, "backoff", 0.2, float),
        workers=max(1, _number(boot, "workers", 16, int)),
        sedutil=sedutil,
    )
