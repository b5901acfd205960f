"""Cartridges and the tape drive state machine (no serial line)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from simulators.cartridge import GENERATIONS, Cartridge, FileMedia, Kad, Record, parse_barcode
from simulators.drive import DriveError, DriveErrorCode, DriveState, TapeDrive

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
KAD8 = Kad(b"U" * 8, b"A" * 32)


def rb(seed: int = 1) -> random.Random:
    return random.Random(seed)


def loaded(barcode: str = "ABC123L8", *, required: bool = True, gen: int = 9) -> tuple[TapeDrive, Cartridge]:
    drive = TapeDrive("D0", gen, encryption_required=required, randbytes=rb().randbytes)
    cart = Cartridge(barcode)
    drive.insert(cart)
    drive.load()
    return drive, cart


def test_generation_table_kad_sizes() -> None:
    assert (GENERATIONS[4].a_kad_size, GENERATIONS[4].u_kad_size) == (12, 32)
    for n in range(5, 10):
        assert (GENERATIONS[n].a_kad_size, GENERATIONS[n].u_kad_size) == (60, 32)


@pytest.mark.parametrize("barcode,gen", [("ABC123L8", 8), ("000001L4", 4), ("XYZ999L9", 9)])
def test_barcode(barcode: str, gen: int) -> None:
    assert parse_barcode(barcode).number == gen


@pytest.mark.parametrize("barcode", ["ABC123L3", "abc123L8", "ABC12L8", "ABC123X8", ""])
def test_bad_barcode(barcode: str) -> None:
    with pytest.raises(ValueError):
        parse_barcode(barcode)


def test_kad_size_checked_per_generation() -> None:
    with pytest.raises(ValueError):
        Kad(b"", b"A" * 13).check(GENERATIONS[4])
    Kad(b"U" * 32, b"A" * 12).check(GENERATIONS[4])
    Kad(b"U" * 32, b"A" * 60).check(GENERATIONS[5])
    with pytest.raises(ValueError):
        Kad(b"U" * 33, b"").check(GENERATIONS[5])


def test_load_reports_no_kad_for_blank_and_kad_after_write() -> None:
    drive = TapeDrive("D0", 9, randbytes=rb().randbytes)
    cart = Cartridge("ABC123L8")
    drive.insert(cart)
    blank = drive.load()
    assert blank.kad is None and blank.records == 0
    assert drive.status().state is DriveState.LOADED
    drive.set_key(KEY, KAD8)
    drive.write(b"hello")
    drive.unload()
    info2 = drive.load()
    assert info2.kad == KAD8 and info2.records == 1 and info2.barcode == "ABC123L8"
    assert cart.kad == KAD8


def test_write_read_roundtrip_and_ciphertext_is_not_plaintext() -> None:
    drive, cart = loaded()
    drive.set_key(KEY, KAD8)
    data = [b"record-%d" % i * 10 for i in range(5)]
    assert [drive.write(d) for d in data] == [0, 1, 2, 3, 4]
    assert all(cart.media.read(i).encrypted for i in range(5))
    assert all(d not in cart.media.read(i).payload for i, d in enumerate(data))
    drive.rewind()
    assert [drive.read() for _ in data] == data
    with pytest.raises(DriveError) as e:
        drive.read()
    assert e.value.code is DriveErrorCode.END_OF_DATA


def test_fail_closed_no_key() -> None:
    drive, cart = loaded()
    with pytest.raises(DriveError) as e:
        drive.write(b"x")
    assert e.value.code is DriveErrorCode.NO_KEY
    assert len(cart.media) == 0


def test_plain_write_allowed_only_when_not_required() -> None:
    drive, cart = loaded(required=False)
    drive.write(b"clear")
    assert not cart.media.read(0).encrypted
    drive.rewind()
    assert drive.read() == b"clear"


def test_wrong_key_is_authentication_failed_and_position_kept() -> None:
    drive, _ = loaded()
    drive.set_key(KEY, KAD8)
    drive.write(b"secret")
    drive.unload()
    drive.load()
    drive.set_key(OTHER, KAD8)
    with pytest.raises(DriveError) as e:
        drive.read()
    assert e.value.code is DriveErrorCode.AUTHENTICATION_FAILED
    assert drive.status().position == 0


def test_read_encrypted_without_key() -> None:
    drive, _ = loaded()
    drive.set_key(KEY, KAD8)
    drive.write(b"secret")
    drive.unload()
    drive.load()
    with pytest.raises(DriveError) as e:
        drive.read()
    assert e.value.code is DriveErrorCode.NO_KEY


def test_unload_forgets_key() -> None:
    drive, _ = loaded()
    drive.set_key(KEY, KAD8)
    drive.unload()
    assert not drive.status().key_loaded


def test_tampered_a_kad_or_reordered_record_does_not_authenticate() -> None:
    drive, cart = loaded()
    drive.set_key(KEY, KAD8)
    drive.write(b"one")
    drive.write(b"two")
    r0, r1 = cart.media.read(0), cart.media.read(1)
    cart.media.truncate(0)
    cart.media.append(r1)  # record 1 moved to position 0
    cart.media.append(Record(r0.payload, Kad(KAD8.u_kad, b"B" * 32), r0.nonce))  # A-KAD changed
    drive.rewind()
    for _ in range(2):
        with pytest.raises(DriveError) as e:
            drive.read()
        assert e.value.code is DriveErrorCode.AUTHENTICATION_FAILED
        drive._position += 1  # skip on


def test_u_kad_is_not_authenticated() -> None:
    drive, cart = loaded()
    drive.set_key(KEY, KAD8)
    drive.write(b"one")
    r0 = cart.media.read(0)
    cart.media.truncate(0)
    cart.media.append(Record(r0.payload, Kad(b"other", KAD8.a_kad), r0.nonce))
    drive.rewind()
    assert drive.read() == b"one"


def test_set_key_checks_size_and_kad_fit() -> None:
    drive, _ = loaded("ABC123L8")
    with pytest.raises(DriveError) as e:
        drive.set_key(b"short", KAD8)
    assert e.value.code is DriveErrorCode.BAD_KEY
    with pytest.raises(DriveError) as e:
        drive.set_key(KEY, Kad(b"", b"A" * 61))
    assert e.value.code is DriveErrorCode.BAD_KEY


def test_generation_compatibility() -> None:
    drive = TapeDrive("D", 9, randbytes=rb().randbytes)
    drive.insert(Cartridge("ABC123L6"))
    with pytest.raises(DriveError) as e:
        drive.load()
    assert e.value.code is DriveErrorCode.INCOMPATIBLE_MEDIA
    old = TapeDrive("D", 6, randbytes=rb().randbytes)
    old.insert(Cartridge("ABC123L4"))
    old.load()
    old.set_key(KEY, Kad(b"", b"A" * 12))
    with pytest.raises(DriveError) as e:
        old.write(b"x")
    assert e.value.code is DriveErrorCode.INCOMPATIBLE_MEDIA


def test_commands_need_a_loaded_cartridge() -> None:
    drive = TapeDrive("D", randbytes=rb().randbytes)
    for call in (drive.load, drive.rewind, drive.read, drive.unload):
        with pytest.raises(DriveError) as e:
            call()
        assert e.value.code is DriveErrorCode.NO_CARTRIDGE
    drive.insert(Cartridge("ABC123L9"))
    with pytest.raises(DriveError) as e:
        drive.read()
    assert e.value.code is DriveErrorCode.NOT_LOADED
    with pytest.raises(DriveError) as e:
        drive.insert(Cartridge("ABC124L9"))
    assert e.value.code is DriveErrorCode.SLOT_OCCUPIED
    drive.load()
    with pytest.raises(DriveError) as e:
        drive.remove()
    assert e.value.code is DriveErrorCode.ALREADY_LOADED


def test_overwrite_truncates_following_records() -> None:
    drive, cart = loaded()
    drive.set_key(KEY, KAD8)
    for d in (b"a", b"b", b"c"):
        drive.write(d)
    drive.rewind()
    drive.read()
    drive.write(b"B")
    assert len(cart.media) == 2
    drive.rewind()
    assert [drive.read(), drive.read()] == [b"a", b"B"]


def test_file_media_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ABC123L8.tape"
    cart = Cartridge("ABC123L8", FileMedia(path))
    drive = TapeDrive("D", randbytes=rb().randbytes)
    drive.insert(cart)
    drive.load()
    drive.set_key(KEY, KAD8)
    drive.write(b"persist")
    drive.write(b"me")
    drive.rewind()
    drive.read()
    drive.write(b"ME")  # truncate + rewrite path
    drive.unload()
    drive.remove()
    again = Cartridge("ABC123L8", FileMedia(path))
    assert again.kad == KAD8 and len(again.media) == 2
    drive.insert(again)
    drive.load()
    drive.set_key(KEY, KAD8)
    assert [drive.read(), drive.read()] == [b"persist", b"ME"]
