"""For every fixture schema and every contract of the bridge: JSON drawn from the XSD
(tests/strategies/xsd.py) written as XML is valid against the XSD, reads back as the same JSON,
and fits the codec's JSON Schema."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from bridge.mapping.generic import MessageCodec, compile_codec
from bridge.mapping.xsdtree import SchemaSet
from tests.common.xsd import every_fixture_element
from tests.strategies.xsd import message

ELEMENTS = every_fixture_element()


@pytest.mark.parametrize(("schemas", "clark"), ELEMENTS, ids=[clark for _, clark in ELEMENTS])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_json_to_xml_to_json_is_the_identity_and_the_xml_is_valid(
    schemas: SchemaSet, clark: str, data: st.DataObject
) -> None:
    codec, json_schema = _compiled(schemas, clark)
    value: Any = data.draw(message(codec.root))
    element = codec.write(value)  # validates: a MappingError here is an invalid XML
    assert schemas.validator.violation(element) is None
    assert codec.read(element) == value
    assert list(json_schema.iter_errors(value)) == []


@cache
def _compiled(schemas: SchemaSet, clark: str) -> tuple[MessageCodec, Draft202012Validator]:
    codec = compile_codec(schemas.element(clark), wrapped=False, validator=schemas.validator)
    return codec, Draft202012Validator(codec.json_schema())
