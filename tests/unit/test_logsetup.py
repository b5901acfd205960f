"""Structured log lines; exception messages (which could carry secrets) never printed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from profiles.logsetup import JsonFormatter, TextFormatter, configure

SECRET = "00112233445566778899aabbccddeeff"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out = io.StringIO()
    configure("INFO", "json", out)
    yield out
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)


def test_one_json_object_per_line(stream: io.StringIO) -> None:
    log = logging.getLogger("keyshelf.server")
    log.info("request", extra={"fields": {"client": "client-a", "items": [{"op": "Get"}], "ms": 0.5}})
    log.info("second")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["event"] == "request" and first["client"] == "client-a" and first["items"] == [{"op": "Get"}]
    assert first["level"] == "INFO" and first["logger"] == "keyshelf.server" and first["ts"].endswith("Z")


def test_exception_message_withheld(stream: io.StringIO) -> None:
    try:
        raise ValueError(f"bad key {SECRET}")
    except ValueError:
        logging.getLogger("keyshelf.engine").exception("internal error")
    text = stream.getvalue()
    assert SECRET not in text
    record = json.loads(text.splitlines()[0])
    assert "ValueError" in record["exception"] and "test_logsetup.py" in record["exception"]


def test_text_formatter_withholds_too() -> None:
    try:
        raise RuntimeError(SECRET)
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    for formatter in (TextFormatter(), JsonFormatter()):
        out = formatter.format(record)
        assert SECRET not in out and "RuntimeError" in out


def test_reconfigure_replaces_only_its_own_handler(stream: io.StringIO) -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    configure("INFO", "text", io.StringIO())
    assert len(root.handlers) == before
