"""The codec, samples, JSON Schemas and strategies on every message of the import fixtures
(tests/data/contracts/byo/, loaded by bridge.contracts.loader) and of the shared WSDL corpus
when it is there: samples are valid and fit the JSON Schema; JSON drawn from the XSD
round-trips through valid XML."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from bridge.contracts.loader import load_contract
from bridge.contracts.messages import body_element
from bridge.contracts.model import Contract
from bridge.domain.errors import ConfigurationError
from bridge.mapping.generic import MessageCodec, compile_codec
from bridge.mapping.samples import sample
from bridge.mapping.xsdtree import Element
from tests.common.contracts import BYO, corpus_wsdls, large_contract_wsdl
from tests.strategies.xsd import message


@cache
def _loaded(wsdl: Path) -> Contract | None:
    try:
        return load_contract(wsdl, name="fixture")
    except ConfigurationError:  # hostile, invalid, unsupported or only imported: tests/contracts
        return None


# The fixtures the loader takes (its refusals are tests/contracts' business, one test each).
WSDLS = [wsdl for wsdl in sorted(BYO.rglob("*.wsdl")) + corpus_wsdls() if _loaded(wsdl)]


def _contract(wsdl: Path) -> Contract:
    contract = _loaded(wsdl)
    assert contract is not None
    return contract


def _messages(contract: Contract) -> list[tuple[str, Element, bool]]:
    found = []
    for operation in contract.operations.values():
        found.append((f"{operation.name}.input", *_root(contract, operation.input)))
        if operation.output is not None:
            found.append((f"{operation.name}.output", *_root(contract, operation.output)))
        for fault in operation.faults:
            found.append(
                (f"{operation.name}.{fault.name}", contract.schema.element(fault.element), False)
            )
    return found


def _root(contract: Contract, body: Any) -> tuple[Element, bool]:
    return body_element(contract, body), body.wrapped


def _codec(
    contract: Contract, root: Element, wrapped: bool
) -> tuple[MessageCodec, Draft202012Validator]:
    codec = compile_codec(root, wrapped=wrapped, validator=contract.schema.validator)
    return codec, Draft202012Validator(codec.json_schema())


@pytest.mark.parametrize("wsdl", WSDLS, ids=[str(w.relative_to(w.parents[1])) for w in WSDLS])
def test_samples_of_every_message_are_valid_and_fit_the_json_schema(wsdl: Path) -> None:
    contract = _contract(wsdl)
    for name, root, wrapped in _messages(contract):
        codec, json_schema = _codec(contract, root, wrapped)
        for seed in range(3):
            element = sample(root, seed)
            assert contract.schema.validator.violation(element) is None, name
            assert list(json_schema.iter_errors(codec.read(element))) == [], name


@pytest.mark.parametrize("wsdl", WSDLS, ids=[str(w.relative_to(w.parents[1])) for w in WSDLS])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_json_drawn_from_the_xsd_round_trips_through_valid_xml(
    wsdl: Path, data: st.DataObject
) -> None:
    contract = _contract(wsdl)
    for name, root, wrapped in _messages(contract):
        codec, json_schema = _codec(contract, root, wrapped)
        value = data.draw(message(root), label=name)
        assert codec.read(codec.write(value)) == value, name
        assert list(json_schema.iter_errors(value)) == [], name


def test_every_message_of_a_contract_of_three_thousand_types_compiles_and_samples(
    tmp_path: Path,
) -> None:
    wsdl = tmp_path / "large.wsdl"
    wsdl.write_text(large_contract_wsdl(), encoding="utf-8")
    contract = load_contract(wsdl, name="large")
    for name, root, wrapped in _messages(contract):
        codec, json_schema = _codec(contract, root, wrapped)
        element = sample(root, 7)
        assert contract.schema.validator.violation(element) is None, name
        assert list(json_schema.iter_errors(codec.read(element))) == [], name
