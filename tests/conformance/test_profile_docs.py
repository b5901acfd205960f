"""The extractor of the 1.0-1.2 test cases printed in the Tape Library and SA-SED profile documents.

A synthetic table (written here, not OASIS text) pins the parsing rules; the real documents,
read from ../shared/kmip-spec-docs, give 18 cases with the counts, operations and versions the
documents print.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.encodings import Symbol
from agent.spec import ItemType, Operation, Tag
from agent.ttlv import Item
from tests.conformance import profile_docs
from tests.conformance.catalog import document_cases
from tests.conformance.profile_docs import DocumentCase, all_document_cases, parse_document

NBSP = "\xa0"


def _row(number: str, text: str) -> str:
    return f"│{number:<6}│{text:<79}│"


SYNTHETIC = "\n".join(
    [
        "3.1.1 XX-M-1-10 - Example. 11",  # table of contents: ignored
        "3      Test Cases",
        "3.1 Mandatory Test Cases KMIP v1.0",
        "3.1.1 XX-M-1-10 - Example",
        "",
        "Some prose with a number: 1. not a heading",
        "┌──────┬──────┐",
        _row("", "# TIME 0"),
        _row("", ""),
        _row("0001", "<RequestMessage>"),
        _row("0002", "  <RequestHeader>"),
        _row("0003", "    <ProtocolVersion>"),
        _row("0004", '      <ProtocolVersionMajor type="Integer" value="1"/>'),
        _row("0005", '      <ProtocolVersionMinor type="Integer" value="0"/>'),
        _row("0006", "    </ProtocolVersion>"),
        _row("0007", '    <BatchCount type="Integer" value="1"/>'),
        _row("0008", "  </RequestHeader>"),
        _row("0009", "  <BatchItem>"),
        _row("0010", '    <Operation type="Enumeration" value="Get"/>'),
        _row("0011", "    <RequestPayload>"),
        _row("", f'      <UniqueIdentifier type="TextString"{NBSP * 20}value='),
        _row("0012", '"$UNIQUE_IDENTIFIER_0"/>'),
        _row("0013", "    </RequestPayload>"),
        _row("0014", "  </BatchItem>"),
        _row("0015", "</RequestMessage>"),
        "├──────┼──────┤",
        _row("0016", "<ResponseMessage>"),
        _row("0017", "  <ResponseHeader>"),
        _row("0018", "    <ProtocolVersion>"),
        _row("0019", '      <ProtocolVersionMajor type="Integer" value="1"/>'),
        _row("0020", '      <ProtocolVersionMinor type="Integer" value="0"/>'),
        _row("0021", "    </ProtocolVersion>"),
        _row("0022", '    <TimeStamp type="DateTime" value="2012-10-05T21:35:17+00:00"/>'),
        _row("0023", '    <BatchCount type="Integer" value="1"/>'),
        _row("0024", "  </ResponseHeader>"),
        _row("0025", "  <BatchItem>"),
        _row("0026", '    <Operation type="Enumeration" value="GetAttributes"/>'),
        _row("0027", '    <ResultStatus type="Enumeration" value="Success"/>'),
        _row("0028", "    <ResponsePayload>"),
        _row("0029", '      <UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>'),
        _row("0030", "      <Attribute>"),
        _row("0031", '        <AttributeName type="TextString" value="Initial Date"/>'),
        _row("0032", '        <AttributeValue type="DateTime" value="2012-10-05T21:35:10+00:00"/>'),
        _row("0033", "      </Attribute>"),
        _row("0034", "      <Attribute>"),
        _row("0035", '        <AttributeName type="TextString" value="x-Stamp"/>'),
        _row("0036", '        <AttributeValue type="DateTime" value="2012-10-05T21:35:10+00:00"/>'),
        _row("0037", "      </Attribute>"),
        _row("0038", "    </ResponsePayload>"),
        _row("0039", "  </BatchItem>"),
        _row("0040", "</ResponseMessage>"),
        "└──────┴──────┘",
        "3.2 Mandatory Test Cases KMIP v1.1",
        _row("0001", "<NotPartOfAnyCase/>"),
        "4      Conformance",
    ]
)


def _find(item: Item, tag: int) -> list[Item]:
    found = [item] if item.tag == tag else []
    if item.type == ItemType.STRUCTURE:
        for child in item.value:
            found += _find(child, tag)
    return found


@pytest.fixture
def synthetic(tmp_path: Path) -> DocumentCase:
    path = tmp_path / "profile.txt"
    path.write_text(SYNTHETIC, encoding="utf-8")
    (case,) = parse_document(path, "xx-profile")
    return case


def test_a_table_becomes_the_messages_of_its_case(synthetic: DocumentCase) -> None:
    assert (synthetic.name, synthetic.title, synthetic.version) == ("XX-M-1-10", "Example", "1.0")
    assert synthetic.relative == "xx-profile/XX-M-1-10"
    request, response = synthetic.messages()
    assert (request.tag, response.tag) == (Tag.REQUEST_MESSAGE, Tag.RESPONSE_MESSAGE)
    # the wrapped row (value= / "..." on the next row, no-break spaces) is one attribute
    (uid,) = _find(request, Tag.UNIQUE_IDENTIFIER)
    assert uid.value == Symbol("$UNIQUE_IDENTIFIER_0")
    assert "# TIME" not in synthetic.text and "│" not in synthetic.text and "0012" not in synthetic.text


def test_permitted_time_variations_become_now(synthetic: DocumentCase) -> None:
    _, response = synthetic.replay_messages()
    (stamp,) = _find(response, Tag.TIME_STAMP)
    assert stamp.value == Symbol("$NOW")
    values = [v.value for v in _find(response, Tag.ATTRIBUTE_VALUE)]
    # Initial Date is set by the server (item 9); a client's own date is compared as printed
    assert values[0] == Symbol("$NOW")
    assert values[1] == 1349472910
    _, raw = synthetic.messages()
    assert _find(raw, Tag.TIME_STAMP)[0].value == 1349472917


# -- the real documents --------------------------------------------------------------------------

_DOCS = profile_docs.find_spec_docs_dir()
needs_docs = pytest.mark.skipif(_DOCS is None, reason=profile_docs.SKIP_MESSAGE)

# (requests = responses, first operation) per case number, as printed in section 3
_SHAPE = {
    "TL-M-1": (1, Operation.QUERY),
    "TL-M-2": (1, Operation.CREATE),
    "TL-M-3": (5, Operation.LOCATE),
    "SASED-M-1": (1, Operation.QUERY),
    "SASED-M-2": (3, Operation.LOCATE),
    "SASED-M-3": (7, Operation.LOCATE),
}


def _version(message: Item) -> str:
    (pv,) = _find(message, Tag.PROTOCOL_VERSION)
    return ".".join(str(f.value) for f in pv.value)


def _first_operation(message: Item) -> int:
    return int(_find(message, Tag.OPERATION)[0].value)


@needs_docs
def test_the_documents_hold_eighteen_cases() -> None:
    cases = all_document_cases()
    assert [c.name for c in cases] == [
        f"{p}-M-{n}-{v}" for p in ("TL", "SASED") for v in ("10", "11", "12") for n in (1, 2, 3)
    ]
    assert {c.folder for c in cases if c.name.startswith("TL")} == {"tape-profile"}
    assert {c.folder for c in cases if c.name.startswith("SASED")} == {"sased-profile"}


@needs_docs
@pytest.mark.parametrize("case", all_document_cases(), ids=lambda c: c.relative)
def test_counts_operations_and_versions(case: DocumentCase) -> None:
    messages = case.messages()
    requests = [m for m in messages if m.tag == Tag.REQUEST_MESSAGE]
    responses = [m for m in messages if m.tag == Tag.RESPONSE_MESSAGE]
    count, first = _SHAPE[case.name.rsplit("-", 1)[0]]
    assert (len(requests), len(responses)) == (count, count)
    assert [m.tag for m in messages] == [Tag.REQUEST_MESSAGE, Tag.RESPONSE_MESSAGE] * count
    assert _first_operation(requests[0]) == first
    assert {_version(m) for m in messages} == {case.version}
    assert case.version == {"10": "1.0", "11": "1.1", "12": "1.2"}[case.name[-2:]]


@needs_docs
def test_wrapped_rows_and_placeholders_survive() -> None:
    cases = {c.name: c for c in all_document_cases()}
    query = cases["TL-M-1-10"].messages()[0]
    functions = [f.value for f in _find(query, Tag.QUERY_FUNCTION)]
    assert len(functions) == 4  # two of them wrapped onto a continuation row
    create_response = cases["TL-M-2-10"].messages()[1]
    uids = {u.value for u in _find(create_response, Tag.UNIQUE_IDENTIFIER)}
    assert uids == {Symbol("$UNIQUE_IDENTIFIER_0")}


@needs_docs
@pytest.mark.parametrize(("version", "alternative_name"), [("10", False), ("11", False), ("12", True)])
def test_barcode_attribute_per_version(version: str, alternative_name: bool) -> None:
    # Tape Library profile 2.5: the barcode goes to Alternative Name, which exists from KMIP 1.2;
    # every version's case also carries it as the custom attribute x-Barcode
    (case,) = [c for c in all_document_cases() if c.name == f"TL-M-2-{version}"]
    names = {n.value for n in _find(case.messages()[0], Tag.ATTRIBUTE_NAME)}
    assert ("Alternative Name" in names) is alternative_name
    assert "x-Barcode" in names


@needs_docs
def test_catalog_lists_them_as_target_sets_per_version() -> None:
    cases = document_cases()
    assert all(c.is_target for c in cases)
    assert {c.group for c in cases} == {"TL-M", "SASED-M"}
    assert sorted({c.suite for c in cases}) == [
        f"{folder}/v{v}" for folder in ("sased-profile", "tape-profile") for v in ("1.0", "1.1", "1.2")
    ]
    first = cases[0]
    assert first.name == "TL-M-1-10" and first.load()[0].tag == Tag.REQUEST_MESSAGE
