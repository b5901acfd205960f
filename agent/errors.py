"""KMIP errors: one root, one subclass per Result Reason (SPEC-1.4 §9.1.3.2.29; SPEC-2.1 §11.46).

An error carries the Result Reason a server answers with, or that a client received.
Messages are caller-supplied fixed texts (e.g. "object is not in Pre-Active state"): they are
sent to peers as Result Message, so they must never contain key material, secrets,
credentials or tracebacks. Nothing in this module formats values into a message.
"""

from __future__ import annotations

from agent.spec import V1_0, V2_0, ResultReason, Version, value_in_version


class KmipError(Exception):
    """Root of every KMIP error. ``reason`` is the Result Reason it maps to."""

    reason: ResultReason = ResultReason.GENERAL_FAILURE

    def __init__(self, message: str = "", reason: ResultReason | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, reason={self.reason.name})"


class ItemNotFound(KmipError):
    reason = ResultReason.ITEM_NOT_FOUND


class ResponseTooLarge(KmipError):
    reason = ResultReason.RESPONSE_TOO_LARGE


class AuthenticationNotSuccessful(KmipError):
    reason = ResultReason.AUTHENTICATION_NOT_SUCCESSFUL


class InvalidMessage(KmipError):
    reason = ResultReason.INVALID_MESSAGE


class OperationNotSupported(KmipError):
    reason = ResultReason.OPERATION_NOT_SUPPORTED


class MissingData(KmipError):
    reason = ResultReason.MISSING_DATA


class InvalidField(KmipError):
    reason = ResultReason.INVALID_FIELD


class FeatureNotSupported(KmipError):
    reason = ResultReason.FEATURE_NOT_SUPPORTED


class OperationCanceledByRequester(KmipError):
    reason = ResultReason.OPERATION_CANCELED_BY_REQUESTER


class CryptographicFailure(KmipError):
    reason = ResultReason.CRYPTOGRAPHIC_FAILURE


class IllegalOperation(KmipError):
    reason = ResultReason.ILLEGAL_OPERATION


class PermissionDenied(KmipError):
    reason = ResultReason.PERMISSION_DENIED


class ObjectArchived(KmipError):
    reason = ResultReason.OBJECT_ARCHIVED


class IndexOutOfBounds(KmipError):
    reason = ResultReason.INDEX_OUT_OF_BOUNDS


class ApplicationNamespaceNotSupported(KmipError):
    reason = ResultReason.APPLICATION_NAMESPACE_NOT_SUPPORTED


class KeyFormatTypeNotSupported(KmipError):
    reason = ResultReason.KEY_FORMAT_TYPE_NOT_SUPPORTED


class KeyCompressionTypeNotSupported(KmipError):
    reason = ResultReason.KEY_COMPRESSION_TYPE_NOT_SUPPORTED


class EncodingOptionError(KmipError):
    reason = ResultReason.ENCODING_OPTION_ERROR


class KeyValueNotPresent(KmipError):
    reason = ResultReason.KEY_VALUE_NOT_PRESENT


class AttestationRequired(KmipError):
    reason = ResultReason.ATTESTATION_REQUIRED


class AttestationFailed(KmipError):
    reason = ResultReason.ATTESTATION_FAILED


class Sensitive(KmipError):
    reason = ResultReason.SENSITIVE


class NotExtractable(KmipError):
    reason = ResultReason.NOT_EXTRACTABLE


class ObjectAlreadyExists(KmipError):
    reason = ResultReason.OBJECT_ALREADY_EXISTS


class InvalidTicket(KmipError):
    reason = ResultReason.INVALID_TICKET


class UsageLimitExceeded(KmipError):
    reason = ResultReason.USAGE_LIMIT_EXCEEDED


class NumericRange(KmipError):
    reason = ResultReason.NUMERIC_RANGE


class InvalidDataType(KmipError):
    reason = ResultReason.INVALID_DATA_TYPE


