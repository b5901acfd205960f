"""The tape library: robot, inventory, library-managed encryption through the tape-load hook
(with the in-memory key server)."""

from __future__ import annotations

import random

import pytest

from firmware_hooks.memory import MemoryKeyServer
from firmware_hooks.tape_load import TapeLoadHook
from simulators.cartridge import Cartridge, Kad
from simulators.drive import DriveError, DriveErrorCode
from simulators.library import (
    KeyGrant,
    KeyUnavailable,
    LibraryError,
    LibraryErrorCode,
    LoadEvent,
    Location,
)
from simulators.rig import build_library, seeded_randbytes


def make(transport: str = "direct", drives: int = 2, slots: int = 8):  # type: ignore[no-untyped-def]
    server = MemoryKeyServer(token_bytes=seeded_randbytes("keys"))
    hook = TapeLoadHook(server, token_bytes=seeded_randbytes("ids"))
    rig = build_library(
        "LIB",
        drives=drives,
        slots=slots,
        key_provider=hook,
        transport=transport,
        randbytes=seeded_randbytes("lib"),
    )
    return rig, server, hook


def test_import_inventory_and_robot() -> None:
    rig, *_ = make()
    lib = rig.library
    loc = lib.import_cartridge(Cartridge("AAA001L9"))
    assert loc == Location("slot", 0)
    assert lib.inventory() == {"AAA001L9": Location("slot", 0)}
    with pytest.raises(LibraryError) as e:
        lib.import_cartridge(Cartridge("AAA001L9"))
    assert e.value.code is LibraryErrorCode.LOCATION_OCCUPIED
    with pytest.raises(LibraryError) as e:
        lib.move(Location("slot", 5), Location("slot", 6))
    assert e.value.code is LibraryErrorCode.LOCATION_EMPTY
    out = lib.export_cartridge("AAA001L9")
    assert out.barcode == "AAA001L9" and lib.inventory() == {}


@pytest.mark.parametrize("transport", ["direct", "loop"])
def test_blank_cartridge_gets_a_created_key_then_is_found_by_asi(transport: str) -> None:
    rig, server, hook = make(transport)
    lib = rig.library
    lib.import_cartridge(Cartridge("AAA001L9"))
    first = lib.mount("AAA001L9", 0)
    assert first.created
    lib.write(0, b"data" * 100)
    lib.dismount(0)
    second = lib.mount("AAA001L9", 1)
    assert not second.created and second.uid == first.uid
    assert lib.read(1) == b"data" * 100
    lib.dismount(1)
    assert (hook.stats.created, hook.stats.located) == (1, 1)
    assert server.live_objects("tape") == [first.uid]
    kad = lib.cartridge_at(Location("slot", 0)).kad  # type: ignore[union-attr]
    assert kad is not None and server.uid_for_asi(kad.u_kad, kad.a_kad) == [first.uid]
    rig.close()


def test_destroyed_key_refuses_mount_with_reason_and_returns_cartridge() -> None:
    rig, server, _ = make()
    lib = rig.library
    lib.import_cartridge(Cartridge("AAA001L9"))
    uid = lib.mount("AAA001L9", 0).uid
    lib.write(0, b"x")
    lib.dismount(0)
    server.destroy(uid)
    with pytest.raises(LibraryError) as e:
        lib.mount("AAA001L9", 0)
    assert e.value.code is LibraryErrorCode.KEY_UNAVAILABLE and e.value.reason == "destroyed"
    assert lib.inventory()["AAA001L9"] == Location("slot", 0)
    assert server.live_objects("tape") == []  # no replacement key was created


def test_server_down_is_reported_not_written_in_clear() -> None:
    rig, server, _ = make()
    lib = rig.library
    lib.import_cartridge(Cartridge("AAA001L9"))
    server.available = False
    with pytest.raises(LibraryError) as e:
        lib.mount("AAA001L9", 0)
    assert e.value.reason == "server-unavailable"
    assert rig.drives[0].status().barcode is None


def test_drive_without_key_fails_closed() -> None:
    def provider(event: LoadEvent) -> KeyGrant:
        raise KeyUnavailable("not-found")

    rig = build_library("L", drives=1, slots=2, key_provider=provider, randbytes=seeded_randbytes(1))
    rig.library.import_cartridge(Cartridge("AAA001L9"))
    with pytest.raises(LibraryError):
        rig.library.mount("AAA001L9", 0)
    rig.drives[0].insert(Cartridge("BBB001L9"))
    rig.drives[0].load()
    with pytest.raises(DriveError) as e:
        rig.drives[0].write(b"x")
    assert e.value.code is DriveErrorCode.NO_KEY


def test_mount_busy_drive_and_shuffle() -> None:
    rig, *_ = make(slots=6)
    lib = rig.library
    for i in range(4):
        lib.import_cartridge(Cartridge(f"AAA00{i}L9"))
    lib.mount("AAA000L9", 0)
    with pytest.raises(LibraryError) as e:
        lib.mount("AAA001L9", 0)
    assert e.value.code is LibraryErrorCode.DRIVE_BUSY
    lib.dismount(0)
    before = lib.inventory()
    lib.shuffle(random.Random(4))
    after = lib.inventory()
    assert sorted(before) == sorted(after) and before != after
    lib.mount("AAA002L9", 1)
    home = lib.dismount(1)
    assert after["AAA002L9"] == home


def test_bad_key_from_provider_returns_the_cartridge() -> None:
    def provider(event: LoadEvent) -> KeyGrant:
        return KeyGrant(b"short", Kad(b"", b"A" * 8), True)

    rig = build_library("L", drives=1, slots=2, key_provider=provider, randbytes=seeded_randbytes(2))
    rig.library.import_cartridge(Cartridge("AAA001L9"))
    with pytest.raises(DriveError) as e:
        rig.library.mount("AAA001L9", 0)
    assert e.value.code is DriveErrorCode.BAD_KEY
    assert rig.library.inventory()["AAA001L9"] == Location("slot", 0)
