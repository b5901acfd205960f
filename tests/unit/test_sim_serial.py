"""The serial command protocol over serial_for_url("loop://"): framing, CRC, retransmission,
session key agreement, and the data key never in the clear on the line."""

from __future__ import annotations

import random

import pytest
import serial
from hypothesis import given
from hypothesis import strategies as st

from simulators.adi import DriveClient, DriveController, Opcode, ProtocolError, ProtocolStatus, pack_fields
from simulators.cartridge import Cartridge, Kad
from simulators.drive import DriveError, DriveErrorCode, TapeDrive
from simulators.framing import Frame, FrameDecoder, FrameKind, encode_frame
from simulators.serial_io import (
    DeviceEndpoint,
    FaultyChannel,
    LinkTimeout,
    LoopbackBus,
    SerialLink,
    loop_port,
)

KEY = bytes(range(100, 132))
KAD = Kad(b"\x01" * 4, b"\x02" * 28)


class Recorder:
    """A channel wrapper that keeps every byte written and read (the line, as a sniffer sees it)."""

    def __init__(self, inner: FaultyChannel | LoopbackBus) -> None:
        self.inner = inner
        self.seen = bytearray()

    @property
    def in_waiting(self) -> int:
        return self.inner.in_waiting

    def write(self, data: bytes, /) -> int | None:
        self.seen += data
        return self.inner.write(data)

    def read(self, size: int = 1, /) -> bytes:
        data = self.inner.read(size)
        self.seen += data
        return data


def rig(**faults: set[int]) -> tuple[DriveClient, TapeDrive, SerialLink, DeviceEndpoint, Recorder]:
    rng = random.Random(7)
    drive = TapeDrive("D1", 9, randbytes=rng.randbytes)
    drive.insert(Cartridge("ABC123L9"))
    endpoint = DeviceEndpoint(3, DriveController(drive, rng.randbytes).handle)
    port = loop_port(0.01)
    rec = Recorder(FaultyChannel(LoopbackBus(port, {3: endpoint}), **faults))
    link = SerialLink(rec, retries=3, response_timeout=0.1)
    return DriveClient(link.bind(3), rng.randbytes), drive, link, endpoint, rec


def frame(seq: int = 1, payload: bytes = b"\x07") -> bytes:
    return encode_frame(Frame(3, seq, FrameKind.COMMAND, payload))


def test_decoder_whole_bytewise_and_trailing() -> None:
    data = frame(1) + frame(2, b"abc") + b"KS\x03"
    whole = FrameDecoder().feed(data)
    assert [(f.seq, f.payload) for f in whole] == [(1, b"\x07"), (2, b"abc")]
    dec = FrameDecoder()
    one = [f for b in data for f in dec.feed(bytes([b]))]
    assert one == whole and dec.pending == 3


def test_decoder_drops_bad_crc_and_resyncs_on_garbage() -> None:
    bad = bytearray(frame(1))
    bad[-1] ^= 0xFF
    dec = FrameDecoder()
    frames = dec.feed(b"\x00garbageK" + bytes(bad) + frame(2))
    assert [f.seq for f in frames] == [2]
    assert dec.crc_errors == 1


def test_decoder_reset_drops_partial() -> None:
    dec = FrameDecoder()
    dec.feed(frame(1)[:6])
    dec.reset()
    assert dec.pending == 0
    assert [f.seq for f in dec.feed(frame(2))] == [2]


@given(st.binary(max_size=300))
def test_decoder_never_raises_on_noise(noise: bytes) -> None:
    dec = FrameDecoder()
    dec.feed(noise)
    assert [f.seq for f in dec.feed(frame(9))] in (
        [9],
        [],
    )  # a frame after noise may sit behind a bogus length


def test_client_session_over_loop() -> None:
    client, _drive, link, _, rec = rig()
    client.hello()
    info = client.load()
    assert info.kad is None and info.barcode == "ABC123L9"
    client.set_key(KEY, KAD)
    assert client.write(b"payload-1") == 0
    client.rewind()
    assert client.read() == b"payload-1"
    st_ = client.status()
    assert st_.key_loaded and st_.barcode == "ABC123L9" and st_.position == 1
    assert link.stats.retransmissions == 0
    assert KEY not in bytes(rec.seen)  # the data key never crosses the line in the clear


def test_large_records_cross_the_loop_line() -> None:
    client, *_ = rig()
    client.load()
    client.set_key(KEY, KAD)
    big = bytes(range(256)) * 200  # 51,200 bytes: far beyond pyserial's default 4 KiB loop buffer
    client.write(big)
    client.rewind()
    assert client.read() == big


def test_drive_errors_cross_the_line_with_their_code() -> None:
    client, *_ = rig()
    client.load()
    with pytest.raises(DriveError) as e:
        client.write(b"x")
    assert e.value.code is DriveErrorCode.NO_KEY


def test_corrupted_command_is_retransmitted() -> None:
    client, _, link, _endpoint, _ = rig(corrupt_writes={0})
    assert client.load().barcode == "ABC123L9"
    assert link.stats.retransmissions == 1 and link.stats.timeouts == 1


def test_dropped_command_is_retransmitted() -> None:
    client, _, link, _, _ = rig(drop_writes={0})
    client.load()
    assert link.stats.retransmissions == 1


