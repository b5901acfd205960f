"""The server acknowledges a durable write only after the group fsync that covers it
(profiles/server.py DeferredDurability; profiles/store/sqlite.py owed_durability)."""

from __future__ import annotations

import threading

from profiles.store.sqlite import SQLiteStorage
from tests.integration.conftest import (
    Pki,
    ServerThread,
    closed_by_peer,
    create_aes_key,
    get_key_bytes,
    kmip_request,
    tls_connect,
)


def _store(server: ServerThread) -> SQLiteStorage:
    store = server.server.handler.store  # type: ignore[attr-defined]
    assert isinstance(store, SQLiteStorage)
    assert server.server._durability is store  # the loop hands its fsync waits over
    return store


def test_create_is_answered_only_after_its_fsync(kmip_server: ServerThread, pki: Pki) -> None:
    store = _store(kmip_server)
    gate = threading.Event()
    synced: list[int] = []
    real = store._fsync_wal

    def held() -> None:
        gate.wait(10)
        real()
        synced.append(store._seq)

    store._fsync_wal = held  # type: ignore[method-assign]
    answered = threading.Event()
    uids: list[str] = []

    def client() -> None:
        with tls_connect(kmip_server.port, pki.client_context()) as sock:
            uids.append(create_aes_key(sock))
            answered.set()

    thread = threading.Thread(target=client)
    thread.start()
    try:
        assert not answered.wait(0.5), "answered before the WAL was synced"
    finally:
        gate.set()
    thread.join(10)
    assert answered.is_set() and uids and synced
    with tls_connect(kmip_server.port, pki.client_context()) as sock:
        assert len(get_key_bytes(sock, uids[0])) == 32


def test_a_failed_fsync_closes_without_an_answer_and_others_are_served(
    kmip_server: ServerThread, pki: Pki
) -> None:
    store = _store(kmip_server)
    with tls_connect(kmip_server.port, pki.client_context()) as sock:
        uid = create_aes_key(sock)
        key = get_key_bytes(sock, uid)

    def broken() -> None:
        raise OSError(5, "I/O error")

    store._fsync_wal = broken  # type: ignore[method-assign]
    from agent import model
    from agent.spec import CryptographicAlgorithm, ObjectType, Operation

    request = kmip_request(
        Operation.CREATE,
        model.CreateRequest(
            object_type=ObjectType.SYMMETRIC_KEY,
            attributes=(
                model.Attribute("Cryptographic Algorithm", CryptographicAlgorithm.AES),
                model.Attribute("Cryptographic Length", 256),
            ),
        ),
    )
    with tls_connect(kmip_server.port, pki.client_context()) as sock:
        sock.sendall(request)
        assert closed_by_peer(sock)  # no success for a write that may not survive a crash
    with tls_connect(kmip_server.port, pki.client_context()) as sock:
        assert get_key_bytes(sock, uid) == key  # reads are still served
