"""Shared fixtures: where the OASIS KMIP test cases live.

Tests read the official OASIS files from ``$KEYSHELF_TEST_CASES`` if set, else from
``../shared/kmip-test-cases`` beside the repository. They are never copied into the
repository. Where neither exists, every test that needs them is skipped with one message.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SKIP_MESSAGE = (
    "OASIS KMIP test cases not found: set KEYSHELF_TEST_CASES or place them at ../shared/kmip-test-cases"
)


def find_test_cases_dir() -> Path | None:
    env = os.environ.get("KEYSHELF_TEST_CASES")
    candidate = Path(env) if env else REPO.parent / "shared" / "kmip-test-cases"
    return candidate if candidate.is_dir() else None


def find_test_case_files() -> list[Path]:
    root = find_test_cases_dir()
    if root is None:
        return []
    return sorted(root.rglob("*.xml"))


@pytest.fixture(scope="session")
def kmip_test_cases() -> Path:
    root = find_test_cases_dir()
    if root is None:
        pytest.skip(SKIP_MESSAGE)
    return root


def _server_children() -> list[str]:
    """Server processes (keyshelf-server, PyKMIP's) that are still children of this test run."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        if ppid == me and ("keyshelf-server" in cmd or "pykmip_server" in cmd):
            found.append(f"{entry.name}: {cmd.strip()}")
    return found


@pytest.fixture(scope="session", autouse=True)
def no_leaked_servers() -> Iterator[None]:
    """Every server a test starts is stopped by the end of the run (a leak once left hundreds)."""
    yield
    if Path("/proc").is_dir():
        leaked = _server_children()
        assert leaked == [], f"server processes left running: {leaked}"


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """Every log record of the process, formatted as the server writes it (logsetup's JSON
    lines), every logger at DEBUG: the security tests grep it for key material."""
    from profiles.logsetup import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
