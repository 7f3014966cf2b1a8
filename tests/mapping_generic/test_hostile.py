"""Hostile JSON at the generic codec: each refused with an error naming the JSON field, before
anything is sent (the codec's own checks first, then the contract's validator)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from bridge.domain.errors import MappingError
from bridge.mapping.generic import MessageCodec, compile_codec
from tests.common.xsd import XSD_DIR, fixture_schema

C = "{urn:test:constructs}"


@pytest.fixture(scope="module")
def codec() -> MessageCodec:
    schemas = fixture_schema("constructs")
    return compile_codec(schemas.element(f"{C}Order"), wrapped=False, validator=schemas.validator)


def _order(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((XSD_DIR / "order.json").read_text(encoding="utf-8"))
    data.update(changes)
    return data


def _price(text: Any) -> dict[str, Any]:
    line = {"sku": "ABC-0001", "quantity": 1, "price": {"#text": text, "@currency": "EUR"}}
    return _order(line=[line])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_price("\u0661\u0662\u066b\u0665"), "line[0].price.#text"),  # Arabic-Indic digits
        (_price("\uff11\uff12"), "line[0].price.#text"),  # full-width digits
        (_price("1E+2"), "line[0].price.#text"),  # an exponent
        (_price("1_000"), "line[0].price.#text"),
        (_price(" 12"), "line[0].price.#text"),
        (_price(12.5), "line[0].price.#text"),  # a float: digits may already be lost
        (_price(Decimal("NaN")), "line[0].price.#text"),
        (_price(Decimal("1E+999999")), "line[0].price.#text"),
        (_price("9" * 40), "line[0].price.#text"),  # past totalDigits: the validator
        (_order(count="12"), "count"),  # an integer as a string
        (_order(count=True), "count"),
        (_order(count=10**5000), "count"),
        (
            _order(
                line=[
                    {
                        "sku": "ABC-0001",
                        "quantity": "\u0663",
                        "price": {"#text": "1", "@currency": "EUR"},
                    }
                ]
            ),
            "line[0].quantity",
        ),
        (
            _order(
                line=[
                    {
                        "sku": "ABC-0001",
                        "quantity": 10**30,
                        "price": {"#text": "1", "@currency": "EUR"},
                    }
                ]
            ),
            "line[0].quantity",
        ),
        (_order(id="ABC-1234\x00"), "id"),  # NUL
        (
            _order(id="ABC-\u202e4321"),
            "id",
        ),  # a right-to-left override where the pattern forbids it
        (_order(note=["\ud800"]), "note[0]"),  # a lone surrogate
        (_order(ratio="0.5"), "ratio"),
        (_order(express="true"), "express"),
        (_order(tags=["two words"]), "tags"),
        (_order(placed="2026-13-01"), "placed"),
        (_order(discount=None, status=None), "status"),
        (_order(line={"sku": "ABC-0001"}), "line"),
        (
            _order(buyer={"person": {"name": "A"}, "company": {"name": "B", "vatId": "1"}}),
            "buyer.company",
        ),
        (_order(buyer={}), "buyer.person"),
        (
            _order(extra={"##any": ['<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>']}),
            "extra.##any[0]",
        ),
        (_order(extra={"##any": ["<x:a xmlns:x='urn:other'>"]}), "extra.##any[0]"),
        (_order(**{"@createdAt": "yesterday"}), "@createdAt"),
        (_order(**{"@channel": "fax"}), "@channel"),
        (_order(unknown=1), "unknown"),
    ],
)
def test_hostile_values_are_refused_naming_the_json_field(
    codec: MessageCodec, data: dict[str, Any], field: str
) -> None:
    with pytest.raises(MappingError) as refused:
        codec.write(data)
    assert refused.value.path == field


def test_a_missing_required_field_is_named(codec: MessageCodec) -> None:
    data = _order()
    del data["placed"]
    with pytest.raises(MappingError) as refused:
        codec.write(data)
    assert (refused.value.path, refused.value.expected) == ("placed", "a value")


def test_a_message_that_is_not_an_object_is_refused(codec: MessageCodec) -> None:
    with pytest.raises(MappingError, match="expected an object"):
        codec.write(["not", "an", "object"])
