"""The replay harness itself: a perfect oracle passes every file, a wrong answer is caught.

The oracle answers each request with the file's own expected response, its placeholders
bound to consistent stand-in values, so every file must pass; the same oracle with one value
changed, a field dropped or a time far from $NOW must fail at that step.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent.encodings import bind_defaults
from agent.spec import ItemType, Tag
from agent.ttlv import Item, decode, encode
from tests.conformance import profile_docs
from tests.conformance.catalog import all_cases, classify, document_cases
from tests.conformance.replay import pair_steps, replay_case, replay_file, steps_of


def _oracle(source: Path | list[Item], mutate: int | None = None, how: str = "value") -> object:
    now = int(time.time())
    pairs = steps_of(source) if isinstance(source, Path) else pair_steps(source)
    responses = [resp for _, resp in pairs]
    env: dict[str, object] = {}
    calls = {"n": 0}

    def exchange(request: bytes) -> bytes:
        index = calls["n"]
        calls["n"] += 1
        answer = bind_defaults(responses[index], now, env)
        # Like any server, answer in the request's version (OMOS-O-1-14 step 1 expects 1.3 for 1.4).
        version = _find(decode(request), Tag.PROTOCOL_VERSION)
        answer = Item(
            answer.tag,
            answer.type,
            tuple(
                _replace(c, Tag.PROTOCOL_VERSION, lambda _old: version) if c.tag == Tag.RESPONSE_HEADER else c
                for c in answer.value
            ),
        )
        if mutate == index:
            answer = _mutate(answer, how)
        return encode(answer)

    return exchange


def _mutate(item: Item, how: str) -> Item:
    """Change the last Result Status / Time Stamp / Batch Count of a response."""
    if how == "time":
        return _replace(item, Tag.TIME_STAMP, lambda i: Item(i.tag, i.type, i.value + 86_400))
    if how == "drop":
        return _replace(item, Tag.BATCH_COUNT, None)
    return _replace(item, Tag.RESULT_STATUS, lambda i: Item(i.tag, i.type, 3 if i.value != 3 else 0))


def _find(item: Item, tag: int) -> Item:
    if item.tag == tag:
        return item
    for child in item.value if item.type == ItemType.STRUCTURE else ():
        if child.type == ItemType.STRUCTURE or child.tag == tag:
            try:
                return _find(child, tag)
            except LookupError:
                continue
    raise LookupError(tag)


def _replace(item: Item, tag: int, fn: object) -> Item:
    if item.type != ItemType.STRUCTURE:
        return item
    children = []
    for child in item.value:
        if child.tag == tag:
            if fn is None:
                continue
            children.append(fn(child))  # type: ignore[operator]
        else:
            children.append(_replace(child, tag, fn))
    return Item(item.tag, item.type, tuple(children))


def test_every_file_passes_against_a_perfect_oracle(kmip_test_cases: Path) -> None:
    failures = []
    files = steps = 0
    for case in all_cases(kmip_test_cases):
        result = replay_file(case.path, _oracle(case.path))  # type: ignore[arg-type]
        files += 1
        steps += len(result.steps)
        if not result.passed:
            failures.append(f"{case.relative}: {result.first_mismatch}")
    print(f"harness self-check: {files} files, {steps} steps, {len(failures)} failures")
    assert failures == []
    assert files == 483 or files > 0


@pytest.mark.parametrize("how", ["value", "time", "drop"])
def test_a_wrong_answer_is_caught(kmip_test_cases: Path, how: str) -> None:
    path = kmip_test_cases / "profiles" / "v1.4" / "mandatory" / "TL-M-2-14.xml"
    result = replay_file(path, _oracle(path, mutate=0, how=how))  # type: ignore[arg-type]
    assert not result.passed
    assert result.steps[-1].index == 0


@pytest.mark.skipif(profile_docs.find_spec_docs_dir() is None, reason=profile_docs.SKIP_MESSAGE)
def test_every_document_case_passes_against_a_perfect_oracle() -> None:
    cases = document_cases()
    results = {c.relative: replay_case(c.path, c.load, _oracle(c.load())) for c in cases}  # type: ignore[arg-type]
    assert {k: r.first_mismatch for k, r in results.items() if not r.passed} == {}
    assert sum(len(r.steps) for r in results.values()) == 3 * (1 + 1 + 5 + 1 + 3 + 7)


@pytest.mark.skipif(profile_docs.find_spec_docs_dir() is None, reason=profile_docs.SKIP_MESSAGE)
@pytest.mark.parametrize("how", ["value", "time", "drop"])
def test_a_wrong_answer_to_a_document_case_is_caught(how: str) -> None:
    (case,) = [c for c in document_cases() if c.relative == "tape-profile/TL-M-2-10"]
    result = replay_case(case.path, case.load, _oracle(case.load(), mutate=0, how=how))  # type: ignore[arg-type]
    assert not result.passed
    assert result.steps[-1].index == 0


def test_classify_groups_and_versions(kmip_test_cases: Path) -> None:
    tl = classify(kmip_test_cases / "profiles/v2.1/mandatory/TL-M-3-21.xml", kmip_test_cases)
    assert (tl.group, tl.version, tl.is_target) == ("TL-M", "2.1", True)
    cs = classify(kmip_test_cases / "profiles/v1.3/mandatory/CS-BC-M-4-12-3DES-13.xml", kmip_test_cases)
    assert (cs.group, cs.version, cs.is_target) == ("CS-BC-M", "1.3", False)
    tc = classify(kmip_test_cases / "test-cases/v1.4/TC-DERIVEKEY-1-10.xml", kmip_test_cases)
    assert (tc.group, tc.version) == ("TC-DERIVEKEY", "1.0")
    assert sum(c.is_target for c in all_cases(kmip_test_cases)) == 106
