"""What a misbehaving client can do to the server: nothing that stops it serving others.

Each test ends by showing a well-behaved client is still served. Timeouts are configured
small (fractions of a second) so the server's deadlines fire quickly; the tests wait on
events and sockets with generous bounds and never assert on elapsed time.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from profiles.config import ServerConfig
from tests.integration.conftest import (
    REQUEST_MESSAGE,
    STRUCTURE,
    EchoHandler,
    Pki,
    ServerThread,
    closed_by_peer,
    echo_identity,
    read_message,
    request,
    roundtrip,
    tls_connect,
    ttlv,
)
from tests.integration.test_server_tls import wait_for

pytestmark = pytest.mark.timeout(120)

RESULT_MESSAGE_TEXT_INVALID = b"invalid"


def still_served(server: ServerThread, pki: Pki, name: str = "client-b") -> None:
    with tls_connect(server.port, pki.client_context(name)) as sock:
        assert echo_identity(roundtrip(sock, request())) == name


def test_truncated_message_dropped_by_read_timeout(
    make_config: Callable[..., ServerConfig], pki: Pki
) -> None:
    with ServerThread(make_config(read_timeout=0.3), EchoHandler()) as server:
        with tls_connect(server.port, pki.client_context()) as sock:
            whole = request("truncated")
            sock.sendall(whole[: len(whole) - 5])  # header promises 5 bytes more than sent
            assert closed_by_peer(sock)  # no response: nothing complete was received
        still_served(server, pki)
        assert server.state.total_requests == 1


def test_truncated_message_then_eof(make_config: Callable[..., ServerConfig], pki: Pki) -> None:
    with ServerThread(make_config(), EchoHandler()) as server:
        sock = tls_connect(server.port, pki.client_context())
        sock.sendall(request()[:12])
        sock.close()
        still_served(server, pki)
        assert wait_for(lambda: len(server.state.connections) == 0)


def test_oversized_header_refused_before_body(make_config: Callable[..., ServerConfig], pki: Pki) -> None:
    """A header announcing 1 GiB: answered Invalid Message and closed; no body was ever sent,
    so the refusal can only come from the header check."""
    handler = EchoHandler()
    with ServerThread(make_config(max_message_size=64 * 1024), handler) as server:
        with tls_connect(server.port, pki.client_context()) as sock:
            sock.sendall(struct.pack(">I", REQUEST_MESSAGE << 8 | STRUCTURE) + struct.pack(">I", 1 << 30))
            answer = read_message(sock)
            assert RESULT_MESSAGE_TEXT_INVALID in answer
            assert closed_by_peer(sock)
        still_served(server, pki)


def test_message_just_over_the_bound_refused(make_config: Callable[..., ServerConfig], pki: Pki) -> None:
    limit = 4096
    with ServerThread(make_config(max_message_size=limit), EchoHandler()) as server:
        fits = ttlv(REQUEST_MESSAGE, STRUCTURE, ttlv(0x420045, 0x08, b"x" * (limit - 16)))
        assert len(fits) == limit
        too_big = ttlv(REQUEST_MESSAGE, STRUCTURE, ttlv(0x420045, 0x08, b"x" * (limit - 8)))
        with tls_connect(server.port, pki.client_context()) as sock:
            assert echo_identity(roundtrip(sock, fits)) == "client-a"
            sock.sendall(too_big[:8])
            assert RESULT_MESSAGE_TEXT_INVALID in read_message(sock)
            assert closed_by_peer(sock)


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # not TTLV at all
        bytes(range(256)) * 4,
        struct.pack(">II", 0x42007B01, 8) + b"\0" * 8,  # a Response Message sent to the server
        struct.pack(">II", 0x42007802, 4) + b"\0" * 8,  # Request Message tag but Integer type
        struct.pack(">II", 0x42007801, 7) + b"\0" * 8,  # structure length not a multiple of 8
    ],
    ids=["http", "bytes", "response-tag", "wrong-type", "odd-length"],
)
def test_garbage_gets_invalid_message_and_close(
    make_config: Callable[..., ServerConfig], pki: Pki, garbage: bytes
) -> None:
    with ServerThread(make_config(), EchoHandler()) as server:
        with tls_connect(server.port, pki.client_context()) as sock:
            sock.sendall(garbage)
            assert RESULT_MESSAGE_TEXT_INVALID in read_message(sock)
            assert closed_by_peer(sock)
        still_served(server, pki)


def test_well_framed_garbage_body_keeps_connection(
    make_config: Callable[..., ServerConfig], pki: Pki
) -> None:
    """A body the engine cannot parse is the engine's business (Invalid Message); the framing
    is intact, so the connection stays usable."""
    with (
        ServerThread(make_config(), EchoHandler()) as server,
        tls_connect(server.port, pki.client_context()) as sock,
    ):
        odd = ttlv(REQUEST_MESSAGE, STRUCTURE, b"\xff" * 16)
        assert echo_identity(roundtrip(sock, odd)) == "client-a"
        assert echo_identity(roundtrip(sock, request())) == "client-a"


def test_trickling_client_dropped_while_others_served(
    make_config: Callable[..., ServerConfig], pki: Pki
) -> None:
    """A client sending one byte at a time never completes its request within read_timeout;
    it is dropped, and meanwhile another client is answered."""
    with ServerThread(make_config(read_timeout=0.5), EchoHandler()) as server:
        dropped = threading.Event()
        with tls_connect(server.port, pki.client_context("client-a")) as slow:
            slow.settimeout(0.1)

            def trickle() -> None:
                for b in request("slow" * 50):
                    try:
                        slow.sendall(bytes([b]))
                        if slow.recv(1) == b"":
                            break
                    except TimeoutError:
                        continue  # nothing from the server yet: keep trickling
                    except (ConnectionError, ssl.SSLError, OSError):
                        break
                dropped.set()

            t = threading.Thread(target=trickle)
            t.start()
            still_served(server, pki, "client-b")
            t.join(timeout=60)
            assert dropped.is_set()
        assert server.state.total_requests == 1  # only client-b's
        still_served(server, pki, "client-b")


def test_idle_connection_closed(make_config: Callable[..., ServerConfig], pki: Pki) -> None:
    with (
        ServerThread(make_config(idle_timeout=0.3), EchoHandler()) as server,
        tls_connect(server.port, pki.client_context()) as sock,
    ):
        assert echo_identity(roundtrip(sock, request())) == "client-a"
        assert closed_by_peer(sock)  # then nothing: the idle timeout closes it


def test_connection_limit(make_config: Callable[..., ServerConfig], pki: Pki) -> None:
    with ServerThread(make_config(max_connections=2), EchoHandler()) as server:
        first = tls_connect(server.port, pki.client_context("client-a"))
        second = tls_connect(server.port, pki.client_context("client-b"))
        try:
            assert echo_identity(roundtrip(first, request())) == "client-a"
            assert echo_identity(roundtrip(second, request())) == "client-b"
            try:
                third = tls_connect(server.port, pki.client_context("client-a"))
            except (ssl.SSLError, ConnectionError):
                pass  # refused during the handshake
            else:
                with third, pytest.raises((ssl.SSLError, ConnectionError)):
                    roundtrip(third, request())
            # The two admitted connections are unaffected.
            assert echo_identity(roundtrip(first, request())) == "client-a"
        finally:
            first.close()
            second.close()
        assert wait_for(lambda: len(server.state.connections) == 0)
        still_served(server, pki)


def test_pipelined_requests_answered_in_order(make_config: Callable[..., ServerConfig], pki: Pki) -> None:
    with (
        ServerThread(make_config(), EchoHandler()) as server,
        tls_connect(server.port, pki.client_context()) as sock,
    ):
        messages = [request(f"m{i}") for i in range(20)]
        sock.sendall(b"".join(messages))
        for m in messages:
            answer = read_message(sock)
            assert answer.endswith(m + b"\0" * ((-len(m)) % 8)) or m in answer


def test_many_concurrent_connections(make_config: Callable[..., ServerConfig], pki: Pki) -> None:
    with ServerThread(make_config(workers=4), EchoHandler()) as server:

        def client(i: int) -> int:
            name = ("client-a", "client-b")[i % 2]
            with tls_connect(server.port, pki.client_context(name)) as sock:
                for j in range(10):
                    msg = request(f"{i}-{j}")
                    answer = roundtrip(sock, msg)
                    assert echo_identity(answer) == name and msg in answer
            return i

        with ThreadPoolExecutor(16) as pool:
            assert sorted(pool.map(client, range(16), timeout=60)) == list(range(16))
        assert server.state.total_requests == 160


def test_engine_exception_closes_only_that_connection(
    make_config: Callable[..., ServerConfig], pki: Pki
) -> None:
    failing = EchoHandler(fail=True)
    with ServerThread(make_config(), failing) as server:
        with tls_connect(server.port, pki.client_context()) as sock:
            sock.sendall(request())
            assert closed_by_peer(sock)
        failing.fail = False
        still_served(server, pki)


def test_shutdown_drains_in_flight_request(make_config: Callable[..., ServerConfig], pki: Pki) -> None:
    """SIGTERM semantics: stop accepting, answer the request in flight, then close."""
    gate = threading.Event()
    handler = EchoHandler(gate=gate)
    server = ServerThread(make_config(shutdown_timeout=30), handler).start()
    try:
        busy = tls_connect(server.port, pki.client_context("client-a"))
        idle = tls_connect(server.port, pki.client_context("client-b"))
        busy.sendall(request("in flight"))
        assert handler.entered.wait(timeout=30)
        server.begin_shutdown()
        assert closed_by_peer(idle)  # idle connections are closed at once
        with pytest.raises((ConnectionError, OSError, ssl.SSLError)):
            late = tls_connect(server.port, pki.client_context("client-b"))
            try:
                roundtrip(late, request())
            finally:
                late.close()
        gate.set()
        assert echo_identity(read_message(busy)) == "client-a"  # answered
        assert closed_by_peer(busy)  # then closed
        busy.close()
        idle.close()
    finally:
        gate.set()
        server.stop()


def test_plain_tcp_client_without_tls(make_config: Callable[..., ServerConfig], pki: Pki) -> None:
    with ServerThread(make_config(handshake_timeout=0.5), EchoHandler()) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as raw:
            raw.sendall(request())  # TTLV without TLS
            assert closed_by_peer(raw)  # type: ignore[arg-type]
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as raw:
            assert closed_by_peer(raw)  # type: ignore[arg-type]  # silent: handshake timeout
        still_served(server, pki)


def silent_connections(port: int, n: int) -> list[socket.socket]:
    """``n`` TCP connections that never start TLS (each completes TCP before the next)."""
    return [socket.create_connection(("127.0.0.1", port), timeout=15) for _ in range(n)]


def test_connections_in_handshake_do_not_count_against_max_connections(
    make_config: Callable[..., ServerConfig], pki: Pki
) -> None:
    """max_connections counts authenticated clients only: silent TCP connections (no TLS, no
    certificate) still within their handshake time never take an authenticated client's place."""
    config = make_config(max_connections=2, max_handshakes=4, handshake_timeout=60)
    with ServerThread(config, EchoHandler()) as server:
        silent = silent_connections(server.port, 3)
        try:
            assert wait_for(lambda: server.state.handshakes == 3)
            first = tls_connect(server.port, pki.client_context("client-a"))
            second = tls_connect(server.port, pki.client_context("client-b"))
            with first, second:
                assert echo_identity(roundtrip(first, request())) == "client-a"
                assert echo_identity(roundtrip(second, request())) == "client-b"
                assert server.state.clients == 2
                # the third authenticated client is one too many
                try:
                    third = tls_connect(server.port, pki.client_context("client-a"))
                except (ssl.SSLError, ConnectionError):
                    pass
                else:
                    with third, pytest.raises((ssl.SSLError, ConnectionError)):
                        roundtrip(third, request())
        finally:
            for s in silent:
                s.close()
        assert wait_for(lambda: len(server.state.connections) == 0)
        assert (server.state.handshakes, server.state.clients) == (0, 0)


def test_a_flood_of_silent_connections_delays_but_never_shuts_out_a_client(
    make_config: Callable[..., ServerConfig], pki: Pki
) -> None:
    """More silent connections than max_connections and max_handshakes together: the server
    has at most max_handshakes of them in a handshake and leaves the rest queued in the
    listen backlog (not accepted), so a valid client queued behind them is served once the
    flood's handshakes time out, instead of being reset."""
    config = make_config(max_connections=4, max_handshakes=3, handshake_timeout=0.5)
    with ServerThread(config, EchoHandler()) as server:
        silent = silent_connections(server.port, 10)
        try:
            assert wait_for(lambda: server.state.handshakes == 3)
            still_served(server, pki)
            # accepted after all ten (the backlog is FIFO), with at most two still in a handshake
            assert server.state.refused_handshakes >= 8
        finally:
            for s in silent:
                s.close()
        assert wait_for(lambda: server.state.handshakes == 0)
