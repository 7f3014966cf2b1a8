"""XSD -> JSON Schema (bridge/mapping/jsonschema.py): every facet, checked against lxml.

The fixture schema (tests/data/jsonschema/facets.xsd) has one of each facet; the properties
check that a value the JSON Schema accepts is one the XSD accepts, with lxml as the judge.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from lxml import etree

from bridge.domain.errors import ConfigurationError
from bridge.mapping import Mappings
from bridge.mapping.jsonschema import (
    XsdJsonSchema,
    canonical_facets,
    decimal_pattern,
    finish,
    translate_pattern,
)

FIXTURE = Path(__file__).parent / "data" / "jsonschema" / "facets.xsd"
NS = "urn:test:facets"


@pytest.fixture(scope="module")
def xsd() -> XsdJsonSchema:
    return XsdJsonSchema(etree.parse(str(FIXTURE)).getroot())


@pytest.fixture(scope="module")
def order(xsd: XsdJsonSchema) -> dict[str, Any]:
    return finish(xsd.element("Order"))


def _simple(name: str) -> etree.XMLSchema:
    """A schema of one element `V` of the fixture's simple type `name`."""
    root = etree.parse(str(FIXTURE)).getroot()
    element = etree.SubElement(root, f"{{{XS}}}element", name="V", type=f"t:{name}")
    del element
    return etree.XMLSchema(root)


XS = "http://www.w3.org/2001/XMLSchema"


def _xsd_accepts(schema: etree.XMLSchema, text: str) -> bool:
    value = etree.Element(f"{{{NS}}}V")
    value.text = text
    return bool(schema.validate(etree.ElementTree(value)))


def test_required_follows_min_occurs_and_a_base_types_fields_come_first(
    order: dict[str, Any],
) -> None:
    assert list(order["properties"])[:2] == ["Id", "Name"]
    assert "Note" not in order["required"]
    assert "Lat" not in order["required"]
    assert {"Id", "Name", "Kind", "Size", "Amt", "Acct", "Line"} <= set(order["required"])
    assert order["additionalProperties"] is False


def test_lengths_enumerations_and_integer_ranges(order: dict[str, Any]) -> None:
    props = order["properties"]
    assert props["Id"]["minLength"] == props["Id"]["maxLength"] == 4
    assert props["Kind"]["enum"] == ["MESSAGE", "INVOICE"]
    assert (props["Size"]["minimum"], props["Size"]["maximum"]) == (1, 500)


def test_nillable_is_null_and_lists_are_arrays(order: dict[str, Any]) -> None:
    props = order["properties"]
    assert {"type": "null"} in props["Name"]["anyOf"]
    assert props["Line"]["type"] == "array"
    assert (props["Line"]["minItems"], props["Line"]["maxItems"]) == (1, 5)
    assert props["Tag"]["minItems"] == 0
    assert "maxItems" not in props["Tag"]


def test_choice_is_exactly_one_of_its_branches(order: dict[str, Any]) -> None:
    account = order["properties"]["Acct"]
    assert account["oneOf"] == [{"required": ["IBAN"]}, {"required": ["Other"]}]
    validator = Draft202012Validator(account)
    assert validator.is_valid({"IBAN": "AB12"})
    assert not validator.is_valid({"IBAN": "AB12", "Other": "x"})
    assert not validator.is_valid({})


def test_simple_content_and_its_required_attribute(order: dict[str, Any]) -> None:
    amount = order["properties"]["Amt"]
    assert set(amount["properties"]) == {"#text", "@Ccy"}
    assert amount["required"] == ["#text", "@Ccy"]


def test_dates_and_date_times_carry_their_formats(order: dict[str, Any]) -> None:
    props = order["properties"]
    assert props["Day"]["format"] == "date"
    assert props["At"]["format"] == "date-time"
    assert re.search(props["At"]["pattern"], "2026-12-04T10:00:00+14:00")
    assert not re.search(props["At"]["pattern"], "2026-12-04T10:00:00+15:00")
    assert not re.search(props["At"]["pattern"], "2026-12-04T10:00:00")


def test_a_restriction_of_a_restriction_keeps_both_patterns(order: dict[str, Any]) -> None:
    tag = order["properties"]["Tag"]["items"]
    patterns = [tag["pattern"], *(part["pattern"] for part in tag["allOf"])]
    assert all(re.search(p, "1234") for p in patterns)
    assert not all(re.search(p, "AB12") for p in patterns)


