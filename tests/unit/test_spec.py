"""The registry (agent/spec) and the error classes (agent/errors).

The corpus tests read every OASIS test-case file (skipped when they are not present) and
check that every element name, every enumeration value name and every mask name used there
resolves through the registry, and that the item types agree with the table.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from enum import IntEnum, IntFlag
from pathlib import Path

import pytest

import agent.errors as errors_module
from agent.errors import (
    InvalidField,
    ItemNotFound,
    KmipError,
    PermissionDenied,
    WrongKeyLifecycleState,
    error_for,
    reason_for_version,
)
from agent.spec import (
    ALL_VERSIONS,
    ENUM_NAMES,
    TAGS,
    V1_0,
    V1_1,
    V1_2,
    V1_3,
    V1_4,
    V2_0,
    V2_1,
    AsynchronousIndicator,
    CryptographicAlgorithm,
    CryptographicUsageMask,
    DRBGAlgorithm,
    HashingAlgorithm,
    ItemType,
    KeyFormatType,
    MaskGenerator,
    ObjectType,
    Operation,
    ProfileName,
    ResultReason,
    SplitKeyMethod,
    State,
    StorageStatusMask,
    Tag,
    UniqueIdentifier,
    Version,
    enum_for_tag,
    enum_value_by_name,
    enum_value_name,
    mask_from_names,
    mask_to_names,
    member_name,
    tag_by_name,
    tag_by_xml,
    tag_def,
    value_def,
    value_in_version,
    xml_name,
)
from agent.spec import VALUES as ENUM_VALUES

SPEC_DATA = Path(__file__).resolve().parents[3] / "shared" / "kmip-spec-data"

# ---------------------------------------------------------------- the tag table


def test_tag_codes_names_and_xml_names_are_unique() -> None:
    for attr in ("code", "name", "xml"):
        counts = Counter(getattr(t, attr) for t in TAGS)
        assert [k for k, n in counts.items() if n > 1] == [], attr
    assert [t.code for t in TAGS] == sorted(t.code for t in TAGS)
    assert len(TAGS) == 371


def test_every_tag_member_has_exactly_one_row() -> None:
    assert {t.code for t in TAGS} == {int(m) for m in Tag}
    assert len(Tag) == len(TAGS)
    for member in Tag:
        row = tag_def(member)
        assert row is not None
        assert member.name == member_name(row.name), row.name


def test_tag_codes_are_kmip_codes() -> None:
    for t in TAGS:
        assert 0x420001 <= t.code <= 0x42FFFF, t.name  # SPEC-2.1 §11.56: 42xxxx, extensions 54xxxx


def test_enumeration_typed_tags_have_their_enumeration() -> None:
    for t in TAGS:
        if t.type is ItemType.ENUMERATION:
            assert t.enum is not None and issubclass(t.enum, IntEnum), t.name
        if t.mask:
            assert t.type is ItemType.INTEGER, t.name
            assert t.enum is not None and issubclass(t.enum, IntFlag), t.name
        if t.enum is not None and not t.mask:
            assert t.type in (ItemType.ENUMERATION, None), t.name


def test_versions_of_tags() -> None:
    for t in TAGS:
        assert t.first in ALL_VERSIONS
        assert t.last is None or t.first <= t.last
    template = tag_def(Tag.TEMPLATE_ATTRIBUTE)
    assert template is not None
    assert (template.first, template.last) == (V1_0, V1_4)  # "(Reserved)" in SPEC-2.1 Table 487
    assert template.in_version(V1_4) and not template.in_version(V2_0)
    attrs = tag_def(Tag.ATTRIBUTES)
    assert attrs is not None and attrs.first == V2_0 and not attrs.in_version(V1_4)
    processing = tag_def(Tag.PROCESSING_STAGE)
    assert processing is not None and processing.first == V2_1 and processing.enum is not None


def test_known_rows() -> None:
    expected = {
        Tag.UNIQUE_IDENTIFIER: ("Unique Identifier", "UniqueIdentifier", None),
        Tag.UNIQUE_BATCH_ITEM_ID: ("Unique Batch Item ID", "UniqueBatchItemID", ItemType.BYTE_STRING),
        Tag.PASSWORD: ("Password", "Password", ItemType.TEXT_STRING),
        Tag.IV_COUNTER_NONCE: ("IV/Counter/Nonce", "IVCounterNonce", ItemType.BYTE_STRING),
        Tag.X_509_CERTIFICATE_IDENTIFIER: (
            "X.509 Certificate Identifier",
            "X_509CertificateIdentifier",
            ItemType.STRUCTURE,
        ),
        Tag.PKCS_12_FRIENDLY_NAME: ("PKCS#12 Friendly Name", "PKCS_12FriendlyName", ItemType.TEXT_STRING),
        Tag.CRYPTOGRAPHIC_USAGE_MASK: (
            "Cryptographic Usage Mask",
            "CryptographicUsageMask",
            ItemType.INTEGER,
        ),
        Tag.USAGE_LIMITS_COUNT: ("Usage Limits Count", "UsageLimitsCount", ItemType.LONG_INTEGER),
        Tag.SUBMISSION_DATE: ("Submission Date", "SubmissionDate", ItemType.DATE_TIME_EXTENDED),
        Tag.ATTRIBUTE_VALUE: ("Attribute Value", "AttributeValue", None),
        Tag.KEY_MATERIAL: ("Key Material", "KeyMaterial", None),
    }
    for tag, (name, xml, type_) in expected.items():
        row = tag_def(tag)
        assert row is not None
        assert (row.name, row.xml, row.type) == (name, xml, type_)
    assert (int(Tag.UNIQUE_IDENTIFIER), int(Tag.REQUEST_MESSAGE), int(Tag.PASSWORD)) == (
        0x420094,
        0x420078,
        0x4200A1,
    )
    assert enum_for_tag(Tag.MASK_GENERATOR_HASHING_ALGORITHM) is HashingAlgorithm
    assert enum_for_tag(Tag.ATTRIBUTE_REFERENCE) is Tag
    assert enum_for_tag(Tag.EXTENSION_TYPE) is ItemType
    assert enum_for_tag(Tag.ASYNCHRONOUS_INDICATOR) is AsynchronousIndicator
    assert enum_for_tag(Tag.UNIQUE_IDENTIFIER) is UniqueIdentifier
    assert enum_for_tag(Tag.STORAGE_STATUS_MASK) is StorageStatusMask
    assert enum_for_tag(0x540001) is None


def test_tag_lookups() -> None:
    row = tag_def(0x420094)
    assert row is not None
    assert tag_by_name("Unique Identifier") is row
    assert tag_by_name("unique  identifier") is row  # case and spacing tolerated
    assert tag_by_xml("UniqueIdentifier") is row
    assert tag_by_xml("uniqueidentifier") is None  # XML names are exact
    assert tag_by_name("No Such Tag") is None
    assert tag_def(0x540000) is None
    for t in TAGS:
        assert tag_by_name(t.name) is t
        assert tag_by_xml(t.xml) is t
        assert tag_def(t.code) is t


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("spec", "xml"),
    [
        ("3DES", "DES3"),
        ("SHA-256", "SHA_256"),
        ("PKCS#1", "PKCS_1"),
        ("X.509", "X_509"),
        ("Pre-Active", "PreActive"),
        ("Re-key", "ReKey"),
        ("Uninterpreted Text String", "UninterpretedTextString"),
        ("IV/Counter/Nonce", "IVCounterNonce"),
        ("Unique Batch Item ID", "UniqueBatchItemID"),
        ("ANSI X9.31", "ANSIX9_31"),
        ("SHA-512/224", "SHA_512_224"),
        ("Polynomial Sharing GF (2^8)", "PolynomialSharingGF2_8"),
        ("Dual-EC", "Dual_EC"),
        ("ChaCha20-Poly1305", "ChaCha20Poly1305"),
        ("Baseline Server Basic KMIP v1.2", "BaselineServerBasicKMIPV1_2"),
    ],
)
def test_xml_name_normalisation(spec: str, xml: str) -> None:
    assert xml_name(spec) == xml  # ENC §4.1.3; right-hand sides as written in the OASIS files


def test_member_names() -> None:
    assert member_name("3DES") == "DES3"
    assert member_name("PKCS#1") == "PKCS_1"
    assert member_name("IV/Counter/Nonce") == "IV_COUNTER_NONCE"
    assert int(CryptographicAlgorithm.DES3) == 2
    assert int(KeyFormatType.PKCS_1) == 3


def test_every_enumeration_table_matches_its_class() -> None:
    assert len(ENUM_VALUES) >= 64
    total = 0
    for cls, rows in ENUM_VALUES.items():
        assert cls in ENUM_NAMES
        assert {r.value for r in rows} == {int(m) for m in cls}, cls.__name__
        assert len(rows) == len(cls.__members__), cls.__name__  # no aliased members
        xmls = [xml_name(r.name) for r in rows]
        assert len(set(xmls)) == len(xmls), cls.__name__
        for r in rows:
            total += 1
            assert cls(r.value).name == member_name(r.name), (cls.__name__, r.name)
            assert r.first is None or r.first in ALL_VERSIONS
            assert r.last is None or r.last in ALL_VERSIONS
            assert enum_value_by_name(cls, r.name) == r.value
            assert enum_value_by_name(cls, xml_name(r.name)) == r.value
            assert enum_value_name(cls, r.value) == xml_name(r.name)
            assert enum_value_name(cls, r.value, xml=False) == r.name
            for alias in r.aliases:
                assert enum_value_by_name(cls, alias) == r.value
        if issubclass(cls, IntFlag):
            for r in rows:
                assert r.value & (r.value - 1) == 0, (cls.__name__, r.name)  # one bit each
    assert total > 850


def test_enum_value_lookups() -> None:
    assert enum_value_name(ObjectType, 2) == "SymmetricKey"
    assert enum_value_name(ObjectType, 2, xml=False) == "Symmetric Key"
    assert enum_value_name(ObjectType, 0x80000001) is None  # extension: caller writes hex
    assert enum_value_by_name(ObjectType, "Symmetric Key") == ObjectType.SYMMETRIC_KEY
    assert enum_value_by_name(ObjectType, "SymmetricKey") == ObjectType.SYMMETRIC_KEY
    assert enum_value_by_name(ObjectType, "0x00000002") == 2
    assert enum_value_by_name(ObjectType, "0x80000001") == 0x80000001
    assert enum_value_by_name(ObjectType, "Banana") is None
    assert enum_value_by_name(State, "PreActive") == State.PRE_ACTIVE
    assert enum_value_by_name(CryptographicAlgorithm, "DES3") == CryptographicAlgorithm.DES3
    assert enum_value_by_name(CryptographicAlgorithm, "3DES") == CryptographicAlgorithm.DES3
    assert enum_value_by_name(Operation, "ReKey") == Operation.RE_KEY
    assert (
        enum_value_by_name(SplitKeyMethod, "PolynomialSharingGF2_8")
        == SplitKeyMethod.POLYNOMIAL_SHARING_GF_2_8
    )
    # 1.x and 2.x spellings of the same value
    assert enum_value_by_name(HashingAlgorithm, "SHA-3-256") == HashingAlgorithm.SHA3_256
    assert enum_value_by_name(HashingAlgorithm, "SHA3-256") == HashingAlgorithm.SHA3_256
    assert enum_value_by_name(ResultReason, "Not Authorised") == ResultReason.NOT_AUTHORIZED
    assert enum_value_by_name(ResultReason, "NotAuthorized") == ResultReason.NOT_AUTHORIZED
    assert enum_value_by_name(ResultReason, "Object archived") == ResultReason.OBJECT_ARCHIVED
    assert enum_value_by_name(MaskGenerator, "MGF1") == MaskGenerator.MGF1
    assert enum_value_by_name(DRBGAlgorithm, "Dual_EC") == DRBGAlgorithm.DUAL_EC
    # Tag as an enumeration (2.x Attribute Reference, SPEC-2.1 §11.56)
    assert enum_value_name(Tag, 0x420094) == "UniqueIdentifier"
    assert enum_value_name(Tag, 0x420094, xml=False) == "Unique Identifier"
    assert enum_value_by_name(Tag, "X_509CertificateIdentifier") == Tag.X_509_CERTIFICATE_IDENTIFIER
    assert enum_value_by_name(Tag, "Cryptographic Length") == Tag.CRYPTOGRAPHIC_LENGTH


def test_masks() -> None:
    m = CryptographicUsageMask
    assert mask_from_names(m, "Decrypt Encrypt") == 0x0C
    assert mask_from_names(m, "Encrypt|Decrypt|CertificateSign") == 0x100C
    assert mask_from_names(m, "Wrap Key|Unwrap Key") == 0x30  # spec names with "|"
    assert mask_from_names(m, "Encrypt 0x80000000") == 0x80000004
    assert mask_from_names(m, "") == 0
    assert mask_from_names(m, "Encrypt Banana") is None
    assert mask_to_names(m, 0x0C) == "Encrypt Decrypt"
    assert mask_to_names(m, 0x0C, sep="|") == "Encrypt|Decrypt"
    assert mask_to_names(m, 0x80000001) == "Sign 0x80000000"
    assert mask_to_names(m, 0) == ""
    for value in (0x1, 0x0C, 0x30, 0x300C, 0xF00000):
        assert mask_from_names(m, mask_to_names(m, value)) == value
    assert mask_from_names(StorageStatusMask, "OnLineStorage ArchivalStorage") == 3


def test_value_versions() -> None:
    assert value_def(ResultReason, ResultReason.ITEM_NOT_FOUND) is not None
    assert value_in_version(ResultReason, ResultReason.ITEM_NOT_FOUND, V1_0)
    assert not value_in_version(ResultReason, ResultReason.SENSITIVE, V1_2)  # 1.4
    assert value_in_version(ResultReason, ResultReason.SENSITIVE, V1_4)
    assert not value_in_version(ResultReason, ResultReason.WRONG_KEY_LIFECYCLE_STATE, V1_4)
    assert value_in_version(ResultReason, ResultReason.WRONG_KEY_LIFECYCLE_STATE, V2_0)
    assert not value_in_version(ResultReason, ResultReason.ILLEGAL_OPERATION, V2_0)  # (Reserved) in 2.x
    assert not value_in_version(ResultReason, ResultReason.DUPLICATE_PROCESS_REQUEST, V2_0)  # 2.1
    assert not value_in_version(Operation, Operation.IMPORT, V1_3)  # 1.4
    assert value_in_version(Operation, Operation.DISCOVER_VERSIONS, V1_1)
    assert not value_in_version(Operation, Operation.PING, V2_0)
    assert not value_in_version(ObjectType, ObjectType.TEMPLATE, V2_0)
    assert not value_in_version(KeyFormatType, KeyFormatType.TRANSPARENT_ECDSA_PRIVATE_KEY, V2_1)
    assert value_in_version(ObjectType, 0x80000001, V1_0)  # extensions: the caller's policy
    assert not value_in_version(ProfileName, ProfileName.SUITE_B_MINLOS_128_CLIENT, V2_1)
    assert Version(1, 4) < Version(2, 0) and str(V2_1) == "2.1"


# ---------------------------------------------------------------- errors


def test_one_error_class_per_result_reason() -> None:
    classes = {
        obj.reason: obj
        for obj in vars(errors_module).values()
        if isinstance(obj, type) and issubclass(obj, KmipError) and obj is not KmipError
    }
    assert set(classes) == set(ResultReason)
    for reason, cls in classes.items():
        row = value_def(ResultReason, reason)
        assert row is not None
        assert cls.__name__ == xml_name(row.name).replace("_", ""), cls.__name__
        err = error_for(int(reason), "fixed text")
        assert type(err) is cls and err.reason is reason and err.message == "fixed text"


def test_error_basics() -> None:
    err = error_for(ResultReason.ITEM_NOT_FOUND, "no such object")
    assert isinstance(err, ItemNotFound) and isinstance(err, KmipError)
    assert str(err) == "no such object"
    assert InvalidField("x").reason is ResultReason.INVALID_FIELD
    assert KmipError().reason is ResultReason.GENERAL_FAILURE
    assert KmipError("m", ResultReason.PERMISSION_DENIED).reason is ResultReason.PERMISSION_DENIED
    # a per-instance override does not leak into the class
    assert (
        WrongKeyLifecycleState("m", ResultReason.PERMISSION_DENIED).reason is ResultReason.PERMISSION_DENIED
    )
    assert WrongKeyLifecycleState.reason is ResultReason.WRONG_KEY_LIFECYCLE_STATE
    unknown = error_for(0x80000001, "vendor")
    assert type(unknown) is KmipError and unknown.reason is ResultReason.GENERAL_FAILURE


@pytest.mark.parametrize(
    ("reason", "version", "expected"),
    [
        (ResultReason.WRONG_KEY_LIFECYCLE_STATE, V1_4, ResultReason.PERMISSION_DENIED),
        (ResultReason.WRONG_KEY_LIFECYCLE_STATE, V2_1, ResultReason.WRONG_KEY_LIFECYCLE_STATE),
        (ResultReason.OBJECT_NOT_FOUND, V1_0, ResultReason.ITEM_NOT_FOUND),
        (ResultReason.INVALID_ATTRIBUTE, V1_2, ResultReason.INVALID_FIELD),
        (ResultReason.ATTRIBUTE_NOT_FOUND, V1_4, ResultReason.INVALID_FIELD),
        (ResultReason.ATTRIBUTE_READ_ONLY, V1_4, ResultReason.PERMISSION_DENIED),
        (ResultReason.ATTRIBUTE_SINGLE_VALUED, V1_4, ResultReason.ILLEGAL_OPERATION),
        (ResultReason.OBJECT_DESTROYED, V1_4, ResultReason.ILLEGAL_OPERATION),
        (ResultReason.SENSITIVE, V1_2, ResultReason.PERMISSION_DENIED),
        (ResultReason.SENSITIVE, V1_4, ResultReason.SENSITIVE),
        (ResultReason.ILLEGAL_OPERATION, V2_0, ResultReason.PERMISSION_DENIED),
        (ResultReason.ILLEGAL_OPERATION, V1_3, ResultReason.ILLEGAL_OPERATION),
        (ResultReason.DUPLICATE_PROCESS_REQUEST, V2_0, ResultReason.GENERAL_FAILURE),
    ],
)
def test_reason_for_version(reason: ResultReason, version: Version, expected: ResultReason) -> None:
    assert reason_for_version(reason, version) is expected
    assert PermissionDenied.reason is ResultReason.PERMISSION_DENIED


def test_reason_for_version_always_answers_a_defined_value() -> None:
    for version in ALL_VERSIONS:
        for reason in ResultReason:
            mapped = reason_for_version(reason, version)
            assert value_in_version(ResultReason, mapped, version), (reason, version, mapped)
            if value_in_version(ResultReason, reason, version):
                assert mapped is reason


# ---------------------------------------------------------------- the OASIS corpus

_XML_TYPES = {
    "Structure": ItemType.STRUCTURE,
    "Integer": ItemType.INTEGER,
    "LongInteger": ItemType.LONG_INTEGER,
    "BigInteger": ItemType.BIG_INTEGER,
    "Enumeration": ItemType.ENUMERATION,
    "Boolean": ItemType.BOOLEAN,
    "TextString": ItemType.TEXT_STRING,
    "ByteString": ItemType.BYTE_STRING,
    "DateTime": ItemType.DATE_TIME,
    "Interval": ItemType.INTERVAL,
    "DateTimeExtended": ItemType.DATE_TIME_EXTENDED,
}
_NUMBER = re.compile(r"-?\d+|0x[0-9A-Fa-f]+")


def _parse(path: Path) -> ET.Element:
    """One document, tolerating a duplicated </KMIP> (TC-ECDSA-SIGN-1-14) and a missing <KMIP> root."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = text.replace("<KMIP>", "").replace("</KMIP>", "")
    return ET.fromstring(f"<KMIP>{text}</KMIP>")


