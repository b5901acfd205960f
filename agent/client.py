"""The asyncio KMIP client of the agent: mutual TLS, failover, deadlines, retries, batches.

Transport (KMIP 1.4 §10 / 2.1 §13 "Transport", Profiles Basic Authentication Suite, kmip-digest
§3.4): TTLV over TLS >= 1.2 with a client certificate; the server certificate is checked
against the CA bundle and, by default, the server name; its SHA-256 may also be pinned.

Behaviour:

- a list of servers, tried in order; a server that fails is set aside with a jittered
  exponential backoff and tried again once that time has passed;
- one deadline per request covers connecting, failing over, retrying and waiting;
- retries (with jittered exponential backoff) only for transport failures, never for a
  KMIP error result; a request that creates objects (Create, Register, ...) is not resent
  blindly once it may have reached a server: :class:`OutcomeUnknown` is raised, and
  :meth:`Client.create` recovers by Locating the object by its Application Specific
  Information (or Name) first;
- persistent connections, reused while idle; a connection the server closed while idle is
  replaced transparently; one connection per concurrent request (no pipelining), so the
  client is safe to share between tasks;
- batches with Batch Order Option and the ID Placeholder (SPEC-1.4 §4, §6.12);
- the protocol version is configured or negotiated with Discover Versions (SPEC-1.4 §4.26).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from agent.model import (
    ActivateRequest,
    ActivateResponse,
    AddAttributeRequest,
    AddAttributeResponse,
    ApplicationSpecificInformation,
    Attribute,
    CheckRequest,
    CheckResponse,
    CreateKeyPairRequest,
    CreateKeyPairResponse,
    CreateRequest,
    CreateResponse,
    DeleteAttributeRequest,
    DeleteAttributeResponse,
    DestroyRequest,
    DestroyResponse,
    DiscoverVersionsRequest,
    DiscoverVersionsResponse,
    GetAttributeListRequest,
    GetAttributeListResponse,
    GetAttributesRequest,
    GetAttributesResponse,
    GetRequest,
    GetResponse,
    KeyBlock,
    KeyValue,
    LocateRequest,
    LocateResponse,
    ModifyAttributeRequest,
    ModifyAttributeResponse,
    Name,
    ProtocolVersion,
    QueryRequest,
    QueryResponse,
    RegisterRequest,
    RegisterResponse,
    ReKeyRequest,
    ReKeyResponse,
    RequestPayload,
    RevocationReason,
    RevokeRequest,
    RevokeResponse,
    SecretData,
    SetAttributeRequest,
    SetAttributeResponse,
)
from agent.model.objects import ManagedObject
from agent.protocol import CREATING_OPERATIONS, BatchResult, ClientSession, Framer, Pending, ResponseMismatch
from agent.spec import (
    ALL_VERSIONS,
    BatchErrorContinuationOption,
    CryptographicAlgorithm,
    CryptographicUsageMask,
    KeyCompressionType,
    KeyFormatType,
    ObjectType,
    QueryFunction,
    RevocationReasonCode,
    SecretDataType,
    StorageStatusMask,
    Tag,
    Version,
)
from agent.ttlv import DecodeError

if TYPE_CHECKING:
    from datetime import datetime

    from agent.config import AgentConfig

R = TypeVar("R")
UID = str | int

DEFAULT_PORT: Final = 5696  # IANA port for KMIP over TLS (kmip-digest §3.4, ENC §2.2)
_READ_CHUNK: Final = 64 * 1024


# ---------------------------------------------------------------------------------------------
# Errors: transport failures. KMIP failure results are agent.errors.KmipError subclasses.
# ---------------------------------------------------------------------------------------------


class TransportError(Exception):
    """No KMIP answer was obtained. ``maybe_executed`` is True when the request may have
    reached a server and run there (only then is resending an object-creating request unsafe).
    """

    def __init__(self, message: str, *, server: str | None = None, maybe_executed: bool = False) -> None:
        super().__init__(message)
        self.server = server
        self.maybe_executed = maybe_executed


class ServerUnreachable(TransportError):
    """No connection (TCP or TLS handshake, certificate or pin check) could be made."""


class ConnectionLost(TransportError):
    """The server closed the connection before a whole response arrived."""


class InvalidResponse(TransportError):
    """The server answered with bytes that are not a valid KMIP response to the request."""


class NoCommonVersion(TransportError):
    """The server speaks none of the protocol versions this client allows."""


class OutcomeUnknown(TransportError):
    """An object-creating request may or may not have run; it was not resent blindly."""


class RequestTimeout(TransportError, TimeoutError):
    """The request's deadline passed before an answer arrived."""


