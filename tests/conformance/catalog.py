"""Which OASIS test-case files exist, their KMIP version and profile prefix, and the target set.

The target of issue 3: every TL-M, SASED-M, SKLC-M, SKLC-O, SKFF-M, OMOS-M, OMOS-O and BL-M
file passes for every version present. Every other file is replayed and reported too.

The KMIP 1.0-1.2 cases of the Tape Library and SA-SED profiles exist only inside the profile
documents (tests/conformance/profile_docs.py): :func:`document_cases` lists them under
relative names such as ``tape-profile/TL-M-2-10``; they are targets too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from agent.encodings.xml import load_test_case
from agent.ttlv import Item
from tests.conformance.profile_docs import DocumentCase, all_document_cases

TARGET_GROUPS = {"TL-M", "SASED-M", "SKLC-M", "SKLC-O", "SKFF-M", "OMOS-M", "OMOS-O", "BL-M"}
_VERSION_SUFFIX = {"10": "1.0", "11": "1.1", "12": "1.2", "13": "1.3", "14": "1.4", "20": "2.0", "21": "2.1"}
_PROFILE_FILE = re.compile(r"^(?P<prefix>.+?)-(?P<kind>[MO])-(?:.+-)?\d+-(?P<ver>\d\d)$")
_TC_FILE = re.compile(r"^TC-(?P<name>.+?)-\d+-(?P<ver>\d\d)$")


@dataclass(frozen=True)
class CaseFile:
    path: Path
    relative: str
    version: str  # "1.4"
    prefix: str  # "TL", "CS-BC", "TC-DERIVEKEY"
    group: str  # "TL-M", "SKLC-O", "TC-DERIVEKEY"
    source: DocumentCase | None = None  # set for a case printed in a profile document

    @property
    def name(self) -> str:
        """``TL-M-2-13.xml`` for a file, ``TL-M-2-10`` for a case of a profile document."""
        return self.source.name if self.source is not None else self.path.name

    def load(self) -> list[Item]:
        """The case's Request/Response Messages, placeholders as symbols."""
        if self.source is not None:
            return self.source.replay_messages()
        return load_test_case(self.path)

    @property
    def suite(self) -> str:
        """The folder of one published set ("profiles/v1.4"): each set runs on its own fresh server.

        Files of one set build on each other (TL-M-3 locates the keys TL-M-2 created and
        destroys them), and the sets reuse names and ASIs, as they were run by their authors
        against servers of one version each. A profile document's cases of one version form
        one set too ("tape-profile/v1.0").
        """
        if self.source is not None:
            return f"{self.source.folder}/v{self.version}"
        parts = self.relative.split("/")
        return "/".join(parts[:2]) if len(parts) > 2 else parts[0]

    @property
    def is_target(self) -> bool:
        return self.group in TARGET_GROUPS


def classify(path: Path, root: Path) -> CaseFile:
    stem = path.stem
    relative = path.relative_to(root).as_posix()
    if match := _PROFILE_FILE.match(stem):
        prefix = match["prefix"]
        # "CS-BC-M-GCM-1-14": the regex keeps "CS-BC" as prefix and "GCM" as a variant.
        group = f"{prefix}-{match['kind']}"
        version = _VERSION_SUFFIX.get(match["ver"], match["ver"])
        return CaseFile(path, relative, version, prefix, group)
    if match := _TC_FILE.match(stem):
        name = "TC-" + match["name"]
        version = _VERSION_SUFFIX.get(match["ver"], match["ver"])
        return CaseFile(path, relative, version, "TC", name)
    for kind in ("M", "O"):
        head, sep, tail = stem.partition(f"-{kind}-")
        if sep and tail[-2:] in _VERSION_SUFFIX:
            return CaseFile(path, relative, _VERSION_SUFFIX[tail[-2:]], head, f"{head}-{kind}")
    return CaseFile(path, relative, "?", stem, stem)


def all_cases(root: Path) -> list[CaseFile]:
    return [classify(p, root) for p in sorted(root.rglob("*.xml"))]


def document_cases(directory: Path | None = None) -> list[CaseFile]:
    """The 1.0-1.2 cases printed in the profile documents, in document order (none if absent)."""
    out = []
    for case in all_document_cases(directory):
        prefix, kind = case.name.split("-")[:2]
        out.append(CaseFile(case.document, case.relative, case.version, prefix, f"{prefix}-{kind}", case))
    return out


EXPECTED_FAILURES = Path(__file__).with_name("expected_failures.txt")


def expected_failures(path: Path = EXPECTED_FAILURES) -> dict[str, str]:
    """Relative path -> reason, for the files the suite expects to fail (see test_oasis.py)."""
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        relative, _, reason = line.partition("\t")
        out[relative.strip()] = reason.strip()
    return out


def write_expected_failures(failures: dict[str, str], path: Path = EXPECTED_FAILURES) -> None:
    lines = [
        "# OASIS test-case files keyshelf-server is known to fail, with the first mismatch of each.",
        "# Written by `python -m tests.conformance --update-expected`; every other file must pass.",
    ]
    lines += [f"{relative}\t{reason}" for relative, reason in sorted(failures.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
