"""agent.model: version-specific shapes, typed values, and the Result Reasons of bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent import model, ttlv
from agent.errors import InvalidField, InvalidMessage, KmipError
from agent.model import Attribute, Name, Typed
from agent.spec import (
    V1_0,
    V1_4,
    V2_0,
    V2_1,
    CryptographicAlgorithm,
    CryptographicUsageMask,
    ItemType,
    KeyFormatType,
    NameType,
    ObjectType,
    Operation,
    ResultReason,
    ResultStatus,
    RevocationReasonCode,
    SecretDataType,
    Tag,
    UniqueIdentifier,
    Version,
)
from agent.ttlv import Item
from tests.unit.test_engine_helpers import e as enum
from tests.unit.test_engine_helpers import i as integer
from tests.unit.test_engine_helpers import s as struct
from tests.unit.test_engine_helpers import t as text

T = ItemType
WHEN = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
WHEN_POSIX = int(WHEN.timestamp())


def tags(item: Item) -> list[int]:
    return [int(c.tag) for c in item.value]


TAPE_ATTRIBUTES = (
    Attribute("x-ID", "TL-M-2"),
    Attribute("Name", Name("TAPE-0001")),
    Attribute("Cryptographic Algorithm", CryptographicAlgorithm.AES),
    Attribute("Cryptographic Length", 256),
    Attribute("Cryptographic Usage Mask", CryptographicUsageMask.ENCRYPT | CryptographicUsageMask.DECRYPT),
    Attribute(
        "Application Specific Information", model.ApplicationSpecificInformation("LIBRARY-LTO", "0123AB")
    ),
    Attribute("x-VendorAttribute2", 0),
    Attribute("x-VendorAttribute3", WHEN),
)


# --- 1.x Template-Attribute vs 2.x Attributes -------------------------------------------------


def test_create_is_a_template_attribute_in_1x() -> None:
    req = model.CreateRequest(object_type=ObjectType.SYMMETRIC_KEY, attributes=TAPE_ATTRIBUTES)
    item = model.to_item(req, V1_4)
    assert item.tag == Tag.REQUEST_PAYLOAD
    assert tags(item) == [Tag.OBJECT_TYPE, Tag.TEMPLATE_ATTRIBUTE]
    ta = item.value[1]
    assert tags(ta) == [Tag.ATTRIBUTE] * len(TAPE_ATTRIBUTES)
    first = ta.value[0]
    assert first == struct(
        Tag.ATTRIBUTE, text(Tag.ATTRIBUTE_NAME, "x-ID"), text(Tag.ATTRIBUTE_VALUE, "TL-M-2")
    )
    mask = ta.value[4].value[1]
    assert mask == integer(Tag.ATTRIBUTE_VALUE, 0x0C)
    assert ta.value[7].value[1] == Item(Tag.ATTRIBUTE_VALUE, T.DATE_TIME, WHEN_POSIX)
    assert model.from_item(item, model.CreateRequest, V1_4) == req


def test_create_is_attributes_by_tag_and_vendor_attributes_in_2x() -> None:
    req = model.CreateRequest(object_type=ObjectType.SYMMETRIC_KEY, attributes=TAPE_ATTRIBUTES)
    item = model.to_item(req, V2_1)
    assert tags(item) == [Tag.OBJECT_TYPE, Tag.ATTRIBUTES]
    attrs = item.value[1]
    assert tags(attrs) == [
        Tag.ATTRIBUTE,
        Tag.NAME,
        Tag.CRYPTOGRAPHIC_ALGORITHM,
        Tag.CRYPTOGRAPHIC_LENGTH,
        Tag.CRYPTOGRAPHIC_USAGE_MASK,
        Tag.APPLICATION_SPECIFIC_INFORMATION,
        Tag.ATTRIBUTE,
        Tag.ATTRIBUTE,
    ]
    # spec 2.1 4.60: the 1.x custom attribute x-ID is the Vendor Attribute {x, ID}
    assert attrs.value[0] == struct(
        Tag.ATTRIBUTE,
        text(Tag.VENDOR_IDENTIFICATION, "x"),
        text(Tag.ATTRIBUTE_NAME, "ID"),
        text(Tag.ATTRIBUTE_VALUE, "TL-M-2"),
    )
    assert attrs.value[1] == struct(
        Tag.NAME, text(Tag.NAME_VALUE, "TAPE-0001"), enum(Tag.NAME_TYPE, NameType.UNINTERPRETED_TEXT_STRING)
    )
    assert attrs.value[2] == enum(Tag.CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm.AES)
    assert model.from_item(item, model.CreateRequest, V2_1) == req


def test_decoded_attribute_values_are_typed() -> None:
    req = model.CreateRequest(object_type=ObjectType.SYMMETRIC_KEY, attributes=TAPE_ATTRIBUTES)
    for version in (V1_0, V2_0):
        back = model.from_item(model.to_item(req, version), model.CreateRequest, version)
        values = {a.name: a.value for a in back.attributes}
        assert type(values["Cryptographic Algorithm"]) is CryptographicAlgorithm
        assert type(values["Cryptographic Usage Mask"]) is CryptographicUsageMask
        assert type(values["Name"]) is Name
        assert values["x-VendorAttribute3"] == WHEN
        assert values["x-VendorAttribute2"] == 0 and type(values["x-VendorAttribute2"]) is int


def test_template_names_in_a_1x_template_attribute() -> None:
    item = struct(
        Tag.REQUEST_PAYLOAD,
        enum(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
        struct(
            Tag.TEMPLATE_ATTRIBUTE,
            struct(Tag.NAME, text(Tag.NAME_VALUE, "tmpl"), enum(Tag.NAME_TYPE, 1)),
            struct(
                Tag.ATTRIBUTE,
                text(Tag.ATTRIBUTE_NAME, "Cryptographic Length"),
                integer(Tag.ATTRIBUTE_VALUE, 128),
            ),
        ),
    )
    req = model.from_item(item, model.CreateRequest, V1_4)
    assert req.template_names == (Name("tmpl"),)
    assert req.attributes == (Attribute("Cryptographic Length", 128),)
    assert model.to_item(req, V1_4) == item


def test_create_key_pair_carriers() -> None:
    req = model.CreateKeyPairRequest(
        common_attributes=(Attribute("Cryptographic Algorithm", CryptographicAlgorithm.RSA),),
        private_key_attributes=(Attribute("Name", Name("priv")),),
        public_key_attributes=(),
    )
    assert tags(model.to_item(req, V1_4)) == [
        Tag.COMMON_TEMPLATE_ATTRIBUTE,
        Tag.PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
        Tag.PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
    ]
    item = model.to_item(req, V2_1)
    assert tags(item) == [Tag.COMMON_ATTRIBUTES, Tag.PRIVATE_KEY_ATTRIBUTES, Tag.PUBLIC_KEY_ATTRIBUTES]
    assert item.value[2].value == ()  # () = present and empty, None = absent
    for version in (V1_4, V2_1):
        assert model.from_item(model.to_item(req, version), model.CreateKeyPairRequest, version) == req


def test_locate_attributes_are_bare_in_1x_and_always_wrapped_in_2x() -> None:
    asi = Attribute(
        "Application Specific Information", model.ApplicationSpecificInformation("LIBRARY-LTO", "AB")
    )
    req = model.LocateRequest(attributes=(Attribute("Object Type", ObjectType.SYMMETRIC_KEY), asi))
    assert tags(model.to_item(req, V1_4)) == [Tag.ATTRIBUTE, Tag.ATTRIBUTE]
    assert tags(model.to_item(req, V2_1)) == [Tag.ATTRIBUTES]
    assert model.to_item(model.LocateRequest(), V1_4).value == ()
    assert model.to_item(model.LocateRequest(), V2_1).value == (struct(Tag.ATTRIBUTES),)


def test_key_value_attributes_follow_the_version() -> None:
    kv = model.KeyValue(key_material=b"k" * 16, attributes=(Attribute("Cryptographic Length", 128),))
    assert tags(model.to_item(kv, V1_4)) == [Tag.KEY_MATERIAL, Tag.ATTRIBUTE]
    assert tags(model.to_item(kv, V2_1)) == [Tag.KEY_MATERIAL, Tag.ATTRIBUTES]


# --- Attribute Name vs Attribute Reference, Attribute vs New/Current Attribute ----------------


def test_get_attributes_names_vs_references() -> None:
    req = model.GetAttributesRequest(unique_identifier="u1", attribute_names=("State", "x-Barcode"))
    one = model.to_item(req, V1_4)
    assert one.value[1:] == (text(Tag.ATTRIBUTE_NAME, "State"), text(Tag.ATTRIBUTE_NAME, "x-Barcode"))
    two = model.to_item(req, V2_1)
    assert two.value[1] == Item(Tag.ATTRIBUTE_REFERENCE, T.ENUMERATION, Tag.STATE)
    assert two.value[2] == struct(
        Tag.ATTRIBUTE_REFERENCE, text(Tag.VENDOR_IDENTIFICATION, "x"), text(Tag.ATTRIBUTE_NAME, "Barcode")
    )
    assert model.from_item(two, model.GetAttributesRequest, V2_1) == req
    assert model.from_item(one, model.GetAttributesRequest, V1_4) == req


def test_add_and_modify_attribute_shapes() -> None:
    new = Attribute("x-VendorAttribute2", 1)
    add = model.AddAttributeRequest(unique_identifier="u1", attribute=new)
    assert tags(model.to_item(add, V1_4)) == [Tag.UNIQUE_IDENTIFIER, Tag.ATTRIBUTE]
    assert tags(model.to_item(add, V2_1)) == [Tag.UNIQUE_IDENTIFIER, Tag.NEW_ATTRIBUTE]
    modify = model.ModifyAttributeRequest(
        unique_identifier="u1", current_attribute=Attribute("x-VendorAttribute2", 0), attribute=new
    )
    item = model.to_item(modify, V2_1)
    assert tags(item) == [Tag.UNIQUE_IDENTIFIER, Tag.CURRENT_ATTRIBUTE, Tag.NEW_ATTRIBUTE]
    assert model.from_item(item, model.ModifyAttributeRequest, V2_1) == modify
    # 1.x has no Current Attribute: it is not written, and the response echoes the attribute
    assert tags(model.to_item(modify, V1_4)) == [Tag.UNIQUE_IDENTIFIER, Tag.ATTRIBUTE]
    response = model.ModifyAttributeResponse(unique_identifier="u1", attribute=new)
    assert tags(model.to_item(response, V1_4)) == [Tag.UNIQUE_IDENTIFIER, Tag.ATTRIBUTE]
    assert tags(model.to_item(response, V2_1)) == [Tag.UNIQUE_IDENTIFIER]


def test_delete_attribute_by_name_and_index_vs_reference() -> None:
    req = model.DeleteAttributeRequest(unique_identifier="u1", attribute_name="Name", attribute_index=1)
    assert model.to_item(req, V1_4).value[1:] == (
        text(Tag.ATTRIBUTE_NAME, "Name"),
        integer(Tag.ATTRIBUTE_INDEX, 1),
    )
    v2 = model.DeleteAttributeRequest(unique_identifier="u1", attribute_name="Name")
    assert model.to_item(v2, V2_1).value[1] == Item(Tag.ATTRIBUTE_REFERENCE, T.ENUMERATION, Tag.NAME)


def test_attribute_index_is_1x_only() -> None:
    attr = Attribute("Name", Name("n"), index=2)
    one = model.to_item(attr, V1_4)
    assert tags(one) == [Tag.ATTRIBUTE_NAME, Tag.ATTRIBUTE_INDEX, Tag.ATTRIBUTE_VALUE]
    assert model.from_item(one, Attribute, V1_4) == attr
    two = model.to_item(attr, V2_1)
    assert two.tag == Tag.NAME
    assert model.from_item(two, Attribute, V2_1) == Attribute("Name", Name("n"))


def test_custom_values_keep_their_item_type() -> None:
    odd = struct(Tag.ATTRIBUTE_VALUE, text(Tag.NAME_VALUE, "n"), enum(Tag.NAME_TYPE, 1))
    for attr in (
        Attribute("x-long", Typed(T.LONG_INTEGER, 2**40)),
        Attribute("x-interval", Typed(T.INTERVAL, 3600)),
        Attribute("x-enum", Typed(T.ENUMERATION, 0x80000001)),
        Attribute("x-flag", True),
        Attribute("x-bytes", b"\x00\x01"),
        Attribute("x-struct", odd),
        Attribute("y-server", "s"),
    ):
        for version in (V1_4, V2_1):
            item = model.to_item(attr, version)
            assert model.from_item(item, Attribute, version) == attr
    assert model.to_item(Attribute("x-long", Typed(T.LONG_INTEGER, 5)), V1_4).value[1].type == T.LONG_INTEGER


def test_vendor_attributes_of_any_vendor() -> None:
    item = model.to_item(Attribute("acme-Slot", 7), V2_1)
    assert item.value[0] == text(Tag.VENDOR_IDENTIFICATION, "acme")
    assert model.from_item(item, Attribute, V2_1) == Attribute("acme-Slot", 7)
    with pytest.raises(ValueError):
        model.to_item(Attribute("NoSuchAttribute", 1), V2_1)


# --- objects, unions ----------------------------------------------------------------------------


def _key_block(material: object, fmt: KeyFormatType = KeyFormatType.RAW) -> model.KeyBlock:
    return model.KeyBlock(
        key_format_type=fmt,
        key_value=model.KeyValue(key_material=material),  # type: ignore[arg-type]
        cryptographic_algorithm=CryptographicAlgorithm.AES,
        cryptographic_length=256,
    )


def test_managed_object_is_chosen_by_tag() -> None:
    secret = model.SecretData(secret_data_type=SecretDataType.PASSWORD, key_block=_key_block(b"pw"))
    resp = model.GetResponse(object_type=ObjectType.SECRET_DATA, unique_identifier="u", managed_object=secret)
    item = model.to_item(resp, V1_4)
    assert tags(item) == [Tag.OBJECT_TYPE, Tag.UNIQUE_IDENTIFIER, Tag.SECRET_DATA]
    assert model.from_item(item, model.GetResponse, V1_4) == resp


def test_transparent_key_material_is_matched_by_shape() -> None:
    public = model.TransparentRSAPublicKey(modulus=2**2047 + 1, public_exponent=65537)
    private = model.TransparentRSAPrivateKey(modulus=2**2047 + 1, private_exponent=3, p=5, q=7)
    sym = model.TransparentSymmetricKey(key=b"\x01" * 32)
    for material in (public, private, sym):
        block = _key_block(material, KeyFormatType.TRANSPARENT_RSA_PUBLIC_KEY)
        back = model.from_item(model.to_item(block, V1_4), model.KeyBlock, V1_4)
        assert isinstance(back.key_value, model.KeyValue)
        assert back.key_value.key_material == material
        assert type(back.key_value.key_material) is type(material)


def test_wrapped_key_value_is_bytes() -> None:
    block = model.KeyBlock(key_format_type=KeyFormatType.RAW, key_value=b"\xaa" * 40)
    item = model.to_item(block, V2_1)
    assert item.value[1] == Item(Tag.KEY_VALUE, T.BYTE_STRING, b"\xaa" * 40)
    assert model.from_item(item, model.KeyBlock, V2_1) == block


def test_2x_unique_identifier_placeholders() -> None:
    for uid, expected in (
        ("abc", text(Tag.UNIQUE_IDENTIFIER, "abc")),
        (UniqueIdentifier.ID_PLACEHOLDER, enum(Tag.UNIQUE_IDENTIFIER, 1)),
        (-1, integer(Tag.UNIQUE_IDENTIFIER, -1)),
    ):
        req = model.GetRequest(unique_identifier=uid)
        item = model.to_item(req, V2_1)
        assert item.value[0] == expected
        back = model.from_item(item, model.GetRequest, V2_1)
        assert back == req and type(back.unique_identifier) is type(uid)


def test_unknown_enumeration_values_stay_ints() -> None:
    item = struct(Tag.REQUEST_PAYLOAD, enum(Tag.OBJECT_TYPE, 0x80000010), struct(Tag.ATTRIBUTES))
    req = model.from_item(item, model.CreateRequest, V2_1)
    assert req.object_type == 0x80000010
    assert model.to_item(req, V2_1) == item


def test_negative_mask_integer_round_trips() -> None:
    item = struct(Tag.REQUEST_PAYLOAD, integer(Tag.CRYPTOGRAPHIC_USAGE_MASK, -1))
    assert model.to_item(model.from_item(item, model.CheckRequest, V1_4), V1_4) == item


# --- messages -----------------------------------------------------------------------------------


def _request(version: Version, *items: model.RequestBatchItem, **header: object) -> model.RequestMessage:
    return model.RequestMessage(
        model.RequestHeader(
            protocol_version=model.ProtocolVersion.of(version),
            batch_count=len(items),
            **header,  # type: ignore[arg-type]
        ),
        items,
    )


def test_request_message_bytes_round_trip() -> None:
    msg = _request(
        V1_4,
        model.RequestBatchItem(
            operation=Operation.CREATE,
            unique_batch_item_id=b"\x01",
            request_payload=model.CreateRequest(
                object_type=ObjectType.SYMMETRIC_KEY, attributes=TAPE_ATTRIBUTES
            ),
        ),
        model.RequestBatchItem(
            operation=Operation.GET, unique_batch_item_id=b"\x02", request_payload=model.GetRequest()
        ),
        batch_order_option=True,
    )
    data = model.encode_message(msg)
    assert ttlv.decode(data).tag == Tag.REQUEST_MESSAGE
    back = model.decode_request(data)
    assert back == msg
    assert model.original_item(back.batch_items[1].request_payload) == struct(Tag.REQUEST_PAYLOAD)


def test_asynchronous_indicator_is_boolean_in_1x_and_enumeration_in_2x() -> None:
    from agent.spec import AsynchronousIndicator

    one = _request(
        V1_4,
        model.RequestBatchItem(operation=Operation.QUERY, request_payload=model.QueryRequest()),
        asynchronous_indicator=True,
    )
    assert ttlv.decode(model.encode_message(one)).value[0].value[1] == Item(
        Tag.ASYNCHRONOUS_INDICATOR, T.BOOLEAN, True
    )
    two = _request(
        V2_1,
        model.RequestBatchItem(operation=Operation.QUERY, request_payload=model.QueryRequest()),
        asynchronous_indicator=AsynchronousIndicator.OPTIONAL,
    )
    back = model.decode_request(model.encode_message(two))
    assert back.request_header.asynchronous_indicator is AsynchronousIndicator.OPTIONAL


def test_response_message_with_a_failure() -> None:
    msg = model.ResponseMessage(
        model.ResponseHeader(protocol_version=model.ProtocolVersion(2, 1), time_stamp=WHEN, batch_count=1),
        (
            model.ResponseBatchItem(
                operation=Operation.GET,
                result_status=ResultStatus.OPERATION_FAILED,
                result_reason=ResultReason.ITEM_NOT_FOUND,
                result_message="not found",
            ),
        ),
    )
    assert model.decode_response(model.encode_message(msg)) == msg


def test_every_operation_has_payload_classes() -> None:
    for op in Operation:
        req, resp = model.payload_classes(op)
        assert req.__name__.endswith("Request") and resp.__name__.endswith("Response")
        assert req.__name__[: -len("Request")] == resp.__name__[: -len("Response")]
        for version in (V1_4, V2_1):
            empty = struct(Tag.REQUEST_PAYLOAD)
            try:
                model.from_item(empty, req, version)
            except InvalidField as exc:
                assert exc.reason == ResultReason.INVALID_FIELD  # a required field is missing


# --- errors: the Result Reasons ---------------------------------------------------------------


def _reason(item: Item, cls: type, version: tuple[int, int] = V1_4) -> ResultReason:
    with pytest.raises(KmipError) as info:
        model.from_item(item, cls, version)
    return info.value.reason


def test_wrong_item_type_is_invalid_field() -> None:
    bad = struct(Tag.REQUEST_PAYLOAD, integer(Tag.UNIQUE_IDENTIFIER, 1))
    assert _reason(bad, model.GetRequest, V1_4) == ResultReason.INVALID_FIELD
    bad_attr = struct(
        Tag.REQUEST_PAYLOAD,
        struct(
            Tag.ATTRIBUTE, text(Tag.ATTRIBUTE_NAME, "Cryptographic Length"), text(Tag.ATTRIBUTE_VALUE, "x")
        ),
    )
    assert _reason(bad_attr, model.LocateRequest) == ResultReason.INVALID_FIELD
    not_a_struct = Item(Tag.REQUEST_PAYLOAD, T.INTEGER, 1)
    assert _reason(not_a_struct, model.GetRequest) == ResultReason.INVALID_FIELD


def test_unknown_tag_is_invalid_field_unless_the_minor_version_is_newer() -> None:
    bad = struct(Tag.REQUEST_PAYLOAD, text(Tag.UNIQUE_IDENTIFIER, "u"), text(0x540001, "vendor"))
    assert _reason(bad, model.GetRequest, V1_4) == ResultReason.INVALID_FIELD
    assert _reason(bad, model.GetRequest, V2_1) == ResultReason.INVALID_FIELD
    # spec 1.4 11.1: same major, newer minor -> unknown fields are ignored
    assert model.from_item(bad, model.GetRequest, (1, 5)) == model.GetRequest(unique_identifier="u")
    assert model.from_item(bad, model.GetRequest, (2, 2)) == model.GetRequest(unique_identifier="u")
    # a known tag in the wrong place is just as unknown
    misplaced = struct(Tag.REQUEST_PAYLOAD, text(Tag.NAME_VALUE, "n"))
    assert _reason(misplaced, model.ActivateRequest) == ResultReason.INVALID_FIELD


def test_missing_required_field_is_invalid_field() -> None:
    assert _reason(struct(Tag.REQUEST_PAYLOAD), model.RevokeRequest) == ResultReason.INVALID_FIELD
    assert _reason(struct(Tag.REQUEST_PAYLOAD), model.CreateRequest) == ResultReason.INVALID_FIELD
    nameless = struct(Tag.ATTRIBUTE, text(Tag.ATTRIBUTE_VALUE, "v"))
    assert _reason(struct(Tag.REQUEST_PAYLOAD, nameless), model.LocateRequest) == ResultReason.INVALID_FIELD


def test_repeated_single_field_is_invalid_message() -> None:
    twice = struct(Tag.REQUEST_PAYLOAD, text(Tag.UNIQUE_IDENTIFIER, "a"), text(Tag.UNIQUE_IDENTIFIER, "b"))
    assert _reason(twice, model.GetRequest) == ResultReason.INVALID_MESSAGE


def test_new_attribute_holds_exactly_one_attribute() -> None:
    two = struct(
        Tag.REQUEST_PAYLOAD,
        struct(Tag.NEW_ATTRIBUTE, integer(Tag.CRYPTOGRAPHIC_LENGTH, 1), integer(Tag.CRYPTOGRAPHIC_LENGTH, 2)),
    )
    assert _reason(two, model.AddAttributeRequest, V2_1) == ResultReason.INVALID_FIELD


def test_a_bad_payload_fails_only_its_batch_item() -> None:
    good = model.RequestBatchItem(
        operation=Operation.GET, request_payload=model.GetRequest(unique_identifier="u")
    )
    msg = _request(V1_4, good, good)
    item = model.to_item(msg, V1_4)
    bad_payload = struct(Tag.REQUEST_PAYLOAD, integer(Tag.UNIQUE_IDENTIFIER, 5))
    second = item.value[2]
    broken = Item(
        item.tag, item.type, (*item.value[:2], Item(second.tag, second.type, (second.value[0], bad_payload)))
    )
    back = model.decode_request(ttlv.encode(broken))
    assert back.batch_items[0].payload_error is None
    assert back.batch_items[0].request_payload == model.GetRequest(unique_identifier="u")
    error = back.batch_items[1].payload_error
    assert error is not None and error.reason == ResultReason.INVALID_FIELD
    assert back.batch_items[1].request_payload == bad_payload
    assert model.to_item(back, V1_4) == broken  # the raw payload is written back as it came


def test_unparseable_messages_are_invalid_message() -> None:
    with pytest.raises(InvalidMessage):
        model.decode_request(b"\x42\x00\x78\x01\x00\x00\x00")
    response = model.ResponseMessage(
        model.ResponseHeader(protocol_version=model.ProtocolVersion(1, 4), time_stamp=WHEN, batch_count=0), ()
    )
    with pytest.raises(InvalidMessage):
        model.decode_request(model.encode_message(response))  # a response is no request
    headless = struct(Tag.REQUEST_MESSAGE, struct(Tag.REQUEST_HEADER, integer(Tag.BATCH_COUNT, 0)))
    with pytest.raises(InvalidMessage):
        model.decode_request(ttlv.encode(headless))


def test_operation_without_class_keeps_the_item() -> None:
    payload = struct(Tag.REQUEST_PAYLOAD, text(Tag.UNIQUE_IDENTIFIER, "u"))
    item = struct(
        Tag.REQUEST_MESSAGE,
        model.to_item(model.RequestHeader(protocol_version=model.ProtocolVersion(1, 4), batch_count=1), V1_4),
        struct(Tag.BATCH_ITEM, enum(Tag.OPERATION, 0x80000001), payload),
    )
    msg = model.decode_request(ttlv.encode(item))
    assert msg.batch_items[0].request_payload == payload
    assert msg.batch_items[0].payload_error is None


def test_local_misuse_is_type_error() -> None:
    with pytest.raises(TypeError):
        model.to_item(model.GetRequest(unique_identifier=b"bytes"), V1_4)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        naive = datetime(2024, 1, 1)
        reason = model.RevocationReason(RevocationReasonCode.UNSPECIFIED)
        model.to_item(model.RevokeRequest(revocation_reason=reason, compromise_occurrence_date=naive), V1_4)
    with pytest.raises(TypeError):
        model.to_item(object(), V1_4)


def test_dates_are_aware_utc() -> None:
    revoke = model.RevokeRequest(
        revocation_reason=model.RevocationReason(RevocationReasonCode.KEY_COMPROMISE),
        compromise_occurrence_date=WHEN,
    )
    item = model.to_item(revoke, V1_4)
    assert item.value[1] == Item(Tag.COMPROMISE_OCCURRENCE_DATE, T.DATE_TIME, WHEN_POSIX)
    back = model.from_item(item, model.RevokeRequest, V1_4)
    assert back.compromise_occurrence_date == WHEN
    assert back.compromise_occurrence_date is not None and back.compromise_occurrence_date.tzinfo is UTC


def test_fields_exist_from_their_version_on() -> None:
    header = model.RequestHeader(
        protocol_version=model.ProtocolVersion(1, 2), client_correlation_value="c", batch_count=1
    )
    # Client Correlation Value is a 1.4 field: not written for a 1.2 peer, refused from one
    assert tags(model.to_item(header, (1, 2))) == [Tag.PROTOCOL_VERSION, Tag.BATCH_COUNT]
    item = model.to_item(header, V1_4)
    assert tags(item) == [Tag.PROTOCOL_VERSION, Tag.CLIENT_CORRELATION_VALUE, Tag.BATCH_COUNT]
    assert _reason(item, model.RequestHeader, (1, 2)) == ResultReason.INVALID_FIELD
    batch_item = model.RequestBatchItem(
        operation=Operation.GET, ephemeral=True, request_payload=model.GetRequest()
    )
    assert tags(model.to_item(batch_item, V1_4)) == [Tag.OPERATION, Tag.REQUEST_PAYLOAD]
    assert tags(model.to_item(batch_item, V2_0)) == [Tag.OPERATION, Tag.EPHEMERAL, Tag.REQUEST_PAYLOAD]


def test_peer_chosen_names_and_versions_grow_no_cache() -> None:
    from agent.model import convert

    before = (len(convert._BY_NAME), len(convert._CTX))
    for i in range(200):
        attr = Attribute(f"x-name{i}", i)
        assert model.from_item(model.to_item(attr, V1_4), Attribute, V1_4) == attr
        model.from_item(struct(Tag.REQUEST_PAYLOAD), model.GetRequest, (7, i))
    assert (len(convert._BY_NAME), len(convert._CTX)) == before


def test_a_poll_response_keeps_the_polled_payload_as_the_item() -> None:
    payload = struct(Tag.RESPONSE_PAYLOAD, text(Tag.UNIQUE_IDENTIFIER, "u"))
    header = model.ResponseHeader(
        protocol_version=model.ProtocolVersion(1, 4), time_stamp=WHEN, batch_count=1
    )
    item = struct(
        Tag.RESPONSE_MESSAGE,
        model.to_item(header, V1_4),
        struct(Tag.BATCH_ITEM, enum(Tag.OPERATION, Operation.POLL), enum(Tag.RESULT_STATUS, 0), payload),
    )
    msg = model.decode_response(ttlv.encode(item))
    assert msg.batch_items[0].response_payload == payload
    assert msg.batch_items[0].payload_error is None
    assert model.to_item(msg, V1_4) == item


def test_secrets_stay_out_of_reprs() -> None:
    key = model.SymmetricKey(_key_block(b"\x5a" * 32))
    secret = model.UsernameAndPassword("user", "hunter2")
    rsa = model.TransparentRSAPrivateKey(modulus=3233, private_exponent=2753, p=61, q=53)
    decrypt = model.DecryptResponse(unique_identifier="u", data=b"plaintext!")
    for obj, needle in (
        (key, "5a5a"),
        (key, "ZZZZ"),
        (secret, "hunter2"),
        (rsa, "2753"),
        (decrypt, "plaintext"),
    ):
        assert needle not in repr(obj)
    assert "user" in repr(secret) and "3233" in repr(rsa)


def test_id_placeholders_are_refused_for_1x_peers() -> None:
    with pytest.raises(ValueError):
        model.to_item(model.GetRequest(unique_identifier=UniqueIdentifier.ID_PLACEHOLDER), V1_4)
    with pytest.raises(ValueError):
        model.to_item(model.GetRequest(unique_identifier=0), V1_4)
    bad = struct(Tag.REQUEST_PAYLOAD, enum(Tag.UNIQUE_IDENTIFIER, 1))
    assert _reason(bad, model.GetRequest, V1_4) == ResultReason.INVALID_FIELD


def test_digest_key_format_type_only_from_kmip_1_1() -> None:
    """Digest gained Key Format Type in KMIP 1.1 (Tape Library profile TL-M-3-10 vs TL-M-3-11)."""
    from agent.errors import KmipError
    from agent.model import Digest, from_item, to_item
    from agent.spec import V1_0, V1_1, HashingAlgorithm, KeyFormatType, Tag

    digest = Digest(HashingAlgorithm.SHA_256, b"\x01" * 32, KeyFormatType.RAW)
    old = to_item(digest, V1_0)
    assert [c.tag for c in old.value] == [Tag.HASHING_ALGORITHM, Tag.DIGEST_VALUE]
    new = to_item(digest, V1_1)
    assert [c.tag for c in new.value] == [Tag.HASHING_ALGORITHM, Tag.DIGEST_VALUE, Tag.KEY_FORMAT_TYPE]
    assert from_item(new, Digest, V1_1) == digest
    with pytest.raises(KmipError):
        from_item(new, Digest, V1_0)  # a 1.0 peer cannot send the 1.1 field
