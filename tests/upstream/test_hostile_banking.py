"""Transfers through a hostile network to core banking, checked against core banking's books.

Only a SOAP Client fault is a "no". After any other answer to a PostPayment that may have reached
core banking (and, while settling, to the InquirePayment that asks about it) the transfer is left
unfinished and the caller is told to retry (503, or a Server fault with HTTP 503); once the
network behaves, reading the transfer settles it to what core banking booked, and the money moved
exactly once. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from sqlalchemy import select

from bridge.store.tables import transfers
from tests.common.network import Network
from tests.hostile_network import UNKNOWN_OUTCOME, Shape

pytestmark = pytest.mark.slow

DATA = Path(__file__).parents[1] / "data"
BANKING = "urn:bridge:banking:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
FAULT_INFO = "urn:bridge:fault:v1"


def transfer_body(msg_id: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((DATA / "rest" / "transfer_request.json").read_text("utf-8"))
    return {**body, "msg_id": msg_id}


def new_msg_id() -> str:
    return f"HOSTILE-{uuid.uuid4().hex[:20].upper()}"


def post_transfer(network: Network, msg_id: str) -> requests.Response:
    return requests.post(f"{network.url}/api/v1/transfers", json=transfer_body(msg_id), timeout=30)


def stored(network: Network, msg_id: str) -> dict[str, Any]:
    with network.live.bridge.engine.connect() as connection:
        row = connection.execute(select(transfers).where(transfers.c.msg_id == msg_id)).one()
    return dict(row._mapping)


def booked(network: Network, tx_id: str) -> int:
    """How many times core banking applied a posting under this externalRef."""
    corebank = network.sim("corebank")
    applied = [c for c in corebank.calls("PostPayment", key=tx_id) if not c["duplicate"]]
    assert len(corebank.effects("payment", tx_id)) == len(applied)
    return len(applied)


def assert_unfinished_and_retry_later(
    network: Network, response: requests.Response, msg_id: str
) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Content-Type"] == "application/problem+json"
    assert stored(network, msg_id)["status"] == "RCVD"  # neither booked nor rejected


@pytest.mark.parametrize("shape", UNKNOWN_OUTCOME, ids=str)
def test_post_payment_without_a_verdict_is_settled_by_asking_and_posted_once(
    banking_network: Network, shape: Shape
) -> None:
    network, msg_id = banking_network, new_msg_id()
    corebank = network.proxies["corebank"]
    corebank.script("PostPayment", shape)
    corebank.script("InquirePayment", shape)  # core banking cannot be asked either

    first = post_transfer(network, msg_id)

    assert_unfinished_and_retry_later(network, first, msg_id)
    assert corebank.shapes("PostPayment") == [shape]  # asked before posting again, never re-posted
    tx_id = stored(network, msg_id)["tx_id"]
    assert booked(network, tx_id) == (1 if shape.forwards else 0)

    network.behave()
    read = requests.get(f"{network.url}/api/v1/transfers/{msg_id}", timeout=30)
    assert read.status_code == 200, read.text
    if shape.forwards:  # core banking booked it: asking finds it
        assert read.json()["status"] == "ACSC"
    else:  # never arrived: still accepted, and the partner's retry posts it
        assert read.json()["status"] == "ACCP"
        retried = post_transfer(network, msg_id)
        assert retried.status_code == 201, retried.text
        assert retried.json()["status"] == "ACSC"
    assert stored(network, msg_id)["status"] == "ACSC"
    assert booked(network, tx_id) == 1


def test_client_fault_to_post_payment_is_a_rejection_with_nothing_posted(
    banking_network: Network,
) -> None:
    network, msg_id = banking_network, new_msg_id()
    network.proxies["corebank"].script("PostPayment", Shape.CLIENT_FAULT)

    answer = post_transfer(network, msg_id)

    assert answer.status_code == 201, answer.text
    assert (answer.json()["status"], answer.json()["reason"]["code"]) == ("RJCT", "NARR")
    assert booked(network, answer.json()["tx_id"]) == 0


@pytest.mark.parametrize("shape", list(Shape), ids=str)
def test_inquiry_without_an_answer_while_settling_never_rejects_or_posts_twice(
    banking_network: Network, shape: Shape
) -> None:
    """The posting was applied but its reply lost; every InquirePayment that asks about it gets
    `shape` (a refused inquiry included: it says nothing about the payment)."""
    network, msg_id = banking_network, new_msg_id()
    corebank = network.proxies["corebank"]
    corebank.script("PostPayment", Shape.RESET_AFTER, times=1)
    corebank.script("InquirePayment", shape)

    first = post_transfer(network, msg_id)

    assert_unfinished_and_retry_later(network, first, msg_id)
    assert corebank.shapes("PostPayment") == [Shape.RESET_AFTER]
    assert corebank.shapes("InquirePayment") == [shape, shape]
    network.behave()
    read = requests.get(f"{network.url}/api/v1/transfers/{msg_id}", timeout=30)
    assert read.status_code == 200, read.text
    assert read.json()["status"] == "ACSC"
    assert booked(network, stored(network, msg_id)["tx_id"]) == 1


@pytest.mark.parametrize("shape", [Shape.HTML_5XX, Shape.TIMEOUT_AFTER], ids=str)
def test_soap_partner_gets_a_server_fault_with_503_and_reads_the_booking_later(
    banking_network: Network, shape: Shape
) -> None:
    network, msg_id = banking_network, new_msg_id()
    network.proxies["corebank"].script("PostPayment", shape)
    network.proxies["corebank"].script("InquirePayment", shape)

    response = soap_call(network, "TransferFunds", transfer_funds(msg_id))

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    fault = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    assert (fault.findtext("faultcode") or "").endswith("Server")
    assert fault.findtext(f"detail/{{{FAULT_INFO}}}FaultInfo/{{{FAULT_INFO}}}RetryAfter")
    assert stored(network, msg_id)["status"] == "RCVD"

    network.behave()
    status = soap_call(network, "GetTransferStatus", transfer_status(msg_id))
    assert status.status_code == 200, status.text
    answer = etree.fromstring(status.content)
    assert answer.findtext(f".//{{{BANKING}}}Sts") == "ACSC"
    assert booked(network, stored(network, msg_id)["tx_id"]) == 1


def soap_call(network: Network, action: str, body: bytes) -> requests.Response:
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
    return requests.post(f"{network.url}/soap/banking", data=body, headers=headers, timeout=30)


def transfer_funds(msg_id: str) -> bytes:
    document = etree.parse(str(DATA / "soap" / "requests" / "transfer_funds.xml"))
    element = document.find(f".//{{{BANKING}}}MsgId")
    assert element is not None
    element.text = msg_id
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8")


def transfer_status(msg_id: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP_ENV}" '
        f'xmlns:b="{BANKING}"><s:Body><b:GetTransferStatus><b:MsgId>{msg_id}</b:MsgId>'
        "</b:GetTransferStatus></s:Body></s:Envelope>"
    ).encode()
