"""The banking operations through the SOAP door, in process, with a fake core bank.

Answers are checked against the contract's schema; faults by their code, field and kind.
"""

from __future__ import annotations

import gc
import hashlib
from datetime import timedelta
from typing import Any

import pytest
import spyne.context
from lxml import etree

from bridge.domain.errors import UpstreamUnavailable
from bridge.mapping import Mappings, canonical_json, xml
from bridge.mapping.schemas import contract_schema
from bridge.security.links import AccountLinks
from bridge.store.transfers import TransferStore
from tests.common.soap import (
    BANKING,
    DATA,
    POOR_ACCOUNT,
    SOAP_ENV,
    UNKNOWN_ACCOUNT,
    Door,
    expected_field,
    no_stack_trace,
    read_fault,
    request_file,
    transfer,
)

INVALID = sorted(path.name for path in (DATA / "invalid").glob("*.xml"))
ACTIONS = {
    "transfer_funds": "TransferFunds",
    "verify_account": "VerifyAccount",
    "get_transfer_status": "GetTransferStatus",
    "get_transactions": "GetTransactions",
}


def _answer(response: Any, element: str) -> Any:
    """The body element of a successful answer, checked against the contract."""
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    envelope = etree.fromstring(response.data)
    (answer,) = envelope.find(f"{{{SOAP_ENV}}}Body")
    assert answer.tag == f"{{{BANKING}}}{element}"
    schema = contract_schema("banking")
    assert schema.validate(answer), schema.error_log
    return answer


def _text(element: Any, path: str) -> str | None:
    return element.findtext("/".join(f"{{{BANKING}}}{name}" for name in path.split("/")))


# -- every operation -------------------------------------------------------------------------


def test_transfer_funds_posts_once_and_answers_settled(door: Door) -> None:
    answer = _answer(door.post(transfer()), "TransferFundsResponse")
    assert _text(answer, "MsgId") == "PB-SOAP-0001"
    assert _text(answer, "Sts") == "ACSC"
    assert (_text(answer, "TxId") or "").startswith("TX")
    (posting,) = door.corebank.postings
    assert posting.external_ref == _text(answer, "TxId")
    assert str(posting.amount.amount) == "100.00"
    assert posting.narrative == "Lohn Juni / Hóa đơn 42"


def test_verify_account_answers_the_match(door: Door) -> None:
    answer = _answer(
        door.post(request_file("requests/verify_account.xml"), "VerifyAccount"),
        "VerifyAccountResponse",
    )
    assert (_text(answer, "Rslt"), _text(answer, "AcctSts")) == ("MTCH", "ACTV")


def test_verify_account_of_an_unknown_account_is_not_applicable(door: Door) -> None:
    body = request_file("requests/verify_account.xml").replace(
        b"DE89370400440532013000", UNKNOWN_ACCOUNT.encode()
    )
    answer = _answer(door.post(body, "VerifyAccount"), "VerifyAccountResponse")
    assert _text(answer, "Rslt") == "NOAP"
    assert _text(answer, "AcctSts") is None


def test_get_transfer_status_answers_the_stored_transfer(door: Door) -> None:
    sent = _answer(door.post(transfer()), "TransferFundsResponse")
    answer = _answer(
        door.post(request_file("requests/get_transfer_status.xml"), "GetTransferStatus"),
        "GetTransferStatusResponse",
    )
    assert _text(answer, "TxId") == _text(sent, "TxId")
    assert _text(answer, "Sts") == "ACSC"


def test_get_transactions_answers_a_page(door: Door) -> None:
    # A partner reads the statements of accounts linked to it (bridge.security.links).
    AccountLinks(door.engine).link(door.credentials.client, "DE89370400440532013000")
    answer = _answer(
        door.post(request_file("requests/get_transactions.xml"), "GetTransactions"),
        "GetTransactionsResponse",
    )
    assert _text(answer, "Tx/Nm") == "Café Schäfer KG"
    assert answer.find(f"{{{BANKING}}}Tx/{{{BANKING}}}Amt").get("Ccy") == "EUR"
    assert _text(answer, "MoreData") == "false"


def test_get_transfer_status_of_an_unknown_msgid_is_a_client_fault(door: Door) -> None:
    response = door.post(request_file("requests/get_transfer_status.xml"), "GetTransferStatus")
    fault = read_fault(response.data)
    assert (fault.code, fault.kind) == ("Client", "not-found")
    assert "PB-SOAP-0001" in (fault.reason or "")


# -- idempotency -----------------------------------------------------------------------------


def test_retried_msgid_returns_first_result_without_second_posting(door: Door) -> None:
    first = _answer(door.post(transfer()), "TransferFundsResponse")
    again = _answer(door.post(transfer()), "TransferFundsResponse")
    assert etree.tostring(again) == etree.tostring(first)
    assert len(door.corebank.postings) == 1
    assert door.corebank.calls == ["PostPayment"]


def test_msgid_reused_for_another_transfer_is_a_client_fault_naming_msgid(door: Door) -> None:
    _answer(door.post(transfer()), "TransferFundsResponse")
    fault = read_fault(door.post(transfer(Amt="200.00")).data)
    assert (fault.code, fault.kind, fault.field) == (
        "Client",
        "idempotency-key-reused",
        "TransferFunds/MsgId",
    )
    assert len(door.corebank.postings) == 1


