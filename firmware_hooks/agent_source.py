"""The key-source protocols over the real agent (``agent.sync``: blocking, thread-safe).

- :class:`AgentTapeSource` - ``agent.tape.TapeKeys``: Create + Get (TL-M-2) for a blank
  cartridge, Locate by ASI + Get (TL-M-3) for a written one.
- :class:`AgentSedSource` - ``agent.sed.SedKeys``: Register Secret Data in the array's Object
  Group (SASED-M-2; with ``replaces``, linked to the key it replaces), the drive's keys newest
  first (SASED-M-3), retire after rotation: the rotation's server steps are SedKeys' own.

Errors are mapped to the hooks' three answers: Item Not Found (1.x) and Object Not Found
(2.x, Result Reason 0x37) -> KeyNotFound, ``ObjectDestroyed`` -> KeyDestroyed, transport
failures (refused, TLS, timeout, lost connection) -> ServerUnavailable; any other refusal
-> ``KeyRefused``. The server's Locate does not find destroyed objects, so a
crypto-shredded cartridge is first answered "not found"; the tape source then asks once more
with the Storage Status Mask for destroyed objects (KMIP 2.x) to report "destroyed".

For boot failover build one source per server (:func:`sed_sources_from_config`): the hook
then knows and reports which server answered each drive.
"""

from __future__ import annotations

import contextlib
import os
import threading
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent import sync
from agent.config import AgentConfig
from agent.errors import KmipError, ObjectDestroyed
from agent.model import Attribute
from agent.sed import Drive, not_found_errors
from agent.spec import LinkType, ObjectType, StorageStatusMask
from agent.tape import AmbiguousKey, Cartridge, application_data
from firmware_hooks.sources import FetchedKey, KeyDestroyed, KeyNotFound, KeySourceError, ServerUnavailable

__all__ = [
    "AgentSedSource",
    "AgentTapeSource",
    "KeyRefused",
    "sed_source_from_config",
    "sed_sources_from_config",
    "tape_source_from_config",
]


class KeyRefused(KeySourceError):
    """The server answered with another error (permission, policy...)."""

    reason = "refused"


@contextlib.contextmanager
def _mapped(server: str) -> Iterator[None]:
    try:
        yield
    except not_found_errors() as exc:  # Item Not Found (1.x) / Object Not Found (2.x)
        raise KeyNotFound(str(exc)) from exc
    except ObjectDestroyed as exc:
        raise KeyDestroyed(str(exc)) from exc
    except AmbiguousKey as exc:
        raise KeyNotFound("several keys carry this identifier") from exc
    except KmipError as exc:
        raise KeyRefused(f"{type(exc).__name__}") from exc
    except (sync.TransportError, OSError, TimeoutError) as exc:
        raise ServerUnavailable(f"{server}: {type(exc).__name__}") from exc


def _name(client: sync.Client) -> str:
    return ",".join(str(s) for s in client.servers)


def _destroyed(
    client: sync.Client, attributes: Sequence[Attribute], object_type: ObjectType, **where: Any
) -> bool:
    """True if Locate with the Storage Status Mask for destroyed objects (KMIP 2.x) finds one:
    only an explanation of "not found", so any failure answers False."""
    try:
        found = client.locate(
            attributes,
            object_type=object_type,
            storage_status_mask=StorageStatusMask.DESTROYED_STORAGE,
            **where,
        )
    except (KmipError, sync.TransportError, OSError, TimeoutError):
        return False
    return bool(found.unique_identifier)


class AgentTapeSource:
    def __init__(self, client: sync.Client, *, name: str | None = None, **options: Any) -> None:
        self.client = client
        self.name = name or _name(client)
        self.keys = sync.TapeKeys(client, **options)

    def create_tape_key(self, generation: str, u_kad: bytes, a_kad: bytes, barcode: str) -> FetchedKey:
        with _mapped(self.name):
            k = self.keys.key_for_write(Cartridge(generation, u_kad, a_kad, barcode=barcode))
        return FetchedKey(k.uid, k.key)

    def get_tape_key(self, generation: str, u_kad: bytes, a_kad: bytes) -> FetchedKey:
        cartridge = Cartridge(generation, u_kad, a_kad)
        try:
            with _mapped(self.name):
                k = self.keys.key_for_read(cartridge)
        except KeyNotFound:
            if _destroyed(
                self.client, [], ObjectType.SYMMETRIC_KEY, application=self.keys.aio.asi(cartridge)
            ):
                raise KeyDestroyed("the cartridge's key was destroyed") from None
            raise
        return FetchedKey(k.uid, k.key)

    # -- scenarios.TapeAdmin --------------------------------------------------------------------
    def tape_uids(self, generation: str, u_kad: bytes, a_kad: bytes) -> list[str]:
        asi = self.keys.aio.asi(Cartridge(generation, u_kad, a_kad))
        assert application_data(u_kad, a_kad) == asi.application_data
        with _mapped(self.name):
            found = self.client.locate([], application=asi)
        return [str(u) for u in found.unique_identifier]

    def destroy(self, uid: str) -> None:
        with _mapped(self.name):
            self.client.destroy(uid)


