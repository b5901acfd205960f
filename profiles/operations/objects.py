"""Managed objects: reading request attributes, the attributes the server sets, key blocks.

Shared by Create, Register and Re-key (SPEC-1.4 §4.1, §4.3, §4.4; SPEC-2.1 §6.1.3, §6.1.40,
§6.1.43).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agent.model import Attribute, Name, Template
from agent.spec import (
    CertificateType,
    CryptographicAlgorithm,
    DigitalSignatureAlgorithm,
    ItemType,
    KeyFormatType,
    ObjectType,
    Operation,
    ProtectionStorageMask,
    ResultReason,
    State,
    Tag,
)
from agent.ttlv import Item, encode
from profiles.attrs import (
    Attr,
    AttrSet,
    canonical,
    condition,
    index_rows,
    make_attr,
    rule_for,
    short_unique_identifier,
)
from profiles.operations.base import (
    Context,
    ManagedObject,
    boolean,
    date,
    enum,
    fail,
    has_state,
    integer,
    one,
    struct,
    text,
)
from profiles.operations.digest import stored_digest_of
from profiles.store.base import LocateQuery, ObjectRecord

R = ResultReason
OT = ObjectType

# Object Type -> tag of the object structure in Register / Get payloads (SPEC-1.4 §2.2)
OBJECT_TAGS: dict[int, int] = {
    OT.CERTIFICATE: Tag.CERTIFICATE,
    OT.SYMMETRIC_KEY: Tag.SYMMETRIC_KEY,
    OT.PUBLIC_KEY: Tag.PUBLIC_KEY,
    OT.PRIVATE_KEY: Tag.PRIVATE_KEY,
    OT.SPLIT_KEY: Tag.SPLIT_KEY,
    OT.TEMPLATE: Tag.TEMPLATE,
    OT.SECRET_DATA: Tag.SECRET_DATA,
    OT.OPAQUE_OBJECT: Tag.OPAQUE_OBJECT,
    OT.PGP_KEY: Tag.PGP_KEY,
}
KEY_OBJECTS = {OT.SYMMETRIC_KEY, OT.PUBLIC_KEY, OT.PRIVATE_KEY, OT.SPLIT_KEY, OT.PGP_KEY, OT.SECRET_DATA}
CRYPTO_OBJECTS = KEY_OBJECTS | {OT.CERTIFICATE}

LIVE_STATES = [State.PRE_ACTIVE, State.ACTIVE, State.DEACTIVATED, State.COMPROMISED]


# --------------------------------------------------------------------------------------------
# Request attributes
# --------------------------------------------------------------------------------------------


def request_attributes(
    ctx: Context, attributes: Iterable[Attribute], templates: Iterable[Name] = ()
) -> list[Attr]:
    """The attributes a Create/Register/Re-key request gives (agent.model reads the 1.x
    Template-Attribute, SPEC-1.4 §2.1.8, and the 2.x Attributes, SPEC-2.1 §7.1): the attributes
    of the Templates referenced by Name (1.x only), then the explicit ones."""
    out: list[Attr] = []
    for ref in templates:
        out.extend(template_attributes(ctx, ref))
    explicit = [ctx.attr_in(a) for a in attributes]
    # explicit single-instance attributes override the template's (SPEC-1.4 §2.1.8)
    overridden = {a.name for a in explicit if (rule := rule_for(a.name)) is not None and not rule.multi}
    return [a for a in out if a.name not in overridden] + explicit


def template_attributes(ctx: Context, name: Name) -> list[Attr]:
    """The attributes held by the Template named ``name`` (1.x only)."""
    uids = ctx.store.locate(
        LocateQuery(
            conditions=[condition("Name/Name Value", key=name.name_value)],  # canonical() of a text
            object_types=[OT.TEMPLATE],
            states=None,
            owner=ctx.services.policy.locate_owner(ctx.identity),
            archived=None,
        )
    )
    if not uids:
        raise fail(R.ITEM_NOT_FOUND, "template not found")  # SPEC-1.4 Table 328
    material = ctx.open(uids[0]).material_item()
    template = Template() if material is None else ctx.decode(material, Template)
    # a 1.0/1.1 Template may hold its own Name (see register.py): never given to new objects
    return [a for a in (ctx.attr_in(a) for a in template.attributes) if a.name != "Name"]


def check_client_attributes(ctx: Context, attrs: Sequence[Attr], object_type: int) -> list[Attr]:
    """Apply the attribute rules to what a client asks to set on a new object."""
    out: list[Attr] = []
    seen: dict[str, int] = {}
    for a in attrs:
        rule = rule_for(a.name)
        if rule is None:
            raise fail(R.INVALID_ATTRIBUTE, "unknown attribute")
        if a.name == "Object Type":
            if a.value.value != object_type:
                raise fail(R.INVALID_FIELD, "Object Type does not match")
            continue
        if not rule.client_init:
            raise fail(
                R.INVALID_FIELD if not ctx.v2 else R.ATTRIBUTE_READ_ONLY, "attribute is set by the server"
            )
        seen[a.name] = seen.get(a.name, 0) + 1
        if seen[a.name] > 1 and not rule.multi:
            raise fail(
                R.INVALID_FIELD if not ctx.v2 else R.ATTRIBUTE_SINGLE_VALUED, "attribute is single-valued"
            )
        out.append(a)
    if len(out) > ctx.config.max_attributes:
        raise fail(R.INDEX_OUT_OF_BOUNDS if not ctx.v2 else R.SERVER_LIMIT_EXCEEDED, "too many attributes")
    names = [a for a in out if a.name == "Name"]
    for i, n in enumerate(names):
        if any(canonical(n.value) == canonical(m.value) for m in names[:i]):
            raise fail(R.INVALID_FIELD if not ctx.v2 else R.NON_UNIQUE_NAME_ATTRIBUTE, "Name is not unique")
        check_name_unique(ctx, n.value, exclude=None, v1_reason=R.INVALID_FIELD)
    return [fill_application_data(ctx, a) for a in out]


def name_value(name: Item) -> Item | None:
    return one(name, Tag.NAME_VALUE) if name.type == ItemType.STRUCTURE else None


def check_name_unique(ctx: Context, name: Item, *, exclude: str | None, v1_reason: ResultReason) -> None:
    """Names SHALL be unique within the key management domain (SPEC-1.4 §3.2); destroyed
    objects do not count. 1.x reason per operation (Tables 328/330: Invalid Field, 341/342:
    Illegal Operation); 2.x Non Unique Name Attribute."""
    value = name_value(name)
    if value is None:
        raise fail(R.INVALID_FIELD, "Name without Name Value")
    uids = ctx.store.locate(
        LocateQuery(conditions=[condition("Name/Name Value", key=canonical(value))], states=None, owner=None)
    )
    for uid in uids:
        if uid == exclude:
            continue
        rec = ctx.store.load(uid)
        if rec is not None and rec.state not in (State.DESTROYED, State.DESTROYED_COMPROMISED):
            raise fail(R.NON_UNIQUE_NAME_ATTRIBUTE if ctx.v2 else v1_reason, "Name is not unique")


def fill_application_data(ctx: Context, a: Attr) -> Attr:
    """SPEC-1.4 §3.36: a namespace without Application Data gets server-generated data if the
    server supports the namespace, else Application Namespace Not Supported."""
    if a.name != "Application Specific Information":
        return a
    ns = one(a.value, Tag.APPLICATION_NAMESPACE)
    data = one(a.value, Tag.APPLICATION_DATA)
    if ns is None:
        raise fail(R.INVALID_FIELD, "Application Specific Information without namespace")
    if data is not None:
        return a
    if str(ns.value) not in ctx.config.application_namespaces:
        raise fail(R.APPLICATION_NAMESPACE_NOT_SUPPORTED, "application namespace not supported")
    generated = ctx.services.random(16).hex().upper()  # TLP §1.1 hexadecimal numeric characters
    value = struct(a.value.tag, (ns, text(Tag.APPLICATION_DATA, generated)))
    return Attr(a.name, value, a.index)


# --------------------------------------------------------------------------------------------
# Key blocks
# --------------------------------------------------------------------------------------------


# Key Block fields and their item types (SPEC-1.4 §2.1.3 Table 6)
_KEY_BLOCK_TYPES: dict[int, tuple[ItemType, ...]] = {
    Tag.KEY_FORMAT_TYPE: (ItemType.ENUMERATION,),
    Tag.KEY_COMPRESSION_TYPE: (ItemType.ENUMERATION,),
    Tag.KEY_VALUE: (ItemType.STRUCTURE, ItemType.BYTE_STRING),
    Tag.CRYPTOGRAPHIC_ALGORITHM: (ItemType.ENUMERATION,),
    Tag.CRYPTOGRAPHIC_LENGTH: (ItemType.INTEGER,),
    Tag.KEY_WRAPPING_DATA: (ItemType.STRUCTURE,),
}


def check_key_block(block: Item) -> None:
    """A Key Block the server can store: Key Format Type present, every known field of its item
    type, at most once; a wrong shape is a payload that cannot be parsed (Invalid Message,
    SPEC-1.4 §11.1 Table 327)."""
    if block.type != ItemType.STRUCTURE:
        raise fail(R.INVALID_MESSAGE, "Key Block is not a structure")
    seen: set[int] = set()
    for c in block.value:
        kinds = _KEY_BLOCK_TYPES.get(c.tag)
        if kinds is None:
            continue
        if c.type not in kinds or c.tag in seen:
            raise fail(R.INVALID_MESSAGE, "malformed Key Block")
        seen.add(c.tag)
    if Tag.KEY_FORMAT_TYPE not in seen:
        raise fail(R.INVALID_FIELD, "Key Block without Key Format Type")
    kv = one(block, Tag.KEY_VALUE)
    if kv is not None and kv.type == ItemType.STRUCTURE:
        material = one(kv, Tag.KEY_MATERIAL)
        if material is not None and material.type not in (ItemType.BYTE_STRING, ItemType.STRUCTURE):
            raise fail(R.INVALID_MESSAGE, "malformed Key Material")
    length = one(block, Tag.CRYPTOGRAPHIC_LENGTH)
    if length is not None and int(length.value) < 0:
        raise fail(R.INVALID_FIELD, "negative Cryptographic Length")


def key_block(obj: Item | None) -> Item | None:
    return None if obj is None else one(obj, Tag.KEY_BLOCK)


def key_material(block: Item) -> Item | None:
    kv = one(block, Tag.KEY_VALUE)
    if kv is None:
        return None
    if kv.type == ItemType.BYTE_STRING:  # wrapped key value
        return kv
    return one(kv, Tag.KEY_MATERIAL)


# Symmetric key sizes the server generates (bits). Other algorithms take any multiple of 8.
_SIZES: dict[str, frozenset[int]] = {
    "AES": frozenset({128, 192, 256}),
    "DES3": frozenset({112, 168, 192}),
    "DES": frozenset({56, 64}),
}


_SIZE_NAMES: dict[int, str] = {
    CryptographicAlgorithm.AES: "AES",
    CryptographicAlgorithm.DES3: "DES3",
    CryptographicAlgorithm.DES: "DES",
}


def generate_symmetric(ctx: Context, algorithm: int, length: int) -> bytes:
    """Random key bytes for a Create of a symmetric key."""
    name = _SIZE_NAMES.get(algorithm)
    if length <= 0 or length > 8192:
        raise fail(R.INVALID_FIELD, "unsupported Cryptographic Length")
    if name is not None and length not in _SIZES[name]:
        raise fail(R.INVALID_FIELD, "unsupported Cryptographic Length")
    if name == "DES3":
        nbytes = 24 if length != 112 else 16
    elif name == "DES":
        nbytes = 8
    else:
        if length % 8:
            raise fail(R.INVALID_FIELD, "unsupported Cryptographic Length")
        nbytes = length // 8
    return ctx.services.random(nbytes)


def symmetric_key_item(material: bytes, algorithm: int, length: int) -> Item:
    return struct(
        Tag.SYMMETRIC_KEY,
        (
            struct(
                Tag.KEY_BLOCK,
                (
                    enum(Tag.KEY_FORMAT_TYPE, KeyFormatType.RAW),
                    struct(Tag.KEY_VALUE, (Item(Tag.KEY_MATERIAL, ItemType.BYTE_STRING, material),)),
                    enum(Tag.CRYPTOGRAPHIC_ALGORITHM, algorithm),
                    integer(Tag.CRYPTOGRAPHIC_LENGTH, length),
                ),
            ),
        ),
    )


# --------------------------------------------------------------------------------------------
# New objects
# --------------------------------------------------------------------------------------------


def server_attributes(
    ctx: Context, uid: str, object_type: int, obj: Item | None, client: Sequence[Attr], *, generated: bool
) -> AttrSet:
    """Client attributes plus every attribute the server sets on a new object (SPEC-1.4 §3:
    "Initially set by: Server"; the 1.4/2.1 TL-M-3 Get Attributes responses list them)."""
    attrs = AttrSet()
    given = {a.name for a in client}
    for a in client:
        attrs.add(a.name, a.value)
    items = attrs.items
    present = set(given)

    def put(name: str, value: Item) -> None:
        # AttrSet.set: an attribute not present yet is appended (most of them here)
        nonlocal items
        if name in present:
            attrs.set(name, value)
            items = attrs.items
        else:
            items.append(make_attr(name, value, 0))
            present.add(name)

    now = ctx.now
    put("Unique Identifier", text(Tag.UNIQUE_IDENTIFIER, uid))
    put("Object Type", _constant(Tag.OBJECT_TYPE, ItemType.ENUMERATION, int(object_type)))
    block = key_block(obj) if object_type != OT.TEMPLATE else None
    if block is not None:
        alg = one(block, Tag.CRYPTOGRAPHIC_ALGORITHM)
        length = one(block, Tag.CRYPTOGRAPHIC_LENGTH)
        if alg is not None:
            put("Cryptographic Algorithm", enum(Tag.CRYPTOGRAPHIC_ALGORITHM, int(alg.value)))
        if length is not None:
            put("Cryptographic Length", integer(Tag.CRYPTOGRAPHIC_LENGTH, int(length.value)))
        fmt = one(block, Tag.KEY_FORMAT_TYPE)
        if fmt is not None:
            put("Key Format Type", enum(Tag.KEY_FORMAT_TYPE, int(fmt.value)))
        if not generated:
            # SPEC-1.4 §3.41: set by the server on Register; False for a metadata-only object
            # whose Key Block carries no Key Value (TC-MDO-1-14)
            present_value = one(block, Tag.KEY_VALUE) is not None
            put("Key Value Present", boolean(Tag.KEY_VALUE_PRESENT, present_value))
    if object_type == OT.CERTIFICATE and obj is not None:
        certificate_attributes(attrs, obj)
        items = attrs.items  # certificate_attributes sets through the AttrSet
        present = {a.name for a in items}
    if obj is not None and object_type != OT.TEMPLATE:
        d = stored_digest_of(object_type, obj)
        if d is not None:
            # kept without its Digest Value, derived again when reported (digest.py)
            attrs.add("Digest", d)
            present.add("Digest")
    put("Initial Date", date(Tag.INITIAL_DATE, now))
    put("Last Change Date", date(Tag.LAST_CHANGE_DATE, now))
    if "Original Creation Date" not in given:
        put("Original Creation Date", date(Tag.ORIGINAL_CREATION_DATE, now))
    if object_type in CRYPTO_OBJECTS:
        put("Lease Time", _constant(Tag.LEASE_TIME, ItemType.INTERVAL, ctx.config.lease_time))
    if object_type != OT.TEMPLATE and "Fresh" not in given:
        put("Fresh", _TRUE_FRESH)
    if generated:
        put("Random Number Generator", _rng(ctx.config.rng_algorithm))
    if object_type in CRYPTO_OBJECTS:
        sensitive = bool(attrs.value("Sensitive")) if "Sensitive" in given else False
        extractable = bool(attrs.value("Extractable")) if "Extractable" in given else True
        put("Sensitive", _BOOLEANS[Tag.SENSITIVE, sensitive])
        put("Always Sensitive", _BOOLEANS[Tag.ALWAYS_SENSITIVE, sensitive])
        put("Extractable", _BOOLEANS[Tag.EXTRACTABLE, extractable])
        put("Never Extractable", _BOOLEANS[Tag.NEVER_EXTRACTABLE, not extractable])
    if object_type != OT.TEMPLATE:
        put("Short Unique Identifier", _short_uid(uid))
        put("Protection Storage Mask", _SOFTWARE_ONLY)
    return attrs


# Server-set values that are the same for every new object (Items are immutable)
_TRUE_FRESH = boolean(Tag.FRESH, True)
_SOFTWARE_ONLY = integer(Tag.PROTECTION_STORAGE_MASK, ProtectionStorageMask.SOFTWARE)
_BOOLEANS: dict[tuple[int, bool], Item] = {
    (tag, flag): boolean(tag, flag)
    for tag in (Tag.SENSITIVE, Tag.ALWAYS_SENSITIVE, Tag.EXTRACTABLE, Tag.NEVER_EXTRACTABLE)
    for flag in (False, True)
}
_CONSTANTS: dict[tuple[int, int, object, type], Item] = {}


def _constant(tag: int, item_type: ItemType, value: int) -> Item:
    """``Item(tag, item_type, value)`` for values from the engine's configuration or a checked
    Object Type (a few, never a peer's choice)."""
    key = (tag, item_type, value, type(value))
    item = _CONSTANTS.get(key)
    if item is None:
        item = _CONSTANTS[key] = Item(tag, item_type, value)
    return item


def _rng(algorithm: int) -> Item:
    key = (Tag.RANDOM_NUMBER_GENERATOR, ItemType.STRUCTURE, algorithm, type(algorithm))
    item = _CONSTANTS.get(key)
    if item is None:
        item = _CONSTANTS[key] = struct(Tag.RANDOM_NUMBER_GENERATOR, (enum(Tag.RNG_ALGORITHM, algorithm),))
    return item


def _short_uid(uid: str) -> Item:
    return Item(Tag.SHORT_UNIQUE_IDENTIFIER, ItemType.BYTE_STRING, short_unique_identifier(uid))


# signatureAlgorithm OIDs -> Digital Signature Algorithm (SPEC-1.4 §9.1.3.2.7)
_SIGNATURE_OIDS: dict[str, int] = {
    "1.2.840.113549.1.1.2": DigitalSignatureAlgorithm.MD2_WITH_RSA_ENCRYPTION,
    "1.2.840.113549.1.1.4": DigitalSignatureAlgorithm.MD5_WITH_RSA_ENCRYPTION,
    "1.2.840.113549.1.1.5": DigitalSignatureAlgorithm.SHA_1_WITH_RSA_ENCRYPTION,
    "1.2.840.113549.1.1.14": DigitalSignatureAlgorithm.SHA_224_WITH_RSA_ENCRYPTION,
    "1.2.840.113549.1.1.11": DigitalSignatureAlgorithm.SHA_256_WITH_RSA_ENCRYPTION,
    "1.2.840.113549.1.1.12": DigitalSignatureAlgorithm.SHA_384_WITH_RSA_ENCRYPTION,
    "1.2.840.113549.1.1.13": DigitalSignatureAlgorithm.SHA_512_WITH_RSA_ENCRYPTION,
    "1.2.840.113549.1.1.10": DigitalSignatureAlgorithm.RSASSA_PSS,
    "1.2.840.10040.4.3": DigitalSignatureAlgorithm.DSA_WITH_SHA_1,
    "2.16.840.1.101.3.4.3.1": DigitalSignatureAlgorithm.DSA_WITH_SHA224,
    "2.16.840.1.101.3.4.3.2": DigitalSignatureAlgorithm.DSA_WITH_SHA256,
    "1.2.840.10045.4.1": DigitalSignatureAlgorithm.ECDSA_WITH_SHA_1,
    "1.2.840.10045.4.3.1": DigitalSignatureAlgorithm.ECDSA_WITH_SHA224,
    "1.2.840.10045.4.3.2": DigitalSignatureAlgorithm.ECDSA_WITH_SHA256,
    "1.2.840.10045.4.3.3": DigitalSignatureAlgorithm.ECDSA_WITH_SHA384,
    "1.2.840.10045.4.3.4": DigitalSignatureAlgorithm.ECDSA_WITH_SHA512,
}


def _der_integer(value: int) -> bytes:
    """DER INTEGER encoding (tag 02) of a non-negative serial number."""
    body = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    if len(body) < 0x80:
        return bytes((0x02, len(body))) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes((0x02, 0x80 | len(size))) + size + body


def certificate_attributes(attrs: AttrSet, obj: Item) -> None:
    """Attributes the server derives from an X.509 certificate: Certificate Type and Length,
    the 1.0 Certificate Identifier / Subject / Issuer (text), the 1.1+ X.509 Certificate
    Identifier / Subject / Issuer (DER), the 1.4+ Certificate Subject/Issuer name parts,
    Digital Signature Algorithm and the public key's Cryptographic Algorithm and Length
    (SPEC-1.4 §3.8-3.16; TC-CERTATTR-1-14; SPEC-2.1 BL-M-10-21)."""
    ctype = one(obj, Tag.CERTIFICATE_TYPE)
    value = one(obj, Tag.CERTIFICATE_VALUE)
    if ctype is not None:
        attrs.set("Certificate Type", enum(Tag.CERTIFICATE_TYPE, int(ctype.value)))
    if value is None or value.type != ItemType.BYTE_STRING:
        return
    der = bytes(value.value)
    attrs.set("Certificate Length", integer(Tag.CERTIFICATE_LENGTH, len(der)))
    if ctype is None or int(ctype.value) != CertificateType.X_509:
        return
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
        from cryptography.x509.oid import NameOID

        cert = x509.load_der_x509_certificate(der)
        key = cert.public_key()
    except Exception:  # not parseable: keep what we have (the value is stored as given)
        return
    serial = cert.serial_number
    serial_bytes = serial.to_bytes(max(1, (serial.bit_length() + 7) // 8), "big")
    issuer_text, subject_text = cert.issuer.rfc4514_string(), cert.subject.rfc4514_string()
    attrs.set(
        "Certificate Identifier",
        struct(
            Tag.CERTIFICATE_IDENTIFIER,
            (text(Tag.ISSUER, issuer_text), text(Tag.SERIAL_NUMBER, serial_bytes.hex())),
        ),
    )
    attrs.set(
        "Certificate Subject",
        struct(Tag.CERTIFICATE_SUBJECT, (text(Tag.CERTIFICATE_SUBJECT_DISTINGUISHED_NAME, subject_text),)),
    )
    attrs.set(
        "Certificate Issuer",
        struct(Tag.CERTIFICATE_ISSUER, (text(Tag.CERTIFICATE_ISSUER_DISTINGUISHED_NAME, issuer_text),)),
    )
    issuer_der = Item(Tag.ISSUER_DISTINGUISHED_NAME, ItemType.BYTE_STRING, cert.issuer.public_bytes())
    attrs.set(
        "X.509 Certificate Identifier",
        struct(
            Tag.X_509_CERTIFICATE_IDENTIFIER,
            (issuer_der, Item(Tag.CERTIFICATE_SERIAL_NUMBER, ItemType.BYTE_STRING, _der_integer(serial))),
        ),
    )
    attrs.set(
        "X.509 Certificate Subject",
        struct(
            Tag.X_509_CERTIFICATE_SUBJECT,
            (Item(Tag.SUBJECT_DISTINGUISHED_NAME, ItemType.BYTE_STRING, cert.subject.public_bytes()),),
        ),
    )
    attrs.set("X.509 Certificate Issuer", struct(Tag.X_509_CERTIFICATE_ISSUER, (issuer_der,)))
    signature = _SIGNATURE_OIDS.get(cert.signature_algorithm_oid.dotted_string)
    if signature is not None:
        attrs.set("Digital Signature Algorithm", enum(Tag.DIGITAL_SIGNATURE_ALGORITHM, signature))
    sized: tuple[int, int] | None = None
    if isinstance(key, rsa.RSAPublicKey):
        sized = (CryptographicAlgorithm.RSA, key.key_size)
    elif isinstance(key, dsa.DSAPublicKey):
        sized = (CryptographicAlgorithm.DSA, key.key_size)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        sized = (CryptographicAlgorithm.EC, key.key_size)
    if sized is not None:
        attrs.set("Cryptographic Algorithm", enum(Tag.CRYPTOGRAPHIC_ALGORITHM, sized[0]))
        attrs.set("Cryptographic Length", integer(Tag.CRYPTOGRAPHIC_LENGTH, sized[1]))
    pairs = (
        ("CN", NameOID.COMMON_NAME),
        ("O", NameOID.ORGANIZATION_NAME),
        ("OU", NameOID.ORGANIZATIONAL_UNIT_NAME),
        ("Email", NameOID.EMAIL_ADDRESS),
        ("C", NameOID.COUNTRY_NAME),
        ("ST", NameOID.STATE_OR_PROVINCE_NAME),
        ("L", NameOID.LOCALITY_NAME),
    )
    for which, name in (("Subject", cert.subject), ("Issuer", cert.issuer)):
        for short, oid in pairs:
            vals = name.get_attributes_for_oid(oid)
            label = f"Certificate {which} {short}"
            rule = rule_for(label)
            if vals and rule is not None:
                attrs.set(label, text(rule.tag, str(vals[0].value)))


def insert_object(
    ctx: Context,
    object_type: int,
    client: Sequence[Attr],
    obj: Item | None,
    *,
    generated: bool,
    op: Operation,
    owner: str | None = None,
) -> ManagedObject:
    """Store a new object and set the ID Placeholder to it. ``owner``: the identity it belongs
    to (default: the caller; Re-key passes the replaced key's owner, so that an administrator's
    Re-key does not take the replacement away from the client that owns the key)."""
    uid = ctx.services.new_uid()
    attrs = server_attributes(ctx, uid, object_type, obj, client, generated=generated)
    state = State.PRE_ACTIVE
    if has_state(object_type):
        # SPEC-1.4 §3.22 transition 1: an Activation Date in the past makes the object Active
        from profiles.operations.base import effective_state

        state = State(effective_state(State.PRE_ACTIVE, attrs, ctx.now))
        attrs.set("State", enum(Tag.STATE, state))
    rec = ObjectRecord(
        uid=uid,
        object_type=int(object_type),
        owner=ctx.identity if owner is None else owner,
        state=int(state),
        created=ctx.now,
        archived=False,
        attributes=attrs.to_bytes(),
        material=None if obj is None else encode(obj),
        index=index_rows(attrs),
    )
    ctx.store.insert(rec)
    ctx.touched.append(uid)
    ctx.set_placeholder(uid, op)
    return ManagedObject(rec, attrs)
