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

from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

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

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # processed on first use: import time (issue 4), see _deferred
    from agent.model._deferred import dataclass

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
    """Create request payload (spec 1.4 4.1, 2.1 6.1.8)."""

    object_type: ObjectType
    attributes: tuple[Attribute, ...] = attributes(TA, ATTRS, default=())
    template_names: tuple[Name, ...] = template_names()
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class CreateResponse(ResponsePayload):
    """Create response payload (spec 1.4 4.1, 2.1 6.1.8)."""

    object_type: ObjectType
    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class CreateKeyPairRequest(RequestPayload):
    """Create Key Pair request payload (spec 1.4 4.2, 2.1 6.1.9)."""

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
    """Create Key Pair response payload (spec 1.4 4.2, 2.1 6.1.9)."""

    private_key_unique_identifier: UID
    public_key_unique_identifier: UID
    private_key_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.PRIVATE_KEY_TEMPLATE_ATTRIBUTE, None
    )
    public_key_attributes: tuple[Attribute, ...] | None = attributes(Tag.PUBLIC_KEY_TEMPLATE_ATTRIBUTE, None)


@dataclass(frozen=True, kw_only=True)
class RegisterRequest(RequestPayload):
    """Register request payload (spec 1.4 4.3, 2.1 6.1.43)."""

    object_type: ObjectType
    attributes: tuple[Attribute, ...] = attributes(TA, ATTRS, default=())
    template_names: tuple[Name, ...] = template_names()
    managed_object: ManagedObject | None = None
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class RegisterResponse(ResponsePayload):
    """Register response payload (spec 1.4 4.3, 2.1 6.1.43)."""

    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class ReKeyRequest(RequestPayload):
    """Re-key request payload (spec 1.4 4.4, 2.1 6.1.46)."""

    unique_identifier: UID | None = None
    offset: int | None = None
    attributes: tuple[Attribute, ...] | None = attributes(TA, ATTRS)
    template_names: tuple[Name, ...] = template_names()
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class ReKeyResponse(ResponsePayload):
    """Re-key response payload (spec 1.4 4.4, 2.1 6.1.46)."""

    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class ReKeyKeyPairRequest(RequestPayload):
    """Re-key Key Pair request payload (spec 1.4 4.5, 2.1 6.1.47)."""

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
    """Re-key Key Pair response payload (spec 1.4 4.5, 2.1 6.1.47)."""

    private_key_unique_identifier: UID
    public_key_unique_identifier: UID
    private_key_attributes: tuple[Attribute, ...] | None = attributes(
        Tag.PRIVATE_KEY_TEMPLATE_ATTRIBUTE, None
    )
    public_key_attributes: tuple[Attribute, ...] | None = attributes(Tag.PUBLIC_KEY_TEMPLATE_ATTRIBUTE, None)


@dataclass(frozen=True, kw_only=True)
class DeriveKeyRequest(RequestPayload):
    """Derive Key request payload (spec 1.4 4.6, 2.1 6.1.14)."""

    object_type: ObjectType
    unique_identifier: tuple[UID, ...] = ()
    derivation_method: int
    derivation_parameters: DerivationParameters
    attributes: tuple[Attribute, ...] = attributes(TA, ATTRS, default=())
    template_names: tuple[Name, ...] = template_names()


@dataclass(frozen=True, kw_only=True)
class DeriveKeyResponse(ResponsePayload):
    """Derive Key response payload (spec 1.4 4.6, 2.1 6.1.14)."""

    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class CertifyRequest(RequestPayload):
    """Certify request payload (spec 1.4 4.7, 2.1 6.1.6)."""

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
    """Certify response payload (spec 1.4 4.7, 2.1 6.1.6)."""

    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class ReCertifyRequest(RequestPayload):
    """Re-certify request payload (spec 1.4 4.8, 2.1 6.1.45)."""

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
    """Re-certify response payload (spec 1.4 4.8, 2.1 6.1.45)."""

    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


