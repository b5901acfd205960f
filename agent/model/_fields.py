"""Field declaration helpers shared by the model modules.

A model class is a frozen dataclass whose fields are named after the snake_case spec
name of their tag (``unique_identifier`` -> Tag.UNIQUE_IDENTIFIER). The helpers below only
attach metadata for the few fields that need more than that: a tag override, or one of
the version-dependent attribute shapes of KMIP 1.x / 2.x (spec 2.1 section 5, digest 2.6).
"""

from __future__ import annotations

from dataclasses import MISSING, field
from typing import Any, Final

from agent.spec import Tag, Version

REQUIRED: Final = MISSING

#: the attributes are written as Attribute items directly in the parent (1.x Locate, ...)
BARE: Final = "bare"


def required_tagged(tag: Tag) -> Any:
    """A required field whose tag is not the one its name gives (``batch_items`` -> Batch Item)."""
    return field(metadata={"tag": tag})


def attributes(v1: Tag | str | None, v2: Tag | str | None, *, default: Any = None) -> Any:
    """Attributes carried by the version's carrier.

    ``v1``/``v2``: the wrapper tag (1.x Template-Attribute family or 2.x Attributes family,
    New Attribute, Current Attribute), ``BARE`` for Attribute items placed directly in the
    parent, or None when the field does not exist in that major version.
    """
    if default is MISSING:
        return field(metadata={"attributes": (v1, v2)})
    return field(default=default, metadata={"attributes": (v1, v2)})


def carrier(v1: Tag | str | None, v2: Tag | str | None) -> dict[str, Any]:
    """Field metadata for a single attribute carried by ``v1``/``v2`` (see :func:`attributes`);
    use as ``field(metadata=carrier(...))``."""
    return {"attributes": (v1, v2)}


def since(version: Version, *, default: Any = None) -> Any:
    """A field a structure gained in a later version, though its tag is older (e.g. Digest's Key
    Format Type, added in KMIP 1.1): not written to, and refused from, an older peer."""
    return field(default=default, metadata={"since": version})


def local_metadata() -> dict[str, Any]:
    """Field metadata of a field that is never on the wire (not encoded, not decoded); use as
    ``field(default=None, compare=False, repr=False, metadata=local_metadata())``."""
    return {"local": True}


def attribute_names(v1: bool = True, v2: bool = True, *, default: Any = None) -> Any:
    """Attribute names: 1.x Attribute Name (Text String) / 2.x Attribute Reference."""
    if default is MISSING:
        return field(metadata={"attribute_names": (v1, v2)})
    return field(default=default, metadata={"attribute_names": (v1, v2)})


def template_names() -> Any:
    """1.x Template-Attribute Name* items (references to Template objects, spec 1.4 2.1.8).

    Filled by the Template-Attribute codec of the ``attributes`` field; not a wire field on
    its own.
    """
    return field(default=(), metadata={"companion": True})
