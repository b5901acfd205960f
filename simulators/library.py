"""A tape library: storage slots, an import/export station, drives, a robot, an inventory.

Library-managed encryption: on mount the robot puts the cartridge in a drive, the library
sends LOAD over the drive's serial line and gets the cartridge's KAD back, then calls its
key provider (the firmware hook ``firmware_hooks.tape_load``, injected: a device never
imports the hook) with a :class:`LoadEvent` and hands the returned key to the drive, sealed
under the serial session key. A provider that cannot supply a key raises
:class:`KeyUnavailable`; the library then puts the cartridge back and raises
:class:`LibraryError` with reason KEY_UNAVAILABLE - the drive never runs without its key.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from simulators.adi import DriveClient
from simulators.cartridge import Cartridge, Kad
from simulators.drive import DriveError, DriveErrorCode, TapeDrive

__all__ = [
    "DriveBay",
    "KeyGrant",
    "KeyProvider",
    "KeyUnavailable",
    "LibraryError",
    "LibraryErrorCode",
    "LoadEvent",
    "Location",
    "MountResult",
    "TapeLibrary",
]


@dataclass(frozen=True)
class LoadEvent:
    """What the library tells its key provider when a cartridge has been loaded."""

    library: str
    drive: int
    drive_serial: str
    barcode: str
    generation: int
    kad: Kad | None  # None: no encrypted data on the cartridge yet (blank)


@dataclass(frozen=True)
class KeyGrant:
    """The provider's answer: the data key and the KAD the drive writes with it."""

    key: bytes = field(repr=False)
    kad: Kad
    created: bool  # a new key was created for a blank cartridge (else an existing one was found)
    uid: str = ""  # the server's Unique Identifier, for reports


