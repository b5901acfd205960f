"""Every Request/Response Message of every OASIS test-case file through the typed model.

For each message (placeholders bound to stand-in values of their item type): Items ->
model (in the file's protocol version) -> Items must give the original tree exactly, no
batch item may keep an undecoded payload, and the TTLV bytes must decode to an equal model.
"""

from __future__ import annotations

from pathlib import Path

from agent import model, ttlv
from agent.encodings import bind_defaults
from agent.encodings import xml as kxml
from agent.errors import KmipError
from agent.spec import ItemType, Tag
from agent.ttlv import Item
from tests.conftest import find_test_case_files

NOW = 1_700_000_000


def _difference(a: Item, b: Item, path: str = "") -> str | None:
    here = f"{path}/{a.tag:06X}"
    if a.tag != b.tag or int(a.type) != int(b.type):
        return f"{here}: {a.tag:06X}/{int(a.type)} != {b.tag:06X}/{int(b.type)}"
    if a.type == ItemType.STRUCTURE:
        for x, y in zip(a.value, b.value):
            if found := _difference(x, y, here):
                return found
        if len(a.value) != len(b.value):
            return f"{here}: {len(a.value)} children != {len(b.value)}"
        return None
    if type(a.value) is not type(b.value) or a.value != b.value:
        return f"{here}: value differs"
    return None


def _check(item: Item) -> str | None:
    version = model.message_version(item)
    msg: model.RequestMessage | model.ResponseMessage
    if item.tag == Tag.REQUEST_MESSAGE:
        msg = model.from_item(item, model.RequestMessage, version)
    else:
        msg = model.from_item(item, model.ResponseMessage, version)
    batch_items: tuple[model.RequestBatchItem | model.ResponseBatchItem, ...] = msg.batch_items
    for index, batch_item in enumerate(batch_items):
        if batch_item.payload_error is not None:
            return f"batch item {index}: payload {batch_item.payload_error!r}"
    if found := _difference(item, model.to_item(msg, version)):
        return f"round trip: {found}"
    data = model.encode_message(msg)
    again = model.decode_request(data) if item.tag == Tag.REQUEST_MESSAGE else model.decode_response(data)
    if again != msg:
        return "TTLV bytes decode to a different model"
    return None


def test_every_message_converts_to_the_model_and_back(kmip_test_cases: Path) -> None:
    files = find_test_case_files()
    assert files
    failures: list[str] = []
    messages = 0
    for path in files:
        name = path.relative_to(kmip_test_cases)
        for index, raw in enumerate(kxml.load_test_case(path)):
            messages += 1
            item = bind_defaults(raw, NOW)
            try:
                reason = _check(item)
            except (KmipError, TypeError, ValueError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            if reason:
                failures.append(f"{name} message {index}: {reason}")
    print(f"\nOASIS corpus through the model: {len(files)} files, {messages} messages,", end=" ")
    print(f"{len(failures)} failures")
    for failure in failures[:60]:
        print("  " + failure)
    assert messages > len(files)
    assert not failures, f"{len(failures)} failures, first: {failures[0]}"


def test_a_tape_library_create_is_typed(kmip_test_cases: Path) -> None:
    path = kmip_test_cases / "profiles" / "v2.1" / "mandatory" / "TL-M-2-21.xml"
    request = bind_defaults(kxml.load_test_case(path)[0], NOW)
    msg = model.from_item(request, model.RequestMessage, (2, 1))
    create = msg.batch_items[0].request_payload
    assert isinstance(create, model.CreateRequest)
    names = [a.name for a in create.attributes]
    assert names[:3] == ["x-ID", "Alternative Name", "Name"]
    assert create.attributes[0].value == "TL-M-2-21"
    assert create.attributes[2].value == model.Name("AAAAAAA1A1AA12345678901234567")
    # the same request written in 1.4 uses a Template-Attribute and x- names
    as_14 = model.to_item(create, (1, 4))
    assert [c.tag for c in as_14.value] == [Tag.OBJECT_TYPE, Tag.TEMPLATE_ATTRIBUTE]
    assert model.from_item(as_14, model.CreateRequest, (1, 4)) == create
    assert isinstance(ttlv.encode(as_14), bytes)
