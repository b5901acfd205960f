"""The self-encrypting drive and the storage array."""

from __future__ import annotations

import pytest

from firmware_hooks.memory import MemoryKeyServer
from firmware_hooks.sources import ServerUnavailable
from simulators.array import StorageArray
from simulators.rig import seeded_randbytes
from simulators.sed import BLOCK_SIZE, SedError, SedErrorCode, SelfEncryptingDrive

K1, K2, BAD = b"1" * 32, b"2" * 32, b"x" * 32
BLOCK = bytes(range(256)) * 2


def owned() -> SelfEncryptingDrive:
    d = SelfEncryptingDrive("S1", try_limit=3, randbytes=seeded_randbytes("sed"))
    d.take_ownership(d.msid, K1)
    return d


def test_factory_drive_is_unlocked_and_owner_locks_at_power_on() -> None:
    d = SelfEncryptingDrive("S1", randbytes=seeded_randbytes("sed"))
    assert not d.locked
    d.write(0, BLOCK)
    d.take_ownership(d.msid, K1)
    d.power_cycle()
    assert d.locked
    with pytest.raises(SedError) as e:
        d.read(0)
    assert e.value.code is SedErrorCode.LOCKED
    d.unlock(K1)
    assert d.read(0) == BLOCK


def test_take_ownership_needs_msid_once() -> None:
    d = SelfEncryptingDrive("S1", randbytes=seeded_randbytes("sed"))
    with pytest.raises(SedError) as e:
        d.take_ownership(BAD, K1)
    assert e.value.code is SedErrorCode.NOT_AUTHORIZED
    d.take_ownership(d.msid, K1)
    with pytest.raises(SedError) as e:
        d.take_ownership(d.msid, K2)
    assert e.value.code is SedErrorCode.ALREADY_OWNED


def test_data_is_encrypted_at_rest() -> None:
    d = owned()
    d.unlock(K1)
    d.write(1, BLOCK)
    assert d._media[1] != BLOCK


def test_wrong_key_and_lockout_until_power_cycle() -> None:
    d = owned()
    d.power_cycle()
    for _ in range(2):
        with pytest.raises(SedError) as e:
            d.unlock(BAD)
        assert e.value.code is SedErrorCode.NOT_AUTHORIZED
    with pytest.raises(SedError) as e:
        d.unlock(BAD)
    assert e.value.code is SedErrorCode.LOCKED_OUT
    with pytest.raises(SedError) as e:
        d.unlock(K1)  # even the right key, while locked out
    assert e.value.code is SedErrorCode.LOCKED_OUT
    d.power_cycle()
    d.unlock(K1)
    assert not d.locked


def test_success_resets_failure_count() -> None:
    d = owned()
    for _ in range(5):
        with pytest.raises(SedError):
            d.unlock(BAD)
        if d.locked_out:
            break
        d.unlock(K1)
    assert d.failures == 0


def test_change_key_keeps_data() -> None:
    d = owned()
    d.unlock(K1)
    d.write(2, BLOCK)
    d.change_key(K1, K2)
    d.power_cycle()
    with pytest.raises(SedError):
        d.unlock(K1)
    d.unlock(K2)
    assert d.read(2) == BLOCK
    with pytest.raises(SedError) as e:
        d.change_key(BAD, K1)
    assert e.value.code is SedErrorCode.NOT_AUTHORIZED


def test_block_bounds() -> None:
    d = owned()
    d.unlock(K1)
    with pytest.raises(SedError) as e:
        d.write(0, b"short")
    assert e.value.code is SedErrorCode.BAD_ARGUMENT
    with pytest.raises(SedError):
        d.read(10_000)
    assert d.read(3) == bytes(BLOCK_SIZE)


def test_array_take_ownership_registers_before_use() -> None:
    server = MemoryKeyServer(token_bytes=seeded_randbytes("k"))
    array = StorageArray("A1", 4, randbytes=seeded_randbytes("arr"))
    assert array.take_ownership(server) == 4
    assert array.take_ownership(server) == 0
    assert len(server.live_objects("sed")) == 4
    array.power_cycle()
    assert len(array.locked()) == 4
    for d in array.drives:
        (key,) = server.auth_keys(array.group, d.serial)
        d.unlock(key.key)
    assert array.locked() == []
    keys = {server.auth_keys(array.group, d.serial)[0].key for d in array.drives}
    assert len(keys) == 4


def test_array_registration_failure_leaves_drive_unowned() -> None:
    server = MemoryKeyServer()
    server.available = False
    array = StorageArray("A1", 2, randbytes=seeded_randbytes("arr"))
    with pytest.raises(ServerUnavailable):
        array.take_ownership(server)
    assert not any(d.owned for d in array.drives)