class ReadOnlyAttribute(KmipError):
    reason = ResultReason.READ_ONLY_ATTRIBUTE


class MultiValuedAttribute(KmipError):
    reason = ResultReason.MULTI_VALUED_ATTRIBUTE


class UnsupportedAttribute(KmipError):
    reason = ResultReason.UNSUPPORTED_ATTRIBUTE


class AttributeInstanceNotFound(KmipError):
    reason = ResultReason.ATTRIBUTE_INSTANCE_NOT_FOUND


class AttributeNotFound(KmipError):
    reason = ResultReason.ATTRIBUTE_NOT_FOUND


class AttributeReadOnly(KmipError):
    reason = ResultReason.ATTRIBUTE_READ_ONLY


class AttributeSingleValued(KmipError):
    reason = ResultReason.ATTRIBUTE_SINGLE_VALUED


class BadCryptographicParameters(KmipError):
    reason = ResultReason.BAD_CRYPTOGRAPHIC_PARAMETERS


class BadPassword(KmipError):
    reason = ResultReason.BAD_PASSWORD


class CodecError(KmipError):
    reason = ResultReason.CODEC_ERROR


class IllegalObjectType(KmipError):
    reason = ResultReason.ILLEGAL_OBJECT_TYPE


class IncompatibleCryptographicUsageMask(KmipError):
    reason = ResultReason.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK


class InternalServerError(KmipError):
    reason = ResultReason.INTERNAL_SERVER_ERROR


class InvalidAsynchronousCorrelationValue(KmipError):
    reason = ResultReason.INVALID_ASYNCHRONOUS_CORRELATION_VALUE


class InvalidAttribute(KmipError):
    reason = ResultReason.INVALID_ATTRIBUTE


class InvalidAttributeValue(KmipError):
    reason = ResultReason.INVALID_ATTRIBUTE_VALUE


class InvalidCorrelationValue(KmipError):
    reason = ResultReason.INVALID_CORRELATION_VALUE


class InvalidCSR(KmipError):
    reason = ResultReason.INVALID_CSR


class InvalidObjectType(KmipError):
    reason = ResultReason.INVALID_OBJECT_TYPE


class KeyWrapTypeNotSupported(KmipError):
    reason = ResultReason.KEY_WRAP_TYPE_NOT_SUPPORTED


class MissingInitializationVector(KmipError):
    reason = ResultReason.MISSING_INITIALIZATION_VECTOR


class NonUniqueNameAttribute(KmipError):
    reason = ResultReason.NON_UNIQUE_NAME_ATTRIBUTE


class ObjectDestroyed(KmipError):
    reason = ResultReason.OBJECT_DESTROYED


class ObjectNotFound(KmipError):
    reason = ResultReason.OBJECT_NOT_FOUND


class NotAuthorized(KmipError):
    reason = ResultReason.NOT_AUTHORIZED


class ServerLimitExceeded(KmipError):
    reason = ResultReason.SERVER_LIMIT_EXCEEDED


class UnknownEnumeration(KmipError):
    reason = ResultReason.UNKNOWN_ENUMERATION


class UnknownMessageExtension(KmipError):
    reason = ResultReason.UNKNOWN_MESSAGE_EXTENSION


class UnknownTag(KmipError):
    reason = ResultReason.UNKNOWN_TAG


class UnsupportedCryptographicParameters(KmipError):
    reason = ResultReason.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS


class UnsupportedProtocolVersion(KmipError):
    reason = ResultReason.UNSUPPORTED_PROTOCOL_VERSION


class WrappingObjectArchived(KmipError):
    reason = ResultReason.WRAPPING_OBJECT_ARCHIVED


class WrappingObjectDestroyed(KmipError):
    reason = ResultReason.WRAPPING_OBJECT_DESTROYED


class WrappingObjectNotFound(KmipError):
    reason = ResultReason.WRAPPING_OBJECT_NOT_FOUND


