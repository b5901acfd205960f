"""Mutual TLS on loopback with generated certificates (kmip-digest §3.4).

The server runs with the EchoHandler fake engine, so these tests are about the transport:
who gets in, with which identity, over which TLS versions. With TLS 1.3 a client finishes its
side of the handshake before the server has checked the client certificate, so a refusal
may surface on the client's first read instead of in ``wrap_socket``: ``refused()`` accepts both.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from profiles import pki as pkimod
from profiles.config import ServerConfig
from tests.integration.conftest import (
    EchoHandler,
    Pki,
    ServerThread,
    config_for,
    echo_identity,
    refused,
    request,
    roundtrip,
    tls_connect,
    wait_for,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def echo_server(make_config: Callable[..., ServerConfig]) -> Iterator[ServerThread]:
    with ServerThread(make_config(), EchoHandler()) as running:
        yield running


def test_valid_client_served_with_cn_identity(echo_server: ServerThread, pki: Pki) -> None:
    for name in ("client-a", "client-b"):
        with tls_connect(echo_server.port, pki.client_context(name)) as sock:
            assert echo_identity(roundtrip(sock, request())) == name
            assert echo_identity(roundtrip(sock, request("again"))) == name  # persistent connection
    assert echo_server.state.total_requests == 4
    assert echo_server.state.refused_handshakes == 0


def test_no_client_certificate_refused(echo_server: ServerThread, pki: Pki) -> None:
    assert refused(echo_server.port, pki.client_context(None))
    assert echo_server.state.total_requests == 0


def test_certificate_from_another_ca_refused(echo_server: ServerThread, pki: Pki) -> None:
    """The rogue certificate even carries CN=client-a: the CA is what counts."""
    assert refused(echo_server.port, pki.client_context("rogue"))
    assert echo_server.state.total_requests == 0


def test_expired_certificate_refused(echo_server: ServerThread, pki: Pki) -> None:
    assert refused(echo_server.port, pki.client_context("expired"))
    assert echo_server.state.total_requests == 0


def test_refusals_are_logged_with_a_reason(
    echo_server: ServerThread, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="keyshelf.server")
    assert refused(echo_server.port, pki.client_context("expired"))
    # Wait for the server-side record without timing anything: the refusal count is set
    # just before the log call, so poll the count, then read the log.
    assert wait_for(lambda: echo_server.state.refused_handshakes == 1)
    reasons = [r.fields["reason"] for r in caplog.records if r.getMessage() == "handshake refused"]  # type: ignore[attr-defined]
    assert any("expired" in reason for reason in reasons), reasons


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_1_client_refused(echo_server: ServerThread, pki: Pki) -> None:
    """A client limited to TLS 1.1. The local OpenSSL (3.x) will not offer TLS 1.1 at its
    default security level, so the client is lowered to @SECLEVEL=0 to send a real TLS 1.1
    ClientHello; the server must refuse it (and counts the refused handshake)."""
    ctx = pki.client_context("client-a", maximum=ssl.TLSVersion.TLSv1_1)
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        tls_connect(echo_server.port, ctx).close()
    assert wait_for(lambda: echo_server.state.refused_handshakes == 1)
    assert echo_server.state.total_requests == 0


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_accepted(echo_server: ServerThread, pki: Pki, version: ssl.TLSVersion) -> None:
    ctx = pki.client_context("client-b", minimum=version, maximum=version)
    with tls_connect(echo_server.port, ctx) as sock:
        assert (
            sock.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
        )
        assert echo_identity(roundtrip(sock, request())) == "client-b"


def test_basic_authentication_suite_rsa_cbc_sha256_offered(
    tmp_path_factory: pytest.TempPathFactory, kek_file: object
) -> None:
    """Profiles 1.4 §3.1 (kmip-digest §3.4): TLS_RSA_WITH_AES_256_CBC_SHA256 must be accepted
    (it needs an RSA server certificate, which `keyshelf-server init` writes)."""
    from tests.integration.conftest import config_for, make_pki

    rsa = make_pki(tmp_path_factory.mktemp("rsa-pki"), key_type="rsa")
    with ServerThread(config_for(rsa, tmp_path_factory.mktemp("d"), None), EchoHandler()) as running:
        ctx = rsa.client_context("client-a", maximum=ssl.TLSVersion.TLSv1_2)
        ctx.set_ciphers("AES256-SHA256")
        with tls_connect(running.port, ctx) as sock:
            cipher = sock.cipher()
            assert cipher is not None and cipher[0] == "AES256-SHA256"
            assert echo_identity(roundtrip(sock, request())) == "client-a"


def test_san_identity_mode(make_config: Callable[..., ServerConfig], pki: Pki) -> None:
    with ServerThread(make_config(identity="san-uri"), EchoHandler()) as running:
        with tls_connect(running.port, pki.client_context("san-client")) as sock:
            assert echo_identity(roundtrip(sock, request())) == "urn:keyshelf:library-7"
        # A certificate without any subjectAltName has no identity in this mode: refused.
        assert refused(running.port, pki.client_context("client-a"))


def issue_with_subject(
    ca: pkimod.Issued, subject: list[x509.NameAttribute], san: list[x509.GeneralName]
) -> pkimod.Issued:
    """A client certificate with any subject (pki.issue always writes a valid CN)."""
    key = pkimod.new_key("ec")
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return pkimod.Issued(builder.sign(ca.key, hashes.SHA256()), key)


@pytest.fixture(scope="module")
def identity_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Certificates of the CA with odd identities: an empty CN, no CN at all, and one with a
    URI, an e-mail address and a DNS name (in that order) besides its CN."""
    ca = pkimod.make_ca("keyshelf identity CA", key_type="ec")
    out = Pki.create(tmp_path_factory.mktemp("identity-pki"), ca)
    out.add("server", pkimod.issue(ca, "keyshelf-server", server=True, key_type="ec"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # cryptography warns about the empty CN
        empty_cn = x509.NameAttribute(NameOID.COMMON_NAME, "", _validate=False)
    out.add("empty-cn", issue_with_subject(ca, [empty_cn], []))
    out.add("no-cn", issue_with_subject(ca, [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "keyshelf")], []))
    names: list[x509.GeneralName] = [
        x509.UniformResourceIdentifier("urn:keyshelf:library-9"),
        x509.RFC822Name("ops@example.org"),
        x509.DNSName("library-9.example.org"),
    ]
    out.add("all-kinds", issue_with_subject(ca, [x509.NameAttribute(NameOID.COMMON_NAME, "cn-9")], names))
    out.add("uri-only", pkimod.issue(ca, "cn-10", san=["URI:urn:keyshelf:library-10"], key_type="ec"))
    return out


def test_certificate_without_usable_identity_refused_and_logged(
    identity_pki: Pki, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An empty CN would make every such certificate the same owner ("")."""
    caplog.set_level(logging.INFO, logger="keyshelf.server")
    with ServerThread(config_for(identity_pki, tmp_path, None), EchoHandler()) as running:
        for name in ("empty-cn", "no-cn"):
            assert refused(running.port, identity_pki.client_context(name)), name
        assert wait_for(lambda: running.state.refused_handshakes == 2)
        assert running.state.total_requests == 0
        with tls_connect(running.port, identity_pki.client_context("all-kinds")) as sock:
            assert echo_identity(roundtrip(sock, request())) == "cn-9"
    refusals = [r for r in caplog.records if r.getMessage() == "handshake refused"]
    assert len(refusals) == 2


@pytest.mark.parametrize(
    ("mode", "identity"),
    [
        ("san", "library-9.example.org"),  # "san" keeps meaning DNS, whatever comes first
        ("san-dns", "library-9.example.org"),
        ("san-email", "ops@example.org"),
        ("san-uri", "urn:keyshelf:library-9"),
        ("cn", "cn-9"),
    ],
)
def test_san_identity_uses_the_configured_kind(
    identity_pki: Pki, tmp_path: Path, mode: str, identity: str
) -> None:
    config = config_for(identity_pki, tmp_path, None, identity=mode)
    with ServerThread(config, EchoHandler()) as running:
        with tls_connect(running.port, identity_pki.client_context("all-kinds")) as sock:
            assert echo_identity(roundtrip(sock, request())) == identity
        # a certificate whose only subjectAltName is a URI has no DNS or e-mail identity
        assert refused(running.port, identity_pki.client_context("uri-only")) == (
            mode in ("san", "san-dns", "san-email")
        )


def test_one_log_line_per_request(
    echo_server: ServerThread, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="keyshelf.server")
    with tls_connect(echo_server.port, pki.client_context("client-b")) as sock:
        for i in range(3):
            roundtrip(sock, request(f"r{i}"))
    lines = [r for r in caplog.records if r.getMessage() == "request"]
    assert len(lines) == 3
    fields = lines[0].fields  # type: ignore[attr-defined]
    assert fields["client"] == "client-b"
    assert fields["items"] == [{"op": "Echo", "uid": ["client-b"], "result": "Success", "reason": None}]
    assert fields["ms"] >= 0 and fields["bytes_in"] == len(request("r0"))
