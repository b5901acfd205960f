"""LTO cartridges: barcode, generation, records on media, and the KAD written with them.

A cartridge is passive: it holds records. The drive decides what a record contains
(see ``simulators.drive``); the cartridge only stores and returns them, on a medium that is
either memory or a file (one JSON line per record, so a cartridge outlives the process).

Key Associated Data sizes per generation follow the Tape Library profile (TLP §1.1): A-KAD
12 bytes on LTO-4, 60 bytes from LTO-5 on; U-KAD 32 bytes. LTO-7..9 are taken to keep the
LTO-5/6 sizes (the profile stops at LTO-6; later namespaces are secondary, digest §3.1.7).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "GENERATIONS",
    "Cartridge",
    "FileMedia",
    "Generation",
    "Kad",
    "Media",
    "MemoryMedia",
    "Record",
    "generation",
    "parse_barcode",
]


@dataclass(frozen=True)
class Generation:
    """One LTO generation: its number, barcode media suffix and KAD field sizes (bytes)."""

    number: int
    suffix: str  # the two characters after the 6-character volume serial, e.g. "L8"
    a_kad_size: int
    u_kad_size: int = 32


GENERATIONS: dict[int, Generation] = {
    4: Generation(4, "L4", 12),
    5: Generation(5, "L5", 60),
    6: Generation(6, "L6", 60),
    7: Generation(7, "L7", 60),
    8: Generation(8, "L8", 60),
    9: Generation(9, "L9", 60),
}

_BARCODE = re.compile(r"^([A-Z0-9]{6})(L[4-9])$")


def generation(number: int) -> Generation:
    """The generation table entry; ValueError for a generation outside LTO-4..LTO-9."""
    try:
        return GENERATIONS[number]
    except KeyError:
        raise ValueError(f"unsupported LTO generation {number}") from None


def parse_barcode(barcode: str) -> Generation:
    """Check an LTO barcode (``ABC123L8``: 6 volume-serial characters + media suffix)."""
    match = _BARCODE.match(barcode)
    if match is None:
        raise ValueError(f"not an LTO-4..9 barcode: {barcode!r}")
    return GENERATIONS[int(match.group(2)[1])]


@dataclass(frozen=True)
class Kad:
    """Key Associated Data: unauthenticated (U-KAD) and authenticated (A-KAD) fields."""

    u_kad: bytes
    a_kad: bytes

    def check(self, gen: Generation) -> None:
        if len(self.u_kad) > gen.u_kad_size or len(self.a_kad) > gen.a_kad_size:
            raise ValueError(
                f"KAD {len(self.u_kad)}+{len(self.a_kad)} bytes exceeds LTO-{gen.number} "
                f"{gen.u_kad_size}+{gen.a_kad_size}"
            )
        if not self.u_kad and not self.a_kad:
            raise ValueError("empty KAD")


@dataclass(frozen=True)
class Record:
    """One record as it lies on tape.

    ``nonce`` and ``kad`` are None for a record written in the clear; ``payload`` is the
    AES-GCM ciphertext with its tag for an encrypted record, else the plain data.
    """

    payload: bytes
    kad: Kad | None = None
    nonce: bytes | None = None

    @property
    def encrypted(self) -> bool:
        return self.nonce is not None

    def to_json(self) -> str:
        def b64(b: bytes | None) -> str | None:
            return None if b is None else base64.b64encode(b).decode("ascii")

        return json.dumps(
            {
                "payload": b64(self.payload),
                "u_kad": b64(self.kad.u_kad) if self.kad else None,
                "a_kad": b64(self.kad.a_kad) if self.kad else None,
                "nonce": b64(self.nonce),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, line: str) -> Record:
        raw = json.loads(line)

        def unb64(v: object) -> bytes | None:
            return None if v is None else base64.b64decode(str(v), validate=True)

        payload = unb64(raw["payload"]) or b""
        u, a = unb64(raw["u_kad"]), unb64(raw["a_kad"])
        kad = Kad(u, a) if u is not None and a is not None else None
        return cls(payload, kad, unb64(raw["nonce"]))


class Media(Protocol):
    """Where a cartridge's records live."""

    def __len__(self) -> int: ...
    def read(self, index: int) -> Record: ...
    def truncate(self, count: int) -> None: ...
    def append(self, record: Record) -> None: ...


class MemoryMedia:
    """Records in a list."""

    def __init__(self) -> None:
        self._records: list[Record] = []

    def __len__(self) -> int:
        return len(self._records)

    def read(self, index: int) -> Record:
        return self._records[index]

    def truncate(self, count: int) -> None:
        del self._records[count:]

    def append(self, record: Record) -> None:
        self._records.append(record)


class FileMedia(MemoryMedia):
    """Records in a file, one JSON line each; survives the process (and the simulator)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        if path.exists():
            text = path.read_text(encoding="ascii")
            self._records = [Record.from_json(line) for line in text.splitlines() if line]

    def truncate(self, count: int) -> None:
        if count < len(self._records):
            super().truncate(count)
            self._rewrite()

    def append(self, record: Record) -> None:
        super().append(record)
        with self.path.open("a", encoding="ascii") as f:
            f.write(record.to_json() + "\n")

    def _rewrite(self) -> None:
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text("".join(r.to_json() + "\n" for r in self._records), encoding="ascii")
        tmp.replace(self.path)


class Cartridge:
    """An LTO cartridge: a barcode label, a generation and a medium holding records."""

    def __init__(self, barcode: str, media: Media | None = None) -> None:
        self.barcode = barcode
        self.generation = parse_barcode(barcode)
        self.media: Media = media if media is not None else MemoryMedia()

    def __repr__(self) -> str:
        return f"Cartridge({self.barcode!r}, records={len(self.media)})"

    @property
    def kad(self) -> Kad | None:
        """The KAD of the first encrypted record (what a drive reports on load); None if none."""
        for i in range(len(self.media)):
            record = self.media.read(i)
            if record.kad is not None:
                return record.kad
        return None

    @property
    def blank(self) -> bool:
        return len(self.media) == 0
