"""Structured logging for the server: one line per event, JSON by default.

Fields of a record come from ``extra={"fields": {...}}``; the server logs one ``request``
line per request message (client identity, peer, version, per batch item: operation, unique
identifiers, result status and reason; milliseconds). No key material is ever passed in.

Defence in depth for tracebacks: the formatters print an exception's type and stack frames
but never its message (``str(exc)``), because a message built by a library from its
arguments could contain secret bytes. The type and the source lines are enough to find a bug.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from typing import Any, TextIO

LOGGER_NAME = "keyshelf"


def safe_exception(exc_info: Any) -> str:
    """Type and frames of an exception, without its message (see module docstring)."""
    if not exc_info or exc_info is True:
        return ""
    etype, _, tb = exc_info
    frames = "".join(traceback.format_tb(tb)) if tb is not None else ""
    name = getattr(etype, "__qualname__", str(etype))
    return f"Traceback (message withheld):\n{frames}{name}"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    extra = getattr(record, "fields", None)
    return dict(extra) if isinstance(extra, dict) else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event, then the record's fields."""

    _stamp: tuple[int, str] = (-1, "")  # (second, its text): one strftime per second, not per line

    def format(self, record: logging.LogRecord) -> str:
        exception = safe_exception(record.exc_info) if record.exc_info else None
        return self.line(
            record.created,
            int(record.msecs),
            record.levelname,
            record.name,
            record.getMessage(),
            fields=_fields(record),
            exception=exception,
        )

    def line(
        self,
        created: float,
        msecs: int,
        level: str,
        name: str,
        event: str,
        *,
        fields: dict[str, Any],
        exception: str | None = None,
    ) -> str:
        second, stamp = self._stamp
        if second != int(created):
            second = int(created)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._stamp = (second, stamp)
        out: dict[str, Any] = {"ts": f"{stamp}.{msecs:03d}Z", "level": level, "logger": name, "event": event}
        out.update(fields)
        if exception is not None:
            out["exception"] = exception
        return json.dumps(out, separators=(",", ":"), default=str)


class TextFormatter(logging.Formatter):
    """``ts level event key=value ...`` for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%H:%M:%S", time.localtime(record.created))
        parts = [f"{ts} {record.levelname:<7} {record.getMessage()}"]
        parts += [f"{k}={json.dumps(v, default=str)}" for k, v in _fields(record).items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + safe_exception(record.exc_info)
        return line


_OURS = "_keyshelf_handler"


def configure(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> logging.Handler:
    """Route every logger (keyshelf's, asyncio's) to one handler with the chosen format.
    Replaces a handler installed by an earlier call; leaves other handlers alone."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, _OURS, False):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Neither formatter prints the caller's file/line, thread or process: do not collect them
    # for every record (Logging HOWTO, "Optimization"); the request line costs ~10 us, not ~14.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    return handler


def info_fields(logger: logging.Logger, event: str, fields: dict[str, Any]) -> None:
    """``logger.info(event, extra={"fields": fields})`` (the server's line per request).

    When the handler configure() installed is the one place the record can go (on the root
    logger; no other handler and no filter on the way; JSON format), the line is written to
    its stream here: the same text, without a LogRecord and the handler chain, which cost
    ~25 us a line, a fifth of a repeated Get's server CPU. Anything else goes through
    ``logger.info``, as does a write that fails (the handler reports it)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    handler = _only_handler(logger)
    if handler is not None:
        formatter = handler.formatter
        assert isinstance(formatter, JsonFormatter)
        created = time.time()
        msecs = int((created - int(created)) * 1000)
        text = formatter.line(created, msecs, "INFO", logger.name, event, fields=fields)
        handler.acquire()
        try:
            stream = handler.stream
            stream.write(text + handler.terminator)
            stream.flush()
            return
        except Exception:  # the usual path below reports it
            pass
        finally:
            handler.release()
    logger.info(event, extra={"fields": fields})


def _only_handler(logger: logging.Logger) -> logging.StreamHandler[TextIO] | None:
    """configure()'s JSON handler, if every record ``logger`` emits at INFO reaches it alone,
    with no filter on the way; else None."""
    found: logging.StreamHandler[TextIO] | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for h in current.handlers:
            if (
                found is not None
                or not getattr(h, _OURS, False)
                or not isinstance(h, logging.StreamHandler)
                or not isinstance(h.formatter, JsonFormatter)
                or h.filters
                or h.level > logging.INFO
            ):
                return None
            found = h
        if not current.propagate:
            break
        current = current.parent
    return found
