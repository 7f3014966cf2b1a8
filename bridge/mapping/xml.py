"""The one way the bridge parses XML: hardened, no DTD, no entities, no network, bounded.

Limits hold while libxml2 reads, not on the finished tree: the bytes are fed to a pull parser a
chunk at a time and its start/end events counted, so a document of a million tiny elements is
refused after `XmlLimits.max_elements` of them (plus at most one chunk's worth), never built
whole, and a deep one at the first element below `max_depth`. Counting events, not bytes, holds
for any encoding libxml2 accepts (UTF-16, or a declared one where ``<`` is not the byte 0x3C).

Every message of every contract fits the default limits with room to spare: the largest, a
payroll batch of 1,000 records, is 13,004 elements, 5 deep; a SOAP envelope adds 2 and 2. A
door can pass stricter limits from its settings (`xml_max_elements`, `xml_max_depth`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from lxml import etree

from bridge.domain.errors import HostileDocument, InvalidInput

# resolve_entities=False keeps entity references unexpanded; we refuse any DOCTYPE anyway.
# huge_tree=False keeps libxml2's own caps (256 levels, 10 MB text nodes) behind ours.
_HARDENED: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    "collect_ids": False,
}
MAX_ELEMENTS = 20_000
MAX_DEPTH = 64
# Bytes fed between two looks at the events: what a refused document can build past a limit.
CHUNK = 65_536
_EVENTS: tuple[Literal["start"], Literal["end"]] = ("start", "end")


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """How much of a document the parser builds before it refuses the rest."""

    max_elements: int = MAX_ELEMENTS
    max_depth: int = MAX_DEPTH  # the root element is at depth 1


LIMITS = XmlLimits()


def refuse_doctype(data: bytes) -> None:
    """Refuse a DTD before the parser sees it (entity bombs, external entities, SSRF)."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise HostileDocument("document type declarations and entities are not accepted")


def parse(data: bytes, limits: XmlLimits = LIMITS) -> Any:
    """Bytes -> lxml root element, or `InvalidInput` / `HostileDocument` saying why not."""
    refuse_doctype(data)
    # A parser per call: lxml parsers keep state and are not shared between threads.
    parser = etree.XMLPullParser(events=_EVENTS, **_HARDENED)
    counter = _Counter(limits)
    try:
        for start in range(0, len(data), CHUNK):
            parser.feed(data[start : start + CHUNK])
            counter.count(parser.read_events())
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        # The events before the error still count: past a limit, that is the refusal
        # (libxml2 stops at 256 levels on its own, inside the chunk that goes deeper).
        counter.count(parser.read_events())
        raise InvalidInput(f"not well-formed XML: {exc.msg}") from None
    counter.count(parser.read_events())
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # e.g. a UTF-16 document
        raise HostileDocument("document type declarations and entities are not accepted")
    return root


class _Counter:
    """Elements seen and the current depth, from the parser's events, against the limits."""

    __slots__ = ("depth", "elements", "limits")

    def __init__(self, limits: XmlLimits) -> None:
        self.limits = limits
        self.elements = 0
        self.depth = 0

    def count(self, events: Iterable[tuple[str, Any]]) -> None:
        max_elements, max_depth = self.limits.max_elements, self.limits.max_depth
        elements, depth = self.elements, self.depth
        for event, _ in events:
            if event == "end":
                depth -= 1
                continue
            elements += 1
            depth += 1
            if depth > max_depth:
                raise HostileDocument(f"the document nests elements deeper than {max_depth} levels")
            if elements > max_elements:
                raise HostileDocument(
                    f"the document has more than {max_elements} elements, the limit"
                )
        self.elements, self.depth = elements, depth
