"""The JSON Schema of the generic form (bridge.mapping.generic_schema): every facet of the XSD,
in the names the spec gives the fields."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from bridge.mapping.generic import compile_codec
from bridge.mapping.generic_schema import scalar_schema
from bridge.mapping.xsdtree import Facets, SimpleType
from tests.common.xsd import XSD_DIR, fixture_schema

C = "{urn:test:constructs}"


@pytest.fixture(scope="module")
def order() -> dict[str, Any]:
    schemas = fixture_schema("constructs")
    return compile_codec(schemas.element(f"{C}Order"), wrapped=False).json_schema()


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = schema["properties"]
    return found


def test_the_schema_is_valid_draft_2020_12_and_accepts_the_example(order: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(order)
    example = json.loads((XSD_DIR / "order.json").read_text(encoding="utf-8"))
    assert list(Draft202012Validator(order).iter_errors(example)) == []


def test_required_and_closed_objects(order: dict[str, Any]) -> None:
    assert order["required"] == [
        "@createdAt",
        "id",
        "status",
        "buyer",
        "line",
        "discount",
        "placed",
    ]
    assert order["additionalProperties"] is False


def test_arrays_carry_their_occurrence(order: dict[str, Any]) -> None:
    properties = _properties(order)
    assert (properties["line"]["type"], properties["line"]["minItems"]) == ("array", 1)
    assert "maxItems" not in properties["line"]
    assert (properties["note"].get("minItems"), properties["note"]["maxItems"]) == (None, 2)
    assert properties["step"]["maxItems"] == 3  # in a group repeated at most 3 times


def test_nillable_is_null(order: dict[str, Any]) -> None:
    assert {"type": "null"} in _properties(order)["discount"]["anyOf"]


def test_string_facets_patterns_and_enumerations(order: dict[str, Any]) -> None:
    properties = _properties(order)
    assert properties["id"]["pattern"] == "^(?:[A-Z]{3}-[0-9]{4})$"
    assert properties["status"]["enum"] == ["NEW", "PAID", "SHIPPED"]
    name = _properties(_properties(properties["buyer"])["person"])["name"]
    assert (name["minLength"], name["maxLength"]) == (1, 35)
    assert name["pattern"].startswith("^(?:[\\u0041-\\u005a")


def test_numbers_and_decimals(order: dict[str, Any]) -> None:
    line = _properties(order)["line"]["items"]
    quantity = _properties(line)["quantity"]
    assert (quantity["type"], quantity["minimum"], quantity["maximum"]) == ("integer", 1, 999)
    price = _properties(_properties(line)["price"])["#text"]
    assert price["type"] == "string"
    validator = Draft202012Validator(price)
    assert validator.is_valid("12.50")
    assert not validator.is_valid("12.505")  # fractionDigits 2
    assert not validator.is_valid("-1")  # minInclusive 0
    assert not validator.is_valid("1e3")
    assert _properties(order)["ratio"] == {"type": "number"}


def test_an_extension_is_flattened_with_its_base_fields_first(order: dict[str, Any]) -> None:
    company = _properties(_properties(order)["buyer"])["company"]
    assert list(_properties(company)) == ["@ref", "@listed", "name", "line", "vatId"]


def test_a_choice_is_one_of_its_branches(order: dict[str, Any]) -> None:
    buyer = _properties(order)["buyer"]
    validator = Draft202012Validator(buyer)
    assert validator.is_valid({"person": {"name": "A"}})
    assert not validator.is_valid({})
    both = {"person": {"name": "A"}, "company": {"name": "B", "vatId": "1"}}
    assert not validator.is_valid(both)
    contact = Draft202012Validator(order["oneOf"] and {"oneOf": order["oneOf"]})
    assert contact.is_valid({})  # the contact group is optional
    assert not contact.is_valid({"email": "a@b.cc", "phone": "+1234567"})


def test_a_recursive_type_is_a_definition(order: dict[str, Any]) -> None:
    assert _properties(order)["category"] == {"$ref": "#/$defs/Category"}
    category = order["$defs"]["Category"]
    assert _properties(category)["sub"]["items"] == {"$ref": "#/$defs/Category"}


def test_lists_unions_dates_and_binaries() -> None:
    schemas = fixture_schema("constructs")
    tags = scalar_schema(schemas.type(f"{C}Tags"))  # type: ignore[arg-type]
    assert (tags["type"], tags["minItems"], tags["maxItems"]) == ("array", 1, 5)
    assert tags["items"]["maxLength"] == 10
    assert scalar_schema(schemas.type(f"{C}Size"))["type"] == "string"  # type: ignore[arg-type]
    date = Draft202012Validator(scalar_schema(SimpleType(None, "date")))
    assert date.is_valid("2026-01-01")
    assert date.is_valid("2026-01-01+02:00")  # XSD keeps the zone optional
    assert not date.is_valid("01.01.2026")
    hex_binary = scalar_schema(SimpleType(None, "hexBinary", Facets(length=2)))
    assert hex_binary["x-xsd-octets"] == {"length": "2"}


def test_what_json_schema_cannot_say_is_kept_as_an_annotation() -> None:
    word = scalar_schema(SimpleType(None, "string", Facets(patterns=("\\w+",))))
    assert word["x-xsd-pattern"] == ["\\w+"]
    rate = scalar_schema(
        SimpleType(
            None, "decimal", Facets(fraction_digits=2, min_inclusive="0.5", max_inclusive="9.75")
        )
    )
    assert rate["x-xsd-range"] == {"minInclusive": "0.5", "maxInclusive": "9.75"}
    assert Draft202012Validator(rate).is_valid("1.25")
    assert not Draft202012Validator(rate).is_valid("1.255")


def test_spec_renames_are_the_schema_names() -> None:
    schemas = fixture_schema("constructs")
    from bridge.mapping.spec import json_message_spec

    spec = json_message_spec(
        {
            "element": "Settings",
            "namespace": "urn:test:constructs",
            "model": "json",
            "fields": {"look": "theme"},
        },
        name="t/s",
        contract="t",
        where="t/s.yaml",
    )
    schema = compile_codec(schemas.element(f"{C}Settings"), spec, wrapped=False).json_schema()
    assert list(_properties(schema)) == ["look"]
    assert schema["required"] == ["look"]
