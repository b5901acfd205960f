"""Structures shared by the message headers and the payloads.

Section numbers: spec 1.4 section 2.1 / 6, spec 2.1 section 7 / 8.
A field annotated ``Item`` keeps a vendor-defined structure as it came (Server Information,
Vendor Extension): its content is not specified by KMIP.
"""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from agent.model._fields import attributes
from agent.model.attributes import Attribute, CryptographicParameters, UsageLimits
from agent.spec import (
    CredentialType,
    HashingAlgorithm,
    ObjectType,
    Operation,
    ProfileName,
    ProtectionStorageMask,
    Tag,
    Version,
)
from agent.ttlv import Item

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # processed on first use: import time (issue 4), see _deferred
    from agent.model._deferred import dataclass


@dataclass(frozen=True)
class ProtocolVersion:
    """Protocol Version (spec 1.4 6.1, 2.1 8.1)."""

    TAG: ClassVar[int] = Tag.PROTOCOL_VERSION
    protocol_version_major: int
    protocol_version_minor: int

    @classmethod
    def of(cls, version: tuple[int, int]) -> ProtocolVersion:
        return cls(version[0], version[1])

    def as_version(self) -> Version:
        return Version(self.protocol_version_major, self.protocol_version_minor)


@dataclass(frozen=True)
class Nonce:
    TAG: ClassVar[int] = Tag.NONCE
    nonce_id: bytes
    nonce_value: bytes


@dataclass(frozen=True)
class Ticket:
    TAG: ClassVar[int] = Tag.TICKET
    ticket_type: int
    ticket_value: bytes


# --- Credential Value variants (spec 1.4 2.1.2, 2.1 8.x) ---------------------------------


@dataclass(frozen=True)
class UsernameAndPassword:
    TAG: ClassVar[int] = Tag.CREDENTIAL_VALUE
    username: str
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OneTimePassword:
    TAG: ClassVar[int] = Tag.CREDENTIAL_VALUE
    username: str
    password: str = field(repr=False)
    one_time_password: str = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class HashedPassword:
    TAG: ClassVar[int] = Tag.CREDENTIAL_VALUE
    username: str
    time_stamp: datetime
    hashing_algorithm: HashingAlgorithm | None = None
    hashed_password: bytes = field(repr=False)


@dataclass(frozen=True)
class TicketCredential:
    TAG: ClassVar[int] = Tag.CREDENTIAL_VALUE
    ticket: Ticket


@dataclass(frozen=True, kw_only=True)
class DeviceCredential:
    TAG: ClassVar[int] = Tag.CREDENTIAL_VALUE
    device_serial_number: str | None = None
    password: str | None = field(default=None, repr=False)
    device_identifier: str | None = None
    network_identifier: str | None = None
    machine_identifier: str | None = None
    media_identifier: str | None = None


@dataclass(frozen=True, kw_only=True)
class AttestationCredential:
    TAG: ClassVar[int] = Tag.CREDENTIAL_VALUE
    nonce: Nonce
    attestation_type: int
    attestation_measurement: bytes | None = None
    attestation_assertion: bytes | None = None


@dataclass(frozen=True)
class Credential:
    """Credential: the value's class is matched by shape (the Credential Type says which)."""

    TAG: ClassVar[int] = Tag.CREDENTIAL
    credential_type: CredentialType
    credential_value: (
        UsernameAndPassword
        | TicketCredential
        | OneTimePassword
        | HashedPassword
        | AttestationCredential
        | DeviceCredential
    )


@dataclass(frozen=True)
class Authentication:
    TAG: ClassVar[int] = Tag.AUTHENTICATION
    credential: tuple[Credential, ...]


@dataclass(frozen=True)
class MessageExtension:
    """Message Extension (spec 1.4 6.16): the Vendor Extension is vendor-defined."""

    TAG: ClassVar[int] = Tag.MESSAGE_EXTENSION
    vendor_identification: str
    criticality_indicator: bool
    vendor_extension: Item


# --- Query / server information -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ExtensionInformation:
    TAG: ClassVar[int] = Tag.EXTENSION_INFORMATION
    extension_name: str
    extension_tag: int | None = None
    extension_type: int | None = None
    extension_enumeration: int | None = None
    extension_attribute: bool | None = None
    extension_parent_structure_tag: int | None = None
    extension_description: str | None = None