# ---------------------------------------------------------------------------------------------
# Configuration values
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerAddress:
    """A KMIP server: ``host:port``, ``[v6]:port`` or a bare host (port 5696)."""

    host: str
    port: int = DEFAULT_PORT

    @classmethod
    def parse(cls, text: str | ServerAddress | tuple[str, int]) -> ServerAddress:
        if isinstance(text, ServerAddress):
            return text
        if isinstance(text, tuple):
            return cls(text[0], int(text[1]))
        spec = text.strip()
        if not spec:
            raise ValueError("empty server address")
        if spec.startswith("["):
            host, sep, rest = spec[1:].partition("]")
            if not sep or (rest and not rest.startswith(":")):
                raise ValueError(f"bad server address {text!r}")
            port = rest[1:] if rest else ""
            explicit = bool(rest)
        elif spec.count(":") == 1:
            host, _, port = spec.partition(":")
            explicit = True
        else:
            host, port, explicit = spec, "", False
        if not host:
            raise ValueError(f"bad server address {text!r}")
        if not explicit:
            return cls(host)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"bad port in server address {text!r}")
        return cls(host, int(port))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry transport failures.

    ``attempts`` rounds over the server list, with a fully jittered exponential pause
    (``base_delay`` doubling up to ``max_delay``) between rounds. A failed server is set
    aside for ``set_aside`` seconds doubling per consecutive failure up to ``set_aside_max``.
    """

    attempts: int = 3
    base_delay: float = 0.05
    max_delay: float = 2.0
    set_aside: float = 1.0
    set_aside_max: float = 60.0


def tls_context(
    *,
    cert: str | Path | None,
    key: str | Path | None,
    ca: str | Path | None,
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """The client's TLS context: TLS >= 1.2, server certificate verified against ``ca``.

    kmip-digest §3.4: Profiles 1.4 Basic Authentication Suite requires TLS 1.2 and mutual
    authentication; older TLS versions are refused here.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = check_hostname
    if ca is not None:
        ctx.load_verify_locations(cafile=str(ca))
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if cert is not None:
        ctx.load_cert_chain(str(cert), None if key is None else str(key))
    return ctx


def _parse_pin(pin: str | bytes) -> bytes:
    if isinstance(pin, bytes):
        raw = pin
    else:
        text = pin.strip().lower().removeprefix("sha256:").replace(":", "")
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise ValueError("a certificate pin is the SHA-256 of the DER certificate, in hex") from None
    if len(raw) != 32:
        raise ValueError("a certificate pin is a SHA-256 digest (32 bytes)")
    return raw


def certificate_pin(der: bytes) -> str:
    """The pin of a DER certificate, as accepted by ``pins=`` (hex SHA-256)."""
    return hashlib.sha256(der).hexdigest()


# ---------------------------------------------------------------------------------------------
# Connections and server state
# ---------------------------------------------------------------------------------------------


class _Lost(Exception):
    def __init__(self, received: int) -> None:
        super().__init__("connection closed")
        self.received = received


