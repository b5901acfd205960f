"""The library <-> drive command protocol (a small stand-in for the ADI/serial interface).

Sans-IO on both ends: :class:`DriveController` maps a command payload to a response payload
for one :class:`~simulators.drive.TapeDrive`; :class:`DriveClient` is the library's typed view
over any ``transact(payload) -> payload`` callable (a serial link, see ``simulators.serial_io``).

Payloads: one opcode (command) or status (response) byte, then fields, each a 2-byte
big-endian length and its bytes. Status 0 is success; 1..31 are DriveErrorCode values;
0x40.. are protocol errors.

The data key never crosses the line in the clear. HELLO runs an ephemeral X25519 exchange;
both ends derive a session key with HKDF-SHA256 (salt = host public || drive public) and
SET_KEY carries the data key sealed with AES-256-GCM under it, the KAD as associated data.
The exchange is unauthenticated: it defeats a passive listener on the line, not an active
man in the middle (a real drive would add a pairing secret or certificates to HELLO).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from simulators.cartridge import Kad
from simulators.drive import DriveError, DriveErrorCode, DriveState, DriveStatus, LoadInfo, TapeDrive

__all__ = [
    "DriveClient",
    "DriveController",
    "Opcode",
    "ProtocolError",
    "ProtocolStatus",
    "pack_fields",
    "unpack_fields",
]

_HKDF_INFO = b"keyshelf adi session key-wrap v1"


class Opcode(IntEnum):
    HELLO = 1
    LOAD = 2
    UNLOAD = 3
    REWIND = 4
    WRITE = 5
    READ = 6
    STATUS = 7
    SET_KEY = 8
    CLEAR_KEY = 9


class ProtocolStatus(IntEnum):
    BAD_COMMAND = 0x40
    NO_SESSION = 0x41
    UNWRAP_FAILED = 0x42


class ProtocolError(Exception):
    """The peer answered with a protocol error, or sent something that does not parse."""

    def __init__(self, status: ProtocolStatus, message: str = "") -> None:
        super().__init__(message or status.name)
        self.status = status


def pack_fields(*fields: bytes) -> bytes:
    return b"".join(struct.pack(">H", len(f)) + f for f in fields)


def unpack_fields(data: bytes) -> list[bytes]:
    fields: list[bytes] = []
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise ProtocolError(ProtocolStatus.BAD_COMMAND, "truncated field header")
        (n,) = struct.unpack_from(">H", data, i)
        if i + 2 + n > len(data):
            raise ProtocolError(ProtocolStatus.BAD_COMMAND, "truncated field")
        fields.append(data[i + 2 : i + 2 + n])
        i += 2 + n
    return fields


def _session_key(private: X25519PrivateKey, peer: bytes, host_pub: bytes, drive_pub: bytes) -> bytes:
    shared = private.exchange(X25519PublicKey.from_public_bytes(peer))
    return HKDF(hashes.SHA256(), 32, salt=host_pub + drive_pub, info=_HKDF_INFO).derive(shared)


def _set_key_aad(u_kad: bytes, a_kad: bytes) -> bytes:
    return b"SET_KEY\x00" + pack_fields(u_kad, a_kad)


def _u32(n: int) -> bytes:
    return struct.pack(">I", n)


def _int(b: bytes) -> int:
    return int.from_bytes(b, "big")


class DriveController:
    """Drive firmware: command payload in, response payload out."""

    def __init__(self, drive: TapeDrive, randbytes: Callable[[int], bytes] = os.urandom) -> None:
        self.drive = drive
        self._randbytes = randbytes
        self._session: AESGCM | None = None

    def handle(self, payload: bytes) -> bytes:
        try:
            if not payload:
                raise ProtocolError(ProtocolStatus.BAD_COMMAND, "empty command")
            try:
                op = Opcode(payload[0])
            except ValueError:
                raise ProtocolError(ProtocolStatus.BAD_COMMAND, "unknown opcode") from None
            fields = unpack_fields(payload[1:])
            return bytes([0]) + pack_fields(*self._dispatch(op, fields))
        except DriveError as exc:
            return bytes([int(exc.code)]) + pack_fields(str(exc).encode())
        except ProtocolError as exc:
            return bytes([int(exc.status)]) + pack_fields(str(exc).encode())

    def _dispatch(self, op: Opcode, f: list[bytes]) -> list[bytes]:
        d = self.drive
        if op is Opcode.HELLO:
            _need(f, 1)
            private = X25519PrivateKey.from_private_bytes(self._randbytes(32))
            mine = private.public_key().public_bytes_raw()
            try:
                key = _session_key(private, f[0], f[0], mine)
            except ValueError:
                raise ProtocolError(ProtocolStatus.BAD_COMMAND, "bad public key") from None
            self._session = AESGCM(key)
            return [mine]
        if op is Opcode.LOAD:
            info = d.load()
            kad = info.kad
            return [
                info.barcode.encode("ascii"),
                bytes([info.generation]),
                _u32(info.records),
                b"\x01" if kad else b"\x00",
                kad.u_kad if kad else b"",
                kad.a_kad if kad else b"",
            ]
        if op is Opcode.SET_KEY:
            _need(f, 4)
            if self._session is None:
                raise ProtocolError(ProtocolStatus.NO_SESSION, "HELLO first")
            nonce, sealed, u_kad, a_kad = f[:4]
            try:
                key = self._session.decrypt(nonce, sealed, _set_key_aad(u_kad, a_kad))
            except (InvalidTag, ValueError):
                raise ProtocolError(
                    ProtocolStatus.UNWRAP_FAILED, "sealed key does not authenticate"
                ) from None
            d.set_key(key, Kad(u_kad, a_kad))
            return []
        if op is Opcode.CLEAR_KEY:
            d.clear_key()
            return []
        if op is Opcode.WRITE:
            _need(f, 1)
            return [_u32(d.write(f[0]))]
        if op is Opcode.READ:
            return [d.read()]
        if op is Opcode.REWIND:
            d.rewind()
            return []
        if op is Opcode.UNLOAD:
            d.unload()
            return []
        # STATUS: the remaining opcode
        s = d.status()
        return [
            bytes([int(s.state)]),
            (s.barcode or "").encode("ascii"),
            _u32(s.position),
            _u32(s.records),
            bytes([s.key_loaded]),
            bytes([s.encryption_required]),
        ]


def _need(fields: list[bytes], n: int) -> None:
    if len(fields) < n:
        raise ProtocolError(ProtocolStatus.BAD_COMMAND, f"expected {n} fields")


class DriveClient:
    """The library's typed view of one drive over ``transact(command) -> response``."""

    def __init__(
        self, transact: Callable[[bytes], bytes], randbytes: Callable[[int], bytes] = os.urandom
    ) -> None:
        self._transact = transact
        self._randbytes = randbytes
        self._session: AESGCM | None = None

    def _call(self, op: Opcode, *fields: bytes, expect: int = 0) -> list[bytes]:
        response = self._transact(bytes([int(op)]) + pack_fields(*fields))
        if not response:
            raise ProtocolError(ProtocolStatus.BAD_COMMAND, "empty response")
        status, out = response[0], unpack_fields(response[1:])
        if status == 0:
            if len(out) < expect:
                raise ProtocolError(ProtocolStatus.BAD_COMMAND, f"response to {op.name} lacks fields")
            return out
        message = out[0].decode("utf-8", "replace") if out else ""
        if status in DriveErrorCode._value2member_map_:
            raise DriveError(DriveErrorCode(status), message)
        if status in ProtocolStatus._value2member_map_:
            raise ProtocolError(ProtocolStatus(status), message)
        raise ProtocolError(ProtocolStatus.BAD_COMMAND, f"unknown status {status}")

    def hello(self) -> None:
        """Agree a fresh session key with the drive (ephemeral X25519 + HKDF)."""
        private = X25519PrivateKey.from_private_bytes(self._randbytes(32))
        mine = private.public_key().public_bytes_raw()
        (theirs,) = self._call(Opcode.HELLO, mine, expect=1)[:1]
        try:
            self._session = AESGCM(_session_key(private, theirs, mine, theirs))
        except ValueError:
            raise ProtocolError(ProtocolStatus.BAD_COMMAND, "bad drive public key") from None

    def load(self) -> LoadInfo:
        barcode, gen, records, has_kad, u_kad, a_kad = self._call(Opcode.LOAD, expect=6)[:6]
        kad = Kad(u_kad, a_kad) if has_kad == b"\x01" else None
        return LoadInfo(barcode.decode("ascii"), gen[0], _int(records), kad)

    def set_key(self, key: bytes, kad: Kad) -> None:
        if self._session is None:
            self.hello()
        assert self._session is not None
        nonce = self._randbytes(12)
        sealed = self._session.encrypt(nonce, key, _set_key_aad(kad.u_kad, kad.a_kad))
        try:
            self._call(Opcode.SET_KEY, nonce, sealed, kad.u_kad, kad.a_kad)
        except ProtocolError as exc:
            if exc.status is not ProtocolStatus.NO_SESSION:
                raise
            # The drive lost its session (power cycle): agree a new one and resend once.
            self.hello()
            nonce = self._randbytes(12)
            sealed = self._session.encrypt(nonce, key, _set_key_aad(kad.u_kad, kad.a_kad))
            self._call(Opcode.SET_KEY, nonce, sealed, kad.u_kad, kad.a_kad)

    def clear_key(self) -> None:
        self._call(Opcode.CLEAR_KEY)

    def write(self, data: bytes) -> int:
        return _int(self._call(Opcode.WRITE, data, expect=1)[0])

    def read(self) -> bytes:
        return self._call(Opcode.READ, expect=1)[0]

    def rewind(self) -> None:
        self._call(Opcode.REWIND)

    def unload(self) -> None:
        self._call(Opcode.UNLOAD)

    def status(self) -> DriveStatus:
        state, barcode, position, records, key_loaded, required = self._call(Opcode.STATUS, expect=6)[:6]
        return DriveStatus(
            DriveState(state[0]),
            barcode.decode("ascii") or None,
            _int(position),
            _int(records),
            key_loaded == b"\x01",
            required == b"\x01",
        )