class WrongKeyLifecycleState(KmipError):
    reason = ResultReason.WRONG_KEY_LIFECYCLE_STATE


class ProtectionStorageUnavailable(KmipError):
    reason = ResultReason.PROTECTION_STORAGE_UNAVAILABLE


class PKCS11CodecError(KmipError):
    reason = ResultReason.PKCS_11_CODEC_ERROR


class PKCS11InvalidFunction(KmipError):
    reason = ResultReason.PKCS_11_INVALID_FUNCTION


class PKCS11InvalidInterface(KmipError):
    reason = ResultReason.PKCS_11_INVALID_INTERFACE


class PrivateProtectionStorageUnavailable(KmipError):
    reason = ResultReason.PRIVATE_PROTECTION_STORAGE_UNAVAILABLE


class PublicProtectionStorageUnavailable(KmipError):
    reason = ResultReason.PUBLIC_PROTECTION_STORAGE_UNAVAILABLE


class UnknownObjectGroup(KmipError):
    reason = ResultReason.UNKNOWN_OBJECT_GROUP


class ConstraintViolation(KmipError):
    reason = ResultReason.CONSTRAINT_VIOLATION


class DuplicateProcessRequest(KmipError):
    reason = ResultReason.DUPLICATE_PROCESS_REQUEST


class GeneralFailure(KmipError):
    reason = ResultReason.GENERAL_FAILURE


_BY_REASON: dict[int, type[KmipError]] = {
    cls.reason: cls
    for cls in (
        ItemNotFound,
        ResponseTooLarge,
        AuthenticationNotSuccessful,
        InvalidMessage,
        OperationNotSupported,
        MissingData,
        InvalidField,
        FeatureNotSupported,
        OperationCanceledByRequester,
        CryptographicFailure,
        IllegalOperation,
        PermissionDenied,
        ObjectArchived,
        IndexOutOfBounds,
        ApplicationNamespaceNotSupported,
        KeyFormatTypeNotSupported,
        KeyCompressionTypeNotSupported,
        EncodingOptionError,
        KeyValueNotPresent,
        AttestationRequired,
        AttestationFailed,
        Sensitive,
        NotExtractable,
        ObjectAlreadyExists,
        InvalidTicket,
        UsageLimitExceeded,
        NumericRange,
        InvalidDataType,
        ReadOnlyAttribute,
        MultiValuedAttribute,
        UnsupportedAttribute,
        AttributeInstanceNotFound,
        AttributeNotFound,
        AttributeReadOnly,
        AttributeSingleValued,
        BadCryptographicParameters,
        BadPassword,
        CodecError,
        IllegalObjectType,
        IncompatibleCryptographicUsageMask,
        InternalServerError,
        InvalidAsynchronousCorrelationValue,
        InvalidAttribute,
        InvalidAttributeValue,
        InvalidCorrelationValue,
        InvalidCSR,
        InvalidObjectType,
        KeyWrapTypeNotSupported,
        MissingInitializationVector,
        NonUniqueNameAttribute,
        ObjectDestroyed,
        ObjectNotFound,
        NotAuthorized,
        ServerLimitExceeded,
        UnknownEnumeration,
        UnknownMessageExtension,
        UnknownTag,
        UnsupportedCryptographicParameters,
        UnsupportedProtocolVersion,
        WrappingObjectArchived,
        WrappingObjectDestroyed,
        WrappingObjectNotFound,
        WrongKeyLifecycleState,
        ProtectionStorageUnavailable,
        PKCS11CodecError,
        PKCS11InvalidFunction,
        PKCS11InvalidInterface,
        PrivateProtectionStorageUnavailable,
        PublicProtectionStorageUnavailable,
        UnknownObjectGroup,
        ConstraintViolation,
        DuplicateProcessRequest,
        GeneralFailure,
    )
}


