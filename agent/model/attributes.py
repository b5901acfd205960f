"""Attributes, version-neutral, and the structured attribute values.

An attribute is ``Attribute(name, value, index)`` whatever the protocol version:

* ``name`` is the KMIP 1.x attribute name ("Cryptographic Algorithm", spec 1.4 section 3);
  custom attributes keep their 1.x prefix ("x-Barcode"). In 2.x the converter writes a
  standard attribute by its own tag inside Attributes, and a name "<vendor>-<name>" as a
  Vendor Attribute {Vendor Identification, Attribute Name, Attribute Value} (spec 2.1
  section 4.60: vendor "x"/"y" stand for the 1.x x-/y- custom attributes).
* ``value`` is typed: enumerations as the registry's IntEnum, masks as IntFlag, dates as
  aware UTC datetimes, structures as the dataclasses below (``Name``, ``Link``, ...).
  The value of a custom or unknown attribute keeps its item type: ``str``, ``int``
  (Integer), ``bool``, ``bytes``, ``datetime`` (Date-Time) for the common types,
  :class:`Typed` for the others (Long Integer, Big Integer, Enumeration, Interval,
  Date Time Extended) and the :class:`~agent.ttlv.Item` itself for a structure.
* ``index`` is the 1.x Attribute Index (spec 1.4 section 2.1.1); 2.x has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from agent.model._fields import since
from agent.spec import (
    V1_1,
    AlternativeNameType,
    BlockCipherMode,
    CryptographicAlgorithm,
    DigitalSignatureAlgorithm,
    DRBGAlgorithm,
    FIPS186Variation,
    HashingAlgorithm,
    ItemType,
    KeyFormatType,
    KeyRoleType,
    KeyValueLocationType,
    LinkType,
    MaskGenerator,
    NameType,
    PaddingMethod,
    RecommendedCurve,
    RevocationReasonCode,
    RNGAlgorithm,
    Tag,
    UsageLimitsUnit,
)

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # processed on first use: import time (issue 4), see _deferred
    from agent.model._deferred import dataclass


@dataclass(frozen=True)
class Typed:
    """A value of a custom/unknown attribute whose item type is not implied by its Python type."""

    type: ItemType
    value: int


@dataclass(frozen=True)
class Attribute:
    """One attribute instance; see the module docstring for the naming and value rules."""

    TAG: ClassVar[int] = Tag.ATTRIBUTE
    name: str
    value: object = None
    index: int | None = None


# --- structured attribute values (spec 1.4 section 3 / 2.1 section 4) ------------------


@dataclass(frozen=True)
class Name:
    """Name attribute (spec 1.4 3.2, 2.1 4.41)."""

    TAG: ClassVar[int] = Tag.NAME
    name_value: str
    name_type: NameType = NameType.UNINTERPRETED_TEXT_STRING


@dataclass(frozen=True)
class AlternativeName:
    """Alternative Name attribute (spec 1.4 3.40, 2.1 4.2)."""

    TAG: ClassVar[int] = Tag.ALTERNATIVE_NAME
    alternative_name_value: str
    alternative_name_type: AlternativeNameType = AlternativeNameType.UNINTERPRETED_TEXT_STRING


@dataclass(frozen=True)
class ApplicationSpecificInformation:
    """Application Specific Information (spec 1.4 3.36, 2.1 4.4); data optional since 1.3."""

    TAG: ClassVar[int] = Tag.APPLICATION_SPECIFIC_INFORMATION
    application_namespace: str
    application_data: str | None = None


@dataclass(frozen=True)
class Link:
    """Link attribute (spec 1.4 3.35, 2.1 4.38); 2.x identifiers may be Enumeration/Integer."""

    TAG: ClassVar[int] = Tag.LINK
    link_type: LinkType
    linked_object_identifier: str | int


@dataclass(frozen=True)
class Digest:
    """Digest attribute (spec 1.4 3.17, 2.1 4.22)."""

    TAG: ClassVar[int] = Tag.DIGEST
    hashing_algorithm: HashingAlgorithm
    digest_value: bytes | None = None
    # Key Format Type joined the Digest structure in KMIP 1.1: the Tape Library profile's own
    # cases show it in TL-M-3-11 and not in TL-M-3-10 (profile section 3.1.3 / 3.2.3).
    key_format_type: KeyFormatType | None = since(V1_1)


@dataclass(frozen=True)
class CryptographicParameters:
    """Cryptographic Parameters (spec 1.4 3.6, 2.1 4.15); every field optional."""

    TAG: ClassVar[int] = Tag.CRYPTOGRAPHIC_PARAMETERS
    block_cipher_mode: BlockCipherMode | None = None
    padding_method: PaddingMethod | None = None
    hashing_algorithm: HashingAlgorithm | None = None
    key_role_type: KeyRoleType | None = None
    digital_signature_algorithm: DigitalSignatureAlgorithm | None = None
    cryptographic_algorithm: CryptographicAlgorithm | None = None
    random_iv: bool | None = None
    iv_length: int | None = None
    tag_length: int | None = None
    fixed_field_length: int | None = None
    invocation_field_length: int | None = None
    counter_length: int | None = None
    initial_counter_value: int | None = None
    salt_length: int | None = None
    mask_generator: MaskGenerator | None = None
    mask_generator_hashing_algorithm: HashingAlgorithm | None = None
    p_source: bytes | None = None
    trailer_field: int | None = None


@dataclass(frozen=True)
class CryptographicDomainParameters:
    """Cryptographic Domain Parameters (spec 1.4 3.7, 2.1 4.14)."""

    TAG: ClassVar[int] = Tag.CRYPTOGRAPHIC_DOMAIN_PARAMETERS
    qlength: int | None = None
    recommended_curve: RecommendedCurve | None = None


@dataclass(frozen=True)
class UsageLimits:
    """Usage Limits (spec 1.4 3.21, 2.1 4.64): totals are Long Integers."""

    TAG: ClassVar[int] = Tag.USAGE_LIMITS
    usage_limits_total: int | None = None
    usage_limits_count: int | None = None
    usage_limits_unit: UsageLimitsUnit | None = None


@dataclass(frozen=True)
class RevocationReason:
    """Revocation Reason (spec 1.4 3.31, 2.1 4.52)."""

    TAG: ClassVar[int] = Tag.REVOCATION_REASON
    revocation_reason_code: RevocationReasonCode
    revocation_message: str | None = None


@dataclass(frozen=True)
class KeyValueLocation:
    """Key Value Location (spec 1.4 3.47, 2.1 4.33)."""

    TAG: ClassVar[int] = Tag.KEY_VALUE_LOCATION
    key_value_location_value: str
    key_value_location_type: KeyValueLocationType


@dataclass(frozen=True)
class X509CertificateIdentifier:
    """X.509 Certificate Identifier (spec 1.4 3.9, 2.1 4.65)."""

    TAG: ClassVar[int] = Tag.X_509_CERTIFICATE_IDENTIFIER
    issuer_distinguished_name: bytes
    certificate_serial_number: bytes


@dataclass(frozen=True)
class X509CertificateSubject:
    """X.509 Certificate Subject (spec 1.4 3.10, 2.1 4.67)."""

    TAG: ClassVar[int] = Tag.X_509_CERTIFICATE_SUBJECT
    subject_distinguished_name: bytes
    subject_alternative_name: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class X509CertificateIssuer:
    """X.509 Certificate Issuer (spec 1.4 3.11, 2.1 4.66)."""

    TAG: ClassVar[int] = Tag.X_509_CERTIFICATE_ISSUER
    issuer_distinguished_name: bytes
    issuer_alternative_name: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class CertificateIdentifier:
    """Certificate Identifier, KMIP 1.0 (deprecated in 1.1, spec 1.4 3.13)."""

    TAG: ClassVar[int] = Tag.CERTIFICATE_IDENTIFIER
    issuer: str
    serial_number: str | None = None


@dataclass(frozen=True)
class CertificateSubject:
    """Certificate Subject, KMIP 1.0 (deprecated in 1.1, spec 1.4 3.14)."""

    TAG: ClassVar[int] = Tag.CERTIFICATE_SUBJECT
    certificate_subject_distinguished_name: str
    certificate_subject_alternative_name: tuple[str, ...] = ()


@dataclass(frozen=True)
class CertificateIssuer:
    """Certificate Issuer, KMIP 1.0 (deprecated in 1.1, spec 1.4 3.15)."""

    TAG: ClassVar[int] = Tag.CERTIFICATE_ISSUER
    certificate_issuer_distinguished_name: str
    certificate_issuer_alternative_name: tuple[str, ...] = ()


@dataclass(frozen=True)
class RNGParameters:
    """RNG Parameters (spec 1.4 2.1.18, 2.1 7.22); also the Random Number Generator value."""

    TAG: ClassVar[int] = Tag.RNG_PARAMETERS
    rng_algorithm: RNGAlgorithm
    cryptographic_algorithm: CryptographicAlgorithm | None = None
    cryptographic_length: int | None = None
    hashing_algorithm: HashingAlgorithm | None = None
    drbg_algorithm: DRBGAlgorithm | None = None
    recommended_curve: RecommendedCurve | None = None
    fips186_variation: FIPS186Variation | None = None
    prediction_resistance: bool | None = None


#: attribute tag -> the dataclass of its value (a structure); every other attribute value
#: is a leaf typed by the registry (or kept as the Item when the registry has no class).
ATTRIBUTE_VALUE_CLASSES: dict[int, type] = {
    Tag.NAME: Name,
    Tag.ALTERNATIVE_NAME: AlternativeName,
    Tag.APPLICATION_SPECIFIC_INFORMATION: ApplicationSpecificInformation,
    Tag.LINK: Link,
    Tag.DIGEST: Digest,
    Tag.CRYPTOGRAPHIC_PARAMETERS: CryptographicParameters,
    Tag.CRYPTOGRAPHIC_DOMAIN_PARAMETERS: CryptographicDomainParameters,
    Tag.USAGE_LIMITS: UsageLimits,
    Tag.REVOCATION_REASON: RevocationReason,
    Tag.KEY_VALUE_LOCATION: KeyValueLocation,
    Tag.X_509_CERTIFICATE_IDENTIFIER: X509CertificateIdentifier,
    Tag.X_509_CERTIFICATE_SUBJECT: X509CertificateSubject,
    Tag.X_509_CERTIFICATE_ISSUER: X509CertificateIssuer,
    Tag.CERTIFICATE_IDENTIFIER: CertificateIdentifier,
    Tag.CERTIFICATE_SUBJECT: CertificateSubject,
    Tag.CERTIFICATE_ISSUER: CertificateIssuer,
    Tag.RANDOM_NUMBER_GENERATOR: RNGParameters,
}
