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


@pytest.fixture
def only_ours() -> Iterator[io.StringIO]:
    """keyshelf's handler on the root logger, its output captured."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    for h in handlers:
        root.removeHandler(h)
    out = io.StringIO()
    configure("INFO", "json", out)
    yield out
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


REQUEST_FIELDS = {
    "client": 'client-"a"\u00e9',
    "peer": "127.0.0.1:5555",
    "version": "1.4",
    "items": [{"op": "Get", "uid": ["u-1"], "result": "Success", "reason": None}],
    "bytes_in": 120,
    "bytes_out": 200,
    "ms": 0.123,
}


def _without_ts(line: str) -> dict[str, object]:
    out = json.loads(line)
    assert out.pop("ts").endswith("Z")
    return out


def test_request_line_written_directly_is_the_usual_line(
    only_ours: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    from profiles.logsetup import info_fields

    log = logging.getLogger("keyshelf.server")
    log.info("request", extra={"fields": REQUEST_FIELDS})
    records: list[str] = []
    real = logging.Logger.makeRecord

    def counting(self: logging.Logger, *args: object, **kwargs: object) -> logging.LogRecord:
        records.append(self.name)
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(logging.Logger, "makeRecord", counting)
    root = logging.getLogger()
    # pytest's own handlers (added around the test's call) are off while the line is written
    theirs = [h for h in root.handlers if not getattr(h, "_keyshelf_handler", False)]
    for h in theirs:
        root.removeHandler(h)
    try:
        info_fields(log, "request", REQUEST_FIELDS)
    finally:
        for h in theirs:
            root.addHandler(h)
    assert records == []  # the direct write
    usual, direct = only_ours.getvalue().splitlines()
    assert _without_ts(usual) == _without_ts(direct)
    # byte for byte, the timestamp aside
    assert usual.split(",", 1)[1] == direct.split(",", 1)[1]


def test_request_line_takes_the_usual_path_when_anything_else_listens(
    only_ours: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    from profiles.logsetup import info_fields

    log = logging.getLogger("keyshelf.server")
    with caplog.at_level(logging.INFO):
        info_fields(log, "request", REQUEST_FIELDS)
    assert [r.getMessage() for r in caplog.records] == ["request"]
    assert _without_ts(only_ours.getvalue())["client"] == REQUEST_FIELDS["client"]
    # a filter on the way, too
    only_ours.truncate(0)
    only_ours.seek(0)
    log.addFilter(lambda record: False)
    try:
        info_fields(log, "request", REQUEST_FIELDS)
    finally:
        log.filters.clear()
    assert only_ours.getvalue() == ""
    # and nothing at all below the level
    logging.getLogger().setLevel(logging.WARNING)
    info_fields(log, "request", REQUEST_FIELDS)
    assert only_ours.getvalue() == ""
