"""The one XML parser refuses hostile documents before anything is expanded or fetched."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from bridge.domain.errors import HostileDocument, InvalidInput
from bridge.mapping import xml
from bridge.settings import Settings

HOSTILE = Path(__file__).parent / "data" / "hostile"


@pytest.mark.parametrize(
    "name", ["billion_laughs.xml", "external_entity.xml", "external_dtd.xml", "utf16_doctype.xml"]
)
def test_document_type_declarations_are_refused(name: str) -> None:
    with pytest.raises(HostileDocument, match="document type declarations"):
        xml.parse((HOSTILE / name).read_bytes())


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(HostileDocument, match="deeper than 64"):
        xml.parse((HOSTILE / "deep_nesting.xml").read_bytes())


def test_nesting_up_to_the_limit_is_accepted() -> None:
    depth = xml.MAX_DEPTH
    root = xml.parse(("<a>" * depth + "</a>" * depth).encode())
    assert root.tag == "a"


def test_malformed_xml_is_invalid_input_not_a_crash() -> None:
    with pytest.raises(InvalidInput, match="not well-formed XML"):
        xml.parse((HOSTILE / "truncated.xml").read_bytes())


def test_comments_and_processing_instructions_are_dropped() -> None:
    root = xml.parse(b"<a><!-- hi --><?pi x?><b>1</b></a>")
    assert [child.tag for child in root] == ["b"]


# -- limits on size, enforced while parsing --------------------------------------------------------

SMALL = xml.XmlLimits(max_elements=100, max_depth=8)
PAYROLL_BATCH = Path(__file__).parent / "data" / "bench" / "payroll_batch_1000.xml"


def _flat(elements: int) -> bytes:
    """A root holding `elements - 1` empty children: `elements` elements in all."""
    return b"<r>" + b"<a/>" * (elements - 1) + b"</r>"


def _nested(levels: int) -> bytes:
    return b"<a>" * levels + b"</a>" * levels


def test_elements_up_to_the_limit_are_accepted() -> None:
    root = xml.parse(_flat(SMALL.max_elements), SMALL)
    assert len(root) == SMALL.max_elements - 1


def test_one_element_over_the_limit_is_refused_naming_the_limit() -> None:
    with pytest.raises(HostileDocument, match="more than 100 elements"):
        xml.parse(_flat(SMALL.max_elements + 1), SMALL)


# A trailing comment full of "</" makes a document long enough to hold more elements than the
# limit, and with more "/" than the limit: it is read counting. Trailing spaces make it as long
# but it still cannot hold more elements (each ends with a "/"): read in one call.
READS = {
    "in one call": b"",
    "in one call, long": b" " * (4 * SMALL.max_elements),
    "counting": b"<!--" + b"</" * (2 * SMALL.max_elements) + b"-->",
}


@pytest.mark.parametrize("padding", READS.values(), ids=READS.keys())
def test_nesting_up_to_a_given_depth_is_accepted(padding: bytes) -> None:
    assert xml.parse(_nested(SMALL.max_depth) + padding, SMALL).tag == "a"


@pytest.mark.parametrize("padding", READS.values(), ids=READS.keys())
def test_one_level_deeper_than_a_given_depth_is_refused_naming_it(padding: bytes) -> None:
    with pytest.raises(HostileDocument, match="deeper than 8 levels"):
        xml.parse(_nested(SMALL.max_depth + 1) + padding, SMALL)


def test_deep_document_in_utf7_is_refused() -> None:
    # Its tags hold no byte 0x3C: the depth cannot be bounded by counting those.
    with pytest.raises(HostileDocument, match=f"deeper than {xml.MAX_DEPTH} levels"):
        xml.parse((HOSTILE / "utf7_deep.xml").read_bytes())


def test_element_flood_is_refused_under_the_default_limit() -> None:
    with pytest.raises(HostileDocument, match=f"more than {xml.MAX_ELEMENTS} elements"):
        xml.parse((HOSTILE / "element_flood.xml").read_bytes())


def test_deep_envelope_is_refused_under_the_default_limit() -> None:
    with pytest.raises(HostileDocument, match=f"deeper than {xml.MAX_DEPTH} levels"):
        xml.parse((HOSTILE / "deep_envelope.xml").read_bytes())


def test_flood_is_refused_before_the_parser_reads_its_end() -> None:
    # The document breaks only after several chunks: refused for its size, the parser never
    # got there. A parser that built the tree first would report the syntax error instead.
    document = _flat(3 * xml.CHUNK // 4)[: -len(b"</r>")] + b"</not-the-root>"
    assert len(document) > 2 * xml.CHUNK
    with pytest.raises(HostileDocument, match="more than 100 elements"):
        xml.parse(document, SMALL)


def test_nesting_past_libxml2s_own_cap_is_refused_for_the_limit_not_as_malformed() -> None:
    # libxml2 gives up at 256 levels with a syntax error; the levels before it still count.
    with pytest.raises(HostileDocument, match=f"deeper than {xml.MAX_DEPTH} levels"):
        xml.parse(_nested(300))


def test_limits_hold_for_a_document_in_utf16() -> None:
    # In UTF-16 a "<" is not a lone byte: the count is of parsed elements, not of bytes.
    document = ('<?xml version="1.0" encoding="UTF-16"?>' + _flat(101).decode()).encode("utf-16")
    with pytest.raises(HostileDocument, match="more than 100 elements"):
        xml.parse(document, SMALL)


def test_largest_message_of_any_contract_fits_the_default_limits() -> None:
    # A 1,000-record payroll batch (13,004 elements) in its SOAP envelope.
    batch = PAYROLL_BATCH.read_bytes().split(b"?>", 1)[1]
    envelope = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        + batch
        + b"</s:Body></s:Envelope>"
    )
    root = xml.parse(envelope)
    assert sum(1 for _ in root.iter("*")) > 13_000


def test_default_limits_are_the_settings_defaults() -> None:
    settings = Settings()
    assert xml.XmlLimits(settings.xml_max_elements, settings.xml_max_depth) == xml.LIMITS


# -- which documents are read in one call ---------------------------------------------------------


def _read_counting_only(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Makes the one-call read fail the test; returns the documents read counting."""
    counted: list[bytes] = []
    count = xml._parse_counting

    def counting(data: bytes, limits: xml.XmlLimits) -> Any:
        counted.append(data)
        return count(data, limits)

    monkeypatch.setattr(xml, "_parse_counting", counting)
    return counted


