"""Shared fixtures: where the OASIS KMIP test cases live.

Tests read the official OASIS files from ``$KEYSHELF_TEST_CASES`` if set, else from
``../shared/kmip-test-cases`` beside the repository. They are never copied into the
repository. Where neither exists, every test that needs them is skipped with one message.
"""

from __future__ import annotations

import os
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
