"""Key protection at rest: key material is stored wrapped under a key-encryption key (KEK).

Wrapping is AES-256-GCM (NIST SP 800-38D) with a fresh random 96-bit nonce per wrap and the
object's uid as additional authenticated data, so a blob copied onto another object's row
fails to unwrap. Blob layout (version 1)::

    0x01 | KEK check value (8 bytes) | nonce (12 bytes) | ciphertext | GCM tag (16 bytes)

The check value is HMAC-SHA256(KEK, "keyshelf KEK check value v1")[:8]: it identifies which
KEK wrote a blob without revealing anything usable about the KEK, so a wrong KEK is reported
as such ("wrong key-encryption key") instead of as corruption. Random nonces are safe for far
more than the number of objects one server holds (the 2^32 invocation bound of SP 800-38D §8.3).

KEK file format: 32 random bytes, stored either raw (exactly 32 bytes) or as 64 hexadecimal
characters (optionally followed by a newline; ``keyshelf-server init`` writes hex). The file
must not be accessible to group or others (mode 0600 or stricter); anything else is refused
with a message that says how to fix it.

Nothing here ever puts key bytes (KEK or wrapped material) into an exception message.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from profiles.entropy import random_bytes

KEK_SIZE = 32
_VERSION = 1
_CHECK_SIZE = 8
_NONCE_SIZE = 12
_TAG_SIZE = 16
_HEADER_SIZE = 1 + _CHECK_SIZE + _NONCE_SIZE
_CHECK_LABEL = b"keyshelf KEK check value v1"


class KeyProtectionError(Exception):
    """Wrapping or unwrapping failed. The message never contains key bytes."""


class WrongKek(KeyProtectionError):
    """The blob (or database) was written under a different key-encryption key."""


class CorruptBlob(KeyProtectionError):
    """The blob is not a valid wrapped key (tampered, truncated, or wrong AAD)."""


class KekFileError(KeyProtectionError):
    """The KEK file is missing, malformed, or readable by group/others."""


class KeyProtector:
    """Wraps and unwraps key material under one KEK (AES-256-GCM, AAD = caller's context)."""

    __slots__ = ("_aead", "_check")

    def __init__(self, kek: bytes) -> None:
        if len(kek) != KEK_SIZE:
            raise ValueError(f"a key-encryption key is {KEK_SIZE} bytes, got {len(kek)}")
        self._aead = AESGCM(kek)
        self._check = hmac.new(kek, _CHECK_LABEL, hashlib.sha256).digest()[:_CHECK_SIZE]

    def __repr__(self) -> str:
        return f"KeyProtector(check={self._check.hex()})"

    @property
    def check_value(self) -> bytes:
        """8 bytes that identify this KEK (safe to store next to the data it protects)."""
        return self._check

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> KeyProtector:
        """Read a KEK file (raw 32 bytes or 64 hex characters), refusing loose permissions."""
        return cls(read_kek_file(path))

    def wrap(self, plain: bytes, aad: bytes) -> bytes:
        """Encrypt and authenticate ``plain``; ``aad`` (e.g. the uid) must be given again to unwrap."""
        nonce = random_bytes(_NONCE_SIZE)
        header = bytes([_VERSION]) + self._check + nonce
        return header + self._aead.encrypt(nonce, plain, header + aad)

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        """The plaintext of ``blob``; WrongKek or CorruptBlob if it cannot be authenticated."""
        if len(blob) < _HEADER_SIZE + _TAG_SIZE or blob[0] != _VERSION:
            raise CorruptBlob("wrapped key blob is malformed")
        if not hmac.compare_digest(blob[1 : 1 + _CHECK_SIZE], self._check):
            raise WrongKek("wrapped key was written under a different key-encryption key")
        header = blob[:_HEADER_SIZE]
        nonce = blob[1 + _CHECK_SIZE : _HEADER_SIZE]
        try:
            return self._aead.decrypt(nonce, blob[_HEADER_SIZE:], header + aad)
        except InvalidTag:
            raise CorruptBlob("wrapped key failed authentication (tampered or moved)") from None


def read_kek_file(path: str | os.PathLike[str]) -> bytes:
    """The 32 KEK bytes from ``path`` after checking its permissions."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise KekFileError(f"cannot read key-encryption key file {p}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise KekFileError(f"key-encryption key file {p} is not a regular file")
    if st.st_mode & 0o077:
        raise KekFileError(
            f"key-encryption key file {p} has mode {stat.S_IMODE(st.st_mode):04o}; it must not be "
            f"accessible to group or others (run: chmod 600 {p})"
        )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise KekFileError(f"cannot read key-encryption key file {p}: {exc.strerror}") from None
    if len(data) == KEK_SIZE:
        return data
    text = data.strip()
    if len(text) == 2 * KEK_SIZE:
        try:
            return bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            pass
    raise KekFileError(
        f"key-encryption key file {p} must hold {KEK_SIZE} raw bytes or {2 * KEK_SIZE} hex characters"
    )


def write_kek_file(path: str | os.PathLike[str]) -> None:
    """Create a new KEK file (64 hex characters + newline) with mode 0600; never overwrites."""
    kek = os.urandom(KEK_SIZE)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # independent of the umask
        os.write(fd, kek.hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
