"""The drives the boot hook unlocks: a small interface, a simulated and a real implementation.

:class:`SimulatedSed` wraps ``simulators.sed.SelfEncryptingDrive``.

:class:`SedutilDrive` drives a real TCG Opal drive through the Drive Trust Alliance
``sedutil-cli`` (https://github.com/Drive-Trust-Alliance/sedutil). The argument forms used
are exactly sedutil-cli's own::

    sedutil-cli --query <device>                                  # status (Locked = Y/N)
    sedutil-cli --setLockingRange 0 RW <Admin1password> <device>  # unlock the global range
    sedutil-cli --setMBRDone on <Admin1password> <device>         # hide the shadow MBR (PBA)
    sedutil-cli --initialSetup <SIDpassword> <device>             # take ownership (SID + Admin1)
    sedutil-cli --setSIDPassword <SIDpassword> <newSIDpassword> <device>
    sedutil-cli --setAdmin1Pwd <Admin1password> <newAdmin1password> <device>

The password is the authentication key as 64 lowercase hex characters; sedutil-cli hashes
it (its default, no ``-n``) so the same string works from a sedutil PBA too. Exit status:
0 success; sedutil-cli returns the Opal method status on failure, of which 1
(NOT_AUTHORIZED) means a wrong key and 18 (0x12, AUTHORITY_LOCKED_OUT) the try limit;
anything else (or a timeout) is a device failure. Known limit of sedutil-cli: the password
is an argument, visible in the process table of the host while the command runs - run
the hook where no other user can list processes (initramfs), as sedutil's own PBA does.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Protocol

from simulators.sed import SedError, SedErrorCode, SelfEncryptingDrive

__all__ = [
    "OPAL_AUTHORITY_LOCKED_OUT",
    "OPAL_NOT_AUTHORIZED",
    "RotatableTarget",
    "SedutilDrive",
    "SimulatedSed",
    "Unlock",
    "UnlockTarget",
]

OPAL_NOT_AUTHORIZED = 0x01
OPAL_AUTHORITY_LOCKED_OUT = 0x12


class Unlock(Enum):
    OK = "ok"
    WRONG_KEY = "wrong-key"
    LOCKED_OUT = "locked-out"
    FAILED = "failed"  # the device or its tool failed (not a key problem)


class UnlockTarget(Protocol):
    @property
    def drive_id(self) -> str: ...

    def unlock(self, key: bytes) -> Unlock: ...


class RotatableTarget(UnlockTarget, Protocol):
    def change_key(self, old_key: bytes, new_key: bytes) -> Unlock: ...


_SED_RESULT = {
    SedErrorCode.NOT_AUTHORIZED: Unlock.WRONG_KEY,
    SedErrorCode.LOCKED_OUT: Unlock.LOCKED_OUT,
}


class SimulatedSed:
    def __init__(self, drive: SelfEncryptingDrive) -> None:
        self.drive = drive

    @property
    def drive_id(self) -> str:
        return self.drive.serial

    def unlock(self, key: bytes) -> Unlock:
        try:
            self.drive.unlock(key)
        except SedError as exc:
            return _SED_RESULT.get(exc.code, Unlock.FAILED)
        return Unlock.OK

    def change_key(self, old_key: bytes, new_key: bytes) -> Unlock:
        try:
            self.drive.change_key(old_key, new_key)
        except SedError as exc:
            return _SED_RESULT.get(exc.code, Unlock.FAILED)
        return Unlock.OK


Runner = Callable[[Sequence[str], float], subprocess.CompletedProcess[str]]


def _run(args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


def _status(code: int) -> Unlock:
    if code == 0:
        return Unlock.OK
    if code == OPAL_NOT_AUTHORIZED:
        return Unlock.WRONG_KEY
    if code == OPAL_AUTHORITY_LOCKED_OUT:
        return Unlock.LOCKED_OUT
    return Unlock.FAILED


class SedutilDrive:
    """An Opal drive reached through ``sedutil-cli``; ``runner`` is injectable for tests."""

    def __init__(
        self,
        device: str,
        drive_id: str | None = None,
        *,
        sedutil: str = "sedutil-cli",
        timeout: float = 30.0,
        runner: Runner = _run,
    ) -> None:
        self.device = device
        self._drive_id = drive_id or device
        self.sedutil = sedutil
        self.timeout = timeout
        self._runner = runner

    @property
    def drive_id(self) -> str:
        return self._drive_id

    def _call(self, *args: str) -> tuple[Unlock, str]:
        try:
            done = self._runner([self.sedutil, *args, self.device], self.timeout)
        except (OSError, subprocess.TimeoutExpired):
            return Unlock.FAILED, ""
        return _status(done.returncode), done.stdout

    @staticmethod
    def password(key: bytes) -> str:
        return key.hex()

    def query_locked(self) -> bool | None:
        """``--query``: True/False from the Locking feature's ``Locked = Y/N``; None if unknown."""
        status, out = self._call("--query")
        if status is not Unlock.OK:
            return None
        match = re.search(r"\bLocked\s*=\s*([YN])", out)
        return None if match is None else match.group(1) == "Y"

    def unlock(self, key: bytes) -> Unlock:
        pw = self.password(key)
        status, _ = self._call("--setLockingRange", "0", "RW", pw)
        if status is not Unlock.OK:
            return status
        status, _ = self._call("--setMBRDone", "on", pw)
        return status

    def take_ownership(self, key: bytes) -> Unlock:
        return self._call("--initialSetup", self.password(key))[0]

    def change_key(self, old_key: bytes, new_key: bytes) -> Unlock:
        """Admin1 first (it unlocks the drive), then SID. sedutil-cli has no single atomic
        command for both: after a cut between them Admin1 already has the new key (the drive
        unlocks) and the SID change is redone by the next rotation."""
        old, new = self.password(old_key), self.password(new_key)
        status, _ = self._call("--setAdmin1Pwd", old, new)
        if status is not Unlock.OK:
            return status
        return self._call("--setSIDPassword", old, new)[0]
