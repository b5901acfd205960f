"""Storage backends chosen by URL scheme from one table (as uvicorn chooses its loops).

    open_store("memory:")                      in-memory, for tests
    open_store("sqlite:///relative/path.db", protector)
    open_store("sqlite:////absolute/path.db", protector)

A backend entry is "module:factory"; the module is imported only when its scheme is used,
so a deployment without a backend's driver never imports it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from profiles.keyprotect import KeyProtector
from profiles.store.base import (
    Condition,
    DuplicateObject,
    IndexEntry,
    LocateQuery,
    NonUniqueKey,
    ObjectRecord,
    Storage,
    StoreError,
    UnknownObject,
)

BackendFactory = Callable[[str, KeyProtector | None], Storage]

BACKENDS: dict[str, str] = {
    "memory": "profiles.store.memory:open_memory",
    "sqlite": "profiles.store.sqlite:open_sqlite",
}

__all__ = [
    "BACKENDS",
    "Condition",
    "DuplicateObject",
    "IndexEntry",
    "LocateQuery",
    "NonUniqueKey",
    "ObjectRecord",
    "Storage",
    "StoreError",
    "UnknownObject",
    "open_store",
]


def open_store(url: str, protector: KeyProtector | None = None) -> Storage:
    """Open the backend named by the URL scheme. Persistent backends require a protector."""
    scheme, sep, _ = url.partition(":")
    target = BACKENDS.get(scheme.lower()) if sep else None
    if target is None:
        known = ", ".join(f"{s}:" for s in sorted(BACKENDS))
        raise StoreError(f"unknown storage URL {url!r} (known schemes: {known})")
    module_name, _, attr = target.partition(":")
    factory = cast(BackendFactory, getattr(importlib.import_module(module_name), attr))
    return factory(url, protector)
