"""profiles.entropy: the pooled CSPRNG behind key material, Unique Identifiers and nonces."""

from __future__ import annotations

import os
import uuid

import pytest

from profiles import entropy


def test_lengths_and_no_repeats() -> None:
    seen = set()
    for n in (0, 1, 12, 16, 32, 255, 256, 257, 5000):
        out = entropy.random_bytes(n)
        assert isinstance(out, bytes) and len(out) == n
        if n >= 12:
            assert out not in seen
            seen.add(out)
    # across refills of the pool: 2,000 keys, no two equal
    keys = {entropy.random_bytes(32) for _ in range(2000)}
    assert len(keys) == 2000
    with pytest.raises(ValueError):
        entropy.random_bytes(-1)


def test_bytes_handed_out_are_zeroed_in_the_pool() -> None:
    out = entropy.random_bytes(32)
    pool = entropy._pool
    at = pool._at
    assert bytes(pool._buf[at - 32 : at]) == bytes(32) != out


def test_uuid_is_version_4() -> None:
    ids = {entropy.new_uuid() for _ in range(500)}
    assert len(ids) == 500
    for text in list(ids)[:20]:
        u = uuid.UUID(text)
        assert u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_repeats_the_parent() -> None:
    entropy.random_bytes(1)  # the pool holds bytes the child must not hand out again
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(write, entropy.random_bytes(64))
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 64
    assert child != entropy.random_bytes(64)