def _corpus(root: Path) -> list[ET.Element]:
    files = sorted(root.rglob("*.xml"))
    assert len(files) >= 483
    return [_parse(f) for f in files]


def _attribute_tag(parent: ET.Element | None) -> str | None:
    """1.x Attribute {Attribute Name, Attribute Value}: the spec name the value belongs to."""
    if parent is None:
        return None
    name = parent.find("AttributeName")
    return None if name is None else name.get("value")


def test_corpus_names_and_values_resolve(kmip_test_cases: Path) -> None:
    elements = values = 0
    failures: list[str] = []
    for doc in _corpus(kmip_test_cases):
        parents = {child: parent for parent in doc.iter() for child in parent}
        for el in doc.iter():
            if el is doc:
                continue
            elements += 1
            row = tag_by_xml(el.tag)
            if row is None:
                failures.append(f"element {el.tag}")
                continue
            value, type_ = el.get("value"), el.get("type")
            if value is None or value.startswith("$"):
                continue
            enum = row.enum
            if row.code == Tag.ATTRIBUTE_VALUE:
                attr = _attribute_tag(parents.get(el))
                attr_row = tag_by_name(attr) if attr else None
                enum = attr_row.enum if attr_row else None
            if type_ == "Enumeration":
                values += 1
                if enum is None:
                    failures.append(f"{el.tag}: no enumeration for {value}")
                elif enum_value_by_name(enum, value) is None:
                    failures.append(f"{el.tag}: {value}")
            elif type_ == "Integer" and not _NUMBER.fullmatch(value):
                values += 1
                if enum is None or not issubclass(enum, IntFlag):
                    failures.append(f"{el.tag}: no mask for {value}")
                elif mask_from_names(enum, value) is None:
                    failures.append(f"{el.tag}: {value}")
    print(
        f"corpus: {elements} elements checked, {values} enumeration/mask values checked,"
        f" {len(failures)} failures"
    )
    assert failures == []
    assert elements > 50000 and values > 10000


