"""agent.encodings: the KMIP XML and JSON encodings of Item trees, symbols and binding."""

from __future__ import annotations

import datetime as dt
import json as stdjson
from pathlib import Path

import pytest

from agent.encodings import Symbol, bind, bind_defaults, iter_symbols
from agent.encodings import json as kjson
from agent.encodings import xml as kxml
from agent.spec import CryptographicUsageMask, ItemType, ObjectType, Operation, State, Tag
from agent.ttlv import Item
from tests.unit.test_engine_helpers import s as struct

T = ItemType
EXT = 0x540001  # an extension tag the registry does not know


def leaf(tag: int, item_type: ItemType, value: object) -> Item:
    return Item(tag, item_type, value)


def xml_leaf(text: str) -> Item:
    (item,) = kxml.loads(text)
    return item


# --- XML: reading each item type ------------------------------------------------------------


def test_xml_integer_decimal_and_full_width_hex() -> None:
    assert xml_leaf('<BatchCount type="Integer" value="3"/>') == leaf(Tag.BATCH_COUNT, T.INTEGER, 3)
    # ENC §6.1.2: hex is full width two's complement, 0xffffffff is -1
    assert xml_leaf('<BatchCount type="Integer" value="0xffffffff"/>').value == -1
    assert xml_leaf('<BatchCount type="Integer" value="0x00000010"/>').value == 16


def test_xml_enumeration_by_name_and_hex() -> None:
    assert xml_leaf('<Operation type="Enumeration" value="Register"/>').value == Operation.REGISTER
    assert xml_leaf('<ObjectType type="Enumeration" value="0x00000002"/>').value == ObjectType.SYMMETRIC_KEY
    # extension values exist only as hex (OpaqueDataType 0x80000001 in the OASIS files)
    assert xml_leaf('<OpaqueDataType type="Enumeration" value="0x80000001"/>').value == 0x80000001


def test_xml_usage_mask_names_spaces_bars_and_hex() -> None:
    expected = int(CryptographicUsageMask.ENCRYPT | CryptographicUsageMask.DECRYPT)
    for text in ("Encrypt Decrypt", "Decrypt Encrypt", "Encrypt|Decrypt", "12", "0x0000000c"):
        item = xml_leaf(f'<CryptographicUsageMask type="Integer" value="{text}"/>')
        assert item.value == expected, text


def test_xml_1x_attribute_value_takes_names_from_attribute_name() -> None:
    # SPEC-1.4 §2.1.1: the Attribute Value's type follows the Attribute Name
    (item,) = kxml.loads(
        "<TemplateAttribute>"
        '<Attribute><AttributeName type="TextString" value="State"/>'
        '<AttributeValue type="Enumeration" value="PreActive"/></Attribute>'
        '<Attribute><AttributeName type="TextString" value="Cryptographic Usage Mask"/>'
        '<AttributeValue type="Integer" value="Sign Verify"/></Attribute>'
        '<Attribute><AttributeName type="TextString" value="Object Type"/>'
        '<AttributeValue type="Enumeration" value="SymmetricKey"/></Attribute>'
        "</TemplateAttribute>"
    )
    values = [attribute.value[1].value for attribute in item.value]
    mask = int(CryptographicUsageMask.SIGN | CryptographicUsageMask.VERIFY)
    assert values == [State.PRE_ACTIVE, mask, ObjectType.SYMMETRIC_KEY]
    text = kxml.dumps(item)
    assert 'value="PreActive"' in text and 'value="SymmetricKey"' in text and "Sign" in text
    assert kxml.loads(text) == [item]


def test_xml_2x_attribute_reference_names_a_tag() -> None:
    # SPEC-2.1 §5.5: Attribute Reference is an "Enumeration (Tag)"
    item = xml_leaf('<AttributeReference type="Enumeration" value="State"/>')
    assert item.value == Tag.STATE
    assert 'value="State"' in kxml.dumps(item)


def test_xml_unknown_enumeration_name_is_an_error() -> None:
    with pytest.raises(ValueError):
        kxml.loads('<Operation type="Enumeration" value="Teleport"/>')
    with pytest.raises(ValueError):  # Attribute Value without a known attribute: hex only
        kxml.loads('<AttributeValue type="Enumeration" value="AES"/>')