def test_lost_response_is_replayed_not_executed_twice() -> None:
    client, drive, link, endpoint, _ = rig()
    client.load()
    client.set_key(KEY, KAD)
    # corrupt the response to the next command (a WRITE): the drive must not write twice
    faulty = link.channel.inner  # type: ignore[attr-defined]
    faulty.corrupt_reads = {faulty.reads}
    assert client.write(b"once") == 0
    assert endpoint.duplicates == 1 and link.stats.retransmissions == 1
    assert drive.status().records == 1


def test_link_gives_up_after_retries() -> None:
    client, _, _link, _, _ = rig(drop_writes={0, 1, 2, 3})
    with pytest.raises(LinkTimeout) as e:
        client.load()
    assert e.value.attempts == 4


def test_set_key_without_session_runs_hello() -> None:
    client, drive, *_ = rig()
    client.load()
    client.set_key(KEY, KAD)  # no explicit hello
    assert drive.status().key_loaded


def test_set_key_after_drive_lost_session_renegotiates() -> None:
    client, drive, _link, endpoint, _ = rig()
    client.load()
    client.hello()
    endpoint._handler = DriveController(drive, random.Random(3).randbytes).handle  # drive rebooted
    client.set_key(KEY, KAD)
    assert drive.status().key_loaded


def test_controller_rejects_forged_sealed_key_and_bad_commands() -> None:
    rng = random.Random(1)
    drive = TapeDrive("D", randbytes=rng.randbytes)
    drive.insert(Cartridge("ABC123L9"))
    ctl = DriveController(drive, rng.randbytes)
    assert ctl.handle(b"")[0] == ProtocolStatus.BAD_COMMAND
    assert ctl.handle(b"\xee")[0] == ProtocolStatus.BAD_COMMAND
    assert ctl.handle(bytes([Opcode.WRITE]) + b"\x00\x09ab")[0] == ProtocolStatus.BAD_COMMAND
    ctl.handle(bytes([Opcode.LOAD]))
    sealed = bytes([Opcode.SET_KEY]) + pack_fields(b"\x00" * 12, KEY + b"\x00" * 16, b"", b"A")
    assert ctl.handle(sealed)[0] == ProtocolStatus.NO_SESSION
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    pub = X25519PrivateKey.generate().public_key().public_bytes_raw()
    assert ctl.handle(bytes([Opcode.HELLO]) + pack_fields(pub))[0] == 0
    assert ctl.handle(sealed)[0] == ProtocolStatus.UNWRAP_FAILED
    assert not drive.status().key_loaded


def test_client_raises_protocol_error_for_protocol_status() -> None:
    client = DriveClient(lambda payload: bytes([ProtocolStatus.BAD_COMMAND]) + pack_fields(b"no"))
    with pytest.raises(ProtocolError) as e:
        client.rewind()
    assert e.value.status is ProtocolStatus.BAD_COMMAND


def test_client_rejects_short_response() -> None:
    client = DriveClient(lambda payload: b"\x00")
    with pytest.raises(ProtocolError):
        client.load()


def test_link_requires_a_read_timeout() -> None:
    port = serial.serial_for_url("loop://", timeout=None)
    with pytest.raises(ValueError):
        SerialLink(port)


@given(st.lists(st.binary(max_size=40), max_size=6), st.data())
def test_decoder_any_chunking_gives_the_same_frames(payloads: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(frame(i + 1, p) for i, p in enumerate(payloads))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    dec = FrameDecoder()
    got = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)]):
        got += dec.feed(stream[a:b])
    assert [f.payload for f in got] == payloads and dec.crc_errors == 0


@given(st.binary(max_size=64))
def test_controller_answers_any_payload_with_a_status(payload: bytes) -> None:
    rng = random.Random(0)
    drive = TapeDrive("D", randbytes=rng.randbytes)
    drive.insert(Cartridge("ABC123L9"))
    response = DriveController(drive, rng.randbytes).handle(payload)
    assert response and (
        response[0] == 0 or response[0] in {int(c) for c in DriveErrorCode} | {0x40, 0x41, 0x42}
    )


@given(st.lists(st.sampled_from(["load", "unload", "rewind", "write", "read", "key", "status"]), max_size=25))
def test_drive_never_leaks_plaintext_and_reads_what_it_wrote(ops: list[str]) -> None:
    """Random command sequences: every record on tape is encrypted (encryption required), and
    every successful read returns exactly the data written at that position."""
    rng = random.Random(1)
    drive = TapeDrive("D", randbytes=rng.randbytes)
    cart = Cartridge("ABC123L9")
    drive.insert(cart)
    model: list[bytes] = []
    for n, op in enumerate(ops):
        try:
            if op == "load":
                drive.load()
            elif op == "unload":
                drive.unload()
            elif op == "rewind":
                drive.rewind()
            elif op == "key":
                drive.set_key(KEY, KAD)
            elif op == "status":
                drive.status()
            elif op == "write":
                pos = drive.status().position
                data = b"plaintext-%d" % n
                drive.write(data)
                model[pos:] = [data]
            else:
                pos = drive.status().position
                assert drive.read() == model[pos]
        except DriveError:
            pass
    for i in range(len(cart.media)):
        assert cart.media.read(i).encrypted and b"plaintext" not in cart.media.read(i).payload
