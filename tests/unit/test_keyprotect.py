"""KeyProtector: AES-256-GCM wrapping under a KEK file, AAD = uid."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from profiles.keyprotect import (
    CorruptBlob,
    KekFileError,
    KeyProtector,
    WrongKek,
    read_kek_file,
    write_kek_file,
)

KEK = bytes(range(32))
SECRET = bytes.fromhex("00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0")


def test_roundtrip() -> None:
    p = KeyProtector(KEK)
    blob = p.wrap(SECRET, b"uid-1")
    assert SECRET not in blob
    assert p.unwrap(blob, b"uid-1") == SECRET


def test_wraps_are_randomized() -> None:
    p = KeyProtector(KEK)
    assert p.wrap(SECRET, b"u") != p.wrap(SECRET, b"u")


def test_empty_plaintext() -> None:
    p = KeyProtector(KEK)
    assert p.unwrap(p.wrap(b"", b"u"), b"u") == b""


@pytest.mark.parametrize("position", [0, 5, 21, 30, -1])
def test_tamper_detected(position: int) -> None:
    p = KeyProtector(KEK)
    blob = bytearray(p.wrap(SECRET, b"uid-1"))
    blob[position] ^= 0x01
    with pytest.raises((CorruptBlob, WrongKek)):
        p.unwrap(bytes(blob), b"uid-1")


def test_ciphertext_tamper_is_corrupt_blob() -> None:
    p = KeyProtector(KEK)
    blob = bytearray(p.wrap(SECRET, b"uid-1"))
    blob[-20] ^= 0x80
    with pytest.raises(CorruptBlob):
        p.unwrap(bytes(blob), b"uid-1")


def test_truncated_blob() -> None:
    p = KeyProtector(KEK)
    blob = p.wrap(SECRET, b"u")
    for n in (0, 1, 20, 36, len(blob) - 1):
        with pytest.raises(CorruptBlob):
            p.unwrap(blob[:n], b"u")


def test_wrong_aad_refused() -> None:
    """A blob moved onto another object's row does not unwrap."""
    p = KeyProtector(KEK)
    with pytest.raises(CorruptBlob):
        p.unwrap(p.wrap(SECRET, b"uid-1"), b"uid-2")


def test_wrong_kek_reported_as_such() -> None:
    blob = KeyProtector(KEK).wrap(SECRET, b"u")
    other = KeyProtector(os.urandom(32))
    assert other.check_value != KeyProtector(KEK).check_value
    with pytest.raises(WrongKek) as info:
        other.unwrap(blob, b"u")
    assert SECRET.hex() not in str(info.value)
    assert KEK.hex() not in repr(KeyProtector(KEK))


def test_kek_length_checked() -> None:
    with pytest.raises(ValueError):
        KeyProtector(b"short")


def test_kek_file_written_0600_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "kek"
    write_kek_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    kek = read_kek_file(path)
    assert len(kek) == 32
    assert path.read_text().strip() == kek.hex()
    with pytest.raises(FileExistsError):
        write_kek_file(path)
    assert read_kek_file(path) == kek


def test_kek_file_raw_bytes(tmp_path: Path) -> None:
    path = tmp_path / "kek.raw"
    path.write_bytes(KEK)
    path.chmod(0o600)
    assert read_kek_file(path) == KEK
    assert KeyProtector.from_file(path).check_value == KeyProtector(KEK).check_value


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o610])
def test_kek_file_loose_mode_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "kek"
    path.write_text(KEK.hex())
    path.chmod(mode)
    with pytest.raises(KekFileError) as info:
        read_kek_file(path)
    assert KEK.hex() not in str(info.value)


@pytest.mark.parametrize("content", [b"", b"abc", b"zz" * 32, KEK + b"x" * 3])
def test_kek_file_malformed(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "kek"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(KekFileError):
        read_kek_file(path)


def test_kek_file_missing(tmp_path: Path) -> None:
    with pytest.raises(KekFileError):
        read_kek_file(tmp_path / "absent")
