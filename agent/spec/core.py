"""Protocol versions and the TTLV Item Type: the two facts every other spec table refers to."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class Version(NamedTuple):
    """A KMIP protocol version (Protocol Version Major / Minor, SPEC-1.4 §6.1, SPEC-2.1 §7.1)."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


V1_0 = Version(1, 0)
V1_1 = Version(1, 1)
V1_2 = Version(1, 2)
V1_3 = Version(1, 3)
V1_4 = Version(1, 4)
V2_0 = Version(2, 0)
V2_1 = Version(2, 1)
ALL_VERSIONS: tuple[Version, ...] = (V1_0, V1_1, V1_2, V1_3, V1_4, V2_0, V2_1)
"""Every version this registry describes, oldest first."""


class ItemType(IntEnum):
    """TTLV item type byte (SPEC-1.4 §9.1.1.2 Table 286; SPEC-2.1 §11.23, Date Time Extended is 2.0+)."""

    STRUCTURE = 0x01
    INTEGER = 0x02
    LONG_INTEGER = 0x03
    BIG_INTEGER = 0x04
    ENUMERATION = 0x05
    BOOLEAN = 0x06
    TEXT_STRING = 0x07
    BYTE_STRING = 0x08
    DATE_TIME = 0x09
    INTERVAL = 0x0A
    DATE_TIME_EXTENDED = 0x0B
