"""Schema sets of the XSD fixtures under tests/data/xsd/, built as the contract loader builds
them: the `xs:schema` documents and one compiled validator of them all."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from bridge.mapping.schemas import (
    CONTRACT_FILES,
    contract_path,
    contract_validator,
    extract_schema,
)
from bridge.mapping.validation import ContractSchema
from bridge.mapping.xsdtree import SchemaSet

XSD_DIR = Path(__file__).resolve().parents[1] / "data" / "xsd"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def load_schema_set(path: Path) -> SchemaSet:
    """A fresh SchemaSet of one self-contained XSD file."""
    schema = etree.parse(str(path), _PARSER).getroot()
    return SchemaSet([schema], ContractSchema(etree.XMLSchema(schema)))


@cache
def fixture_schema(name: str) -> SchemaSet:
    """The SchemaSet of tests/data/xsd/<name>.xsd, built once per test session."""
    return load_schema_set(XSD_DIR / f"{name}.xsd")


@cache
def contract_schema_set(contract: str) -> SchemaSet:
    """The SchemaSet of one of the bridge's own contracts (wsdl/), with its validator."""
    return SchemaSet([extract_schema(contract_path(contract))], contract_validator(contract))


def every_fixture_element() -> list[tuple[SchemaSet, str]]:
    """(schema set, Clark name) of every global element of every fixture schema and contract."""
    sets = [fixture_schema("constructs"), fixture_schema("unqualified")]
    sets += [contract_schema_set(contract) for contract in CONTRACT_FILES]
    return [(schemas, clark) for schemas in sets for clark in schemas.elements()]
