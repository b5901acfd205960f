"""agent.tape, the pure layer: KAD <-> Application Data (TLP §2.4), generations, namespaces."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agent.tape import (
    LTO_GENERATIONS,
    NAMESPACE,
    Generation,
    KadError,
    TapeKey,
    application_data,
    check_application_data,
    check_namespace,
    is_tape_namespace,
    lookup_generation,
    new_identifier,
    parse_kad_hex,
    split_application_data,
)

OASIS_DATA = "123456789ABCDEF123456789123456789ABCDEF123456789ABCDEF1234000000"


def test_kad_bytes_become_uppercase_hex_pairs_u_kad_first() -> None:
    # TLP §2.4 steps 2 and 3; TLP §1.1: high nibble first, uppercase.
    assert application_data(b"\x01\xab", b"\xcd\xef") == "01ABCDEF"
    assert application_data(b"", b"\x0f") == "0F"
    assert application_data(b"\xf0", b"") == "F0"


def test_actual_lengths_not_maximum_sizes() -> None:
    # TLP §2.4 note: short KAD fields are not padded to N(u)/N(a).
    assert application_data(b"\x00", b"\x00", generation="lto6") == "0000"


@pytest.mark.parametrize(
    ("gen", "u", "a"),
    [
        ("lto4", 32, 12),
        ("lto5", 32, 60),
        ("lto6", 32, 60),
        ("lto7", 32, 60),
        ("lto8", 32, 60),
        ("lto9", 32, 60),
    ],
)
def test_generation_sizes(gen: str, u: int, a: int) -> None:
    g = lookup_generation(gen)
    assert (g.u_kad, g.a_kad, g.k_kad) == (u, a, u + a)
    assert application_data(bytes(u), bytes(a), generation=gen) == "00" * (u + a)
    with pytest.raises(KadError) as err:
        application_data(bytes(u + 1), b"", generation=gen)
    assert err.value.reason == KadError.TOO_LONG
    with pytest.raises(KadError) as err:
        application_data(b"", bytes(a + 1), generation=gen)
    assert err.value.reason == KadError.TOO_LONG


def test_generation_names_and_namespaces() -> None:
    assert lookup_generation("LTO-8").name == "lto8"
    assert lookup_generation("4").namespace == "LIBRARY-LTO4"
    assert lookup_generation("lto6").namespace == "LIBRARY-LTO6"
    with pytest.raises(KadError) as err:
        lookup_generation("lto3")
    assert err.value.reason == KadError.UNKNOWN_GENERATION
    extended = {**LTO_GENERATIONS, "lto10": Generation("lto10", 60, 32, "LIBRARY-LTO10")}
    assert lookup_generation("lto10", extended).k_kad == 92
    with pytest.raises(TypeError):
        LTO_GENERATIONS["lto10"] = extended["lto10"]  # type: ignore[index]


def test_without_generation_the_largest_sizes_bound_the_kad() -> None:
    assert len(application_data(bytes(32), bytes(60))) == 184
    with pytest.raises(KadError) as err:
        application_data(bytes(33), b"")
    assert err.value.reason == KadError.TOO_LONG


def test_empty_and_non_bytes_kad() -> None:
    with pytest.raises(KadError) as err:
        application_data(b"", b"")
    assert err.value.reason == KadError.EMPTY
    with pytest.raises(KadError) as err:
        application_data("0102", b"")  # type: ignore[arg-type]
    assert err.value.reason == KadError.NOT_BYTES


def test_split_fills_authenticated_kad_first_from_the_right() -> None:
    u, a = split_application_data(OASIS_DATA, "lto4")
    assert (len(u), len(a)) == (20, 12)
    assert a == bytes.fromhex(OASIS_DATA[-24:])
    u, a = split_application_data(OASIS_DATA, "lto5")
    assert (u, a) == (b"", bytes.fromhex(OASIS_DATA))
    u, a = split_application_data("00" * 92, "lto8")
    assert (len(u), len(a)) == (32, 60)


@pytest.mark.parametrize("gen", sorted(LTO_GENERATIONS))
def test_split_then_join_is_identity(gen: str) -> None:
    g = LTO_GENERATIONS[gen]
    for n in (1, 12, 13, 32, 44, g.k_kad):
        if n > g.k_kad:
            continue
        data = bytes(range(n)).hex().upper()
        u, a = split_application_data(data, gen)
        assert len(a) <= g.a_kad and len(u) <= g.u_kad
        assert application_data(u, a, generation=gen) == data


@pytest.mark.parametrize(
    ("data", "gen", "reason"),
    [
        ("ABC", "lto5", KadError.ODD_LENGTH),
        ("abcd", "lto5", KadError.NOT_UPPERCASE_HEX),  # lowercase from a peer: rejected, not fixed up
        ("AbCD", "lto5", KadError.NOT_UPPERCASE_HEX),
        ("0G", "lto5", KadError.NOT_UPPERCASE_HEX),
        (" 0A", "lto5", KadError.ODD_LENGTH),
        ("0A ", "lto5", KadError.ODD_LENGTH),
        ("0A\n1", "lto5", KadError.NOT_UPPERCASE_HEX),
        ("", "lto5", KadError.EMPTY),
        ("00" * 45, "lto4", KadError.TOO_LONG),  # 2·N(k) = 88 characters for LTO4
        ("00" * 93, "lto9", KadError.TOO_LONG),
        ("00", "lto2", KadError.UNKNOWN_GENERATION),
    ],
)
def test_invalid_application_data(data: str, gen: str, reason: str) -> None:
    with pytest.raises(KadError) as err:
        split_application_data(data, gen)
    assert err.value.reason == reason
    assert isinstance(err.value, ValueError)


def test_max_lengths_accepted() -> None:
    assert check_application_data("FF" * 44, LTO_GENERATIONS["lto4"]) == b"\xff" * 44
    assert check_application_data("FF" * 92, LTO_GENERATIONS["lto6"]) == b"\xff" * 92


def test_namespaces() -> None:
    # TLP §2.4: LIBRARY-LTO, LIBRARY-LTO4/5/6 SHOULD be used; VENDOR-LIBRARY-LTO MAY be accepted.
    for ns in (
        "LIBRARY-LTO",
        "LIBRARY-LTO4",
        "LIBRARY-LTO6",
        "LIBRARY-LTO9",
        "ACME-LIBRARY-LTO",
        "X.Y-LIBRARY-LTO",
    ):
        assert is_tape_namespace(ns), ns
        assert check_namespace(ns) == ns
    for ns in ("LIBRARY", "library-lto", "LIBRARY-LTO-4", "-LIBRARY-LTO", "A B-LIBRARY-LTO", "SED"):
        assert not is_tape_namespace(ns), ns
        with pytest.raises(KadError) as err:
            check_namespace(ns)
        assert err.value.reason == KadError.BAD_NAMESPACE
    assert NAMESPACE == "LIBRARY-LTO"


def test_new_identifier_is_random_and_fits() -> None:
    calls: list[int] = []

    def fake(n: int) -> bytes:
        calls.append(n)
        return bytes(range(n))

    u, a = new_identifier("lto4", token_bytes=fake)
    assert calls == [32]
    assert u + a == bytes(range(32)) and len(a) == 12
    u, a = new_identifier("lto6", size=92, token_bytes=fake)
    assert (len(u), len(a)) == (32, 60)
    with pytest.raises(KadError) as err:
        new_identifier("lto4", size=45)
    assert err.value.reason == KadError.TOO_LONG
    first, second = new_identifier("lto8"), new_identifier("lto8")
    assert first != second


def test_parse_kad_hex_is_lenient_for_people_only() -> None:
    assert parse_kad_hex("0a:bC 12") == b"\x0a\xbc\x12"
    assert parse_kad_hex("0x00FF") == b"\x00\xff"
    with pytest.raises(KadError) as err:
        parse_kad_hex("abc")
    assert err.value.reason == KadError.ODD_LENGTH
    with pytest.raises(KadError) as err:
        parse_kad_hex("zz")
    assert err.value.reason == KadError.NOT_UPPERCASE_HEX


def test_tape_key_repr_hides_key_material() -> None:
    key = TapeKey(uid="u1", key=b"\x2a" * 32, application_data="00", namespace=NAMESPACE)
    assert "2a" not in repr(key).lower().replace("data='00'", "")
    assert "<32 bytes>" in repr(key)


def _tl_files(root: Path) -> list[Path]:
    return sorted(root.glob("profiles/*/mandatory/TL-M-*.xml"))


def test_every_oasis_tape_asi_round_trips(kmip_test_cases: Path) -> None:
    # Every ASI of every TL-M file, all versions (1.3, 1.4, 2.0, 2.1): the namespace is a tape
    # namespace and the data splits and joins back exactly, for every generation it fits.
    files = _tl_files(kmip_test_cases)
    assert {f.parent.parent.name for f in files} >= {"v1.3", "v1.4", "v2.0", "v2.1"}
    seen = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        # the OASIS originals may lack a root or repeat one; wrap to parse every element
        body = text.replace("<KMIP>", "").replace("</KMIP>", "")
        root = ET.fromstring(f"<R>{body}</R>")
        for asi in root.iter():
            ns = asi.find("ApplicationNamespace")
            data = asi.find("ApplicationData")
            if ns is None or data is None:
                continue
            seen += 1
            assert is_tape_namespace(ns.get("value", ""))
            value = data.get("value", "")
            for gen, g in LTO_GENERATIONS.items():
                if len(value) <= 2 * g.k_kad:
                    u, a = split_application_data(value, gen)
                    assert application_data(u, a, generation=gen) == value
    assert seen >= 4 * 5  # TL-M-2 (1 ASI) and TL-M-3 (4 Locates) per version
