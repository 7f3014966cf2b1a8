"""Sample messages (bridge.mapping.samples): valid for every element of every fixture schema
and contract, the same for a seed, and described by the codec's JSON Schema."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from bridge.domain.errors import ConfigurationError
from bridge.mapping.generic import compile_codec
from bridge.mapping.samples import sample, sample_text
from bridge.mapping.xsdtree import Facets, SchemaSet, SimpleType
from tests.common.xsd import every_fixture_element, fixture_schema

ELEMENTS = every_fixture_element()
SEEDS = range(12)


@pytest.mark.parametrize(("schemas", "clark"), ELEMENTS, ids=[clark for _, clark in ELEMENTS])
def test_samples_are_valid_and_their_json_fits_the_json_schema(
    schemas: SchemaSet, clark: str
) -> None:
    root = schemas.element(clark)
    codec = compile_codec(root, wrapped=False, validator=schemas.validator)
    validator = Draft202012Validator(codec.json_schema())
    for seed in SEEDS:
        element = sample(root, seed)
        assert schemas.validator.violation(element) is None, etree.tostring(element)
        assert list(validator.iter_errors(codec.read(element))) == []


def test_a_sample_is_the_same_for_a_seed_and_differs_between_seeds() -> None:
    root = fixture_schema("constructs").element("{urn:test:constructs}Order")
    first = [etree.tostring(sample(root, seed), method="c14n") for seed in SEEDS]
    again = [etree.tostring(sample(root, seed), method="c14n") for seed in SEEDS]
    assert first == again
    assert len(set(first)) == len(first)


def test_patterns_and_lengths_hold_together() -> None:
    label = fixture_schema("constructs").type("{urn:test:constructs}Label")
    assert isinstance(label, SimpleType)
    for seed in SEEDS:
        text = sample_text(label, seed)
        assert 1 <= len(text) <= 35
        assert all(c == " " or c.isalpha() for c in text)


def test_decimal_ranges_and_digits_hold() -> None:
    rate = SimpleType(
        None,
        "decimal",
        Facets(total_digits=4, fraction_digits=3, min_exclusive="0", max_inclusive="1"),
    )
    for seed in SEEDS:
        text = sample_text(rate, seed)
        integer, _, fraction = text.partition(".")
        assert 0 < float(text) <= 1
        assert len(fraction) == 3
        assert len((integer + fraction).lstrip("0")) <= 4


def test_name_and_word_escapes_are_drawn_from_ascii_classes_they_contain() -> None:
    names = SimpleType(None, "string", Facets(patterns=("\\i\\c*\\W\\w+",)))
    for seed in SEEDS:
        text = sample_text(names, seed)
        assert re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9._\-]*[ !,][a-zA-Z0-9]+", text), text


def test_a_pattern_it_cannot_honour_is_a_configuration_error() -> None:
    not_word = SimpleType(None, "string", Facets(patterns=("[^\\w]",)))
    with pytest.raises(ConfigurationError, match="in a negated class is not generated"):
        sample_text(not_word, 1)
    impossible = SimpleType(None, "string", Facets(patterns=("[a-c]{5}",), max_length=3))
    with pytest.raises(ConfigurationError, match="no value of string found"):
        sample_text(impossible, 1)
