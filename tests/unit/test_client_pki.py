"""Certificates for the agent's fake-server tests, from the project's test PKI.

The PKI itself is the integration fixtures' (tests/integration/conftest.py, built on
profiles.pki); this module only names the files the fake servers and clients use.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from tests.integration.conftest import make_pki as make_project_pki


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    server_der: bytes


def make_pki(directory: Path) -> Pki:
    pki = make_project_pki(directory)
    server_cert, server_key = pki.paths["server"]
    client_cert, client_key = pki.paths["client-a"]
    der = ssl.PEM_cert_to_DER_cert(server_cert.read_text())
    return Pki(pki.ca, server_cert, server_key, client_cert, client_key, der)


def test_pki_files_exist(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    for path in (pki.ca, pki.server_cert, pki.server_key, pki.client_cert, pki.client_key):
        assert path.read_bytes().startswith(b"-----BEGIN ")
    assert pki.server_der[:1] == b"\x30"  # a DER SEQUENCE
