"""One transfer, two doors: what one door stored, the other reads, and a MsgId is one
idempotency key whichever door it arrives through."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.common.live import LiveBridge
from tests.common.partner_bank import CREDITOR, DEBTOR, partner, payments, transfer_funds

pytestmark = pytest.mark.slow


def rest_transfer(msg_id: str) -> dict[str, Any]:
    """The same transfer as tests.soap.test_e2e.transfer_funds sends, as REST JSON."""
    return {
        "msg_id": msg_id,
        "created_at": dt.datetime(2025, 6, 2, 9, 30, tzinfo=dt.UTC).isoformat(),
        "amount": {"amount": "100.00", "currency": "EUR"},
        "debtor": {"name": "Bäckerei Müller & Söhne GmbH", "account": {"iban": DEBTOR}},
        "creditor": {"name": "Jürgen Großmann", "account": {"iban": CREDITOR}},
        "remittance_info": "Lohn Juni",
        "charge_bearer": "SHAR",
    }


def test_a_soap_transfer_is_read_through_rest(live_bridge: LiveBridge) -> None:
    reply = transfer_funds(partner(live_bridge), "BOTH-SOAP-1")

    read = requests.get(f"{live_bridge.url}/api/v1/transfers/BOTH-SOAP-1", timeout=15).json()

    assert (read["tx_id"], read["status"]) == (reply.TxId, reply.Sts)


def test_a_rest_transfer_is_read_through_soap(live_bridge: LiveBridge) -> None:
    created = requests.post(
        f"{live_bridge.url}/api/v1/transfers", json=rest_transfer("BOTH-REST-1"), timeout=15
    ).json()

    status = partner(live_bridge).service.GetTransferStatus(MsgId="BOTH-REST-1")

    assert (status.TxId, status.Sts) == (created["tx_id"], created["status"])
    assert status.BookgDt == dt.date.fromisoformat(created["booking_date"])


def test_the_same_msg_id_through_both_doors_is_one_payment(live_bridge: LiveBridge) -> None:
    created = requests.post(
        f"{live_bridge.url}/api/v1/transfers", json=rest_transfer("BOTH-KEY-1"), timeout=15
    ).json()

    retried = transfer_funds(partner(live_bridge), "BOTH-KEY-1")

    assert retried.TxId == created["tx_id"]
    assert len(payments(live_bridge, created["tx_id"])) == 1


def test_verification_and_statement_agree_through_both_doors(live_bridge: LiveBridge) -> None:
    soap = partner(live_bridge).service
    by_soap = soap.VerifyAccount(Acct={"IBAN": CREDITOR}, Nm="Jürgen Großmann")
    by_rest = requests.post(
        f"{live_bridge.url}/api/v1/accounts/{CREDITOR}/verification",
        json={"name": "Jürgen Großmann"},
        timeout=15,
    ).json()
    assert (by_soap.Rslt, by_soap.AcctSts) == (by_rest["result"], by_rest["account_status"])

    page = soap.GetTransactions(
        Acct={"IBAN": DEBTOR}, FrDt=dt.date(2020, 1, 1), ToDt=dt.date(2030, 1, 1), PgNb=1, PgSz=50
    )
    listed = requests.get(
        f"{live_bridge.url}/api/v1/accounts/{DEBTOR}/transactions",
        params={"from_date": "2020-01-01", "to_date": "2030-01-01", "limit": 50},
        timeout=15,
    ).json()
    assert [tx.TxId for tx in page.Tx] == [tx["tx_id"] for tx in listed["transactions"]]
    assert [tx.Amt._value_1 for tx in page.Tx] == [
        Decimal(tx["amount"]["amount"]) for tx in listed["transactions"]
    ]
