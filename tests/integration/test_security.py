"""Security review, end to end: a real server (engine + SQLite + KEK) over mutual TLS.

- key material with known bytes goes through every path (success, refusals, malformed key
  blocks, Maximum Response Size, garbage, oversize) and is then searched for in the server's
  log output, every Result Message, the agent's exceptions and the CLI's output;
- client-b never reaches client-a's objects, in 1.4 and 2.1; an [admin] identity does;
- TLS: a server certificate presented as a client certificate (EKU), a not-yet-valid one;
- bounded input: the server answers or closes, and keeps serving.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import io
import os
import socket
import ssl
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import errors, model
from agent.spec import (
    V1_4,
    V2_1,
    HashingAlgorithm,
    KeyFormatType,
    NameType,
    ObjectType,
    Operation,
    ResultReason,
    ResultStatus,
    SecretDataType,
    Version,
)
from profiles import pki as pkimod
from profiles.config import ServerConfig
from tests.integration.conftest import (
    HOST,
    Pki,
    ServerThread,
    closed_by_peer,
    config_for,
    kmip_call,
    kmip_request,
    read_message,
    refused,
    roundtrip,
    tls_connect,
    wait_for,
)

pytestmark = pytest.mark.timeout(180)

KNOWN = bytes.fromhex("7e57c0de0badcafef00dface8badf00da11ce5eeb0b5cafedeadc0de15c0ffee")
SECRET = b"the SED admin password #0042 ok"


def forms(secret: bytes) -> list[bytes]:
    return [
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret),
        base64.b64encode(secret).rstrip(b"="),
        repr(secret).encode(),
    ]


def assert_absent(blob: bytes | str, *secrets: bytes) -> None:
    data = blob.encode("utf-8", "backslashreplace") if isinstance(blob, str) else blob
    for secret in secrets:
        for form in forms(secret):
            assert form not in data, f"key material found in a {len(data)}-byte output"


def _running(config: ServerConfig) -> Iterator[ServerThread]:
    from profiles.server import build_handler

    handler, close = build_handler(config)
    try:
        with ServerThread(config, handler) as running:
            yield running
    finally:
        close()


@pytest.fixture
def admin_server(tls_pki: Pki, tmp_path: Path, kek_file: Path) -> Iterator[ServerThread]:
    """The real engine with ``[admin] identities = ["admin-c"]``."""
    config = dataclasses.replace(config_for(tls_pki, tmp_path, kek_file), admins=frozenset({"admin-c"}))
    yield from _running(config)


def symmetric(material: bytes) -> model.SymmetricKey:
    from agent.spec import CryptographicAlgorithm

    return model.SymmetricKey(
        model.KeyBlock(
            key_format_type=KeyFormatType.RAW,
            key_value=model.KeyValue(key_material=material),
            cryptographic_algorithm=CryptographicAlgorithm.AES,
            cryptographic_length=8 * len(material),
        )
    )


def secret(material: bytes) -> model.SecretData:
    return model.SecretData(
        SecretDataType.PASSWORD,
        model.KeyBlock(key_format_type=KeyFormatType.OPAQUE, key_value=model.KeyValue(key_material=material)),
    )


def result_messages(raw: bytes) -> list[str]:
    """Every Result Message text of a raw response (read without the model: any shape)."""
    from agent.spec import Tag
    from agent.ttlv import decode

    out: list[str] = []

    def walk(item: Any) -> None:
        if item.tag == Tag.RESULT_MESSAGE:
            out.append(str(item.value))
        if isinstance(item.value, tuple):
            for c in item.value:
                walk(c)

    walk(decode(raw))
    return out


def agent_client(pki: Pki, port: int, name: str, version: str = "1.4") -> Any:
    from agent.sync import Client

    cert, key = pki.paths[name]
    return Client([f"{HOST}:{port}"], cert=cert, key=key, ca=pki.ca, version=version, deadline=20.0)


# ============================================================================ key material


def test_key_material_never_in_logs_messages_exceptions_or_cli_output(
    kmip_server: ServerThread, pki: Pki, server_log: io.StringIO, tmp_path: Path
) -> None:
    port = kmip_server.port
    raws: list[bytes] = []
    with tls_connect(port, pki.client_context("client-a")) as sock:

        def call(data: bytes) -> bytes:
            raw = roundtrip(sock, data)
            raws.append(raw)
            return raw

        def reg(obj: Any, ot: ObjectType, version: Version = V1_4) -> str:
            item = kmip_call(
                sock, Operation.REGISTER, model.RegisterRequest(object_type=ot, managed_object=obj), version
            )
            assert item.result_status == ResultStatus.SUCCESS
            return str(item.response_payload.unique_identifier)

        key = reg(symmetric(KNOWN), ObjectType.SYMMETRIC_KEY)
        sd = reg(secret(SECRET), ObjectType.SECRET_DATA, V2_1)
        for uid, version in ((key, V1_4), (sd, V2_1), (key, V2_1)):
            call(kmip_request(Operation.GET, model.GetRequest(unique_identifier=uid), version))
        # Maximum Response Size exceeded on a Get of the key
        msg = model.RequestMessage(
            request_header=model.RequestHeader(
                protocol_version=model.ProtocolVersion.of(V1_4), batch_count=1, maximum_response_size=64
            ),
            batch_items=(
                model.RequestBatchItem(
                    operation=Operation.GET, request_payload=model.GetRequest(unique_identifier=key)
                ),
            ),
        )
        too_large = call(model.encode_message(msg))
        assert (
            model.decode_response(too_large).batch_items[0].result_reason == ResultReason.RESPONSE_TOO_LARGE
        )
        # Re-key, then Get of the replacement through the ID Placeholder
        call(kmip_request(Operation.RE_KEY, model.ReKeyRequest(unique_identifier=key)))
        # refusals after the key bytes were parsed: Object Type mismatch, Key Block without Key
        # Format Type (hand-built: the model would not write it), a malformed Key Value
        good = kmip_request(
            Operation.REGISTER,
            model.RegisterRequest(object_type=ObjectType.SYMMETRIC_KEY, managed_object=symmetric(KNOWN)),
        )
        mismatch = kmip_request(
            Operation.REGISTER,
            model.RegisterRequest(object_type=ObjectType.SECRET_DATA, managed_object=symmetric(KNOWN)),
        )
        assert (
            model.decode_response(call(mismatch)).batch_items[0].result_status
            == ResultStatus.OPERATION_FAILED
        )
        kft = bytes.fromhex("42004205000000040000000100000000")  # Key Format Type Raw, padded
        assert kft in good
        no_format = good.replace(
            kft, bytes.fromhex("4200D705000000040000000100000000")
        )  # unknown-in-block tag
        refused = call(no_format)
        assert model.decode_response(refused).batch_items[0].result_status == ResultStatus.OPERATION_FAILED
        material_header = bytes.fromhex("4200430800000020")  # Key Material, Byte String, 32 bytes
        assert material_header in good
        as_text = good.replace(material_header, bytes.fromhex("4200430700000020"))  # Key Material as Text
        call(as_text)
        # a body that does not decode (keeps the connection), with the key bytes inside
        call(good[:-16] + b"\xff" * 16)
        # client-b's Get of client-a's key
    with tls_connect(port, pki.client_context("client-b")) as sock:
        raws.append(roundtrip(sock, kmip_request(Operation.GET, model.GetRequest(unique_identifier=key))))
    # an oversized message carrying the key bytes: framing error, answered and closed
    with tls_connect(port, pki.client_context("client-a")) as sock:
        big = bytes.fromhex("42007801") + (2 << 20).to_bytes(4, "big") + KNOWN * 64
        sock.sendall(big)
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            raws.append(read_message(sock))
    for raw in raws:
        for message in result_messages(raw):
            assert_absent(message, KNOWN, SECRET)
    # the agent: exceptions for refused requests, and the CLI's output on failures
    with agent_client(pki, port, "client-b") as b:
        with pytest.raises(errors.ItemNotFound) as caught:
            b.get(key)
        assert_absent(repr(caught.value) + str(caught.value), KNOWN, SECRET)
    for cli_version, target in (("1.4", key), ("2.1", sd)):
        out, err = io.StringIO(), io.StringIO()
        cert, pkey = pki.paths["client-b"]
        from agent.cli import EXIT_NOT_FOUND, main

        argv = ["--server", f"{HOST}:{port}", "--ca", str(pki.ca), "--cert", str(cert), "--key", str(pkey)]
        code = main([*argv, "--kmip-version", cli_version, "get", "--uid", target], out=out, err=err)
        assert code == EXIT_NOT_FOUND
        assert_absent(out.getvalue() + err.getvalue(), KNOWN, SECRET)
    kmip_server.stop()
    log_text = server_log.getvalue()
    assert '"event":"request"' in log_text  # the request lines were captured
    assert_absent(log_text, KNOWN, SECRET)


def test_database_files_hold_neither_key_material_nor_its_digest(
    kmip_server: ServerThread, pki: Pki, tmp_path: Path
) -> None:
    """The SHA-256 Digest of key material (SPEC-1.4 §3.17) is reported but never written in
    clear: an unsalted hash of a SED password in the database would allow an offline dictionary
    attack without the KEK. Every file under the data directory (db, WAL) is searched, raw and
    hex, after Register, Get Attributes, Locate by Digest and Destroy."""
    import hashlib

    digests = [hashlib.sha256(m).digest() for m in (KNOWN, SECRET)]
    for version in ("1.4", "2.1"):
        with agent_client(pki, kmip_server.port, "client-a", version) as a:
            key = a.register(symmetric(KNOWN), ()).unique_identifier
            sd = a.register(secret(SECRET), ()).unique_identifier
            for uid, digest in ((key, digests[0]), (sd, digests[1])):
                (reported,) = [x.value for x in a.get_attributes(uid, ("Digest",)).attributes]
                assert reported.digest_value == digest
            found = a.locate((model.Attribute("Digest", model.Digest(HashingAlgorithm.SHA_256, digests[1])),))
            assert sd in tuple(found.unique_identifier) and key not in tuple(found.unique_identifier)
            a.destroy(sd)
            (reported,) = [x.value for x in a.get_attributes(sd, ("Digest",)).attributes]
            assert reported.digest_value == digests[1]
    kmip_server.stop()
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.name.endswith(".db") for f in files)
    for f in files:
        assert_absent(f.read_bytes(), KNOWN, SECRET, *digests)


def test_database_files_are_created_owner_only(tmp_path: Path, kek_file: Path) -> None:
    """keyshelf.db, its -wal and -shm (and the writer lock) are 0600 even under umask 022:
    they hold wrapped key material and every attribute. SQLite gives the WAL and SHM files the
    database file's mode, which is what makes this hold for them."""
    from profiles.keyprotect import KeyProtector
    from profiles.store import open_store
    from profiles.store.base import ObjectRecord

    db = tmp_path / "keyshelf.db"
    old = os.umask(0o022)
    try:
        store = open_store(f"sqlite:///{db}", KeyProtector.from_file(kek_file))
        try:
            store.insert(ObjectRecord("u1", 2, "client-a", 1, 0, False, b"", b"secret", []))
            names = ("keyshelf.db", "keyshelf.db-wal", "keyshelf.db-shm", "keyshelf.db-writer")
            modes = {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in names}
        finally:
            store.close()
    finally:
        os.umask(old)
    assert modes == dict.fromkeys(names, 0o600)


