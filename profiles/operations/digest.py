"""The Digest attribute, kept out of the database in clear (SPEC-1.4 §3.17; SPEC-2.1 §4.22).

The server SHALL set a SHA-256 Digest of the key material (the Key Material Byte String, or the
TTLV of a Key Material structure), the Certificate Value or the Opaque Data Value when the
object is created or registered. An unsalted hash of a password (Secret Data of the SA-SED
profile) in the attributes blob or the Locate index would let whoever copies the database run
an offline dictionary attack without the KEK. So the Digest Value never reaches the database
unwrapped:

* the stored attributes keep each Digest instance in its place without its Digest Value
  (Hashing Algorithm and Key Format Type only): :func:`stored_attributes`, used for every write
  (``insert_object``, ``Context.save``), so the Locate index has no Digest Value row either;
* the value is computed again from the unwrapped material when it is reported
  (:func:`with_digest_values`: Get Attributes, Locate by Digest). Material is never changed after
  Create / Register, so the value is the one computed at creation ("the digest(s) are static");
* Destroy drops the material but keeps the Digest Value (Get Attributes of a destroyed object
  still reports it, SKLC-O-1): the stored ``material`` becomes a Digest structure alone
  (:func:`remnant`), which the store wraps with the KEK like any key material; it is not a
  managed object (:func:`is_remnant`; Get still answers Object Destroyed).

A Digest Value stored in clear by an earlier version is ignored (recomputed, and dropped from the
attributes blob at the object's next write); a destroyed object of an earlier version has no
material to recompute it from and reports its Digest without Digest Value (Table 88: REQUIRED
only if the server has access to the Key Material).
"""

from __future__ import annotations

import hashlib

from agent.spec import HashingAlgorithm, ItemType, KeyFormatType, ObjectType, Tag
from agent.ttlv import Item, decode, encode
from profiles.attrs import Attr, AttrSet

NAME = "Digest"


def _child(item: Item | None, tag: int) -> Item | None:
    if item is None or item.type != ItemType.STRUCTURE:
        return None
    return next((c for c in item.value if c.tag == tag), None)


def digest_of(object_type: int, obj: Item) -> Item | None:
    """The Digest attribute of an object's value: SHA-256 over the key material (its bytes, or
    its TTLV encoding for transparent structures), the opaque data or the certificate
    (SPEC-1.4 §3.17)."""
    return _digest(object_type, obj, hashed=True)


def stored_digest_of(object_type: int, obj: Item) -> Item | None:
    """``without_value(digest_of(object_type, obj))``, without hashing the value only to drop
    the hash (a new object's stored Digest)."""
    return _digest(object_type, obj, hashed=False)


def _digest(object_type: int, obj: Item, *, hashed: bool) -> Item | None:
    data: bytes | None = None
    kft: int | None = None
    block = _child(obj, Tag.KEY_BLOCK)
    if block is not None:
        fmt = _child(block, Tag.KEY_FORMAT_TYPE)
        kft = None if fmt is None else int(fmt.value)
        kv = _child(block, Tag.KEY_VALUE)
        mat = kv if kv is None or kv.type == ItemType.BYTE_STRING else _child(kv, Tag.KEY_MATERIAL)
        if mat is not None:
            if not hashed:
                data = b""  # present; its hash is not wanted
            else:
                data = bytes(mat.value) if mat.type == ItemType.BYTE_STRING else encode(mat)
    elif object_type == ObjectType.OPAQUE_OBJECT:
        v = _child(obj, Tag.OPAQUE_DATA_VALUE)
        data = None if v is None else bytes(v.value)
    elif object_type == ObjectType.CERTIFICATE:
        v = _child(obj, Tag.CERTIFICATE_VALUE)
        data = None if v is None else bytes(v.value)
        kft = KeyFormatType.RAW  # the DER value as given (TC-CERTATTR-1-14 shows Raw)
    if data is None:
        return None
    fields = [Item(Tag.HASHING_ALGORITHM, ItemType.ENUMERATION, int(HashingAlgorithm.SHA_256))]
    if hashed:
        fields.append(Item(Tag.DIGEST_VALUE, ItemType.BYTE_STRING, hashlib.sha256(data).digest()))
    if kft is not None:
        fields.append(Item(Tag.KEY_FORMAT_TYPE, ItemType.ENUMERATION, int(kft)))
    return Item(Tag.DIGEST, ItemType.STRUCTURE, tuple(fields))


def without_value(digest: Item) -> Item:
    """The stored form of a Digest: its fields but the Digest Value."""
    if digest.type != ItemType.STRUCTURE:
        return digest
    return Item(digest.tag, digest.type, tuple(c for c in digest.value if c.tag != Tag.DIGEST_VALUE))


def _has_value(a: Attr) -> bool:
    return a.name == NAME and _child(a.value, Tag.DIGEST_VALUE) is not None


def holds_digest_value(attrs: AttrSet) -> bool:
    """Whether a Digest of ``attrs`` carries its Digest Value (stored_attributes drops it);
    only the Digest instances of a blob not decoded yet are decoded."""
    return any(_has_value(a) for a in attrs.instances(NAME))


def stored_attributes(attrs: AttrSet) -> AttrSet:
    """``attrs`` as written to the database: every Digest without its Digest Value (the same
    set when there is none to drop)."""
    if not any(_has_value(a) for a in attrs):
        return attrs
    return AttrSet([Attr(a.name, without_value(a.value), a.index) if _has_value(a) else a for a in attrs])


def remnant(object_type: int, material: bytes | None) -> bytes | None:
    """What stays of a destroyed object's material: its Digest (wrapped by the store), or None."""
    if material is None:
        return None
    if is_remnant(material):
        return material
    digest = digest_of(object_type, decode(material))
    return None if digest is None else encode(digest)


def is_remnant(material: bytes) -> bool:
    """True for the stored material of a destroyed object (a Digest, not a managed object)."""
    return decode(material).tag == Tag.DIGEST


def _current(object_type: int, material: bytes | None) -> Item | None:
    if material is None:
        return None
    item = decode(material)
    return item if item.tag == Tag.DIGEST else digest_of(object_type, item)


def with_digest_values(object_type: int, material: bytes | None, attrs: AttrSet) -> AttrSet:
    """``attrs`` with the Digest Value of each Digest derived from the (unwrapped) material or a
    destroyed object's remnant; a value stored in the attributes is never used."""
    if not attrs.has(NAME):
        return attrs
    digest = _current(object_type, material)
    out: list[Attr] = []
    for a in attrs:
        if a.name == NAME:
            stored = without_value(a.value)
            # the one Digest the server sets (SHA-256, the object's Key Format Type)
            if digest is not None and without_value(digest) == stored:
                a = Attr(a.name, digest, a.index)
            else:
                a = Attr(a.name, stored, a.index)
        out.append(a)
    return AttrSet(out)