def test_xml_boolean_text_bytes_interval_long_and_big() -> None:
    assert xml_leaf('<BatchOrderOption type="Boolean" value="true"/>').value is True
    assert xml_leaf('<BatchOrderOption type="Boolean" value="0"/>').value is False
    assert xml_leaf('<KeyMaterial type="ByteString" value="00FFab"/>').value == b"\x00\xff\xab"
    assert xml_leaf('<LeaseTime type="Interval" value="3600"/>').value == 3600
    assert xml_leaf('<UsageLimitsTotal type="LongInteger" value="123456789000000000"/>').value == (
        123456789000000000
    )
    # SPEC-1.4 §9.1.2 example: Big Integer 1234567890000000000000000000
    big = xml_leaf('<Modulus type="BigInteger" value="0000000003fd35eb6bc2df4618080000"/>')
    assert big.value == 1234567890000000000000000000
    assert 'value="0000000003fd35eb6bc2df4618080000"' in kxml.dumps(big)
    negative = xml_leaf('<Modulus type="BigInteger" value="ffffffffffffffff"/>')
    assert negative.value == -1


def test_xml_text_keeps_whitespace_exactly() -> None:
    for text in ["  two  spaces ", "tab\there", "line\nbreak\r\n", "Greek Α ", ""]:
        item = leaf(Tag.UNIQUE_IDENTIFIER, T.TEXT_STRING, text)
        assert kxml.loads(kxml.dumps(item)) == [item], repr(text)
    assert xml_leaf('<UniqueIdentifier type="TextString" value=" a  b "/>').value == " a  b "


def test_xml_datetime_iso8601_with_offsets() -> None:
    # SPEC-1.4 §9.1.2: Fri 14 Mar 2008 11:56:40 GMT is 0x47DA67F8
    for text in (
        "2008-03-14T11:56:40+00:00",
        "2008-03-14T11:56:40Z",
        "2008-03-14T21:56:40+10:00",
        "2008-03-14T11:56:40.999+00:00",
        "2008-03-14T11:56:40",
        "0x0000000047da67f8",
    ):
        assert xml_leaf(f'<ActivationDate type="DateTime" value="{text}"/>').value == 0x47DA67F8, text
    item = leaf(Tag.ACTIVATION_DATE, T.DATE_TIME, 0x47DA67F8)
    assert kxml.dumps(item) == '<ActivationDate type="DateTime" value="2008-03-14T11:56:40+00:00"/>'


def test_xml_datetime_extended_keeps_microseconds() -> None:
    text = f'<TTLV tag="0x{EXT:06X}" type="DateTimeExtended" value="2008-03-14T11:56:40.000123+00:00"/>'
    item = xml_leaf(text)
    assert item == leaf(EXT, T.DATE_TIME_EXTENDED, 0x47DA67F8 * 1_000_000 + 123)
    assert kxml.dumps(item) == text


def test_xml_structures_generic_form_and_namespace() -> None:
    (item,) = kxml.loads(
        '<RequestMessage xmlns="urn:oasis:tc:kmip:xmlns"><ProtocolVersion type="Structure">'
        '<ProtocolVersionMajor type="Integer" value="1"/></ProtocolVersion>'
        '<TTLV tag="0x540001" type="TextString" value="ext"/>'
        '<TTLV tag="0x420094" name="UniqueIdentifier" type="TextString" value="u"/>'
        "<Attributes/></RequestMessage>"
    )
    assert item == struct(
        Tag.REQUEST_MESSAGE,
        struct(Tag.PROTOCOL_VERSION, leaf(Tag.PROTOCOL_VERSION_MAJOR, T.INTEGER, 1)),
        leaf(EXT, T.TEXT_STRING, "ext"),
        leaf(Tag.UNIQUE_IDENTIFIER, T.TEXT_STRING, "u"),
        struct(Tag.ATTRIBUTES),
    )


def test_xml_dumps_layout() -> None:
    item = struct(
        Tag.PROTOCOL_VERSION,
        leaf(Tag.PROTOCOL_VERSION_MAJOR, T.INTEGER, 1),
        leaf(EXT, T.ENUMERATION, 0x8000000A),
    )
    assert kxml.dumps(item) == (
        "<ProtocolVersion>\n"
        '  <ProtocolVersionMajor type="Integer" value="1"/>\n'
        '  <TTLV tag="0x540001" type="Enumeration" value="0x8000000A"/>\n'
        "</ProtocolVersion>"
    )
    assert "\n" not in kxml.dumps(item, indent=None)