# ============================================================================ authorization


@pytest.mark.parametrize(
    ("version", "not_found"), [("1.4", errors.ItemNotFound), ("2.1", errors.ObjectNotFound)]
)
def test_client_b_cannot_reach_client_a_objects_admin_can(
    admin_server: ServerThread, tls_pki: Pki, version: str, not_found: type[errors.KmipError]
) -> None:
    pki = tls_pki
    port = admin_server.port
    with agent_client(pki, port, "client-a", version) as a:
        uid = a.register(symmetric(KNOWN), ()).unique_identifier
        a.activate(uid)
    with agent_client(pki, port, "client-b", version) as b:
        calls: list[Callable[[], object]] = [
            lambda: b.get(uid),
            lambda: b.get_attributes(uid),
            lambda: b.get_attribute_list(uid),
            lambda: b.check(uid),
            lambda: b.rekey(uid),
            lambda: b.destroy(uid),
            lambda: b.revoke(uid),
            lambda: b.add_attribute(uid, model.Attribute("x-b", "b")),
        ]
        for call in calls:
            with pytest.raises(not_found):
                call()
        located = b.locate(())
        assert uid not in tuple(located.unique_identifier)
    with agent_client(pki, port, "admin-c", version) as c:
        from agent.client import key_material

        assert key_material(c.get(uid).managed_object) == KNOWN
        new = c.rekey(uid).unique_identifier
    with agent_client(pki, port, "client-a", version) as a:
        # the replacement of the admin's Re-key still belongs to client-a
        assert a.get(new).unique_identifier == new


