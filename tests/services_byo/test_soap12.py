"""An imported service bound to SOAP 1.2: its client, its simulator and its pass-through speak
1.2 (`application/soap+xml` with the action in the media type, Sender/Receiver faults)."""

from __future__ import annotations

import requests
from lxml import etree

from bridge.sims.control import SimControl
from tests.common.live import LiveBridge
from tests.credentials import Credentials

ENV12 = "http://www.w3.org/2003/05/soap-envelope"
VAT = "urn:example:vat:v1"
CHECK = {"countryCode": "DE", "vatNumber": "123456789"}


def check_vat(country: str = "DE") -> bytes:
    return (
        f'<e:Envelope xmlns:e="{ENV12}"><e:Body><v:checkVat xmlns:v="{VAT}">'
        f"<v:countryCode>{country}</v:countryCode><v:vatNumber>123456789</v:vatNumber>"
        "</v:checkVat></e:Body></e:Envelope>"
    ).encode()


def soap12(live: LiveBridge, body: bytes, headers: dict[str, str], media: str) -> requests.Response:
    return requests.post(
        f"{live.url}/soap/services/vat12",
        data=body,
        headers={"Content-Type": media, **headers},
        timeout=30,
    )


SOAP12_MEDIA = f'application/soap+xml; charset=utf-8; action="{VAT}#checkVat"'


def test_rest_calls_a_soap12_upstream_and_reads_its_reply(
    live: LiveBridge, caller: Credentials, simulator12: SimControl
) -> None:
    answer = requests.post(
        f"{live.url}/api/v1/services/vat12/checkVat", json=CHECK, headers=caller.headers, timeout=30
    )

    assert answer.status_code == 200, answer.text
    assert isinstance(answer.json()["valid"], bool)
    assert [c["operation"] for c in simulator12.calls()] == ["checkVat"]


def test_a_soap12_declared_fault_is_its_problem_type(
    live: LiveBridge, caller: Credentials, simulator12: SimControl
) -> None:
    simulator12.inject("declared_fault", operation="checkVat")

    answer = requests.post(
        f"{live.url}/api/v1/services/vat12/checkVat", json=CHECK, headers=caller.headers, timeout=30
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["type"].endswith("/services/vat12/InvalidInputFault")


def test_the_pass_through_answers_soap12_in_soap12(live: LiveBridge, caller: Credentials) -> None:
    answer = soap12(live, check_vat(), caller.headers, SOAP12_MEDIA)

    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/soap+xml")
    body = etree.fromstring(answer.content).find(f"{{{ENV12}}}Body")
    assert body is not None
    assert body[0].tag == f"{{{VAT}}}checkVatResponse"


def test_a_soap12_message_the_contract_refuses_is_a_sender_fault(
    live: LiveBridge, caller: Credentials, simulator12: SimControl
) -> None:
    answer = soap12(live, check_vat(country="de"), caller.headers, SOAP12_MEDIA)

    code = etree.fromstring(answer.content).findtext(f".//{{{ENV12}}}Code/{{{ENV12}}}Value")
    assert answer.status_code == 500
    assert code == "soap:Sender"
    assert simulator12.calls() == []


def test_soap11_sent_to_a_soap12_service_is_a_version_mismatch(
    live: LiveBridge, caller: Credentials
) -> None:
    answer = soap12(live, check_vat(), caller.headers, "text/xml; charset=utf-8")

    code = etree.fromstring(answer.content).findtext(f".//{{{ENV12}}}Code/{{{ENV12}}}Value")
    assert code == "soap:VersionMismatch"
