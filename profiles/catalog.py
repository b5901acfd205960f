"""The KMIP server profiles keyshelf can claim, as data.

A profile says which operations and object types a conformant server supports and which
Profile Name value Query Profiles reports for it in each protocol version. The engine answers
Operation Not Supported for every operation outside the union of the claimed profiles
(SPEC-1.4 §11.1 Table 327 "Server does not support operation"), and Query reports exactly
that union (SPEC-1.4 §4.25, SPEC-2.1 §6.1.37).

Sources of the lists: the Tape Library profile (TLP §2.3), the SA-SED profile (SASED §2.3), the
Symmetric Key Lifecycle profile (SKLCP §2.3), the Baseline Server clauses of KMIP Profiles
1.1-1.4 (restated in the digest §3.3), and the OASIS mandatory test cases of Profiles 1.3-2.1
(TL-M, SASED-M, SKLC-M, SKFF-M, OMOS-M, BL-M): an operation a profile's test cases use is listed
for that profile. Operations beyond a profile's minimum are a permitted variation of the
conformance clauses ("additional Operations in Query", TLP §4.7.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent.spec import (
    V1_0,
    V1_1,
    V1_3,
    V1_4,
    V2_0,
    V2_1,
    ObjectType,
    Operation,
    Version,
)

OP = Operation
OT = ObjectType

SUPPORTED_VERSIONS: tuple[Version, ...] = (V2_1, V2_0, V1_4, Version(1, 3), Version(1, 2), V1_1, V1_0)
"""Every protocol version the engine speaks, in the server's order of preference (newest first,
SPEC-1.4 §4.26: "ranked in decreasing order of preference")."""

# The first protocol version that defines an operation (SPEC-1.x §9.1.3.2.27, SPEC-2.1 §11.36).
# Operations not listed here exist since 1.0.
OPERATION_SINCE: Mapping[Operation, Version] = {
    OP.DISCOVER_VERSIONS: V1_1,
    OP.LOG: V2_0,
    OP.ADJUST_ATTRIBUTE: V2_0,
    OP.SET_ATTRIBUTE: V2_0,
    OP.INTEROP: V2_0,
}

# Object types that exist only in some versions (SPEC-2.1 §11.34: Template is Reserved in 2.x).
OBJECT_TYPE_RANGE: Mapping[ObjectType, tuple[Version, Version | None]] = {
    OT.TEMPLATE: (V1_0, V1_4),
    OT.PGP_KEY: (Version(1, 2), None),
    OT.CERTIFICATE_REQUEST: (V2_0, None),
}

# Operations of the Baseline Server (Profiles 1.1 §5.2 ... 1.4; digest §3.3). Create and
# Register come with the object profiles below, except in 2.x where the BL-M test cases
# register objects of every type.
_BASELINE_OPS = frozenset(
    {
        OP.DISCOVER_VERSIONS,
        OP.QUERY,
        OP.LOCATE,
        OP.CHECK,
        OP.GET,
        OP.GET_ATTRIBUTES,
        OP.GET_ATTRIBUTE_LIST,
        OP.ADD_ATTRIBUTE,
        OP.MODIFY_ATTRIBUTE,
        OP.DELETE_ATTRIBUTE,
        OP.ACTIVATE,
        OP.REVOKE,
        OP.DESTROY,
        # 2.x attribute operations and the test-harness operations the BL-M-*-21 cases use
        OP.SET_ATTRIBUTE,
        OP.ADJUST_ATTRIBUTE,
        OP.REGISTER,
        OP.INTEROP,
        OP.LOG,
    }
)


@dataclass(frozen=True)
class Profile:
    """One server profile: what it requires of the server, and how Query names it."""

    key: str  # configuration name, e.g. "tape-library"
    title: str
    operations: frozenset[Operation]
    object_types: frozenset[ObjectType]
    # Profile Name enumeration value per protocol version (Query Profiles exists from 1.3,
    # SPEC-1.4 §9.1.3.2.42 / SPEC-2.1 §11.41); versions without an entry report nothing.
    profile_names: Mapping[Version, int]


def _names(v10: int | None, v13: int, v14: int, v2x: int) -> Mapping[Version, int]:
    """Profile Name values: 1.0, 1.1, 1.2 consecutive from ``v10`` (SPEC-1.4 §9.1.3.2.42),
    then the 1.3, 1.4 and 2.x (SPEC-2.1 §11.41) values."""
    names: dict[Version, int] = {V1_3: v13, V1_4: v14, V2_0: v2x, V2_1: v2x}
    if v10 is not None:
        names.update({V1_0: v10, V1_1: v10 + 1, Version(1, 2): v10 + 2})
    return names


PROFILES: Mapping[str, Profile] = {
    p.key: p
    for p in (
        Profile(
            key="baseline",
            title="Baseline Server",
            operations=_BASELINE_OPS,
            object_types=frozenset(
                {
                    OT.SYMMETRIC_KEY,
                    OT.SECRET_DATA,
                    OT.OPAQUE_OBJECT,
                    OT.PUBLIC_KEY,
                    OT.PRIVATE_KEY,
                    OT.CERTIFICATE,
                }
            ),
            # Baseline Server Basic KMIP v1.3 0x55, v1.4 0x79; 2.x Baseline Server 0x12B
            profile_names={**_names(None, 0x55, 0x79, 0x12B), Version(1, 2): 0x01},
        ),
        Profile(
            key="tape-library",
            title="Tape Library Server",
            # TLP §2.3 and the operations listed in TL-M-1 (Query response example)
            operations=_BASELINE_OPS | {OP.CREATE, OP.REGISTER},
            object_types=frozenset({OT.SYMMETRIC_KEY, OT.TEMPLATE}),
            profile_names=_names(0x0A, 0x5C, 0x80, 0x107),
        ),
        Profile(
            key="sa-sed",
            title="Storage Array with Self Encrypting Drive Server",
            # SASED §2.3: Register of Secret Data (Password) and, in 1.x, Template
            operations=_BASELINE_OPS | {OP.REGISTER},
            object_types=frozenset({OT.SECRET_DATA, OT.TEMPLATE}),
            profile_names=_names(0x40, 0x72, 0x96, 0x11D),
        ),
        Profile(
            key="symmetric-key-lifecycle",
            title="Symmetric Key Lifecycle Server",
            # SKLCP §2.3: Create of Symmetric Keys; the remaining lifecycle operations of the
            # issue (Re-key, Archive/Recover, leases, usage allocation) live here as a
            # permitted extension of the profile.
            operations=_BASELINE_OPS
            | {
                OP.CREATE,
                OP.RE_KEY,
                OP.ARCHIVE,
                OP.RECOVER,
                OP.OBTAIN_LEASE,
                OP.GET_USAGE_ALLOCATION,
            },
            object_types=frozenset({OT.SYMMETRIC_KEY}),
            profile_names=_names(0x10, 0x5E, 0x82, 0x109),
        ),
        Profile(
            key="symmetric-key-foundry",
            title="Symmetric Key Foundry Server",
            operations=_BASELINE_OPS | {OP.CREATE},
            object_types=frozenset({OT.SYMMETRIC_KEY}),
            profile_names=_names(0x28, 0x6A, 0x8E, 0x115),
        ),
        Profile(
            key="opaque-object-store",
            title="Opaque Managed Object Store Server",
            operations=_BASELINE_OPS | {OP.REGISTER},
            object_types=frozenset({OT.OPAQUE_OBJECT}),
            profile_names=_names(0x2E, 0x6C, 0x90, 0x117),
        ),
    )
}

DEFAULT_PROFILES: tuple[str, ...] = tuple(PROFILES)
"""Claimed when the configuration names none: all of them."""


def _fold(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


# Configuration may name a profile by key or by title; a few spellings of the SA-SED title exist.
_LOOKUP: dict[str, Profile] = {}
for _p in PROFILES.values():
    _LOOKUP[_fold(_p.key)] = _p
    _LOOKUP[_fold(_p.title)] = _p
_LOOKUP[_fold("Storage Array with Self Encrypting Drives Server")] = PROFILES["sa-sed"]
_LOOKUP[_fold("Storage Array with Self-Encrypting Drives Server")] = PROFILES["sa-sed"]
_LOOKUP[_fold("Opaque Object Store Server")] = PROFILES["opaque-object-store"]


def find_profile(name: str) -> Profile | None:
    """The profile a configuration name (key or title, any case/spacing) refers to."""
    return _LOOKUP.get(_fold(name))


# The order Query Operations lists operations in: the order of the TL-M-1 / SASED-M-1 response
# examples first, then the rest by value (the order itself is not normative).
_QUERY_ORDER: tuple[Operation, ...] = (
    OP.QUERY,
    OP.LOCATE,
    OP.DESTROY,
    OP.GET,
    OP.CREATE,
    OP.REGISTER,
    OP.GET_ATTRIBUTES,
    OP.GET_ATTRIBUTE_LIST,
    OP.ADD_ATTRIBUTE,
    OP.MODIFY_ATTRIBUTE,
    OP.DELETE_ATTRIBUTE,
    OP.ACTIVATE,
    OP.REVOKE,
    OP.CHECK,
)
_OBJECT_ORDER: tuple[ObjectType, ...] = (OT.SYMMETRIC_KEY, OT.SECRET_DATA, OT.TEMPLATE)


def operation_in_version(op: Operation, version: Version) -> bool:
    """True if ``op`` is defined in ``version`` (Operation enumeration tables)."""
    return OPERATION_SINCE.get(op, V1_0) <= version


def object_type_in_version(ot: ObjectType, version: Version) -> bool:
    """True if object type ``ot`` is defined in ``version``."""
    first, last = OBJECT_TYPE_RANGE.get(ot, (V1_0, None))
    return first <= version and (last is None or version <= last)


class Catalog:
    """The union of the claimed profiles: what this server supports, per version."""

    def __init__(self, claimed: Iterable[str] = DEFAULT_PROFILES) -> None:
        names = tuple(claimed)
        unknown = [n for n in names if find_profile(n) is None]
        if unknown:
            raise ValueError(f"unknown profile(s): {', '.join(unknown)}; known: {', '.join(PROFILES)}")
        if not names:
            raise ValueError("at least one profile must be claimed")
        found: dict[str, Profile] = {}
        for n in names:
            p = find_profile(n)
            assert p is not None
            found.setdefault(p.key, p)
        self.profiles: tuple[Profile, ...] = tuple(found.values())
        self._ops: frozenset[Operation] = frozenset().union(*(p.operations for p in self.profiles))
        self._types: frozenset[ObjectType] = frozenset().union(*(p.object_types for p in self.profiles))

    def supports_operation(self, op: Operation, version: Version) -> bool:
        """True if some claimed profile includes ``op`` and ``version`` defines it."""
        return op in self._ops and operation_in_version(op, version)

    def supports_object_type(self, ot: int, version: Version) -> bool:
        """True if some claimed profile handles objects of type ``ot`` in ``version``."""
        try:
            member = ObjectType(ot)
        except ValueError:
            return False
        return member in self._types and object_type_in_version(member, version)

    def operations(self, version: Version) -> list[Operation]:
        """Query Operations: the supported operations, most common first."""
        ops = [op for op in self._ops if operation_in_version(op, version)]
        head = [op for op in _QUERY_ORDER if op in ops]
        return head + sorted(op for op in ops if op not in head)

    def object_types(self, version: Version) -> list[ObjectType]:
        """Query Objects: the supported object types."""
        types = [t for t in self._types if object_type_in_version(t, version)]
        head = [t for t in _OBJECT_ORDER if t in types]
        return head + sorted(t for t in types if t not in head)

    def profile_names(self, version: Version) -> list[int]:
        """Query Profiles: the Profile Name values of the claimed profiles. A 1.x server reports
        the profile for every 1.x version up to the request's (the 1.x enumeration names each
        version, TC-Q-PROF-1-14); 2.x has one value per profile (the 1.x values are Reserved)."""
        out: list[int] = []
        for p in self.profiles:
            for v, value in sorted(p.profile_names.items()):
                same_era = (v.major >= 2) == (version.major >= 2)
                if same_era and v <= version and value not in out:
                    out.append(value)
        return out
