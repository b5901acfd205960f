"""The KMIP 1.0-1.2 test cases printed inside the Tape Library and SA-SED profile documents.

The OASIS test-case folder holds profile files only for KMIP 1.3-2.1. The mandatory test
cases of the Tape Library profile (TL-M-1-10 .. TL-M-3-12) and of the Storage Array with
Self-Encrypting Drives profile (SASED-M-1-10 .. SASED-M-3-12) for 1.0, 1.1 and 1.2 exist
only as box-drawn tables in the text renderings of the profile documents
(``kmip-spec-docs/kmip-tape-lib-profile-v1.0-os.txt`` and ``kmip-sa-sed-profile-v1.0-os.txt``,
section 3, one subsection per case)::

    │0015  │      <QueryFunction type="Enumeration"                             value=     │
    │      │"QueryServerInformation"/>                                                     │

This module turns each table into the messages :func:`agent.encodings.xml.load_test_case`
gives for a file: the cell texts of consecutive rows are joined (line numbers, box
characters and ``# TIME n`` comment rows dropped; the documents pad with no-break spaces,
read as spaces; XML allows whitespace around ``=``, which mends the wrapped rows) and parsed
with ``symbols=True`` so ``$UNIQUE_IDENTIFIER_N`` / ``$NOW`` stay placeholders.

Unlike the 1.3+ files, the documents print the times of the authors' run (``2012-10-05T21:41:46``)
where the files write ``$NOW``. For the live replay :meth:`DocumentCase.replay_messages` writes
``$NOW`` where the profile's "Permitted Test Case Variations" (section 4.7.1 of both
documents, items 6 and 9) let the value vary: the response header's Time Stamp, and in
responses the server-set date attributes (Initial Date, Last Change Date, ...) that no request of
the case sets. A date a client sent (x-VendorAttribute3) stays literal and must come back as sent.

The documents are read from ``$KEYSHELF_SPEC_DOCS`` if set, else ``../shared/kmip-spec-docs``
beside the repository; they are never copied into it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from agent.encodings import Symbol
from agent.encodings.xml import loads
from agent.spec import ItemType, Tag
from agent.ttlv import Item

REPO = Path(__file__).resolve().parents[2]

DOCUMENTS = {
    "tape-profile": "kmip-tape-lib-profile-v1.0-os.txt",
    "sased-profile": "kmip-sa-sed-profile-v1.0-os.txt",
}
"""Folder name used in the harness's relative names -> the profile document's text file."""

SKIP_MESSAGE = (
    "KMIP profile documents not found: set KEYSHELF_SPEC_DOCS or place them at ../shared/kmip-spec-docs"
)

# "3.1.2 TL-M-2-10 - Write with new (created) key" (the table of contents ends in a page number)
_HEADING = re.compile(r"^3\.\d+\.\d+\s+(?P<name>[A-Z]+-[MO]-\d+-(?P<ver>\d\d))\s+-\s+(?P<title>.*\S)\s*$")
_NEXT_SECTION = re.compile(r"^(?:\d+(?:\.\d+)*)\s+\S")
_ROW = re.compile(r"^│(?P<number>[^│]*)│(?P<cell>.*)│\s*$")
_VERSIONS = {"10": "1.0", "11": "1.1", "12": "1.2"}

# Permitted Test Case Variations, item 9: date-time attributes that may vary "where the value is
# not specified in the request as a fixed DateTime value".
VARIABLE_DATE_ATTRIBUTES = frozenset(
    {
        "Activation Date",
        "Archive Date",
        "Compromise Date",
        "Compromise Occurrence Date",
        "Deactivation Date",
        "Destroy Date",
        "Initial Date",
        "Last Change Date",
        "Protect Start Date",
        "Process Stop Date",
        "Validity Date",
        "Original Creation Date",
    }
)
_NOW = Symbol("$NOW")


def find_spec_docs_dir() -> Path | None:
    env = os.environ.get("KEYSHELF_SPEC_DOCS")
    candidate = Path(env) if env else REPO.parent / "shared" / "kmip-spec-docs"
    return candidate if candidate.is_dir() else None


@dataclass(frozen=True)
class DocumentCase:
    """One test case printed in a profile document."""

    document: Path
    folder: str  # "tape-profile"
    name: str  # "TL-M-2-10"
    title: str  # "Write with new (created) key"
    version: str  # "1.0"
    text: str  # the XML, as joined from the table (a <KMIP> document)

    @property
    def relative(self) -> str:
        return f"{self.folder}/{self.name}"

    def messages(self) -> list[Item]:
        """The Request/Response Messages in order, placeholders as symbols."""
        return loads(self.text, symbols=True)

    def replay_messages(self) -> list[Item]:
        """:meth:`messages` with the permitted time variations written ``$NOW`` (module docstring)."""
        messages = self.messages()
        fixed = {
            name
            for message in messages
            if message.tag == Tag.REQUEST_MESSAGE
            for name in _attribute_names(message)
        }
        variable = VARIABLE_DATE_ATTRIBUTES - fixed
        return [_vary_times(m, variable) if m.tag == Tag.RESPONSE_MESSAGE else m for m in messages]


def _attribute_names(item: Item) -> set[str]:
    if item.type != ItemType.STRUCTURE:
        return set()
    names = {c.value for c in item.value if c.tag == Tag.ATTRIBUTE_NAME and isinstance(c.value, str)}
    for child in item.value:
        names |= _attribute_names(child)
    return names


def _vary_times(item: Item, variable: frozenset[str] | set[str]) -> Item:
    if item.type != ItemType.STRUCTURE:
        return item
    children = item.value
    if item.tag == Tag.RESPONSE_HEADER:
        children = tuple(
            Item(c.tag, c.type, _NOW) if c.tag == Tag.TIME_STAMP and c.type == ItemType.DATE_TIME else c
            for c in children
        )
    elif item.tag == Tag.ATTRIBUTE and any(
        c.tag == Tag.ATTRIBUTE_NAME and c.value in variable for c in children
    ):
        children = tuple(
            Item(c.tag, c.type, _NOW) if c.tag == Tag.ATTRIBUTE_VALUE and c.type == ItemType.DATE_TIME else c
            for c in children
        )
    return Item(item.tag, item.type, tuple(_vary_times(c, variable) for c in children))


def _cell_text(cell: str) -> str:
    return cell.replace("\xa0", " ").strip()


def parse_document(path: Path, folder: str) -> list[DocumentCase]:
    """Every test case of section 3 of one profile document, in document order."""
    cases: list[DocumentCase] = []
    current: tuple[str, str, str] | None = None
    cells: list[str] = []

    def close() -> None:
        if current is not None:
            name, title, ver = current
            text = "<KMIP>\n" + "\n".join(cells) + "\n</KMIP>"
            cases.append(DocumentCase(path, folder, name, title, _VERSIONS.get(ver, ver), text))

    for line in path.read_text(encoding="utf-8").splitlines():
        heading = _HEADING.match(line)
        if heading is not None and not re.search(r"\.\s*\d+$", line):
            close()
            current, cells = (heading["name"], heading["title"], heading["ver"]), []
            continue
        if current is not None and _NEXT_SECTION.match(line):
            close()  # section 3.2 "Mandatory Test Cases KMIP v1.1", section 4 "Conformance"
            current, cells = None, []
            continue
        row = _ROW.match(line)
        if current is None or row is None:
            continue
        text = _cell_text(row["cell"])
        if text and not text.startswith("#"):
            cells.append(text)
    close()
    return cases


@cache
def _cases_in(directory: Path) -> tuple[DocumentCase, ...]:
    out: list[DocumentCase] = []
    for folder, filename in DOCUMENTS.items():
        path = directory / filename
        if path.is_file():
            out += parse_document(path, folder)
    return tuple(out)


def all_document_cases(directory: Path | None = None) -> list[DocumentCase]:
    """The cases of every profile document present (none when the folder is absent)."""
    directory = directory if directory is not None else find_spec_docs_dir()
    return list(_cases_in(directory)) if directory is not None else []