def error_for(reason: int, message: str = "") -> KmipError:
    """The KmipError subclass of a received Result Reason value (client side).

    An unknown value (an extension 0x8XXXXXXX) gives a plain KmipError with reason General
    Failure; the value itself is not kept.
    """
    cls = _BY_REASON.get(reason)
    if cls is None:
        return KmipError(message)
    return cls(message)


R = ResultReason

# A reason the peer's version does not define -> the closest reason that version does define.
# 2.x-only -> 1.x, per digest §1.3 / §4.3 (from the OASIS 1.4 and 2.1 test cases of the same
# operations): lifecycle refusals are Permission Denied in 1.x (SPEC-1.4 Tables 346, 348, 353),
# unknown UIDs Item Not Found, a Get on an object with only attributes left Illegal Operation
# (SPEC-1.4 Table 338), bad or unknown attributes Invalid Field (SPEC-1.4 Table 336),
# Add of an existing single-instance attribute Illegal Operation, read-only ones Permission Denied.
# Reasons added in 1.1 - 1.4 map down the same way for older 1.x minors.
_OLDER: dict[ResultReason, ResultReason] = {
    R.WRONG_KEY_LIFECYCLE_STATE: R.PERMISSION_DENIED,
    R.OBJECT_NOT_FOUND: R.ITEM_NOT_FOUND,
    R.OBJECT_DESTROYED: R.ILLEGAL_OPERATION,
    R.ATTRIBUTE_SINGLE_VALUED: R.ILLEGAL_OPERATION,
    R.ATTRIBUTE_READ_ONLY: R.PERMISSION_DENIED,
    R.READ_ONLY_ATTRIBUTE: R.PERMISSION_DENIED,
    R.INVALID_ATTRIBUTE: R.INVALID_FIELD,
    R.INVALID_ATTRIBUTE_VALUE: R.INVALID_FIELD,
    R.ATTRIBUTE_NOT_FOUND: R.INVALID_FIELD,
    R.ATTRIBUTE_INSTANCE_NOT_FOUND: R.INVALID_FIELD,
    R.UNSUPPORTED_ATTRIBUTE: R.INVALID_FIELD,
    R.MULTI_VALUED_ATTRIBUTE: R.INVALID_FIELD,
    R.NON_UNIQUE_NAME_ATTRIBUTE: R.INVALID_FIELD,
    R.INVALID_DATA_TYPE: R.INVALID_FIELD,
    R.NUMERIC_RANGE: R.INVALID_FIELD,
    R.UNKNOWN_ENUMERATION: R.INVALID_FIELD,
    R.UNKNOWN_TAG: R.INVALID_FIELD,
    R.INVALID_OBJECT_TYPE: R.INVALID_FIELD,
    R.INVALID_CSR: R.INVALID_FIELD,
    R.INVALID_CORRELATION_VALUE: R.INVALID_FIELD,
    R.INVALID_ASYNCHRONOUS_CORRELATION_VALUE: R.INVALID_FIELD,
    R.INVALID_TICKET: R.INVALID_FIELD,
    R.BAD_CRYPTOGRAPHIC_PARAMETERS: R.INVALID_FIELD,
    R.MISSING_INITIALIZATION_VECTOR: R.MISSING_DATA,
    R.UNKNOWN_OBJECT_GROUP: R.INVALID_FIELD,
    R.CONSTRAINT_VIOLATION: R.INVALID_FIELD,
    R.ILLEGAL_OBJECT_TYPE: R.ILLEGAL_OPERATION,
    R.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK: R.PERMISSION_DENIED,
    R.USAGE_LIMIT_EXCEEDED: R.PERMISSION_DENIED,
    R.NOT_AUTHORIZED: R.PERMISSION_DENIED,
    R.BAD_PASSWORD: R.AUTHENTICATION_NOT_SUCCESSFUL,
    R.CODEC_ERROR: R.INVALID_MESSAGE,
    R.UNSUPPORTED_PROTOCOL_VERSION: R.INVALID_MESSAGE,  # SPEC-1.4 Table 327: major mismatch
    R.UNKNOWN_MESSAGE_EXTENSION: R.FEATURE_NOT_SUPPORTED,  # SPEC-1.4 Table 327: critical extension
    R.UNSUPPORTED_CRYPTOGRAPHIC_PARAMETERS: R.FEATURE_NOT_SUPPORTED,
    R.KEY_WRAP_TYPE_NOT_SUPPORTED: R.FEATURE_NOT_SUPPORTED,
    R.WRAPPING_OBJECT_ARCHIVED: R.OBJECT_ARCHIVED,
    R.WRAPPING_OBJECT_DESTROYED: R.ILLEGAL_OPERATION,
    R.WRAPPING_OBJECT_NOT_FOUND: R.ITEM_NOT_FOUND,
    R.INTERNAL_SERVER_ERROR: R.GENERAL_FAILURE,
    R.SERVER_LIMIT_EXCEEDED: R.GENERAL_FAILURE,
    R.PROTECTION_STORAGE_UNAVAILABLE: R.GENERAL_FAILURE,
    R.PRIVATE_PROTECTION_STORAGE_UNAVAILABLE: R.GENERAL_FAILURE,
    R.PUBLIC_PROTECTION_STORAGE_UNAVAILABLE: R.GENERAL_FAILURE,
    R.PKCS_11_CODEC_ERROR: R.GENERAL_FAILURE,
    R.PKCS_11_INVALID_FUNCTION: R.GENERAL_FAILURE,
    R.PKCS_11_INVALID_INTERFACE: R.GENERAL_FAILURE,
    R.DUPLICATE_PROCESS_REQUEST: R.GENERAL_FAILURE,
    # added within 1.x (SPEC-1.4 §9.1.3.2.29; digest §1.3), for older minors
    R.OBJECT_ALREADY_EXISTS: R.ILLEGAL_OPERATION,  # 1.4
    R.SENSITIVE: R.PERMISSION_DENIED,  # 1.4
    R.NOT_EXTRACTABLE: R.PERMISSION_DENIED,  # 1.4
    R.ATTESTATION_REQUIRED: R.PERMISSION_DENIED,  # 1.2
    R.ATTESTATION_FAILED: R.PERMISSION_DENIED,  # 1.2
    R.KEY_VALUE_NOT_PRESENT: R.ILLEGAL_OPERATION,  # 1.2
    R.ENCODING_OPTION_ERROR: R.FEATURE_NOT_SUPPORTED,  # 1.1
}

