"""Core banking's circuit breaker seen from the doors: while it is open a transfer is answered
503 with Retry-After (SOAP: a Server fault with HTTP 503), core banking is not called, and the
transfer stays unfinished until the reconciler settles it once the circuit has closed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pybreaker
import pytest
from lxml import etree
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.domain.errors import OutcomeUnknown
from bridge.store.transfers import TransferStore
from bridge.sync.reconcile import Reconciler
from tests.common.banking import FakeCoreBank
from tests.common.rest import assert_problem, post_json
from tests.credentials import Credentials

SOAP_REQUEST = Path(__file__).parents[1] / "data" / "soap" / "requests" / "transfer_funds.xml"
FAULT = "{urn:bridge:fault:v1}FaultInfo"


@pytest.fixture
def breaker(rest_bridge: Bridge) -> pybreaker.CircuitBreaker:
    """The app's own core banking breaker (the one its views show), in front of the fake."""
    breaker: pybreaker.CircuitBreaker = rest_bridge.sync.breakers["corebank"]
    return breaker


def reconciler(bridge: Bridge) -> Reconciler:
    return Reconciler(
        TransferStore(bridge.engine),
        bridge.banking,
        lease=timedelta(minutes=5),
        post_within=timedelta(days=1),
        pending_every=timedelta(minutes=5),
    )


def send(client: Client, transfer: dict[str, Any]) -> Any:
    return post_json(client, "/api/v1/transfers", {**transfer, "msg_id": f"CB-{uuid.uuid4().hex}"})


def test_core_banking_failing_opens_its_circuit_and_transfers_then_fail_fast(
    client: Client,
    corebank: FakeCoreBank,
    breaker: pybreaker.CircuitBreaker,
    transfer: dict[str, Any],
) -> None:
    corebank.failure = OutcomeUnknown("corebank", "PostPayment: HTTP 500")
    for _ in range(breaker.fail_max):  # two calls per transfer: PostPayment, then a look
        if breaker.current_state == pybreaker.STATE_OPEN:
            break
        assert send(client, transfer).status_code == 503
    assert breaker.current_state == pybreaker.STATE_OPEN
    corebank.failure = None
    corebank.entered.clear()

    refused = send(client, transfer)

    problem = assert_problem(refused, 503, "upstream-unavailable")
    assert "circuit open" in problem["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= breaker.reset_timeout
    assert not corebank.entered.is_set()
    assert corebank.postings == []


def test_a_transfer_refused_by_the_open_circuit_stays_unfinished_for_the_reconciler(
    client: Client,
    rest_bridge: Bridge,
    credentials: Credentials,
    corebank: FakeCoreBank,
    breaker: pybreaker.CircuitBreaker,
    transfer: dict[str, Any],
) -> None:
    breaker.open()
    msg_id = f"CB-{uuid.uuid4().hex}"
    assert post_json(client, "/api/v1/transfers", {**transfer, "msg_id": msg_id}).status_code == 503
    store = TransferStore(rest_bridge.engine)

    while_open = reconciler(rest_bridge).run()

    assert [entry.outcome for entry in while_open.settled] == ["failed"]
    assert "circuit open" in (while_open.error or "")
    record = store.find(credentials.client.id, msg_id=msg_id)
    assert record is not None
    assert (record.finished, record.lease_until) == (False, None)
    assert corebank.postings == []

    breaker.close()
    closed = reconciler(rest_bridge).run()

    assert [(e.msg_id, e.outcome, e.how) for e in closed.settled] == [(msg_id, "booked", "posted")]
    assert len(corebank.postings) == 1


def test_open_circuit_is_a_soap_server_fault_with_http_503_and_retry_after(
    rest_bridge: Bridge, credentials: Credentials, breaker: pybreaker.CircuitBreaker
) -> None:
    breaker.open()
    body = SOAP_REQUEST.read_text("utf-8").replace("PB-SOAP-0001", f"CB-{uuid.uuid4().hex[:20]}")

    response = Client(rest_bridge).post(
        "/soap/banking",
        data=body.encode(),
        headers={
            **credentials.headers,
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"TransferFunds"',
        },
    )

    assert response.status_code == 503, response.get_data(as_text=True)
    fault = etree.fromstring(response.get_data())
    assert (fault.findtext(".//faultcode") or "").endswith("Server")
    info = fault.find(f".//{FAULT}")
    assert info is not None
    retry_after = info.findtext("{urn:bridge:fault:v1}RetryAfter")
    assert 0 < int(retry_after or 0) <= breaker.reset_timeout
