"""An LTO tape drive as a sans-IO state machine.

The drive encrypts each record with AES-256-GCM under the key the library handed it, the way
LTO-4+ drives do: the authenticated KAD (A-KAD) is part of the GCM additional authenticated
data, the unauthenticated KAD (U-KAD) is stored beside the record but not authenticated (SSC
naming). The AAD also carries the record number, so records cannot be reordered unnoticed.

Fail closed: with ``encryption_required`` a write without a loaded key is refused (NO_KEY);
an encrypted record read without a key, or with a key that does not authenticate it, raises
a DriveError with a reason (NO_KEY / AUTHENTICATION_FAILED) and the position does not move.

The key lives only while the cartridge is loaded: unload forgets it.
Randomness (GCM nonces) is a parameter.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from simulators.cartridge import Cartridge, Generation, Kad, Record, generation

__all__ = ["DriveError", "DriveErrorCode", "DriveState", "DriveStatus", "LoadInfo", "TapeDrive"]

KEY_SIZE = 32
NONCE_SIZE = 12


class DriveErrorCode(IntEnum):
    """Why a drive command failed; also the status byte on the serial protocol."""

    NO_CARTRIDGE = 1
    NOT_LOADED = 2
    ALREADY_LOADED = 3
    INCOMPATIBLE_MEDIA = 4
    NO_KEY = 5
    AUTHENTICATION_FAILED = 6
    END_OF_DATA = 7
    BAD_KEY = 8
    SLOT_OCCUPIED = 9


class DriveError(Exception):
    """A drive command failed; ``code`` says why (messages never contain key material)."""

    def __init__(self, code: DriveErrorCode, message: str = "") -> None:
        super().__init__(message or code.name)
        self.code = code


class DriveState(IntEnum):
    EMPTY = 0  # no cartridge in the drive
    INSERTED = 1  # the robot put a cartridge in; not threaded
    LOADED = 2  # threaded, ready


@dataclass(frozen=True)
class LoadInfo:
    """What the drive reports on load: the cartridge and the KAD found on it (None: no KAD)."""

    barcode: str
    generation: int
    records: int
    kad: Kad | None


@dataclass(frozen=True)
class DriveStatus:
    state: DriveState
    barcode: str | None
    position: int
    records: int
    key_loaded: bool
    encryption_required: bool


def _aad(a_kad: bytes, index: int) -> bytes:
    return b"LTO-AAD\x00" + struct.pack(">HQ", len(a_kad), index) + a_kad


def _compatible(drive_gen: int, media_gen: int, write: bool) -> bool:
    # LTO rule of thumb: write N and N-1; read N, N-1 and (up to LTO-7) N-2.
    if media_gen in (drive_gen, drive_gen - 1):
        return True
    return not write and drive_gen <= 7 and media_gen == drive_gen - 2


class TapeDrive:
    """One drive: load / unload / rewind / write / read / status, plus key loading."""

    def __init__(
        self,
        serial: str,
        generation_number: int = 9,
        *,
        encryption_required: bool = True,
        randbytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.serial = serial
        self.generation: Generation = generation(generation_number)
        self.encryption_required = encryption_required
        self._randbytes = randbytes
        self._cartridge: Cartridge | None = None
        self._state = DriveState.EMPTY
        self._position = 0
        self._key: AESGCM | None = None
        self._kad: Kad | None = None

    # -- the robot's side -------------------------------------------------------------------
    def insert(self, cartridge: Cartridge) -> None:
        if self._cartridge is not None:
            raise DriveError(DriveErrorCode.SLOT_OCCUPIED)
        self._cartridge = cartridge
        self._state = DriveState.INSERTED

    def remove(self) -> Cartridge:
        """Take the cartridge out (only once it is unloaded)."""
        if self._cartridge is None:
            raise DriveError(DriveErrorCode.NO_CARTRIDGE)
        if self._state is DriveState.LOADED:
            raise DriveError(DriveErrorCode.ALREADY_LOADED, "unload before removing")
        cartridge, self._cartridge = self._cartridge, None
        self._state = DriveState.EMPTY
        return cartridge

    # -- commands ----------------------------------------------------------------------------
    def load(self) -> LoadInfo:
        cartridge = self._cartridge
        if cartridge is None:
            raise DriveError(DriveErrorCode.NO_CARTRIDGE)
        if self._state is DriveState.LOADED:
            raise DriveError(DriveErrorCode.ALREADY_LOADED)
        if not _compatible(self.generation.number, cartridge.generation.number, write=False):
            raise DriveError(DriveErrorCode.INCOMPATIBLE_MEDIA, cartridge.barcode)
        self._state = DriveState.LOADED
        self._position = 0
        return LoadInfo(cartridge.barcode, cartridge.generation.number, len(cartridge.media), cartridge.kad)

    def unload(self) -> None:
        self._loaded()
        self.clear_key()
        self._position = 0
        self._state = DriveState.INSERTED

    def rewind(self) -> None:
        self._loaded()
        self._position = 0

    def set_key(self, key: bytes, kad: Kad) -> None:
        """Load the data key for this cartridge and the KAD to write with new records."""
        cartridge = self._loaded()
        if len(key) != KEY_SIZE:
            raise DriveError(DriveErrorCode.BAD_KEY, "key must be 32 bytes (AES-256)")
        try:
            kad.check(cartridge.generation)
        except ValueError:
            raise DriveError(DriveErrorCode.BAD_KEY, "KAD does not fit the cartridge") from None
        self._key = AESGCM(key)
        self._kad = kad

    def clear_key(self) -> None:
        self._key = None
        self._kad = None

    def write(self, data: bytes) -> int:
        """Write one record at the current position (truncating what follows); its number."""
        cartridge = self._loaded()
        if not _compatible(self.generation.number, cartridge.generation.number, write=True):
            raise DriveError(DriveErrorCode.INCOMPATIBLE_MEDIA, "read-only generation")
        index = self._position
        if self._key is None or self._kad is None:
            if self.encryption_required:
                raise DriveError(DriveErrorCode.NO_KEY, "encryption required and no key loaded")
            record = Record(bytes(data))
        else:
            nonce = self._randbytes(NONCE_SIZE)
            payload = self._key.encrypt(nonce, bytes(data), _aad(self._kad.a_kad, index))
            record = Record(payload, self._kad, nonce)
        cartridge.media.truncate(index)
        cartridge.media.append(record)
        self._position = index + 1
        return index

    def read(self) -> bytes:
        """Read the record at the current position and advance."""
        cartridge = self._loaded()
        index = self._position
        if index >= len(cartridge.media):
            raise DriveError(DriveErrorCode.END_OF_DATA)
        record = cartridge.media.read(index)
        if record.nonce is None or record.kad is None:
            data = record.payload
        else:
            if self._key is None:
                raise DriveError(DriveErrorCode.NO_KEY, f"record {index} is encrypted and no key is loaded")
            try:
                data = self._key.decrypt(record.nonce, record.payload, _aad(record.kad.a_kad, index))
            except InvalidTag:
                raise DriveError(
                    DriveErrorCode.AUTHENTICATION_FAILED, f"record {index} does not authenticate (wrong key)"
                ) from None
        self._position = index + 1
        return data

    def status(self) -> DriveStatus:
        cartridge = self._cartridge
        return DriveStatus(
            self._state,
            cartridge.barcode if cartridge else None,
            self._position,
            len(cartridge.media) if cartridge else 0,
            self._key is not None,
            self.encryption_required,
        )

    def _loaded(self) -> Cartridge:
        if self._cartridge is None:
            raise DriveError(DriveErrorCode.NO_CARTRIDGE)
        if self._state is not DriveState.LOADED:
            raise DriveError(DriveErrorCode.NOT_LOADED)
        return self._cartridge
