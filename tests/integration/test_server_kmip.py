"""Real KMIP over mutual TLS: the engine behind the server, SQLite behind the engine.

Discover Versions, Query, Create and Get in KMIP 1.4 and 2.1; identities from certificates
keep clients' objects apart; what reaches the logs and the database file never contains key
bytes; a malformed body is answered Invalid Message on a connection that stays usable.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from agent import model
from agent.spec import V1_4, V2_1, Operation, QueryFunction, ResultReason, ResultStatus, Version
from profiles.logsetup import JsonFormatter
from profiles.server import build_handler
from tests.integration.conftest import (
    REQUEST_MESSAGE,
    STRUCTURE,
    Pki,
    ServerThread,
    create_aes_key,
    get_key_bytes,
    kmip_call,
    read_message,
    tls_connect,
    ttlv,
)

pytestmark = pytest.mark.timeout(120)
VERSIONS = [pytest.param(V1_4, id="1.4"), pytest.param(V2_1, id="2.1")]


def test_discover_versions(kmip_server: ServerThread, pki: Pki) -> None:
    with tls_connect(kmip_server.port, pki.client_context()) as sock:
        item = kmip_call(sock, Operation.DISCOVER_VERSIONS, model.DiscoverVersionsRequest())
    assert item.result_status == ResultStatus.SUCCESS
    versions = [v.as_version() for v in item.response_payload.protocol_version]
    assert versions[0] == V2_1 and V1_4 in versions


@pytest.mark.parametrize("version", VERSIONS)
def test_query_operations(kmip_server: ServerThread, pki: Pki, version: Version) -> None:
    with tls_connect(kmip_server.port, pki.client_context()) as sock:
        item = kmip_call(
            sock,
            Operation.QUERY,
            model.QueryRequest(query_function=(QueryFunction.QUERY_OPERATIONS, QueryFunction.QUERY_OBJECTS)),
            version,
        )
    assert item.result_status == ResultStatus.SUCCESS
    assert {Operation.CREATE, Operation.GET, Operation.LOCATE} <= set(item.response_payload.operation)


@pytest.mark.parametrize("version", VERSIONS)
def test_create_then_get_and_owner_isolation(kmip_server: ServerThread, pki: Pki, version: Version) -> None:
    with tls_connect(kmip_server.port, pki.client_context("client-a")) as a:
        uid = create_aes_key(a, version)
        key = get_key_bytes(a, uid, version)
        assert len(key) == 32
        assert get_key_bytes(a, uid, version) == key  # stable
    with tls_connect(kmip_server.port, pki.client_context("client-b")) as b:
        item = kmip_call(b, Operation.GET, model.GetRequest(unique_identifier=uid), version)
    assert item.result_status == ResultStatus.OPERATION_FAILED
    assert item.result_reason in (
        ResultReason.ITEM_NOT_FOUND,
        ResultReason.PERMISSION_DENIED,
        ResultReason.OBJECT_NOT_FOUND,
    )


def test_malformed_body_answered_invalid_message(kmip_server: ServerThread, pki: Pki) -> None:
    with tls_connect(kmip_server.port, pki.client_context()) as sock:
        sock.sendall(ttlv(REQUEST_MESSAGE, STRUCTURE, b"\x42\x00\x77\x01\x00\x00\x00\x08" + b"\xff" * 8))
        response = model.decode_response(read_message(sock))
        assert response.batch_items[0].result_status == ResultStatus.OPERATION_FAILED
        assert response.batch_items[0].result_reason == ResultReason.INVALID_MESSAGE
        # Framing was intact: the same connection keeps working.
        assert len(get_key_bytes(sock, create_aes_key(sock))) == 32


def test_key_material_never_logged_nor_stored_plain(
    make_config: object, pki: Pki, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = make_config()  # type: ignore[operator]
    handler, close = build_handler(config)
    keys: list[bytes] = []
    try:
        with ServerThread(config, handler) as server, tls_connect(server.port, pki.client_context()) as sock:
            for i in range(20):
                uid = create_aes_key(sock, V2_1 if i % 2 else V1_4, name=f"k{i}")
                keys.append(get_key_bytes(sock, uid))
    finally:
        close()
    out = io.StringIO()
    formatter = JsonFormatter()
    for record in caplog.records:
        out.write(formatter.format(record) + "\n")
    logged = out.getvalue()
    assert '"event":"request"' in logged and '"op":"Create"' in logged and '"op":"Get"' in logged
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("keyshelf.db"))
    assert on_disk
    for key in keys:
        for text in (key.hex(), key.hex().upper(), repr(key)):
            assert text not in logged
        assert key not in on_disk
        assert key[:16] not in on_disk