def test_reply_lost_after_posting_is_reconciled_on_retry_without_second_posting(
    door: Door,
) -> None:
    door.corebank.lose_replies = 1  # posted, but the answer never arrives ...
    door.corebank.fail("InquirePayment", UpstreamUnavailable("corebank", "HTTP 500"), times=2)
    first = door.post(transfer())  # ... and core banking cannot be asked: the partner retries
    assert read_fault(first.data).kind == "upstream-unavailable"
    assert door.corebank.calls == ["PostPayment", "InquirePayment", "InquirePayment"]
    answer = _answer(door.post(transfer()), "TransferFundsResponse")
    assert _text(answer, "Sts") == "ACSC"
    assert len(door.corebank.postings) == 1
    assert door.corebank.calls.count("PostPayment") == 1
    assert door.corebank.calls[-1] == "InquirePayment"


def test_transfer_still_in_progress_is_a_server_fault_with_a_retry_hint(
    door: Door, mappings: Mappings
) -> None:
    body = transfer()
    element = xml.parse(body).find(f"{{{SOAP_ENV}}}Body/{{{BANKING}}}TransferFunds")
    request = mappings["banking/transfer_request"].read(element)
    store = TransferStore(door.engine)
    store.claim(
        tx_id="TXHELDBYANOTHERWORKER",
        client_id=door.credentials.client.id,
        msg_id=request.msg_id,
        fingerprint=hashlib.sha256(canonical_json.dumps(request)).hexdigest(),
        request=canonical_json.dumps(request).decode(),
        door="soap",
        lease=timedelta(minutes=5),
    )
    fault = read_fault(door.post(body).data)
    assert (fault.code, fault.kind, fault.retry_after) == ("Server", "in-progress", "1")
    assert door.corebank.calls == []


# -- outcomes of core banking ----------------------------------------------------------------


def test_insufficient_funds_is_rejected_with_am04(door: Door) -> None:
    answer = _answer(door.post(transfer(DbtrIBAN=POOR_ACCOUNT)), "TransferFundsResponse")
    assert (_text(answer, "Sts"), _text(answer, "StsRsn/Cd")) == ("RJCT", "AM04")


def test_unknown_account_is_rejected_with_ac01(door: Door) -> None:
    answer = _answer(door.post(transfer(CdtrIBAN=UNKNOWN_ACCOUNT)), "TransferFundsResponse")
    assert (_text(answer, "Sts"), _text(answer, "StsRsn/Cd")) == ("RJCT", "AC01")


def test_upstream_down_is_a_server_fault_with_correlation_id_after_bounded_retries(
    door: Door,
) -> None:
    down = UpstreamUnavailable("corebank", "PostPayment: HTTP 500", retry_after=7)
    door.corebank.fail("*", down, times=10)
    response = door.post(transfer(), **{"X-Request-ID": "partner-call-7"})
    fault = read_fault(response.data)
    assert (fault.code, fault.kind, fault.correlation_id, fault.retry_after) == (
        "Server",
        "upstream-unavailable",
        "partner-call-7",
        "7",
    )
    assert "partner-call-7" in fault.text
    assert door.corebank.calls == ["PostPayment", "InquirePayment", "InquirePayment"]
    assert no_stack_trace(response.data)


def test_internal_error_is_a_server_fault_that_tells_nothing(door: Door) -> None:
    door.corebank.fail("PostPayment", RuntimeError("connection to db.internal:5432 refused"))
    response = door.post(transfer())
    fault = read_fault(response.data)
    assert (fault.code, fault.kind) == ("Server", "internal-error")
    assert fault.correlation_id == response.headers["X-Request-ID"]
    assert b"db.internal" not in response.data
    assert no_stack_trace(response.data)


# -- invalid requests ------------------------------------------------------------------------


@pytest.mark.parametrize("name", INVALID)
def test_invalid_request_is_a_client_fault_naming_the_field(door: Door, name: str) -> None:
    document = request_file(f"invalid/{name}")
    response = door.post(document, ACTIONS[name.split("__")[0]])
    assert response.status_code == 500
    fault = read_fault(response.data)
    assert fault.code == "Client"
    assert fault.field == expected_field(document)
    assert fault.reason
    assert no_stack_trace(response.data)
    assert door.corebank.postings == []


def test_same_debtor_and_creditor_is_a_client_fault(door: Door) -> None:
    fault = read_fault(door.post(transfer(CdtrIBAN="DE89370400440532013000")).data)
    assert (fault.code, fault.kind) == ("Client", "invalid-input")
    assert "differ" in (fault.reason or "")


def test_no_garbage_collection_runs_inside_a_request(
    door: Door, monkeypatch: pytest.MonkeyPatch
) -> None:
    collections: list[int] = []
    monkeypatch.setattr(spyne.context, "_LAST_GC_RUN", 0.0)  # spyne's "last full collection"
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(1) or 0)
    _answer(door.post(transfer()), "TransferFundsResponse")
    assert collections == []