LONG_TEXT = b"<r><a>" + b"x" * (8 * SMALL.max_elements) + b"</a></r>"
ONE_CALL = {
    "no declaration": LONG_TEXT,
    "UTF-8 declared": b'<?xml version="1.0" encoding="UTF-8"?>' + LONG_TEXT,
    "no encoding declared": b"<?xml version='1.0'?>\n" + LONG_TEXT,
    "ASCII declared": b"<?xml version='1.0' encoding='us-ascii' standalone='yes'?>" + LONG_TEXT,
    "byte order mark": b"\xef\xbb\xbf" + LONG_TEXT,
}


@pytest.mark.parametrize("document", ONE_CALL.values(), ids=ONE_CALL.keys())
def test_a_long_utf8_document_of_few_elements_is_read_in_one_call(
    document: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = _read_counting_only(monkeypatch)
    assert len(document) > 4 * SMALL.max_elements
    assert xml.parse(document, SMALL)[0].text == "x" * (8 * SMALL.max_elements)
    assert counted == []


COUNTED = {
    "UTF-16": LONG_TEXT.decode().encode("utf-16"),
    "UTF-16 without byte order mark": LONG_TEXT.decode().encode("utf-16-le"),
    "UTF-16 declared, ASCII bytes": b'<?xml version="1.0" encoding="UTF-16"?>' + LONG_TEXT,
    "Latin-1 declared": b'<?xml version="1.0" encoding="ISO-8859-1"?>' + LONG_TEXT,
    "leading whitespace": b"\n" + LONG_TEXT,
    "more / than the limit": LONG_TEXT.replace(b"x", b"/"),
}


@pytest.mark.parametrize("document", COUNTED.values(), ids=COUNTED.keys())
def test_a_long_document_not_surely_utf8_or_with_many_slashes_is_read_counting(
    document: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = _read_counting_only(monkeypatch)
    with contextlib.suppress(InvalidInput):  # refused or not, it was read counting
        xml.parse(document, SMALL)
    assert counted == [document]


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf", b'<?xml version="1.0"?>'])
def test_a_utf8_element_flood_is_refused_read_counting(prefix: bytes) -> None:
    with pytest.raises(HostileDocument, match="more than 100 elements"):
        xml.parse(prefix + _flat(SMALL.max_elements + 1) + b" " * 400, SMALL)


def test_were_a_flood_read_in_one_call_its_elements_would_still_be_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(xml, "_few_elements", lambda data, limits: True)
    document = ('<?xml version="1.0" encoding="UTF-16"?>' + _flat(101).decode()).encode("utf-16")
    with pytest.raises(HostileDocument, match="more than 100 elements"):
        xml.parse(document, SMALL)
