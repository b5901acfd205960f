"""TTLV and message-model codec speed: keyshelf against PyKMIP, side by side in one run.

    python benchmarks/codec.py [--json] [--quick] [--no-write]

Four messages are built once as TTLV bytes (with ``agent.ttlv``, from the registry's tag
codes) and the same bytes are fed to both codecs:

* ``get_response``   - Get response carrying an AES-256 symmetric key (~300 bytes)
* ``locate_request`` - Locate request by Application Specific Information (tape library)
* ``create_request`` - Create request with a Template-Attribute of 10 attributes
* ``get_attributes_response`` - Get Attributes response with 30 attributes

Measured, in messages per second (best of several repeats, to tame noise):

* TTLV layer: bytes -> ``Item`` tree (``agent.ttlv.decode``) and back (``encode``), plus the
  declared-grammar interpreter (``decode_declared``) for reference;
* model layer: ``agent.model.decode_request/decode_response/encode_message`` (when present);
* PyKMIP 0.10: ``RequestMessage/ResponseMessage.read()/write()`` over ``BytearrayStream``;
* a minimal hand-written recursive struct walker (decode only, no checks): the pure-Python
  limit for walking these bytes.

Ratios are keyshelf rate / PyKMIP rate (``*_ratio``), and ``limit_ratio`` is keyshelf TTLV
decode time / walker time (1.0 would be as fast as the no-checks walker). The headline
ratios are geometric means over the four messages; per-message figures follow them.
With no ``--no-write`` the results replace the codec section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import struct
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# The checkout's packages first: sys.path[0] is benchmarks/, whose scripts (agent.py, ...) must
# not shadow them.
sys.path.insert(0, str(REPO))

from agent import ttlv  # noqa: E402
from agent.spec import ItemType, Tag  # noqa: E402
from agent.ttlv import Item  # noqa: E402
from benchmarks import report  # noqa: E402

T = ItemType
NOW = 1_700_000_000  # a fixed Date-Time so every run encodes the same bytes


# ---------------------------------------------------------------- message construction


def _s(tag: Tag, *children: Item) -> Item:
    return Item(int(tag), T.STRUCTURE, tuple(children))


def _i(tag: Tag, value: int) -> Item:
    return Item(int(tag), T.INTEGER, value)


def _e(tag: Tag, value: int) -> Item:
    return Item(int(tag), T.ENUMERATION, value)


def _t(tag: Tag, value: str) -> Item:
    return Item(int(tag), T.TEXT_STRING, value)


def _b(tag: Tag, value: bytes) -> Item:
    return Item(int(tag), T.BYTE_STRING, value)


def _d(tag: Tag, value: int) -> Item:
    return Item(int(tag), T.DATE_TIME, value)


def _bool(tag: Tag, value: bool) -> Item:
    return Item(int(tag), T.BOOLEAN, value)


# Enumeration values (KMIP 1.4 section 9.1.3.2): kept as numbers here so the benchmark does
# not depend on the enumeration names of the registry.
OP_CREATE, OP_LOCATE, OP_GET, OP_GET_ATTRIBUTES = 0x01, 0x08, 0x0A, 0x0B
OBJECT_SYMMETRIC_KEY = 0x02
FORMAT_RAW = 0x01
ALGORITHM_AES = 0x03
NAME_TEXT = 0x01
STATE_ACTIVE = 0x02
HASH_SHA256 = 0x06
MODE_GCM, PADDING_NONE = 0x09, 0x01
UID = "2f3c5d7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"


def _protocol_version() -> Item:
    return _s(Tag.PROTOCOL_VERSION, _i(Tag.PROTOCOL_VERSION_MAJOR, 1), _i(Tag.PROTOCOL_VERSION_MINOR, 4))


def _request(operation: int, *payload: Item) -> Item:
    return _s(
        Tag.REQUEST_MESSAGE,
        _s(Tag.REQUEST_HEADER, _protocol_version(), _i(Tag.BATCH_COUNT, 1)),
        _s(Tag.BATCH_ITEM, _e(Tag.OPERATION, operation), _s(Tag.REQUEST_PAYLOAD, *payload)),
    )


def _response(operation: int, *payload: Item) -> Item:
    return _s(
        Tag.RESPONSE_MESSAGE,
        _s(Tag.RESPONSE_HEADER, _protocol_version(), _d(Tag.TIME_STAMP, NOW), _i(Tag.BATCH_COUNT, 1)),
        _s(
            Tag.BATCH_ITEM,
            _e(Tag.OPERATION, operation),
            _e(Tag.RESULT_STATUS, 0),
            _s(Tag.RESPONSE_PAYLOAD, *payload),
        ),
    )


def _attribute(name: str, value: Item) -> Item:
    # 1.x Attribute (KMIP 1.4 section 2.1.1): Attribute Name, [Attribute Index], Attribute Value.
    return _s(Tag.ATTRIBUTE, _t(Tag.ATTRIBUTE_NAME, name), value._replace(tag=int(Tag.ATTRIBUTE_VALUE)))


def _asi(namespace: str, data: str) -> Item:
    return _s(
        Tag.ATTRIBUTE_VALUE,
        _t(Tag.APPLICATION_NAMESPACE, namespace),
        _t(Tag.APPLICATION_DATA, data),
    )


def _name(value: str) -> Item:
    return _s(Tag.ATTRIBUTE_VALUE, _t(Tag.NAME_VALUE, value), _e(Tag.NAME_TYPE, NAME_TEXT))


def _digest(value: bytes) -> Item:
    return _s(
        Tag.ATTRIBUTE_VALUE,
        _e(Tag.HASHING_ALGORITHM, HASH_SHA256),
        _b(Tag.DIGEST_VALUE, value),
        _e(Tag.KEY_FORMAT_TYPE, FORMAT_RAW),
    )


def _v(item_type: ItemType, value: Any) -> Item:
    return Item(int(Tag.ATTRIBUTE_VALUE), item_type, value)


def build_messages() -> dict[str, tuple[str, Item]]:
    """The four benchmark messages: name -> ("request" | "response", Item)."""
    get_response = _response(
        OP_GET,
        _e(Tag.OBJECT_TYPE, OBJECT_SYMMETRIC_KEY),
        _t(Tag.UNIQUE_IDENTIFIER, UID),
        _s(
            Tag.SYMMETRIC_KEY,
            _s(
                Tag.KEY_BLOCK,
                _e(Tag.KEY_FORMAT_TYPE, FORMAT_RAW),
                _s(Tag.KEY_VALUE, _b(Tag.KEY_MATERIAL, bytes(range(32)))),
                _e(Tag.CRYPTOGRAPHIC_ALGORITHM, ALGORITHM_AES),
                _i(Tag.CRYPTOGRAPHIC_LENGTH, 256),
            ),
        ),
    )
    kad = "0123ABCD" * 8  # 64 hex characters of Key Associated Data (Tape Library profile)
    locate_request = _request(
        OP_LOCATE,
        _attribute("Object Type", _v(T.ENUMERATION, OBJECT_SYMMETRIC_KEY)),
        _attribute("Application Specific Information", _asi("LIBRARY-LTO", kad)),
    )
    create_attributes = [
        _attribute("Cryptographic Algorithm", _v(T.ENUMERATION, ALGORITHM_AES)),
        _attribute("Cryptographic Length", _v(T.INTEGER, 256)),
        _attribute("Cryptographic Usage Mask", _v(T.INTEGER, 0x0C)),
        _attribute("Name", _name("LTO7-000123L7")),
        _attribute("Application Specific Information", _asi("LIBRARY-LTO", kad)),
        _attribute("Object Group", _v(T.TEXT_STRING, "tape-pool-A")),
        _attribute("Contact Information", _v(T.TEXT_STRING, "storage-admin@example.com")),
        _attribute("Activation Date", _v(T.DATE_TIME, NOW)),
        _attribute("Process Start Date", _v(T.DATE_TIME, NOW)),
        _attribute("x-Barcode", _v(T.TEXT_STRING, "000123L7")),
    ]
    create_request = _request(
        OP_CREATE,
        _e(Tag.OBJECT_TYPE, OBJECT_SYMMETRIC_KEY),
        _s(Tag.TEMPLATE_ATTRIBUTE, *create_attributes),
    )
    many = [
        _attribute("Unique Identifier", _v(T.TEXT_STRING, UID)),
        _attribute("Object Type", _v(T.ENUMERATION, OBJECT_SYMMETRIC_KEY)),
        _attribute("Cryptographic Algorithm", _v(T.ENUMERATION, ALGORITHM_AES)),
        _attribute("Cryptographic Length", _v(T.INTEGER, 256)),
        _attribute("Cryptographic Usage Mask", _v(T.INTEGER, 0x0C)),
        _attribute("State", _v(T.ENUMERATION, STATE_ACTIVE)),
        _attribute("Initial Date", _v(T.DATE_TIME, NOW - 86400)),
        _attribute("Activation Date", _v(T.DATE_TIME, NOW - 86000)),
        _attribute("Process Start Date", _v(T.DATE_TIME, NOW - 86000)),
        _attribute("Protect Stop Date", _v(T.DATE_TIME, NOW + 86400 * 365)),
        _attribute("Deactivation Date", _v(T.DATE_TIME, NOW + 86400 * 730)),
        _attribute("Last Change Date", _v(T.DATE_TIME, NOW - 3600)),
        _attribute("Lease Time", _v(T.INTERVAL, 3600)),
        _attribute("Fresh", _v(T.BOOLEAN, False)),
        _attribute("Sensitive", _v(T.BOOLEAN, True)),
        _attribute("Contact Information", _v(T.TEXT_STRING, "storage-admin@example.com")),
        _attribute("Operation Policy Name", _v(T.TEXT_STRING, "default")),
        _attribute("Digest", _digest(bytes(range(100, 132)))),
        _attribute("Archive Date", _v(T.DATE_TIME, NOW + 86400 * 900)),
        _attribute(
            "Cryptographic Parameters",
            _s(
                Tag.ATTRIBUTE_VALUE, _e(Tag.BLOCK_CIPHER_MODE, MODE_GCM), _e(Tag.PADDING_METHOD, PADDING_NONE)
            ),
        ),
    ]
    for n in range(3):
        many.append(_attribute("Name", _name(f"LTO7-00012{n}L7")))
        many.append(_attribute("Object Group", _v(T.TEXT_STRING, f"tape-pool-{n}")))
        many.append(_attribute("Application Specific Information", _asi("LIBRARY-LTO", f"{n:02d}" + kad[2:])))
    many.append(_attribute("x-Barcode", _v(T.TEXT_STRING, "000123L7")))
    assert len(many) == 30
    get_attributes_response = _response(OP_GET_ATTRIBUTES, _t(Tag.UNIQUE_IDENTIFIER, UID), *many)
    return {
        "get_response": ("response", get_response),
        "locate_request": ("request", locate_request),
        "create_request": ("request", create_request),
        "get_attributes_response": ("response", get_attributes_response),
    }


# ---------------------------------------------------------------- the pure-Python limit

_HEAD = struct.Struct(">II").unpack_from


def walker_decode(data: bytes, pos: int = 0, end: int | None = None) -> list[tuple[int, int, Any]]:
    """Decode with no checks at all: the floor any pure-Python TTLV decoder can reach."""
    if end is None:
        end = len(data)
    out: list[tuple[int, int, Any]] = []
    head = _HEAD
    while pos < end:
        word, length = head(data, pos)
        code = word & 0xFF
        start = pos + 8
        if code == 1:
            value: Any = walker_decode(data, start, start + length)
        elif code in (2, 5, 10):
            value = int.from_bytes(data[start : start + 4], "big", signed=code == 2)
        elif code == 7:
            value = data[start : start + length].decode()
        elif code == 6:
            value = data[start + 7] == 1
        elif code in (8,):
            value = data[start : start + length]
        else:
            value = int.from_bytes(data[start : start + length], "big", signed=True)
        out.append((word >> 8, code, value))
        pos = start + length + (-length & 7)
    return out


# ---------------------------------------------------------------- PyKMIP


def _pykmip_codecs(kind: str) -> tuple[Callable[[bytes], Any], Callable[[Any], bytes]]:
    from kmip.core import utils
    from kmip.core.messages import messages

    cls = messages.RequestMessage if kind == "request" else messages.ResponseMessage

    def read(data: bytes) -> Any:
        msg = cls()
        msg.read(utils.BytearrayStream(data))
        return msg

    def write(msg: Any) -> bytes:
        stream = utils.BytearrayStream()
        msg.write(stream)
        return bytes(stream.buffer)

    return read, write


def repair_pykmip_text_padding(obj: Any, seen: set[int] | None = None) -> None:
    """Undo a PyKMIP 0.10 read/write asymmetry so both codecs encode the same bytes.

    ``TextString.read_value`` leaves ``padding_length`` at 8 for a string whose length is a
    multiple of 8, and ``write`` then emits 8 extra zero bytes (e.g. after the 32-byte
    "Application Specific Information"). Fixing the decoded objects keeps the encode
    comparison fair: PyKMIP writes exactly the bytes it read.
    """
    from kmip.core.primitives import TextString

    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, TextString):
        if obj.padding_length == 8:
            obj.padding_length = 0
        return
    if isinstance(obj, list | tuple):
        for child in obj:
            repair_pykmip_text_padding(child, seen)
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("kmip."):
        for child in vars(obj).values():
            repair_pykmip_text_padding(child, seen)


def _model_codecs(kind: str) -> tuple[Callable[[bytes], Any], Callable[[Any], bytes]] | None:
    try:
        from agent import model
    except ImportError:
        return None
    decode = getattr(model, "decode_request" if kind == "request" else "decode_response", None)
    encode = getattr(model, "encode_message", None)
    if decode is None or encode is None:
        return None
    return decode, encode


# ---------------------------------------------------------------- timing


def rates(fns: dict[str, Callable[[], object]], budget: float) -> dict[str, float]:
    """Calls per second of each function: the best of many short samples, interleaved.

    Samples of every function alternate round by round, so a busy moment on a shared machine
    hits all of them alike, and they are timed in process CPU time (``time.process_time``),
    which does not count the time other processes hold the CPU. ``budget`` is about the
    seconds spent per function.
    """
    sample = 0.02  # seconds per sample
    timers = {key: timeit.Timer(fn, timer=time.process_time) for key, fn in fns.items()}
    numbers = {}
    for key, timer in timers.items():
        number, elapsed = timer.autorange()
        numbers[key] = max(1, int(number * sample / max(elapsed, 1e-9)))
    best = dict.fromkeys(timers, math.inf)
    for _ in range(max(5, int(budget / sample))):
        for key, timer in timers.items():
            best[key] = min(best[key], timer.timeit(numbers[key]) / numbers[key])
    return {key: 1.0 / seconds for key, seconds in best.items()}


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def measure(budget: float) -> dict[str, Any]:
    results: dict[str, Any] = {"messages": {}}
    model_ok = True
    for name, (kind, item) in build_messages().items():
        data = ttlv.encode(item)
        assert ttlv.decode(data) == item
        assert walker_decode(data)
        py_read, py_write = _pykmip_codecs(kind)
        py_msg = py_read(data)
        repair_pykmip_text_padding(py_msg)
        py_bytes = py_write(py_msg)
        row: dict[str, Any] = {"bytes": len(data), "pykmip_same_bytes": py_bytes == data}
        fns: dict[str, Callable[[], object]] = {
            "ttlv_decode": lambda d=data: ttlv.decode(d),  # type: ignore[misc]
            "ttlv_encode": lambda i=item: ttlv.encode(i),  # type: ignore[misc]
            "walker_decode": lambda d=data: walker_decode(d),  # type: ignore[misc]
            "pykmip_decode": lambda d=data, f=py_read: f(d),  # type: ignore[misc]
            "pykmip_encode": lambda m=py_msg, f=py_write: f(m),  # type: ignore[misc]
        }
        codecs = _model_codecs(kind)
        if codecs is not None:
            try:
                m_decode, m_encode = codecs
                obj = m_decode(data)
                row["model_same_bytes"] = m_encode(obj) == data
                fns["model_decode"] = lambda d=data, f=m_decode: f(d)  # type: ignore[misc]
                fns["model_encode"] = lambda o=obj, f=m_encode: f(o)  # type: ignore[misc]
            except Exception as exc:  # a model still in progress must not break the TTLV figures
                row["model_error"] = f"{type(exc).__name__}: {exc}"[:200]
                model_ok = False
        else:
            model_ok = False
        row.update(rates(fns, budget))
        row.update(rates({"declared_decode": lambda d=data: ttlv.decode_declared(d)}, budget / 4))  # type: ignore[misc]
        row["ttlv_decode_ratio"] = row["ttlv_decode"] / row["pykmip_decode"]
        row["ttlv_encode_ratio"] = row["ttlv_encode"] / row["pykmip_encode"]
        row["limit_ratio"] = row["walker_decode"] / row["ttlv_decode"]
        if "model_decode" in row:
            row["model_decode_ratio"] = row["model_decode"] / row["pykmip_decode"]
            row["model_encode_ratio"] = row["model_encode"] / row["pykmip_encode"]
        results["messages"][name] = row
    rows = list(results["messages"].values())
    for key in ("ttlv_decode_ratio", "ttlv_encode_ratio", "limit_ratio"):
        results[key] = geomean([r[key] for r in rows])
    for key in ("model_decode_ratio", "model_encode_ratio"):
        results[key] = geomean([r[key] for r in rows]) if model_ok else None
    return results


# ---------------------------------------------------------------- reporting


def table(results: dict[str, Any]) -> str:
    cols = [
        ("bytes", "bytes", "{:d}"),
        ("ttlv_decode", "ttlv dec/s", "{:,.0f}"),
        ("ttlv_encode", "ttlv enc/s", "{:,.0f}"),
        ("declared_decode", "declared dec/s", "{:,.0f}"),
        ("walker_decode", "walker dec/s", "{:,.0f}"),
        ("pykmip_decode", "PyKMIP dec/s", "{:,.0f}"),
        ("pykmip_encode", "PyKMIP enc/s", "{:,.0f}"),
        ("model_decode", "model dec/s", "{:,.0f}"),
        ("model_encode", "model enc/s", "{:,.0f}"),
        ("ttlv_decode_ratio", "dec x", "{:.1f}"),
        ("ttlv_encode_ratio", "enc x", "{:.1f}"),
        ("limit_ratio", "time / walker", "{:.2f}"),
    ]
    lines = ["| message | " + " | ".join(title for _, title, _ in cols) + " |"]
    lines.append("|---|" + "---:|" * len(cols))
    for name, row in results["messages"].items():
        cells = [fmt.format(row[key]) if key in row else "n/a" for key, _, fmt in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(results: dict[str, Any]) -> str:
    def ratio(key: str) -> str:
        value = results[key]
        return "n/a (agent.model not available)" if value is None else f"{value:.1f}x"

    return "\n".join(
        [
            f"- TTLV decode, keyshelf / PyKMIP: **{results['ttlv_decode_ratio']:.1f}x** (target >= 10x)",
            f"- TTLV encode, keyshelf / PyKMIP: **{results['ttlv_encode_ratio']:.1f}x** (target >= 8x)",
            f"- model decode, keyshelf / PyKMIP: {ratio('model_decode_ratio')}",
            f"- model encode, keyshelf / PyKMIP: {ratio('model_encode_ratio')}",
            f"- keyshelf TTLV decode time / no-checks walker time: {results['limit_ratio']:.2f}",
        ]
    )


def machine_note() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}"


def same_bytes(results: dict[str, Any]) -> str:
    rows = results["messages"].values()
    if all(row["pykmip_same_bytes"] for row in rows):
        return "yes, after repairing its Text String padding, see repair_pykmip_text_padding"
    return "NO for " + ", ".join(
        name for name, row in results["messages"].items() if not row["pykmip_same_bytes"]
    )


def write_section(results: dict[str, Any], path: Path) -> None:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(
        [
            "## TTLV codec (benchmarks/codec.py)",
            "",
            f"Measured {stamp} on {machine_note()}. Messages per second, best of interleaved "
            "20 ms samples in process CPU time (other work on the machine is not counted); the "
            "same bytes are fed to both codecs and both encoders produce those same bytes "
            f"(PyKMIP: {same_bytes(results)}). Ratios are geometric means over the four messages; "
            "`model` is agent.model's decode_request/decode_response/encode_message.",
            "",
            summary(results),
            "",
            table(results),
            "",
            "`walker` is a minimal recursive struct walker with no checks (the pure-Python limit); "
            "`declared` is construct's interpreter over the grammar (the reference codec).",
        ]
    )
    report.write_section("codec", body, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="short timing budget (noisier)")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args(argv)
    results = measure(budget=0.3 if args.quick else 1.5)
    if args.json:
        print(json.dumps(results, indent=None, sort_keys=True))
    else:
        print(table(results))
        print()
        print(summary(results))
    if not args.no_write:
        write_section(results, REPO / "BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