# ============================================================================ TLS


@pytest.fixture(scope="module")
def tls_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA with the odd certificates: server-as-client (EKU serverAuth only), not yet valid,
    and an ordinary client."""
    ca = pkimod.make_ca("keyshelf security CA", key_type="ec")
    out = Pki.create(tmp_path_factory.mktemp("tls-pki"), ca)
    now = dt.datetime.now(dt.UTC)
    out.add("server", pkimod.issue(ca, "keyshelf-server", server=True, key_type="ec"))
    out.add("client-a", pkimod.issue(ca, "client-a", key_type="ec"))
    out.add("client-b", pkimod.issue(ca, "client-b", key_type="ec"))
    out.add("admin-c", pkimod.issue(ca, "admin-c", key_type="ec"))
    out.add("server-as-client", pkimod.issue(ca, "client-a", server=True, key_type="ec"))
    out.add(
        "not-yet-valid",
        pkimod.issue(
            ca,
            "client-a",
            key_type="ec",
            not_before=now + dt.timedelta(days=2),
            not_after=now + dt.timedelta(days=30),
        ),
    )
    return out


def _refused(port: int, ctx: ssl.SSLContext) -> bool:
    return refused(port, ctx, kmip_request(Operation.DISCOVER_VERSIONS, model.DiscoverVersionsRequest()))


@pytest.fixture
def tls_server(tls_pki: Pki, tmp_path: Path, kek_file: Path) -> Iterator[ServerThread]:
    yield from _running(config_for(tls_pki, tmp_path, kek_file))


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_refuses_server_certificate_as_client_and_not_yet_valid(
    tls_server: ServerThread, tls_pki: Pki
) -> None:
    port = tls_server.port
    assert not _refused(port, tls_pki.client_context("client-a"))
    assert _refused(port, tls_pki.client_context("server-as-client"))  # EKU serverAuth only
    assert _refused(port, tls_pki.client_context("not-yet-valid"))
    assert _refused(port, tls_pki.client_context(None))
    old = tls_pki.client_context("client-a", maximum=ssl.TLSVersion.TLSv1_1)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        tls_connect(port, old).close()
    assert wait_for(lambda: tls_server.state.refused_handshakes >= 3)
    assert not _refused(port, tls_pki.client_context("client-a"))  # still serving


def test_agent_checks_server_name_and_pin_by_default(tls_server: ServerThread, tls_pki: Pki) -> None:
    from agent.client import ServerUnreachable
    from agent.sync import Client

    cert, key = tls_pki.paths["client-a"]
    port = tls_server.port
    # the server certificate names localhost / 127.0.0.1; "wrong.example" must be refused
    with (
        Client(
            [f"{HOST}:{port}"], cert=cert, key=key, ca=tls_pki.ca, server_name="wrong.example", deadline=5.0
        ) as c,
        pytest.raises(ServerUnreachable),
    ):
        c.discover_versions()
    pinned = Client([f"{HOST}:{port}"], cert=cert, key=key, ca=tls_pki.ca, pins=("00" * 32,), deadline=5.0)
    with pinned as c, pytest.raises(ServerUnreachable):
        c.discover_versions()
    with Client([f"{HOST}:{port}"], cert=cert, key=key, ca=tls_pki.ca, deadline=5.0) as c:
        assert c.discover_versions()


# ============================================================================ bounded input


def _nested_request(depth: int) -> bytes:
    body = b""
    for _ in range(depth):
        body = bytes.fromhex("42000801") + len(body).to_bytes(4, "big") + body
    return bytes.fromhex("42007801") + len(body).to_bytes(4, "big") + body


def test_hostile_input_answered_or_closed_and_server_keeps_serving(
    make_config: Callable[..., ServerConfig], pki: Pki
) -> None:
    config = make_config(max_message_size=256 * 1024, read_timeout=5.0)
    for running in _running(config):
        port = running.port
        with tls_connect(port, pki.client_context("client-a")) as sock:
            # deeply nested: Invalid Message, connection kept
            for depth in (40, 3000):
                answer = model.decode_response(roundtrip(sock, _nested_request(depth)))
                assert answer.batch_items[0].result_reason == ResultReason.INVALID_MESSAGE
            # a 100 000-character Name: refused with a reason, nothing stored
            created = kmip_call(
                sock,
                Operation.CREATE,
                model.CreateRequest(
                    object_type=ObjectType.SYMMETRIC_KEY,
                    attributes=(
                        model.Attribute("Cryptographic Algorithm", 3),
                        model.Attribute("Cryptographic Length", 256),
                        model.Attribute(
                            "Name", model.Name("N" * 100_000, NameType.UNINTERPRETED_TEXT_STRING)
                        ),
                    ),
                ),
            )
            assert created.result_status == ResultStatus.OPERATION_FAILED
            assert created.result_reason == ResultReason.INVALID_FIELD  # 1.4 form of Invalid Attribute Value
            # thousands of attributes: refused (1.4 Index Out Of Bounds), nothing stored
            many = tuple(model.Attribute("x-n", str(n)) for n in range(2000))
            created = kmip_call(
                sock,
                Operation.CREATE,
                model.CreateRequest(
                    object_type=ObjectType.SYMMETRIC_KEY,
                    attributes=(
                        model.Attribute("Cryptographic Algorithm", 3),
                        model.Attribute("Cryptographic Length", 256),
                        *many,
                    ),
                ),
            )
            assert created.result_status == ResultStatus.OPERATION_FAILED
            assert created.result_reason == ResultReason.INDEX_OUT_OF_BOUNDS
        # over max_message_size: answered Invalid Message (or closed) before the body is read
        with tls_connect(port, pki.client_context("client-a")) as sock:
            sock.sendall(bytes.fromhex("42007801") + (64 << 20).to_bytes(4, "big") + b"\0" * 1024)
            try:
                answer = model.decode_response(read_message(sock))
                assert answer.batch_items[0].result_reason == ResultReason.INVALID_MESSAGE
            except (ConnectionError, ssl.SSLError):
                pass
            assert closed_by_peer(sock)
        # garbage: closed; the server still serves others
        with tls_connect(port, pki.client_context("client-a")) as sock:
            sock.sendall(b"\xff" * 4096)
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                read_message(sock)
            assert closed_by_peer(sock)
        with tls_connect(port, pki.client_context("client-b")) as sock:
            answer = model.decode_response(
                roundtrip(sock, kmip_request(Operation.DISCOVER_VERSIONS, model.DiscoverVersionsRequest()))
            )
            assert answer.batch_items[0].result_status == ResultStatus.SUCCESS
        with socket.create_connection((HOST, port), timeout=5) as raw_sock:
            raw_sock.sendall(b"\x16\x03\x01\x00\x05hello")  # not a TLS ClientHello
            assert closed_by_peer(raw_sock)


# ============================================================================ identity source


def test_owner_is_the_configured_identity_cn_or_san(pki: Pki, tmp_path: Path, kek_file: Path) -> None:
    """identity = "san-uri": the owner is the certificate's SAN URI (urn:keyshelf:library-7), and a
    certificate without a SAN is refused; identity = "cn" on the same store: the same
    certificate is "ignored-cn", which does not own the object."""
    from tests.integration.conftest import create_aes_key, get_key_bytes

    for running in _running(config_for(pki, tmp_path, kek_file, identity="san-uri")):
        with tls_connect(running.port, pki.client_context("san-client")) as sock:
            uid = create_aes_key(sock)
            assert len(get_key_bytes(sock, uid)) == 32
        assert _refused(running.port, pki.client_context("client-a"))  # no SAN: no identity
    for running in _running(config_for(pki, tmp_path, kek_file, identity="cn")):
        with tls_connect(running.port, pki.client_context("san-client")) as sock:
            got = kmip_call(sock, Operation.GET, model.GetRequest(unique_identifier=uid))
            assert got.result_reason == ResultReason.ITEM_NOT_FOUND
        with tls_connect(running.port, pki.client_context("client-a")) as sock:
            got = kmip_call(sock, Operation.GET, model.GetRequest(unique_identifier=uid))
            assert got.result_reason == ResultReason.ITEM_NOT_FOUND
