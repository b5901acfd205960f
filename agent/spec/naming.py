"""Mechanical name forms: spec name -> XML/JSON CamelCase name, spec name -> UPPER_SNAKE member."""

from __future__ import annotations

import re

_PARENS = re.compile(r"[()]")
_BEFORE_WORD = re.compile(r"[^\w\s](?=[A-Za-z][a-z])")
_OTHER = re.compile(r"[^\w\s]")
_LEADING_DIGITS = re.compile(r"^(\d+)(\D.*)$")
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def _move_leading_digits(words: list[str]) -> list[str]:
    # ENC §4.1.3 step 4: leading digits of the first word move to its end ("3DES" -> "DES3").
    if words:
        m = _LEADING_DIGITS.match(words[0])
        if m:
            words[0] = m.group(2) + m.group(1)
    return words


def xml_name(spec_name: str) -> str:
    """The CamelCase name of the KMIP XML and JSON encodings (ENC §4.1.3 normalisation).

    1) "(" and ")" become spaces; 2) a non-word character followed by a letter and a lower-case
    letter becomes a space; 3) every other non-word character becomes "_"; 4) leading digits of
    the first word move to its end; 5) each word is capitalised (first letter only); 6) joined.
    "Unique Batch Item ID" -> "UniqueBatchItemID", "PKCS#1" -> "PKCS_1", "3DES" -> "DES3",
    "Pre-Active" -> "PreActive", "SHA-512/224" -> "SHA_512_224".
    """
    text = _PARENS.sub(" ", spec_name)
    text = _BEFORE_WORD.sub(" ", text)
    text = _OTHER.sub("_", text)
    words = _move_leading_digits(text.split())
    return "".join(w[:1].upper() + w[1:] for w in words)


def member_name(spec_name: str) -> str:
    """The UPPER_SNAKE Python member name of a tag or enumeration value.

    Each run of non-alphanumeric characters becomes one "_"; leading digits of the first word
    move to its end as in :func:`xml_name`: "Unique Identifier" -> ``UNIQUE_IDENTIFIER``,
    "3DES" -> ``DES3``, "PKCS#1" -> ``PKCS_1``, "IV/Counter/Nonce" -> ``IV_COUNTER_NONCE``.
    """
    words = _move_leading_digits(_NON_ALNUM.sub(" ", spec_name).split())
    return "_".join(w.upper() for w in words)


def fold(name: str) -> str:
    """Lookup key tolerant of case and spacing: "Object archived" == "Object  Archived"."""
    return " ".join(name.split()).casefold()
