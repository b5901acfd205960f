"""The boot-unlock hook: at array boot, fetch every drive's authentication key and unlock it.

- In parallel (a thread pool: the agent's blocking facade does the network I/O).
- With a deadline for the whole boot: a drive not done by then is reported TIMEOUT and the
  boot goes on with the others.
- With retries (exponential backoff) and failover: the servers are tried in order, and the
  first one that answers becomes the preferred one for the drives that follow, so a dead
  primary costs one failed connection per worker, not one per drive.
- Per drive: every live key the server holds for it is tried, newest first (two exist only
  after an interrupted rotation, see ``firmware_hooks.rotate``). A drive whose key is missing
  or destroyed stays locked and is reported; the rest still come up.

Time and sleeping are parameters (tests pass fakes); key material is never logged.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from enum import Enum

from firmware_hooks.devices import Unlock, UnlockTarget
from firmware_hooks.sources import (
    FetchedKey,
    KeyDestroyed,
    KeyNotFound,
    KeySourceError,
    SedKeySource,
    ServerUnavailable,
)

__all__ = ["BootReport", "DriveOutcome", "DriveReport", "Failover", "boot_unlock"]


class DriveOutcome(Enum):
    UNLOCKED = "unlocked"
    KEY_MISSING = "key-missing"
    KEY_DESTROYED = "key-destroyed"
    WRONG_KEY = "wrong-key"  # the server's keys did not open the drive
    LOCKED_OUT = "locked-out"
    SERVER_UNAVAILABLE = "server-unavailable"
    DEVICE_ERROR = "device-error"
    TIMEOUT = "timeout"


@dataclass
class DriveReport:
    drive_id: str
    outcome: DriveOutcome
    server: str | None = None  # which key server answered
    attempts: int = 0  # fetch attempts (1 = first try)
    candidates: int = 0  # keys the server held for the drive
    stale: bool = False  # opened by an older key: an interrupted rotation to finish

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["outcome"] = self.outcome.value
        return d


@dataclass
class BootReport:
    drives: list[DriveReport]
    elapsed: float
    servers_used: dict[str, int] = field(default_factory=dict)

    @property
    def unlocked(self) -> list[str]:
        return [d.drive_id for d in self.drives if d.outcome is DriveOutcome.UNLOCKED]

    @property
    def failed(self) -> list[DriveReport]:
        return [d for d in self.drives if d.outcome is not DriveOutcome.UNLOCKED]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> str:
        return json.dumps(
            {
                "unlocked": len(self.unlocked),
                "failed": len(self.failed),
                "elapsed_s": round(self.elapsed, 3),
                "servers_used": self.servers_used,
                "drives": [d.to_dict() for d in self.drives],
            },
            indent=2,
        )


class Failover:
    """An ordered list of key sources with retry, backoff and a sticky preferred server."""

    def __init__(
        self,
        sources: Sequence[SedKeySource],
        *,
        retries: int = 3,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not sources:
            raise ValueError("at least one key source")
        self.sources = list(sources)
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._preferred = 0
        self._lock = threading.Lock()

    def auth_keys(self, group: str, drive_id: str, deadline: float) -> tuple[list[FetchedKey], str, int]:
        """(keys, server name, attempts); ServerUnavailable when every server failed every round."""
        n = len(self.sources)
        attempts = 0
        for round_ in range(1 + self.retries):
            with self._lock:
                start = self._preferred
            for offset in range(n):
                if self._clock() >= deadline:
                    raise TimeoutError(drive_id)
                index = (start + offset) % n
                source = self.sources[index]
                attempts += 1
                try:
                    keys = source.auth_keys(group, drive_id)
                except ServerUnavailable:
                    continue
                except KeySourceError as exc:
                    exc.server = source.name
                    raise
                if index != start:
                    with self._lock:
                        self._preferred = index
                return keys, source.name, attempts
            if round_ < self.retries:
                pause = min(self.backoff * 2**round_, max(0.0, deadline - self._clock()))
                self._sleep(pause)
        raise ServerUnavailable(f"{drive_id}: no key server answered")


def _unlock_one(
    target: UnlockTarget, failover: Failover, group: str, deadline: float, cancelled: threading.Event
) -> DriveReport:
    report = DriveReport(target.drive_id, DriveOutcome.SERVER_UNAVAILABLE)
    try:
        keys, report.server, report.attempts = failover.auth_keys(group, target.drive_id, deadline)
    except TimeoutError:
        report.outcome = DriveOutcome.TIMEOUT
        return report
    except KeyNotFound as exc:
        report.outcome, report.server = DriveOutcome.KEY_MISSING, exc.server
        return report
    except KeyDestroyed as exc:
        report.outcome, report.server = DriveOutcome.KEY_DESTROYED, exc.server
        return report
    except ServerUnavailable:
        return report
    report.candidates = len(keys)
    if not keys:
        report.outcome = DriveOutcome.KEY_MISSING
        return report
    report.outcome = DriveOutcome.WRONG_KEY
    for i, key in enumerate(keys):
        if cancelled.is_set():
            report.outcome = DriveOutcome.TIMEOUT
            return report
        result = target.unlock(key.key)
        if result is Unlock.OK:
            report.outcome, report.stale = DriveOutcome.UNLOCKED, i > 0
            return report
        if result is Unlock.LOCKED_OUT:
            report.outcome = DriveOutcome.LOCKED_OUT
            return report
        if result is Unlock.FAILED:
            report.outcome = DriveOutcome.DEVICE_ERROR
            return report
    return report


def boot_unlock(
    targets: Sequence[UnlockTarget],
    sources: Sequence[SedKeySource] | Failover,
    *,
    group: str,
    deadline: float = 60.0,
    retries: int = 3,
    backoff: float = 0.2,
    workers: int = 16,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> BootReport:
    """Unlock every target; one DriveReport per target, in the targets' order."""
    start = clock()
    end = start + deadline
    failover = (
        sources
        if isinstance(sources, Failover)
        else Failover(sources, retries=retries, backoff=backoff, sleep=sleep, clock=clock)
    )
    cancelled = threading.Event()
    reports: list[DriveReport | None] = [None] * len(targets)
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets))), thread_name_prefix="unlock")
    try:
        futures: dict[Future[DriveReport], int] = {
            pool.submit(_unlock_one, t, failover, group, end, cancelled): i for i, t in enumerate(targets)
        }
        pending: set[Future[DriveReport]] = set(futures)
        while pending:
            remaining = end - clock()
            if remaining <= 0:
                break
            _, pending = wait(pending, timeout=remaining, return_when=FIRST_EXCEPTION)
    finally:
        cancelled.set()
        pool.shutdown(wait=False, cancel_futures=True)
    for f, i in futures.items():
        if f.done() and not f.cancelled():
            exc = f.exception()
            reports[i] = DriveReport(targets[i].drive_id, DriveOutcome.DEVICE_ERROR) if exc else f.result()
    final = [
        r if r is not None else DriveReport(targets[i].drive_id, DriveOutcome.TIMEOUT)
        for i, r in enumerate(reports)
    ]
    used: dict[str, int] = {}
    for r in final:
        if r.outcome is DriveOutcome.UNLOCKED and r.server:
            used[r.server] = used.get(r.server, 0) + 1
    return BootReport(final, clock() - start, used)
