"""keyshelf-server against PyKMIP's server, same certificates, same load generator, one run.

``python benchmarks/server.py [--json] [--quick]``

Both servers run as child processes on loopback with the certificates of one
``keyshelf-server init`` data directory. keyshelf runs with one server process per CPU
(``[limits] processes = 0``, its setting for a multi-core machine; ``--processes``) and, for
comparison, as ``keyshelf-server init`` configures it (one process); PyKMIP's server is one
process (threads under one GIL). The load generator is N worker processes, each with
one persistent mutual-TLS connection, sending the same KMIP 1.2 TTLV requests to either
server (built once with keyshelf's codec; PyKMIP's server decodes them with its own). It
prints ops/s and p50/p99 latency for Create, Get, Get Attributes and Destroy at concurrency
1 and 8, and Locate by Application Specific Information with 10,000 and 100,000 stored keys
(PyKMIP only at 10,000: filling it to 100,000 takes too long, and the output says so).
Figures go to BENCHMARKS.md between ``<!-- server:begin -->`` and ``<!-- server:end -->``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import platform
import random
import socket
import ssl
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agent.spec import CryptographicAlgorithm, ItemType, ObjectType, Operation, ResultStatus, Tag  # noqa: E402
from agent.ttlv import Item, decode, encode  # noqa: E402
from benchmarks import report  # noqa: E402
from firmware_hooks import harness  # noqa: E402
from profiles.config import LimitsConfig  # noqa: E402
from tests.interop.pykmip_server import pykmip_server  # noqa: E402

S, I, E, T, B = (
    ItemType.STRUCTURE,
    ItemType.INTEGER,
    ItemType.ENUMERATION,
    ItemType.TEXT_STRING,
    ItemType.BYTE_STRING,
)


FILL_BATCH = 50  # Creates per request when filling keyshelf from the small to the large population


# -- requests (KMIP 1.2, spec 1.2 section 4 payloads, Template-Attribute form) --------------------
def _attr(name: str, value: Item) -> Item:
    return Item(
        Tag.ATTRIBUTE,
        S,
        (Item(Tag.ATTRIBUTE_NAME, T, name), Item(Tag.ATTRIBUTE_VALUE, value.type, value.value)),
    )


def _message(operation: Operation, payload: tuple[Item, ...], batch: int = 1) -> bytes:
    return _batch_message([(operation, payload)] * batch)


def _batch_message(items: list[tuple[Operation, tuple[Item, ...]]]) -> bytes:
    batch = len(items)
    header = Item(
        Tag.REQUEST_HEADER,
        S,
        (
            Item(
                Tag.PROTOCOL_VERSION,
                S,
                (Item(Tag.PROTOCOL_VERSION_MAJOR, I, 1), Item(Tag.PROTOCOL_VERSION_MINOR, I, 2)),
            ),
            Item(Tag.BATCH_COUNT, I, batch),
        ),
    )
    batch_items = tuple(
        Item(
            Tag.BATCH_ITEM,
            S,
            (
                Item(Tag.OPERATION, E, int(operation)),
                *((Item(Tag.UNIQUE_BATCH_ITEM_ID, B, n.to_bytes(2, "big")),) if batch > 1 else ()),
                Item(Tag.REQUEST_PAYLOAD, S, payload),
            ),
        )
        for n, (operation, payload) in enumerate(items)
    )
    return encode(Item(Tag.REQUEST_MESSAGE, S, (header, *batch_items)))


def _asi(data: str) -> Item:
    return Item(
        Tag.ATTRIBUTE_VALUE,
        S,
        (Item(Tag.APPLICATION_NAMESPACE, T, "LIBRARY-LTO"), Item(Tag.APPLICATION_DATA, T, data)),
    )


def create_request(asi_data: str | None = None) -> bytes:
    return _batch_message([(Operation.CREATE, _create_payload(asi_data))])


def create_batch_request(asi_data: list[str]) -> bytes:
    """One message creating a key per ASI (the keyshelf fill beyond PyKMIP's population only)."""
    return _batch_message([(Operation.CREATE, _create_payload(a)) for a in asi_data])


def _create_payload(asi_data: str | None) -> tuple[Item, ...]:
    attrs = [
        _attr("Cryptographic Algorithm", Item(Tag.ATTRIBUTE_VALUE, E, int(CryptographicAlgorithm.AES))),
        _attr("Cryptographic Length", Item(Tag.ATTRIBUTE_VALUE, I, 256)),
        _attr("Cryptographic Usage Mask", Item(Tag.ATTRIBUTE_VALUE, I, 0x0C)),
    ]
    if asi_data is not None:
        attrs.append(_attr("Application Specific Information", _asi(asi_data)))
    return (
        Item(Tag.OBJECT_TYPE, E, int(ObjectType.SYMMETRIC_KEY)),
        Item(Tag.TEMPLATE_ATTRIBUTE, S, tuple(attrs)),
    )


def uid_request(operation: Operation, uid: str) -> bytes:
    return _message(operation, (Item(Tag.UNIQUE_IDENTIFIER, T, uid),))


def locate_asi_request(asi_data: str) -> bytes:
    return _message(Operation.LOCATE, (_attr("Application Specific Information", _asi(asi_data)),))


def asi_for(n: int) -> str:
    """A 44-byte LTO-4 style KAD as the profile's uppercase hex (digest section 3.1.2)."""
    return f"{n:024X}" + "AB" * 32


# -- responses --------------------------------------------------------------------------------------
def _find(item: Item, tag: int) -> Item | None:
    if item.tag == tag:
        return item
    if item.type == S:
        for child in item.value:
            found = _find(child, tag)
            if found is not None:
                return found
    return None


def check(response: bytes) -> Item:
    message = decode(response)
    status = _find(message, Tag.RESULT_STATUS)
    if status is None or status.value != ResultStatus.SUCCESS:
        reason = _find(message, Tag.RESULT_REASON)
        text = _find(message, Tag.RESULT_MESSAGE)
        raise RuntimeError(f"KMIP failure: reason {reason and reason.value} {text and text.value}")
    return message


# The timed loop checks responses on their bytes: every Result Status item (tag, type
# Enumeration, length 4) must be Success, and the Unique Identifier of a Create is read where
# it is. Decoding the whole message in Python cost the load generator ~60 us per request, CPU
# taken from the servers it shares the machine with. Anything unexpected is decoded in full
# (check(): the error with its reason and message).
_STATUS_ITEM = struct.pack(">IBI", Tag.RESULT_STATUS, ItemType.ENUMERATION, 4)[1:]
_UID_ITEM = struct.pack(">IB", Tag.UNIQUE_IDENTIFIER, ItemType.TEXT_STRING)[1:]


def quick_check(response: bytes) -> None:
    """Raise (as check() does) unless every Result Status in ``response`` is Success."""
    at = response.find(_STATUS_ITEM)
    if at < 0:
        check(response)
        raise RuntimeError("no Result Status in the response")
    while at >= 0:
        if struct.unpack_from(">I", response, at + 8)[0] != ResultStatus.SUCCESS:
            check(response)
            raise RuntimeError("a Result Status is not Success")
        at = response.find(_STATUS_ITEM, at + 16)


def quick_uid(response: bytes) -> str:
    """The first Unique Identifier of a successful response (quick_check first)."""
    quick_check(response)
    at = response.find(_UID_ITEM)
    if at < 0:
        raise RuntimeError("no Unique Identifier in the response")
    (length,) = struct.unpack_from(">I", response, at + 4)
    return response[at + 8 : at + 8 + length].decode()


def uids_of(response: bytes) -> list[str]:
    message = check(response)
    out: list[str] = []

    def walk(item: Item) -> None:
        if item.tag == Tag.UNIQUE_IDENTIFIER and item.type == T:
            out.append(item.value)
        elif item.type == S:
            for child in item.value:
                walk(child)

    walk(message)
    return out


# -- transport ----------------------------------------------------------------------------------------
class Connection:
    def __init__(self, port: int, certs: Path) -> None:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(certs / "ca.crt"))
        ctx.check_hostname = False
        ctx.load_cert_chain(certs / "client-a.crt", certs / "client-a.key")
        raw = socket.create_connection(("127.0.0.1", port), timeout=120)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = ctx.wrap_socket(raw)

    def _read(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
        return bytes(buf)

    def call(self, request: bytes) -> bytes:
        self.sock.sendall(request)
        header = self._read(8)
        return header + self._read(struct.unpack(">I", header[4:])[0])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


# -- load generator ------------------------------------------------------------------------------------
@dataclass
class Phase:
    name: str
    ops: int
    seconds: float
    latencies_ms: list[float]

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# Requests of the running phase, encoded in the parent before the worker processes fork (they
# inherit them): the load generator's CPU, which shares this machine's cores with the server
# under test, goes to sending and checking, and no worker encodes while others are timed.
_PREPARED: list[list[bytes]] = []


def _prepare(op: str, conc: int, uids: list[str]) -> list[list[bytes]]:
    """Per worker: the requests it sends (create: one, sent repeatedly; get/get_attributes:
    one per key, picked at random; destroy: its share of the keys, each once)."""
    if op == "create":
        return [[create_request()]] * conc
    if op == "destroy":
        return [[uid_request(Operation.DESTROY, uid) for uid in uids[i::conc]] for i in range(conc)]
    operation = Operation.GET if op == "get" else Operation.GET_ATTRIBUTES
    return [[uid_request(operation, uid) for uid in uids]] * conc


def _worker(args: tuple[int, str, str, float, int]) -> tuple[int, list[float], list[str], float]:
    port, certs, op, duration, index = args
    requests = _PREPARED[index]
    conn = Connection(port, Path(certs))
    rng = random.Random(index)
    lat: list[float] = []
    created: list[str] = []
    pending = list(requests)
    start = time.perf_counter()
    deadline = start + duration
    try:
        while time.perf_counter() < deadline:
            if op == "create":
                req = requests[0]
            elif op == "destroy":
                if not pending:
                    break
                req = pending.pop()
            else:
                req = rng.choice(requests)
            t0 = time.perf_counter()
            resp = conn.call(req)
            lat.append((time.perf_counter() - t0) * 1000)
            if op == "create":
                created.append(quick_uid(resp))
            else:
                quick_check(resp)
    finally:
        conn.close()
    return len(lat), lat, created, time.perf_counter() - start


def run_phase(
    port: int, certs: Path, op: str, conc: int, duration: float, uids: list[str]
) -> tuple[Phase, list[str]]:
    _PREPARED[:] = _prepare(op, conc, uids)
    with mp.get_context("fork").Pool(conc) as pool:
        t0 = time.perf_counter()
        results = pool.map(_worker, [(port, str(certs), op, duration, i) for i in range(conc)])
        wall = time.perf_counter() - t0
    ops = sum(r[0] for r in results)
    lat = [x for r in results for x in r[1]]
    created = [u for r in results for u in r[2]]
    busy = max(r[3] for r in results) if results else wall
    return Phase(f"{op}", ops, busy, lat), created


def fill(port: int, certs: Path, start: int, count: int, conc: int = 4, batch: int = 1) -> float:
    """Create ``count`` keys with distinct ASIs (numbered from ``start``), ``batch`` Creates per
    request message; returns seconds. Untimed set-up: the timed phases send identical single
    requests to both servers; only keyshelf's fill beyond PyKMIP's population is batched."""
    ranges = [(start + i * count // conc, start + (i + 1) * count // conc) for i in range(conc)]
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(conc) as pool:
        pool.map(_fill_range, [(port, str(certs), lo, hi, batch) for lo, hi in ranges])
    return time.perf_counter() - t0


def _fill_range(args: tuple[int, str, int, int, int]) -> None:
    port, certs, lo, hi, batch = args
    conn = Connection(port, Path(certs))
    try:
        for n in range(lo, hi, batch):
            asis = [asi_for(i) for i in range(n, min(n + batch, hi))]
            request = create_request(asis[0]) if len(asis) == 1 else create_batch_request(asis)
            if len(uids_of(conn.call(request))) != len(asis):
                raise RuntimeError("fill: a Create of the batch did not return its key")
    finally:
        conn.close()


def locate_latency(port: int, certs: Path, population: int, samples: int) -> Phase:
    conn = Connection(port, certs)
    rng = random.Random(7)
    lat = []
    t0 = time.perf_counter()
    try:
        for _ in range(samples):
            n = rng.randrange(population)
            s = time.perf_counter()
            found = uids_of(conn.call(locate_asi_request(asi_for(n))))
            lat.append((time.perf_counter() - s) * 1000)
            if len(found) != 1:
                raise RuntimeError(f"Locate by ASI found {len(found)} objects, expected 1")
    finally:
        conn.close()
    return Phase("locate_asi", samples, time.perf_counter() - t0, lat)


# -- driver --------------------------------------------------------------------------------------------
PER_CPU = 0  # [limits] processes = 0: one server process per CPU (profiles/supervisor.py)


def _keyshelf(stack: contextlib.ExitStack, workdir: Path, processes: int | None) -> tuple[int, Path]:
    """A keyshelf-server on a fresh data directory; ``processes``: its [limits] processes
    (None: what ``keyshelf-server init`` writes, i.e. the default)."""
    datadir = workdir / f"keyshelf-{'default' if processes is None else processes}" / "data"
    harness.init_data_dir(datadir)
    config = datadir / "keyshelf.toml"
    if processes is not None:
        text = config.read_text().replace("[limits]\n", f"[limits]\nprocesses = {processes}\n", 1)
        config.write_text(text)
    server = stack.enter_context(harness.ServerProcess(config, datadir / "server.log"))
    return server.port, datadir


@contextlib.contextmanager
def servers(workdir: Path, processes: int | None) -> Iterator[dict[str, tuple[int, Path]]]:
    """keyshelf with ``processes`` (the main figures), keyshelf as configured by default when
    that differs (one process), and PyKMIP's server on the main keyshelf's certificates."""
    with contextlib.ExitStack() as stack:
        targets = {"keyshelf": _keyshelf(stack, workdir, processes)}
        if processes is not None:
            targets["keyshelf_default"] = _keyshelf(stack, workdir, None)
        pykmip = stack.enter_context(pykmip_server(targets["keyshelf"][1], workdir))
        targets["pykmip"] = (pykmip.port, targets["keyshelf"][1])
        yield targets


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def measure(quick: bool, log: Callable[[str], None], processes: int | None = PER_CPU) -> dict[str, object]:
    duration = 1.5 if quick else 4.0
    small, large = (1_000, 5_000) if quick else (10_000, 100_000)
    out: dict[str, object] = {
        "quick": quick,
        "duration_s": duration,
        "cpus": _cpus(),
        "keyshelf_processes": (
            f"{LimitsConfig().processes} (the default)"
            if processes is None
            else f"{_cpus()} (processes = 0: one per CPU)"
            if processes == PER_CPU
            else str(processes)
        ),
    }
    with (
        tempfile.TemporaryDirectory(prefix="keyshelf-bench-") as tmp,
        servers(Path(tmp), processes) as targets,
    ):
        for name, (port, certs) in targets.items():
            for conc in (1, 8):
                create, uids = run_phase(port, certs, "create", conc, duration, [])
                get, _ = run_phase(port, certs, "get", conc, duration, uids)
                attrs, _ = run_phase(port, certs, "get_attributes", conc, duration, uids)
                destroy, _ = run_phase(port, certs, "destroy", conc, duration, uids)
                for phase in (create, get, attrs, destroy):
                    key = f"{name}_{phase.name}_c{conc}"
                    out[f"{key}_ops_s"] = round(phase.ops_per_s, 1)
                    out[f"{key}_p50_ms"] = round(phase.pct(0.5), 3)
                    out[f"{key}_p99_ms"] = round(phase.pct(0.99), 3)
                    log(
                        f"{key:40s} {phase.ops_per_s:9.1f} ops/s  p50 {phase.pct(0.5):7.2f} ms  p99 {phase.pct(0.99):7.2f} ms"
                    )
        for name in ("keyshelf", "pykmip"):
            port, certs = targets[name]
            seconds = fill(port, certs, 0, small)
            log(f"{name}: filled {small} keys with ASIs in {seconds:.1f} s")
            phase = locate_latency(port, certs, small, 3 if name == "pykmip" else 200)
            out[f"{name}_locate_asi_p50_ms_at_{small}"] = round(phase.pct(0.5), 3)
            log(f"{name} Locate by ASI at {small}: p50 {phase.pct(0.5):.2f} ms")
        port, certs = targets["keyshelf"]
        seconds = fill(port, certs, small, large - small, batch=FILL_BATCH)
        log(f"keyshelf: filled to {large} keys in {seconds:.1f} s more")
        phase = locate_latency(port, certs, large, 500)
        out["locate_asi_p50_ms"] = round(phase.pct(0.5), 3)
        out["locate_asi_p99_ms"] = round(phase.pct(0.99), 3)
        out["locate_asi_objects"] = large
        out["pykmip_locate_note"] = (
            f"PyKMIP measured at {small} keys only: filling it to {large} takes too long"
        )
    for op in ("get", "create", "get_attributes", "destroy"):
        for conc in (1, 8):
            theirs = float(out[f"pykmip_{op}_c{conc}_ops_s"])  # type: ignore[arg-type]
            for name, suffix in (("keyshelf", ""), ("keyshelf_default", "_default_config")):
                if f"{name}_{op}_c{conc}_ops_s" in out:
                    ours = float(out[f"{name}_{op}_c{conc}_ops_s"])  # type: ignore[arg-type]
                    out[f"{op}_ratio_c{conc}{suffix}"] = round(ours / theirs, 2) if theirs else None
    return out


def write_markdown(results: dict[str, object]) -> None:
    default = "keyshelf_default_create_c1_ops_s" in results
    rows = [
        "## Server: keyshelf-server vs PyKMIP server (`python benchmarks/server.py`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, "
        f"{results['cpus']} CPUs, Python {platform.python_version()}; mutual TLS on loopback, KMIP 1.2 requests, "
        "worker processes with persistent connections, requests encoded before the clock starts, "
        "responses checked on their bytes (every Result Status Success)"
        f"{' (quick mode)' if results['quick'] else ''}. keyshelf-server processes: "
        f"{results['keyshelf_processes']}"
        + ("; the same server as configured by default (1 process) in the second table." if default else ".")
        + " The load generator runs on the same CPUs as the server under test.",
        "",
    ]

    def table(name: str, suffix: str) -> None:
        rows.extend(
            [
                "| operation | concurrency | keyshelf ops/s | p50 / p99 ms | PyKMIP ops/s | p50 / p99 ms | ratio |",
                "|---|---|---|---|---|---|---|",
            ]
        )
        for op in ("create", "get", "get_attributes", "destroy"):
            for conc in (1, 8):
                k, p = f"{name}_{op}_c{conc}", f"pykmip_{op}_c{conc}"
                rows.append(
                    f"| {op} | {conc} | {results[k + '_ops_s']} | {results[k + '_p50_ms']} / {results[k + '_p99_ms']} | "
                    f"{results[p + '_ops_s']} | {results[p + '_p50_ms']} / {results[p + '_p99_ms']} | "
                    f"{results[f'{op}_ratio_c{conc}{suffix}']}x |"
                )

    table("keyshelf", "")
    if default:
        rows += ["", "keyshelf-server as `keyshelf-server init` configures it (`processes = 1`):", ""]
        table("keyshelf_default", "_default_config")
    rows += ["", "Locate by Application Specific Information (p50):", ""]
    for key, value in results.items():
        if "locate_asi_p50_ms_at" in key:
            rows.append(f"- {key}: {value} ms")
    rows += [
        f"- keyshelf at {results['locate_asi_objects']} keys: p50 {results['locate_asi_p50_ms']} ms, "
        f"p99 {results['locate_asi_p99_ms']} ms",
        f"- {results['pykmip_locate_note']}",
        "",
        "Targets (issue 3): Get and Create >= 10x PyKMIP at concurrency 8; Locate by ASI at 100,000 keys p50 <= 2 ms.",
    ]
    report.write_section("server", "\n".join(rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="shorter phases, 1,000 / 5,000 keys for Locate")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument(
        "--processes",
        default=str(PER_CPU),
        help="keyshelf-server [limits] processes for the main figures: a number (0 = one per CPU, "
        "the default here) or 'default' (what keyshelf-server init writes, one process, measured "
        "alone); with a number, the default configuration is measured too",
    )
    args = parser.parse_args()
    log = (lambda line: print(line, file=sys.stderr)) if args.json else print
    processes = None if args.processes == "default" else int(args.processes)
    results = measure(args.quick, log, processes)
    if not args.no_write:
        write_markdown(results)
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
