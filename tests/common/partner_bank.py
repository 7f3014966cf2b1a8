"""A partner bank's side of the SOAP door over real sockets: zeep reading the served WSDL, raw
`requests` where zeep cannot produce the input, and the core banking simulator's control plane
(``/sims/corebank/_control/``) saying what core banking received."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import requests
import zeep
from zeep.transports import Transport

from tests.common.live import LiveBridge

DEBTOR = "DE89370400440532013000"  # Bäckerei Müller & Söhne GmbH, 25,000.00 EUR
CREDITOR = "DE12500105170648489890"  # Jürgen Großmann
HARDENED = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)


def partner(live: LiveBridge, correlation_id: str = "partner-e2e") -> Any:
    """A partner's zeep client: WSDL from the bridge, hardened parsing, timeouts."""
    session = requests.Session()
    session.headers["X-Request-ID"] = correlation_id
    transport = Transport(session=session, timeout=15, operation_timeout=15)
    return zeep.Client(f"{live.url}/soap/banking?wsdl", transport=transport, settings=HARDENED)


def transfer_funds(client: Any, msg_id: str, **changes: Any) -> Any:
    message: dict[str, Any] = {
        "MsgId": msg_id,
        "CreDtTm": dt.datetime(2025, 6, 2, 9, 30, tzinfo=dt.UTC),
        "Amt": {"_value_1": Decimal("100.00"), "Ccy": "EUR"},
        "Dbtr": {"Nm": "Bäckerei Müller & Söhne GmbH", "Acct": {"IBAN": DEBTOR}},
        "Cdtr": {"Nm": "Jürgen Großmann", "Acct": {"IBAN": CREDITOR}},
        "RmtInf": {"Ustrd": "Lohn Juni"},
        "ChrgBr": "SHAR",
    }
    message.update(changes)
    return client.service.TransferFunds(**message)


def control(live: LiveBridge, route: str, **payload: Any) -> Any:
    url = f"{live.url}/sims/corebank/_control/{route}"
    if payload:
        response = requests.post(url, json=payload, timeout=10)
        assert response.status_code == 201, response.text
    else:
        response = requests.get(url, timeout=10)
    return response.json()


def postings(live: LiveBridge, tx_id: str) -> list[dict[str, Any]]:
    """PostPayment calls core banking received for a transfer (any outcome)."""
    calls: list[dict[str, Any]] = control(live, f"calls?operation=PostPayment&key={tx_id}")["calls"]
    return calls


def payments(live: LiveBridge, tx_id: str) -> list[dict[str, Any]]:
    """Payments core banking applied for a transfer."""
    effects: list[dict[str, Any]] = control(live, f"effects?scope=payment&key={tx_id}")["effects"]
    return effects


def post_raw(live: LiveBridge, body: bytes, action: str | None, **headers: str) -> Any:
    sent = {"Content-Type": "text/xml; charset=utf-8", **headers}
    if action is not None:
        sent["SOAPAction"] = f'"{action}"'
    return requests.post(f"{live.url}/soap/banking", data=body, headers=sent, timeout=15)
