"""Keys by tape identity: the KMIP Tape Library profile on the client side.

The cartridge's Key Associated Data (KAD, SCSI SSC-3) names its key. The profile
turns it into the Application Data of an Application Specific Information attribute
(TLP §2.4): the unauthenticated KAD, then the authenticated KAD, each byte as two
*uppercase* hexadecimal characters, high nibble first (TLP §1.1 "Hexadecimal Numeric
Characters"). The library looks its keys up by that attribute only (TLP §2.4); the
barcode goes into Alternative Name (KMIP 1.2+) or the custom attribute ``x-Barcode``
(KMIP 1.0/1.1) for administrators, and is never used to locate a key (TLP §2.5 c).

Two layers:

- pure functions (no I/O, no KMIP model): :func:`application_data`,
  :func:`split_application_data`, :func:`new_identifier`, namespaces and the LTO
  generation table;
- :class:`TapeKeys`, which runs the message flows of the profile's mandatory test
  cases TL-M-2 (write with a new key: Create + Get in one ordered batch) and TL-M-3
  (read: Locate by ASI + Get in one ordered batch) through an :class:`agent.client.Client`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # imported lazily at run time: the pure layer stays light for firmware
    from agent.client import Client
    from agent.model import ApplicationSpecificInformation, Attribute
    from agent.protocol import BatchResult
    from agent.spec import Version


class KadError(ValueError):
    """A KAD, an Application Data string or a generation that the profile does not allow.

    ``reason`` is one of the class constants, so callers (and tests) branch on it and
    never on the message text.
    """

    TOO_LONG: Final = "too-long"
    ODD_LENGTH: Final = "odd-length"
    NOT_UPPERCASE_HEX: Final = "not-uppercase-hex"
    UNKNOWN_GENERATION: Final = "unknown-generation"
    BAD_NAMESPACE: Final = "bad-namespace"
    EMPTY: Final = "empty"
    NOT_BYTES: Final = "not-bytes"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Generation:
    """KAD field sizes of one tape format (TLP §1.1: N(a), N(u), N(k) = N(a) + N(u))."""

    name: str  # "lto4"
    a_kad: int  # N(a): maximum bytes of the authenticated KAD
    u_kad: int  # N(u): maximum bytes of the unauthenticated KAD
    namespace: str  # generation-specific Application Namespace (TLP §2.4)

    @property
    def k_kad(self) -> int:
        """N(k): the whole KAD; Application Data is at most 2·N(k) characters (TLP §2.4 step 1)."""
        return self.a_kad + self.u_kad


def _generations() -> Mapping[str, Generation]:
    # TLP §1.1: LTO4 N(a)=12, N(u)=32; LTO5 and LTO6 N(a)=60, N(u)=32. The profile stops
    # at LTO6; LTO7-LTO9 keep the LTO5/6 KAD sizes (the rule "LTO-5 and later")
    # and their namespaces LIBRARY-LTO7.. are not in TLP §2.4's list: configurable, not
    # normative (kmip-digest §7).
    table = {"lto4": Generation("lto4", 12, 32, "LIBRARY-LTO4")}
    for n in range(5, 10):
        table[f"lto{n}"] = Generation(f"lto{n}", 60, 32, f"LIBRARY-LTO{n}")
    return MappingProxyType(table)


LTO_GENERATIONS: Final[Mapping[str, Generation]] = _generations()
"""The built-in generations, read-only. Pass an extended mapping to :class:`TapeKeys`
(or to the functions' ``generations=``) for formats the table does not know."""

NAMESPACE: Final = "LIBRARY-LTO"
"""The generic namespace every OASIS tape test case uses (TLP §2.4)."""

# TLP §1.1: "Case-sensitive ... 0 through 9 and uppercase alpha A through F".
_HEX_PAIRS = re.compile(r"(?:[0-9A-F]{2})*")
_VENDOR_NAMESPACE = re.compile(r"[\x21-\x7e]+-LIBRARY-LTO")
_GENERATION_NAMESPACE = re.compile(r"LIBRARY-LTO[0-9]+")


def lookup_generation(
    name: str | Generation, generations: Mapping[str, Generation] = LTO_GENERATIONS
) -> Generation:
    """Look a generation up by name ("lto4", "LTO-8", "8" are all accepted)."""
    if isinstance(name, Generation):
        return name
    key = name.strip().lower().replace("-", "").replace("_", "")
    if key.isdigit():
        key = f"lto{key}"
    found = generations.get(key)
    if found is None:
        known = ", ".join(sorted(generations))
        raise KadError(KadError.UNKNOWN_GENERATION, f"unknown tape generation {name!r} (known: {known})")
    return found


def _check_bytes(label: str, value: object) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise KadError(KadError.NOT_BYTES, f"{label} must be bytes, not {type(value).__name__}")
    return bytes(value)


def application_data(
    u_kad: bytes,
    a_kad: bytes,
    *,
    generation: str | Generation | None = None,
    generations: Mapping[str, Generation] = LTO_GENERATIONS,
) -> str:
    """Application Data from a cartridge's KAD (TLP §2.4, the normative direction).

    Step 2: the unauthenticated KAD (if present), byte 0 first; step 3: the authenticated
    KAD appended; each byte as exactly two uppercase hexadecimal characters. The actual
    KAD lengths are used, never the maximum field sizes (TLP §2.4 note).

    With ``generation`` the lengths are checked against that format's N(u) and N(a);
    without it, against the largest sizes of the known generations.
    """
    u = _check_bytes("unauthenticated KAD", u_kad)
    a = _check_bytes("authenticated KAD", a_kad)
    if generation is not None:
        gen = lookup_generation(generation, generations)
        max_u, max_a, label = gen.u_kad, gen.a_kad, gen.name.upper()
    else:
        max_u = max(g.u_kad for g in generations.values())
        max_a = max(g.a_kad for g in generations.values())
        label = "any known generation"
    if len(u) > max_u:
        raise KadError(
            KadError.TOO_LONG, f"unauthenticated KAD is {len(u)} bytes, {label} allows {max_u} (N(u))"
        )
    if len(a) > max_a:
        raise KadError(
            KadError.TOO_LONG, f"authenticated KAD is {len(a)} bytes, {label} allows {max_a} (N(a))"
        )
    if not u and not a:
        raise KadError(KadError.EMPTY, "both KAD fields are empty: no key identifier")
    return (u + a).hex().upper()


def check_application_data(data: str, gen: Generation | None = None) -> bytes:
    """Validate an Application Data string and return its numeric (KAD) form.

    Rejects odd lengths, anything but uppercase hex pairs (a lowercase string from a peer
    is an error, not something to fix up: TLP §1.1 makes the characters case-sensitive and
    Locate compares text exactly), and strings longer than 2·N(k) of ``gen``.
    """
    if not isinstance(data, str):
        raise KadError(
            KadError.NOT_UPPERCASE_HEX, f"Application Data must be text, not {type(data).__name__}"
        )
    if not data:
        raise KadError(KadError.EMPTY, "Application Data is empty")
    if len(data) % 2:
        raise KadError(KadError.ODD_LENGTH, f"Application Data has an odd length ({len(data)} characters)")
    if _HEX_PAIRS.fullmatch(data) is None:
        lower = data.upper() != data and _HEX_PAIRS.fullmatch(data.upper()) is not None
        what = "lowercase hexadecimal" if lower else "characters other than 0-9 A-F"
        raise KadError(
            KadError.NOT_UPPERCASE_HEX, f"Application Data contains {what} (TLP §1.1 needs uppercase)"
        )
    if gen is not None and len(data) > 2 * gen.k_kad:
        raise KadError(
            KadError.TOO_LONG,
            f"Application Data is {len(data)} characters, {gen.name.upper()} allows {2 * gen.k_kad} (2·N(k))",
        )
    return bytes.fromhex(data)


def split_application_data(
    data: str, generation: str | Generation, *, generations: Mapping[str, Generation] = LTO_GENERATIONS
) -> tuple[bytes, bytes]:
    """The reverse of :func:`application_data`: ``(u_kad, a_kad)`` to write to a cartridge.

    Used when a blank cartridge gets a new identifier. TLP §2.4 fixes only the
    concatenation (U-KAD text, then A-KAD text), so any split joins back to ``data``; the
    rule here fills the authenticated KAD first, from the right-most bytes, and puts the
    rest into the unauthenticated KAD (the Usage Guide's "interoperable key naming for
    tape", known only second-hand: kmip-digest §3.1.2 and §7). Authenticating as much of
    the identifier as the format allows is also the safer choice.
    """
    gen = lookup_generation(generation, generations)
    raw = check_application_data(data, gen)
    a_len = min(gen.a_kad, len(raw))
    split = len(raw) - a_len
    return raw[:split], raw[split:]


def new_identifier(
    generation: str | Generation,
    *,
    size: int | None = None,
    token_bytes: Callable[[int], bytes] = secrets.token_bytes,
    generations: Mapping[str, Generation] = LTO_GENERATIONS,
) -> tuple[bytes, bytes]:
    """A fresh client-created key identifier for a blank cartridge, as ``(u_kad, a_kad)``.

    TLP §2.4: identifiers are created by the client, SHALL be unique within the namespace
    and their numeric form SHALL fit N(k) bytes. 32 random bytes (the size of every OASIS
    tape test vector's identifier) make a collision negligible; ``size`` may ask for more,
    up to N(k). ``token_bytes`` is the randomness source (a parameter, so tests are exact).
    """
    gen = lookup_generation(generation, generations)
    n = 32 if size is None else size
    if not 1 <= n <= gen.k_kad:
        raise KadError(
            KadError.TOO_LONG, f"identifier of {n} bytes does not fit {gen.name.upper()} (N(k) = {gen.k_kad})"
        )
    raw = token_bytes(n)
    if len(raw) != n:
        raise ValueError("token_bytes returned the wrong number of bytes")
    return split_application_data(raw.hex().upper(), gen, generations=generations)


def is_tape_namespace(namespace: str) -> bool:
    """Whether a namespace names tape keys: LIBRARY-LTO, LIBRARY-LTO<n> or VENDOR-LIBRARY-LTO.

    TLP §2.4: "VENDOR-LIBRARY-LTO ... SHALL be handled ... as if the Application
    Namespace was set to LIBRARY-LTO"; VENDOR is an ASCII string not interpreted further.
    """
    return (
        namespace == NAMESPACE
        or _GENERATION_NAMESPACE.fullmatch(namespace) is not None
        or _VENDOR_NAMESPACE.fullmatch(namespace) is not None
    )


def check_namespace(namespace: str) -> str:
    """Return ``namespace`` if it is a tape namespace, else raise ``KadError(BAD_NAMESPACE)``."""
    if not isinstance(namespace, str) or not is_tape_namespace(namespace):
        raise KadError(
            KadError.BAD_NAMESPACE,
            f"{namespace!r} is not a tape namespace (LIBRARY-LTO, LIBRARY-LTO<n>, VENDOR-LIBRARY-LTO)",
        )
    return namespace


def parse_kad_hex(text: str, label: str = "KAD") -> bytes:
    """KAD bytes from hexadecimal text typed by a person (spaces/colons allowed, any case).

    Only for human input (command line, configuration): text that comes from a KMIP peer
    goes through :func:`check_application_data`, which is strict.
    """
    cleaned = re.sub(r"[\s:]", "", text)
    if cleaned.startswith(("0x", "0X")):
        cleaned = cleaned[2:]
    if len(cleaned) % 2:
        raise KadError(KadError.ODD_LENGTH, f"{label} hex has an odd number of digits")
    if re.fullmatch(r"[0-9A-Fa-f]*", cleaned) is None:
        raise KadError(KadError.NOT_UPPERCASE_HEX, f"{label} is not hexadecimal")
    return bytes.fromhex(cleaned)


@dataclass(frozen=True)
class Cartridge:
    """What the library knows about a cartridge in a drive.

    ``u_kad``/``a_kad`` are the KAD fields as read from (or to be written to) the tape;
    ``barcode`` is the human-readable label (Alternative Name / x-Barcode, TLP §2.5);
    ``name`` an optional Name attribute for the key (names are unique per server).
    """

    generation: str
    u_kad: bytes = b""
    a_kad: bytes = b""
    barcode: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class TapeKey:
    """A cartridge key as fetched from the server. ``repr`` never shows the key material."""

    uid: str
    key: bytes = field(repr=False)
    application_data: str
    namespace: str
    u_kad: bytes = b""
    a_kad: bytes = b""

    def __repr__(self) -> str:
        return (
            f"TapeKey(uid={self.uid!r}, key=<{len(self.key)} bytes>, namespace={self.namespace!r}, "
            f"application_data={self.application_data!r})"
        )


class AmbiguousKey(LookupError):
    """More than one key carries the cartridge's identifier (the Locate + Get batch cannot
    tell which: Locate empties the ID Placeholder, SPEC-1.4 §4.9). ``uids`` lists them."""

    def __init__(self, uids: tuple[str, ...]) -> None:
        super().__init__(f"{len(uids)} keys carry this cartridge's identifier")
        self.uids = uids


GENERATION_NAMESPACES: Final = "generation"
"""``TapeKeys(namespace=GENERATION_NAMESPACES)``: LIBRARY-LTO4 ... per cartridge generation."""


class TapeKeys:
    """Tape keys by cartridge identity over a :class:`agent.client.Client` (TLP, TL-M-2/3).

    ``namespace``: the Application Namespace of every key (default ``LIBRARY-LTO``, as in
    all OASIS test cases), a vendor form ``VENDOR-LIBRARY-LTO``, or ``"generation"`` for
    the generation's own (``LIBRARY-LTO6``). ``barcode_custom_attribute`` also stores the
    barcode as ``x-Barcode`` under KMIP 1.2+ (it always does under 1.0/1.1, which have no
    Alternative Name; TLP §2.2 item 6, §2.5). ``attributes`` are added to every new key.
    """

    def __init__(
        self,
        client: Client,
        *,
        namespace: str = NAMESPACE,
        generations: Mapping[str, Generation] = LTO_GENERATIONS,
        barcode_custom_attribute: bool = False,
        attributes: Sequence[Attribute] = (),
    ) -> None:
        if namespace != GENERATION_NAMESPACES:
            check_namespace(namespace)
        self.client = client
        self.namespace = namespace
        self.generations = generations
        self.barcode_custom_attribute = barcode_custom_attribute
        self.attributes = tuple(attributes)
        # identifiers whose Create may have run without an answer: Locate them before a new Create
        self._unsure: set[tuple[str, str]] = set()
        self.recoveries = 0
        """Creates whose outcome was unknown and that were settled by a Locate (counter)."""

    # -- building blocks (no I/O) ---------------------------------------------------------

    def namespace_for(self, cartridge: Cartridge) -> str:
        if self.namespace == GENERATION_NAMESPACES:
            return lookup_generation(cartridge.generation, self.generations).namespace
        return self.namespace

    def asi(self, cartridge: Cartridge) -> ApplicationSpecificInformation:
        """The cartridge's Application Specific Information (TLP §2.4)."""
        from agent.model import ApplicationSpecificInformation

        data = application_data(
            cartridge.u_kad, cartridge.a_kad, generation=cartridge.generation, generations=self.generations
        )
        return ApplicationSpecificInformation(self.namespace_for(cartridge), data)

    def key_attributes(
        self, cartridge: Cartridge, version: Version, extra: Sequence[Attribute] = ()
    ) -> tuple[Attribute, ...]:
        """The attributes of a new tape key, in the order of TL-M-2 (TLP §2.3 encodings:
        AES, 256 bits, Name Type Uninterpreted Text String; usage Encrypt|Decrypt)."""
        from agent.model import AlternativeName, Attribute, Name
        from agent.spec import CryptographicAlgorithm, CryptographicUsageMask

        attrs: list[Attribute] = []
        has_alternative_name = (version.major, version.minor) >= (1, 2)  # Alternative Name is 1.2+
        if cartridge.barcode and has_alternative_name:
            attrs.append(Attribute("Alternative Name", AlternativeName(cartridge.barcode)))
        if cartridge.name:
            attrs.append(Attribute("Name", Name(cartridge.name)))
        attrs += [
            Attribute("Cryptographic Algorithm", CryptographicAlgorithm.AES),
            Attribute("Cryptographic Length", 256),
            Attribute(
                "Cryptographic Usage Mask", CryptographicUsageMask.ENCRYPT | CryptographicUsageMask.DECRYPT
            ),
            Attribute("Application Specific Information", self.asi(cartridge)),
        ]
        if cartridge.barcode and (self.barcode_custom_attribute or not has_alternative_name):
            attrs.append(Attribute("x-Barcode", cartridge.barcode))  # TLP §2.2: Text String
        return (*attrs, *self.attributes, *extra)

    def _locate(self, cartridge: Cartridge) -> Any:
        from agent.model import Attribute, LocateRequest
        from agent.spec import ObjectType

        # TL-M-3: Locate by Object Type and ASI only; never by barcode (TLP §2.5 c).
        return LocateRequest(
            attributes=(
                Attribute("Object Type", ObjectType.SYMMETRIC_KEY),
                Attribute("Application Specific Information", self.asi(cartridge)),
            )
        )

    # -- flows ---------------------------------------------------------------------------

    async def key_for_write(
        self,
        cartridge: Cartridge,
        *,
        attributes: Sequence[Attribute] = (),
        check_unique: bool = False,
        correlation: str | None = None,
        deadline: float | None = None,
    ) -> TapeKey:
        """A new AES-256 key for a cartridge about to be written: one ordered batch,
        Create + Get with the ID Placeholder (TL-M-2). The key stays Pre-Active: the
        profile never activates tape keys.

        The client guarantees that the identifier is unique in its namespace (TLP §2.4);
        an identifier from :func:`new_identifier` is (32 random bytes). For an identifier
        that comes from elsewhere, ``check_unique=True`` Locates it first (one more round
        trip) and raises ``agent.errors.ObjectAlreadyExists`` if a key already carries it.

        Never makes two keys for one identifier: if the batch's outcome is unknown (the
        connection failed after sending), the key is Located by its ASI before the Create
        is sent again - also on a later call for the same cartridge.
        """
        from agent.client import TransportError
        from agent.model import CreateRequest, GetRequest
        from agent.spec import ObjectType

        asi = self.asi(cartridge)
        ident = (asi.application_namespace, asi.application_data or "")
        end = self.client.deadline_at(deadline)
        version = await self.client.protocol_version(deadline=deadline)
        create = CreateRequest(
            object_type=ObjectType.SYMMETRIC_KEY,
            attributes=self.key_attributes(cartridge, version, attributes),
        )
        if ident in self._unsure:
            found = await self._lookup(cartridge, correlation, end)
            if found is not None:
                self._unsure.discard(ident)
                return found
        elif check_unique:
            (located,) = await self.client.batch(self._locate(cartridge), correlation=correlation, end=end)
            if located.unique_identifier:
                from agent.errors import ObjectAlreadyExists

                raise ObjectAlreadyExists("a key already carries this cartridge's identifier")
        for _ in range(3):
            try:
                created, got = await self.client.batch_results(
                    create, GetRequest(), correlation=correlation, end=end
                )
            except TransportError as exc:
                if not exc.maybe_executed:
                    raise
                self._unsure.add(ident)
                self.recoveries += 1
                found = await self._lookup(cartridge, correlation, end)
                if found is None:
                    continue  # the Create never ran: send it again
                self._unsure.discard(ident)
                return found
            self._unsure.discard(ident)
            created.value()
            return self._tape_key(cartridge, asi.application_namespace, got)
        raise TransportError("the key could not be created", maybe_executed=True)

    async def key_for_read(
        self, cartridge: Cartridge, *, correlation: str | None = None, deadline: float | None = None
    ) -> TapeKey:
        """The key of a written cartridge: one ordered batch, Locate by ASI + Get (TL-M-3).

        Raises ``agent.errors.ItemNotFound`` when no key has the identifier, ``AmbiguousKey``
        when several do, and the server's typed error when the Get fails (ObjectDestroyed...).
        """
        found = await self._lookup(cartridge, correlation, self.client.deadline_at(deadline))
        if found is None:
            from agent.errors import ItemNotFound

            raise ItemNotFound("no key carries this cartridge's identifier")
        return found

    async def _lookup(self, cartridge: Cartridge, correlation: str | None, end: float) -> TapeKey | None:
        from agent.model import GetRequest

        located, got = await self.client.batch_results(
            self._locate(cartridge), GetRequest(), correlation=correlation, end=end
        )
        uids = self._located(located)
        if not uids:
            return None
        return self._tape_key(cartridge, self.namespace_for(cartridge), got)

    @staticmethod
    def _located(result: BatchResult) -> tuple[str, ...]:
        payload = result.value()
        uids = tuple(str(u) for u in payload.unique_identifier)
        if len(uids) > 1:
            raise AmbiguousKey(uids)
        return uids

    def _tape_key(self, cartridge: Cartridge, namespace: str, got: BatchResult) -> TapeKey:
        from agent.client import key_material

        answer = got.value()
        return TapeKey(
            uid=str(answer.unique_identifier),
            key=key_material(answer.managed_object),
            application_data=self.asi(cartridge).application_data or "",
            namespace=namespace,
            u_kad=cartridge.u_kad,
            a_kad=cartridge.a_kad,
        )

    async def attribute_list(
        self, cartridge: Cartridge, *, correlation: str | None = None, deadline: float | None = None
    ) -> tuple[str, tuple[str, ...]]:
        """Locate + Get Attribute List in one batch (TL-M-3 step 2): ``(uid, names)``."""
        from agent.model import GetAttributeListRequest

        located, listed = await self.client.batch_results(
            self._locate(cartridge), GetAttributeListRequest(), correlation=correlation, deadline=deadline
        )
        uid = self._one_uid(located)
        return uid, tuple(listed.value().attribute_names)

    async def key_attributes_of(
        self,
        cartridge: Cartridge,
        names: Sequence[str] = (),
        *,
        correlation: str | None = None,
        deadline: float | None = None,
    ) -> tuple[str, tuple[Attribute, ...]]:
        """Locate + Get Attributes in one batch (TL-M-3 step 3): ``(uid, attributes)``."""
        from agent.model import GetAttributesRequest

        located, got = await self.client.batch_results(
            self._locate(cartridge),
            GetAttributesRequest(attribute_names=tuple(names)),
            correlation=correlation,
            deadline=deadline,
        )
        uid = self._one_uid(located)
        return uid, tuple(got.value().attributes)

    async def modify(
        self,
        cartridge: Cartridge,
        attributes: Sequence[Attribute],
        *,
        correlation: str | None = None,
        deadline: float | None = None,
    ) -> str:
        """Locate + one Modify Attribute per attribute, one batch (TL-M-3 step 4): the uid."""
        from agent.model import ModifyAttributeRequest

        results = await self.client.batch_results(
            self._locate(cartridge),
            *(ModifyAttributeRequest(attribute=a) for a in attributes),
            correlation=correlation,
            deadline=deadline,
        )
        uid = self._one_uid(results[0])
        for result in results[1:]:
            result.value()
        return uid

    def _one_uid(self, located: BatchResult) -> str:
        uids = self._located(located)
        if not uids:
            from agent.errors import ItemNotFound

            raise ItemNotFound("no key carries this cartridge's identifier")
        return uids[0]


__all__ = [
    "GENERATION_NAMESPACES",
    "LTO_GENERATIONS",
    "NAMESPACE",
    "AmbiguousKey",
    "Cartridge",
    "Generation",
    "KadError",
    "TapeKey",
    "TapeKeys",
    "application_data",
    "check_application_data",
    "check_namespace",
    "is_tape_namespace",
    "lookup_generation",
    "new_identifier",
    "parse_kad_hex",
    "split_application_data",
]