# --- locate, check, get -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LocateRequest(RequestPayload):
    """Locate request payload (spec 1.4 4.9, 2.1 6.1.28)."""

    maximum_items: int | None = None
    offset_items: int | None = None
    storage_status_mask: StorageStatusMask | None = None
    object_group_member: int | None = None
    attributes: tuple[Attribute, ...] = attributes(BARE, ATTRS, default=())


@dataclass(frozen=True, kw_only=True)
class LocateResponse(ResponsePayload):
    """Locate response payload (spec 1.4 4.9, 2.1 6.1.28)."""

    located_items: int | None = None
    unique_identifier: tuple[UID, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CheckRequest(RequestPayload):
    """Check request payload (spec 1.4 4.10, 2.1 6.1.7)."""

    unique_identifier: UID | None = None
    usage_limits_count: int | None = None
    cryptographic_usage_mask: CryptographicUsageMask | None = None
    lease_time: int | None = None


@dataclass(frozen=True, kw_only=True)
class CheckResponse(ResponsePayload):
    """Check response payload (spec 1.4 4.10, 2.1 6.1.7)."""

    unique_identifier: UID | None = None
    usage_limits_count: int | None = None
    cryptographic_usage_mask: CryptographicUsageMask | None = None
    lease_time: int | None = None


@dataclass(frozen=True, kw_only=True)
class GetRequest(RequestPayload):
    """Get request payload (spec 1.4 4.11, 2.1 6.1.19)."""

    unique_identifier: UID | None = None
    key_format_type: KeyFormatType | None = None
    key_wrap_type: int | None = None
    key_compression_type: KeyCompressionType | None = None
    key_wrapping_specification: KeyWrappingSpecification | None = None


@dataclass(frozen=True, kw_only=True)
class GetResponse(ResponsePayload):
    """Get response payload (spec 1.4 4.11, 2.1 6.1.19)."""

    object_type: ObjectType
    unique_identifier: UID
    managed_object: ManagedObject


@dataclass(frozen=True, kw_only=True)
class GetAttributesRequest(RequestPayload):
    """Get Attributes request payload (spec 1.4 4.12, 2.1 6.1.20)."""

    unique_identifier: UID | None = None
    attribute_names: tuple[str, ...] = attribute_names(default=())


@dataclass(frozen=True, kw_only=True)
class GetAttributesResponse(ResponsePayload):
    """Get Attributes response payload (spec 1.4 4.12, 2.1 6.1.20)."""

    unique_identifier: UID
    attributes: tuple[Attribute, ...] = attributes(BARE, ATTRS, default=())


@dataclass(frozen=True, kw_only=True)
class GetAttributeListRequest(RequestPayload):
    """Get Attribute List request payload (spec 1.4 4.13, 2.1 6.1.21)."""

    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class GetAttributeListResponse(ResponsePayload):
    """Get Attribute List response payload (spec 1.4 4.13, 2.1 6.1.21)."""

    unique_identifier: UID
    attribute_names: tuple[str, ...] = attribute_names(default=())


# --- attribute operations -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AddAttributeRequest(RequestPayload):
    """Add Attribute request payload (spec 1.4 4.14, 2.1 6.1.2)."""

    unique_identifier: UID | None = None
    attribute: Attribute = field(metadata=carrier(BARE, Tag.NEW_ATTRIBUTE))


@dataclass(frozen=True, kw_only=True)
class AddAttributeResponse(ResponsePayload):
    """Add Attribute response payload (spec 1.4 4.14, 2.1 6.1.2)."""

    unique_identifier: UID
    attribute: Attribute | None = field(default=None, metadata=carrier(BARE, None))  # 1.x only


@dataclass(frozen=True, kw_only=True)
class ModifyAttributeRequest(RequestPayload):
    """Modify Attribute request payload (spec 1.4 4.15, 2.1 6.1.34)."""

    unique_identifier: UID | None = None
    current_attribute: Attribute | None = field(  # 2.x only
        default=None, metadata=carrier(None, Tag.CURRENT_ATTRIBUTE)
    )
    attribute: Attribute = field(metadata=carrier(BARE, Tag.NEW_ATTRIBUTE))


@dataclass(frozen=True, kw_only=True)
class ModifyAttributeResponse(ResponsePayload):
    """Modify Attribute response payload (spec 1.4 4.15, 2.1 6.1.34)."""

    unique_identifier: UID
    attribute: Attribute | None = field(default=None, metadata=carrier(BARE, None))  # 1.x only


@dataclass(frozen=True, kw_only=True)
class DeleteAttributeRequest(RequestPayload):
    """Delete Attribute request payload (spec 1.4 4.16, 2.1 6.1.13)."""

    unique_identifier: UID | None = None
    current_attribute: Attribute | None = field(  # 2.x only
        default=None, metadata=carrier(None, Tag.CURRENT_ATTRIBUTE)
    )
    attribute_name: str | None = attribute_names()
    attribute_index: int | None = None  # 1.x only


@dataclass(frozen=True, kw_only=True)
class DeleteAttributeResponse(ResponsePayload):
    """Delete Attribute response payload (spec 1.4 4.16, 2.1 6.1.13)."""

    unique_identifier: UID
    attribute: Attribute | None = field(default=None, metadata=carrier(BARE, None))  # 1.x only


@dataclass(frozen=True, kw_only=True)
class SetAttributeRequest(RequestPayload):
    """Set Attribute request payload (spec 2.1 6.1.51)."""

    unique_identifier: UID | None = None
    attribute: Attribute = field(metadata=carrier(BARE, Tag.NEW_ATTRIBUTE))


@dataclass(frozen=True, kw_only=True)
class SetAttributeResponse(ResponsePayload):
    """Set Attribute response payload (spec 2.1 6.1.51)."""

    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class AdjustAttributeRequest(RequestPayload):
    """Adjust Attribute request payload (spec 2.1 6.1.3)."""

    unique_identifier: UID | None = None
    attribute_name: str = attribute_names(default=REQUIRED)
    adjustment_type: int
    adjustment_value: object = None


@dataclass(frozen=True, kw_only=True)
class AdjustAttributeResponse(ResponsePayload):
    """Adjust Attribute response payload (spec 2.1 6.1.3)."""

    unique_identifier: UID


# --- lifecycle ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ObtainLeaseRequest(RequestPayload):
    """Obtain Lease request payload (spec 1.4 4.17, 2.1 6.1.35)."""

    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class ObtainLeaseResponse(ResponsePayload):
    """Obtain Lease response payload (spec 1.4 4.17, 2.1 6.1.35)."""

    unique_identifier: UID
    lease_time: int | None = None
    last_change_date: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class GetUsageAllocationRequest(RequestPayload):
    """Get Usage Allocation request payload (spec 1.4 4.18, 2.1 6.1.23)."""

    unique_identifier: UID | None = None
    usage_limits_count: int


@dataclass(frozen=True, kw_only=True)
class GetUsageAllocationResponse(ResponsePayload):
    """Get Usage Allocation response payload (spec 1.4 4.18, 2.1 6.1.23)."""

    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class ActivateRequest(RequestPayload):
    """Activate request payload (spec 1.4 4.19, 2.1 6.1.1)."""

    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class ActivateResponse(ResponsePayload):
    """Activate response payload (spec 1.4 4.19, 2.1 6.1.1)."""

    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class RevokeRequest(RequestPayload):
    """Revoke request payload (spec 1.4 4.20, 2.1 6.1.44)."""

    unique_identifier: UID | None = None
    revocation_reason: RevocationReason
    compromise_occurrence_date: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class RevokeResponse(ResponsePayload):
    """Revoke response payload (spec 1.4 4.20, 2.1 6.1.44)."""

    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class DestroyRequest(RequestPayload):
    """Destroy request payload (spec 1.4 4.21, 2.1 6.1.15)."""

    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class DestroyResponse(ResponsePayload):
    """Destroy response payload (spec 1.4 4.21, 2.1 6.1.15)."""

    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class ArchiveRequest(RequestPayload):
    """Archive request payload (spec 1.4 4.22, 2.1 6.1.4)."""

    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class ArchiveResponse(ResponsePayload):
    """Archive response payload (spec 1.4 4.22, 2.1 6.1.4)."""

    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class RecoverRequest(RequestPayload):
    """Recover request payload (spec 1.4 4.23, 2.1 6.1.42)."""

    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class RecoverResponse(ResponsePayload):
    """Recover response payload (spec 1.4 4.23, 2.1 6.1.42)."""

    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class ValidateRequest(RequestPayload):
    """Validate request payload (spec 1.4 4.24, 2.1 6.1.57)."""

    certificate: tuple[Certificate, ...] = ()
    unique_identifier: tuple[UID, ...] = ()
    validity_date: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ValidateResponse(ResponsePayload):
    """Validate response payload (spec 1.4 4.24, 2.1 6.1.57)."""

    validity_indicator: int


# --- server information, asynchronous operations -------------------------------------------


@dataclass(frozen=True, kw_only=True)
class QueryRequest(RequestPayload):
    """Query request payload (spec 1.4 4.25, 2.1 6.1.40)."""

    query_function: tuple[QueryFunction, ...] = ()
    object_groups: ObjectGroups | None = None


@dataclass(frozen=True, kw_only=True)
class QueryResponse(ResponsePayload):
    """Query response payload (spec 1.4 4.25, 2.1 6.1.40)."""

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
    """Discover Versions request payload (spec 1.4 4.26, 2.1 6.1.16)."""

    protocol_version: tuple[ProtocolVersion, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DiscoverVersionsResponse(ResponsePayload):
    """Discover Versions response payload (spec 1.4 4.26, 2.1 6.1.16)."""

    protocol_version: tuple[ProtocolVersion, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CancelRequest(RequestPayload):
    """Cancel request payload (spec 1.4 4.27, 2.1 6.1.5)."""

    asynchronous_correlation_value: bytes


@dataclass(frozen=True, kw_only=True)
class CancelResponse(ResponsePayload):
    """Cancel response payload (spec 1.4 4.27, 2.1 6.1.5)."""

    asynchronous_correlation_value: bytes
    cancellation_result: int


@dataclass(frozen=True, kw_only=True)
class PollRequest(RequestPayload):
    """Poll request payload (spec 1.4 4.28, 2.1 6.1.38)."""

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
    """Notify response payload (spec 1.4 5.1, 2.1 6.2.2)."""


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
    """Put response payload (spec 1.4 5.2, 2.1 6.2.3)."""


# --- cryptographic services (1.2+) ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EncryptRequest(RequestPayload):
    """Encrypt request payload (spec 1.4 4.29, 2.1 6.1.17)."""

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
    """Encrypt response payload (spec 1.4 4.29, 2.1 6.1.17)."""

    unique_identifier: UID
    data: bytes | None = field(default=None, repr=False)
    iv_counter_nonce: bytes | None = None
    correlation_value: bytes | None = None
    authenticated_encryption_tag: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class DecryptRequest(RequestPayload):
    """Decrypt request payload (spec 1.4 4.30, 2.1 6.1.11)."""

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
    """Decrypt response payload (spec 1.4 4.30, 2.1 6.1.11)."""

    unique_identifier: UID
    data: bytes | None = field(default=None, repr=False)
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class SignRequest(RequestPayload):
    """Sign request payload (spec 1.4 4.31, 2.1 6.1.55)."""

    unique_identifier: UID | None = None
    cryptographic_parameters: CryptographicParameters | None = None
    data: bytes | None = field(default=None, repr=False)
    digested_data: bytes | None = None
    correlation_value: bytes | None = None
    init_indicator: bool | None = None
    final_indicator: bool | None = None


@dataclass(frozen=True, kw_only=True)
class SignResponse(ResponsePayload):
    """Sign response payload (spec 1.4 4.31, 2.1 6.1.55)."""

    unique_identifier: UID
    signature_data: bytes | None = None
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class SignatureVerifyRequest(RequestPayload):
    """Signature Verify request payload (spec 1.4 4.32, 2.1 6.1.56)."""

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
    """Signature Verify response payload (spec 1.4 4.32, 2.1 6.1.56)."""

    unique_identifier: UID
    validity_indicator: int | None = None
    data: bytes | None = field(default=None, repr=False)
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class MACRequest(RequestPayload):
    """MAC request payload (spec 1.4 4.33, 2.1 6.1.32)."""

    unique_identifier: UID | None = None
    cryptographic_parameters: CryptographicParameters | None = None
    data: bytes | None = field(default=None, repr=False)
    correlation_value: bytes | None = None
    init_indicator: bool | None = None
    final_indicator: bool | None = None


@dataclass(frozen=True, kw_only=True)
class MACResponse(ResponsePayload):
    """MAC response payload (spec 1.4 4.33, 2.1 6.1.32)."""

    unique_identifier: UID
    mac_data: bytes | None = None
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class MACVerifyRequest(RequestPayload):
    """MAC Verify request payload (spec 1.4 4.34, 2.1 6.1.33)."""

    unique_identifier: UID | None = None
    cryptographic_parameters: CryptographicParameters | None = None
    data: bytes | None = field(default=None, repr=False)
    mac_data: bytes | None = None
    correlation_value: bytes | None = None
    init_indicator: bool | None = None
    final_indicator: bool | None = None


@dataclass(frozen=True, kw_only=True)
class MACVerifyResponse(ResponsePayload):
    """MAC Verify response payload (spec 1.4 4.34, 2.1 6.1.33)."""

    unique_identifier: UID
    validity_indicator: int | None = None
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class RNGRetrieveRequest(RequestPayload):
    """RNG Retrieve request payload (spec 1.4 4.35, 2.1 6.1.49)."""

    data_length: int


@dataclass(frozen=True, kw_only=True)
class RNGRetrieveResponse(ResponsePayload):
    """RNG Retrieve response payload (spec 1.4 4.35, 2.1 6.1.49)."""

    data: bytes = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class RNGSeedRequest(RequestPayload):
    """RNG Seed request payload (spec 1.4 4.36, 2.1 6.1.50)."""

    data: bytes = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class RNGSeedResponse(ResponsePayload):
    """RNG Seed response payload (spec 1.4 4.36, 2.1 6.1.50)."""

    data_length: int


@dataclass(frozen=True, kw_only=True)
class HashRequest(RequestPayload):
    """Hash request payload (spec 1.4 4.37, 2.1 6.1.24)."""

    cryptographic_parameters: CryptographicParameters | None = None
    data: bytes | None = field(default=None, repr=False)
    correlation_value: bytes | None = None
    init_indicator: bool | None = None
    final_indicator: bool | None = None


@dataclass(frozen=True, kw_only=True)
class HashResponse(ResponsePayload):
    """Hash response payload (spec 1.4 4.37, 2.1 6.1.24)."""

    data: bytes | None = field(default=None, repr=False)
    correlation_value: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class CreateSplitKeyRequest(RequestPayload):
    """Create Split Key request payload (spec 1.4 4.38, 2.1 6.1.10)."""

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
    """Create Split Key response payload (spec 1.4 4.38, 2.1 6.1.10)."""

    unique_identifier: tuple[UID, ...] = ()
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class JoinSplitKeyRequest(RequestPayload):
    """Join Split Key request payload (spec 1.4 4.39, 2.1 6.1.27)."""

    object_type: ObjectType
    unique_identifier: tuple[UID, ...] = ()
    secret_data_type: SecretDataType | None = None
    attributes: tuple[Attribute, ...] | None = attributes(TA, ATTRS)
    template_names: tuple[Name, ...] = template_names()
    protection_storage_masks: ProtectionStorageMasks | None = None


@dataclass(frozen=True, kw_only=True)
class JoinSplitKeyResponse(ResponsePayload):
    """Join Split Key response payload (spec 1.4 4.39, 2.1 6.1.27)."""

    unique_identifier: UID
    attributes: tuple[Attribute, ...] | None = attributes(TA, None)


@dataclass(frozen=True, kw_only=True)
class ImportRequest(RequestPayload):
    """Import request payload (spec 1.4 4.41, 2.1 6.1.25)."""

    unique_identifier: UID
    object_type: ObjectType
    replace_existing: bool | None = None
    key_wrap_type: int | None = None
    attributes: tuple[Attribute, ...] = attributes(BARE, ATTRS, default=())
    managed_object: ManagedObject


@dataclass(frozen=True, kw_only=True)
class ImportResponse(ResponsePayload):
    """Import response payload (spec 1.4 4.41, 2.1 6.1.25)."""

    unique_identifier: UID


@dataclass(frozen=True, kw_only=True)
class ExportRequest(RequestPayload):
    """Export request payload (spec 1.4 4.40, 2.1 6.1.18)."""

    unique_identifier: UID | None = None
    key_format_type: KeyFormatType | None = None
    key_wrap_type: int | None = None
    key_compression_type: KeyCompressionType | None = None
    key_wrapping_specification: KeyWrappingSpecification | None = None


@dataclass(frozen=True, kw_only=True)
class ExportResponse(ResponsePayload):
    """Export response payload (spec 1.4 4.40, 2.1 6.1.18)."""

    object_type: ObjectType
    unique_identifier: UID
    attributes: tuple[Attribute, ...] = attributes(BARE, ATTRS, default=())
    managed_object: ManagedObject


# --- 2.x session and administration operations --------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LogRequest(RequestPayload):
    """Log request payload (spec 2.1 6.1.29)."""

    log_message: str


@dataclass(frozen=True, kw_only=True)
class LogResponse(ResponsePayload):
    """Log response payload (spec 2.1 6.1.29)."""


@dataclass(frozen=True, kw_only=True)
class LoginRequest(RequestPayload):
    """Login request payload (spec 2.1 6.1.30)."""

    lease_time: int | None = None
    request_count: int | None = None
    usage_limits: UsageLimits | None = None


@dataclass(frozen=True, kw_only=True)
class LoginResponse(ResponsePayload):
    """Login response payload (spec 2.1 6.1.30)."""

    ticket: Ticket


@dataclass(frozen=True, kw_only=True)
class LogoutRequest(RequestPayload):
    """Logout request payload (spec 2.1 6.1.31)."""

    ticket: Ticket


@dataclass(frozen=True, kw_only=True)
class LogoutResponse(ResponsePayload):
    """Logout response payload (spec 2.1 6.1.31)."""


@dataclass(frozen=True, kw_only=True)
class DelegatedLoginRequest(RequestPayload):
    """Delegated Login request payload (spec 2.1 6.1.12)."""

    lease_time: int | None = None
    request_count: int | None = None
    usage_limits: UsageLimits | None = None
    rights: Rights


@dataclass(frozen=True, kw_only=True)
class DelegatedLoginResponse(ResponsePayload):
    """Delegated Login response payload (spec 2.1 6.1.12)."""

    ticket: Ticket


@dataclass(frozen=True, kw_only=True)
class SetEndpointRoleRequest(RequestPayload):
    """Set Endpoint Role request payload (spec 2.1 6.1.54)."""

    endpoint_role: int


@dataclass(frozen=True, kw_only=True)
class SetEndpointRoleResponse(ResponsePayload):
    """Set Endpoint Role response payload (spec 2.1 6.1.54)."""

    endpoint_role: int


@dataclass(frozen=True, kw_only=True)
class PKCS11Request(RequestPayload):
    """PKCS#11 request payload (spec 2.1 6.1.37)."""

    pkcs_11_interface: str | None = None
    pkcs_11_function: int
    correlation_value: bytes | None = None
    pkcs_11_input_parameters: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class PKCS11Response(ResponsePayload):
    """PKCS#11 response payload (spec 2.1 6.1.37)."""

    pkcs_11_interface: str | None = None
    pkcs_11_function: int
    correlation_value: bytes | None = None
    pkcs_11_output_parameters: bytes | None = None
    pkcs_11_return_code: int


@dataclass(frozen=True, kw_only=True)
class InteropRequest(RequestPayload):
    """Interop request payload (spec 2.1 6.1.26)."""

    interop_function: int
    interop_identifier: str


@dataclass(frozen=True, kw_only=True)
class InteropResponse(ResponsePayload):
    """Interop response payload (spec 2.1 6.1.26)."""


@dataclass(frozen=True, kw_only=True)
class ReProvisionRequest(RequestPayload):
    """Re-Provision request payload (spec 2.1 6.1.48)."""

    certificate_request: CertificateRequest | None = None
    certificate: Certificate | None = None


@dataclass(frozen=True, kw_only=True)
class ReProvisionResponse(ResponsePayload):
    """Re-Provision response payload (spec 2.1 6.1.48)."""

    unique_identifier: UID | None = None


@dataclass(frozen=True, kw_only=True)
class SetDefaultsRequest(RequestPayload):
    """Set Defaults request payload (spec 2.1 6.1.53)."""

    defaults_information: DefaultsInformation | None = None


@dataclass(frozen=True, kw_only=True)
class SetDefaultsResponse(ResponsePayload):
    """Set Defaults response payload (spec 2.1 6.1.53)."""


@dataclass(frozen=True, kw_only=True)
class SetConstraintsRequest(RequestPayload):
    """Set Constraints request payload (spec 2.1 6.1.52)."""

    constraints: Constraints | None = None


@dataclass(frozen=True, kw_only=True)
class SetConstraintsResponse(ResponsePayload):
    """Set Constraints response payload (spec 2.1 6.1.52)."""


@dataclass(frozen=True, kw_only=True)
class GetConstraintsRequest(RequestPayload):
    """Get Constraints request payload (spec 2.1 6.1.22)."""


@dataclass(frozen=True, kw_only=True)
class GetConstraintsResponse(ResponsePayload):
    """Get Constraints response payload (spec 2.1 6.1.22)."""

    constraints: Constraints | None = None


@dataclass(frozen=True, kw_only=True)
class QueryAsynchronousRequestsRequest(RequestPayload):
    """Query Asynchronous Requests request payload (spec 2.1 6.1.41)."""

    asynchronous_correlation_values: AsynchronousCorrelationValues | None = None
    operations: Operations | None = None


@dataclass(frozen=True, kw_only=True)
class QueryAsynchronousRequestsResponse(ResponsePayload):
    """Query Asynchronous Requests response payload (spec 2.1 6.1.41)."""

    asynchronous_request: tuple[AsynchronousRequest, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ProcessRequest(RequestPayload):
    """Process request payload (spec 2.1 6.1.39)."""

    asynchronous_correlation_value: bytes


@dataclass(frozen=True, kw_only=True)
class ProcessResponse(ResponsePayload):
    """Process response payload (spec 2.1 6.1.39)."""


@dataclass(frozen=True, kw_only=True)
class PingRequest(RequestPayload):
    """Ping request payload (spec 2.1 6.1.36)."""


@dataclass(frozen=True, kw_only=True)
class PingResponse(ResponsePayload):
    """Ping response payload (spec 2.1 6.1.36)."""


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
