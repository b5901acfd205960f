"""BENCHMARKS.md: each benchmark script owns one section between its own markers.

``write_section("codec", body)`` replaces what stands between ``<!-- codec:begin -->`` and
``<!-- codec:end -->`` (or appends the section) and leaves every other section untouched, so
the scripts can run in any order and each keeps the figures of its own last run.
"""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def write_section(name: str, body: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) section ``name``; ``body`` is the Markdown between its markers."""
    begin, end = markers(name)
    block = f"{begin}\n{body.strip(chr(10))}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# keyshelf benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
