"""Rotation of SED authentication keys, safe across a power cut at any point.

The server side of a rotation is the agent's (``agent.sed.SedKeys``, reached through the key
source); this hook adds the drive steps in between. Per drive, in this order:

1. fetch the drive's live keys, newest first (more than one after an interrupted rotation);
2. register the new key on the server, linked to the newest current key (Link Replaced
   Object on the new key, Replacement Object on the old, SPEC-1.4 §3.35): the server now
   holds old and new - ``source.register_auth_key(..., replaces=uid)``;
3. change the drive's key from old to new (atomic on the drive), trying each live key in
   turn: after an interrupted rotation the drive may still be on an older one;
4. retire the other keys on the server (``source.retire_auth_keys``).

A cut after 2 leaves the drive on the old key, a cut after 3 on the new one; in both cases
the server still holds the key the drive uses, and boot-unlock tries every live key newest
first, so the drive unlocks (reported ``stale`` when it took the older key). Running the
rotation again finishes the job: it finds the key that works, moves the drive to a fresh
one and retires the rest. A drive that refuses every key keeps its own and the new key is
left unused on the server (retired by the next successful rotation).

``checkpoint(step, drive_id)`` is called after steps 2, 3 and 4 ("registered", "changed",
"retired"); a test raises from it to cut the power at an exact point.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from firmware_hooks.devices import RotatableTarget, Unlock
from firmware_hooks.sources import KeySourceError, SedKeySource

__all__ = ["DriveRotation", "RotationReport", "rotate_auth_keys"]

ROTATED = "rotated"


@dataclass
class DriveRotation:
    """What happened to one drive. ``outcome`` is ``"rotated"`` or the reason it was not:
    a key-source reason ("not-found", "destroyed", "server-unavailable", "refused"), a drive
    answer ("wrong-key", "locked-out", "failed"), or "retire: <reason>" (the drive already
    holds the new key; the old one is still on the server)."""

    drive_id: str
    outcome: str
    step: str = ""  # last step done: "", "registered", "changed", "retired"
    server: str | None = None
    new_uid: str | None = None
    replaced: str | None = None  # the key the new one replaces (Link Replaced Object)
    candidates: int = 0  # live keys the server held for the drive
    stale: bool = False  # the drive was on an older key: an interrupted rotation finished
    retired: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == ROTATED


@dataclass
class RotationReport:
    drives: list[DriveRotation] = field(default_factory=list)

    @property
    def rotated(self) -> list[str]:
        return [d.drive_id for d in self.drives if d.ok]

    @property
    def failed(self) -> dict[str, str]:
        """drive id -> reason, for every drive not rotated."""
        return {d.drive_id: d.outcome for d in self.drives if not d.ok}

    @property
    def retired(self) -> int:
        return sum(d.retired for d in self.drives)

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.drives)

    def to_json(self) -> str:
        return json.dumps(
            {
                "rotated": len(self.rotated),
                "failed": len(self.failed),
                "retired": self.retired,
                "drives": [asdict(d) for d in self.drives],
            },
            indent=2,
        )


def _rotate_one(
    target: RotatableTarget,
    source: SedKeySource,
    group: str,
    token_bytes: Callable[[int], bytes],
    checkpoint: Callable[[str, str], None],
) -> DriveRotation:
    drive_id = target.drive_id
    done = DriveRotation(drive_id, "not-found", server=source.name)
    try:
        current = source.auth_keys(group, drive_id)
        if not current:
            return done
        done.candidates = len(current)
        new_key = token_bytes(32)
        done.replaced = current[0].uid
        done.new_uid = source.register_auth_key(group, drive_id, new_key, replaces=done.replaced)
    except KeySourceError as exc:
        done.outcome = exc.reason
        return done
    done.step = "registered"
    checkpoint(done.step, drive_id)
    result = Unlock.WRONG_KEY
    for i, old in enumerate(current):
        result = target.change_key(old.key, new_key)
        if result is not Unlock.WRONG_KEY:
            done.stale = i > 0
            break
    if result is not Unlock.OK:
        done.outcome = result.value
        return done
    done.step = "changed"
    checkpoint(done.step, drive_id)
    try:
        done.retired = source.retire_auth_keys(group, drive_id, done.new_uid)
    except KeySourceError as exc:
        done.outcome = f"retire: {exc.reason}"
        return done
    done.step = "retired"
    checkpoint(done.step, drive_id)
    done.outcome = ROTATED
    return done


def rotate_auth_keys(
    targets: Sequence[RotatableTarget],
    source: SedKeySource,
    *,
    group: str,
    token_bytes: Callable[[int], bytes] = secrets.token_bytes,
    checkpoint: Callable[[str, str], None] = lambda step, drive_id: None,
) -> RotationReport:
    """Rotate every target's key, one drive after the other; one DriveRotation per target."""
    report = RotationReport()
    for target in targets:
        report.drives.append(_rotate_one(target, source, group, token_bytes, checkpoint))
    return report
