"""The one XML parser refuses hostile documents before anything is expanded or fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.domain.errors import HostileDocument, InvalidInput
from bridge.mapping import xml

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
