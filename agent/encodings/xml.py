"""The KMIP XML encoding: Item trees to and from the XML of the XML profile and the OASIS files.

One element per item (ENC §6.1.6; digest section 3.5). The specific form names the element
after the tag (``<UniqueIdentifier type="TextString" value="..."/>``); the generic form
``<TTLV tag="0x540001" type="TextString" value="..."/>`` carries tags the registry does not
know (extensions). Structures are nested elements without ``type=`` (``type="Structure"`` is
accepted); every other item has ``type=`` and ``value=``. A ``tag=`` attribute, where present,
wins over the element name. The namespace ``urn:oasis:tc:kmip:xmlns`` is optional.

Value forms are those of :mod:`agent.encodings._values`: enumerations by CamelCase name or hex,
usage masks as names separated by spaces (``|`` accepted), byte strings and big integers as
hex, date-times ISO 8601 (written in UTC as ``+00:00``), intervals in seconds.

Documents: :func:`loads` returns every message of a ``<KMIP>`` document (or the one item of a
document whose root is an item). :func:`load_test_case` reads an OASIS test-case file, keeps
placeholders as :class:`~agent.encodings.symbols.Symbol` and tolerates the two documented
defects of the OASIS originals (a duplicate closing ``</KMIP>``; no ``<KMIP>`` root).

Errors: malformed input raises ValueError. DTDs and entity declarations are refused.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Final

from agent.encodings import _values as codec
from agent.encodings.symbols import Symbol
from agent.spec import ItemType, Tag
from agent.ttlv import Item

__all__ = ["dumps", "dumps_document", "load_test_case", "loads"]

MAX_DEPTH: Final = 64
"""Deepest nesting of structures accepted (KMIP messages nest about 10 deep)."""

_DTD_RE: Final = re.compile(r"<!(?:DOCTYPE|ENTITY)")
_DOCUMENT_ELEMENT: Final = "KMIP"
_GENERIC: Final = "TTLV"


def _local(name: str) -> str:
    """Element or attribute name without its namespace (``{urn:oasis:tc:kmip:xmlns}X`` -> ``X``)."""
    return name.rsplit("}", 1)[-1]


def _attrs(element: ET.Element) -> dict[str, str]:
    return {_local(key): value for key, value in element.attrib.items()}


def _element_tag(element: ET.Element, attrs: dict[str, str]) -> int:
    if "tag" in attrs:
        return codec.tag_from_text(attrs["tag"].strip())
    name = _local(element.tag)
    if name == _GENERIC:
        raise ValueError("<TTLV> element without a tag= attribute")
    return codec.tag_from_text(name)


def _element_type(element: ET.Element, attrs: dict[str, str]) -> ItemType:
    if "type" in attrs:
        return codec.type_from_name(attrs["type"].strip())
    if "value" not in attrs:
        return ItemType.STRUCTURE  # ENC §6.1.6: a missing type means Structure
    raise ValueError(f"<{_local(element.tag)}> has a value= but no type=")


def _item(element: ET.Element, attribute_name: str | None, symbols: bool, depth: int) -> Item:
    if depth > MAX_DEPTH:
        raise ValueError(f"structures nested deeper than {MAX_DEPTH}")
    attrs = _attrs(element)
    tag = _element_tag(element, attrs)
    item_type = _element_type(element, attrs)
    if element.text is not None and element.text.strip():
        raise ValueError(f"<{_local(element.tag)}> has text content; values go in value=")
    if item_type == ItemType.STRUCTURE:
        if "value" in attrs:
            raise ValueError(f"<{_local(element.tag)}> is a Structure with a value=")
        children = list(element)
        name = _attribute_name(children, symbols)
        return Item(tag, item_type, tuple(_item(child, name, symbols, depth + 1) for child in children))
    if len(element):
        raise ValueError(f"<{_local(element.tag)}> of type {attrs['type']} has child elements")
    if "value" not in attrs:
        if item_type not in (ItemType.TEXT_STRING, ItemType.BYTE_STRING):
            raise ValueError(f"<{_local(element.tag)}> has no value=")
        text = ""  # an empty string may be written without value=
    else:
        text = attrs["value"]
    vtag = codec.value_tag(tag, attribute_name)
    return Item(tag, item_type, codec.value_from_text(item_type, vtag, text, symbols))


def _attribute_name(children: list[ET.Element], symbols: bool) -> str | None:
    """The Attribute Name text among sibling elements (it decides the Attribute Value names).

    The same choice as the writer's: the first Attribute Name whose value is a text (not a
    placeholder symbol).
    """
    for child in children:
        attrs = _attrs(child)
        try:
            tag = _element_tag(child, attrs)
        except ValueError:
            continue  # reported when the child itself is read
        text = attrs.get("value", "")
        if tag == Tag.ATTRIBUTE_NAME and attrs.get("type") == "TextString":
            if symbols and Symbol.parse(text) is not None:
                continue
            return text
    return None


def _is_item_element(element: ET.Element) -> bool:
    attrs = _attrs(element)
    if "tag" in attrs or "type" in attrs or "value" in attrs:
        return True
    try:
        codec.tag_from_text(_local(element.tag))
    except ValueError:
        return False
    return True


def _parse(text: str) -> ET.Element:
    if _DTD_RE.search(text):
        raise ValueError("XML with a DTD or entity declarations is not accepted")
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"malformed XML: {exc}") from None


def loads(text: str, *, symbols: bool = False) -> list[Item]:
    """Every message (or item) of an XML document, in order.

    A document whose root is a KMIP item (``<RequestMessage>``, ``<TTLV tag=...>``) gives a
    list of that one item; any other root (``<KMIP>``) gives its child elements. With
    ``symbols=True`` values such as ``$NOW-3600`` become :class:`Symbol` (test-case files);
    otherwise they are ordinary values of their type (and invalid for a date-time).
    """
    root = _parse(text)
    elements = [root] if _is_item_element(root) else list(root)
    try:
        return [_item(element, None, symbols, 1) for element in elements]
    except RecursionError:
        raise ValueError("XML nested too deeply") from None


_DEFECT_RE: Final = re.compile(r"<\?xml[^>]*\?>|</?KMIP\s*>")


def load_test_case(path: str | os.PathLike[str]) -> list[Item]:
    """The Request/Response Messages of an OASIS KMIP test-case file, placeholders as symbols.

    Tolerates the two defects documented for the OASIS originals (SOURCES.md): a duplicate
    closing ``</KMIP>`` (TC-ECDSA-SIGN-1-14) and a missing ``<KMIP>`` root. The file itself is
    never changed; only the text read is repaired when the strict parse fails.
    """
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        return loads(text, symbols=True)
    except ValueError as first:
        repaired = f"<{_DOCUMENT_ELEMENT}>{_DEFECT_RE.sub('', text)}</{_DOCUMENT_ELEMENT}>"
        try:
            return loads(repaired, symbols=True)
        except ValueError:
            raise first from None


# ---------------------------------------------------------------------------------------------
# writing

_XML_CHAR_RE: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES: Final = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
)


def _quote(text: str) -> str:
    bad = _XML_CHAR_RE.search(text)
    if bad:
        raise ValueError(f"character U+{ord(bad.group()):04X} cannot be written in XML 1.0")
    # Tabs and line breaks as character references: a parser would normalise them to spaces.
    return text.translate(_ESCAPES)


def _write(item: Item, attribute_name: str | None, out: list[str], indent: str | None, level: int) -> None:
    if level > MAX_DEPTH:
        raise ValueError(f"structures nested deeper than {MAX_DEPTH}")
    pad = indent * level if indent is not None else ""
    name = codec.tag_name(item.tag)
    if name is None:
        element, head = _GENERIC, f'{_GENERIC} tag="{codec.tag_hex(item.tag)}"'
    else:
        codec.tag_hex(item.tag)
        element, head = name, name
    item_type = ItemType(item.type)
    if item_type == ItemType.STRUCTURE:
        if not isinstance(item.value, tuple):
            raise TypeError(f"{type(item.value).__name__} value for a Structure item")
        if not item.value:
            out.append(f"{pad}<{head}/>")
            return
        out.append(f"{pad}<{head}>")
        context = codec.attribute_name_of(item.value)
        for child in item.value:
            _write(child, context, out, indent, level + 1)
        out.append(f"{pad}</{element}>")
        return
    text = codec.value_to_text(item_type, codec.value_tag(item.tag, attribute_name), item.value)
    out.append(f'{pad}<{head} type="{codec.TYPE_NAME[item_type]}" value="{_quote(text)}"/>')


def dumps(item: Item, *, indent: int | None = 2) -> str:
    """One item (a message or any item) as an XML element; ``indent=None`` writes one line."""
    out: list[str] = []
    _write(item, None, out, " " * indent if indent is not None else None, 0)
    return ("\n" if indent is not None else "").join(out)


def dumps_document(items: Iterable[Item], *, indent: int | None = 2) -> str:
    """Several items (a test case's messages) inside a ``<KMIP>`` document element."""
    sep = "\n" if indent is not None else ""
    pad = " " * indent if indent is not None else None
    out: list[str] = [f"<{_DOCUMENT_ELEMENT}>"]
    for item in items:
        _write(item, None, out, pad, 1)
    out.append(f"</{_DOCUMENT_ELEMENT}>")
    return sep.join(out)
