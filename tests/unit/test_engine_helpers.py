"""Request builders and response readers for the engine unit tests (Item level; no tests here)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.spec import ItemType, Operation, ResultReason, ResultStatus, Tag, Version
from agent.ttlv import Item, decode, encode
from profiles.engine import Engine, EngineConfig
from profiles.store import open_store

T = Tag


def s(tag: int, *children: Item) -> Item:
    return Item(tag, ItemType.STRUCTURE, tuple(children))


def t(tag: int, value: str) -> Item:
    return Item(tag, ItemType.TEXT_STRING, value)


def i(tag: int, value: int) -> Item:
    return Item(tag, ItemType.INTEGER, value)


def e(tag: int, value: int) -> Item:
    return Item(tag, ItemType.ENUMERATION, int(value))


def b(tag: int, value: bool) -> Item:
    return Item(tag, ItemType.BOOLEAN, value)


def dt(tag: int, value: int) -> Item:
    return Item(tag, ItemType.DATE_TIME, value)


def by(tag: int, value: bytes) -> Item:
    return Item(tag, ItemType.BYTE_STRING, value)


def pv(v: Version) -> Item:
    return s(T.PROTOCOL_VERSION, i(T.PROTOCOL_VERSION_MAJOR, v.major), i(T.PROTOCOL_VERSION_MINOR, v.minor))


def item(op: Operation, *payload: Item, batch_id: bytes | None = None, extra: Sequence[Item] = ()) -> Item:
    fields = [e(T.OPERATION, op)]
    if batch_id is not None:
        fields.append(by(T.UNIQUE_BATCH_ITEM_ID, batch_id))
    fields.append(s(T.REQUEST_PAYLOAD, *payload))
    fields.extend(extra)
    return s(T.BATCH_ITEM, *fields)


def request(version: Version, *items: Item, header: Iterable[Item] = ()) -> Item:
    hdr = s(T.REQUEST_HEADER, pv(version), *header, i(T.BATCH_COUNT, len(items)))
    return s(T.REQUEST_MESSAGE, hdr, *items)


def attr(version: Version, name: str, value: Item) -> Item:
    """One attribute in the request form of ``version`` (value carries the attribute's own tag,
    or Attribute Value for custom ``x-`` attributes)."""
    if version.major >= 2:
        if name.startswith("x-"):
            return s(T.ATTRIBUTE, t(T.VENDOR_IDENTIFICATION, "x"), t(T.ATTRIBUTE_NAME, name[2:]), value)
        return value
    return s(T.ATTRIBUTE, t(T.ATTRIBUTE_NAME, name), Item(T.ATTRIBUTE_VALUE, value.type, value.value))


def attributes(version: Version, *attrs: Item, carrier_1x: int = Tag.TEMPLATE_ATTRIBUTE) -> Item:
    return s(T.ATTRIBUTES if version.major >= 2 else carrier_1x, *attrs)


def name(value: str) -> Item:
    return s(T.NAME, t(T.NAME_VALUE, value), e(T.NAME_TYPE, 1))


def aes_attrs(version: Version, key_name: str | None = None, *more: Item) -> Item:
    parts = [
        attr(version, "Cryptographic Algorithm", e(T.CRYPTOGRAPHIC_ALGORITHM, 3)),
        attr(version, "Cryptographic Length", i(T.CRYPTOGRAPHIC_LENGTH, 256)),
        attr(version, "Cryptographic Usage Mask", i(T.CRYPTOGRAPHIC_USAGE_MASK, 0x0C)),
    ]
    if key_name is not None:
        parts.append(attr(version, "Name", name(key_name)))
    return attributes(version, *parts, *more)


def create_aes(
    version: Version, key_name: str | None = None, *more: Item, batch_id: bytes | None = None
) -> Item:
    return item(Operation.CREATE, e(T.OBJECT_TYPE, 2), aes_attrs(version, key_name, *more), batch_id=batch_id)


def uid(value: str) -> Item:
    return t(T.UNIQUE_IDENTIFIER, value)


@dataclass
class Result:
    operation: int | None
    batch_id: bytes | None
    status: int
    reason: int | None
    payload: Item | None

    def get(self, tag: int) -> Item | None:
        if self.payload is None:
            return None
        for c in self.payload.value:
            if c.tag == tag:
                found: Item = c
                return found
        return None

    def all(self, tag: int) -> list[Item]:
        return [] if self.payload is None else [c for c in self.payload.value if c.tag == tag]

    @property
    def uid(self) -> str:
        found = self.get(T.UNIQUE_IDENTIFIER)
        assert found is not None, self
        return str(found.value)

    @property
    def ok(self) -> bool:
        return self.status == ResultStatus.SUCCESS


@dataclass
class Response:
    version: Version
    items: list[Result]
    raw: Item


def child(item_: Item, tag: int) -> Item | None:
    for c in item_.value:
        if c.tag == tag:
            found: Item = c
            return found
    return None


def parse(resp: Item) -> Response:
    assert resp.tag == T.RESPONSE_MESSAGE
    header = child(resp, T.RESPONSE_HEADER)
    assert header is not None
    pv_ = child(header, T.PROTOCOL_VERSION)
    assert pv_ is not None
    major = child(pv_, T.PROTOCOL_VERSION_MAJOR)
    minor = child(pv_, T.PROTOCOL_VERSION_MINOR)
    assert major is not None and minor is not None
    count = child(header, T.BATCH_COUNT)
    assert child(header, T.TIME_STAMP) is not None
    items = []
    for bi in (c for c in resp.value if c.tag == T.BATCH_ITEM):
        op = child(bi, T.OPERATION)
        bid = child(bi, T.UNIQUE_BATCH_ITEM_ID)
        st = child(bi, T.RESULT_STATUS)
        rr = child(bi, T.RESULT_REASON)
        assert st is not None
        items.append(
            Result(
                None if op is None else int(op.value),
                None if bid is None else bytes(bid.value),
                int(st.value),
                None if rr is None else int(rr.value),
                child(bi, T.RESPONSE_PAYLOAD),
            )
        )
    assert count is not None and int(count.value) == len(items)
    return Response(Version(int(major.value), int(minor.value)), items, resp)


class Clock:
    """An injected clock the tests move by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_engine(config: EngineConfig | None = None, clock: Clock | None = None) -> Engine:
    counter = iter(range(1, 1_000_000))
    return Engine(
        config or EngineConfig(admins=frozenset({"admin"})),
        open_store("memory:"),
        clock=clock or Clock(),
        random=lambda n: bytes(range(n)) if n <= 256 else b"\x01" * n,
        new_uid=lambda: f"uid-{next(counter)}",
    )


def send(engine: Engine, msg: Item, identity: str = "client-a") -> Response:
    """Through the byte interface, as the server does."""
    return parse(decode(engine.handle(encode(msg), identity)))


FAILED = ResultStatus.OPERATION_FAILED
UNDONE = ResultStatus.OPERATION_UNDONE
SUCCESS = ResultStatus.SUCCESS
RR = ResultReason