def test_corpus_item_types_match_the_table(kmip_test_cases: Path) -> None:
    checked = 0
    mismatches: set[str] = set()
    for doc in _corpus(kmip_test_cases):
        for el in doc.iter():
            row = tag_by_xml(el.tag)
            if el is doc or row is None or row.type is None:
                continue
            checked += 1
            found = _XML_TYPES[el.get("type", "Structure")]  # no type= means Structure (ENC §6.1)
            if found is not row.type:
                mismatches.add(f"{el.tag}: table {row.type.name}, file {found.name}")
    print(f"corpus: {checked} typed elements checked, {len(mismatches)} mismatches")
    assert sorted(mismatches) == []
    assert checked > 50000


# ---------------------------------------------------------------- cross-check with the JSON registries


def _json_or_skip(name: str) -> dict[str, object]:
    path = SPEC_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _code(v: object) -> int:
    return int(v, 16) if isinstance(v, str) else int(str(v))


def test_tag_codes_agree_with_the_json_registries() -> None:
    checked = 0
    for name in ("kmip_1_4.json", "kmip_2_0_additions.json"):
        data = _json_or_skip(name)
        tags = data["tags"]
        assert isinstance(tags, dict)
        for spec_name, code in tags.items():
            if spec_name == "Reserved":
                continue  # 0x420137 is shown as (Reserved)
            row = tag_by_name(spec_name)
            assert row is not None, spec_name
            assert row.code == _code(code), spec_name
            checked += 1
    assert checked > 350


def test_enumeration_values_agree_with_the_json_registries() -> None:
    by_spec_name = {v: k for k, v in ENUM_NAMES.items()}
    checked = 0
    for name in ("kmip_1_4.json", "kmip_2_0_additions.json"):
        data = _json_or_skip(name)
        for key in ("enums", "masks"):
            table = data[key]
            assert isinstance(table, list)
            for enum in table:
                cls = by_spec_name[enum["name"]]
                for value_name, code in enum.get("values", {}).items():
                    found = enum_value_by_name(cls, " ".join(value_name.split()).replace(" - ", "-"))
                    assert found == _code(code), (enum["name"], value_name)
                    checked += 1
                for tag_name in enum.get("tags", ()):
                    if (enum["name"], tag_name) == ("Unique Identifier", "Link"):
                        continue  # Link is a Structure; the enumeration is for Linked Object Identifier
                    row = tag_by_name(tag_name)
                    assert row is not None and row.enum is cls, tag_name
    assert checked > 800
