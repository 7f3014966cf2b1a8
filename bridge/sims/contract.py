"""The checked-in upstream WSDLs, as the simulators serve and enforce them.

Each simulator serves its contract file itself at `?wsdl`, with only `soap:address` rewritten to
the simulator's public address, instead of the WSDL spyne would generate: spyne's names its
binding, port type, service and message parts after the Python classes and drops every facet
(patterns, lengths, enumerations), so a client reading it would see another contract than the
one the bridge is written against. Requests are validated against the contract's own schema
before spyne reads them, and every XML parse here refuses DTDs, entities and network access.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from bridge.mapping.schemas import CONTRACTS_ROOT
from bridge.mapping.validation import ContractSchema

# The default of a caller without settings; the bridge passes `Settings.contracts_dir`.
CONTRACTS = CONTRACTS_ROOT / "upstream"

NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
NS_WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
NS_XS = "http://www.w3.org/2001/XMLSchema"
NS_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


class RefusedMessage(Exception):
    """The request is not a well-formed, contract-valid SOAP 1.1 message (a Client fault)."""


def hardened_parser(*, keep_comments: bool = False) -> etree.XMLParser:
    """No DTD loading, no entity expansion, no network, no huge trees (one per call)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=not keep_comments,
        remove_pis=True,
    )


def parse_hardened(data: bytes) -> etree._Element:
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise RefusedMessage(f"not well-formed XML: {exc}") from None
    # lxml reports any DOCTYPE, with or without an internal subset, as an internal DTD.
    if root.getroottree().docinfo.internalDTD is not None:
        raise RefusedMessage("DOCTYPE declarations are not allowed")
    return root


@dataclass(frozen=True)
class Contract:
    name: str
    namespace: str
    address: str
    wsdl: bytes  # the checked-in file with soap:address = address
    schema: ContractSchema  # one compiled schema per thread (lxml's error log is per schema)
    operations: frozenset[str]  # local names of the request elements, one per operation

    def request_element(self, envelope: bytes) -> etree._Element:
        """The single body element of a SOAP 1.1 request, checked against the contract."""
        root = parse_hardened(envelope)
        if root.tag != f"{{{NS_ENV}}}Envelope":
            raise RefusedMessage("not a SOAP 1.1 Envelope")
        body = root.find(f"{{{NS_ENV}}}Body")
        if body is None:
            raise RefusedMessage("the Envelope has no Body")
        children = [child for child in body if isinstance(child.tag, str)]
        if len(children) != 1:
            raise RefusedMessage("the Body must hold exactly one element")
        element = children[0]
        qname = etree.QName(element)
        if qname.namespace != self.namespace or qname.localname not in self.operations:
            raise RefusedMessage(f"unknown operation element {element.tag}")
        violation = self.schema.violation(element)
        if violation is not None:
            raise RefusedMessage(f"schema validation failed: {violation.reason}")
        return element


def load_contract(name: str, address: str, root: Path = CONTRACTS) -> Contract:
    path = root / f"{name}.wsdl"
    document = etree.parse(str(path), hardened_parser(keep_comments=True))
    definitions = document.getroot()
    namespace = definitions.get("targetNamespace") or ""
    for location in definitions.iterfind(f".//{{{NS_WSDL}}}port/{{{NS_WSDL_SOAP}}}address"):
        location.set("location", address)
    wsdl = etree.tostring(document, xml_declaration=True, encoding="UTF-8")
    return Contract(
        name=name,
        namespace=namespace,
        address=address,
        wsdl=wsdl,
        schema=ContractSchema(
            etree.XMLSchema(_inline_schema(definitions)),
            lambda: etree.XMLSchema(_inline_schema(definitions)),
        ),
        operations=_request_elements(definitions),
    )


def _inline_schema(definitions: etree._Element) -> etree._Element:
    """The WSDL's one inline xs:schema as a document of its own, with the WSDL's namespace
    declarations (QName values such as type="tns:X" need them)."""
    (schema,) = definitions.findall(f"{{{NS_WSDL}}}types/{{{NS_XS}}}schema")
    declared = {**definitions.nsmap, **schema.nsmap}
    nsmap = {prefix: uri for prefix, uri in declared.items() if prefix}
    attrib = {str(name): str(value) for name, value in schema.attrib.items()}
    standalone = etree.Element(schema.tag, attrib=attrib, nsmap=nsmap)
    standalone.extend(deepcopy(child) for child in schema)
    return standalone


def _request_elements(definitions: etree._Element) -> frozenset[str]:
    ns = {"wsdl": NS_WSDL}
    elements = {
        message.get("name", ""): part.get("element", "").split(":")[-1]
        for message in definitions.iterfind("wsdl:message", ns)
        for part in message.iterfind("wsdl:part", ns)
    }
    inputs = definitions.iterfind("wsdl:portType/wsdl:operation/wsdl:input", ns)
    return frozenset(elements[item.get("message", "").split(":")[-1]] for item in inputs)