@pytest.mark.parametrize(
    ("name", "texts"),
    [
        ("Amount", ["0", "0.0", "0.001", "12.50", "12.5000", "-1", "1E+2", "0.0001", "+7", ".5"]),
        ("Latitude", ["90", "90.0000001", "-90", "-90.5", "45.1234567", "45.12345678", "0"]),
        ("Code", ["AB12", "ab12", "AB1", "AB123"]),
        ("Printable", ["abc", "a b", "a\u0085", "x\u00e9"]),
    ],
)
def test_json_schema_and_xsd_agree_on_these_values(
    order: dict[str, Any], name: str, texts: list[str]
) -> None:
    schema = _simple(name)
    translated = finish(XsdJsonSchema(etree.parse(str(FIXTURE)).getroot()).type(f"t:{name}"))
    validator = Draft202012Validator(translated)
    for text in texts:
        assert validator.is_valid(text) == _xsd_accepts(schema, text), (name, text)


@given(st.from_regex(decimal_pattern(totalDigits="18", fractionDigits="3", minExclusive="0")))
def test_every_amount_the_pattern_makes_is_one_the_xsd_accepts(text: str) -> None:
    assert _xsd_accepts(_AMOUNT, text.strip())


_AMOUNT = _simple("Amount")


@pytest.mark.parametrize(
    ("xsd_pattern", "value", "matches"),
    [
        (r"[A-Z]{2}", "AB", True),
        (r"[A-Z]{2}", "xAB", False),  # implicitly anchored
        (r"\d+", "\u0663", False),  # \d is an ASCII digit for the bridge
        (r"[^@\s]+", "a\u00a0b", True),  # \s is XML whitespace, not every Unicode space
        (r"[^@\s]+", "a b", False),
        (r"a^b$", "a^b$", True),  # ^ and $ are literal in XSD
        (r"[^\p{Zl}\p{Cc}]+", "a\u2028", False),
    ],
)
def test_patterns_translate_to_anchored_ecma_262(
    xsd_pattern: str, value: str, matches: bool
) -> None:
    assert bool(re.search(translate_pattern(xsd_pattern), value)) is matches


@pytest.mark.parametrize("xsd_pattern", [r"\i\c*", r"[a-z-[aeiou]]", r"\w+"])
def test_what_has_no_exact_translation_is_refused(xsd_pattern: str) -> None:
    with pytest.raises(ConfigurationError):
        translate_pattern(xsd_pattern)


def test_a_decimal_range_without_a_pattern_form_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="no pattern"):
        decimal_pattern(minInclusive="5", maxInclusive="10")


def test_canonical_fields_get_the_facets_their_spec_path_names(mappings: Mappings) -> None:
    spec = mappings["banking/transfer_request"].spec
    facets = canonical_facets(spec, XsdJsonSchema.of_contract("banking"))

    assert facets["msg_id"]["maxLength"] == 35
    assert facets["debtor.name"]["maxLength"] == 70
    assert facets["debtor.account"]["x-one-of"] == ["iban", "other_id"]
    assert facets["debtor.account.iban"]["format"] == "iban"
    assert facets["charge_bearer"]["enum"] == ["DEBT", "CRED", "SHAR"]
    assert facets["amount.currency"]["pattern"] == "^(?:[A-Z]{3})$"
    assert facets["amount.amount"]["x-xsd-decimal"]["fractionDigits"] == "3"


def test_every_contract_translates(mappings: Mappings) -> None:
    for mapping in mappings:
        spec = mapping.spec
        assert canonical_facets(spec, XsdJsonSchema.of_contract(spec.contract)) is not None


def test_patterns_of_one_restriction_are_alternatives() -> None:
    schema = etree.fromstring(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:a" '
        'targetNamespace="urn:a"><xs:simpleType name="A"><xs:restriction base="xs:string">'
        '<xs:pattern value="[a-z]+"/><xs:pattern value="[0-9]+"/>'
        "</xs:restriction></xs:simpleType></xs:schema>"
    )
    validator = Draft202012Validator(finish(XsdJsonSchema(schema).type("t:A")))

    assert validator.is_valid("abc")
    assert validator.is_valid("123")
    assert not validator.is_valid("abc123")
