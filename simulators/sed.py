"""A self-encrypting drive (Opal-like) as a sans-IO state machine.

- A media encryption key (MEK, AES-256-XTS, 64 bytes) encrypts every block. It is stored only
  wrapped (RFC 3394 AES key wrap) under a key-encryption key derived from the authentication
  key with HKDF-SHA256 (salt = the drive serial). A wrong authentication key fails the
  unwrap's integrity check, so the drive keeps no password verifier.
- Factory state: the authentication key is the MSID (readable, like Opal's MSID PIN) and
  locking is off. ``take_ownership(msid, new)`` sets the owner's key and enables locking.
- Power-on: an owned drive comes up locked; ``unlock(key)`` opens it.
- Try limit: after ``try_limit`` consecutive wrong keys the drive refuses every attempt,
  even the right key, until the next power cycle (Opal TryLimit with Persistence false).
- ``change_key(old, new)`` rewraps the MEK: the data stays readable, and the change is atomic
  (the wrapped MEK is replaced in one step), so a power cut leaves the old or the new key.

HKDF (not PBKDF2) because authentication keys here are 32 random bytes from the key server,
not human passwords. Randomness (MSID, MEK) is a parameter.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import IntEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

__all__ = ["BLOCK_SIZE", "SedError", "SedErrorCode", "SelfEncryptingDrive"]

BLOCK_SIZE = 512


class SedErrorCode(IntEnum):
    """Why a SED command failed (values after the Opal method status codes they mirror)."""

    NOT_AUTHORIZED = 0x01  # wrong authentication key
    LOCKED_OUT = 0x12  # AUTHORITY_LOCKED_OUT: try limit reached, until power cycle
    LOCKED = 0x40  # data access while locked
    NOT_OWNED = 0x41
    ALREADY_OWNED = 0x42
    BAD_ARGUMENT = 0x43


class SedError(Exception):
    def __init__(self, code: SedErrorCode, message: str = "") -> None:
        super().__init__(message or code.name)
        self.code = code


class SelfEncryptingDrive:
    def __init__(
        self,
        serial: str,
        *,
        blocks: int = 64,
        try_limit: int = 5,
        randbytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.serial = serial
        self.blocks = blocks
        self.try_limit = try_limit
        self.msid = randbytes(32)
        mek = randbytes(64)
        self._wrapped_mek = aes_key_wrap(self._kek(self.msid), mek)
        self._mek: bytes | None = mek  # factory state: unlocked, locking not enabled
        self._media: dict[int, bytes] = {}
        self.owned = False
        self.failures = 0
        self.power_cycles = 0
        self.unlocks = 0

    def __repr__(self) -> str:
        return f"SelfEncryptingDrive({self.serial!r}, owned={self.owned}, locked={self.locked})"

    # -- state -------------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        return self._mek is None

    @property
    def locked_out(self) -> bool:
        return self.failures >= self.try_limit

    def _kek(self, auth_key: bytes) -> bytes:
        salt = b"keyshelf-sed\x00" + self.serial.encode()
        return HKDF(hashes.SHA256(), 32, salt=salt, info=b"opal-sim mek wrap").derive(auth_key)

    def _authenticate(self, auth_key: bytes) -> bytes:
        """The MEK if ``auth_key`` is right; counts failures against the try limit."""
        if self.locked_out:
            raise SedError(SedErrorCode.LOCKED_OUT, f"{self.serial}: try limit reached; power cycle to retry")
        try:
            mek = aes_key_unwrap(self._kek(auth_key), self._wrapped_mek)
        except InvalidUnwrap:
            self.failures += 1
            code = SedErrorCode.LOCKED_OUT if self.locked_out else SedErrorCode.NOT_AUTHORIZED
            raise SedError(code, f"{self.serial}: authentication failed") from None
        self.failures = 0
        return mek

    # -- ownership and keys -------------------------------------------------------------------
    def take_ownership(self, msid: bytes, new_key: bytes) -> None:
        if self.owned:
            raise SedError(SedErrorCode.ALREADY_OWNED, self.serial)
        self._rewrap(msid, new_key)
        self.owned = True

    def change_key(self, old_key: bytes, new_key: bytes) -> None:
        if not self.owned:
            raise SedError(SedErrorCode.NOT_OWNED, self.serial)
        self._rewrap(old_key, new_key)

    def _rewrap(self, old_key: bytes, new_key: bytes) -> None:
        if len(new_key) < 16:
            raise SedError(SedErrorCode.BAD_ARGUMENT, "authentication key shorter than 16 bytes")
        mek = self._authenticate(old_key)
        self._wrapped_mek = aes_key_wrap(self._kek(new_key), mek)  # one assignment: atomic

    def check_key(self, key: bytes) -> bool:
        """Try a key without unlocking (counts against the try limit like any attempt)."""
        try:
            self._authenticate(key)
        except SedError as exc:
            if exc.code is SedErrorCode.NOT_AUTHORIZED:
                return False
            raise
        return True

    # -- power and locking --------------------------------------------------------------------
    def power_cycle(self) -> None:
        """Power off and on: the MEK is forgotten (an owned drive comes up locked)."""
        self.power_cycles += 1
        self.failures = 0
        self._mek = None if self.owned else aes_key_unwrap(self._kek(self.msid), self._wrapped_mek)

    def unlock(self, auth_key: bytes) -> None:
        if not self.owned:
            return  # locking not enabled: nothing to unlock
        self._mek = self._authenticate(auth_key)
        self.unlocks += 1

    def lock(self) -> None:
        if self.owned:
            self._mek = None

    # -- data ---------------------------------------------------------------------------------
    def _cipher(self, lba: int) -> Cipher[modes.XTS]:
        if self._mek is None:
            raise SedError(SedErrorCode.LOCKED, f"{self.serial} is locked")
        if not 0 <= lba < self.blocks:
            raise SedError(SedErrorCode.BAD_ARGUMENT, f"LBA {lba} out of range")
        return Cipher(algorithms.AES(self._mek), modes.XTS(lba.to_bytes(16, "little")))

    def write(self, lba: int, data: bytes) -> None:
        if len(data) != BLOCK_SIZE:
            raise SedError(SedErrorCode.BAD_ARGUMENT, f"blocks are {BLOCK_SIZE} bytes")
        enc = self._cipher(lba).encryptor()
        self._media[lba] = enc.update(data) + enc.finalize()

    def read(self, lba: int) -> bytes:
        cipher = self._cipher(lba)
        stored = self._media.get(lba)
        if stored is None:
            return bytes(BLOCK_SIZE)
        dec = cipher.decryptor()
        return dec.update(stored) + dec.finalize()
