"""The library <-> drive protocol over real pty pairs: pyserial opens the slave device node by
path, the drive side is served by a thread on the master fd."""

from __future__ import annotations

import random
import threading

import serial

from firmware_hooks.memory import MemoryKeyServer
from firmware_hooks.tape_load import TapeLoadHook
from simulators.adi import DriveClient, DriveController
from simulators.cartridge import Cartridge, Kad
from simulators.drive import TapeDrive
from simulators.rig import build_library, seeded_randbytes
from simulators.serial_io import DeviceEndpoint, DeviceServer, FdChannel, SerialLink, open_pty


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name == "drive-serial"}


def test_library_over_ptys_writes_and_reads_back() -> None:
    server = MemoryKeyServer(token_bytes=seeded_randbytes("k"))
    with build_library(
        "PTY",
        drives=2,
        slots=6,
        key_provider=TapeLoadHook(server),
        transport="pty",
        randbytes=seeded_randbytes("pty"),
    ) as rig:
        lib = rig.library
        for i in range(4):
            lib.import_cartridge(Cartridge(f"PTY00{i}L9"))
        payloads = {f"PTY00{i}L9": random.Random(i).randbytes(3000) for i in range(4)}
        for i, (barcode, data) in enumerate(payloads.items()):
            lib.mount(barcode, i % 2)
            lib.write(i % 2, data)
            lib.dismount(i % 2)
        for i, (barcode, data) in enumerate(payloads.items()):
            lib.mount(barcode, (i + 1) % 2)  # the other drive
            assert lib.read((i + 1) % 2) == data
            lib.dismount((i + 1) % 2)
        assert all(p.path.startswith("/dev/") for p in rig._ptys)
        assert sum(link.stats.commands for link in rig.links) > 0
        assert len(server.live_objects("tape")) == 4
    assert _threads() == set()


def test_pty_link_retransmits_after_line_noise() -> None:
    rng = random.Random(5)
    drive = TapeDrive("D", randbytes=rng.randbytes)
    drive.insert(Cartridge("NOI001L9"))
    pty = open_pty()
    endpoint = DeviceEndpoint(1, DriveController(drive, rng.randbytes).handle)
    port = serial.Serial(pty.path, timeout=0.02, write_timeout=1.0)
    try:
        with DeviceServer(FdChannel(pty.master, 0.02), [endpoint]):
            link = SerialLink(port, response_timeout=0.3)
            port.write(
                b"KS\x01\x09\x01\xff\xff"
            )  # noise with a huge bogus length: swallowed, then reset on idle
            client = DriveClient(link.bind(1), rng.randbytes)
            assert client.load().kad is None
            client.set_key(bytes(32), Kad(b"", b"A" * 8))
            client.write(b"after noise")
            client.rewind()
            assert client.read() == b"after noise"
    finally:
        port.close()
        pty.close()
    assert _threads() == set()
