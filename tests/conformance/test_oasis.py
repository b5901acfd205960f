"""Every OASIS test-case file replayed against a live keyshelf-server over mutual TLS.

One pytest case per file. The files of the target groups of issue 3 must pass; the other
groups (cryptographic services, asymmetric keys, TC-* ...) are replayed and reported as
expected failures until their operations exist (CONFORMANCE.md lists their first mismatch).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from tests.conformance.catalog import CaseFile, all_cases
from tests.conformance.live import LiveServer, live_server
from tests.conformance.replay import replay_file
from tests.conftest import SKIP_MESSAGE, find_test_cases_dir

_ROOT = find_test_cases_dir()
_CASES = all_cases(_ROOT) if _ROOT is not None else []


@pytest.fixture(scope="module")
def server_for() -> Iterator[Callable[[str], LiveServer]]:
    """One fresh server per published set (see CaseFile.suite); the previous one is stopped."""
    current: dict[str, tuple[LiveServer, contextlib.ExitStack]] = {}

    def get(suite: str) -> LiveServer:
        if suite not in current:
            for _, stack in current.values():
                stack.close()
            current.clear()
            stack = contextlib.ExitStack()
            current[suite] = (stack.enter_context(live_server()), stack)
        return current[suite][0]

    try:
        yield get
    finally:
        for _, stack in current.values():
            stack.close()


def _param(case: CaseFile) -> object:
    marks = []
    if not case.is_target:
        marks.append(pytest.mark.xfail(reason=f"{case.group} is outside issue 3's target set", strict=False))
    return pytest.param(case, id=case.relative, marks=marks)


@pytest.mark.skipif(_ROOT is None, reason=SKIP_MESSAGE)
@pytest.mark.parametrize("case", [_param(c) for c in _CASES] or [pytest.param(None, id="no-cases")])
def test_oasis_file(case: CaseFile, server_for: Callable[[str], LiveServer]) -> None:
    exchange = server_for(case.suite).connect()
    try:
        result = replay_file(case.path, exchange)
    finally:
        exchange.close()
    assert result.passed, result.first_mismatch
    assert result.steps, "a file with no steps proves nothing"
