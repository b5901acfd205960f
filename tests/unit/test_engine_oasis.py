"""The OASIS profile test cases replayed against the engine directly (no transport).

Files of one protocol version share one engine, in test-case order (TL-M-3 reads the key TL-M-2
created). The comparison is the conformance harness's matcher (tests/conformance/replay.py)
with the variations this engine takes on top of the harness's list:

* Key Material and Digest Value of server-generated keys: the engine's injected random source
  returns 0x2A bytes, which is what the files show for tape keys, but not for the SKFF keys;
* Random Number Generator: the engine reports the RNG it used (os.urandom, "Unspecified"),
  not the ANSI X9.31 example of the files; the attribute is dropped from expected answers.

Files with a known error of their own are listed in KNOWN_FILE_ERRORS.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.spec import ItemType, ResultReason, Tag
from agent.ttlv import Item, decode, encode
from profiles.engine import Engine, EngineConfig
from profiles.store import open_store
from tests.conftest import find_test_cases_dir

replay = pytest.importorskip("tests.conformance.replay")

PROFILES = ("TL-M", "SASED-M", "SKLC-M", "SKLC-O", "SKFF-M", "OMOS-M", "OMOS-O", "BL-M")
VERSIONS = ("v1.3", "v1.4", "v2.0", "v2.1")
# OMOS-O-1-14 answers a 1.4 request with Protocol Version 1.3 in its second step.
KNOWN_FILE_ERRORS = {"OMOS-O-1-14.xml"}


def _order(p: Path) -> tuple[str, int]:
    m = re.match(r"([A-Z]+-[MO])-(\d+)-", p.name)
    return (m.group(1), int(m.group(2))) if m else (p.name, 0)


def _files(version: str) -> list[Path]:
    root = find_test_cases_dir()
    if root is None:
        return []
    base = root / "profiles" / version
    found = {
        f.name: f
        for d in ("mandatory", "optional")
        for f in sorted((base / d).glob("*.xml"))
        if f.name.startswith(tuple(p + "-" for p in PROFILES))
    }
    return sorted(found.values(), key=_order)


def _drop_rng(item: Item) -> Item:
    """Expected answers without the Random Number Generator attribute (1.x and 2.x forms)."""
    if item.type != ItemType.STRUCTURE:
        return item
    kept = []
    for c in item.value:
        if c.tag == Tag.RANDOM_NUMBER_GENERATOR:
            continue
        if c.tag == Tag.ATTRIBUTE and c.type == ItemType.STRUCTURE:
            names = [x.value for x in c.value if x.tag == Tag.ATTRIBUTE_NAME]
            if names == ["Random Number Generator"]:
                continue
        kept.append(_drop_rng(c))
    return Item(item.tag, item.type, tuple(kept))


def _run_version(version: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str | None]]:
    monkeypatch.setattr(
        replay, "FREE_VALUES", replay.FREE_VALUES | {Tag.KEY_MATERIAL, Tag.DIGEST_VALUE}, raising=True
    )
    engine = Engine(EngineConfig(), open_store("memory:"), random=lambda n: b"\x2a" * n)
    for path in _files(version):
        bindings = replay.Bindings(time.time)
        problem: str | None = None
        for index, (req, expected) in enumerate(replay.steps_of(path)):
            answer = decode(engine.handle(encode(replay.bind_request(req, bindings)), "client-a"))
            try:
                replay.Matcher(bindings).item(_drop_rng(expected), answer, "")
            except replay.Mismatch as exc:
                problem = f"step {index}: {exc}"
                break
        yield path.name, problem


@pytest.mark.parametrize("version", VERSIONS)
def test_oasis_profile_cases(version: str, monkeypatch: pytest.MonkeyPatch, kmip_test_cases: Path) -> None:
    del kmip_test_cases  # skips when the files are absent
    results = dict(_run_version(version, monkeypatch))
    assert results, f"no test-case files for {version}"
    failures = {n: p for n, p in results.items() if p is not None and n not in KNOWN_FILE_ERRORS}
    assert failures == {}
    # the tape and SED cases are the point of the server: they must all be there and pass
    assert {n for n in results if n.startswith(("TL-M-", "SASED-M-"))} >= {
        f"{p}-{k}-{version[1]}{version[3]}.xml" for p in ("TL-M", "SASED-M") for k in (1, 2, 3)
    }


_SAMPLES: dict[ItemType, object] = {
    ItemType.INTEGER: 5,
    ItemType.LONG_INTEGER: 2**40,
    ItemType.ENUMERATION: 0x7FFFFFFF,
    ItemType.BOOLEAN: True,
    ItemType.TEXT_STRING: "x",
    ItemType.BYTE_STRING: b"\x01",
    ItemType.DATE_TIME: 0,
    ItemType.INTERVAL: 1,
    ItemType.STRUCTURE: (),
}


def _mutate(rng: random.Random, item: Item, depth: int = 0) -> Item:
    """Damage one field somewhere below ``item``: replace its type/value, drop or repeat it."""
    if item.type == ItemType.STRUCTURE and item.value:
        kids = list(item.value)
        k = rng.randrange(len(kids))
        r = rng.random()
        if r < 0.15 and depth > 2:
            del kids[k]
        elif r < 0.25 and depth > 2:
            kids.insert(k, kids[k])
        else:
            kids[k] = _mutate(rng, kids[k], depth + 1)
        return Item(item.tag, item.type, tuple(kids))
    kind = rng.choice(list(_SAMPLES))
    return Item(item.tag, kind, _SAMPLES[kind])


@pytest.mark.parametrize("version", VERSIONS)
def test_damaged_requests_never_give_general_failure(version: str, kmip_test_cases: Path) -> None:
    """Any well-formed TTLV request gets a Result Reason from the spec, never General Failure
    (which would mean an unhandled exception inside a handler)."""
    del kmip_test_cases
    rng = random.Random(version)
    engine = Engine(EngineConfig(), open_store("memory:"), random=lambda n: b"\x2a" * n)
    general = sent = 0
    for path in _files(version):
        if not path.name.startswith(("TL-M", "SASED-M", "SKLC", "BL-M")):
            continue
        bindings = replay.Bindings(time.time)
        for req, expected in replay.steps_of(path):
            bound = replay.bind_request(req, bindings)
            answer = decode(engine.handle(encode(bound), "client-a"))
            with contextlib.suppress(replay.Mismatch):
                replay.Matcher(bindings).item(expected, answer, "")
            for _ in range(10):
                damaged = _mutate(rng, _mutate(rng, bound))
                try:
                    data = encode(damaged)
                except ValueError:
                    continue
                sent += 1
                general += _count_general_failures(decode(engine.handle(data, "client-a")))
    assert sent > 100
    assert general == 0


def _count_general_failures(item: Item) -> int:
    if item.tag == Tag.RESULT_REASON and item.value == ResultReason.GENERAL_FAILURE:
        return 1
    if item.type == ItemType.STRUCTURE:
        return sum(_count_general_failures(c) for c in item.value)
    return 0
