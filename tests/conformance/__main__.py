"""``python -m tests.conformance --json [--cases DIR]``: replay every OASIS file against a live server.

Starts keyshelf-server on a fresh data directory, replays every test-case file over mutual
TLS (and the KMIP 1.0-1.2 cases printed in the Tape Library and SA-SED profile documents,
tests/conformance/profile_docs.py), writes CONFORMANCE.md (a table per KMIP version and
profile prefix, with the first mismatch of each failing file) and prints one JSON object:
``{"results": {"<relative path>": "pass" | "fail: <first mismatch>"}, "summary": {...}}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from tests.conformance.catalog import CaseFile, all_cases, document_cases, write_expected_failures
from tests.conformance.live import live_server
from tests.conformance.profile_docs import find_spec_docs_dir
from tests.conformance.replay import FileResult, replay_case
from tests.conftest import find_test_cases_dir

REPO = Path(__file__).resolve().parents[2]


def run(cases: list[CaseFile]) -> dict[str, FileResult]:
    """Replay the cases in order, each published set against its own fresh server."""
    results: dict[str, FileResult] = {}
    for suite in sorted({c.suite for c in cases}):
        with live_server() as server:
            for case in (c for c in cases if c.suite == suite):
                exchange = server.connect()
                try:
                    results[case.relative] = replay_case(case.path, case.load, exchange)
                finally:
                    exchange.close()
    return results


def summarise(cases: list[CaseFile], results: dict[str, FileResult]) -> dict[str, object]:
    target = [c for c in cases if c.is_target]
    return {
        "files": len(cases),
        "passed": sum(results[c.relative].passed for c in cases),
        "failed": sum(not results[c.relative].passed for c in cases),
        "target_files": len(target),
        "target_passed": sum(results[c.relative].passed for c in target),
    }


def write_report(path: Path, cases: list[CaseFile], results: dict[str, FileResult], seconds: float) -> None:
    by_version: dict[str, dict[str, list[CaseFile]]] = defaultdict(lambda: defaultdict(list))
    for case in cases:
        by_version[case.version][case.group].append(case)
    summary = summarise(cases, results)
    lines = [
        "# KMIP conformance: OASIS test cases replayed against keyshelf-server",
        "",
        "Written by `python -m tests.conformance` (mutual TLS on loopback, fresh data directory).",
        f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {seconds:.1f} s.",
        "",
        f"All files: {summary['passed']} of {summary['files']} pass. "
        f"Target groups of issue 3 (TL-M, SASED-M, SKLC-M, SKLC-O, SKFF-M, OMOS-M, OMOS-O, BL-M): "
        f"{summary['target_passed']} of {summary['target_files']} pass.",
        "",
        "KMIP 1.0-1.2 (TL-M, SASED-M): the test cases printed in section 3 of the Tape Library and "
        "SA-SED profile documents (`tape-profile/`, `sased-profile/`; the OASIS folder has profile "
        "files only for 1.3-2.1), each version's cases run in order on one fresh server.",
        "",
    ]
    for version in sorted(by_version):
        lines += [
            f"## KMIP {version}",
            "",
            "| group | passed | failed | first mismatch of failing files |",
            "|---|---|---|---|",
        ]
        for group in sorted(by_version[version]):
            members = by_version[version][group]
            passed = [c for c in members if results[c.relative].passed]
            failed = [c for c in members if not results[c.relative].passed]
            notes = "<br>".join(
                f"`{c.name}`: {_cell(results[c.relative].first_mismatch or '')}" for c in failed
            )
            lines.append(f"| {group} | {len(passed)} | {len(failed)} | {notes} |")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def _verdict(result: FileResult) -> str:
    return "pass" if result.passed else f"fail: {result.first_mismatch}"


def _cell(text: str) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 200 else text[:197] + "..."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--cases", type=Path, help="test-case directory (default: $KEYSHELF_TEST_CASES or ../shared)"
    )
    parser.add_argument(
        "--docs", type=Path, help="profile documents (default: $KEYSHELF_SPEC_DOCS or ../shared)"
    )
    parser.add_argument("--only", default="", help="replay only files whose path contains this text")
    parser.add_argument("--report", type=Path, default=REPO / "CONFORMANCE.md")
    parser.add_argument(
        "--update-expected",
        action="store_true",
        help="rewrite tests/conformance/expected_failures.txt from this run (non-target files only)",
    )
    args = parser.parse_args(argv)
    root = args.cases or find_test_cases_dir()
    if root is None or not root.is_dir():
        print("OASIS KMIP test cases not found: pass --cases DIR or set KEYSHELF_TEST_CASES", file=sys.stderr)
        return 2
    docs = args.docs or find_spec_docs_dir()
    if docs is None or not docs.is_dir():
        print("KMIP profile documents not found: the 1.0-1.2 TL-M/SASED-M cases are not run", file=sys.stderr)
    found = all_cases(root) + document_cases(docs if docs is not None and docs.is_dir() else None)
    cases = [c for c in found if args.only in c.relative]
    started = time.monotonic()
    results = run(cases)
    seconds = time.monotonic() - started
    if not args.only:
        write_report(args.report, cases, results, seconds)
    if args.update_expected and not args.only:
        failing = {
            c.relative: results[c.relative].first_mismatch or ""
            for c in cases
            if not results[c.relative].passed
        }
        if any(c.is_target for c in cases if c.relative in failing):
            print("refusing to list target files as expected failures; fix them instead", file=sys.stderr)
            return 1
        write_expected_failures({k: v[:160] for k, v in failing.items()})
    out = {
        "results": {
            c.relative: "pass"
            if results[c.relative].passed
            else f"fail: {results[c.relative].first_mismatch}"
            for c in cases
        },
        "summary": summarise(cases, results),
    }
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for rel, verdict in out["results"].items():  # type: ignore[attr-defined]
            print(f"{verdict[:150]:150s} {rel}")
        print(json.dumps(out["summary"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