def test_xml_document_of_several_messages() -> None:
    items = [struct(Tag.REQUEST_MESSAGE), struct(Tag.RESPONSE_MESSAGE)]
    text = kxml.dumps_document(items)
    assert text.startswith("<KMIP>") and kxml.loads(text) == items
    assert kxml.loads("<RequestMessage/>") == items[:1]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<KMIP>",
        "<NoSuchTag type='Integer' value='1'/>",
        "<BatchCount type='Integral' value='1'/>",
        "<BatchCount type='Integer' value='one'/>",
        "<BatchCount type='Integer' value='2147483648'/>",
        "<BatchCount type='Integer' value='0x1ffffffff'/>",
        "<BatchCount value='1'/>",
        "<BatchCount type='Integer'/>",
        "<BatchCount type='Integer' value='1'>1</BatchCount>",
        "<BatchCount type='Integer' value='1'><BatchCount type='Integer' value='1'/></BatchCount>",
        "<KeyMaterial type='ByteString' value='abc'/>",
        "<ActivationDate type='DateTime' value='2008-13-14T11:56:40+00:00'/>",
        "<ActivationDate type='DateTime' value='$NOW'/>",  # symbols only when asked for
        "<BatchOrderOption type='Boolean' value='yes'/>",
        "<LeaseTime type='Interval' value='-1'/>",
        "<TTLV type='Integer' value='1'/>",
        "<TTLV tag='0x4200' type='Integer' value='1'/>",
        '<!DOCTYPE x [<!ENTITY a "b">]><UniqueIdentifier type="TextString" value="&a;"/>',
    ],
)
def test_xml_malformed_input_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        kxml.loads(text)


def test_xml_dumps_refuses_what_xml_cannot_carry() -> None:
    with pytest.raises(ValueError):
        kxml.dumps(leaf(Tag.UNIQUE_IDENTIFIER, T.TEXT_STRING, "nul\x00"))
    with pytest.raises(TypeError):
        kxml.dumps(leaf(Tag.UNIQUE_IDENTIFIER, T.TEXT_STRING, b"bytes"))
    with pytest.raises(ValueError):
        kxml.dumps(leaf(Tag.BATCH_COUNT, T.INTEGER, 2**31))


# --- test-case files and their defects ------------------------------------------------------

MESSAGE = (
    '<RequestMessage><RequestHeader><BatchCount type="Integer" value="1"/></RequestHeader>'
    '<BatchItem><UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/></BatchItem>'
    "</RequestMessage>"
)


@pytest.mark.parametrize(
    "document",
    [
        f"<KMIP>\n{MESSAGE}\n{MESSAGE}\n</KMIP>\n",
        f"<KMIP>\n{MESSAGE}\n{MESSAGE}\n</KMIP>\n\n</KMIP>\n",  # duplicate closing (TC-ECDSA-SIGN-1-14)
        f"<!-- no root -->\n{MESSAGE}\n{MESSAGE}\n",  # no <KMIP> root (some 2.0 test cases)
    ],
)
def test_load_test_case_tolerates_the_documented_defects(tmp_path: Path, document: str) -> None:
    path = tmp_path / "case.xml"
    path.write_text(document, encoding="utf-8")
    items = kxml.load_test_case(path)
    assert len(items) == 2
    uid = items[0].value[1].value[0]
    assert uid == leaf(Tag.UNIQUE_IDENTIFIER, T.TEXT_STRING, Symbol("$UNIQUE_IDENTIFIER_0"))


def test_load_test_case_still_reports_real_errors(tmp_path: Path) -> None:
    path = tmp_path / "case.xml"
    path.write_text("<KMIP><RequestMessage></KMIP>", encoding="utf-8")
    with pytest.raises(ValueError):
        kxml.load_test_case(path)


# --- JSON -----------------------------------------------------------------------------------


def test_json_digest_example() -> None:
    text = (
        '{"tag":"ProtocolVersion","value":[{"tag":"ProtocolVersionMajor","type":"Integer","value":1},'
        '{"tag":"ProtocolVersionMinor","type":"Integer","value":0}]}'
    )
    item = kjson.loads(text)
    assert item == struct(
        Tag.PROTOCOL_VERSION,
        leaf(Tag.PROTOCOL_VERSION_MAJOR, T.INTEGER, 1),
        leaf(Tag.PROTOCOL_VERSION_MINOR, T.INTEGER, 0),
    )
    assert kjson.dumps(item) == text


