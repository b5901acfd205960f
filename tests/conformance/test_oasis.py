"""Every OASIS test-case file replayed against a live keyshelf-server over mutual TLS.

One pytest case per file. Every file must pass except those listed in
``expected_failures.txt`` (written by ``python -m tests.conformance --update-expected``):
files of groups whose operations keyshelf does not implement yet (cryptographic services,
asymmetric keys, ...), each with the first mismatch it had. A file of the target groups of
issue 3 (TL-M, SASED-M, SKLC-M/O, SKFF-M, OMOS-M/O, BL-M) may never be listed there.

The KMIP 1.0-1.2 TL-M and SASED-M cases printed in the Tape Library and SA-SED profile documents
(tests/conformance/profile_docs.py) are replayed the same way, one pytest case each, each
document's cases of one version in order on one fresh server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from tests.conformance import profile_docs
from tests.conformance.catalog import CaseFile, all_cases, document_cases, expected_failures
from tests.conformance.live import LiveServer, live_server
from tests.conformance.replay import replay_case, replay_file
from tests.conftest import SKIP_MESSAGE, find_test_cases_dir

_ROOT = find_test_cases_dir()
_CASES = all_cases(_ROOT) if _ROOT is not None else []
_EXPECTED = expected_failures()
_DOCS = profile_docs.find_spec_docs_dir()
_DOC_CASES = document_cases(_DOCS) if _DOCS is not None else []


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
    if case.relative in _EXPECTED:
        marks.append(
            pytest.mark.xfail(reason=f"not implemented yet: {_EXPECTED[case.relative]}", strict=False)
        )
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


def _doc_param(case: CaseFile) -> object:
    return pytest.param(case, id=case.relative)


@pytest.mark.skipif(_DOCS is None, reason=profile_docs.SKIP_MESSAGE)
@pytest.mark.parametrize(
    "case", [_doc_param(c) for c in _DOC_CASES] or [pytest.param(None, id="no-document-cases")]
)
def test_profile_document_case(case: CaseFile, server_for: Callable[[str], LiveServer]) -> None:
    exchange = server_for(case.suite).connect()
    try:
        result = replay_case(case.path, case.load, exchange)
    finally:
        exchange.close()
    assert result.passed, result.first_mismatch
    assert result.steps, "a case with no steps proves nothing"


def test_every_document_case_is_a_target() -> None:
    if _DOCS is None:
        pytest.skip(profile_docs.SKIP_MESSAGE)
    assert len(_DOC_CASES) == 18
    assert all(c.is_target and c.relative not in _EXPECTED for c in _DOC_CASES)


def test_no_target_file_is_an_expected_failure() -> None:
    targets = [c.relative for c in _CASES if c.is_target and c.relative in _EXPECTED]
    assert targets == []
