"""Wire compatibility: zeep calls every operation of every simulator, through the WSDL the
simulator serves and through the checked-in WSDL pointed at it; the contract's own request
samples are answered or refused as the schema says; hostile XML never reaches spyne."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from bridge.mapping.schemas import contract_schema
from bridge.sims.context import SimContext
from bridge.sims.contract import CONTRACTS
from tests.common.sims import NAMES, NS_ENV, SimServer
from tests.sims.messages import BAKERY, batch, document, employee, payment, shipment

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "contracts"
NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
NS_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
NS_XS = "http://www.w3.org/2001/XMLSchema"

Call = Callable[[Any], Any]
EVERY_OPERATION: dict[str, dict[str, Call]] = {
    "corebank": {
        "PostPayment": lambda s: s.PostPayment(**payment("WIRE-1")),
        "InquirePayment": lambda s: s.InquirePayment(externalRef="WIRE-1"),
        "ValidateAccount": lambda s: s.ValidateAccount(accountNo=BAKERY, holderName="Bäckerei"),
        "GetStatement": lambda s: s.GetStatement(
            accountNo=BAKERY,
            fromDate=date(2025, 5, 1),
            toDate=date(2025, 5, 31),
            pageNo=1,
            pageSize=5,
        ),
    },
    "payroll": {
        "UpsertEmployee": lambda s: s.UpsertEmployee(EmployeeRecord=employee("WIRE-R1")),
        "SubmitPayrollBatch": lambda s: s.SubmitPayrollBatch(
            Batch=batch("WIRE-B1", employee("WIRE-R2", "E2002"))
        ),
    },
    "logistics": {
        "CreateShipment": lambda s: s.CreateShipment(ShippingDetails=shipment("WIRE-O1")),
    },
    "classifier": {
        "ClassifyText": lambda s: s.ClassifyText(**document("WIRE-D1", "Wo ist mein Paket?")),
        "ClassifyBatch": lambda s: s.ClassifyBatch(
            Document=[document("WIRE-D2", "Rechnung Nr. 4711", "INVOICE", Language="de")]
        ),
    },
}
CASES = [(name, operation) for name in NAMES for operation in EVERY_OPERATION[name]]


def _contract(name: str) -> etree._Element:
    return etree.parse(str(CONTRACTS / f"{name}.wsdl")).getroot()


def _samples(prefix: str) -> list[Path]:
    return sorted(path for name in NAMES for path in SAMPLES.glob(f"{name}_{prefix}_*.xml"))


def _operations(name: str) -> set[str]:
    found = _contract(name).iterfind(f"{{{NS_WSDL}}}portType/{{{NS_WSDL}}}operation")
    return {operation.get("name", "") for operation in found}


def _is_request(path: Path) -> bool:
    name = path.name.split("_", 1)[0]
    root = etree.parse(str(path)).getroot()
    return etree.QName(root).localname in _operations(name)


@pytest.mark.parametrize("name", NAMES)
def test_the_table_names_every_operation_of_the_contract(name: str) -> None:
    assert set(EVERY_OPERATION[name]) == _operations(name)


@pytest.mark.parametrize(("name", "operation"), CASES)
def test_zeep_calls_every_operation_through_the_served_wsdl(
    sim_server: SimServer, name: str, operation: str
) -> None:
    result = EVERY_OPERATION[name][operation](sim_server.client(name).service)
    assert result is not None


@pytest.mark.parametrize(("name", "operation"), CASES)
def test_zeep_calls_every_operation_through_the_checked_in_wsdl(
    sim_server: SimServer, name: str, operation: str
) -> None:
    result = EVERY_OPERATION[name][operation](sim_server.checked_in_client(name))
    assert result is not None


@pytest.mark.parametrize("name", NAMES)
def test_served_wsdl_is_the_checked_in_contract_at_the_simulator_address(
    sim_server: SimServer, name: str
) -> None:
    served = requests.get(f"{sim_server.url(name)}?wsdl", timeout=5)
    assert served.status_code == 200
    assert served.headers["Content-Type"].startswith("text/xml")
    expected = etree.parse(str(CONTRACTS / f"{name}.wsdl"))
    for address in expected.iterfind(f".//{{{NS_SOAP}}}address"):
        address.set("location", sim_server.url(name))
    served_tree = etree.ElementTree(etree.fromstring(served.content))
    assert etree.tostring(served_tree, method="c14n") == etree.tostring(expected, method="c14n")


@pytest.mark.parametrize("name", NAMES)
def test_spyne_models_follow_the_contract_sequences(sim_server: SimServer, name: str) -> None:
    simulator = import_module(f"bridge.sims.{name}").build(
        SimContext(sim_server.engine, "http://x")
    )
    generated = etree.fromstring(simulator.soap.doc.wsdl11.get_interface_document())
    assert _sequences(generated) == _sequences(_contract(name))


def _sequences(definitions: etree._Element) -> dict[str | None, list[tuple[Any, str, str]]]:
    """complexType name -> [(element, minOccurs, maxOccurs)], defaults spelled out."""
    found = {}
    for complex_type in definitions.iterfind(f".//{{{NS_XS}}}complexType"):
        found[complex_type.get("name")] = [
            (item.get("name"), item.get("minOccurs", "1"), item.get("maxOccurs", "1"))
            for item in complex_type.iterfind(f"{{{NS_XS}}}sequence/{{{NS_XS}}}element")
        ]
    return found


@pytest.mark.parametrize(
    "path", [p for p in _samples("valid") if _is_request(p)], ids=lambda p: p.stem
)
def test_every_valid_request_sample_is_answered_with_a_valid_response(
    sim_server: SimServer, path: Path
) -> None:
    name = path.name.split("_", 1)[0]
    response = sim_server.post_document(name, etree.parse(str(path)).getroot())
    answer = etree.fromstring(response.content).find(f"{{{NS_ENV}}}Body/*")
    assert response.status_code == 200, response.text
    assert answer is not None
    contract_schema(name).assertValid(answer)


@pytest.mark.parametrize(
    "path", [p for p in _samples("invalid") if _is_request(p)], ids=lambda p: p.stem
)
def test_every_invalid_request_sample_is_refused_and_applies_nothing(
    sim_server: SimServer, path: Path
) -> None:
    name = path.name.split("_", 1)[0]
    response = sim_server.post_document(name, etree.parse(str(path)).getroot())
    fault = etree.fromstring(response.content).find(f"{{{NS_ENV}}}Body/{{{NS_ENV}}}Fault")
    assert response.status_code == 500
    assert fault is not None
    assert fault.findtext("faultcode") == "soap:Client"
    assert sim_server.controls[name].effects() == []
    assert [call["operation"] for call in sim_server.controls[name].calls()] == ["(refused)"]


DOCTYPE_PAYLOADS = {
    "internal_entity": b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x "PAY">]>'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<InquirePayment xmlns="urn:corebank:payments:v1"><externalRef>&x;</externalRef>'
    b"</InquirePayment></soap:Body></soap:Envelope>",
    "external_dtd": b'<?xml version="1.0"?><!DOCTYPE e SYSTEM "http://127.0.0.1:9/x.dtd">'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<InquirePayment xmlns="urn:corebank:payments:v1"><externalRef>A</externalRef>'
    b"</InquirePayment></soap:Body></soap:Envelope>",
    "undeclared_entity": b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soap:Body><InquirePayment xmlns="urn:corebank:payments:v1"><externalRef>&x;'
    b"</externalRef></InquirePayment></soap:Body></soap:Envelope>",
}


@pytest.mark.parametrize("payload", DOCTYPE_PAYLOADS.values(), ids=DOCTYPE_PAYLOADS.keys())
def test_doctypes_and_entities_are_refused_with_a_client_fault(
    sim_server: SimServer, payload: bytes
) -> None:
    response = sim_server.post_raw("corebank", payload, "InquirePayment")
    fault = etree.fromstring(response.content).find(f"{{{NS_ENV}}}Body/{{{NS_ENV}}}Fault")
    assert response.status_code == 500
    assert fault is not None
    assert fault.findtext("faultcode") == "soap:Client"
    assert [c["operation"] for c in sim_server.controls["corebank"].calls()] == ["(refused)"]


def test_an_operation_of_another_contract_is_refused(sim_server: SimServer) -> None:
    other = etree.fromstring(
        b'<ClassifyText xmlns="urn:classifier:v1"><DocumentId>d</DocumentId>'
        b"<Text>t</Text><Kind>MESSAGE</Kind></ClassifyText>"
    )
    response = sim_server.post_document("corebank", other)
    assert response.status_code == 500
    assert b"unknown operation element" in response.content


def test_a_soap_action_naming_another_operation_is_refused(sim_server: SimServer) -> None:
    inquiry = etree.fromstring(
        b'<InquirePayment xmlns="urn:corebank:payments:v1"><externalRef>A</externalRef>'
        b"</InquirePayment>"
    )
    envelope = etree.Element(f"{{{NS_ENV}}}Envelope")
    etree.SubElement(envelope, f"{{{NS_ENV}}}Body").append(inquiry)

    response = sim_server.post_raw("corebank", etree.tostring(envelope), "PostPayment")

    assert response.status_code == 500
    assert b"does not name the body" in response.content


def test_get_without_wsdl_is_not_allowed_and_unknown_paths_are_not_found(
    sim_server: SimServer,
) -> None:
    assert requests.get(sim_server.url("payroll"), timeout=5).status_code == 405
    assert requests.get(f"{sim_server.url('payroll')}/nothing", timeout=5).status_code == 404
    assert requests.get(f"{sim_server.base_url}/sims/unknown?wsdl", timeout=5).status_code == 404
