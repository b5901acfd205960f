"""Fuzz campaign for the TTLV decoders.

    python benchmarks/fuzz_ttlv.py [--cases N] [--seed S] [--jobs J]

Feeds N inputs (default 1,000,000) to ``agent.ttlv.decode`` and ``decode_declared``:
random bytes, TTLV-shaped noise (plausible headers with arbitrary lengths and bodies), and
mutations of valid encodings (bit flips, byte overwrites, insertions, deletions, truncations,
Length rewrites, spliced slices) of random Item trees and of the four benchmark messages.

Checked for every input: only ``DecodeError`` escapes either decoder; the fast and the
declared decoders give the same Item or both fail; whatever decodes re-encodes to bytes that
decode to the same Item. Deterministic for a seed; exits 1 on the first violation found
(printed with its input in hex).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# The checkout's packages first: sys.path[0] is benchmarks/, whose scripts (agent.py, ...) must
# not shadow them.
sys.path.insert(0, str(REPO))

from agent.spec import ItemType  # noqa: E402
from agent.ttlv import DecodeError, Item, decode, decode_declared, encode  # noqa: E402
from benchmarks import report  # noqa: E402

T = ItemType
CHUNK = 5_000


def random_item(rng: random.Random, depth: int = 0) -> Item:
    tag = rng.choice((0x42, 0x42, 0x42, 0x54)) << 16 | rng.getrandbits(16)
    if depth < 4 and rng.random() < 0.3:
        children = tuple(random_item(rng, depth + 1) for _ in range(rng.randint(0, 4)))
        return Item(tag, T.STRUCTURE, children)
    item_type = rng.choice([t for t in ItemType if t is not T.STRUCTURE])
    value: Any
    if item_type is T.INTEGER:
        value = rng.randint(-(2**31), 2**31 - 1)
    elif item_type in (T.ENUMERATION, T.INTERVAL):
        value = rng.getrandbits(32)
    elif item_type is T.BIG_INTEGER:
        value = rng.randint(-(2**130), 2**130)
    elif item_type is T.BOOLEAN:
        value = rng.random() < 0.5
    elif item_type is T.TEXT_STRING:
        value = "".join(rng.choice("aZ9 -é€\U0001f511") for _ in range(rng.randint(0, 12)))
    elif item_type is T.BYTE_STRING:
        value = rng.randbytes(rng.randint(0, 12))
    else:  # Long Integer, Date-Time, Date-Time Extended
        value = rng.randint(-(2**63), 2**63 - 1)
    return Item(tag, item_type, value)


def header(rng: random.Random) -> bytes:
    prefix = rng.choice((0x42, 0x42, 0x54, rng.getrandbits(8)))
    length = rng.choice((0, 4, 8, 16, rng.randint(0, 48), 0xFFFFFFFF, 0x7FFFFFF8))
    return bytes([prefix]) + rng.randbytes(2) + bytes([rng.randint(0, 13)]) + length.to_bytes(4, "big")


def mutate(rng: random.Random, data: bytearray) -> bytearray:
    for _ in range(rng.choice((1, 1, 1, 2, 3, 4))):
        kind = rng.randrange(7)
        at = rng.randrange(len(data)) if data else 0
        if kind == 0 and data:
            data[at] ^= 1 << rng.randrange(8)
        elif kind == 1 and data:
            data[at] = rng.getrandbits(8)
        elif kind == 2:
            data[at:at] = rng.randbytes(rng.randint(1, 9))
        elif kind == 3:
            del data[at : at + rng.randint(1, 9)]
        elif kind == 4:
            del data[at:]
        elif kind == 5 and len(data) >= 8:
            start = at - at % 8
            if start + 8 <= len(data):
                data[start + 4 : start + 8] = rng.choice((0, 4, 8, rng.randint(0, 80))).to_bytes(4, "big")
        elif kind == 6 and data:
            end = rng.randint(at, len(data))
            data[rng.randrange(len(data) + 1) : 0] = data[at:end]
    return data


def make_case(rng: random.Random, corpus: list[bytes]) -> bytes:
    roll = rng.random()
    if roll < 0.1:
        return rng.randbytes(rng.randint(0, 40))
    if roll < 0.3:
        parts = [
            header(rng) if rng.random() < 0.6 else rng.randbytes(rng.choice((0, 4, 8, 5))) for _ in range(4)
        ]
        return b"".join(parts[: rng.randint(1, 4)])
    if roll < 0.45:
        return bytes(mutate(rng, bytearray(rng.choice(corpus))))
    return bytes(mutate(rng, bytearray(encode(random_item(rng)))))


def outcome(decoder: Any, data: bytes) -> Any:
    try:
        item = decoder(data)
    except DecodeError:
        return None
    return strict(item)


def strict(item: Item) -> Any:
    value = tuple(strict(child) for child in item.value) if item.type is T.STRUCTURE else item.value
    return (item.tag, int(item.type), type(value).__name__, value)


def run_chunk(args: tuple[int, int, int]) -> tuple[int, int, str | None]:
    """Run ``count`` cases from ``seed``; return (decoded, refused, first violation or None)."""
    seed, start, count = args
    rng = random.Random(seed * 1_000_003 + start)
    corpus = _corpus()
    decoded = refused = 0
    for _ in range(count):
        data = make_case(rng, corpus)
        try:
            fast = outcome(decode, data)
            declared = outcome(decode_declared, data)
        except Exception as exc:  # the property: nothing but DecodeError escapes
            return decoded, refused, f"{type(exc).__name__} escaped on {data.hex()}"
        if fast != declared:
            return decoded, refused, f"decoders disagree on {data.hex()}"
        if fast is None:
            refused += 1
            continue
        decoded += 1
        if outcome(decode, encode(decode(data))) != fast:
            return decoded, refused, f"re-encoding changed the item for {data.hex()}"
    return decoded, refused, None


_CORPUS: list[bytes] = []


def _corpus() -> list[bytes]:
    if not _CORPUS:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from codec import build_messages

        _CORPUS.extend(encode(item) for _, item in build_messages().values())
    return _CORPUS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="TTLV decoder fuzz campaign")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args(argv)
    chunks = [(args.seed, start, min(CHUNK, args.cases - start)) for start in range(0, args.cases, CHUNK)]
    began = time.perf_counter()
    decoded = refused = 0
    with multiprocessing.Pool(args.jobs) as pool:
        for ok, bad, violation in pool.imap_unordered(run_chunk, chunks):
            decoded += ok
            refused += bad
            if violation is not None:
                print(f"VIOLATION after {decoded + refused:,} cases: {violation}")
                pool.terminate()
                return 1
    elapsed = time.perf_counter() - began
    line = (
        f"{decoded + refused:,} cases, seed {args.seed}: {decoded:,} decoded, {refused:,} DecodeError, "
        f"0 other exceptions, 0 fast/declared disagreements, 0 re-encoding mismatches ({elapsed:.0f} s)"
    )
    print(line)
    if not args.no_write:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        report.write_section(
            "fuzz",
            "## TTLV decoder fuzz campaign (`python benchmarks/fuzz_ttlv.py`)\n\n"
            f"Run {when} with {args.jobs} processes: random and mutated TTLV through the fast decoder and"
            " the construct-declared one; only DecodeError may escape, both must agree, and whatever"
            " decodes must re-encode to the same bytes.\n\n"
            f"{line}",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
