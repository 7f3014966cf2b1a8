"""The contracts cannot drift silently: for each inbound contract (banking, partner), spyne's
models, the checked-in and the served WSDL agree.

Both documents are reduced by `bridge.soap.wsdl.canonical` to what SOAP stacks generate code from
and what reaches the wire, then compared. What the comparison deliberately ignores, and why:

- namespace prefixes (QNames are resolved): a prefix is not part of any name;
- the names of messages, parts, port type, binding, service and port: they never reach the wire
  (spyne names them after Python classes; the contract after the service); each message must
  still have exactly one part referring to an element (WS-I BP, document/literal);
- ``wsdl:documentation`` and ``xs:annotation``: prose;
- the order of attributes, facets, enumeration values and global declarations: meaningless in
  XSD (the order of elements inside a sequence is kept: it is meaningful);
- global elements no message part refers to: spyne declares one for every complex type
  (``<xs:element name="Party" type="tns:Party"/>``), the contract only the message elements;
- a sequence holding a single particle exactly once is that particle: spyne writes an
  ``xs:choice`` that way (so does the contract, but it need not);
- numeric facet values are compared as numbers (``0.001`` = ``1E-3``).

What spyne cannot express by itself: the base type of a simpleContent extension (the decimal of
``ActiveOrHistoricCurrencyAndAmount``) is left out of its schema; `bridge.soap.app` registers it,
so the generated document is complete and nothing needs normalising for it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from lxml import etree
from spyne.server.wsgi import WsgiApplication
from werkzeug.test import Client

from bridge.mapping import Mappings
from bridge.mapping.schemas import contract_path
from bridge.settings import Settings
from bridge.soap import create_partner_soap, wsdl
from bridge.soap.app import banking_application, partner_application
from bridge.soap.wsdl import NS_WSDL, NS_WSDL_SOAP, NS_XS, CanonicalContract
from tests.common.soap import Door

PUBLIC = "http://partner-facing.example"
NS = {"wsdl": NS_WSDL, "soap": NS_WSDL_SOAP, "xs": NS_XS}
APPLICATIONS = {"banking": banking_application, "partner": partner_application}


@pytest.fixture(scope="module", params=sorted(APPLICATIONS))
def name(request: pytest.FixtureRequest) -> str:
    """The inbound contract under test."""
    contract_name: str = request.param
    return contract_name


@pytest.fixture(scope="module")
def generated(mappings: Mappings, name: str) -> bytes:
    """spyne's interface document for the contract's models, built as the door builds it."""
    soap = WsgiApplication(APPLICATIONS[name](mappings, None))
    soap.doc.wsdl11.build_interface_document(f"{PUBLIC}/soap/{name}")
    document: bytes = soap.doc.wsdl11.get_interface_document()
    return document


@pytest.fixture(scope="module")
def checked_in(name: str) -> Any:
    return wsdl.load(contract_path(name))


@pytest.fixture(scope="module")
def contract() -> Any:
    """The banking contract, on which the comparison itself is tested."""
    return wsdl.load(contract_path("banking"))


def _differences(left: CanonicalContract, right: CanonicalContract) -> list[str]:
    found = []
    for part in ("target_namespace", "binding"):
        if getattr(left, part) != getattr(right, part):
            found.append(f"{part}: {getattr(left, part)} != {getattr(right, part)}")
    for part in ("types", "elements", "operations"):
        mine, theirs = getattr(left, part), getattr(right, part)
        for name in sorted(set(mine) | set(theirs)):
            if mine.get(name) != theirs.get(name):
                found.append(f"{part} {name}:\n  {mine.get(name)}\n  {theirs.get(name)}")
    return found


def test_spyne_models_generate_the_checked_in_contract(generated: bytes, checked_in: Any) -> None:
    spyne_view = wsdl.canonical(etree.fromstring(generated))
    assert _differences(spyne_view, wsdl.canonical(checked_in)) == []


def test_spyne_declares_no_nillable_element(generated: bytes) -> None:
    assert b"nillable" not in generated


def test_spyne_soap_address_is_the_configured_public_one(generated: bytes, name: str) -> None:
    address = etree.fromstring(generated).find(".//wsdl:service/wsdl:port/soap:address", NS)
    assert address is not None
    assert address.get("location") == f"{PUBLIC}/soap/{name}"


def test_served_wsdl_is_the_checked_in_file_with_only_its_address_changed(door: Door) -> None:
    served = door.client.get("/soap/banking?wsdl")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "text/xml; charset=utf-8"
    document = etree.fromstring(served.data)
    address = document.find(".//wsdl:service/wsdl:port/soap:address", NS)
    assert address is not None
    assert address.get("location") == "http://127.0.0.1:8080/soap/banking"
    original = wsdl.load(contract_path("banking"))
    address.set("location", original.find(".//soap:address", NS).get("location"))
    assert etree.tostring(document, method="c14n2") == etree.tostring(original, method="c14n2")


def test_served_partner_wsdl_is_the_checked_in_file_with_only_its_address_changed(
    mappings: Mappings,
) -> None:
    settings = Settings(host="127.0.0.1", port=8080, simulators=False, scheduler=False)
    # Serving the contract needs no shipping service and no credentials: nothing is called.
    gateway = create_partner_soap(
        SimpleNamespace(settings=settings, mappings=mappings, shipping=None, security=None)
    )
    served = Client(gateway).get("/?wsdl")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "text/xml; charset=utf-8"
    document = etree.fromstring(served.data)
    address = document.find(".//wsdl:service/wsdl:port/soap:address", NS)
    assert address is not None
    assert address.get("location") == "http://127.0.0.1:8080/soap/partner"
    original = wsdl.load(contract_path("partner"))
    address.set("location", original.find(".//soap:address", NS).get("location"))
    assert etree.tostring(document, method="c14n2") == etree.tostring(original, method="c14n2")


# -- the comparison is neither blind nor pedantic ---------------------------------------------


def _set(xpath: str, attribute: str, value: str) -> Callable[[Any], None]:
    def change(definitions: Any) -> None:
        (node,) = definitions.xpath(xpath, namespaces=NS)
        node.set(attribute, value)

    return change


def _remove(xpath: str) -> Callable[[Any], None]:
    def change(definitions: Any) -> None:
        for node in definitions.xpath(xpath, namespaces=NS):
            node.getparent().remove(node)

    return change


def _unset(xpath: str, attribute: str) -> Callable[[Any], None]:
    def change(definitions: Any) -> None:
        (node,) = definitions.xpath(xpath, namespaces=NS)
        del node.attrib[attribute]

    return change


def _swap_first_two(xpath: str) -> Callable[[Any], None]:
    def change(definitions: Any) -> None:
        first, second = definitions.xpath(xpath, namespaces=NS)[:2]
        first.addprevious(second)

    return change


DRIFTS = {
    "a length facet": _set("//xs:simpleType[@name='Max35Text']/*/xs:maxLength", "value", "36"),
    "a pattern": _set("//xs:simpleType[@name='IBAN2007Identifier']/*/xs:pattern", "value", ".*"),
    "an enumeration value": _remove(
        "//xs:simpleType[@name='ChargeBearerCode']/*/xs:enumeration[@value='SHAR']"
    ),
    "a decimal facet": _set(
        "//xs:simpleType[@name='ActiveOrHistoricCurrencyAndAmount_SimpleType']/*/xs:fractionDigits",
        "value",
        "2",
    ),
    "an optional element made mandatory": _unset(
        "//xs:complexType[@name='TransferRequest']//xs:element[@name='ReqdExctnDt']", "minOccurs"
    ),
    "a nillable element": _set(
        "//xs:complexType[@name='TransferRequest']//xs:element[@name='MsgId']", "nillable", "true"
    ),
    "an element's type": _set(
        "//xs:complexType[@name='Party']//xs:element[@name='Nm']", "type", "tns:Max140Text"
    ),
    "the order of a sequence": _swap_first_two(
        "//xs:complexType[@name='TransferRequest']/xs:sequence/xs:element"
    ),
    "a required attribute made optional": _unset("//xs:attribute[@name='Ccy']", "use"),
    "a repeat limit": _set("//xs:element[@name='Tx']", "maxOccurs", "unbounded"),
    "a SOAPAction": _set(
        "//wsdl:binding/wsdl:operation[@name='VerifyAccount']/soap:operation",
        "soapAction",
        "urn:VerifyAccount",
    ),
    "a declared fault": _remove(
        "//wsdl:portType/wsdl:operation[@name='GetTransactions']/wsdl:fault"
    ),
    "an operation": _remove("//wsdl:*[local-name()='operation' and @name='GetTransactions']"),
    "a body use": _set(
        "//wsdl:binding/wsdl:operation[@name='TransferFunds']/wsdl:input/soap:body",
        "use",
        "encoded",
    ),
}


PARTNER_DRIFTS = {
    "a bounded history": _set("//xs:element[@name='Event']", "maxOccurs", "100"),
    "a shipment reference pattern": _set(
        "//xs:simpleType[@name='ShipmentReference']/*/xs:pattern", "value", "[A-Z0-9\\-]{3,35}"
    ),
    "a delivery status dropped": _remove(
        "//xs:simpleType[@name='DeliveryStatusCode']/*/xs:enumeration[@value='RETURNED']"
    ),
    "a coordinate range": _set(
        "//xs:simpleType[@name='Latitude']/*/xs:maxInclusive", "value", "180"
    ),
}


@pytest.mark.parametrize("drift", sorted(DRIFTS), ids=str)
def test_a_change_of_the_contract_is_seen(contract: Any, drift: str) -> None:
    changed = copy.deepcopy(contract)
    DRIFTS[drift](changed)
    assert wsdl.canonical(changed) != wsdl.canonical(contract)


@pytest.mark.parametrize("drift", sorted(PARTNER_DRIFTS), ids=str)
def test_a_change_of_the_partner_contract_is_seen(drift: str) -> None:
    partner = wsdl.load(contract_path("partner"))
    changed = copy.deepcopy(partner)
    PARTNER_DRIFTS[drift](changed)
    assert wsdl.canonical(changed) != wsdl.canonical(partner)


def _rename_prefix(definitions: Any) -> Any:
    text = etree.tostring(definitions).decode()
    return etree.fromstring(text.replace("tns:", "bank:").replace("xmlns:tns=", "xmlns:bank="))


def _rename_wire_invisible_names(definitions: Any) -> Any:
    text = etree.tostring(definitions).decode()
    for old, new in [
        ('name="parameters"', 'name="body"'),
        ("BankingPortType", "PortType1"),
        ("BankingBinding", "Binding1"),
        ('wsdl:service name="BankingService"', 'wsdl:service name="Service1"'),
        ('wsdl:port name="BankingPort"', 'wsdl:port name="Port1"'),
    ]:
        text = text.replace(old, new)
    return etree.fromstring(text)


def _drop_documentation_and_reorder_types(definitions: Any) -> Any:
    changed = copy.deepcopy(definitions)
    _remove("//wsdl:documentation")(changed)
    schema = changed.find("wsdl:types/xs:schema", NS)
    declarations = [node for node in schema if isinstance(node.tag, str)]
    for node in declarations:
        schema.remove(node)
    schema.extend(reversed(declarations))
    return changed


@pytest.mark.parametrize(
    "rewrite",
    [_rename_prefix, _rename_wire_invisible_names, _drop_documentation_and_reorder_types],
    ids=lambda rewrite: rewrite.__name__.lstrip("_"),
)
def test_what_does_not_reach_the_wire_is_not_compared(
    contract: Any, rewrite: Callable[[Any], Any]
) -> None:
    assert wsdl.canonical(rewrite(contract)) == wsdl.canonical(contract)
