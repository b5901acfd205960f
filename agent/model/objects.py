"""Managed objects and the key structures inside them (spec 1.4 section 2.1-2.2, 2.1 section 2)."""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, ClassVar

from agent.model._fields import BARE, attributes
from agent.model.attributes import Attribute, CryptographicParameters
from agent.spec import (
    CertificateRequestType,
    CertificateType,
    CryptographicAlgorithm,
    EncodingOption,
    KeyCompressionType,
    KeyFormatType,
    OpaqueDataType,
    RecommendedCurve,
    SecretDataType,
    SplitKeyMethod,
    Tag,
    WrappingMethod,
)

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # processed on first use: import time (issue 4), see _deferred
    from agent.model._deferred import dataclass

# --- Key Material: Byte String, or one of the Transparent structures (spec 2.1 2.1.7) ----


@dataclass(frozen=True)
class TransparentSymmetricKey:
    TAG: ClassVar[int] = Tag.KEY_MATERIAL
    key: bytes = field(repr=False)  # never in logs


@dataclass(frozen=True)
class TransparentDSAPrivateKey:
    TAG: ClassVar[int] = Tag.KEY_MATERIAL
    p: int
    q: int
    g: int
    x: int = field(repr=False)


@dataclass(frozen=True)
class TransparentDSAPublicKey:
    TAG: ClassVar[int] = Tag.KEY_MATERIAL
    p: int
    q: int
    g: int
    y: int


@dataclass(frozen=True)
class TransparentRSAPublicKey:
    TAG: ClassVar[int] = Tag.KEY_MATERIAL
    modulus: int
    public_exponent: int


@dataclass(frozen=True)
class TransparentRSAPrivateKey:
    TAG: ClassVar[int] = Tag.KEY_MATERIAL
    modulus: int
    private_exponent: int | None = field(default=None, repr=False)
    public_exponent: int | None = None
    p: int | None = field(default=None, repr=False)
    q: int | None = field(default=None, repr=False)
    prime_exponent_p: int | None = field(default=None, repr=False)
    prime_exponent_q: int | None = field(default=None, repr=False)
    crt_coefficient: int | None = field(default=None, repr=False)


@dataclass(frozen=True, kw_only=True)
class TransparentDHPrivateKey:
    TAG: ClassVar[int] = Tag.KEY_MATERIAL
    p: int
    q: int | None = None
    g: int
    j: int | None = None
    x: int = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class TransparentDHPublicKey:
    TAG: ClassVar[int] = Tag.KEY_MATERIAL
    p: int
    q: int | None = None
    g: int
    j: int | None = None
    y: int


@dataclass(frozen=True)
class TransparentECPrivateKey:
    """Also the shape of the 1.x Transparent ECDSA/ECDH/ECMQV private keys."""

    TAG: ClassVar[int] = Tag.KEY_MATERIAL
    recommended_curve: RecommendedCurve
    d: int = field(repr=False)


@dataclass(frozen=True)
class TransparentECPublicKey:
    """Also the shape of the 1.x Transparent ECDSA/ECDH/ECMQV public keys."""

    TAG: ClassVar[int] = Tag.KEY_MATERIAL
    recommended_curve: RecommendedCurve
    q_string: bytes


#: the Key Material structures; a structure is matched to the first class whose fields
#: cover its children (the Key Format Type of the Key Block says which format it is).
TransparentKey = (
    TransparentSymmetricKey
    | TransparentRSAPublicKey
    | TransparentRSAPrivateKey
    | TransparentDSAPrivateKey
    | TransparentDSAPublicKey
    | TransparentDHPrivateKey
    | TransparentDHPublicKey
    | TransparentECPrivateKey
    | TransparentECPublicKey
)


@dataclass(frozen=True)
class KeyValue:
    """Key Value (spec 1.4 2.1.4): Key Material + attributes (1.x Attribute*, 2.x Attributes)."""

    TAG: ClassVar[int] = Tag.KEY_VALUE
    key_material: bytes | TransparentKey = field(repr=False)  # never in logs
    attributes: tuple[Attribute, ...] | None = attributes(BARE, Tag.ATTRIBUTES)


@dataclass(frozen=True)
class EncryptionKeyInformation:
    TAG: ClassVar[int] = Tag.ENCRYPTION_KEY_INFORMATION
    unique_identifier: str | int
    cryptographic_parameters: CryptographicParameters | None = None


