"""The ONE tag registry: one row per tag of KMIP 1.0 - 2.1; everything else is derived from it.

Tag codes and names: SPEC-1.4 §9.1.3.1 Table 288 (1.x tag table), SPEC-2.1 §11.56 Table 487
(Tag Enumeration). First / last versions follow the tag tables of each version: a tag shown as
"(Reserved)" in the 2.x Tag Enumeration has ``last=V1_4``.

Item types come from the encodings given in the spec's object, attribute and payload tables and
were checked against the ``type=`` attribute of every element in the OASIS test-case XML. A type
of ``None`` means the type varies (e.g. Attribute Value; Unique Identifier is a Text String in 1.x
and may be an Enumeration or Integer in 2.x, SPEC-2.1 §11.58).

XML names (the element names of the KMIP XML encoding, the "name" of the JSON encoding) are derived
mechanically from the spec name with :func:`agent.spec.naming.xml_name` (ENC §4.1.3); a row
gives ``xml=`` only where the OASIS files spell a tag differently (none so far).

Member names of :class:`Tag`: the spec name upper-cased, each run of non-alphanumeric characters
becomes ``_`` ("IV/Counter/Nonce" -> ``IV_COUNTER_NONCE``, "PKCS#11 Function" -> ``PKCS_11_FUNCTION``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, IntFlag

from agent.spec.core import V1_0, V1_1, V1_2, V1_3, V1_4, V2_0, V2_1, ItemType, Version
from agent.spec.enums import (
    AdjustmentType,
    AlternativeNameType,
    AsynchronousIndicator,
    AttestationType,
    BatchErrorContinuationOption,
    BlockCipherMode,
    CancellationResult,
    CertificateRequestType,
    CertificateType,
    ClientRegistrationMethod,
    CredentialType,
    CryptographicAlgorithm,
    CryptographicUsageMask,
    Data,
    DerivationMethod,
    DestroyAction,
    DigitalSignatureAlgorithm,
    DRBGAlgorithm,
    EncodingOption,
    EndpointRole,
    FIPS186Variation,
    HashingAlgorithm,
    InteropFunction,
    KeyCompressionType,
    KeyFormatType,
    KeyRoleType,
    KeyValueLocationType,
    KeyWrapType,
    LinkType,
    MaskGenerator,
    NameType,
    NISTKeyType,
    ObjectGroupMember,
    ObjectType,
    OpaqueDataType,
    Operation,
    PaddingMethod,
    PKCS11Function,
    PKCS11ReturnCode,
    ProcessingStage,
    ProfileName,
    ProtectionLevel,
    ProtectionStorageMask,
    PutFunction,
    QueryFunction,
    RecommendedCurve,
    ResultReason,
    ResultStatus,
    RevocationReasonCode,
    RNGAlgorithm,
    RNGMode,
    RotateNameType,
    SecretDataType,
    ShreddingAlgorithm,
    SplitKeyMethod,
    State,
    StorageStatusMask,
    TicketType,
    UniqueIdentifier,
    UnwrapMode,
    UsageLimitsUnit,
    ValidationAuthorityType,
    ValidationType,
    ValidityIndicator,
    WrappingMethod,
)
from agent.spec.naming import xml_name


class Tag(IntEnum):
    """Every tag of KMIP 1.0 - 2.1 (SPEC-1.4 §9.1.3.1; SPEC-2.1 §11.56)."""

    ACTIVATION_DATE = 0x420001
    APPLICATION_DATA = 0x420002
    APPLICATION_NAMESPACE = 0x420003
    APPLICATION_SPECIFIC_INFORMATION = 0x420004
    ARCHIVE_DATE = 0x420005
    ASYNCHRONOUS_CORRELATION_VALUE = 0x420006
    ASYNCHRONOUS_INDICATOR = 0x420007
    ATTRIBUTE = 0x420008
    ATTRIBUTE_INDEX = 0x420009
    ATTRIBUTE_NAME = 0x42000A
    ATTRIBUTE_VALUE = 0x42000B
    AUTHENTICATION = 0x42000C
    BATCH_COUNT = 0x42000D
    BATCH_ERROR_CONTINUATION_OPTION = 0x42000E
    BATCH_ITEM = 0x42000F
    BATCH_ORDER_OPTION = 0x420010
    BLOCK_CIPHER_MODE = 0x420011
    CANCELLATION_RESULT = 0x420012
    CERTIFICATE = 0x420013
    CERTIFICATE_IDENTIFIER = 0x420014
    CERTIFICATE_ISSUER = 0x420015
    CERTIFICATE_ISSUER_ALTERNATIVE_NAME = 0x420016
    CERTIFICATE_ISSUER_DISTINGUISHED_NAME = 0x420017
    CERTIFICATE_REQUEST = 0x420018
    CERTIFICATE_REQUEST_TYPE = 0x420019
    CERTIFICATE_SUBJECT = 0x42001A
    CERTIFICATE_SUBJECT_ALTERNATIVE_NAME = 0x42001B
    CERTIFICATE_SUBJECT_DISTINGUISHED_NAME = 0x42001C
    CERTIFICATE_TYPE = 0x42001D
    CERTIFICATE_VALUE = 0x42001E
    COMMON_TEMPLATE_ATTRIBUTE = 0x42001F
    COMPROMISE_DATE = 0x420020
    COMPROMISE_OCCURRENCE_DATE = 0x420021
    CONTACT_INFORMATION = 0x420022
    CREDENTIAL = 0x420023
    CREDENTIAL_TYPE = 0x420024
    CREDENTIAL_VALUE = 0x420025
    CRITICALITY_INDICATOR = 0x420026
    CRT_COEFFICIENT = 0x420027
    CRYPTOGRAPHIC_ALGORITHM = 0x420028
    CRYPTOGRAPHIC_DOMAIN_PARAMETERS = 0x420029
    CRYPTOGRAPHIC_LENGTH = 0x42002A
    CRYPTOGRAPHIC_PARAMETERS = 0x42002B
    CRYPTOGRAPHIC_USAGE_MASK = 0x42002C
    CUSTOM_ATTRIBUTE = 0x42002D
    D = 0x42002E
    DEACTIVATION_DATE = 0x42002F
    DERIVATION_DATA = 0x420030
    DERIVATION_METHOD = 0x420031
    DERIVATION_PARAMETERS = 0x420032
    DESTROY_DATE = 0x420033
    DIGEST = 0x420034
    DIGEST_VALUE = 0x420035
    ENCRYPTION_KEY_INFORMATION = 0x420036
    G = 0x420037
    HASHING_ALGORITHM = 0x420038
    INITIAL_DATE = 0x420039
    INITIALIZATION_VECTOR = 0x42003A
    ISSUER = 0x42003B
    ITERATION_COUNT = 0x42003C
    IV_COUNTER_NONCE = 0x42003D
    J = 0x42003E
    KEY = 0x42003F
    KEY_BLOCK = 0x420040
    KEY_COMPRESSION_TYPE = 0x420041
    KEY_FORMAT_TYPE = 0x420042
    KEY_MATERIAL = 0x420043
    KEY_PART_IDENTIFIER = 0x420044
    KEY_VALUE = 0x420045
    KEY_WRAPPING_DATA = 0x420046
    KEY_WRAPPING_SPECIFICATION = 0x420047
    LAST_CHANGE_DATE = 0x420048
    LEASE_TIME = 0x420049
    LINK = 0x42004A
    LINK_TYPE = 0x42004B
    LINKED_OBJECT_IDENTIFIER = 0x42004C
    MAC_SIGNATURE = 0x42004D
    MAC_SIGNATURE_KEY_INFORMATION = 0x42004E
    MAXIMUM_ITEMS = 0x42004F
    MAXIMUM_RESPONSE_SIZE = 0x420050
    MESSAGE_EXTENSION = 0x420051
    MODULUS = 0x420052
    NAME = 0x420053
    NAME_TYPE = 0x420054
    NAME_VALUE = 0x420055
    OBJECT_GROUP = 0x420056
    OBJECT_TYPE = 0x420057
    OFFSET = 0x420058
    OPAQUE_DATA_TYPE = 0x420059
    OPAQUE_DATA_VALUE = 0x42005A
    OPAQUE_OBJECT = 0x42005B
    OPERATION = 0x42005C
    OPERATION_POLICY_NAME = 0x42005D
    P = 0x42005E
    PADDING_METHOD = 0x42005F
    PRIME_EXPONENT_P = 0x420060
    PRIME_EXPONENT_Q = 0x420061
    PRIME_FIELD_SIZE = 0x420062
    PRIVATE_EXPONENT = 0x420063
    PRIVATE_KEY = 0x420064
    PRIVATE_KEY_TEMPLATE_ATTRIBUTE = 0x420065
    PRIVATE_KEY_UNIQUE_IDENTIFIER = 0x420066
    PROCESS_START_DATE = 0x420067
    PROTECT_STOP_DATE = 0x420068
    PROTOCOL_VERSION = 0x420069
    PROTOCOL_VERSION_MAJOR = 0x42006A
    PROTOCOL_VERSION_MINOR = 0x42006B
    PUBLIC_EXPONENT = 0x42006C
    PUBLIC_KEY = 0x42006D
    PUBLIC_KEY_TEMPLATE_ATTRIBUTE = 0x42006E
    PUBLIC_KEY_UNIQUE_IDENTIFIER = 0x42006F
    PUT_FUNCTION = 0x420070
    Q = 0x420071
    Q_STRING = 0x420072
    QLENGTH = 0x420073
    QUERY_FUNCTION = 0x420074
    RECOMMENDED_CURVE = 0x420075
    REPLACED_UNIQUE_IDENTIFIER = 0x420076
    REQUEST_HEADER = 0x420077
    REQUEST_MESSAGE = 0x420078
    REQUEST_PAYLOAD = 0x420079
    RESPONSE_HEADER = 0x42007A
    RESPONSE_MESSAGE = 0x42007B
    RESPONSE_PAYLOAD = 0x42007C
    RESULT_MESSAGE = 0x42007D
    RESULT_REASON = 0x42007E
    RESULT_STATUS = 0x42007F
    REVOCATION_MESSAGE = 0x420080
    REVOCATION_REASON = 0x420081
    REVOCATION_REASON_CODE = 0x420082
    KEY_ROLE_TYPE = 0x420083
    SALT = 0x420084
    SECRET_DATA = 0x420085
    SECRET_DATA_TYPE = 0x420086
    SERIAL_NUMBER = 0x420087
    SERVER_INFORMATION = 0x420088
    SPLIT_KEY = 0x420089
    SPLIT_KEY_METHOD = 0x42008A
    SPLIT_KEY_PARTS = 0x42008B
    SPLIT_KEY_THRESHOLD = 0x42008C
    STATE = 0x42008D
    STORAGE_STATUS_MASK = 0x42008E
    SYMMETRIC_KEY = 0x42008F
    TEMPLATE = 0x420090
    TEMPLATE_ATTRIBUTE = 0x420091
    TIME_STAMP = 0x420092
    UNIQUE_BATCH_ITEM_ID = 0x420093
    UNIQUE_IDENTIFIER = 0x420094
    USAGE_LIMITS = 0x420095
    USAGE_LIMITS_COUNT = 0x420096
    USAGE_LIMITS_TOTAL = 0x420097
    USAGE_LIMITS_UNIT = 0x420098
    USERNAME = 0x420099
    VALIDITY_DATE = 0x42009A
    VALIDITY_INDICATOR = 0x42009B
    VENDOR_EXTENSION = 0x42009C
    VENDOR_IDENTIFICATION = 0x42009D
    WRAPPING_METHOD = 0x42009E
    X = 0x42009F
    Y = 0x4200A0
    PASSWORD = 0x4200A1
    DEVICE_IDENTIFIER = 0x4200A2
    ENCODING_OPTION = 0x4200A3
    EXTENSION_INFORMATION = 0x4200A4
    EXTENSION_NAME = 0x4200A5
    EXTENSION_TAG = 0x4200A6
    EXTENSION_TYPE = 0x4200A7
    FRESH = 0x4200A8
    MACHINE_IDENTIFIER = 0x4200A9
    MEDIA_IDENTIFIER = 0x4200AA
    NETWORK_IDENTIFIER = 0x4200AB
    OBJECT_GROUP_MEMBER = 0x4200AC
    CERTIFICATE_LENGTH = 0x4200AD
    DIGITAL_SIGNATURE_ALGORITHM = 0x4200AE
    CERTIFICATE_SERIAL_NUMBER = 0x4200AF
    DEVICE_SERIAL_NUMBER = 0x4200B0
    ISSUER_ALTERNATIVE_NAME = 0x4200B1
    ISSUER_DISTINGUISHED_NAME = 0x4200B2
    SUBJECT_ALTERNATIVE_NAME = 0x4200B3
    SUBJECT_DISTINGUISHED_NAME = 0x4200B4
    X_509_CERTIFICATE_IDENTIFIER = 0x4200B5
    X_509_CERTIFICATE_ISSUER = 0x4200B6
    X_509_CERTIFICATE_SUBJECT = 0x4200B7
    KEY_VALUE_LOCATION = 0x4200B8
    KEY_VALUE_LOCATION_VALUE = 0x4200B9
    KEY_VALUE_LOCATION_TYPE = 0x4200BA
    KEY_VALUE_PRESENT = 0x4200BB
    ORIGINAL_CREATION_DATE = 0x4200BC
    PGP_KEY = 0x4200BD
    PGP_KEY_VERSION = 0x4200BE
    ALTERNATIVE_NAME = 0x4200BF
    ALTERNATIVE_NAME_VALUE = 0x4200C0
    ALTERNATIVE_NAME_TYPE = 0x4200C1
    DATA = 0x4200C2
    SIGNATURE_DATA = 0x4200C3
    DATA_LENGTH = 0x4200C4
    RANDOM_IV = 0x4200C5
    MAC_DATA = 0x4200C6
    ATTESTATION_TYPE = 0x4200C7
    NONCE = 0x4200C8
    NONCE_ID = 0x4200C9
    NONCE_VALUE = 0x4200CA
    ATTESTATION_MEASUREMENT = 0x4200CB
    ATTESTATION_ASSERTION = 0x4200CC
    IV_LENGTH = 0x4200CD
    TAG_LENGTH = 0x4200CE
    FIXED_FIELD_LENGTH = 0x4200CF
    COUNTER_LENGTH = 0x4200D0
    INITIAL_COUNTER_VALUE = 0x4200D1
    INVOCATION_FIELD_LENGTH = 0x4200D2
    ATTESTATION_CAPABLE_INDICATOR = 0x4200D3
    OFFSET_ITEMS = 0x4200D4
    LOCATED_ITEMS = 0x4200D5
    CORRELATION_VALUE = 0x4200D6
    INIT_INDICATOR = 0x4200D7
    FINAL_INDICATOR = 0x4200D8
    RNG_PARAMETERS = 0x4200D9
    RNG_ALGORITHM = 0x4200DA
    DRBG_ALGORITHM = 0x4200DB
    FIPS186_VARIATION = 0x4200DC
    PREDICTION_RESISTANCE = 0x4200DD
    RANDOM_NUMBER_GENERATOR = 0x4200DE
    VALIDATION_INFORMATION = 0x4200DF
    VALIDATION_AUTHORITY_TYPE = 0x4200E0
    VALIDATION_AUTHORITY_COUNTRY = 0x4200E1
    VALIDATION_AUTHORITY_URI = 0x4200E2
    VALIDATION_VERSION_MAJOR = 0x4200E3
    VALIDATION_VERSION_MINOR = 0x4200E4
    VALIDATION_TYPE = 0x4200E5
    VALIDATION_LEVEL = 0x4200E6
    VALIDATION_CERTIFICATE_IDENTIFIER = 0x4200E7
    VALIDATION_CERTIFICATE_URI = 0x4200E8
    VALIDATION_VENDOR_URI = 0x4200E9
    VALIDATION_PROFILE = 0x4200EA
    PROFILE_INFORMATION = 0x4200EB
    PROFILE_NAME = 0x4200EC
    SERVER_URI = 0x4200ED
    SERVER_PORT = 0x4200EE
    STREAMING_CAPABILITY = 0x4200EF
    ASYNCHRONOUS_CAPABILITY = 0x4200F0
    ATTESTATION_CAPABILITY = 0x4200F1
    UNWRAP_MODE = 0x4200F2
    DESTROY_ACTION = 0x4200F3
    SHREDDING_ALGORITHM = 0x4200F4
    RNG_MODE = 0x4200F5
    CLIENT_REGISTRATION_METHOD = 0x4200F6
    CAPABILITY_INFORMATION = 0x4200F7
    KEY_WRAP_TYPE = 0x4200F8
    BATCH_UNDO_CAPABILITY = 0x4200F9
    BATCH_CONTINUE_CAPABILITY = 0x4200FA
    PKCS_12_FRIENDLY_NAME = 0x4200FB
    DESCRIPTION = 0x4200FC
    COMMENT = 0x4200FD
    AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA = 0x4200FE
    AUTHENTICATED_ENCRYPTION_TAG = 0x4200FF
    SALT_LENGTH = 0x420100
    MASK_GENERATOR = 0x420101
    MASK_GENERATOR_HASHING_ALGORITHM = 0x420102
    P_SOURCE = 0x420103
    TRAILER_FIELD = 0x420104
    CLIENT_CORRELATION_VALUE = 0x420105
    SERVER_CORRELATION_VALUE = 0x420106
    DIGESTED_DATA = 0x420107
    CERTIFICATE_SUBJECT_CN = 0x420108
    CERTIFICATE_SUBJECT_O = 0x420109
    CERTIFICATE_SUBJECT_OU = 0x42010A
    CERTIFICATE_SUBJECT_EMAIL = 0x42010B
    CERTIFICATE_SUBJECT_C = 0x42010C
    CERTIFICATE_SUBJECT_ST = 0x42010D
    CERTIFICATE_SUBJECT_L = 0x42010E
    CERTIFICATE_SUBJECT_UID = 0x42010F
    CERTIFICATE_SUBJECT_SERIAL_NUMBER = 0x420110
    CERTIFICATE_SUBJECT_TITLE = 0x420111
    CERTIFICATE_SUBJECT_DC = 0x420112
    CERTIFICATE_SUBJECT_DN_QUALIFIER = 0x420113
    CERTIFICATE_ISSUER_CN = 0x420114
    CERTIFICATE_ISSUER_O = 0x420115
    CERTIFICATE_ISSUER_OU = 0x420116
    CERTIFICATE_ISSUER_EMAIL = 0x420117
    CERTIFICATE_ISSUER_C = 0x420118
    CERTIFICATE_ISSUER_ST = 0x420119
    CERTIFICATE_ISSUER_L = 0x42011A
    CERTIFICATE_ISSUER_UID = 0x42011B
    CERTIFICATE_ISSUER_SERIAL_NUMBER = 0x42011C
    CERTIFICATE_ISSUER_TITLE = 0x42011D
    CERTIFICATE_ISSUER_DC = 0x42011E
    CERTIFICATE_ISSUER_DN_QUALIFIER = 0x42011F
    SENSITIVE = 0x420120
    ALWAYS_SENSITIVE = 0x420121
    EXTRACTABLE = 0x420122
    NEVER_EXTRACTABLE = 0x420123
    REPLACE_EXISTING = 0x420124
    ATTRIBUTES = 0x420125
    COMMON_ATTRIBUTES = 0x420126
    PRIVATE_KEY_ATTRIBUTES = 0x420127
    PUBLIC_KEY_ATTRIBUTES = 0x420128
    EXTENSION_ENUMERATION = 0x420129
    EXTENSION_ATTRIBUTE = 0x42012A
    EXTENSION_PARENT_STRUCTURE_TAG = 0x42012B
    EXTENSION_DESCRIPTION = 0x42012C
    SERVER_NAME = 0x42012D
    SERVER_SERIAL_NUMBER = 0x42012E
    SERVER_VERSION = 0x42012F
    SERVER_LOAD = 0x420130
    PRODUCT_NAME = 0x420131
    BUILD_LEVEL = 0x420132
    BUILD_DATE = 0x420133
    CLUSTER_INFO = 0x420134
    ALTERNATE_FAILOVER_ENDPOINTS = 0x420135
    SHORT_UNIQUE_IDENTIFIER = 0x420136
    TAG = 0x420138
    CERTIFICATE_REQUEST_UNIQUE_IDENTIFIER = 0x420139
    NIST_KEY_TYPE = 0x42013A
    ATTRIBUTE_REFERENCE = 0x42013B
    CURRENT_ATTRIBUTE = 0x42013C
    NEW_ATTRIBUTE = 0x42013D
    CERTIFICATE_REQUEST_VALUE = 0x420140
    LOG_MESSAGE = 0x420141
    PROFILE_VERSION = 0x420142
    PROFILE_VERSION_MAJOR = 0x420143
    PROFILE_VERSION_MINOR = 0x420144
    PROTECTION_LEVEL = 0x420145
    PROTECTION_PERIOD = 0x420146
    QUANTUM_SAFE = 0x420147
    QUANTUM_SAFE_CAPABILITY = 0x420148
    TICKET = 0x420149
    TICKET_TYPE = 0x42014A
    TICKET_VALUE = 0x42014B
    REQUEST_COUNT = 0x42014C
    RIGHTS = 0x42014D
    OBJECTS = 0x42014E
    OPERATIONS = 0x42014F
    RIGHT = 0x420150
    ENDPOINT_ROLE = 0x420151
    DEFAULTS_INFORMATION = 0x420152
    OBJECT_DEFAULTS = 0x420153
    EPHEMERAL = 0x420154
    SERVER_HASHED_PASSWORD = 0x420155
    ONE_TIME_PASSWORD = 0x420156
    HASHED_PASSWORD = 0x420157
    ADJUSTMENT_TYPE = 0x420158
    PKCS_11_INTERFACE = 0x420159
    PKCS_11_FUNCTION = 0x42015A
    PKCS_11_INPUT_PARAMETERS = 0x42015B
    PKCS_11_OUTPUT_PARAMETERS = 0x42015C
    PKCS_11_RETURN_CODE = 0x42015D
    PROTECTION_STORAGE_MASK = 0x42015E
    PROTECTION_STORAGE_MASKS = 0x42015F
    INTEROP_FUNCTION = 0x420160
    INTEROP_IDENTIFIER = 0x420161
    ADJUSTMENT_VALUE = 0x420162
    COMMON_PROTECTION_STORAGE_MASKS = 0x420163
    PRIVATE_PROTECTION_STORAGE_MASKS = 0x420164
    PUBLIC_PROTECTION_STORAGE_MASKS = 0x420165
    OBJECT_GROUPS = 0x420166
    OBJECT_TYPES = 0x420167
    CONSTRAINTS = 0x420168
    CONSTRAINT = 0x420169
    ROTATE_INTERVAL = 0x42016A
    ROTATE_AUTOMATIC = 0x42016B
    ROTATE_OFFSET = 0x42016C
    ROTATE_DATE = 0x42016D
    ROTATE_GENERATION = 0x42016E
    ROTATE_NAME = 0x42016F
    ROTATE_NAME_VALUE = 0x420170
    ROTATE_NAME_TYPE = 0x420171
    ROTATE_LATEST = 0x420172
    ASYNCHRONOUS_REQUEST = 0x420173
    SUBMISSION_DATE = 0x420174
    PROCESSING_STAGE = 0x420175
    ASYNCHRONOUS_CORRELATION_VALUES = 0x420176


EnumClass = type[IntEnum] | type[IntFlag]


@dataclass(frozen=True, slots=True)
class TagDef:
    """One row of the tag registry."""

    code: int
    name: str  # spec name, "Unique Identifier"
    xml: str  # XML/JSON name, "UniqueIdentifier"
    type: ItemType | None  # None: varies
    enum: EnumClass | None = None  # enumeration (IntEnum) or bit mask (IntFlag) of the value
    mask: bool = False  # an Integer holding a bit mask of ``enum`` (an IntFlag)
    first: Version = V1_0
    last: Version | None = None  # last version that defines the tag; None: still in 2.1
    aliases: tuple[str, ...] = field(default=())  # other spec names of the same tag

    def in_version(self, version: Version) -> bool:
        """True if the tag is defined in ``version``."""
        return self.first <= version and (self.last is None or version <= self.last)


S = ItemType.STRUCTURE
I = ItemType.INTEGER  # noqa: E741
L = ItemType.LONG_INTEGER
BI = ItemType.BIG_INTEGER
E = ItemType.ENUMERATION
B = ItemType.BOOLEAN
T = ItemType.TEXT_STRING
BS = ItemType.BYTE_STRING
DT = ItemType.DATE_TIME
IV = ItemType.INTERVAL
DTE = ItemType.DATE_TIME_EXTENDED


def _t(
    tag: Tag,
    name: str,
    type_: ItemType | None,
    first: Version,
    *,
    enum: EnumClass | None = None,
    mask: bool = False,
    last: Version | None = None,
    xml: str | None = None,
    aliases: tuple[str, ...] = (),
) -> TagDef:
    return TagDef(int(tag), name, xml or xml_name(name), type_, enum, mask, first, last, aliases)


TAGS: tuple[TagDef, ...] = (
    _t(Tag.ACTIVATION_DATE, "Activation Date", DT, V1_0),
    _t(Tag.APPLICATION_DATA, "Application Data", T, V1_0),
    _t(Tag.APPLICATION_NAMESPACE, "Application Namespace", T, V1_0),
    _t(Tag.APPLICATION_SPECIFIC_INFORMATION, "Application Specific Information", S, V1_0),
    _t(Tag.ARCHIVE_DATE, "Archive Date", DT, V1_0),
    _t(Tag.ASYNCHRONOUS_CORRELATION_VALUE, "Asynchronous Correlation Value", BS, V1_0),
    _t(
        Tag.ASYNCHRONOUS_INDICATOR, "Asynchronous Indicator", None, V1_0, enum=AsynchronousIndicator
    ),  # 1.x Boolean, 2.x Enumeration (SPEC-2.1 Table 395)
    _t(Tag.ATTRIBUTE, "Attribute", S, V1_0),
    _t(Tag.ATTRIBUTE_INDEX, "Attribute Index", I, V1_0, last=V1_4),
    _t(Tag.ATTRIBUTE_NAME, "Attribute Name", T, V1_0),
    _t(Tag.ATTRIBUTE_VALUE, "Attribute Value", None, V1_0),  # varies with the attribute
    _t(Tag.AUTHENTICATION, "Authentication", S, V1_0),
    _t(Tag.BATCH_COUNT, "Batch Count", I, V1_0),
    _t(
        Tag.BATCH_ERROR_CONTINUATION_OPTION,
        "Batch Error Continuation Option",
        E,
        V1_0,
        enum=BatchErrorContinuationOption,
    ),
    _t(Tag.BATCH_ITEM, "Batch Item", S, V1_0),
    _t(Tag.BATCH_ORDER_OPTION, "Batch Order Option", B, V1_0),
    _t(Tag.BLOCK_CIPHER_MODE, "Block Cipher Mode", E, V1_0, enum=BlockCipherMode),
    _t(Tag.CANCELLATION_RESULT, "Cancellation Result", E, V1_0, enum=CancellationResult),
    _t(Tag.CERTIFICATE, "Certificate", S, V1_0),
    _t(Tag.CERTIFICATE_IDENTIFIER, "Certificate Identifier", S, V1_0, last=V1_4),
    _t(Tag.CERTIFICATE_ISSUER, "Certificate Issuer", S, V1_0, last=V1_4),
    _t(Tag.CERTIFICATE_ISSUER_ALTERNATIVE_NAME, "Certificate Issuer Alternative Name", T, V1_0, last=V1_4),
    _t(
        Tag.CERTIFICATE_ISSUER_DISTINGUISHED_NAME, "Certificate Issuer Distinguished Name", T, V1_0, last=V1_4
    ),
    _t(Tag.CERTIFICATE_REQUEST, "Certificate Request", S, V1_0),
    _t(Tag.CERTIFICATE_REQUEST_TYPE, "Certificate Request Type", E, V1_0, enum=CertificateRequestType),
    _t(Tag.CERTIFICATE_SUBJECT, "Certificate Subject", S, V1_0, last=V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_ALTERNATIVE_NAME, "Certificate Subject Alternative Name", T, V1_0, last=V1_4),
    _t(
        Tag.CERTIFICATE_SUBJECT_DISTINGUISHED_NAME,
        "Certificate Subject Distinguished Name",
        T,
        V1_0,
        last=V1_4,
    ),
    _t(Tag.CERTIFICATE_TYPE, "Certificate Type", E, V1_0, enum=CertificateType),
    _t(Tag.CERTIFICATE_VALUE, "Certificate Value", BS, V1_0),
    _t(Tag.COMMON_TEMPLATE_ATTRIBUTE, "Common Template-Attribute", S, V1_0, last=V1_4),
    _t(Tag.COMPROMISE_DATE, "Compromise Date", DT, V1_0),
    _t(Tag.COMPROMISE_OCCURRENCE_DATE, "Compromise Occurrence Date", DT, V1_0),
    _t(Tag.CONTACT_INFORMATION, "Contact Information", T, V1_0),
    _t(Tag.CREDENTIAL, "Credential", S, V1_0),
    _t(Tag.CREDENTIAL_TYPE, "Credential Type", E, V1_0, enum=CredentialType),
    _t(Tag.CREDENTIAL_VALUE, "Credential Value", S, V1_0),  # a Structure for every Credential Type defined
    _t(Tag.CRITICALITY_INDICATOR, "Criticality Indicator", B, V1_0),
    _t(Tag.CRT_COEFFICIENT, "CRT Coefficient", BI, V1_0),
    _t(Tag.CRYPTOGRAPHIC_ALGORITHM, "Cryptographic Algorithm", E, V1_0, enum=CryptographicAlgorithm),
    _t(Tag.CRYPTOGRAPHIC_DOMAIN_PARAMETERS, "Cryptographic Domain Parameters", S, V1_0),
    _t(Tag.CRYPTOGRAPHIC_LENGTH, "Cryptographic Length", I, V1_0),
    _t(Tag.CRYPTOGRAPHIC_PARAMETERS, "Cryptographic Parameters", S, V1_0),
    _t(
        Tag.CRYPTOGRAPHIC_USAGE_MASK,
        "Cryptographic Usage Mask",
        I,
        V1_0,
        enum=CryptographicUsageMask,
        mask=True,
    ),
    _t(Tag.CUSTOM_ATTRIBUTE, "Custom Attribute", None, V1_0, last=V1_4),  # any type (SPEC-1.4 §3.39)
    _t(Tag.D, "D", BI, V1_0),
    _t(Tag.DEACTIVATION_DATE, "Deactivation Date", DT, V1_0),
    _t(Tag.DERIVATION_DATA, "Derivation Data", BS, V1_0),
    _t(Tag.DERIVATION_METHOD, "Derivation Method", E, V1_0, enum=DerivationMethod),
    _t(Tag.DERIVATION_PARAMETERS, "Derivation Parameters", S, V1_0),
    _t(Tag.DESTROY_DATE, "Destroy Date", DT, V1_0),
    _t(Tag.DIGEST, "Digest", S, V1_0),
    _t(Tag.DIGEST_VALUE, "Digest Value", BS, V1_0),
    _t(Tag.ENCRYPTION_KEY_INFORMATION, "Encryption Key Information", S, V1_0),
    _t(Tag.G, "G", BI, V1_0),
    _t(Tag.HASHING_ALGORITHM, "Hashing Algorithm", E, V1_0, enum=HashingAlgorithm),
    _t(Tag.INITIAL_DATE, "Initial Date", DT, V1_0),
    _t(Tag.INITIALIZATION_VECTOR, "Initialization Vector", BS, V1_0),
    _t(Tag.ISSUER, "Issuer", T, V1_0, last=V1_4),
    _t(Tag.ITERATION_COUNT, "Iteration Count", I, V1_0),
    _t(Tag.IV_COUNTER_NONCE, "IV/Counter/Nonce", BS, V1_0),
    _t(Tag.J, "J", BI, V1_0),
    _t(Tag.KEY, "Key", BS, V1_0),
    _t(Tag.KEY_BLOCK, "Key Block", S, V1_0),
    _t(Tag.KEY_COMPRESSION_TYPE, "Key Compression Type", E, V1_0, enum=KeyCompressionType),
    _t(Tag.KEY_FORMAT_TYPE, "Key Format Type", E, V1_0, enum=KeyFormatType),
    _t(Tag.KEY_MATERIAL, "Key Material", None, V1_0),  # Byte String or Structure by Key Format Type
    _t(Tag.KEY_PART_IDENTIFIER, "Key Part Identifier", I, V1_0),
    _t(Tag.KEY_VALUE, "Key Value", None, V1_0),  # Byte String when wrapped, else Structure
    _t(Tag.KEY_WRAPPING_DATA, "Key Wrapping Data", S, V1_0),
    _t(Tag.KEY_WRAPPING_SPECIFICATION, "Key Wrapping Specification", S, V1_0),
    _t(Tag.LAST_CHANGE_DATE, "Last Change Date", DT, V1_0),
    _t(Tag.LEASE_TIME, "Lease Time", IV, V1_0),
    _t(Tag.LINK, "Link", S, V1_0),
    _t(Tag.LINK_TYPE, "Link Type", E, V1_0, enum=LinkType),
    _t(
        Tag.LINKED_OBJECT_IDENTIFIER, "Linked Object Identifier", None, V1_0, enum=UniqueIdentifier
    ),  # 2.x: Text String, Enumeration or Integer
    _t(Tag.MAC_SIGNATURE, "MAC/Signature", BS, V1_0),
    _t(Tag.MAC_SIGNATURE_KEY_INFORMATION, "MAC/Signature Key Information", S, V1_0),
    _t(Tag.MAXIMUM_ITEMS, "Maximum Items", I, V1_0),
    _t(Tag.MAXIMUM_RESPONSE_SIZE, "Maximum Response Size", I, V1_0),
    _t(Tag.MESSAGE_EXTENSION, "Message Extension", S, V1_0),
    _t(Tag.MODULUS, "Modulus", BI, V1_0),
    _t(Tag.NAME, "Name", S, V1_0),
    _t(Tag.NAME_TYPE, "Name Type", E, V1_0, enum=NameType),
    _t(Tag.NAME_VALUE, "Name Value", T, V1_0),
    _t(Tag.OBJECT_GROUP, "Object Group", T, V1_0),
    _t(Tag.OBJECT_TYPE, "Object Type", E, V1_0, enum=ObjectType),
    _t(Tag.OFFSET, "Offset", IV, V1_0),
    _t(Tag.OPAQUE_DATA_TYPE, "Opaque Data Type", E, V1_0, enum=OpaqueDataType),
    _t(Tag.OPAQUE_DATA_VALUE, "Opaque Data Value", BS, V1_0),
    _t(Tag.OPAQUE_OBJECT, "Opaque Object", S, V1_0),
    _t(Tag.OPERATION, "Operation", E, V1_0, enum=Operation),
    _t(Tag.OPERATION_POLICY_NAME, "Operation Policy Name", T, V1_0, last=V1_4),
    _t(Tag.P, "P", BI, V1_0),
    _t(Tag.PADDING_METHOD, "Padding Method", E, V1_0, enum=PaddingMethod),
    _t(Tag.PRIME_EXPONENT_P, "Prime Exponent P", BI, V1_0),
    _t(Tag.PRIME_EXPONENT_Q, "Prime Exponent Q", BI, V1_0),
    _t(Tag.PRIME_FIELD_SIZE, "Prime Field Size", BI, V1_0),
    _t(Tag.PRIVATE_EXPONENT, "Private Exponent", BI, V1_0),
    _t(Tag.PRIVATE_KEY, "Private Key", S, V1_0),
    _t(Tag.PRIVATE_KEY_TEMPLATE_ATTRIBUTE, "Private Key Template-Attribute", S, V1_0, last=V1_4),
    _t(Tag.PRIVATE_KEY_UNIQUE_IDENTIFIER, "Private Key Unique Identifier", T, V1_0),
    _t(Tag.PROCESS_START_DATE, "Process Start Date", DT, V1_0),
    _t(Tag.PROTECT_STOP_DATE, "Protect Stop Date", DT, V1_0),
    _t(Tag.PROTOCOL_VERSION, "Protocol Version", S, V1_0),
    _t(Tag.PROTOCOL_VERSION_MAJOR, "Protocol Version Major", I, V1_0),
    _t(Tag.PROTOCOL_VERSION_MINOR, "Protocol Version Minor", I, V1_0),
    _t(Tag.PUBLIC_EXPONENT, "Public Exponent", BI, V1_0),
    _t(Tag.PUBLIC_KEY, "Public Key", S, V1_0),
    _t(Tag.PUBLIC_KEY_TEMPLATE_ATTRIBUTE, "Public Key Template-Attribute", S, V1_0, last=V1_4),
    _t(Tag.PUBLIC_KEY_UNIQUE_IDENTIFIER, "Public Key Unique Identifier", T, V1_0),
    _t(Tag.PUT_FUNCTION, "Put Function", E, V1_0, enum=PutFunction),
    _t(Tag.Q, "Q", BI, V1_0),
    _t(Tag.Q_STRING, "Q String", BS, V1_0),
    _t(Tag.QLENGTH, "Qlength", I, V1_0),
    _t(Tag.QUERY_FUNCTION, "Query Function", E, V1_0, enum=QueryFunction),
    _t(Tag.RECOMMENDED_CURVE, "Recommended Curve", E, V1_0, enum=RecommendedCurve),
    _t(Tag.REPLACED_UNIQUE_IDENTIFIER, "Replaced Unique Identifier", T, V1_0),
    _t(Tag.REQUEST_HEADER, "Request Header", S, V1_0),
    _t(Tag.REQUEST_MESSAGE, "Request Message", S, V1_0),
    _t(Tag.REQUEST_PAYLOAD, "Request Payload", S, V1_0),
    _t(Tag.RESPONSE_HEADER, "Response Header", S, V1_0),
    _t(Tag.RESPONSE_MESSAGE, "Response Message", S, V1_0),
    _t(Tag.RESPONSE_PAYLOAD, "Response Payload", S, V1_0),
    _t(Tag.RESULT_MESSAGE, "Result Message", T, V1_0),
    _t(Tag.RESULT_REASON, "Result Reason", E, V1_0, enum=ResultReason),
    _t(Tag.RESULT_STATUS, "Result Status", E, V1_0, enum=ResultStatus),
    _t(Tag.REVOCATION_MESSAGE, "Revocation Message", T, V1_0),
    _t(Tag.REVOCATION_REASON, "Revocation Reason", S, V1_0),
    _t(Tag.REVOCATION_REASON_CODE, "Revocation Reason Code", E, V1_0, enum=RevocationReasonCode),
    _t(Tag.KEY_ROLE_TYPE, "Key Role Type", E, V1_0, enum=KeyRoleType),
    _t(Tag.SALT, "Salt", BS, V1_0),
    _t(Tag.SECRET_DATA, "Secret Data", S, V1_0),
    _t(Tag.SECRET_DATA_TYPE, "Secret Data Type", E, V1_0, enum=SecretDataType),
    _t(Tag.SERIAL_NUMBER, "Serial Number", T, V1_0, last=V1_4),
    _t(Tag.SERVER_INFORMATION, "Server Information", S, V1_0),
    _t(Tag.SPLIT_KEY, "Split Key", S, V1_0),
    _t(Tag.SPLIT_KEY_METHOD, "Split Key Method", E, V1_0, enum=SplitKeyMethod),
    _t(Tag.SPLIT_KEY_PARTS, "Split Key Parts", I, V1_0),
    _t(Tag.SPLIT_KEY_THRESHOLD, "Split Key Threshold", I, V1_0),
    _t(Tag.STATE, "State", E, V1_0, enum=State),
    _t(Tag.STORAGE_STATUS_MASK, "Storage Status Mask", I, V1_0, enum=StorageStatusMask, mask=True),
    _t(Tag.SYMMETRIC_KEY, "Symmetric Key", S, V1_0),
    _t(Tag.TEMPLATE, "Template", S, V1_0, last=V1_4),
    _t(Tag.TEMPLATE_ATTRIBUTE, "Template-Attribute", S, V1_0, last=V1_4),
    _t(Tag.TIME_STAMP, "Time Stamp", DT, V1_0),
    _t(Tag.UNIQUE_BATCH_ITEM_ID, "Unique Batch Item ID", BS, V1_0),
    _t(
        Tag.UNIQUE_IDENTIFIER, "Unique Identifier", None, V1_0, enum=UniqueIdentifier
    ),  # 1.x Text String; 2.x also Enumeration or Integer (SPEC-2.1 §4.58, §11.58)
    _t(Tag.USAGE_LIMITS, "Usage Limits", S, V1_0),
    _t(Tag.USAGE_LIMITS_COUNT, "Usage Limits Count", L, V1_0),
    _t(Tag.USAGE_LIMITS_TOTAL, "Usage Limits Total", L, V1_0),
    _t(Tag.USAGE_LIMITS_UNIT, "Usage Limits Unit", E, V1_0, enum=UsageLimitsUnit),
    _t(Tag.USERNAME, "Username", T, V1_0),
    _t(Tag.VALIDITY_DATE, "Validity Date", DT, V1_0),
    _t(Tag.VALIDITY_INDICATOR, "Validity Indicator", E, V1_0, enum=ValidityIndicator),
    _t(Tag.VENDOR_EXTENSION, "Vendor Extension", S, V1_0),
    _t(Tag.VENDOR_IDENTIFICATION, "Vendor Identification", T, V1_0),
    _t(Tag.WRAPPING_METHOD, "Wrapping Method", E, V1_0, enum=WrappingMethod),
    _t(Tag.X, "X", BI, V1_0),
    _t(Tag.Y, "Y", BI, V1_0),
    _t(Tag.PASSWORD, "Password", T, V1_0),
    _t(Tag.DEVICE_IDENTIFIER, "Device Identifier", T, V1_1),
    _t(Tag.ENCODING_OPTION, "Encoding Option", E, V1_1, enum=EncodingOption),
    _t(Tag.EXTENSION_INFORMATION, "Extension Information", S, V1_1),
    _t(Tag.EXTENSION_NAME, "Extension Name", T, V1_1),
    _t(Tag.EXTENSION_TAG, "Extension Tag", I, V1_1),
    _t(
        Tag.EXTENSION_TYPE, "Extension Type", None, V1_1, enum=ItemType
    ),  # 1.x Integer; 2.x Enumeration (Item Type)
    _t(Tag.FRESH, "Fresh", B, V1_1),
    _t(Tag.MACHINE_IDENTIFIER, "Machine Identifier", T, V1_1),
    _t(Tag.MEDIA_IDENTIFIER, "Media Identifier", T, V1_1),
    _t(Tag.NETWORK_IDENTIFIER, "Network Identifier", T, V1_1),
    _t(Tag.OBJECT_GROUP_MEMBER, "Object Group Member", E, V1_1, enum=ObjectGroupMember),
    _t(Tag.CERTIFICATE_LENGTH, "Certificate Length", I, V1_1),
    _t(
        Tag.DIGITAL_SIGNATURE_ALGORITHM,
        "Digital Signature Algorithm",
        E,
        V1_1,
        enum=DigitalSignatureAlgorithm,
    ),
    _t(Tag.CERTIFICATE_SERIAL_NUMBER, "Certificate Serial Number", BS, V1_1),
    _t(Tag.DEVICE_SERIAL_NUMBER, "Device Serial Number", T, V1_1),
    _t(Tag.ISSUER_ALTERNATIVE_NAME, "Issuer Alternative Name", BS, V1_1),
    _t(Tag.ISSUER_DISTINGUISHED_NAME, "Issuer Distinguished Name", BS, V1_1),
    _t(Tag.SUBJECT_ALTERNATIVE_NAME, "Subject Alternative Name", BS, V1_1),
    _t(Tag.SUBJECT_DISTINGUISHED_NAME, "Subject Distinguished Name", BS, V1_1),
    _t(Tag.X_509_CERTIFICATE_IDENTIFIER, "X.509 Certificate Identifier", S, V1_1),
    _t(Tag.X_509_CERTIFICATE_ISSUER, "X.509 Certificate Issuer", S, V1_1),
    _t(Tag.X_509_CERTIFICATE_SUBJECT, "X.509 Certificate Subject", S, V1_1),
    _t(Tag.KEY_VALUE_LOCATION, "Key Value Location", S, V1_2),
    _t(Tag.KEY_VALUE_LOCATION_VALUE, "Key Value Location Value", T, V1_2),
    _t(Tag.KEY_VALUE_LOCATION_TYPE, "Key Value Location Type", E, V1_2, enum=KeyValueLocationType),
    _t(Tag.KEY_VALUE_PRESENT, "Key Value Present", B, V1_2),
    _t(Tag.ORIGINAL_CREATION_DATE, "Original Creation Date", DT, V1_2),
    _t(Tag.PGP_KEY, "PGP Key", S, V1_2),
    _t(Tag.PGP_KEY_VERSION, "PGP Key Version", I, V1_2),
    _t(Tag.ALTERNATIVE_NAME, "Alternative Name", S, V1_2),
    _t(Tag.ALTERNATIVE_NAME_VALUE, "Alternative Name Value", T, V1_2),
    _t(Tag.ALTERNATIVE_NAME_TYPE, "Alternative Name Type", E, V1_2, enum=AlternativeNameType),
    _t(Tag.DATA, "Data", None, V1_2, enum=Data),  # 1.x Byte String; 2.x Byte String, Enumeration or Integer
    _t(Tag.SIGNATURE_DATA, "Signature Data", BS, V1_2),
    _t(Tag.DATA_LENGTH, "Data Length", I, V1_2),
    _t(Tag.RANDOM_IV, "Random IV", B, V1_2),
    _t(Tag.MAC_DATA, "MAC Data", BS, V1_2),
    _t(Tag.ATTESTATION_TYPE, "Attestation Type", E, V1_2, enum=AttestationType),
    _t(Tag.NONCE, "Nonce", S, V1_2),
    _t(Tag.NONCE_ID, "Nonce ID", BS, V1_2),
    _t(Tag.NONCE_VALUE, "Nonce Value", BS, V1_2),
    _t(Tag.ATTESTATION_MEASUREMENT, "Attestation Measurement", BS, V1_2),
    _t(Tag.ATTESTATION_ASSERTION, "Attestation Assertion", BS, V1_2),
    _t(Tag.IV_LENGTH, "IV Length", I, V1_2),
    _t(Tag.TAG_LENGTH, "Tag Length", I, V1_2),
    _t(Tag.FIXED_FIELD_LENGTH, "Fixed Field Length", I, V1_2),
    _t(Tag.COUNTER_LENGTH, "Counter Length", I, V1_2),
    _t(Tag.INITIAL_COUNTER_VALUE, "Initial Counter Value", I, V1_2),
    _t(Tag.INVOCATION_FIELD_LENGTH, "Invocation Field Length", I, V1_2),
    _t(Tag.ATTESTATION_CAPABLE_INDICATOR, "Attestation Capable Indicator", B, V1_2),
    _t(Tag.OFFSET_ITEMS, "Offset Items", I, V1_3),
    _t(Tag.LOCATED_ITEMS, "Located Items", I, V1_3),
    _t(Tag.CORRELATION_VALUE, "Correlation Value", BS, V1_3),
    _t(Tag.INIT_INDICATOR, "Init Indicator", B, V1_3),
    _t(Tag.FINAL_INDICATOR, "Final Indicator", B, V1_3),
    _t(Tag.RNG_PARAMETERS, "RNG Parameters", S, V1_3),
    _t(Tag.RNG_ALGORITHM, "RNG Algorithm", E, V1_3, enum=RNGAlgorithm),
    _t(Tag.DRBG_ALGORITHM, "DRBG Algorithm", E, V1_3, enum=DRBGAlgorithm),
    _t(Tag.FIPS186_VARIATION, "FIPS186 Variation", E, V1_3, enum=FIPS186Variation),
    _t(Tag.PREDICTION_RESISTANCE, "Prediction Resistance", B, V1_3),
    _t(Tag.RANDOM_NUMBER_GENERATOR, "Random Number Generator", S, V1_3),
    _t(Tag.VALIDATION_INFORMATION, "Validation Information", S, V1_3),
    _t(Tag.VALIDATION_AUTHORITY_TYPE, "Validation Authority Type", E, V1_3, enum=ValidationAuthorityType),
    _t(Tag.VALIDATION_AUTHORITY_COUNTRY, "Validation Authority Country", T, V1_3),
    _t(Tag.VALIDATION_AUTHORITY_URI, "Validation Authority URI", T, V1_3),
    _t(Tag.VALIDATION_VERSION_MAJOR, "Validation Version Major", I, V1_3),
    _t(Tag.VALIDATION_VERSION_MINOR, "Validation Version Minor", I, V1_3),
    _t(Tag.VALIDATION_TYPE, "Validation Type", E, V1_3, enum=ValidationType),
    _t(Tag.VALIDATION_LEVEL, "Validation Level", I, V1_3),
    _t(Tag.VALIDATION_CERTIFICATE_IDENTIFIER, "Validation Certificate Identifier", T, V1_3),
    _t(Tag.VALIDATION_CERTIFICATE_URI, "Validation Certificate URI", T, V1_3),
    _t(Tag.VALIDATION_VENDOR_URI, "Validation Vendor URI", T, V1_3),
    _t(Tag.VALIDATION_PROFILE, "Validation Profile", T, V1_3),
    _t(Tag.PROFILE_INFORMATION, "Profile Information", S, V1_3),
    _t(Tag.PROFILE_NAME, "Profile Name", E, V1_3, enum=ProfileName),
    _t(Tag.SERVER_URI, "Server URI", T, V1_3),
    _t(Tag.SERVER_PORT, "Server Port", I, V1_3),
    _t(Tag.STREAMING_CAPABILITY, "Streaming Capability", B, V1_3),
    _t(Tag.ASYNCHRONOUS_CAPABILITY, "Asynchronous Capability", B, V1_3),
    _t(Tag.ATTESTATION_CAPABILITY, "Attestation Capability", B, V1_3),
    _t(Tag.UNWRAP_MODE, "Unwrap Mode", E, V1_3, enum=UnwrapMode),
    _t(Tag.DESTROY_ACTION, "Destroy Action", E, V1_3, enum=DestroyAction),
    _t(Tag.SHREDDING_ALGORITHM, "Shredding Algorithm", E, V1_3, enum=ShreddingAlgorithm),
    _t(Tag.RNG_MODE, "RNG Mode", E, V1_3, enum=RNGMode),
    _t(Tag.CLIENT_REGISTRATION_METHOD, "Client Registration Method", E, V1_3, enum=ClientRegistrationMethod),
    _t(Tag.CAPABILITY_INFORMATION, "Capability Information", S, V1_3),
    _t(Tag.KEY_WRAP_TYPE, "Key Wrap Type", E, V1_4, enum=KeyWrapType),
    _t(Tag.BATCH_UNDO_CAPABILITY, "Batch Undo Capability", B, V1_4),
    _t(Tag.BATCH_CONTINUE_CAPABILITY, "Batch Continue Capability", B, V1_4),
    _t(Tag.PKCS_12_FRIENDLY_NAME, "PKCS#12 Friendly Name", T, V1_4),
    _t(Tag.DESCRIPTION, "Description", T, V1_4),
    _t(Tag.COMMENT, "Comment", T, V1_4),
    _t(Tag.AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA, "Authenticated Encryption Additional Data", BS, V1_4),
    _t(Tag.AUTHENTICATED_ENCRYPTION_TAG, "Authenticated Encryption Tag", BS, V1_4),
    _t(Tag.SALT_LENGTH, "Salt Length", I, V1_4),
    _t(Tag.MASK_GENERATOR, "Mask Generator", E, V1_4, enum=MaskGenerator),
    _t(
        Tag.MASK_GENERATOR_HASHING_ALGORITHM,
        "Mask Generator Hashing Algorithm",
        E,
        V1_4,
        enum=HashingAlgorithm,
    ),
    _t(Tag.P_SOURCE, "P Source", BS, V1_4),
    _t(Tag.TRAILER_FIELD, "Trailer Field", I, V1_4),
    _t(Tag.CLIENT_CORRELATION_VALUE, "Client Correlation Value", T, V1_4),
    _t(Tag.SERVER_CORRELATION_VALUE, "Server Correlation Value", T, V1_4),
    _t(Tag.DIGESTED_DATA, "Digested Data", BS, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_CN, "Certificate Subject CN", T, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_O, "Certificate Subject O", T, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_OU, "Certificate Subject OU", T, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_EMAIL, "Certificate Subject Email", T, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_C, "Certificate Subject C", T, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_ST, "Certificate Subject ST", T, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_L, "Certificate Subject L", T, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_UID, "Certificate Subject UID", T, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_SERIAL_NUMBER, "Certificate Subject Serial Number", T, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_TITLE, "Certificate Subject Title", T, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_DC, "Certificate Subject DC", T, V1_4),
    _t(Tag.CERTIFICATE_SUBJECT_DN_QUALIFIER, "Certificate Subject DN Qualifier", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_CN, "Certificate Issuer CN", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_O, "Certificate Issuer O", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_OU, "Certificate Issuer OU", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_EMAIL, "Certificate Issuer Email", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_C, "Certificate Issuer C", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_ST, "Certificate Issuer ST", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_L, "Certificate Issuer L", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_UID, "Certificate Issuer UID", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_SERIAL_NUMBER, "Certificate Issuer Serial Number", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_TITLE, "Certificate Issuer Title", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_DC, "Certificate Issuer DC", T, V1_4),
    _t(Tag.CERTIFICATE_ISSUER_DN_QUALIFIER, "Certificate Issuer DN Qualifier", T, V1_4),
    _t(Tag.SENSITIVE, "Sensitive", B, V1_4),
    _t(Tag.ALWAYS_SENSITIVE, "Always Sensitive", B, V1_4),
    _t(Tag.EXTRACTABLE, "Extractable", B, V1_4),
    _t(Tag.NEVER_EXTRACTABLE, "Never Extractable", B, V1_4),
    _t(Tag.REPLACE_EXISTING, "Replace Existing", B, V1_4),
    _t(Tag.ATTRIBUTES, "Attributes", S, V2_0),
    _t(Tag.COMMON_ATTRIBUTES, "Common Attributes", S, V2_0),
    _t(Tag.PRIVATE_KEY_ATTRIBUTES, "Private Key Attributes", S, V2_0),
    _t(Tag.PUBLIC_KEY_ATTRIBUTES, "Public Key Attributes", S, V2_0),
    _t(Tag.EXTENSION_ENUMERATION, "Extension Enumeration", I, V2_0),
    _t(Tag.EXTENSION_ATTRIBUTE, "Extension Attribute", B, V2_0),
    _t(Tag.EXTENSION_PARENT_STRUCTURE_TAG, "Extension Parent Structure Tag", I, V2_0),
    _t(Tag.EXTENSION_DESCRIPTION, "Extension Description", T, V2_0),
    _t(Tag.SERVER_NAME, "Server Name", T, V2_0),
    _t(Tag.SERVER_SERIAL_NUMBER, "Server Serial Number", T, V2_0),
    _t(Tag.SERVER_VERSION, "Server Version", T, V2_0),
    _t(Tag.SERVER_LOAD, "Server Load", T, V2_0),
    _t(Tag.PRODUCT_NAME, "Product Name", T, V2_0),
    _t(Tag.BUILD_LEVEL, "Build Level", T, V2_0),
    _t(Tag.BUILD_DATE, "Build Date", T, V2_0),
    _t(Tag.CLUSTER_INFO, "Cluster Info", T, V2_0),
    _t(
        Tag.ALTERNATE_FAILOVER_ENDPOINTS, "Alternate Failover Endpoints", None, V2_0
    ),  # type not stated in the texts at hand
    _t(Tag.SHORT_UNIQUE_IDENTIFIER, "Short Unique Identifier", BS, V2_0),
    _t(Tag.TAG, "Tag", None, V2_0),  # type not stated in the texts at hand
    _t(Tag.CERTIFICATE_REQUEST_UNIQUE_IDENTIFIER, "Certificate Request Unique Identifier", T, V2_0),
    _t(Tag.NIST_KEY_TYPE, "NIST Key Type", E, V2_0, enum=NISTKeyType),
    _t(
        Tag.ATTRIBUTE_REFERENCE, "Attribute Reference", None, V2_0, enum=Tag
    ),  # 2.x: Enumeration (Tag) or Structure (SPEC-2.1 §5.5)
    _t(Tag.CURRENT_ATTRIBUTE, "Current Attribute", S, V2_0),
    _t(Tag.NEW_ATTRIBUTE, "New Attribute", S, V2_0),
    _t(Tag.CERTIFICATE_REQUEST_VALUE, "Certificate Request Value", BS, V2_0),
    _t(Tag.LOG_MESSAGE, "Log Message", T, V2_0),
    _t(Tag.PROFILE_VERSION, "Profile Version", S, V2_0),
    _t(Tag.PROFILE_VERSION_MAJOR, "Profile Version Major", I, V2_0),
    _t(Tag.PROFILE_VERSION_MINOR, "Profile Version Minor", I, V2_0),
    _t(Tag.PROTECTION_LEVEL, "Protection Level", E, V2_0, enum=ProtectionLevel),
    _t(Tag.PROTECTION_PERIOD, "Protection Period", IV, V2_0),
    _t(Tag.QUANTUM_SAFE, "Quantum Safe", B, V2_0),
    _t(Tag.QUANTUM_SAFE_CAPABILITY, "Quantum Safe Capability", B, V2_0),
    _t(Tag.TICKET, "Ticket", S, V2_0),
    _t(Tag.TICKET_TYPE, "Ticket Type", E, V2_0, enum=TicketType),
    _t(Tag.TICKET_VALUE, "Ticket Value", BS, V2_0),
    _t(Tag.REQUEST_COUNT, "Request Count", I, V2_0),
    _t(Tag.RIGHTS, "Rights", S, V2_0),
    _t(Tag.OBJECTS, "Objects", S, V2_0),
    _t(Tag.OPERATIONS, "Operations", S, V2_0),
    _t(Tag.RIGHT, "Right", S, V2_0),
    _t(Tag.ENDPOINT_ROLE, "Endpoint Role", E, V2_0, enum=EndpointRole),
    _t(Tag.DEFAULTS_INFORMATION, "Defaults Information", S, V2_0),
    _t(Tag.OBJECT_DEFAULTS, "Object Defaults", S, V2_0),
    _t(Tag.EPHEMERAL, "Ephemeral", B, V2_0),
    _t(Tag.SERVER_HASHED_PASSWORD, "Server Hashed Password", BS, V2_0),
    _t(Tag.ONE_TIME_PASSWORD, "One Time Password", T, V2_0),
    _t(Tag.HASHED_PASSWORD, "Hashed Password", BS, V2_0),
    _t(Tag.ADJUSTMENT_TYPE, "Adjustment Type", E, V2_0, enum=AdjustmentType),
    _t(Tag.PKCS_11_INTERFACE, "PKCS#11 Interface", T, V2_0),
    _t(Tag.PKCS_11_FUNCTION, "PKCS#11 Function", E, V2_0, enum=PKCS11Function),
    _t(Tag.PKCS_11_INPUT_PARAMETERS, "PKCS#11 Input Parameters", BS, V2_0),
    _t(Tag.PKCS_11_OUTPUT_PARAMETERS, "PKCS#11 Output Parameters", BS, V2_0),
    _t(Tag.PKCS_11_RETURN_CODE, "PKCS#11 Return Code", E, V2_0, enum=PKCS11ReturnCode),
    _t(
        Tag.PROTECTION_STORAGE_MASK, "Protection Storage Mask", I, V2_0, enum=ProtectionStorageMask, mask=True
    ),
    _t(Tag.PROTECTION_STORAGE_MASKS, "Protection Storage Masks", S, V2_0),
    _t(Tag.INTEROP_FUNCTION, "Interop Function", E, V2_0, enum=InteropFunction),
    _t(Tag.INTEROP_IDENTIFIER, "Interop Identifier", T, V2_0),
    _t(Tag.ADJUSTMENT_VALUE, "Adjustment Value", None, V2_0),  # type of the attribute adjusted
    _t(Tag.COMMON_PROTECTION_STORAGE_MASKS, "Common Protection Storage Masks", S, V2_0),
    _t(Tag.PRIVATE_PROTECTION_STORAGE_MASKS, "Private Protection Storage Masks", S, V2_0),
    _t(Tag.PUBLIC_PROTECTION_STORAGE_MASKS, "Public Protection Storage Masks", S, V2_0),
    _t(Tag.OBJECT_GROUPS, "Object Groups", S, V2_1),
    _t(Tag.OBJECT_TYPES, "Object Types", S, V2_1),
    _t(Tag.CONSTRAINTS, "Constraints", S, V2_1),
    _t(Tag.CONSTRAINT, "Constraint", S, V2_1),
    _t(Tag.ROTATE_INTERVAL, "Rotate Interval", IV, V2_1),
    _t(Tag.ROTATE_AUTOMATIC, "Rotate Automatic", B, V2_1),
    _t(Tag.ROTATE_OFFSET, "Rotate Offset", IV, V2_1),
    _t(Tag.ROTATE_DATE, "Rotate Date", DT, V2_1),
    _t(Tag.ROTATE_GENERATION, "Rotate Generation", I, V2_1),
    _t(Tag.ROTATE_NAME, "Rotate Name", S, V2_1),
    _t(Tag.ROTATE_NAME_VALUE, "Rotate Name Value", T, V2_1),
    _t(Tag.ROTATE_NAME_TYPE, "Rotate Name Type", E, V2_1, enum=RotateNameType),
    _t(Tag.ROTATE_LATEST, "Rotate Latest", B, V2_1),
    _t(Tag.ASYNCHRONOUS_REQUEST, "Asynchronous Request", S, V2_1),
    _t(Tag.SUBMISSION_DATE, "Submission Date", DTE, V2_1),
    _t(Tag.PROCESSING_STAGE, "Processing Stage", E, V2_1, enum=ProcessingStage),
    _t(Tag.ASYNCHRONOUS_CORRELATION_VALUES, "Asynchronous Correlation Values", S, V2_1),
)
"""The registry, ordered by code."""