# 1.x-only reasons shown as "(Reserved)" in 2.x (SPEC-2.1 §11.46) -> the 2.x reason.
_NEWER: dict[ResultReason, ResultReason] = {
    R.ILLEGAL_OPERATION: R.PERMISSION_DENIED,
    R.INDEX_OUT_OF_BOUNDS: R.ATTRIBUTE_INSTANCE_NOT_FOUND,
}


def reason_for_version(reason: ResultReason, version: Version) -> ResultReason:
    """The Result Reason to send to a peer speaking ``version``.

    A server never sends a value the negotiated version does not define (digest §1.3):
    a 2.x-only reason becomes its closest 1.x equivalent for a 1.x client (Wrong Key Lifecycle
    State -> Permission Denied, Object Not Found -> Item Not Found, Invalid Attribute ->
    Invalid Field, ...), and the two 1.x-only reasons become their 2.x successors. Falls back
    to General Failure, defined in every version.
    """
    if version < V1_0:
        return R.GENERAL_FAILURE
    table = _NEWER if version >= V2_0 else _OLDER
    current = reason
    for _ in range(8):  # each step maps to an older (or newer) reason; chains are short
        if value_in_version(ResultReason, current, version):
            return current
        current = table.get(current, R.GENERAL_FAILURE)
    return R.GENERAL_FAILURE