class KeyUnavailable(Exception):
    """The provider has no key for this cartridge; ``reason`` e.g. "not-found", "destroyed"."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


class KeyProvider(Protocol):
    def __call__(self, event: LoadEvent) -> KeyGrant: ...


class LibraryErrorCode(Enum):
    NO_SUCH_CARTRIDGE = "no-such-cartridge"
    LOCATION_OCCUPIED = "location-occupied"
    LOCATION_EMPTY = "location-empty"
    DRIVE_BUSY = "drive-busy"
    KEY_UNAVAILABLE = "key-unavailable"


class LibraryError(Exception):
    def __init__(self, code: LibraryErrorCode, message: str = "", reason: str = "") -> None:
        super().__init__(message or code.value)
        self.code = code
        self.reason = reason  # for KEY_UNAVAILABLE: the provider's reason


@dataclass(frozen=True)
class Location:
    kind: str  # "slot", "ie" (import/export station) or "drive"
    index: int

    def __str__(self) -> str:
        return f"{self.kind}{self.index}"


@dataclass
class DriveBay:
    """A drive in the library: the mechanism the robot reaches, and its serial client."""

    drive: TapeDrive
    client: DriveClient


@dataclass(frozen=True)
class MountResult:
    barcode: str
    drive: int
    home: Location
    created: bool
    uid: str


class TapeLibrary:
    def __init__(
        self,
        name: str,
        slots: int,
        bays: Sequence[DriveBay],
        key_provider: KeyProvider,
        *,
        ie_slots: int = 4,
    ) -> None:
        self.name = name
        self._cells: dict[Location, Cartridge | None] = {Location("slot", i): None for i in range(slots)}
        self._cells.update({Location("ie", i): None for i in range(ie_slots)})
        self._cells.update({Location("drive", i): None for i in range(len(bays))})
        self.bays = list(bays)
        self.key_provider = key_provider
        self._home: dict[str, Location] = {}  # barcode -> storage slot it returns to
        self.moves = 0

    # -- inventory and robot -----------------------------------------------------------------
    def inventory(self) -> dict[str, Location]:
        """Barcode -> where the cartridge is now."""
        return {c.barcode: loc for loc, c in self._cells.items() if c is not None}

    def cartridge_at(self, location: Location) -> Cartridge | None:
        return self._cells[location]

    def free_slots(self) -> list[Location]:
        return [loc for loc, c in self._cells.items() if loc.kind == "slot" and c is None]

    def import_cartridge(self, cartridge: Cartridge) -> Location:
        """Insert through the import/export station, then the robot stores it in a free slot."""
        ie = next((loc for loc, c in self._cells.items() if loc.kind == "ie" and c is None), None)
        if ie is None:
            raise LibraryError(LibraryErrorCode.LOCATION_OCCUPIED, "import/export station full")
        if cartridge.barcode in self.inventory():
            raise LibraryError(LibraryErrorCode.LOCATION_OCCUPIED, f"duplicate barcode {cartridge.barcode}")
        self._cells[ie] = cartridge
        free = self.free_slots()
        if not free:
            return ie
        self.move(ie, free[0])
        self._home[cartridge.barcode] = free[0]
        return free[0]

    def export_cartridge(self, barcode: str) -> Cartridge:
        src = self.locate(barcode)
        ie = next((loc for loc, c in self._cells.items() if loc.kind == "ie" and c is None), None)
        if ie is None:
            raise LibraryError(LibraryErrorCode.LOCATION_OCCUPIED, "import/export station full")
        self.move(src, ie)
        cartridge = self._cells[ie]
        assert cartridge is not None
        self._cells[ie] = None
        self._home.pop(barcode, None)
        return cartridge

    def locate(self, barcode: str) -> Location:
        for loc, c in self._cells.items():
            if c is not None and c.barcode == barcode:
                return loc
        raise LibraryError(LibraryErrorCode.NO_SUCH_CARTRIDGE, barcode)

    def move(self, src: Location, dst: Location) -> None:
        """The robot: one cartridge from ``src`` to ``dst`` (drives via insert/remove)."""
        cartridge = self._cells.get(src)
        if cartridge is None:
            raise LibraryError(LibraryErrorCode.LOCATION_EMPTY, str(src))
        if self._cells.get(dst, cartridge) is not None:
            raise LibraryError(LibraryErrorCode.LOCATION_OCCUPIED, str(dst))
        if src.kind == "drive":
            self.bays[src.index].drive.remove()
        if dst.kind == "drive":
            self.bays[dst.index].drive.insert(cartridge)
        self._cells[src] = None
        self._cells[dst] = cartridge
        self.moves += 1

    def shuffle(self, rng: random.Random) -> None:
        """Rearrange the cartridges in storage slots (a new home slot for each)."""
        slots = [loc for loc in self._cells if loc.kind == "slot"]
        carts = [self._cells[loc] for loc in slots]
        rng.shuffle(carts)
        for loc, c in zip(slots, carts):
            self._cells[loc] = c
            if c is not None:
                self._home[c.barcode] = loc

    # -- mount / dismount with library-managed encryption ------------------------------------
    def mount(self, barcode: str, drive: int) -> MountResult:
        src = self.locate(barcode)
        if src.kind == "drive":
            raise LibraryError(LibraryErrorCode.DRIVE_BUSY, f"{barcode} is already in drive {src.index}")
        if self._cells[Location("drive", drive)] is not None:
            raise LibraryError(LibraryErrorCode.DRIVE_BUSY, f"drive {drive}")
        home = self._home.setdefault(barcode, src)
        bay = self.bays[drive]
        self.move(src, Location("drive", drive))
        try:
            info = bay.client.load()
        except BaseException:
            self.move(Location("drive", drive), home)
            raise
        event = LoadEvent(self.name, drive, bay.drive.serial, info.barcode, info.generation, info.kad)
        try:
            grant = self.key_provider(event)
        except KeyUnavailable as exc:
            self._return(drive, home)
            raise LibraryError(
                LibraryErrorCode.KEY_UNAVAILABLE, f"{barcode}: {exc.reason}", exc.reason
            ) from exc
        except BaseException:
            self._return(drive, home)
            raise
        try:
            bay.client.set_key(grant.key, grant.kad)
        except BaseException:
            self._return(drive, home)  # never leave a cartridge mounted without its key
            raise
        return MountResult(barcode, drive, home, grant.created, grant.uid)

    def dismount(self, drive: int) -> Location:
        """Unload (the drive forgets the key) and put the cartridge back in its home slot."""
        cartridge = self._cells[Location("drive", drive)]
        if cartridge is None:
            raise LibraryError(LibraryErrorCode.LOCATION_EMPTY, f"drive {drive}")
        home = self._home.get(cartridge.barcode) or self.free_slots()[0]
        self._return(drive, home)
        return home

    def _return(self, drive: int, home: Location) -> None:
        try:
            self.bays[drive].client.unload()
        except DriveError as exc:
            if exc.code is not DriveErrorCode.NOT_LOADED:
                raise
        self.move(Location("drive", drive), home)

    # -- the data path (stands in for the host's SCSI path to the drive) ---------------------
    def write(self, drive: int, data: bytes) -> int:
        return self.bays[drive].client.write(data)

    def read(self, drive: int) -> bytes:
        return self.bays[drive].client.read()

    def rewind(self, drive: int) -> None:
        self.bays[drive].client.rewind()


def make_bays(
    drives: Sequence[TapeDrive],
    transact_for: Callable[[int], Callable[[bytes], bytes]],
    randbytes: Callable[[int], bytes],
) -> list[DriveBay]:
    """Bays for ``drives`` where drive i is reached through ``transact_for(i)``."""
    return [DriveBay(d, DriveClient(transact_for(i), randbytes)) for i, d in enumerate(drives)]
