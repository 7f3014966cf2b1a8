"""The realistic sample documents under tests/data/samples/<contract>/<spec>[_variant].xml: each
validates, maps, maps the same under any prefix, and comes back out schema-valid and equal."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from bridge.mapping import Mappings, xml
from bridge.mapping.schemas import contract_schema

SAMPLES = Path(__file__).parent / "data" / "samples"
ALL = Mappings.load()


def _spec_for(sample: Path) -> str:
    contract = sample.parent.name
    stem = sample.stem
    candidates = [n for n in ALL.names() if n.startswith(f"{contract}/")]
    matches = [
        n for n in candidates if stem == n.split("/")[1] or stem.startswith(n.split("/")[1] + "__")
    ]
    assert len(matches) == 1, f"{sample}: name it <spec>.xml or <spec>__<variant>.xml"
    return matches[0]


SAMPLE_FILES = sorted(SAMPLES.glob("*/*.xml"))


def _reprefixed(element: etree._Element, prefix: str | None) -> etree._Element:
    """The same document with every element of its namespace under `prefix` (None: default)."""
    namespace = etree.QName(element).namespace
    copy = etree.Element(element.tag, attrib=dict(element.attrib), nsmap={prefix: namespace})
    copy.text = element.text

    def clone(source: etree._Element, target: etree._Element) -> None:
        for child in source:
            node = etree.SubElement(target, child.tag, attrib=dict(child.attrib))
            node.text, node.tail = child.text, child.tail
            clone(child, node)

    clone(element, copy)
    return copy


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_maps_and_round_trips(sample: Path) -> None:
    mapping = ALL[_spec_for(sample)]
    schema = contract_schema(mapping.spec.contract)
    document = xml.parse(sample.read_bytes())
    schema.assertValid(document)
    message = mapping.read(document)
    produced = xml.parse(mapping.write(message))
    schema.assertValid(produced)
    assert mapping.read(produced) == message


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_maps_the_same_under_any_prefix(sample: Path) -> None:
    mapping = ALL[_spec_for(sample)]
    document = xml.parse(sample.read_bytes())
    expected = mapping.read(document)
    for prefix in ("ns0", "x", None):
        rewritten = etree.tostring(_reprefixed(document, prefix))
        assert mapping.read(xml.parse(rewritten)) == expected


def test_every_spec_has_a_sample() -> None:
    covered = {_spec_for(sample) for sample in SAMPLE_FILES}
    assert set(ALL.names()) <= covered, (
        f"specs without a sample: {sorted(set(ALL.names()) - covered)}"
    )
