"""`load_contract`: each WSDL construct the bridge serves, read into the contract model."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from bridge.contracts.loader import contract_files, load_contract
from bridge.contracts.messages import body_element
from bridge.contracts.model import Contract
from bridge.domain.errors import ConfigurationError
from bridge.mapping.xsdtree import ComplexType, Element, Group, SimpleType
from tests.common.contracts import byo, large_contract_wsdl

XSD = "http://www.w3.org/2001/XMLSchema"


def _load(relative: str, port: str | None = None) -> Contract:
    return load_contract(byo(relative), name="svc", port=port)


def _xml(text: str) -> etree._Element:
    return etree.fromstring(text.encode())


def test_document_literal_wrapped_operation_has_its_element_action_and_port() -> None:
    contract = _load("choice/billing.wsdl")

    operation = contract.operations["PayBill"]
    assert (operation.style, operation.soap_version) == ("document", "1.1")
    assert operation.soap_action == "urn:byo:choice:PayBill"
    assert operation.input.element == "{urn:byo:choice}PayBill"
    assert operation.input.wrapped
    assert operation.output is not None
    assert operation.output.wrapped
    assert contract.port.name == "BillingPort"
    assert contract.port.address == "http://legacy.example/choice"
    assert contract.target_namespace == "urn:byo:choice"


def test_the_validator_knows_a_choice_refuses_two_branches() -> None:
    contract = _load("choice/billing.wsdl")
    one = '<PayBill xmlns="urn:byo:choice"><billId>1</billId><iban>DE1</iban></PayBill>'
    both = (
        '<PayBill xmlns="urn:byo:choice"><billId>1</billId><iban>DE1</iban>'
        "<voucher>V</voucher></PayBill>"
    )

    assert contract.schema.validator.violation(_xml(one)) is None
    assert contract.schema.validator.violation(_xml(both)) is not None


def test_body_element_of_a_document_operation_is_its_global_element() -> None:
    contract = _load("extension/customers.wsdl")

    element = body_element(contract, contract.operations["RegisterCustomer"].input)

    assert element is contract.schema.element("{urn:byo:extension}RegisterCustomer")


def test_rpc_literal_wrapper_is_named_by_the_body_namespace_and_carries_the_parts() -> None:
    contract = _load("rpc_literal/quotes.wsdl")
    operation = contract.operations["GetQuote"]

    element = body_element(contract, operation.input)

    assert operation.style == "rpc"
    assert operation.input.element == "{urn:byo:rpc:calls}GetQuote"
    assert operation.output is not None
    assert operation.output.element == "{urn:byo:rpc:calls}GetQuoteResponse"
    assert isinstance(element.type, ComplexType)
    assert isinstance(element.type.content, Group)
    children = element.type.content.particles
    assert [(c.name, c.namespace) for c in children if isinstance(c, Element)] == [
        ("symbol", None),
        ("count", None),
        ("deliverTo", None),
    ]
    count = children[1]
    assert isinstance(count, Element)
    assert isinstance(count.type, SimpleType)
    assert count.type.builtin == "int"


def test_rpc_messages_are_validated_whole_wrapper_included() -> None:
    contract = _load("rpc_literal/quotes.wsdl")
    request = (
        '<c:GetQuote xmlns:c="urn:byo:rpc:calls"><symbol>{}</symbol><count>2</count>'
        "<deliverTo><street>Main 1</street><city>Gent</city></deliverTo></c:GetQuote>"
    )

    assert contract.schema.validator.violation(_xml(request.format("ACME"))) is None
    refused = contract.schema.validator.violation(_xml(request.format("acme")))
    assert refused is not None
    assert refused.field == "GetQuote/symbol"


def test_rpc_operation_without_parts_has_an_empty_wrapper() -> None:
    contract = _load("rpc_literal/quotes.wsdl")

    ping = contract.operations["Ping"]

    assert ping.input.parts == ()
    assert ping.soap_action == ""
    empty = _xml('<c:Ping xmlns:c="urn:byo:rpc:calls"/>')
    assert contract.schema.validator.violation(empty) is None


def test_default_port_is_the_first_soap11_one_though_a_soap12_port_comes_first() -> None:
    contract = _load("soap12/weather.wsdl")

    assert [port.name for port in contract.ports] == ["WeatherSoap12", "WeatherSoap"]
    assert contract.port.name == "WeatherSoap"
    assert contract.operations["GetForecast"].soap_version == "1.1"


def test_a_soap12_port_is_served_when_named() -> None:
    contract = _load("soap12/weather.wsdl", port="WeatherSoap12")

    operation = contract.operations["GetForecast"]
    assert contract.port.soap_version == operation.soap_version == "1.2"
    assert operation.soap_action == "urn:byo:soap12:GetForecast"


def test_several_services_non_soap_ports_left_out_and_the_port_chooses_the_binding() -> None:
    default = _load("several_ports/inventory.wsdl")
    admin = _load("several_ports/inventory.wsdl", port="AdminPort")

    assert [(p.service, p.name) for p in default.ports] == [
        ("LegacyService", "AdminPort"),
        ("InventoryService", "PrimaryPort"),
        ("InventoryService", "BackupPort"),
    ]
    assert default.port.name == "PrimaryPort"
    assert list(default.operations) == ["CountStock"]
    assert default.operations["CountStock"].soap_action == ""
    assert list(admin.operations) == ["Purge"]
    assert admin.operations["Purge"].output is None


def test_an_unknown_port_is_refused_listing_the_ports() -> None:
    with pytest.raises(ConfigurationError, match="no SOAP port 'Nope'; ports: AdminPort, Primary"):
        _load("several_ports/inventory.wsdl", port="Nope")


def test_wsdl_import_xsd_import_and_include_in_subfolders_are_followed() -> None:
    contract = _load("imports/orders.wsdl")
    order = (
        '<o:PlaceOrder xmlns:o="urn:byo:imports:orders" xmlns:p="urn:byo:imports:party">'
        "<o:orderId>{}</o:orderId><o:buyer><p:name>A</p:name><p:country>BE</p:country>"
        "</o:buyer></o:PlaceOrder>"
    )

    assert contract.operations["PlaceOrder"].input.element == "{urn:byo:imports:orders}PlaceOrder"
    assert contract.schema.validator.violation(_xml(order.format("ORD-123456"))) is None
    # The pattern lives in the included file: the include was followed.
    assert contract.schema.validator.violation(_xml(order.format("ORD-1"))) is not None
    assert contract_files(byo("imports/orders.wsdl")) == [
        "orders.wsdl",
        "abstract/orders-abstract.wsdl",
        "schemas/orders.xsd",
        "schemas/common/types.xsd",
        "schemas/party/party.xsd",
    ]


def test_declared_faults_name_their_detail_element() -> None:
    contract = _load("faults/transfers.wsdl")

    faults = contract.operations["TransferMoney"].faults

    assert [(f.name, f.element) for f in faults] == [
        ("InsufficientFunds", "{urn:byo:faults}InsufficientFundsFault"),
        ("AccountBlocked", "{urn:byo:faults}AccountBlockedFault"),
    ]


def test_soap_headers_are_declared_and_a_header_part_leaves_the_body() -> None:
    operation = _load("header/accounts.wsdl").operations["GetBalance"]

    assert operation.headers == ("{urn:byo:header}Authentication", "{urn:byo:header}RequestId")
    assert [part.name for part in operation.input.parts] == ["parameters"]
    assert operation.input.element == "{urn:byo:header}GetBalance"


def test_default_wsdl_namespace_absent_soap_action_and_documentation() -> None:
    operation = _load("default_namespace/echo.wsdl").operations["Echo"]

    assert operation.soap_action == ""
    assert operation.documentation == "Answers what it is sent."


@pytest.mark.parametrize(
    ("relative", "operation", "element"),
    [
        ("arrays/orders.wsdl", "SubmitOrder", "SubmitOrder"),
        ("attributes/hotel.wsdl", "BookRoom", "BookRoom"),
        ("simple_content/quotes.wsdl", "Quote", "Quote"),
        ("nillable/contacts.wsdl", "UpdateContact", "UpdateContact"),
        ("enumerations/tickets.wsdl", "SetTicketStatus", "SetTicketStatus"),
        ("patterns/vat.wsdl", "ValidateVat", "ValidateVat"),
        ("decimals/interest.wsdl", "CalculateInterest", "CalculateInterest"),
        ("dates/meetings.wsdl", "ScheduleMeeting", "ScheduleMeeting"),
    ],
)
def test_each_construct_fixture_loads_with_its_element_tree(
    relative: str, operation: str, element: str
) -> None:
    contract = _load(relative)

    tree = body_element(contract, contract.operations[operation].input)

    assert tree.name == element
    assert isinstance(tree.type, ComplexType)


def test_a_schema_of_three_thousand_types_loads(tmp_path: Path) -> None:
    wsdl = tmp_path / "large.wsdl"
    wsdl.write_text(large_contract_wsdl(types=3_000), encoding="utf-8")

    contract = load_contract(wsdl, name="large")

    assert len(contract.operations) == 20
    last = contract.schema.type("{urn:byo:large}Type2999")
    assert isinstance(last, ComplexType)
    assert last.name == "{urn:byo:large}Type2999"


def test_the_project_contracts_load() -> None:
    root = Path(__file__).resolve().parents[2] / "wsdl"
    wsdls = sorted([*root.glob("*.wsdl"), *root.glob("upstream/*.wsdl")])

    loaded = {path.stem: load_contract(path, name=path.stem) for path in wsdls}

    assert set(loaded) == {"banking", "partner", "corebank", "payroll", "logistics", "classifier"}
    assert loaded["banking"].operations["TransferFunds"].soap_action == "TransferFunds"
    assert {f.name for f in loaded["banking"].operations["TransferFunds"].faults} == {
        "ValidationFault"
    }


def test_the_xml_namespace_is_provided_without_reading_its_remote_location(
    tmp_path: Path,
) -> None:
    text = byo("choice/billing.wsdl").read_text(encoding="utf-8")
    xml_ns = "http://www.w3.org/XML/1998/namespace"
    wsdl = tmp_path / "billing.wsdl"
    wsdl.write_text(
        text.replace(
            'elementFormDefault="qualified">',
            f'elementFormDefault="qualified">\n<xs:import namespace="{xml_ns}" '
            'schemaLocation="http://www.w3.org/2001/xml.xsd"/>',
        ).replace(
            '<xs:element name="receipt" type="xs:string"/>',
            '<xs:element name="receipt"><xs:complexType><xs:simpleContent>'
            '<xs:extension base="xs:string"><xs:attribute ref="xml:lang"/></xs:extension>'
            "</xs:simpleContent></xs:complexType></xs:element>",
        )
    )
    reply = (
        '<PayBillResponse xmlns="urn:byo:choice"><receipt xml:lang="{}">r</receipt>'
        "</PayBillResponse>"
    )

    validator = load_contract(wsdl, name="svc").schema.validator

    assert validator.violation(_xml(reply.format("en-GB"))) is None
    assert validator.violation(_xml(reply.format("not a language"))) is not None
