"""What the proof (test_proof.py) found in the generic JSON form, pinned at unit level: the JSON
Schema of each date, time and language type takes exactly what libxml2 takes, an integral JSON
number is an integer, and `null` is not the text of an element with simple content."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bridge.contracts.catalog import message_root
from bridge.contracts.loader import load_contract
from bridge.domain.errors import MappingError
from bridge.mapping.generic import MessageCodec, compile_codec
from bridge.mapping.generic_schema import LEXICAL
from tests.common.contracts import byo

# Per type: strings of the type's shape with any digits, most of them not values of the type.
SHAPES = {
    "date": r"-?[0-9]{4,5}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?",
    "dateTime": (
        r"-?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9])?"
        r"(Z|[+-]1[0-9]:[0-9]{2})?"
    ),
    "time": r"[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,2})?(Z|[+-]1[0-9]:[0-9]{2})?",
    "gYear": r"-?[0-9]{4,5}",
    "gYearMonth": r"[0-9]{4}-[0-9]{2}",
    "gMonthDay": r"--[0-9]{2}-[0-9]{2}",
    "gDay": r"---[0-9]{2}",
    "gMonth": r"--[0-9]{2}",
    "language": r"[a-zA-Z0-9-]{0,12}",
}
# Edge values: leap days, year 0000, 24:00:00, zones at and past 14:00, a year's leading zero.
EDGES = [
    ("date", "2000-02-29"),
    ("date", "1900-02-29"),
    ("date", "2024-02-29"),
    ("date", "2023-02-29"),
    ("date", "2023-04-31"),
    ("date", "0000-01-01"),
    ("date", "-0001-01-01"),
    ("date", "01000-01-01"),
    ("date", "2021-01-01+14:00"),
    ("date", "2021-01-01+14:01"),
    ("time", "24:00:00"),
    ("time", "23:59:60"),
    ("gMonthDay", "--02-29"),
    ("gMonthDay", "--04-31"),
    ("gYear", "0000"),
    ("language", ""),
]


@cache
def _xsd(builtin: str) -> etree.XMLSchema:
    return etree.XMLSchema(
        etree.fromstring(
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
            f'<xs:element name="v" type="xs:{builtin}"/></xs:schema>'
        )
    )


def _libxml2_takes(builtin: str, text: str) -> bool:
    element = etree.Element("v")
    element.text = text
    return bool(_xsd(builtin).validate(element))


def _schema_takes(builtin: str, text: str) -> bool:
    return re.search(LEXICAL[builtin], text) is not None


@pytest.mark.parametrize("builtin", sorted(SHAPES))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_json_schema_of_a_date_time_or_language_type_takes_what_libxml2_takes(
    builtin: str, data: st.DataObject
) -> None:
    shaped = data.draw(st.from_regex(SHAPES[builtin], fullmatch=True), label="shaped")
    valid = data.draw(st.from_regex(LEXICAL[builtin], fullmatch=True), label="from the schema")

    assert _schema_takes(builtin, shaped) == _libxml2_takes(builtin, shaped)
    assert _libxml2_takes(builtin, valid)


@pytest.mark.parametrize(("builtin", "text"), EDGES, ids=[f"{b}:{t}" for b, t in EDGES])
def test_the_edges_of_the_lexical_forms(builtin: str, text: str) -> None:
    assert _schema_takes(builtin, text) == _libxml2_takes(builtin, text)


def _input_codec(wsdl: str, operation: str) -> MessageCodec:
    contract = load_contract(byo(wsdl), name="values")
    root, wrapped = message_root(contract, contract.operations[operation], "input")
    return compile_codec(root, wrapped=wrapped, validator=contract.schema.validator)


INTEREST = {"principal": "100.00", "rate": "0.05", "share": "50"}


@pytest.mark.parametrize("units", [Decimal("790.0"), Decimal("7.9E+2"), 790])
def test_an_integral_json_number_is_an_integer(units: Any) -> None:
    """JSON Schema's "integer" takes 790.0; the REST door reads it as Decimal("790.0")."""
    codec = _input_codec("decimals/interest.wsdl", "CalculateInterest")

    written = codec.write({**INTEREST, "units": units})

    assert codec.read(written)["units"] == 790


def test_a_json_number_with_a_fraction_is_not_an_integer() -> None:
    codec = _input_codec("decimals/interest.wsdl", "CalculateInterest")

    with pytest.raises(MappingError) as refused:
        codec.write({**INTEREST, "units": Decimal("790.5")})

    assert refused.value.path == "units"


def test_null_is_not_the_text_of_an_element_with_simple_content() -> None:
    codec = _input_codec("simple_content/quotes.wsdl", "Quote")
    amount = {"#text": "12.50", "@currency": "EUR"}

    with pytest.raises(MappingError) as refused:
        codec.write({"amount": amount, "label": {"#text": None, "@lang": "en"}})

    assert refused.value.path == "label.#text"
    assert codec.read(codec.write({"amount": amount, "label": {"#text": "", "@lang": "en"}}))
