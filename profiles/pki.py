"""A small certificate authority for ``keyshelf-server init`` and for tests.

Everything KMIP's mutual TLS needs (kmip-digest §3.4: the server SHALL require client
certificates): a self-signed CA, a server certificate for localhost / 127.0.0.1 / ::1, and
client certificates whose subject Common Name is the client identity. RSA-2048 is the
default because tape drives and the Basic Authentication Suite's TLS_RSA_WITH_AES_*_CBC_SHA256
suites (Profiles 1.4 §3.1, as quoted in kmip-digest §3.4) need RSA certificates; EC P-256 is
available for faster test fixtures. Time is a parameter so tests can mint expired certificates.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

DEFAULT_SERVER_NAMES: tuple[str, ...] = ("DNS:localhost", "IP:127.0.0.1", "IP:::1")


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: PrivateKey

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def __repr__(self) -> str:
        return f"Issued({self.cert.subject.rfc4514_string()!r})"


def new_key(key_type: str = "rsa") -> PrivateKey:
    """A fresh private key: "rsa" (2048 bits) or "ec" (P-256)."""
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unknown key type {key_type!r} (use 'rsa' or 'ec')")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_ca(
    common_name: str = "keyshelf CA",
    *,
    key_type: str = "rsa",
    now: dt.datetime | None = None,
    days: int = 3650,
) -> Issued:
    """A self-signed CA certificate (path length 0: it signs only end-entity certificates)."""
    now = now or _now()
    key = new_key(key_type)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return Issued(builder.sign(key, hashes.SHA256()), key)


def _general_name(entry: str) -> x509.GeneralName:
    kind, _, value = entry.partition(":")
    match kind.upper():
        case "DNS":
            return x509.DNSName(value)
        case "IP":
            return x509.IPAddress(ipaddress.ip_address(value))
        case "URI":
            return x509.UniformResourceIdentifier(value)
        case "EMAIL":
            return x509.RFC822Name(value)
    raise ValueError(f"subjectAltName entry {entry!r} must start with DNS:, IP:, URI: or email:")


def issue(
    ca: Issued,
    common_name: str,
    *,
    server: bool = False,
    san: Sequence[str] = (),
    key_type: str = "rsa",
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    days: int = 825,
) -> Issued:
    """An end-entity certificate signed by ``ca``: a TLS server (``server=True``, SANs
    defaulting to localhost/127.0.0.1/::1) or a TLS client whose CN is its identity."""
    now = _now()
    not_before = not_before or now - dt.timedelta(minutes=5)
    not_after = not_after or now + dt.timedelta(days=days)
    key = new_key(key_type)
    names = list(san) or (list(DEFAULT_SERVER_NAMES) if server else [])
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False
        )
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def write_new(path: str | os.PathLike[str], data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` (independent of the umask); never overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_pair(issued: Issued, cert_path: Path, key_path: Path) -> None:
    """Write the certificate (0644) and its private key (0600)."""
    write_new(key_path, issued.key_pem(), 0o600)
    write_new(cert_path, issued.cert_pem(), 0o644)
