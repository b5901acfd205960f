"""The registry (agent/spec) and the error classes (agent/errors)."""

from __future__ import annotations

from agent.errors import (
    InvalidField,
    ItemNotFound,
    KmipError,
    PermissionDenied,
    error_for,
    reason_for_version,
)
from agent.spec import (
    V1_2,
    V2_1,
    CryptographicUsageMask,
    ItemType,
    ObjectType,
    ResultReason,
    Tag,
    enum_value_by_name,
    enum_value_name,
    mask_from_names,
    mask_to_names,
    tag_by_name,
    tag_by_xml,
    tag_def,
)


def test_smoke_tag_lookups() -> None:
    row = tag_def(Tag.UNIQUE_BATCH_ITEM_ID)
    assert row is not None
    assert (row.code, row.name, row.xml, row.type) == (
        0x420093,
        "Unique Batch Item ID",
        "UniqueBatchItemID",
        ItemType.BYTE_STRING,
    )
    assert tag_by_name("Unique Identifier") is tag_def(0x420094)
    assert tag_by_xml("PKCS_11Function") is tag_def(Tag.PKCS_11_FUNCTION)


def test_smoke_enum_names() -> None:
    assert enum_value_name(ObjectType, 2) == "SymmetricKey"
    assert enum_value_name(ObjectType, 2, xml=False) == "Symmetric Key"
    assert enum_value_by_name(ObjectType, "Symmetric Key") == ObjectType.SYMMETRIC_KEY
    assert enum_value_by_name(ObjectType, "0x00000002") == 2
    assert mask_from_names(CryptographicUsageMask, "Decrypt Encrypt") == 0x0C
    assert mask_to_names(CryptographicUsageMask, 0x0C) == "Encrypt Decrypt"


def test_smoke_errors() -> None:
    err = error_for(ResultReason.ITEM_NOT_FOUND, "no such object")
    assert isinstance(err, ItemNotFound) and isinstance(err, KmipError)
    assert err.reason is ResultReason.ITEM_NOT_FOUND
    assert InvalidField("x").reason == ResultReason.INVALID_FIELD
    assert reason_for_version(ResultReason.WRONG_KEY_LIFECYCLE_STATE, V1_2) is PermissionDenied.reason
    assert (
        reason_for_version(ResultReason.WRONG_KEY_LIFECYCLE_STATE, V2_1)
        is ResultReason.WRONG_KEY_LIFECYCLE_STATE
    )
