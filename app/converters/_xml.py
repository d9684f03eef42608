"""Safe, fast XML reading for the XML converters (WSXF, ATML).

Result files come from testers we do not control, so a file must never be able to expand
entities (billion laughs) or reach out to external entities (XXE). Entities can only be
declared in a document type declaration, so we refuse any file with a DOCTYPE. The check runs
pyexpat over the prolog only (it stops at the first element), then the fast C ElementTree
parser builds the tree: the guard costs microseconds, not a second pass over the file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.parsers import expat

from app.converters.base import ConversionError, ConverterSource


class _PrologDone(Exception):
    """Raised from the first start-element handler: the prolog was read without a DOCTYPE."""


class _DoctypeFound(Exception):
    pass


def _refuse_doctype(data: bytes | str) -> None:
    parser = expat.ParserCreate()

    def on_doctype(*_args: object) -> None:
        raise _DoctypeFound

    def on_first_element(*_args: object) -> None:
        raise _PrologDone

    parser.StartDoctypeDeclHandler = on_doctype
    parser.EntityDeclHandler = on_doctype
    parser.StartElementHandler = on_first_element
    try:
        parser.Parse(data, True)
    except _PrologDone:
        return
    except _DoctypeFound:
        raise ConversionError(
            "the XML file has a document type declaration (DOCTYPE); result files with "
            "DTDs or entities are refused for safety"
        ) from None
    except (expat.ExpatError, LookupError, ValueError):
        # Malformed prolog or unknown encoding: the full parse below reports it.
        return


def read_xml(source: ConverterSource) -> ET.Element:
    """The root element of a source file.

    The XML declaration names the file's encoding; a non-UTF-8 `encoding` parameter overrides
    it, for testers that write their code page but declare (or omit) something else.
    """
    configured = (source.parameters.encoding or "utf-8").lower().replace("_", "-")
    if configured in ("utf-8", "utf8", "utf-8-sig"):
        return parse_xml(source.read_bytes())
    return parse_xml(source.read_text())


def parse_xml(data: bytes | str) -> ET.Element:
    """The root element of `data`, or ConversionError with the line of the first XML error.

    Text (already decoded) is parsed as it is, whatever its XML declaration says.
    """
    if not data.strip():
        raise ConversionError("the file is empty")
    _refuse_doctype(data)
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        reason = str(exc).split(":", 1)[0] if str(exc) else "not well-formed"
        raise ConversionError(f"not valid XML: {reason}", line=line) from None
    except (LookupError, ValueError) as exc:
        # An unknown encoding in the XML declaration, for instance.
        raise ConversionError(f"not valid XML: {exc}") from None


_LOCAL_NAMES: dict[object, str] = {}
_LOCAL_NAMES_MAX = 4096  # a file has a few dozen distinct tags; random input must not grow it


def local_name(tag: str | object) -> str:
    """The tag without its `{namespace}` part (comments and PIs have non-string tags).

    Memoised: the XML converters ask this for every element of files with 10,000 steps.
    """
    found = _LOCAL_NAMES.get(tag)
    if found is not None:
        return found
    if not isinstance(tag, str):
        name = ""
    else:
        name = tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag
    if len(_LOCAL_NAMES) < _LOCAL_NAMES_MAX:
        _LOCAL_NAMES[tag] = name
    return name


def namespace_of(tag: str | object) -> str:
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""


def children(element: ET.Element, name: str) -> list[ET.Element]:
    """Direct children with local name `name`, whatever their namespace."""
    return [child for child in element if local_name(child.tag) == name]


def child(element: ET.Element, name: str) -> ET.Element | None:
    for item in element:
        if local_name(item.tag) == name:
            return item
    return None


def text_of(element: ET.Element | None) -> str | None:
    """The element's text stripped of surrounding whitespace, None when absent or empty."""
    if element is None or element.text is None:
        return None
    text = element.text.strip()
    return text or None