@dataclass(frozen=True)
class ProfileVersion:
    TAG: ClassVar[int] = Tag.PROFILE_VERSION
    profile_version_major: int
    profile_version_minor: int


@dataclass(frozen=True, kw_only=True)
class ProfileInformation:
    TAG: ClassVar[int] = Tag.PROFILE_INFORMATION
    profile_name: ProfileName
    profile_version: ProfileVersion | None = None
    server_uri: str | None = None
    server_port: int | None = None


@dataclass(frozen=True, kw_only=True)
class ValidationInformation:
    TAG: ClassVar[int] = Tag.VALIDATION_INFORMATION
    validation_authority_type: int
    validation_authority_country: str | None = None
    validation_authority_uri: str | None = None
    validation_version_major: int
    validation_version_minor: int | None = None
    validation_type: int
    validation_level: int
    validation_certificate_identifier: str | None = None
    validation_certificate_uri: str | None = None
    validation_vendor_uri: str | None = None
    validation_profile: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CapabilityInformation:
    TAG: ClassVar[int] = Tag.CAPABILITY_INFORMATION
    streaming_capability: bool | None = None
    asynchronous_capability: bool | None = None
    attestation_capability: bool | None = None
    batch_undo_capability: bool | None = None
    batch_continue_capability: bool | None = None
    unwrap_mode: int | None = None
    destroy_action: int | None = None
    shredding_algorithm: int | None = None
    rng_mode: int | None = None
    quantum_safe_capability: bool | None = None


@dataclass(frozen=True)
class ObjectTypes:
    TAG: ClassVar[int] = Tag.OBJECT_TYPES
    object_type: tuple[ObjectType, ...] = ()


@dataclass(frozen=True)
class ObjectGroups:
    TAG: ClassVar[int] = Tag.OBJECT_GROUPS
    object_group: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operations:
    TAG: ClassVar[int] = Tag.OPERATIONS
    operation: tuple[Operation, ...] = ()


@dataclass(frozen=True)
class Objects:
    TAG: ClassVar[int] = Tag.OBJECTS
    unique_identifier: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class ProtectionStorageMasks:
    TAG: ClassVar[int] = Tag.PROTECTION_STORAGE_MASKS
    protection_storage_mask: tuple[ProtectionStorageMask, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ObjectDefaults:
    TAG: ClassVar[int] = Tag.OBJECT_DEFAULTS
    object_type: ObjectType
    attributes: tuple[Attribute, ...] = attributes(None, Tag.ATTRIBUTES, default=())
    object_groups: ObjectGroups | None = None


@dataclass(frozen=True)
class DefaultsInformation:
    TAG: ClassVar[int] = Tag.DEFAULTS_INFORMATION
    object_defaults: tuple[ObjectDefaults, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Constraint:
    TAG: ClassVar[int] = Tag.CONSTRAINT
    object_types: ObjectTypes | None = None
    object_groups: ObjectGroups | None = None
    attributes: tuple[Attribute, ...] | None = attributes(None, Tag.ATTRIBUTES)


@dataclass(frozen=True)
class Constraints:
    TAG: ClassVar[int] = Tag.CONSTRAINTS
    constraint: tuple[Constraint, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Right:
    TAG: ClassVar[int] = Tag.RIGHT
    usage_limits: UsageLimits | None = None
    operations: Operations | None = None
    objects: Objects | None = None
    object_groups: ObjectGroups | None = None


@dataclass(frozen=True)
class Rights:
    TAG: ClassVar[int] = Tag.RIGHTS
    right: tuple[Right, ...] = ()


@dataclass(frozen=True)
class AsynchronousCorrelationValues:
    TAG: ClassVar[int] = Tag.ASYNCHRONOUS_CORRELATION_VALUES
    asynchronous_correlation_value: tuple[bytes, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AsynchronousRequest:
    TAG: ClassVar[int] = Tag.ASYNCHRONOUS_REQUEST
    asynchronous_correlation_value: bytes
    operation: Operation
    submission_date: datetime | None = None
    processing_stage: int | None = None


@dataclass(frozen=True, kw_only=True)
class DerivationParameters:
    """Derivation Parameters (spec 1.4 4.6 Table 194, 2.1 7.9)."""

    TAG: ClassVar[int] = Tag.DERIVATION_PARAMETERS
    cryptographic_parameters: CryptographicParameters | None = None
    initialization_vector: bytes | None = None
    derivation_data: bytes | None = None
    salt: bytes | None = None
    iteration_count: int | None = None
