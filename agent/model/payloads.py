"""Request and response payloads of every operation (spec 1.4 sections 4-5, 2.1 section 6).

One dataclass per payload, fields in the order of the spec's payload table; a field that
exists in one major version only is simply left unset in the other. Attribute carriers are
version-neutral (``attributes: tuple[Attribute, ...]``); the ``_fields.attributes`` metadata
names the carrier of each major version:

* 1.x Template-Attribute family (Name* + Attribute*) or Attribute* directly in the payload,
* 2.x Attributes family, New Attribute, Current Attribute.

``template_names`` holds the 1.x Template-Attribute Name items (references to Template
objects, deprecated in 1.3). ``attribute_names`` are 1.x Attribute Name strings / 2.x
Attribute References, both given as 1.x attribute names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from agent.model._fields import BARE, REQUIRED, attribute_names, attributes, carrier, template_names
from agent.model.attributes import (
    Attribute,
    CryptographicParameters,
    Name,
    RevocationReason,
    RNGParameters,
    UsageLimits,
)
from agent.model.objects import (
    Certificate,
    CertificateRequest,
    KeyWrappingSpecification,
    ManagedObject,
)
from agent.model.structures import (
    AsynchronousCorrelationValues,
    AsynchronousRequest,
    CapabilityInformation,
    Constraints,
    DefaultsInformation,
    DerivationParameters,
    ExtensionInformation,
    ObjectGroups,
    Operations,
    ProfileInformation,
    ProtectionStorageMasks,
    ProtocolVersion,
    Rights,
    Ticket,
    ValidationInformation,
)
from agent.spec import (
    CryptographicUsageMask,
    KeyCompressionType,
    KeyFormatType,
    ObjectType,
    Operation,
    QueryFunction,
    SecretDataType,
    StorageStatusMask,
    Tag,
)
from agent.ttlv import Item

__all__ = [
    "PAYLOADS",
    "UID",
    "ActivateRequest",
    "ActivateResponse",
    "AddAttributeRequest",
    "AddAttributeResponse",
    "AdjustAttributeRequest",
    "AdjustAttributeResponse",
    "ArchiveRequest",
    "ArchiveResponse",
    "CancelRequest",
    "CancelResponse",
    "CertifyRequest",
    "CertifyResponse",
    "CheckRequest",
    "CheckResponse",
    "CreateKeyPairRequest",
    "CreateKeyPairResponse",
    "CreateRequest",
    "CreateResponse",
    "CreateSplitKeyRequest",
    "CreateSplitKeyResponse",
    "DecryptRequest",
    "DecryptResponse",
    "DelegatedLoginRequest",
    "DelegatedLoginResponse",
    "DeleteAttributeRequest",
    "DeleteAttributeResponse",
    "DeriveKeyRequest",
    "DeriveKeyResponse",
    "DestroyRequest",
    "DestroyResponse",
    "DiscoverVersionsRequest",
    "DiscoverVersionsResponse",
    "EncryptRequest",
    "EncryptResponse",
    "ExportRequest",
    "ExportResponse",
    "GetAttributeListRequest",
    "GetAttributeListResponse",
    "GetAttributesRequest",
    "GetAttributesResponse",
    "GetConstraintsRequest",
    "GetConstraintsResponse",
    "GetRequest",
    "GetResponse",
    "GetUsageAllocationRequest",
    "GetUsageAllocationResponse",
    "HashRequest",
    "HashResponse",
    "ImportRequest",
    "ImportResponse",
    "InteropRequest",
    "InteropResponse",
    "JoinSplitKeyRequest",
    "JoinSplitKeyResponse",
    "LocateRequest",
    "LocateResponse",
    "LogRequest",
    "LogResponse",
    "LoginRequest",
    "LoginResponse",
    "LogoutRequest",
    "LogoutResponse",
    "MACRequest",
    "MACResponse",
    "MACVerifyRequest",
    "MACVerifyResponse",
    "ModifyAttributeRequest",
    "ModifyAttributeResponse",
    "NotifyRequest",
    "NotifyResponse",
    "ObtainLeaseRequest",
    "ObtainLeaseResponse",
    "PKCS11Request",
    "PKCS11Response",
    "Payload",
    "PingRequest",
    "PingResponse",
    "PollRequest",
    "PollResponse",
    "ProcessRequest",
    "ProcessResponse",
    "PutRequest",
    "PutResponse",
    "QueryAsynchronousRequestsRequest",
    "QueryAsynchronousRequestsResponse",
    "QueryRequest",
    "QueryResponse",
    "RNGRetrieveRequest",
    "RNGRetrieveResponse",
    "RNGSeedRequest",
    "RNGSeedResponse",
    "ReCertifyRequest",
    "ReCertifyResponse",
    "ReKeyKeyPairRequest",
    "ReKeyKeyPairResponse",
    "ReKeyRequest",
    "ReKeyResponse",
    "ReProvisionRequest",
    "ReProvisionResponse",
    "RecoverRequest",
    "RecoverResponse",
    "RegisterRequest",
    "RegisterResponse",
    "RequestPayload",
    "ResponsePayload",
    "RevokeRequest",
    "RevokeResponse",
    "SetAttributeRequest",
    "SetAttributeResponse",
    "SetConstraintsRequest",
    "SetConstraintsResponse",
    "SetDefaultsRequest",
    "SetDefaultsResponse",
    "SetEndpointRoleRequest",
    "SetEndpointRoleResponse",
    "SignRequest",
    "SignResponse",
    "SignatureVerifyRequest",
    "SignatureVerifyResponse",
    "ValidateRequest",
    "ValidateResponse",
    "payload_classes",
]

#: a Unique Identifier: Text String, or (2.x) an Enumeration / Integer ID-placeholder reference
UID = str | int

TA = Tag.TEMPLATE_ATTRIBUTE
ATTRS = Tag.ATTRIBUTES


@dataclass(frozen=True)
class Payload:
    """Base of every payload class."""

    TAG: ClassVar[int] = Tag.REQUEST_PAYLOAD


@dataclass(frozen=True)
class RequestPayload(Payload):
    TAG: ClassVar[int] = Tag.REQUEST_PAYLOAD


@dataclass(frozen=True)
class ResponsePayload(Payload):
    TAG: ClassVar[int] = Tag.RESPONSE_PAYLOAD


# --- object creation ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CreateRequest(RequestPayload):
    object_type: ObjectType
    attributes: tuple[Attribute, ...] = attributes(TA, ATTRS, default=())
    template_names: tuple[Name, ...] = template_names()
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class CreateResponse(ResponsePayload):
    object_type: ObjectType
    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class CreateKeyPairRequest(RequestPayload):
    common_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.COMMON_TEMPLATE_ATTRIBUTE, Tag.COMMON_ATTRIBUTES
    )
    private_key_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.PRIVATE_KEY_TEMPLATE_ATTRIBUTE, Tag.PRIVATE_KEY_ATTRIBUTES
    )
    public_key_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.PUBLIC_KEY_TEMPLATE_ATTRIBUTE, Tag.PUBLIC_KEY_ATTRIBUTES
    )
    common_protection_storage_masks: ProtectionStorageMasks | None = None
    private_protection_storage_masks: ProtectionStorageMasks | None = None
    public_protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class CreateKeyPairResponse(ResponsePayload):
    private_key_unique_identifier: UID
    public_key_unique_identifier: UID
    private_key_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.PRIVATE_KEY_TEMPLATE_ATTRIBUTE, None
    )
    public_key_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.PUBLIC_KEY_TEMPLATE_ATTRIBUTE, None
    )


@dataclass(frozen=True, kw_only=True)
class RegisterRequest(RequestPayload):
    object_type: ObjectType
    attributes: tuple[Attribute, ...] = attributes(TA, ATTRS, default=())
    template_names: tuple[Name, ...] = template_names()
    managed_object: ManagedObject | None = None
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class RegisterResponse(ResponsePayload):
    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class ReKeyRequest(RequestPayload):
    unique_identifier: UID | None = None
    offset: int | None = None
    attributes: tuple[Attribute, ...] | None = attributes(TA, ATTRS)
    template_names: tuple[Name, ...] = template_names()
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class ReKeyResponse(ResponsePayload):
    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class ReKeyKeyPairRequest(RequestPayload):
    private_key_unique_identifier: UID | None = None
    offset: int | None = None
    common_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.COMMON_TEMPLATE_ATTRIBUTE, Tag.COMMON_ATTRIBUTES
    )
    private_key_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.PRIVATE_KEY_TEMPLATE_ATTRIBUTE, Tag.PRIVATE_KEY_ATTRIBUTES
    )
    public_key_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.PUBLIC_KEY_TEMPLATE_ATTRIBUTE, Tag.PUBLIC_KEY_ATTRIBUTES
    )
    common_protection_storage_masks: ProtectionStorageMasks | None = None
    private_protection_storage_masks: ProtectionStorageMasks | None = None
    public_protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class ReKeyKeyPairResponse(ResponsePayload):
    private_key_unique_identifier: UID
    public_key_unique_identifier: UID
    private_key_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.PRIVATE_KEY_TEMPLATE_ATTRIBUTE, None
    )
    public_key_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.PUBLIC_KEY_TEMPLATE_ATTRIBUTE, None
    )


@dataclass(frozen=True, kw_only=True)
class DeriveKeyRequest(RequestPayload):
    object_type: ObjectType
    unique_identifier: tuple[UID, ...] = ()
    derivation_method: int
    derivation_parameters: DerivationParameters
    attributes: tuple[Attribute, ...] = attributes(TA, ATTRS, default=())
    template_names: tuple[Name, ...] = template_names()


@dataclass(frozen=True, kw_only=True)
class DeriveKeyResponse(ResponsePayload):
    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class CertifyRequest(RequestPayload):
    unique_identifier: UID | None = None
    certificate_request_unique_identifier: UID | None = None
    certificate_request_type: int | None = None
    certificate_request: bytes | None = None  # 1.x
    certificate_request_value: bytes | None = None  # 2.x
    attributes: tuple[Attribute, ...] | None = attributes(TA, ATTRS)
    template_names: tuple[Name, ...] = template_names()
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class CertifyResponse(ResponsePayload):
    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class ReCertifyRequest(RequestPayload):
    unique_identifier: UID | None = None
    certificate_request_unique_identifier: UID | None = None
    certificate_request_type: int | None = None
    certificate_request: bytes | None = None  # 1.x
    certificate_request_value: bytes | None = None  # 2.x
    offset: int | None = None
    attributes: tuple[Attribute, ...] | None = attributes(TA, ATTRS)
    template_names: tuple[Name, ...] = template_names()
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class ReCertifyResponse(ResponsePayload):
    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


# --- locate, check, get -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LocateRequest(RequestPayload):
    maximum_items: int | None = None
    offset_items: int | None = None
    storage_status_mask: StorageStatusMask | None = None
    object_group_member: int | None = None
    attributes: tuple[Attribute, ...] = attributes(BARE, ATTRS, default=())


@dataclass(frozen=True, kw_only=True)
class LocateResponse(ResponsePayload):
    located_items: int | None = None
    unique_identifier: tuple[UID, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CheckRequest(RequestPayload):
    unique_identifier: UID | None = None
    usage_limits_count: int | None = None
    cryptographic_usage_mask: CryptographicUsageMask | None = None
    lease_time: int | None = None


@dataclass(frozen=True, kw_only=True)
class CheckResponse(ResponsePayload):
    unique_identifier: UID | None = None
    usage_limits_count: int | None = None
    cryptographic_usage_mask: CryptographicUsageMask | None = None
    lease_time: int | None = None


@dataclass(frozen=True, kw_only=True)
class GetRequest(RequestPayload):
    unique_identifier: UID | None = None
    key_format_type: KeyFormatType | None = None
    key_wrap_type: int | None = None
    key_compression_type: KeyCompressionType | None = None
    key_wrapping_specification: KeyWrappingSpecification | None = None


@dataclass(frozen=True, kw_only=True)
class GetResponse(ResponsePayload):
    object_type: ObjectType
    unique_identifier: UID
    managed_object: ManagedObject


@dataclass(frozen=True, kw_only=True)
class GetAttributesRequest(RequestPayload):
    unique_identifier: UID | None = None
    attribute_names: tuple[str, ...] = attribute_names(default=())


@dataclass(frozen=True, kw_only=True)
class GetAttributesResponse(ResponsePayload):
    unique_identifier: UID
    attributes: tuple[Attribute, ...] = attributes(BARE, ATTRS, default=())


@dataclass(frozen=True, kw_only=True)
class GetAttributeListRequest(RequestPayload):
    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class GetAttributeListResponse(ResponsePayload):
    unique_identifier: UID
    attribute_names: tuple[str, ...] = attribute_names(default=())


# --- attribute operations -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AddAttributeRequest(RequestPayload):
    unique_identifier: UID | None = None
    attribute: Attribute = field(metadata=carrier(BARE, Tag.NEW_ATTRIBUTE))


@dataclass(frozen=True, kw_only=True)
class AddAttributeResponse(ResponsePayload):
    unique_identifier: UID
    attribute: Attribute | None = field(default=None, metadata=carrier(BARE, None))  # 1.x only


@dataclass(frozen=True, kw_only=True)
class ModifyAttributeRequest(RequestPayload):
    unique_identifier: UID | None = None
    current_attribute: Attribute | None = field(  # 2.x only
        default=None, metadata=carrier(None, Tag.CURRENT_ATTRIBUTE)
    )
    attribute: Attribute = field(metadata=carrier(BARE, Tag.NEW_ATTRIBUTE))


@dataclass(frozen=True, kw_only=True)
class ModifyAttributeResponse(ResponsePayload):
    unique_identifier: UID
    attribute: Attribute | None = field(default=None, metadata=carrier(BARE, None))  # 1.x only


@dataclass(frozen=True, kw_only=True)
class DeleteAttributeRequest(RequestPayload):
    unique_identifier: UID | None = None
    current_attribute: Attribute | None = field(  # 2.x only
        default=None, metadata=carrier(None, Tag.CURRENT_ATTRIBUTE)
    )
    attribute_name: str | None = attribute_names()
    attribute_index: int | None = None  # 1.x only


@dataclass(frozen=True, kw_only=True)
class DeleteAttributeResponse(ResponsePayload):
    unique_identifier: UID
    attribute: Attribute | None = field(default=None, metadata=carrier(BARE, None))  # 1.x only


@dataclass(frozen=True, kw_only=True)
class SetAttributeRequest(RequestPayload):
    unique_identifier: UID | None = None
    attribute: Attribute = field(metadata=carrier(BARE, Tag.NEW_ATTRIBUTE))


@dataclass(frozen=True, kw_only=True)
class SetAttributeResponse(ResponsePayload):
    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class AdjustAttributeRequest(RequestPayload):
    unique_identifier: UID | None = None
    attribute_name: str = attribute_names(default=REQUIRED)
    adjustment_type: int
    adjustment_value: object = None


@dataclass(frozen=True, kw_only=True)
class AdjustAttributeResponse(ResponsePayload):
    unique_identifier: UID


# --- lifecycle ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ObtainLeaseRequest(RequestPayload):
    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class ObtainLeaseResponse(ResponsePayload):
    unique_identifier: UID
    lease_time: int | None = None
    last_change_date: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class GetUsageAllocationRequest(RequestPayload):
    unique_identifier: UID | None = None
    usage_limits_count: int


@dataclass(frozen=True, kw_only=True)
class GetUsageAllocationResponse(ResponsePayload):
    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class ActivateRequest(RequestPayload):
    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class ActivateResponse(ResponsePayload):
    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class RevokeRequest(RequestPayload):
    unique_identifier: UID | None = None
    revocation_reason: RevocationReason
    compromise_occurrence_date: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class RevokeResponse(ResponsePayload):
    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class DestroyRequest(RequestPayload):
    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class DestroyResponse(ResponsePayload):
    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class ArchiveRequest(RequestPayload):
    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class ArchiveResponse(ResponsePayload):
    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class RecoverRequest(RequestPayload):
    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class RecoverResponse(ResponsePayload):
    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class ValidateRequest(RequestPayload):
    certificate: tuple[Certificate, ...] = ()
    unique_identifier: tuple[UID, ...] = ()
    validity_date: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ValidateResponse(ResponsePayload):
    validity_indicator: int


# --- server information, asynchronous operations -------------------------------------------


@dataclass(frozen=True, kw_only=True)
class QueryRequest(RequestPayload):
    query_function: tuple[QueryFunction, ...] = ()
    object_groups: ObjectGroups | None = None


@dataclass(frozen=True, kw_only=True)
class QueryResponse(ResponsePayload):
    operation: tuple[Operation, ...] = ()
    object_type: tuple[ObjectType, ...] = ()
    vendor_identification: str | None = None
    server_information: Item | None = None
    application_namespace: tuple[str, ...] = ()
    extension_information: tuple[ExtensionInformation, ...] = ()
    attestation_type: tuple[int, ...] = ()
    rng_parameters: tuple[RNGParameters, ...] = ()
    profile_information: tuple[ProfileInformation, ...] = ()
    validation_information: tuple[ValidationInformation, ...] = ()
    capability_information: tuple[CapabilityInformation, ...] = ()
    client_registration_method: tuple[int, ...] = ()
    defaults_information: DefaultsInformation | None = None
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class DiscoverVersionsRequest(RequestPayload):
    protocol_version: tuple[ProtocolVersion, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DiscoverVersionsResponse(ResponsePayload):
    protocol_version: tuple[ProtocolVersion, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CancelRequest(RequestPayload):
    asynchronous_correlation_value: bytes


@dataclass(frozen=True, kw_only=True)
class CancelResponse(ResponsePayload):
    asynchronous_correlation_value: bytes
    cancellation_result: int


@dataclass(frozen=True, kw_only=True)
class PollRequest(RequestPayload):
    asynchronous_correlation_value: bytes


@dataclass(frozen=True, kw_only=True)
class PollResponse(ResponsePayload):
    """No payload while Pending; else the polled operation's payload (spec 1.4 4.28), which a
    batch item of Operation Poll cannot type: decoders keep it as the Item (``RAW``)."""

    RAW: ClassVar[bool] = True


@dataclass(frozen=True, kw_only=True)
class NotifyRequest(RequestPayload):
    """Notify (server to client, spec 1.4 5.1, 2.1 6.2.2)."""

    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(BARE, ATTRS)
    attribute_names: tuple[str, ...] = attribute_names(False, True, default=())


@dataclass(frozen=True, kw_only=True)
class NotifyResponse(ResponsePayload):
    pass


@dataclass(frozen=True, kw_only=True)
class PutRequest(RequestPayload):
    """Put (server to client, spec 1.4 5.2, 2.1 6.2.3)."""

    unique_identifier: UID
    put_function: int
    replaced_unique_identifier: UID | None = None
    managed_object: ManagedObject
    attributes: tuple[Attribute, ...] | None = attributes(BARE, ATTRS)


@dataclass(frozen=True, kw_only=True)
class PutResponse(ResponsePayload):
    pass


# --- cryptographic services (1.2+) ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EncryptRequest(RequestPayload):
    unique_identifier: UID | None = None
    cryptographic_parameters: CryptographicParameters | None = None
    data: bytes | None = field(default=None, repr=False)
    iv_counter_nonce: bytes | None = None
    correlation_value: bytes | None = None
    init_indicator: bool | None = None
    final_indicator: bool | None = None
    authenticated_encryption_additional_data: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class EncryptResponse(ResponsePayload):
    unique_identifier: UID
    data: bytes | None = field(default=None, repr=False)
    iv_counter_nonce: bytes | None = None
    correlation_value: bytes | None = None
    authenticated_encryption_tag: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class DecryptRequest(RequestPayload):
    unique_identifier: UID | None = None
    cryptographic_parameters: CryptographicParameters | None = None
    data: bytes | None = field(default=None, repr=False)
    iv_counter_nonce: bytes | None = None
    correlation_value: bytes | None = None
    init_indicator: bool | None = None
    final_indicator: bool | None = None
    authenticated_encryption_additional_data: bytes | None = None
    authenticated_encryption_tag: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class DecryptResponse(ResponsePayload):
    unique_identifier: UID
    data: bytes | None = field(default=None, repr=False)
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class SignRequest(RequestPayload):
    unique_identifier: UID | None = None
    cryptographic_parameters: CryptographicParameters | None = None
    data: bytes | None = field(default=None, repr=False)
    digested_data: bytes | None = None
    correlation_value: bytes | None = None
    init_indicator: bool | None = None
    final_indicator: bool | None = None


@dataclass(frozen=True, kw_only=True)
class SignResponse(ResponsePayload):
    unique_identifier: UID
    signature_data: bytes | None = None
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class SignatureVerifyRequest(RequestPayload):
    unique_identifier: UID | None = None
    cryptographic_parameters: CryptographicParameters | None = None
    data: bytes | None = field(default=None, repr=False)
    digested_data: bytes | None = None
    signature_data: bytes | None = None
    correlation_value: bytes | None = None
    init_indicator: bool | None = None
    final_indicator: bool | None = None


@dataclass(frozen=True, kw_only=True)
class SignatureVerifyResponse(ResponsePayload):
    unique_identifier: UID
    validity_indicator: int | None = None
    data: bytes | None = field(default=None, repr=False)
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class MACRequest(RequestPayload):
    unique_identifier: UID | None = None
    cryptographic_parameters: CryptographicParameters | None = None
    data: bytes | None = field(default=None, repr=False)
    correlation_value: bytes | None = None
    init_indicator: bool | None = None
    final_indicator: bool | None = None


@dataclass(frozen=True, kw_only=True)
class MACResponse(ResponsePayload):
    unique_identifier: UID
    mac_data: bytes | None = None
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class MACVerifyRequest(RequestPayload):
    unique_identifier: UID | None = None
    cryptographic_parameters: CryptographicParameters | None = None
    data: bytes | None = field(default=None, repr=False)
    mac_data: bytes | None = None
    correlation_value: bytes | None = None
    init_indicator: bool | None = None
    final_indicator: bool | None = None


@dataclass(frozen=True, kw_only=True)
class MACVerifyResponse(ResponsePayload):
    unique_identifier: UID
    validity_indicator: int | None = None
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class RNGRetrieveRequest(RequestPayload):
    data_length: int


@dataclass(frozen=True, kw_only=True)
class RNGRetrieveResponse(ResponsePayload):
    data: bytes = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class RNGSeedRequest(RequestPayload):
    data: bytes = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class RNGSeedResponse(ResponsePayload):
    data_length: int


@dataclass(frozen=True, kw_only=True)
class HashRequest(RequestPayload):
    cryptographic_parameters: CryptographicParameters | None = None
    data: bytes | None = field(default=None, repr=False)
    correlation_value: bytes | None = None
    init_indicator: bool | None = None
    final_indicator: bool | None = None


@dataclass(frozen=True, kw_only=True)
class HashResponse(ResponsePayload):
    data: bytes | None = field(default=None, repr=False)
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class CreateSplitKeyRequest(RequestPayload):
    object_type: ObjectType
    unique_identifier: UID | None = None
    split_key_parts: int
    split_key_threshold: int
    split_key_method: int
    prime_field_size: int | None = None
    attributes: tuple[Attribute, ...] = attributes(TA, ATTRS, default=())
    template_names: tuple[Name, ...] = template_names()
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class CreateSplitKeyResponse(ResponsePayload):
    unique_identifier: tuple[UID, ...] = ()
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class JoinSplitKeyRequest(RequestPayload):
    object_type: ObjectType
    unique_identifier: tuple[UID, ...] = ()
    secret_data_type: SecretDataType | None = None
    attributes: tuple[Attribute, ...] | None = attributes(TA, ATTRS)
    template_names: tuple[Name, ...] = template_names()
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class JoinSplitKeyResponse(ResponsePayload):
    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class ImportRequest(RequestPayload):
    unique_identifier: UID
    object_type: ObjectType
    replace_existing: bool | None = None
    key_wrap_type: int | None = None
    attributes: tuple[Attribute, ...] = attributes(BARE, ATTRS, default=())
    managed_object: ManagedObject


@dataclass(frozen=True, kw_only=True)
class ImportResponse(ResponsePayload):
    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class ExportRequest(RequestPayload):
    unique_identifier: UID | None = None
    key_format_type: KeyFormatType | None = None
    key_wrap_type: int | None = None
    key_compression_type: KeyCompressionType | None = None
    key_wrapping_specification: KeyWrappingSpecification | None = None


@dataclass(frozen=True, kw_only=True)
class ExportResponse(ResponsePayload):
    object_type: ObjectType
    unique_identifier: UID
    attributes: tuple[Attribute, ...] = attributes(BARE, ATTRS, default=())
    managed_object: ManagedObject


# --- 2.x session and administration operations --------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LogRequest(RequestPayload):
    log_message: str


@dataclass(frozen=True, kw_only=True)
class LogResponse(ResponsePayload):
    pass


@dataclass(frozen=True, kw_only=True)
class LoginRequest(RequestPayload):
    lease_time: int | None = None
    request_count: int | None = None
    usage_limits: UsageLimits | None = None


@dataclass(frozen=True, kw_only=True)
class LoginResponse(ResponsePayload):
    ticket: Ticket


@dataclass(frozen=True, kw_only=True)
class LogoutRequest(RequestPayload):
    ticket: Ticket


@dataclass(frozen=True, kw_only=True)
class LogoutResponse(ResponsePayload):
    pass


@dataclass(frozen=True, kw_only=True)
class DelegatedLoginRequest(RequestPayload):
    lease_time: int | None = None
    request_count: int | None = None
    usage_limits: UsageLimits | None = None
    rights: Rights


@dataclass(frozen=True, kw_only=True)
class DelegatedLoginResponse(ResponsePayload):
    ticket: Ticket


@dataclass(frozen=True, kw_only=True)
class SetEndpointRoleRequest(RequestPayload):
    endpoint_role: int


@dataclass(frozen=True, kw_only=True)
class SetEndpointRoleResponse(ResponsePayload):
    endpoint_role: int


@dataclass(frozen=True, kw_only=True)
class PKCS11Request(RequestPayload):
    pkcs_11_interface: str | None = None
    pkcs_11_function: int
    correlation_value: bytes | None = None
    pkcs_11_input_parameters: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class PKCS11Response(ResponsePayload):
    pkcs_11_interface: str | None = None
    pkcs_11_function: int
    correlation_value: bytes | None = None
    pkcs_11_output_parameters: bytes | None = None
    pkcs_11_return_code: int


@dataclass(frozen=True, kw_only=True)
class InteropRequest(RequestPayload):
    interop_function: int
    interop_identifier: str


@dataclass(frozen=True, kw_only=True)
class InteropResponse(ResponsePayload):
    pass


@dataclass(frozen=True, kw_only=True)
class ReProvisionRequest(RequestPayload):
    certificate_request: CertificateRequest | None = None
    certificate: Certificate | None = None


@dataclass(frozen=True, kw_only=True)
class ReProvisionResponse(ResponsePayload):
    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class SetDefaultsRequest(RequestPayload):
    defaults_information: DefaultsInformation | None = None


@dataclass(frozen=True, kw_only=True)
class SetDefaultsResponse(ResponsePayload):
    pass


@dataclass(frozen=True, kw_only=True)
class SetConstraintsRequest(RequestPayload):
    constraints: Constraints | None = None


@dataclass(frozen=True, kw_only=True)
class SetConstraintsResponse(ResponsePayload):
    pass


@dataclass(frozen=True, kw_only=True)
class GetConstraintsRequest(RequestPayload):
    pass


@dataclass(frozen=True, kw_only=True)
class GetConstraintsResponse(ResponsePayload):
    constraints: Constraints | None = None


@dataclass(frozen=True, kw_only=True)
class QueryAsynchronousRequestsRequest(RequestPayload):
    asynchronous_correlation_values: AsynchronousCorrelationValues | None = None
    operations: Operations | None = None


@dataclass(frozen=True, kw_only=True)
class QueryAsynchronousRequestsResponse(ResponsePayload):
    asynchronous_request: tuple[AsynchronousRequest, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ProcessRequest(RequestPayload):
    asynchronous_correlation_value: bytes


@dataclass(frozen=True, kw_only=True)
class ProcessResponse(ResponsePayload):
    pass


@dataclass(frozen=True, kw_only=True)
class PingRequest(RequestPayload):
    pass


@dataclass(frozen=True, kw_only=True)
class PingResponse(ResponsePayload):
    pass


PAYLOADS: dict[int, tuple[type[RequestPayload], type[ResponsePayload]]] = {
    Operation.CREATE: (CreateRequest, CreateResponse),
    Operation.CREATE_KEY_PAIR: (CreateKeyPairRequest, CreateKeyPairResponse),
    Operation.REGISTER: (RegisterRequest, RegisterResponse),
    Operation.RE_KEY: (ReKeyRequest, ReKeyResponse),
    Operation.DERIVE_KEY: (DeriveKeyRequest, DeriveKeyResponse),
    Operation.CERTIFY: (CertifyRequest, CertifyResponse),
    Operation.RE_CERTIFY: (ReCertifyRequest, ReCertifyResponse),
    Operation.LOCATE: (LocateRequest, LocateResponse),
    Operation.CHECK: (CheckRequest, CheckResponse),
    Operation.GET: (GetRequest, GetResponse),
    Operation.GET_ATTRIBUTES: (GetAttributesRequest, GetAttributesResponse),
    Operation.GET_ATTRIBUTE_LIST: (GetAttributeListRequest, GetAttributeListResponse),
    Operation.ADD_ATTRIBUTE: (AddAttributeRequest, AddAttributeResponse),
    Operation.MODIFY_ATTRIBUTE: (ModifyAttributeRequest, ModifyAttributeResponse),
    Operation.DELETE_ATTRIBUTE: (DeleteAttributeRequest, DeleteAttributeResponse),
    Operation.OBTAIN_LEASE: (ObtainLeaseRequest, ObtainLeaseResponse),
    Operation.GET_USAGE_ALLOCATION: (GetUsageAllocationRequest, GetUsageAllocationResponse),
    Operation.ACTIVATE: (ActivateRequest, ActivateResponse),
    Operation.REVOKE: (RevokeRequest, RevokeResponse),
    Operation.DESTROY: (DestroyRequest, DestroyResponse),
    Operation.ARCHIVE: (ArchiveRequest, ArchiveResponse),
    Operation.RECOVER: (RecoverRequest, RecoverResponse),
    Operation.VALIDATE: (ValidateRequest, ValidateResponse),
    Operation.QUERY: (QueryRequest, QueryResponse),
    Operation.CANCEL: (CancelRequest, CancelResponse),
    Operation.POLL: (PollRequest, PollResponse),
    Operation.NOTIFY: (NotifyRequest, NotifyResponse),
    Operation.PUT: (PutRequest, PutResponse),
    Operation.RE_KEY_KEY_PAIR: (ReKeyKeyPairRequest, ReKeyKeyPairResponse),
    Operation.DISCOVER_VERSIONS: (DiscoverVersionsRequest, DiscoverVersionsResponse),
    Operation.ENCRYPT: (EncryptRequest, EncryptResponse),
    Operation.DECRYPT: (DecryptRequest, DecryptResponse),
    Operation.SIGN: (SignRequest, SignResponse),
    Operation.SIGNATURE_VERIFY: (SignatureVerifyRequest, SignatureVerifyResponse),
    Operation.MAC: (MACRequest, MACResponse),
    Operation.MAC_VERIFY: (MACVerifyRequest, MACVerifyResponse),
    Operation.RNG_RETRIEVE: (RNGRetrieveRequest, RNGRetrieveResponse),
    Operation.RNG_SEED: (RNGSeedRequest, RNGSeedResponse),
    Operation.HASH: (HashRequest, HashResponse),
    Operation.CREATE_SPLIT_KEY: (CreateSplitKeyRequest, CreateSplitKeyResponse),
    Operation.JOIN_SPLIT_KEY: (JoinSplitKeyRequest, JoinSplitKeyResponse),
    Operation.IMPORT: (ImportRequest, ImportResponse),
    Operation.EXPORT: (ExportRequest, ExportResponse),
    Operation.LOG: (LogRequest, LogResponse),
    Operation.LOGIN: (LoginRequest, LoginResponse),
    Operation.LOGOUT: (LogoutRequest, LogoutResponse),
    Operation.DELEGATED_LOGIN: (DelegatedLoginRequest, DelegatedLoginResponse),
    Operation.ADJUST_ATTRIBUTE: (AdjustAttributeRequest, AdjustAttributeResponse),
    Operation.SET_ATTRIBUTE: (SetAttributeRequest, SetAttributeResponse),
    Operation.SET_ENDPOINT_ROLE: (SetEndpointRoleRequest, SetEndpointRoleResponse),
    Operation.PKCS_11: (PKCS11Request, PKCS11Response),
    Operation.INTEROP: (InteropRequest, InteropResponse),
    Operation.RE_PROVISION: (ReProvisionRequest, ReProvisionResponse),
    Operation.SET_DEFAULTS: (SetDefaultsRequest, SetDefaultsResponse),
    Operation.SET_CONSTRAINTS: (SetConstraintsRequest, SetConstraintsResponse),
    Operation.GET_CONSTRAINTS: (GetConstraintsRequest, GetConstraintsResponse),
    Operation.QUERY_ASYNCHRONOUS_REQUESTS: (
        QueryAsynchronousRequestsRequest,
        QueryAsynchronousRequestsResponse,
    ),
    Operation.PROCESS: (ProcessRequest, ProcessResponse),
    Operation.PING: (PingRequest, PingResponse),
}


def payload_classes(operation: int) -> tuple[type[RequestPayload], type[ResponsePayload]]:
    """The (request, response) payload classes of an Operation; KeyError if unknown."""
    return PAYLOADS[operation]
