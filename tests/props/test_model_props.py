"""agent.model properties (Hypothesis).

* random model objects of every class (payloads of every operation, managed objects,
  structures, attributes) round-trip through Items in every protocol version 1.0-2.1, and
  through TTLV bytes inside a message;
* any Item tree in a payload, and any mutation of a valid message, either decodes or raises a
  KmipError with a Result Reason (nothing else escapes), and a decoded message re-encodes.

Strategies are built from the classes' annotations and the tag registry; a value is drawn
only in the forms the version can carry (1.x identifiers are Text Strings, 2.x attributes
need a 2.x name, fields of the other major version stay unset).
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
import typing
from datetime import UTC, datetime
from enum import IntEnum, IntFlag
from typing import Any

from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from agent import model, ttlv
from agent.errors import KmipError
from agent.model import Attribute, Typed
from agent.model.convert import plan
from agent.spec import (
    ALL_VERSIONS,
    ItemType,
    Operation,
    ResultStatus,
    Tag,
    UniqueIdentifier,
    Version,
    tag_by_name,
    tag_def,
)
from agent.ttlv import Item

T = ItemType
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
versions = st.sampled_from(ALL_VERSIONS)

#: classes matched by shape (several share the Key Material / Credential Value tag): drawn with
#: every optional field set, so that a drawn value is never also another class's shape
SHAPED = {
    model.TransparentRSAPrivateKey,
    model.TransparentDHPrivateKey,
    model.TransparentDHPublicKey,
}

texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
dates = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))

STANDARD_NAMES = (
    "Unique Identifier",
    "Name",
    "Object Type",
    "Cryptographic Algorithm",
    "Cryptographic Length",
    "Cryptographic Parameters",
    "Cryptographic Domain Parameters",
    "Certificate Type",
    "Digest",
    "Cryptographic Usage Mask",
    "Lease Time",
    "Usage Limits",
    "State",
    "Initial Date",
    "Activation Date",
    "Revocation Reason",
    "Object Group",
    "Link",
    "Application Specific Information",
    "Contact Information",
    "Last Change Date",
    "X.509 Certificate Identifier",
    "X.509 Certificate Subject",
    "Fresh",
    "Alternative Name",
    "Key Value Location",
    "Random Number Generator",
    "Sensitive",
    "Description",
)


def _int_range(tag: int | None) -> st.SearchStrategy[int]:
    td = tag_def(tag) if tag is not None else None
    if td is not None and td.type == T.BIG_INTEGER:
        return st.integers(-(2**130), 2**130)
    if td is not None and td.type == T.LONG_INTEGER:
        return st.integers(-(2**63), 2**63 - 1)
    return st.integers(0, 2**31 - 1)


def _for_type(py: Any, tag: int | None, version: Version) -> st.SearchStrategy[Any]:
    if py is bool:
        return st.booleans()
    if py is str:
        return texts
    if py is bytes:
        return st.binary(max_size=12)
    if py is datetime:
        return dates
    if py is int:
        return _int_range(tag)
    if py is Item:
        return st.builds(lambda v: Item(tag or 0, T.STRUCTURE, (Item(Tag.COMMENT, T.TEXT_STRING, v),)), texts)
    if py is object:
        return st.one_of(texts, st.integers(0, 2**31 - 1), st.booleans(), st.binary(max_size=4))
    if py is Attribute:
        return attributes(version)
    if isinstance(py, type) and issubclass(py, IntFlag):
        return st.integers(0, 2**24 - 1).map(py)
    if isinstance(py, type) and issubclass(py, IntEnum):
        extensions = st.integers(0x80000000, 0x8000FFFF)  # unknown values stay ints
        return st.one_of(st.sampled_from(list(py)), extensions) if list(py) else extensions
    if dataclasses.is_dataclass(py):
        return instances(typing.cast(type, py), version)
    raise AssertionError(f"no strategy for {py!r}")


def _for_hint(hint: Any, tag: int | None, version: Version, *, full: bool) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        if set(args) == {str, int}:  # a Unique Identifier: 2.x adds Enumeration/Integer forms
            inner: st.SearchStrategy[Any] = (
                st.one_of(texts, st.sampled_from(list(UniqueIdentifier)), st.integers(-5, 2**31 - 1))
                if version.major >= 2
                else texts
            )
        else:
            inner = st.one_of(*[_for_hint(a, tag, version, full=full) for a in args])
        return inner if full or not optional else st.one_of(st.none(), inner)
    if origin is tuple:
        element = _for_hint(typing.get_args(hint)[0], tag, version, full=full)
        return st.lists(element, min_size=1 if full else 0, max_size=3).map(tuple)
    return _for_type(hint, tag, version)


def _field_tag(f: dataclasses.Field[Any]) -> int | None:
    if "tag" in f.metadata:
        return int(f.metadata["tag"])
    member = getattr(Tag, f.name.upper(), None)
    return int(member) if member is not None else None


@st.composite
def _instance(draw: st.DrawFn, cls: type, version: Version) -> Any:
    hints = typing.get_type_hints(cls)
    on_wire = {name for name, *_ in plan(cls, version).encoders}
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in on_wire:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                reject()  # a required field this version does not define: not a class of it
            if f.metadata.get("companion") and version.major < 2:
                kwargs[f.name] = draw(st.lists(instances(model.Name, version), max_size=2).map(tuple))
                if kwargs[f.name] and kwargs.get("attributes") is None:
                    kwargs["attributes"] = ()  # template names travel in a Template-Attribute
            continue
        if "attribute_names" in f.metadata:  # 2.x references need a 2.x or vendor name
            names = st.one_of(st.sampled_from(STANDARD_NAMES), st.builds("x-{}".format, texts))
            many = typing.get_origin(hints[f.name]) is tuple
            kwargs[f.name] = draw(st.lists(names, max_size=3).map(tuple) if many else names)
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        full = cls in SHAPED or (required and typing.get_origin(hints[f.name]) is tuple)
        value: Any = draw(_for_hint(hints[f.name], _field_tag(f), version, full=full))
        carrier = f.metadata.get("attributes")
        if carrier is not None and carrier[version.major >= 2] == "bare" and value == ():
            value = None if f.default is None else ()  # nothing on the wire is "absent"
        kwargs[f.name] = value
    return cls(**kwargs)


def instances(cls: type, version: Version) -> st.SearchStrategy[Any]:
    return st.deferred(lambda: _instance(cls, version))


def _standard_attribute(version: Version) -> st.SearchStrategy[Attribute]:
    from agent.model.convert import _value_type  # the registry's view of each attribute's value

    def build(name: str) -> st.SearchStrategy[Attribute]:
        td = tag_by_name(name)
        assert td is not None
        py = _value_type(td.code, td)
        hint = functools.reduce(operator.or_, py) if isinstance(py, list) else py
        value = _for_hint(hint, td.code, version, full=False)
        index = st.none() if version.major >= 2 else st.one_of(st.none(), st.integers(0, 5))
        return st.builds(Attribute, st.just(name), value, index)

    names = [n for n in STANDARD_NAMES if (td := tag_by_name(n)) is not None and td.in_version(version)]
    return st.sampled_from(names).flatmap(build)


def _custom_attribute(version: Version) -> st.SearchStrategy[Attribute]:
    typed = st.one_of(
        st.integers(-(2**63), 2**63 - 1).map(lambda v: Typed(T.LONG_INTEGER, v)),
        st.integers(-(2**100), 2**100).map(lambda v: Typed(T.BIG_INTEGER, v)),
        st.integers(0, 2**32 - 1).map(lambda v: Typed(T.ENUMERATION, v)),
        st.integers(0, 2**32 - 1).map(lambda v: Typed(T.INTERVAL, v)),
    )
    values = st.one_of(
        texts, st.integers(-(2**31), 2**31 - 1), st.booleans(), st.binary(max_size=8), dates, typed
    )
    names = st.builds(lambda p, n: f"{p}-{n}", st.sampled_from(["x", "y"]), texts)
    index = st.none() if version.major >= 2 else st.one_of(st.none(), st.integers(0, 5))
    return st.builds(Attribute, names, values, index)


def attributes(version: Version) -> st.SearchStrategy[Attribute]:
    return st.one_of(_standard_attribute(version), _custom_attribute(version))


def _model_classes() -> list[type]:
    from agent.model import attributes as attribute_module
    from agent.model import messages, objects, payloads, structures

    found = []
    for module in (attribute_module, objects, structures, payloads):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == module.__name__
                and value
                not in (Attribute, Typed, model.Payload, model.RequestPayload, model.ResponsePayload)
            ):
                found.append(value)
    assert messages  # messages are covered by test_messages_round_trip_through_bytes
    return found


CLASSES = _model_classes()


@EXAMPLES
@given(st.data(), st.sampled_from(CLASSES), versions)
def test_model_objects_round_trip_through_items(data: st.DataObject, cls: type, version: Version) -> None:
    obj = data.draw(instances(cls, version))
    item = model.to_item(obj, version)
    assert model.from_item(item, cls, version) == obj
    assert model.to_item(model.from_item(item, cls, version), version) == item


@EXAMPLES
@given(st.data(), versions)
def test_attributes_round_trip_through_items(data: st.DataObject, version: Version) -> None:
    attr = data.draw(attributes(version))
    item = model.to_item(attr, version)
    assert model.from_item(item, Attribute, version) == attr


@EXAMPLES
@given(st.data(), versions, st.sampled_from(list(Operation)))
def test_messages_round_trip_through_bytes(
    data: st.DataObject, version: Version, operation: Operation
) -> None:
    request_cls, response_cls = model.payload_classes(operation)
    request = model.RequestMessage(
        model.RequestHeader(protocol_version=model.ProtocolVersion.of(version), batch_count=1),
        (
            model.RequestBatchItem(
                operation=operation, request_payload=data.draw(instances(request_cls, version))
            ),
        ),
    )
    assert model.decode_request(model.encode_message(request)) == request
    response = model.ResponseMessage(
        model.ResponseHeader(
            protocol_version=model.ProtocolVersion.of(version), time_stamp=data.draw(dates), batch_count=1
        ),
        (
            model.ResponseBatchItem(
                operation=operation,
                result_status=ResultStatus.SUCCESS,
                response_payload=data.draw(instances(response_cls, version)),
            ),
        ),
    )
    back = model.decode_response(model.encode_message(response))
    if getattr(response_cls, "RAW", False):  # a Poll response keeps its payload as the Item
        payload = response.batch_items[0].response_payload
        assert back.batch_items[0].response_payload == model.to_item(payload, version)
    else:
        assert back == response


# --- hostile input --------------------------------------------------------------------------------

_tags = st.one_of(
    st.sampled_from(sorted({int(t) for t in Tag})),
    st.integers(0x540000, 0x540010),
    st.integers(0x420000, 0x42FFFF),
)
_leaves = st.one_of(
    st.builds(Item, _tags, st.just(T.INTEGER), st.integers(-(2**31), 2**31 - 1)),
    st.builds(Item, _tags, st.just(T.LONG_INTEGER), st.integers(-(2**63), 2**63 - 1)),
    st.builds(Item, _tags, st.just(T.BIG_INTEGER), st.integers(-(2**70), 2**70)),
    st.builds(Item, _tags, st.just(T.ENUMERATION), st.integers(0, 2**32 - 1)),
    st.builds(Item, _tags, st.just(T.BOOLEAN), st.booleans()),
    st.builds(Item, _tags, st.just(T.TEXT_STRING), texts),
    st.builds(Item, _tags, st.just(T.BYTE_STRING), st.binary(max_size=8)),
    st.builds(Item, _tags, st.just(T.DATE_TIME), st.integers(-(2**63), 2**63 - 1)),
    st.builds(Item, _tags, st.just(T.INTERVAL), st.integers(0, 2**32 - 1)),
    st.builds(Item, _tags, st.just(T.DATE_TIME_EXTENDED), st.integers(-(2**63), 2**63 - 1)),
)
random_items = st.recursive(
    _leaves,
    lambda children: st.builds(Item, _tags, st.just(T.STRUCTURE), st.lists(children, max_size=4).map(tuple)),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_items, st.sampled_from(CLASSES), versions)
def test_any_item_decodes_or_raises_a_kmip_error(item: Item, cls: type, version: Version) -> None:
    try:
        obj: Any = model.from_item(Item(Tag.REQUEST_PAYLOAD, T.STRUCTURE, (item,)), cls, version)
    except KmipError as exc:
        assert exc.reason is not None
        return
    model.to_item(obj, version)  # what decodes, encodes


def _mutate(item: Item, path: list[int], replacement: Item) -> Item:
    if not path or item.type != T.STRUCTURE or not item.value:
        return replacement
    i = path[0] % len(item.value)
    children = list(item.value)
    children[i] = _mutate(children[i], path[1:], replacement)
    return Item(item.tag, item.type, tuple(children))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), versions, st.sampled_from(list(Operation)))
def test_mutated_messages_decode_or_raise_a_kmip_error(
    data: st.DataObject, version: Version, op: Operation
) -> None:
    request_cls, _ = model.payload_classes(op)
    request = model.RequestMessage(
        model.RequestHeader(protocol_version=model.ProtocolVersion.of(version), batch_count=1),
        (model.RequestBatchItem(operation=op, request_payload=data.draw(instances(request_cls, version))),),
    )
    item = model.to_item(request, version)
    path = data.draw(st.lists(st.integers(0, 50), min_size=1, max_size=6))
    mutated = _mutate(item, path, data.draw(random_items))
    try:
        msg = model.decode_request(ttlv.encode(mutated))
    except KmipError as exc:
        assert exc.reason is not None
        return
    for batch_item in msg.batch_items:
        if batch_item.payload_error is not None:
            assert batch_item.payload_error.reason is not None
    model.encode_message(msg)  # what decodes, encodes