class AgentSedSource:
    def __init__(self, client: sync.Client, *, name: str | None = None, **options: Any) -> None:
        self.client = client
        self.name = name or _name(client)
        self._options = options
        self._groups: dict[str, sync.SedKeys] = {}
        self._lock = threading.Lock()

    def _keys(self, group: str) -> sync.SedKeys:
        with self._lock:
            keys = self._groups.get(group)
            if keys is None:
                keys = self._groups[group] = sync.SedKeys(self.client, group, **self._options)
            return keys

    def register_auth_key(self, group: str, drive_id: str, key: bytes, *, replaces: str | None = None) -> str:
        with _mapped(self.name):
            return self._keys(group).register(Drive(serial=drive_id), key, replaces=replaces)

    def register(self, group: str, drive_id: str, key: bytes) -> None:
        """``simulators.array.AuthKeyRegistry``."""
        self.register_auth_key(group, drive_id, key)

    def auth_keys(self, group: str, drive_id: str) -> list[FetchedKey]:
        drive = Drive(serial=drive_id)
        try:
            with _mapped(self.name):
                keys = self._keys(group).keys_for(drive)
        except KeyNotFound:
            identity = self._keys(group).aio.identity_attribute(drive)
            if _destroyed(self.client, [identity], ObjectType.SECRET_DATA, group=group):
                raise KeyDestroyed("the drive's authentication key was destroyed") from None
            raise
        return [FetchedKey(k.uid, k.key) for k in keys]

    def retire_auth_keys(self, group: str, drive_id: str, keep_uid: str) -> int:
        with _mapped(self.name):
            return self._keys(group).retire(Drive(serial=drive_id), keep_uid)

    def destroy(self, uid: str) -> None:
        with _mapped(self.name):
            self.client.destroy(uid)

    def links(self, uid: str) -> list[tuple[LinkType, str]]:
        """The object's Link attributes as (Link Type, Linked Object Identifier) (Get Attributes)."""
        from agent.model import Link

        with _mapped(self.name):
            found = self.client.get_attributes(uid, ["Link"])
        return [
            (LinkType(a.value.link_type), str(a.value.linked_object_identifier))
            for a in found.attributes
            if isinstance(a.value, Link)
        ]


def _config(path: Path) -> AgentConfig:
    """The agent's part of a hook configuration: every section but ``[boot]`` (which the
    agent's own loader would reject as unknown), overlaid by the KEYSHELF_* environment."""
    from agent.config import ConfigError as AgentConfigError
    from firmware_hooks.config import ConfigError

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        data.pop("boot", None)
        return AgentConfig().merged(data, base=path.parent).merged_env(os.environ)
    except (OSError, tomllib.TOMLDecodeError, AgentConfigError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def sed_sources_from_config(path: Path) -> Sequence[AgentSedSource]:
    """One source per configured server, in failover order."""
    config = _config(path)
    if not config.servers:
        raise ServerUnavailable("no [server] addresses configured")
    return [
        AgentSedSource(sync.Client.from_config(replace(config, servers=(address,))), name=address)
        for address in config.servers
    ]


def sed_source_from_config(path: Path) -> AgentSedSource:
    """One client over every configured server (the agent fails over by itself, and never
    resends a Register whose outcome is unknown): what a rotation, which writes, uses."""
    config = _config(path)
    if not config.servers:
        raise ServerUnavailable("no [server] addresses configured")
    return AgentSedSource(sync.Client.from_config(config))


def tape_source_from_config(path: Path) -> AgentTapeSource:
    """One client over every configured server (the agent fails over by itself)."""
    config = _config(path)
    if not config.servers:
        raise ServerUnavailable("no [server] addresses configured")
    return AgentTapeSource(sync.Client.from_config(config), namespace=config.tape_namespace)
