"""Rotation of SED authentication keys, safe across a power cut at any point.

Per drive, in this order:

1. register the new key on the server (the server now holds old and new);
2. change the drive's key from old to new (atomic on the drive);
3. destroy the old key(s) on the server.

A cut after 1 leaves the drive on the old key, a cut after 2 on the new one; in both cases
the server still holds the key the drive uses, and boot-unlock tries every live key newest
first, so the drive unlocks (reported ``stale`` when it took the older key). Running the
rotation again finishes the job: it finds the key that works, moves the drive to a fresh
one and retires the rest.

``checkpoint(step, drive_id)`` is called after each step; a test raises from it to cut the
power at an exact point.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from firmware_hooks.devices import RotatableTarget, Unlock
from firmware_hooks.sources import KeySourceError, SedKeySource

__all__ = ["RotationReport", "rotate_auth_keys"]


@dataclass
class RotationReport:
    rotated: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # drive id -> reason
    retired: int = 0


def rotate_auth_keys(
    targets: Sequence[RotatableTarget],
    source: SedKeySource,
    *,
    group: str,
    token_bytes: Callable[[int], bytes] = secrets.token_bytes,
    checkpoint: Callable[[str, str], None] = lambda step, drive_id: None,
) -> RotationReport:
    report = RotationReport()
    for target in targets:
        drive_id = target.drive_id
        try:
            current = source.auth_keys(group, drive_id)
            new_key = token_bytes(32)
            new_uid = source.register_auth_key(group, drive_id, new_key)
        except KeySourceError as exc:
            report.failed[drive_id] = exc.reason
            continue
        checkpoint("registered", drive_id)
        result = Unlock.WRONG_KEY
        for old in current:
            result = target.change_key(old.key, new_key)
            if result is not Unlock.WRONG_KEY:
                break
        if result is not Unlock.OK:
            # The drive kept its old key, which the server still holds; the new one is
            # unused and is retired by the next successful rotation.
            report.failed[drive_id] = result.value
            continue
        checkpoint("changed", drive_id)
        try:
            report.retired += source.retire_auth_keys(group, drive_id, new_uid)
        except KeySourceError as exc:
            report.failed[drive_id] = f"retire: {exc.reason}"
            continue
        checkpoint("retired", drive_id)
        report.rotated.append(drive_id)
    return report