@dataclass(frozen=True)
class MACSignatureKeyInformation:
    TAG: ClassVar[int] = Tag.MAC_SIGNATURE_KEY_INFORMATION
    unique_identifier: str | int
    cryptographic_parameters: CryptographicParameters | None = None


@dataclass(frozen=True, kw_only=True)
class KeyWrappingData:
    """Key Wrapping Data (spec 1.4 2.1.5, 2.1 2.1.5)."""

    TAG: ClassVar[int] = Tag.KEY_WRAPPING_DATA
    wrapping_method: WrappingMethod
    encryption_key_information: EncryptionKeyInformation | None = None
    mac_signature_key_information: MACSignatureKeyInformation | None = None
    mac_signature: bytes | None = None
    iv_counter_nonce: bytes | None = None
    encoding_option: EncodingOption | None = None


@dataclass(frozen=True, kw_only=True)
class KeyWrappingSpecification:
    """Key Wrapping Specification (spec 1.4 2.1.6, 2.1 7.15)."""

    TAG: ClassVar[int] = Tag.KEY_WRAPPING_SPECIFICATION
    wrapping_method: WrappingMethod
    encryption_key_information: EncryptionKeyInformation | None = None
    mac_signature_key_information: MACSignatureKeyInformation | None = None
    attribute_name: tuple[str, ...] = ()
    encoding_option: EncodingOption | None = None


@dataclass(frozen=True, kw_only=True)
class KeyBlock:
    """Key Block (spec 1.4 2.1.3): Key Value is a structure, or a Byte String when wrapped."""

    TAG: ClassVar[int] = Tag.KEY_BLOCK
    key_format_type: KeyFormatType
    key_compression_type: KeyCompressionType | None = None
    # the Byte String form (wrapped, or whatever a peer put there) is key material too
    key_value: KeyValue | bytes | None = field(default=None, repr=False)  # never in logs
    cryptographic_algorithm: CryptographicAlgorithm | None = None
    cryptographic_length: int | None = None
    key_wrapping_data: KeyWrappingData | None = None


# --- managed objects ----------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    TAG: ClassVar[int] = Tag.CERTIFICATE
    certificate_type: CertificateType
    certificate_value: bytes


@dataclass(frozen=True)
class CertificateRequest:
    """Certificate Request object (2.0+)."""

    TAG: ClassVar[int] = Tag.CERTIFICATE_REQUEST
    certificate_request_type: CertificateRequestType
    certificate_request_value: bytes


@dataclass(frozen=True)
class SymmetricKey:
    TAG: ClassVar[int] = Tag.SYMMETRIC_KEY
    key_block: KeyBlock


@dataclass(frozen=True)
class PublicKey:
    TAG: ClassVar[int] = Tag.PUBLIC_KEY
    key_block: KeyBlock


@dataclass(frozen=True)
class PrivateKey:
    TAG: ClassVar[int] = Tag.PRIVATE_KEY
    key_block: KeyBlock


@dataclass(frozen=True, kw_only=True)
class SplitKey:
    TAG: ClassVar[int] = Tag.SPLIT_KEY
    split_key_parts: int
    key_part_identifier: int
    split_key_threshold: int
    split_key_method: SplitKeyMethod
    prime_field_size: int | None = None
    key_block: KeyBlock


@dataclass(frozen=True)
class Template:
    """Template object (1.x only; deprecated in 1.3, removed in 2.0): Attribute+."""

    TAG: ClassVar[int] = Tag.TEMPLATE
    attributes: tuple[Attribute, ...] = attributes(BARE, BARE, default=())


@dataclass(frozen=True)
class SecretData:
    TAG: ClassVar[int] = Tag.SECRET_DATA
    secret_data_type: SecretDataType
    key_block: KeyBlock


@dataclass(frozen=True)
class OpaqueObject:
    TAG: ClassVar[int] = Tag.OPAQUE_OBJECT
    opaque_data_type: OpaqueDataType
    opaque_data_value: bytes = field(repr=False)


@dataclass(frozen=True)
class PGPKey:
    TAG: ClassVar[int] = Tag.PGP_KEY
    pgp_key_version: int
    key_block: KeyBlock


ManagedObject = (
    SymmetricKey
    | SecretData
    | PrivateKey
    | PublicKey
    | Certificate
    | SplitKey
    | OpaqueObject
    | PGPKey
    | Template
    | CertificateRequest
)
