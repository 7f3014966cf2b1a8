"""The XML Schemas inside the WSDL contracts, compiled once per file with lxml.

Contracts are read from a contracts folder, `Settings.contracts_dir`, which the composition root
passes down (`root`); `CONTRACTS_ROOT`, the checked-in wsdl/ folder, is only the default of a
caller that has no settings (the mapping tests, the contract tooling).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from bridge.domain.errors import ConfigurationError, InvalidInput
from bridge.mapping import xml
from bridge.mapping.validation import ContractSchema

CONTRACTS_ROOT = Path(__file__).resolve().parents[2] / "wsdl"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_XSD = "http://www.w3.org/2001/XMLSchema"

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
    """The WSDL of `contract` ("banking", "corebank", ...) in the contracts folder `root`."""
    try:
        return root / CONTRACT_FILES[contract]
    except KeyError:
        raise ConfigurationError(f"unknown contract {contract!r}") from None


def extract_schema(wsdl_path: Path) -> Any:
    """The inline <xs:schema> of a WSDL as its own document, carrying the WSDL's namespace
    declarations (QName values such as type="tns:X" need them). Parsed like any message (no
    DTD, no entities, no network): the contracts folder is configurable (`contracts_dir`)."""
    try:
        definitions = xml.parse(wsdl_path.read_bytes())
    except OSError as exc:
        raise ConfigurationError(f"contract {wsdl_path}: {exc}") from None
    except InvalidInput as exc:  # HostileDocument too
        raise ConfigurationError(f"contract {wsdl_path}: {exc.detail}") from None
    schemas = definitions.findall(f"{{{_WSDL}}}types/{{{_XSD}}}schema")
    if len(schemas) != 1:
        raise ConfigurationError(f"contract {wsdl_path}: expected one inline xs:schema")
    nsmap = {**definitions.nsmap, **schemas[0].nsmap}
    schema = etree.Element(schemas[0].tag, attrib=dict(schemas[0].attrib), nsmap=nsmap)
    schema.extend(child for child in list(schemas[0]))
    return schema


def contract_schema(contract: str, root: Path = CONTRACTS_ROOT) -> Any:
    """The compiled schema of one contract in `root` (built once per file and process)."""
    return compile_schema(contract_path(contract, root))


@cache
def compile_schema(path: Path) -> Any:
    """The schema of the WSDL at `path`, compiled once per process."""
    return _compile(path)


def _compile(path: Path) -> Any:
    try:
        return etree.XMLSchema(extract_schema(path))
    except etree.XMLSchemaParseError as exc:
        raise ConfigurationError(f"contract {path}: invalid XML Schema: {exc}") from None


def contract_validator(contract: str, root: Path = CONTRACTS_ROOT) -> ContractSchema:
    """The one validator of a contract's schema in `root` in this process: the same as
    `file_validator` of its file, which the upstream clients use."""
    return file_validator(contract_path(contract, root))


@cache
def file_validator(path: Path) -> ContractSchema:
    """The one validator of the schema in the WSDL at `path` in this process (each thread
    validating with a copy of its own, `ContractSchema`)."""
    return ContractSchema(compile_schema(path), lambda: _compile(path))
