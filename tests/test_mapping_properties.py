"""Every mapping spec, both ways: canonical -> XML -> canonical is the identity, and the XML we
produce validates against the contract's schema."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from bridge.mapping import Mappings, xml
from bridge.mapping.schemas import contract_schema
from tests.strategies import strategy_for

ALL = Mappings.load()


@pytest.mark.parametrize("name", ALL.names())
def test_canonical_to_xml_to_canonical_is_identity_and_schema_valid(name: str) -> None:
    mapping = ALL[name]
    schema = contract_schema(mapping.spec.contract)
    strategy = strategy_for(mapping.spec.contract, mapping.model)
    assert strategy is not None, f"tests/strategies has no strategy for {mapping.model}"

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(strategy)
    def round_trip(message: object) -> None:
        document = xml.parse(mapping.write(message))
        schema.assertValid(document)
        assert mapping.read(document) == message

    round_trip()


def test_every_contract_message_has_a_spec() -> None:
    """Each request and response element of the six contracts is covered by a mapping."""
    from lxml import etree

    from bridge.mapping.schemas import CONTRACT_FILES, contract_path, extract_schema

    covered = {(m.spec.contract, m.root_tag) for m in ALL}
    missing = []
    for contract in CONTRACT_FILES:
        schema = extract_schema(contract_path(contract))
        namespace = schema.get("targetNamespace")
        for element in schema.findall("{http://www.w3.org/2001/XMLSchema}element"):
            name = element.get("name")
            if name.endswith("Fault"):
                continue  # fault details are written by the doors, not mapped
            if (contract, etree.QName(namespace, name).text) not in covered:
                missing.append(f"{contract}:{name}")
    assert not missing, f"contract messages without a mapping spec: {missing}"