def test_json_value_forms() -> None:
    def value(tag: str, type_name: str, value: object) -> object:
        obj = {"tag": tag, "type": type_name, "value": value}
        return kjson.loads(stdjson.dumps(obj)).value

    assert value("0x42000D", "Integer", "0x00000002") == 2  # tag 0x42000D is Batch Count
    assert value("CryptographicUsageMask", "Integer", "Encrypt|Decrypt") == 12
    assert value("UsageLimitsTotal", "LongInteger", "0x0020000000000000") == 2**53
    assert (
        value("Modulus", "BigInteger", "0x0000000003fd35eb6bc2df4618080000") == 1234567890000000000000000000
    )
    assert value("Modulus", "BigInteger", 5) == 5
    assert value("ObjectType", "Enumeration", "SymmetricKey") == ObjectType.SYMMETRIC_KEY
    assert value("ObjectType", "Enumeration", 2) == ObjectType.SYMMETRIC_KEY
    assert value("ObjectType", "Enumeration", "0x00000002") == ObjectType.SYMMETRIC_KEY
    assert value("BatchOrderOption", "Boolean", "0x0000000000000001") is True
    assert value("ActivationDate", "DateTime", "2008-03-14T11:56:40Z") == 0x47DA67F8
    assert value("ActivationDate", "DateTime", "0x0000000047DA67F8") == 0x47DA67F8
    assert value("KeyMaterial", "ByteString", "0102") == b"\x01\x02"
    assert value("LeaseTime", "Interval", 864000) == 864000


def test_json_writes_names_masks_and_large_numbers_as_hex() -> None:
    item = struct(
        Tag.TEMPLATE_ATTRIBUTE,
        leaf(Tag.CRYPTOGRAPHIC_USAGE_MASK, T.INTEGER, 12),
        leaf(Tag.OBJECT_TYPE, T.ENUMERATION, ObjectType.SYMMETRIC_KEY),
        leaf(Tag.USAGE_LIMITS_TOTAL, T.LONG_INTEGER, 2**53),
        leaf(Tag.USAGE_LIMITS_TOTAL, T.LONG_INTEGER, 7),
        leaf(Tag.MODULUS, T.BIG_INTEGER, 1),
        leaf(EXT, T.BOOLEAN, True),
    )
    values = [child["value"] for child in stdjson.loads(kjson.dumps(item))["value"]]
    assert values == [
        "Encrypt|Decrypt",
        "SymmetricKey",
        "0x0020000000000000",
        7,
        "0x0000000000000001",
        True,
    ]
    assert stdjson.loads(kjson.dumps(item))["value"][-1]["tag"] == "0x540001"
    assert kjson.loads(kjson.dumps(item)) == item


def test_json_structure_forms() -> None:
    assert kjson.loads('{"tag":"Attributes","value":null}') == struct(Tag.ATTRIBUTES)
    assert kjson.loads('{"tag":"Attributes","type":"Structure","value":[]}') == struct(Tag.ATTRIBUTES)
    assert kjson.loads('{"tag":"Attributes","name":"ignored"}') == struct(Tag.ATTRIBUTES)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"tag":"Attributes","value":{}}',
        '{"tag":"NoSuchTag","value":[]}',
        '{"tag":"BatchCount","type":"Integer"}',
        '{"tag":"BatchCount","type":"Integer","value":1.5}',
        '{"tag":"BatchCount","type":"Integer","value":true}',
        '{"tag":"BatchCount","type":"Integer","value":NaN}',
        '{"tag":"BatchCount","type":"Integer","value":4294967296}',
        '{"tag":"BatchCount","type":"Integer","value":1,"extra":0}',
        '{"tag":"UniqueIdentifier","type":"TextString","value":7}',
        '{"tag":"UniqueIdentifier","type":"TextString","value":"\\ud800"}',
        '{"tag":"ObjectType","type":"Enumeration","value":-1}',
    ],
)
def test_json_malformed_input_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        kjson.loads(text)


# --- symbols and binding --------------------------------------------------------------------


def test_symbol_parts_and_validation() -> None:
    symbol = Symbol("$NOW-3600")
    assert (symbol.base, symbol.offset, str(symbol)) == ("$NOW", -3600, "$NOW-3600")
    assert Symbol("$UNIQUE_IDENTIFIER_0").offset == 0
    assert Symbol.parse("plain text") is None
    with pytest.raises(ValueError):
        Symbol("NOW")


