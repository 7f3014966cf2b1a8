"""The XML Schemas inside the checked-in WSDL contracts, compiled once with lxml."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from bridge.domain.errors import ConfigurationError
from bridge.mapping.validation import ContractSchema

CONTRACTS_ROOT = Path(__file__).resolve().parents[2] / "wsdl"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_XSD = "http://www.w3.org/2001/XMLSchema"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

# contract name -> file under wsdl/
CONTRACT_FILES = {
    "banking": "banking.wsdl",
    "partner": "partner.wsdl",
    "corebank": "upstream/corebank.wsdl",
    "payroll": "upstream/payroll.wsdl",
    "logistics": "upstream/logistics.wsdl",
    "classifier": "upstream/classifier.wsdl",
}


def contract_path(contract: str, root: Path = CONTRACTS_ROOT) -> Path:
    try:
        return root / CONTRACT_FILES[contract]
    except KeyError:
        raise ConfigurationError(f"unknown contract {contract!r}") from None


def extract_schema(wsdl_path: Path) -> Any:
    """The inline <xs:schema> of a WSDL as its own document, carrying the WSDL's namespace
    declarations (QName values such as type="tns:X" need them)."""
    try:
        definitions = etree.parse(str(wsdl_path), _PARSER).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise ConfigurationError(f"contract {wsdl_path}: {exc}") from None
    schemas = definitions.findall(f"{{{_WSDL}}}types/{{{_XSD}}}schema")
    if len(schemas) != 1:
        raise ConfigurationError(f"contract {wsdl_path}: expected one inline xs:schema")
    nsmap = {**definitions.nsmap, **schemas[0].nsmap}
    schema = etree.Element(schemas[0].tag, attrib=dict(schemas[0].attrib), nsmap=nsmap)
    schema.extend(child for child in list(schemas[0]))
    return schema


@cache
def contract_schema(contract: str) -> Any:
    """The compiled schema of one contract (cached: built once per process)."""
    return compile_schema(contract_path(contract))


@cache
def compile_schema(path: Path) -> Any:
    try:
        return etree.XMLSchema(extract_schema(path))
    except etree.XMLSchemaParseError as exc:
        raise ConfigurationError(f"contract {path}: invalid XML Schema: {exc}") from None


@cache
def contract_validator(contract: str) -> ContractSchema:
    """The one validator of a contract's schema in this process (one lock per schema)."""
    return ContractSchema(contract_schema(contract))


@cache
def file_validator(path: Path) -> ContractSchema:
    """The one validator of the schema in the WSDL at `path` in this process."""
    return ContractSchema(compile_schema(path))