class _Connection:
    """One TLS connection; carries one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, now: float) -> None:
        self.reader = reader
        self.writer = writer
        self.last_used = now
        self.uses = 0
        self.sent = False
        self.clean = True

    def stale(self, now: float, idle_timeout: float) -> bool:
        return self.reader.at_eof() or self.writer.is_closing() or now - self.last_used > idle_timeout

    async def exchange(self, data: bytes, max_size: int) -> bytes:
        """Send one request message and read exactly one response message."""
        self.sent = False
        self.uses += 1
        self.writer.write(data)
        self.sent = True  # from here on the server may have the request
        await self.writer.drain()
        framer = Framer(max_size=max_size, expect_tags={int(Tag.RESPONSE_MESSAGE)})
        received = 0
        while True:
            chunk = await self.reader.read(_READ_CHUNK)
            if not chunk:
                raise _Lost(received)
            received += len(chunk)
            messages = framer.feed(chunk)
            if messages:
                if len(messages) > 1:
                    raise ResponseMismatch("more than one response message for one request")
                # bytes after the response belong to no request: the stream cannot be
                # trusted any more, so the connection is not reused (KMIP 2.1 §10.1 Codec Error)
                self.clean = framer.buffered == 0
                return messages[0]

    def abort(self) -> None:
        transport = self.writer.transport
        transport.abort()

    async def close(self) -> None:
        self.writer.close()
        try:
            async with asyncio.timeout(1.0):
                await self.writer.wait_closed()
        except (OSError, TimeoutError, ssl.SSLError):
            self.abort()


@dataclass(eq=False)
class _Server:
    address: ServerAddress
    idle: list[_Connection] = field(default_factory=list)
    slots: asyncio.Semaphore | None = None
    failures: int = 0
    retry_at: float = 0.0
    version: Version | None = None


def _identity_attributes(attributes: Sequence[Attribute]) -> tuple[Attribute, ...]:
    """The attributes that identify a new object: Application Specific Information with
    Application Data (client-created identifiers are unique in their namespace, TLP §2.4) and
    Name (unique in the key management domain, SPEC-1.4 §3.2). A Locate for all of them
    (SPEC-1.4 §4.9: every attribute must match) finds at most the object a request made."""
    return tuple(
        a
        for a in attributes
        if (a.name == "Name" and isinstance(a.value, Name))
        or (
            a.name == "Application Specific Information"
            and isinstance(a.value, ApplicationSpecificInformation)
            and a.value.application_data
        )
    )


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


class Client:
    """Asynchronous KMIP client. Use as ``async with Client(...) as kmip:``.

    ``servers`` in failover order ("host:port"); ``cert``/``key`` the client certificate and
    key (PEM), ``ca`` the CA bundle that signs the servers' certificates; ``version`` a fixed
    protocol version ("1.4", ``Version(2, 1)``) or None to negotiate with Discover Versions.
    Every operation method takes ``deadline=`` (seconds; default the client's ``deadline``).
    ``correlation``, if given, is called once per request message for its Client Correlation
    Value (KMIP 1.4+, SPEC-1.4 §6.19: the server SHOULD log it; useful to trace a cartridge
    load or an array boot across client and server logs).
    """

    def __init__(
        self,
        servers: Sequence[str | ServerAddress | tuple[str, int]] | str,
        cert: str | Path | None = None,
        key: str | Path | None = None,
        ca: str | Path | None = None,
        version: Version | str | None = None,
        *,
        server_name: str | None = None,
        check_hostname: bool = True,
        pins: Iterable[str | bytes] = (),
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float = 5.0,
        deadline: float = 15.0,
        retry: RetryPolicy | None = None,
        max_connections: int = 8,
        idle_timeout: float = 60.0,
        max_response_size: int = 4 * 1024 * 1024,
        versions: Sequence[Version] | None = None,
        rng: random.Random | None = None,
        correlation: Callable[[], str | None] | None = None,
    ) -> None:
        if isinstance(servers, str):
            servers = [s for s in servers.split(",") if s.strip()]
        if not servers:
            raise ValueError("at least one server address is needed")
        if connect_timeout <= 0 or deadline <= 0:
            raise ValueError("timeouts must be positive")
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._servers = [_Server(ServerAddress.parse(s)) for s in servers]
        self._pins = frozenset(_parse_pin(p) for p in pins)
        self._ssl = ssl_context or tls_context(cert=cert, key=key, ca=ca, check_hostname=check_hostname)
        self._server_name = server_name
        self._connect_timeout = connect_timeout
        self._deadline = deadline
        self._retry = retry or RetryPolicy()
        self._max_connections = max_connections
        self._idle_timeout = idle_timeout
        self._max_response_size = max_response_size
        self._allowed = tuple(versions) if versions else tuple(sorted(ALL_VERSIONS, reverse=True))
        self._version = parse_version(version) if version is not None else None
        if self._version is not None and self._version not in self._allowed:
            raise ValueError(f"protocol version {self._version} is not among the allowed versions")
        self._rng = rng or random.Random()
        self._session = ClientSession()
        self._correlation = correlation
        self.round_trips = 0
        """Request messages answered so far (Discover Versions included)."""

    @classmethod
    def from_config(cls, config: AgentConfig, **overrides: Any) -> Client:
        """A client built from an :class:`agent.config.AgentConfig` (``overrides`` win)."""
        kwargs: dict[str, Any] = {
            "cert": config.cert,
            "key": config.key,
            "ca": config.ca,
            "version": config.kmip_version,
            "server_name": config.server_name,
            "check_hostname": config.check_hostname,
            "pins": config.pins,
            "connect_timeout": config.connect_timeout,
            "deadline": config.deadline,
            "retry": RetryPolicy(attempts=max(1, config.retries)),
            "max_connections": config.max_connections,
            "idle_timeout": config.idle_timeout,
        }
        kwargs.update(overrides)
        return cls(list(config.servers), **kwargs)

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the idle connections (the client stays usable: it reconnects on demand)."""
        for server in self._servers:
            idle, server.idle = server.idle, []
            for conn in idle:
                await conn.close()

    @property
    def servers(self) -> tuple[ServerAddress, ...]:
        return tuple(s.address for s in self._servers)

    @property
    def default_deadline(self) -> float:
        return self._deadline

    # -- the request loop -----------------------------------------------------------------

    def deadline_at(self, deadline: float | None) -> float:
        """The loop time at which a request with this ``deadline`` (seconds) must end."""
        return asyncio.get_running_loop().time() + (self._deadline if deadline is None else deadline)

    async def exchange(
        self,
        build: Callable[[Version], tuple[bytes, Pending]] | None,
        *,
        creates: bool = False,
        end: float,
    ) -> tuple[BatchResult, ...]:
        """Send one request message (built for the server's protocol version) and return its
        batch results; ``build=None`` only connects (and negotiates the version).

        Transport failures fail over to the next server and are retried, all before ``end``
        (a loop time); KMIP failures come back as results, never retried. When ``creates``
        is set, a failure after the request may have reached a server raises
        :class:`OutcomeUnknown` instead of resending it.
        """
        loop = asyncio.get_running_loop()
        last: TransportError | None = None
        try:
            async with asyncio.timeout_at(end):
                for attempt in range(max(1, self._retry.attempts)):
                    if attempt:
                        await asyncio.sleep(self._pause(attempt))
                    for server in self._candidates(loop.time()):
                        try:
                            return await self._via(server, build, creates, end)
                        except TransportError as exc:
                            last = exc
                            if creates and exc.maybe_executed:
                                raise OutcomeUnknown(
                                    f"the request may have run on {server.address}: {exc}",
                                    server=str(server.address),
                                    maybe_executed=True,
                                ) from exc
        except TimeoutError:
            where = f" (last failure: {last})" if last is not None else ""
            raise RequestTimeout(
                f"no answer within the deadline{where}",
                server=None if last is None else last.server,
                # the deadline may expire with a request on the wire
                maybe_executed=True,
            ) from last
        assert last is not None
        raise last

    def _pause(self, attempt: int) -> float:
        # Full jitter (uniform in [0, cap]): a fleet of appliances does not retry in step.
        cap = min(self._retry.max_delay, self._retry.base_delay * (2 ** (attempt - 1)))
        return self._rng.uniform(0.0, cap)

    def _candidates(self, now: float) -> list[_Server]:
        """Servers in configured order; those set aside go last, soonest retry first."""
        ready = [s for s in self._servers if s.retry_at <= now]
        waiting = sorted((s for s in self._servers if s.retry_at > now), key=lambda s: s.retry_at)
        return ready + waiting

    def _set_aside(self, server: _Server) -> None:
        server.failures += 1
        cap = min(self._retry.set_aside_max, self._retry.set_aside * (2 ** (server.failures - 1)))
        server.retry_at = asyncio.get_running_loop().time() + self._rng.uniform(cap / 2, cap)
        idle, server.idle = server.idle, []
        for conn in idle:
            conn.abort()

    async def _via(
        self,
        server: _Server,
        build: Callable[[Version], tuple[bytes, Pending]] | None,
        creates: bool,
        end: float,
    ) -> tuple[BatchResult, ...]:
        """One attempt on one server, plus one silent retry on a fresh connection when a
        reused connection turns out to have been closed by the server while idle."""
        where = str(server.address)
        if server.slots is None:
            server.slots = asyncio.Semaphore(self._max_connections)
        async with server.slots:
            for fresh in (False, True):
                conn = await self._checkout(server, end, fresh=fresh)
                reused = conn.uses > 0
                ok = False
                try:
                    version = server.version or self._version
                    if version is None:
                        version = await self._negotiate(server, conn)
                    if build is None:
                        ok = True
                        return ()
                    data, pending = build(version)
                    raw = await conn.exchange(data, self._max_response_size)
                    self.round_trips += 1
                    results = self._session.response(raw, pending)
                    ok = True
                    server.failures, server.retry_at = 0, 0.0
                    return results
                except _Lost as exc:
                    idle_closed = reused and exc.received == 0 and not fresh
                    if idle_closed and not creates:
                        continue  # closed while idle: once more on a new connection, same server
                    if not idle_closed:  # an idle timeout is no reason to fail over
                        self._set_aside(server)
                    what = "closed the connection mid-response" if exc.received else "closed the connection"
                    raise ConnectionLost(f"{where} {what}", server=where, maybe_executed=conn.sent) from None
                except (ConnectionError, ssl.SSLError, OSError) as exc:
                    if reused and not fresh and not creates:
                        continue
                    self._set_aside(server)
                    raise ConnectionLost(
                        f"{where}: connection failed ({type(exc).__name__})",
                        server=where,
                        maybe_executed=conn.sent,
                    ) from exc
                except (DecodeError, ResponseMismatch) as exc:
                    self._set_aside(server)
                    raise InvalidResponse(
                        f"{where} sent an invalid response ({exc})", server=where, maybe_executed=conn.sent
                    ) from exc
                finally:
                    if ok and conn.clean and not conn.writer.is_closing():
                        conn.last_used = asyncio.get_running_loop().time()
                        server.idle.append(conn)
                    else:
                        conn.abort()
        raise AssertionError("unreachable")

    async def _checkout(self, server: _Server, end: float, *, fresh: bool) -> _Connection:
        if not fresh and server.idle:
            # let the loop take in a close_notify/FIN that arrived while the connection was idle
            await asyncio.sleep(0)
            now = asyncio.get_running_loop().time()
            while server.idle:
                conn = server.idle.pop()
                if not conn.stale(now, self._idle_timeout):
                    return conn
                conn.abort()
        return await self._connect(server, end)

    async def _connect(self, server: _Server, end: float) -> _Connection:
        loop = asyncio.get_running_loop()
        where = str(server.address)
        timeout = max(0.001, min(self._connect_timeout, end - loop.time()))
        hostname = self._server_name or server.address.host
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    server.address.host,
                    server.address.port,
                    ssl=self._ssl,
                    server_hostname=hostname,
                    ssl_handshake_timeout=timeout,
                    limit=_READ_CHUNK,
                )
        except TimeoutError:
            self._set_aside(server)
            raise ServerUnreachable(f"{where}: connect timed out", server=where) from None
        except ssl.SSLCertVerificationError as exc:
            self._set_aside(server)
            raise ServerUnreachable(
                f"{where}: server certificate rejected ({exc.verify_message})", server=where
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            self._set_aside(server)
            raise ServerUnreachable(f"{where}: cannot connect ({type(exc).__name__})", server=where) from exc
        conn = _Connection(reader, writer, loop.time())
        if self._pins:
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
            digest = hashlib.sha256(der or b"").digest()
            if not any(hmac.compare_digest(digest, pin) for pin in self._pins):
                conn.abort()
                self._set_aside(server)
                raise ServerUnreachable(f"{where}: server certificate does not match the pin", server=where)
        return conn

    async def _negotiate(self, server: _Server, conn: _Connection) -> Version:
        """Discover Versions (SPEC-1.4 §4.26) on the first connection to a server; the
        server's first offer this client allows is used for every later request there."""
        # Discover Versions exists since 1.1. Same-major compatibility is mandatory,
        # cross-major optional (SPEC-1.4 §9; kmip-digest §1.2): a 1.1 header is understood
        # by every 1.x server; a server that refuses it is asked again with a 2.0 header.
        for header in (Version(1, 1), Version(2, 0)):
            data, pending = self._session.request(header, [self.discover_versions_request(self._allowed)])
            raw = await conn.exchange(data, self._max_response_size)
            self.round_trips += 1
            (result,) = self._session.response(raw, pending)
            if result.ok and isinstance(result.payload, DiscoverVersionsResponse):
                offered = [v.as_version() for v in result.payload.protocol_version]
                chosen = next((v for v in offered if v in self._allowed), None)
                if chosen is None:
                    raise NoCommonVersion(
                        f"{server.address} offers none of the allowed versions", server=str(server.address)
                    )
                server.version = chosen
                return chosen
            if result.operation_not_supported and Version(1, 0) in self._allowed:
                server.version = Version(1, 0)  # a 1.0 server: Discover Versions is 1.1+
                return server.version
        raise NoCommonVersion(f"{server.address} refused Discover Versions", server=str(server.address))

    @staticmethod
    def discover_versions_request(versions: Sequence[Version]) -> DiscoverVersionsRequest:
        return DiscoverVersionsRequest(protocol_version=tuple(ProtocolVersion.of(v) for v in versions))

    async def protocol_version(self, *, deadline: float | None = None) -> Version:
        """The protocol version spoken with the first reachable server (negotiated if needed)."""
        if self._version is not None:
            return self._version
        for server in self._candidates(asyncio.get_running_loop().time()):
            if server.version is not None:
                return server.version
        await self.exchange(None, end=self.deadline_at(deadline))
        for server in self._candidates(asyncio.get_running_loop().time()):
            if server.version is not None:
                return server.version
        raise NoCommonVersion("no protocol version negotiated")

    # -- batches --------------------------------------------------------------------------

    async def batch_results(
        self,
        *payloads: RequestPayload,
        order: bool | None = None,
        continuation: BatchErrorContinuationOption | None = None,
        correlation: str | None = None,
        deadline: float | None = None,
        end: float | None = None,
    ) -> tuple[BatchResult, ...]:
        """Send the payloads as the batch items of one request message; one result each.

        Several items are sent with Batch Order Option True (SPEC-1.4 §6.12) so that an item
        whose Unique Identifier is omitted uses the ID Placeholder set by an earlier item
        (SPEC-1.4 §4: Create/Register/Locate set it). KMIP failures are results here.
        """
        operations = [self._session.operation_of(p) for p in payloads]  # TypeError early
        if not operations:
            raise ValueError("a batch needs at least one request payload")
        creates = any(op in CREATING_OPERATIONS for op in operations)
        if correlation is None and self._correlation is not None:
            correlation = self._correlation()

        def build(version: Version) -> tuple[bytes, Pending]:
            return self._session.request(
                version, payloads, order=order, continuation=continuation, correlation=correlation
            )

        return await self.exchange(
            build, creates=creates, end=self.deadline_at(deadline) if end is None else end
        )

    async def batch(
        self,
        *payloads: RequestPayload,
        order: bool | None = None,
        continuation: BatchErrorContinuationOption | None = None,
        correlation: str | None = None,
        deadline: float | None = None,
        end: float | None = None,
    ) -> tuple[Any, ...]:
        """Like :meth:`batch_results`, returning the response payloads; the first failed item
        raises its typed error (``agent.errors``: ItemNotFound, PermissionDenied, ...)."""
        results = await self.batch_results(
            *payloads,
            order=order,
            continuation=continuation,
            correlation=correlation,
            deadline=deadline,
            end=end,
        )
        failed = [r for r in results if r.status is not None and not r.ok]
        for result in failed or results:
            result.value()
        return tuple(r.payload for r in results)

    async def _one(
        self, payload: RequestPayload, kind: type[R], deadline: float | None, end: float | None = None
    ) -> R:
        (answer,) = await self.batch(payload, deadline=deadline, end=end)
        if not isinstance(answer, kind):
            raise InvalidResponse(f"expected a {kind.__name__}, got {type(answer).__name__}")
        return answer

    async def _create_once(
        self, payload: CreateRequest | RegisterRequest, kind: type[R], deadline: float | None
    ) -> R:
        """Create/Register that never makes two objects: when a transport failure leaves the
        outcome unknown, the object is looked up by its unique attributes (ASI, Name) before
        the request is sent again; without such attributes OutcomeUnknown is raised."""
        end = self.deadline_at(deadline)
        identity = _identity_attributes(payload.attributes)
        for _ in range(max(1, self._retry.attempts)):
            try:
                return await self._one(payload, kind, None, end)
            except OutcomeUnknown:
                if not identity:
                    raise
                # SPEC-1.4 §4.9: Locate returns the objects matching all given attributes.
                located = await self._one(
                    LocateRequest(attributes=(Attribute("Object Type", payload.object_type), *identity)),
                    LocateResponse,
                    None,
                    end,
                )
                if len(located.unique_identifier) > 1:
                    raise
                if located.unique_identifier:
                    uid = located.unique_identifier[0]
                    found: object = (
                        CreateResponse(object_type=payload.object_type, unique_identifier=uid)
                        if isinstance(payload, CreateRequest)
                        else RegisterResponse(unique_identifier=uid)
                    )
                    assert isinstance(found, kind)
                    return found
        raise OutcomeUnknown("the object could not be created within the attempts allowed")

    # -- operations (SPEC-1.4 §4 / SPEC-2.1 §6) ----------------------------------------

    async def create(
        self,
        attributes: Iterable[Attribute] = (),
        object_type: ObjectType = ObjectType.SYMMETRIC_KEY,
        *,
        deadline: float | None = None,
    ) -> CreateResponse:
        """Create (SPEC-1.4 §4.1): a new object generated by the server."""
        return await self._create_once(
            CreateRequest(object_type=object_type, attributes=tuple(attributes)), CreateResponse, deadline
        )

    async def create_symmetric_key(
        self,
        *,
        algorithm: CryptographicAlgorithm = CryptographicAlgorithm.AES,
        length: int = 256,
        usage_mask: CryptographicUsageMask = CryptographicUsageMask.ENCRYPT | CryptographicUsageMask.DECRYPT,
        name: str | None = None,
        attributes: Iterable[Attribute] = (),
        deadline: float | None = None,
    ) -> CreateResponse:
        """Create a symmetric key (default AES-256, Encrypt|Decrypt)."""
        attrs = [
            Attribute("Cryptographic Algorithm", algorithm),
            Attribute("Cryptographic Length", length),
            Attribute("Cryptographic Usage Mask", usage_mask),
        ]
        if name is not None:
            attrs.append(Attribute("Name", Name(name)))
        return await self.create([*attrs, *attributes], deadline=deadline)

    async def create_key_pair(
        self,
        common_attributes: Iterable[Attribute] = (),
        private_key_attributes: Iterable[Attribute] = (),
        public_key_attributes: Iterable[Attribute] = (),
        *,
        deadline: float | None = None,
    ) -> CreateKeyPairResponse:
        """Create Key Pair (SPEC-1.4 §4.2). Not resent after an unknown outcome."""
        return await self._one(
            CreateKeyPairRequest(
                common_attributes=tuple(common_attributes) or None,
                private_key_attributes=tuple(private_key_attributes) or None,
                public_key_attributes=tuple(public_key_attributes) or None,
            ),
            CreateKeyPairResponse,
            deadline,
        )

    async def register(
        self,
        managed_object: ManagedObject,
        attributes: Iterable[Attribute] = (),
        object_type: ObjectType | None = None,
        *,
        deadline: float | None = None,
    ) -> RegisterResponse:
        """Register (SPEC-1.4 §4.3) an object the client supplies."""
        kind = object_type if object_type is not None else _object_type_of(managed_object)
        request = RegisterRequest(
            object_type=kind, attributes=tuple(attributes), managed_object=managed_object
        )
        return await self._create_once(request, RegisterResponse, deadline)

    async def register_secret(
        self,
        secret: bytes,
        attributes: Iterable[Attribute] = (),
        *,
        secret_data_type: SecretDataType = SecretDataType.PASSWORD,
        deadline: float | None = None,
    ) -> RegisterResponse:
        """Register Secret Data (Key Format Opaque, as SA-SED's authentication keys, SASED §3)."""
        obj = SecretData(
            secret_data_type=secret_data_type,
            key_block=KeyBlock(key_format_type=KeyFormatType.OPAQUE, key_value=KeyValue(key_material=secret)),
        )
        return await self.register(obj, attributes, ObjectType.SECRET_DATA, deadline=deadline)

    async def rekey(
        self,
        uid: UID | None = None,
        *,
        offset: int | None = None,
        attributes: Iterable[Attribute] = (),
        deadline: float | None = None,
    ) -> ReKeyResponse:
        """Re-key (SPEC-1.4 §4.4): a replacement key, linked to the old one by the server."""
        attrs = tuple(attributes)
        return await self._one(
            ReKeyRequest(unique_identifier=uid, offset=offset, attributes=attrs or None),
            ReKeyResponse,
            deadline,
        )

    async def locate(
        self,
        attributes: Iterable[Attribute] = (),
        *,
        object_type: ObjectType | None = None,
        name: str | None = None,
        application: ApplicationSpecificInformation | tuple[str, str] | None = None,
        group: str | None = None,
        maximum_items: int | None = None,
        offset_items: int | None = None,
        storage_status_mask: StorageStatusMask | None = None,
        object_group_member: int | None = None,
        deadline: float | None = None,
    ) -> LocateResponse:
        """Locate (SPEC-1.4 §4.9): the identifiers of the objects matching every filter."""
        attrs = list(attributes)
        if object_type is not None:
            attrs.append(Attribute("Object Type", object_type))
        if name is not None:
            attrs.append(Attribute("Name", Name(name)))
        if application is not None:
            if isinstance(application, tuple):
                application = ApplicationSpecificInformation(*application)
            attrs.append(Attribute("Application Specific Information", application))
        if group is not None:
            attrs.append(Attribute("Object Group", group))
        request = LocateRequest(
            maximum_items=maximum_items,
            offset_items=offset_items,
            storage_status_mask=storage_status_mask,
            object_group_member=object_group_member,
            attributes=tuple(attrs),
        )
        return await self._one(request, LocateResponse, deadline)

    async def check(
        self,
        uid: UID | None = None,
        *,
        usage_limits_count: int | None = None,
        usage_mask: CryptographicUsageMask | None = None,
        lease_time: int | None = None,
        deadline: float | None = None,
    ) -> CheckResponse:
        """Check (SPEC-1.4 §4.10)."""
        request = CheckRequest(
            unique_identifier=uid,
            usage_limits_count=usage_limits_count,
            cryptographic_usage_mask=usage_mask,
            lease_time=lease_time,
        )
        return await self._one(request, CheckResponse, deadline)

    async def get(
        self,
        uid: UID | None = None,
        *,
        key_format_type: KeyFormatType | None = None,
        key_compression_type: KeyCompressionType | None = None,
        deadline: float | None = None,
    ) -> GetResponse:
        """Get (SPEC-1.4 §4.11): the object with its key material."""
        request = GetRequest(
            unique_identifier=uid, key_format_type=key_format_type, key_compression_type=key_compression_type
        )
        return await self._one(request, GetResponse, deadline)

    async def get_attributes(
        self, uid: UID | None = None, names: Iterable[str] = (), *, deadline: float | None = None
    ) -> GetAttributesResponse:
        """Get Attributes (SPEC-1.4 §4.12): every attribute, or those named (1.x names)."""
        request = GetAttributesRequest(unique_identifier=uid, attribute_names=tuple(names))
        return await self._one(request, GetAttributesResponse, deadline)

    async def get_attribute_list(
        self, uid: UID | None = None, *, deadline: float | None = None
    ) -> GetAttributeListResponse:
        """Get Attribute List (SPEC-1.4 §4.13)."""
        return await self._one(
            GetAttributeListRequest(unique_identifier=uid), GetAttributeListResponse, deadline
        )

    async def add_attribute(
        self, uid: UID | None, attribute: Attribute, *, deadline: float | None = None
    ) -> AddAttributeResponse:
        """Add Attribute (SPEC-1.4 §4.14)."""
        return await self._one(
            AddAttributeRequest(unique_identifier=uid, attribute=attribute), AddAttributeResponse, deadline
        )

    async def modify_attribute(
        self,
        uid: UID | None,
        attribute: Attribute,
        *,
        current: Attribute | None = None,
        deadline: float | None = None,
    ) -> ModifyAttributeResponse:
        """Modify Attribute (SPEC-1.4 §4.15; 2.x may name the instance with ``current``)."""
        request = ModifyAttributeRequest(
            unique_identifier=uid, attribute=attribute, current_attribute=current
        )
        return await self._one(request, ModifyAttributeResponse, deadline)

    async def delete_attribute(
        self,
        uid: UID | None,
        name: str | None = None,
        *,
        index: int | None = None,
        current: Attribute | None = None,
        deadline: float | None = None,
    ) -> DeleteAttributeResponse:
        """Delete Attribute (SPEC-1.4 §4.16): by name (+ 1.x index), or 2.x Current Attribute."""
        request = DeleteAttributeRequest(
            unique_identifier=uid, attribute_name=name, attribute_index=index, current_attribute=current
        )
        return await self._one(request, DeleteAttributeResponse, deadline)

    async def set_attribute(
        self, uid: UID | None, attribute: Attribute, *, deadline: float | None = None
    ) -> SetAttributeResponse:
        """Set Attribute (SPEC-2.1 §6.1.51, KMIP 2.0+)."""
        return await self._one(
            SetAttributeRequest(unique_identifier=uid, attribute=attribute), SetAttributeResponse, deadline
        )

    async def activate(self, uid: UID | None = None, *, deadline: float | None = None) -> ActivateResponse:
        """Activate (SPEC-1.4 §4.19): Pre-Active -> Active."""
        return await self._one(ActivateRequest(unique_identifier=uid), ActivateResponse, deadline)

    async def revoke(
        self,
        uid: UID | None = None,
        reason: RevocationReasonCode = RevocationReasonCode.CESSATION_OF_OPERATION,
        *,
        message: str | None = None,
        compromise_occurrence_date: datetime | None = None,
        deadline: float | None = None,
    ) -> RevokeResponse:
        """Revoke (SPEC-1.4 §4.20); a compromise reason makes the object Compromised."""
        request = RevokeRequest(
            unique_identifier=uid,
            revocation_reason=RevocationReason(reason, message),
            compromise_occurrence_date=compromise_occurrence_date,
        )
        return await self._one(request, RevokeResponse, deadline)

    async def destroy(self, uid: UID | None = None, *, deadline: float | None = None) -> DestroyResponse:
        """Destroy (SPEC-1.4 §4.21): removes the key material; the server may keep metadata."""
        return await self._one(DestroyRequest(unique_identifier=uid), DestroyResponse, deadline)

    async def query(
        self,
        functions: Iterable[QueryFunction] = (
            QueryFunction.QUERY_OPERATIONS,
            QueryFunction.QUERY_OBJECTS,
            QueryFunction.QUERY_SERVER_INFORMATION,
        ),
        *,
        deadline: float | None = None,
    ) -> QueryResponse:
        """Query (SPEC-1.4 §4.25)."""
        return await self._one(QueryRequest(query_function=tuple(functions)), QueryResponse, deadline)

    async def discover_versions(
        self, versions: Iterable[Version] = (), *, deadline: float | None = None
    ) -> tuple[Version, ...]:
        """Discover Versions (SPEC-1.4 §4.26): the versions the server offers (of ``versions``,
        or all of them when empty), in the server's order of preference."""
        answer = await self._one(
            self.discover_versions_request(tuple(versions)), DiscoverVersionsResponse, deadline
        )
        return tuple(v.as_version() for v in answer.protocol_version)


def _object_type_of(managed_object: object) -> ObjectType:
    """The Object Type named as the object's tag (SPEC-1.4 §2.2: Symmetric Key, Secret Data...)."""
    try:
        return ObjectType[Tag(getattr(managed_object, "TAG", 0)).name]
    except (KeyError, ValueError):
        raise TypeError(f"{type(managed_object).__name__} is not a managed object") from None


def parse_version(text: Version | str) -> Version:
    """``"1.4"`` -> ``Version(1, 4)``."""
    if isinstance(text, Version):
        return text
    if isinstance(text, tuple):
        return Version(*text)
    major, sep, minor = str(text).strip().partition(".")
    if not sep or not major.isdigit() or not minor.isdigit():
        raise ValueError(f"bad protocol version {text!r} (expected MAJOR.MINOR)")
    return Version(int(major), int(minor))


def key_material(managed_object: object) -> bytes:
    """The plain key bytes of a Symmetric Key / Secret Data / ... returned by Get.

    Raw, Opaque and other byte-string formats, or a Transparent Symmetric Key; a wrapped
    Key Value (a Byte String instead of a structure, SPEC-1.4 §2.1.3) is refused.
    """
    block = getattr(managed_object, "key_block", None)
    if block is None:
        raise TypeError(f"{type(managed_object).__name__} has no key block")
    value = block.key_value
    if not isinstance(value, KeyValue):
        raise ValueError("the key value is wrapped or absent")
    material = value.key_material
    if isinstance(material, bytes):
        return material
    key = getattr(material, "key", None)
    if isinstance(key, bytes):
        return key
    raise ValueError("the key material is not a byte string")