def test_symbols_kept_in_both_encodings_only_when_asked() -> None:
    item = struct(
        Tag.BATCH_ITEM,
        leaf(Tag.UNIQUE_IDENTIFIER, T.TEXT_STRING, Symbol("$UNIQUE_IDENTIFIER_1")),
        leaf(Tag.ACTIVATION_DATE, T.DATE_TIME, Symbol("$NOW+60")),
        leaf(Tag.KEY_MATERIAL, T.BYTE_STRING, Symbol("$KEY_MATERIAL_0")),
    )
    assert kxml.loads(kxml.dumps(item), symbols=True) == [item]
    assert kjson.loads(kjson.dumps(item), symbols=True) == item
    plain = kjson.loads('{"tag":"UniqueIdentifier","type":"TextString","value":"$X"}')
    assert plain.value == "$X"
    assert [s.text for _, s in iter_symbols(item)] == ["$UNIQUE_IDENTIFIER_1", "$NOW+60", "$KEY_MATERIAL_0"]


def test_bind_uses_env_and_offsets() -> None:
    item = struct(
        Tag.BATCH_ITEM,
        leaf(Tag.UNIQUE_IDENTIFIER, T.TEXT_STRING, Symbol("$UNIQUE_IDENTIFIER_1")),
        leaf(Tag.ACTIVATION_DATE, T.DATE_TIME, Symbol("$NOW-3600")),
        leaf(Tag.INITIAL_DATE, T.DATE_TIME, Symbol("$NOW")),
        leaf(Tag.KEY_MATERIAL, T.BYTE_STRING, Symbol("$KEY_MATERIAL_0")),
    )
    now = dt.datetime(2008, 3, 14, 11, 56, 40, tzinfo=dt.UTC)
    bound = bind(item, {"$UNIQUE_IDENTIFIER_1": "uid-1", "$NOW": now})
    assert [child.value for child in bound.value] == [
        "uid-1",
        0x47DA67F8 - 3600,
        0x47DA67F8,
        Symbol("$KEY_MATERIAL_0"),
    ]
    with pytest.raises(ValueError):
        bind(item, {"$UNIQUE_IDENTIFIER_1": b"not text"})
    with pytest.raises(ValueError):
        bind(item, {"$NOW": dt.datetime(2008, 3, 14)})  # naive


def test_bind_now_parameter_and_date_time_extended() -> None:
    item = struct(
        Tag.BATCH_ITEM,
        leaf(Tag.ACTIVATION_DATE, T.DATE_TIME, Symbol("$NOW+5")),
        leaf(EXT, T.DATE_TIME_EXTENDED, Symbol("$NOW-1")),
        leaf(Tag.UNIQUE_IDENTIFIER, T.TEXT_STRING, Symbol("$UNIQUE_IDENTIFIER_0")),
    )
    bound = bind(item, {}, now=1000)
    assert [child.value for child in bound.value] == [1005, 999_000_000, Symbol("$UNIQUE_IDENTIFIER_0")]
    # an env "$NOW" wins over now=; an exact "$NOW+5" entry wins over both
    assert bind(item, {"$NOW": 2000}, now=1000).value[0].value == 2005
    assert bind(item, {"$NOW+5": 7, "$NOW": 2000}, now=1000).value[0].value == 7


def test_bind_defaults_is_total_and_deterministic() -> None:
    item = struct(
        Tag.BATCH_ITEM,
        leaf(Tag.UNIQUE_IDENTIFIER, T.TEXT_STRING, Symbol("$UNIQUE_IDENTIFIER_1")),
        leaf(Tag.ACTIVATION_DATE, T.DATE_TIME, Symbol("$NOW+60")),
        leaf(Tag.KEY_MATERIAL, T.BYTE_STRING, Symbol("$KEY_MATERIAL_0")),
        leaf(Tag.BATCH_COUNT, T.INTEGER, Symbol("$COUNT")),
    )
    bound = bind_defaults(item, 1000, {"$UNIQUE_IDENTIFIER_1": "given"})
    assert list(iter_symbols(bound)) == []
    values = [child.value for child in bound.value]
    assert values[:2] == ["given", 1060]
    assert isinstance(values[2], bytes) and len(values[2]) == 16
    assert isinstance(values[3], int) and 0 <= values[3] < 2**31
    assert bind_defaults(item, 1000, {"$UNIQUE_IDENTIFIER_1": "given"}) == bound
