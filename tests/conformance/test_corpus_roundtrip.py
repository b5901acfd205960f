"""Every message of every OASIS KMIP test-case file survives the XML, JSON and TTLV encodings.

For each Request/Response Message of each file: XML -> Items; Items -> XML -> Items (equal,
placeholders kept as symbols); Items -> JSON -> Items (equal, symbols kept); then, with every
placeholder bound to a concrete value of its item type, Items -> TTLV -> Items, Items -> JSON
-> Items and Items -> XML -> Items (equal, no symbols). Equality is strict: the Python type of
every leaf value must match too (a Boolean stays a bool, a symbol stays a Symbol).
"""

from __future__ import annotations

from pathlib import Path

from agent import ttlv
from agent.encodings import Symbol, bind_defaults, iter_symbols
from agent.encodings import json as kjson
from agent.encodings import xml as kxml
from agent.spec import ItemType, Tag
from agent.ttlv import Item
from tests.conftest import find_test_case_files

NOW = 1_700_000_000  # any fixed instant: $NOW-3600 binds to NOW - 3600


def _difference(a: Item, b: Item, path: str = "") -> str | None:
    """Where two trees differ (tag, type, value or value's Python type), or None if equal."""
    here = f"{path}/{a.tag:06X}"
    if a.tag != b.tag or int(a.type) != int(b.type):
        return f"{here}: {a.tag:06X}/{a.type!r} != {b.tag:06X}/{b.type!r}"
    if a.type == ItemType.STRUCTURE:
        if len(a.value) != len(b.value):
            return f"{here}: {len(a.value)} children != {len(b.value)}"
        for x, y in zip(a.value, b.value):
            found = _difference(x, y, here)
            if found:
                return found
        return None
    if type(a.value) is not type(b.value) or a.value != b.value:
        return f"{here}: {a.value!r} != {b.value!r}"
    return None


def _check_message(item: Item) -> str | None:
    """The first failed round trip of one message, or None."""
    if item.tag not in (Tag.REQUEST_MESSAGE, Tag.RESPONSE_MESSAGE):
        return f"top-level item {item.tag:06X} is no Request/Response Message"
    back = kxml.loads(kxml.dumps(item), symbols=True)
    if len(back) != 1:
        return f"XML round trip gave {len(back)} items"
    if found := _difference(item, back[0]):
        return f"XML round trip: {found}"
    if found := _difference(item, kjson.loads(kjson.dumps(item), symbols=True)):
        return f"JSON round trip: {found}"
    bound = bind_defaults(item, NOW)
    if any(True for _ in iter_symbols(bound)):
        return "symbols left after bind_defaults"
    if found := _difference(bound, ttlv.decode(ttlv.encode(bound))):
        return f"TTLV round trip: {found}"
    if found := _difference(bound, kjson.loads(kjson.dumps(bound))):
        return f"JSON round trip (bound): {found}"
    if found := _difference(bound, kxml.loads(kxml.dumps(bound))[0]):
        return f"XML round trip (bound): {found}"
    return None


def test_every_message_of_every_file_round_trips(kmip_test_cases: Path) -> None:
    files = find_test_case_files()
    assert files, "the test-case folder holds no XML files"
    failures: list[str] = []
    messages = symbols = 0
    for path in files:
        name = path.relative_to(kmip_test_cases)
        try:
            items = kxml.load_test_case(path)
        except ValueError as exc:
            failures.append(f"{name}: does not load: {exc}")
            continue
        if not items or len(items) % 2:
            failures.append(f"{name}: {len(items)} messages, expected request/response pairs")
        for index, item in enumerate(items):
            messages += 1
            symbols += sum(1 for _ in iter_symbols(item))
            try:
                reason = _check_message(item)
            except (ValueError, TypeError, ttlv.DecodeError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            if reason:
                failures.append(f"{name} message {index}: {reason}")
    print(
        f"\nOASIS corpus: {len(files)} files, {messages} messages, {symbols} placeholders, "
        f"{len(failures)} failures"
    )
    for failure in failures[:10]:
        print("  " + failure)
    assert not failures, f"{len(failures)} failures, first: {failures[0]}"
    assert messages > len(files)


def test_the_documented_defects_are_tolerated(kmip_test_cases: Path) -> None:
    # SOURCES.md: TC-ECDSA-SIGN-1-14 closes </KMIP> twice; the strict reader refuses it.
    path = kmip_test_cases / "test-cases" / "v1.4" / "TC-ECDSA-SIGN-1-14.xml"
    text = path.read_text(encoding="utf-8")
    try:
        kxml.loads(text)
    except ValueError:
        pass
    else:
        raise AssertionError("the strict reader accepted a duplicate </KMIP>")
    items = kxml.load_test_case(path)
    assert [item.tag for item in items[:2]] == [Tag.REQUEST_MESSAGE, Tag.RESPONSE_MESSAGE]
    assert len(items) == text.count("<RequestMessage>") + text.count("<ResponseMessage>")


def test_placeholders_are_kept_as_symbols(kmip_test_cases: Path) -> None:
    path = kmip_test_cases / "test-cases" / "v1.4" / "TC-ECDSA-SIGN-1-14.xml"
    found = {symbol.text for item in kxml.load_test_case(path) for _, symbol in iter_symbols(item)}
    assert {"$NOW", "$NOW-3600", "$UNIQUE_IDENTIFIER_0"} <= found
    assert all(isinstance(Symbol(text), Symbol) for text in found)
