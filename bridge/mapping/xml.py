"""The one way the bridge parses XML: hardened, no DTD, no entities, no network, bounded."""

from __future__ import annotations

from typing import Any

from lxml import etree

from bridge.domain.errors import HostileDocument, InvalidInput

# resolve_entities=False keeps entity references unexpanded; we refuse any DOCTYPE anyway.
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)
MAX_DEPTH = 64


def refuse_doctype(data: bytes) -> None:
    """Refuse a DTD before the parser sees it (entity bombs, external entities, SSRF)."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise HostileDocument("document type declarations and entities are not accepted")


# True when the root has a descendant MAX_DEPTH levels below it; evaluated in C by libxml2.
_TOO_DEEP = etree.XPath("boolean(" + "/".join(["*"] * MAX_DEPTH) + ")")


def parse(data: bytes) -> Any:
    """Bytes -> lxml root element, or `InvalidInput` / `HostileDocument` saying why not."""
    refuse_doctype(data)
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(f"not well-formed XML: {exc.msg}") from None
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # e.g. a UTF-16 document
        raise HostileDocument("document type declarations and entities are not accepted")
    # A document with fewer elements than the limit cannot be that deep; skip the walk then.
    if data.count(b"<") > 2 * MAX_DEPTH and _TOO_DEEP(root):
        raise HostileDocument(f"the document nests elements deeper than {MAX_DEPTH} levels")
    return root
