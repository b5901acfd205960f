"""An in-memory key server implementing both key-source protocols (tests, dry runs).

It keeps the facts the real server keeps - one object per key, an ASI index for tape keys,
an Object Group + drive name for SED keys, the Replaced/Replacement Object links a rotation
adds (as ``agent.sed.SedKeys.register(replaces=...)`` does), destroyed objects stay known as
destroyed - so hook tests exercise the same decisions as against ``keyshelf-server``. :meth:`replica`
gives a second named view of the same store with its own availability switch (primary /
secondary failover tests).
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from agent.spec import LinkType
from agent.tape import application_data
from firmware_hooks.sources import FetchedKey, KeyDestroyed, KeyNotFound, ServerUnavailable

__all__ = ["MemoryKeyServer"]


@dataclass
class _Object:
    uid: str
    key: bytes = field(repr=False)
    kind: str  # "tape" or "sed"
    index: str  # ASI application data, or "group\x1fdrive"
    barcode: str = ""
    destroyed: bool = False
    links: list[tuple[LinkType, str]] = field(default_factory=list)  # Link attribute instances


@dataclass
class _Store:
    objects: dict[str, _Object] = field(default_factory=dict)
    by_index: dict[tuple[str, str], list[_Object]] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    ops: dict[str, int] = field(default_factory=dict)


class MemoryKeyServer:
    def __init__(
        self,
        name: str = "memory",
        *,
        token_bytes: Callable[[int], bytes] = secrets.token_bytes,
        _store: _Store | None = None,
    ) -> None:
        self.name = name
        self.available = True
        self._token_bytes = token_bytes
        self._store = _store or _Store()
        self.calls = 0

    def replica(self, name: str) -> MemoryKeyServer:
        return MemoryKeyServer(name, token_bytes=self._token_bytes, _store=self._store)

    # -- inspection (what an administrator sees) ----------------------------------------------
    def live_objects(self, kind: str) -> list[str]:
        return [o.uid for o in self._store.objects.values() if o.kind == kind and not o.destroyed]

    def uid_for_asi(self, u_kad: bytes, a_kad: bytes) -> list[str]:
        return [o.uid for o in self._find("tape", application_data(u_kad, a_kad))]

    def tape_uids(self, generation: str, u_kad: bytes, a_kad: bytes) -> list[str]:
        """``scenarios.TapeAdmin``: live keys found by ASI."""
        return [o.uid for o in self._find("tape", application_data(u_kad, a_kad)) if not o.destroyed]

    def destroy(self, uid: str) -> None:
        self._store.objects[uid].destroyed = True

    def links(self, uid: str) -> list[tuple[LinkType, str]]:
        """The object's Link attributes as (Link Type, Linked Object Identifier)."""
        return list(self._store.objects[uid].links)

    @property
    def ops(self) -> dict[str, int]:
        return dict(self._store.ops)

    # -- internals ---------------------------------------------------------------------------
    def _enter(self, op: str) -> None:
        self.calls += 1
        if not self.available:
            raise ServerUnavailable(f"{self.name} is down")
        self._store.ops[op] = self._store.ops.get(op, 0) + 1

    def _new(self, kind: str, index: str, key: bytes, barcode: str = "") -> _Object:
        uid = f"{kind}-{next(self._store.counter):06d}"
        obj = _Object(uid, key, kind, index, barcode)
        self._store.objects[uid] = obj
        self._store.by_index.setdefault((kind, index), []).append(obj)
        return obj

    def _find(self, kind: str, index: str) -> list[_Object]:
        return self._store.by_index.get((kind, index), [])[::-1]  # newest first

    # -- TapeKeySource ------------------------------------------------------------------------
    def create_tape_key(self, generation: str, u_kad: bytes, a_kad: bytes, barcode: str) -> FetchedKey:
        self._enter("create")
        data = application_data(u_kad, a_kad, generation=generation)
        with self._store.lock:
            if self._find("tape", data):
                raise ValueError("ASI already in use")  # the client guarantees uniqueness (TLP §2.4)
            obj = self._new("tape", data, self._token_bytes(32), barcode)
        return FetchedKey(obj.uid, obj.key)

    def get_tape_key(self, generation: str, u_kad: bytes, a_kad: bytes) -> FetchedKey:
        self._enter("locate")
        data = application_data(u_kad, a_kad, generation=generation)
        with self._store.lock:
            found = self._find("tape", data)
        if not found:
            raise KeyNotFound(data[:16])
        if len(found) > 1:
            raise KeyNotFound("ambiguous ASI")
        if found[0].destroyed:
            raise KeyDestroyed(found[0].uid)
        return FetchedKey(found[0].uid, found[0].key)

    # -- SedKeySource -------------------------------------------------------------------------
    def register_auth_key(self, group: str, drive_id: str, key: bytes, *, replaces: str | None = None) -> str:
        self._enter("register")
        with self._store.lock:
            new = self._new("sed", f"{group}\x1f{drive_id}", bytes(key))
            if replaces is not None:  # SedKeys.link_replacement: the old key's side only if it is live
                self._store.ops["link"] = self._store.ops.get("link", 0) + 1
                new.links.append((LinkType.REPLACED_OBJECT_LINK, replaces))
                old = self._store.objects.get(replaces)
                if old is not None and not old.destroyed:
                    old.links.append((LinkType.REPLACEMENT_OBJECT_LINK, new.uid))
            return new.uid

    def register(self, group: str, drive_id: str, key: bytes) -> None:
        """``simulators.array.AuthKeyRegistry``."""
        self.register_auth_key(group, drive_id, key)

    def auth_keys(self, group: str, drive_id: str) -> list[FetchedKey]:
        self._enter("fetch")
        with self._store.lock:
            found = self._find("sed", f"{group}\x1f{drive_id}")
        live = [FetchedKey(o.uid, o.key) for o in found if not o.destroyed]
        if live:
            return live
        if found:
            raise KeyDestroyed(drive_id)
        raise KeyNotFound(drive_id)

    def retire_auth_keys(self, group: str, drive_id: str, keep_uid: str) -> int:
        self._enter("destroy")
        n = 0
        with self._store.lock:
            found = self._find("sed", f"{group}\x1f{drive_id}")
            if keep_uid not in {o.uid for o in found if not o.destroyed}:
                raise KeyNotFound("the key to keep is not among the drive's keys")
            for o in found:
                if o.uid != keep_uid and not o.destroyed:
                    o.destroyed = True
                    n += 1
        return n
