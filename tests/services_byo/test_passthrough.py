"""`/soap/services/<name>`: the SOAP pass-through of an imported service."""

from __future__ import annotations

import pytest
import requests
import zeep
from lxml import etree
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from bridge.sims.control import SimControl
from bridge.upstream.soap import hardened_settings
from tests.common.live import LiveBridge
from tests.credentials import Credentials, grant

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
VAT = "urn:example:vat:v1"


def check_vat(country: str = "DE", number: str = "123456789") -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{ENV}"><soap:Body><v:checkVat xmlns:v="{VAT}">'
        f"<v:countryCode>{country}</v:countryCode><v:vatNumber>{number}</v:vatNumber>"
        "</v:checkVat></soap:Body></soap:Envelope>"
    ).encode()


def post(live: LiveBridge, body: bytes, **headers: str) -> requests.Response:
    return requests.post(
        f"{live.url}/soap/services/vat",
        data=body,
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{VAT}#checkVat"',
            **headers,
        },
        timeout=30,
    )


def body_child(answer: requests.Response) -> etree._Element:
    body = etree.fromstring(answer.content).find(f"{{{ENV}}}Body")
    assert body is not None
    return body[0]


def test_a_call_with_an_api_key_is_forwarded_and_answered(
    live: LiveBridge, caller: Credentials, simulator: SimControl
) -> None:
    answer = post(live, check_vat(), **caller.headers)

    assert answer.status_code == 200, answer.text
    assert body_child(answer).tag == f"{{{VAT}}}checkVatResponse"
    assert [c["operation"] for c in simulator.calls()] == ["checkVat"]


def test_a_message_the_contract_refuses_is_a_client_fault_and_nothing_is_sent(
    live: LiveBridge, caller: Credentials, simulator: SimControl
) -> None:
    answer = post(live, check_vat(country="de"), **caller.headers)

    assert answer.status_code == 500
    fault = body_child(answer)
    assert fault.findtext("faultcode") == "soap:Client"
    assert "countryCode" in (fault.findtext("faultstring") or "")
    assert simulator.calls() == []


def test_a_caller_without_credentials_gets_a_401_client_fault(live: LiveBridge) -> None:
    answer = post(live, check_vat())

    assert answer.status_code == 401
    assert body_child(answer).findtext("faultcode") == "soap:Client"


def test_a_caller_without_the_scope_gets_a_403_client_fault(
    live: LiveBridge, simulator: SimControl
) -> None:
    outsider = grant(live.bridge.engine, tier="partner", scopes={"transfers:write"})

    answer = post(live, check_vat(), **outsider.headers)

    assert answer.status_code == 403
    assert body_child(answer).findtext("faultcode") == "soap:Client"
    assert simulator.calls() == []


def test_the_wsdl_is_served_with_our_address_and_only_the_served_port(live: LiveBridge) -> None:
    answer = requests.get(f"{live.url}/soap/services/vat?wsdl", timeout=30)

    wsdl = etree.fromstring(answer.content)
    addresses = [
        element.get("location")
        for element in wsdl.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address")
    ]
    assert addresses == [f"{live.url}/soap/services/vat"]
    assert b"legacy.example" not in answer.content


def test_zeep_with_a_username_token_calls_the_pass_through(
    live: LiveBridge, caller: Credentials
) -> None:
    password = live.bridge.security.clients.create_wss_password(caller.client.id)
    client = zeep.Client(
        f"{live.url}/soap/services/vat?wsdl",
        transport=Transport(timeout=30),
        settings=hardened_settings(),
        wsse=UsernameToken(caller.client.id, password, use_digest=True),
    )

    first = client.service.checkVat(countryCode="DE", vatNumber="123456789")
    again = client.service.checkVat(countryCode="DE", vatNumber="123456789")

    assert first.countryCode
    assert isinstance(first.valid, bool)
    assert first.requestDate == again.requestDate


def test_zeep_gets_the_declared_fault_of_the_upstream(
    live: LiveBridge, caller: Credentials, simulator: SimControl
) -> None:
    simulator.inject("declared_fault", operation="checkVat")
    session = requests.Session()
    session.headers.update(caller.headers)
    client = zeep.Client(
        f"{live.url}/soap/services/vat?wsdl",
        transport=Transport(session=session, timeout=30),
        settings=hardened_settings(),
    )

    with pytest.raises(zeep.exceptions.Fault) as raised:
        client.service.checkVat(countryCode="DE", vatNumber="123456789")

    assert raised.value.message == "InvalidInputFault"
    assert raised.value.detail is not None
    assert raised.value.detail[0].tag == f"{{{VAT}}}invalidInput"


def test_rest_and_soap_calls_are_audited_by_operation(
    live: LiveBridge, caller: Credentials
) -> None:
    post(live, check_vat(), **caller.headers)
    requests.post(
        f"{live.url}/api/v1/services/vat/checkVat",
        json={"countryCode": "DE", "vatNumber": "123456789"},
        headers=caller.headers,
        timeout=30,
    )
    live.bridge.audit.flush()

    rows = live.bridge.audit.query(client_id=caller.client.id)

    assert sorted((row.interface, row.operation, row.outcome) for row in rows) == [
        ("rest", "POST /api/v1/services/vat/checkVat", "ok"),
        ("soap", "vat.checkVat", "ok"),
    ]


def test_a_document_with_a_doctype_is_refused_unexpanded(
    live: LiveBridge, caller: Credentials, simulator: SimControl
) -> None:
    hostile = b'<!DOCTYPE x [<!ENTITY e "DE">]>' + check_vat(country="&e;")

    answer = post(live, hostile, **caller.headers)

    assert answer.status_code == 500
    assert body_child(answer).findtext("faultcode") == "soap:Client"
    assert simulator.calls() == []


def test_a_body_over_the_limit_is_refused_unread(live: LiveBridge, caller: Credentials) -> None:
    limit = live.bridge.settings.soap_max_body_bytes

    answer = post(live, check_vat() + b" " * limit, **caller.headers)

    assert answer.status_code == 413
