"""The one way the bridge parses XML: hardened, no DTD, no entities, no network, bounded.

The limits (`XmlLimits`) hold before a document is built whole. A document that may hold more
elements than the limit is fed to a pull parser a chunk at a time and its start/end events
counted: one of a million tiny elements is refused after `max_elements` of them (plus at most a
chunk's worth), a deep one at the first element below `max_depth`. Counting parsed events, not
bytes, holds in any encoding libxml2 reads (UTF-16, or UTF-7, where a ``<`` need not be a byte
0x3C).

Every other document is parsed in one call to libxml2 and its depth checked on the tree, twice
as fast as counting events, whose Python objects cost more than the parse (10 against 19 us for
a transfer, 4 against 9 ms for a payroll batch of 1,000 records). A document cannot exceed the
element limit when it is too short to (an element takes at least 4 bytes, ``<a/>``, in any
encoding), or when libxml2 reads it as UTF-8 or ASCII and it holds no more bytes "/" than the
limit: every element ends with one, in ``</a>`` or ``<a/>`` (`_few_elements`). Which encoding
libxml2 reads is decided from the first bytes, as libxml2 decides it; should it still report
another, the elements of the tree are counted before it is returned.

Every message of every contract fits the default limits with room to spare: the largest, a
payroll batch of 1,000 records, is 13,004 elements, 5 deep; a SOAP envelope adds 2 and 2. A
door can pass stricter limits from its settings (`xml_max_elements`, `xml_max_depth`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
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
# A parser per thread: lxml guards each parser with a lock and parses without the GIL, so one
# parser shared by a worker's threads made them queue behind whichever held it while waiting
# for the GIL (bench/banking.py's profile under eight concurrent requests).
_PARSERS = threading.local()
MAX_ELEMENTS = 20_000
MAX_DEPTH = 64
# The fewest bytes an element takes ("<a/>") and a level of nesting ("<a></a>"), in any encoding.
_ELEMENT_BYTES = 4
_LEVEL_BYTES = 7
_ASCII_SUPERSETS = frozenset({"UTF-8", "US-ASCII", "ASCII"})
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
    if len(data) > _ELEMENT_BYTES * limits.max_elements and not _few_elements(data, limits):
        root = _parse_counting(data, limits)
        _refuse_dtd(root.getroottree().docinfo)
        return root
    return _parse_short(data, limits)


def _refuse_dtd(docinfo: Any) -> None:
    if docinfo.doctype or docinfo.internalDTD is not None:  # e.g. a UTF-16 document
        raise HostileDocument("document type declarations and entities are not accepted")


def _parse_short(data: bytes, limits: XmlLimits) -> Any:
    """A document that cannot exceed the element limit: one call to libxml2, then the depth."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError:
        # Read again counting, so that a limit passed before the error is the reason given
        # (libxml2 gives up at 256 levels with a syntax error of its own).
        root = _parse_counting(data, limits)
        _refuse_dtd(root.getroottree().docinfo)
        return root
    docinfo: Any = root.getroottree().docinfo
    deep_enough = len(data) >= _LEVEL_BYTES * limits.max_depth
    long_enough = len(data) > _ELEMENT_BYTES * limits.max_elements
    if deep_enough or long_enough:
        ascii_superset = (docinfo.encoding or "").upper() in _ASCII_SUPERSETS
        may_be_deeper = deep_enough and _may_be_deeper(data, ascii_superset, limits.max_depth)
        if may_be_deeper and _deeper_than(limits.max_depth)(root):
            raise _too_deep(limits)
        # `_few_elements` reads the first bytes as libxml2 does, so a long document here is
        # UTF-8; were it not, the limit would still hold, counted on the tree.
        if long_enough and not ascii_superset and _count_elements(root) > limits.max_elements:
            raise _too_many(limits)
    _refuse_dtd(docinfo)
    return root


def _parser() -> Any:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(**_HARDENED)
    return parser


def _may_be_deeper(data: bytes, ascii_superset: bool, max_depth: int) -> bool:
    """False when `data` is too short to nest deeper than `max_depth` (the XPath walk costs more
    than the parse): each level takes two "<", and where libxml2 reports UTF-8 or ASCII (a UTF-16
    document without a declaration included) each "<" is a byte 0x3C."""
    return not ascii_superset or data.count(b"<") > 2 * max_depth


# The XML declaration up to its encoding, if it names one.
_DECLARATION = re.compile(
    rb"<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:\"[^\"]*\"|'[^']*')"
    rb"(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:\"([^\"]*)\"|'([^']*)'))?"
)
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF8_NAMES = frozenset({b"UTF-8", b"US-ASCII", b"ASCII"})


def _few_elements(data: bytes, limits: XmlLimits) -> bool:
    """True when `data` cannot hold more than `limits.max_elements` elements: libxml2 reads it
    as UTF-8 (or ASCII), where a "/" is the byte 0x2F and no other, and every element ends with
    a "/" (``</a>``, ``<a/>``) of its own."""
    return _read_as_utf8(data) and data.count(b"/") <= limits.max_elements


def _read_as_utf8(data: bytes) -> bool:
    """True when libxml2 reads `data` as UTF-8: what it decides from the first bytes (a UTF-8
    byte order mark, or none; then ``<`` not followed by a NUL, as in UTF-16 or UCS-4), and
    from the XML declaration (none, or one naming no encoding, UTF-8 or ASCII). False for
    anything else, such as a declaration this does not read, or leading whitespace."""
    start = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    if data[start : start + 1] != b"<" or data[start + 1 : start + 2] in (b"\x00", b""):
        return False
    if data[start + 1 : start + 2] != b"?":
        return True  # no declaration: UTF-8
    declaration = _DECLARATION.match(data, start)
    if declaration is None:
        return False
    double, single = declaration.groups()
    encoding = double if double is not None else single
    return encoding is None or encoding.upper() in _UTF8_NAMES


def _parse_counting(data: bytes, limits: XmlLimits) -> Any:
    """A document fed a chunk at a time, refused at the first event past a limit."""
    # A parser per call: a pull parser keeps the state of its document.
    parser = etree.XMLPullParser(events=_EVENTS, **_HARDENED)
    counter = _Counter(limits)
    try:
        for start in range(0, len(data), CHUNK):
            parser.feed(data[start : start + CHUNK])
            counter.count(parser.read_events())
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        # The events before the error still count: past a limit, that is the refusal.
        counter.count(parser.read_events())
        raise InvalidInput(f"not well-formed XML: {exc.msg}") from None
    counter.count(parser.read_events())
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
                raise _too_deep(self.limits)
            if elements > max_elements:
                raise _too_many(self.limits)
        self.elements, self.depth = elements, depth


def _too_many(limits: XmlLimits) -> HostileDocument:
    return HostileDocument(f"the document has more than {limits.max_elements} elements, the limit")


def _count_elements(root: Any) -> int:
    count: Any = _COUNT_ELEMENTS(root)  # an XPath number: a float
    return int(count)


_COUNT_ELEMENTS = etree.XPath("count(//*)")


def _too_deep(limits: XmlLimits) -> HostileDocument:
    return HostileDocument(f"the document nests elements deeper than {limits.max_depth} levels")


@cache
def _deeper_than(max_depth: int) -> Any:
    """True when the root has a descendant `max_depth` levels below it; evaluated by libxml2."""
    return etree.XPath("boolean(" + "/".join(["*"] * max_depth) + ")")
