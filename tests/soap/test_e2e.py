"""The SOAP door as a partner bank uses it: the whole bridge on a loopback port, core banking
simulated in process, zeep reading the served WSDL; raw `requests` where zeep cannot produce the
broken input. The core banking simulator's control plane (``/sims/corebank/_control/``) injects
faults and says what core banking received.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from lxml import etree
from zeep.exceptions import Fault as ZeepFault

from tests.common.live import LiveBridge, serve_bridge
from tests.common.partner_bank import (
    DEBTOR,
    control,
    partner,
    payments,
    post_raw,
    postings,
    transfer_funds,
)
from tests.common.soap import (
    BANKING,
    DATA,
    FAULT_INFO,
    expected_field,
    no_stack_trace,
    read_fault,
    request_file,
    transfer,
)

pytestmark = [
    pytest.mark.slow,
]

POOR = "DE41500105170123456789"  # 25.00 EUR
ELSEWHERE = "FR1420041010050500013M02606"  # no account of this bank
ACTIONS = {
    "transfer_funds": "TransferFunds",
    "verify_account": "VerifyAccount",
    "get_transfer_status": "GetTransferStatus",
    "get_transactions": "GetTransactions",
}


def fault_detail(fault: ZeepFault, path: str) -> str | None:
    assert fault.detail is not None
    namespaces = {"b": BANKING, "f": FAULT_INFO}
    found: str | None = fault.detail.findtext(path, namespaces=namespaces)
    return found


# -- the contract, through zeep -----------------------------------------------------------------


def test_zeep_binds_every_operation_at_the_public_address(live_bridge: LiveBridge) -> None:
    client = partner(live_bridge)
    (service,) = client.wsdl.services.values()
    (port,) = service.ports.values()
    assert port.binding_options["address"] == f"{live_bridge.url}/soap/banking"
    assert set(port.binding._operations) == {
        "TransferFunds",
        "VerifyAccount",
        "GetTransferStatus",
        "GetTransactions",
    }


def test_transfer_funds_is_settled_by_core_banking(live_bridge: LiveBridge) -> None:
    result = transfer_funds(partner(live_bridge), "PB-E2E-0001")
    assert (result.MsgId, result.Sts, result.StsRsn) == ("PB-E2E-0001", "ACSC", None)
    assert result.BookgDt is not None
    assert len(payments(live_bridge, result.TxId)) == 1


def test_verify_account_confirms_the_payee(live_bridge: LiveBridge) -> None:
    result = partner(live_bridge).service.VerifyAccount(
        Acct={"IBAN": DEBTOR}, Nm="Bäckerei Müller & Söhne GmbH"
    )
    assert (result.Rslt, result.SggstdNm, result.AcctSts) == ("MTCH", None, "ACTV")


def test_get_transfer_status_by_msgid_and_by_txid(live_bridge: LiveBridge) -> None:
    client = partner(live_bridge)
    sent = transfer_funds(client, "PB-E2E-0002")
    by_msg_id = client.service.GetTransferStatus(MsgId="PB-E2E-0002")
    by_tx_id = client.service.GetTransferStatus(TxId=sent.TxId)
    assert by_msg_id.TxId == by_tx_id.TxId == sent.TxId
    assert by_msg_id.Sts == by_tx_id.Sts == "ACSC"


def test_get_transactions_pages_through_the_statement(live_bridge: LiveBridge) -> None:
    client = partner(live_bridge)
    page = client.service.GetTransactions(
        Acct={"IBAN": DEBTOR}, FrDt=dt.date(2025, 5, 1), ToDt=dt.date(2025, 5, 31), PgNb=1, PgSz=2
    )
    assert [tx.TxId for tx in page.Tx] == ["E20250502-0001", "E20250505-0002"]
    assert page.Tx[0].Amt._value_1 == Decimal("1850.00")
    assert page.Tx[0].Amt.Ccy == "EUR"
    assert page.MoreData is True


# -- idempotency ---------------------------------------------------------------------------------


def test_retried_msgid_returns_the_same_txid_and_core_banking_posts_once(
    live_bridge: LiveBridge,
) -> None:
    client = partner(live_bridge)
    first = transfer_funds(client, "PB-E2E-0003")
    again = transfer_funds(client, "PB-E2E-0003")
    assert again.TxId == first.TxId
    assert again.Sts == first.Sts == "ACSC"
    assert len(postings(live_bridge, first.TxId)) == 1
    assert len(payments(live_bridge, first.TxId)) == 1


def test_msgid_reused_with_another_body_is_a_client_fault(live_bridge: LiveBridge) -> None:
    client = partner(live_bridge)
    first = transfer_funds(client, "PB-E2E-0004")
    with pytest.raises(ZeepFault) as refused:
        transfer_funds(client, "PB-E2E-0004", Amt={"_value_1": Decimal("999.00"), "Ccy": "EUR"})
    assert refused.value.code == "soap:Client"
    assert fault_detail(refused.value, "b:ValidationFault/b:Field") == "TransferFunds/MsgId"
    assert len(payments(live_bridge, first.TxId)) == 1


def test_reply_lost_after_posting_is_reconciled_by_the_retry_without_second_posting(
    tmp_path: Path,
) -> None:
    # The bridge gives core banking 1 s; core banking applies the payment and then holds its
    # reply for 3 s. Core banking then fails the inquiries, so the partner's first call fails.
    with serve_bridge(database_url=f"sqlite:///{tmp_path / 'b.db'}", upstream_timeout=1.0) as live:
        control(live, "faults", kind="timeout", count=1, seconds=3, stage="response",
                operation="PostPayment")  # fmt: skip
        control(live, "faults", kind="http_500", count=2, operation="InquirePayment")
        client = partner(live)
        with pytest.raises(ZeepFault) as failed:
            transfer_funds(client, "PB-E2E-0005")
        assert failed.value.code == "soap:Server"
        applied = control(live, "effects?scope=payment")["effects"]
        assert len(applied) == 1  # core banking did apply it

        retried = transfer_funds(client, "PB-E2E-0005")

        assert retried.Sts == "ACSC"
        assert len(postings(live, retried.TxId)) == 1
        assert len(payments(live, retried.TxId)) == 1
        inquiries = control(live, f"calls?operation=InquirePayment&key={retried.TxId}")["calls"]
        assert [call["fault"] for call in inquiries] == ["http_500", "http_500", None]


# -- outcomes of core banking --------------------------------------------------------------------


def test_insufficient_funds_is_rejected_am04(live_bridge: LiveBridge) -> None:
    result = transfer_funds(
        partner(live_bridge),
        "PB-E2E-0006",
        Dbtr={"Nm": "Nguyễn Thị Thu Hà", "Acct": {"IBAN": POOR}},
    )
    assert (result.Sts, result.StsRsn.Cd) == ("RJCT", "AM04")


def test_unknown_account_is_rejected_ac01(live_bridge: LiveBridge) -> None:
    result = transfer_funds(
        partner(live_bridge), "PB-E2E-0007", Cdtr={"Nm": "Erika", "Acct": {"IBAN": ELSEWHERE}}
    )
    assert (result.Sts, result.StsRsn.Cd) == ("RJCT", "AC01")


@pytest.mark.parametrize("kind", ["http_500", "soap_fault"])
def test_upstream_down_is_a_server_fault_with_correlation_id_after_bounded_retries(
    live_bridge: LiveBridge, kind: str
) -> None:
    control(live_bridge, "faults", kind=kind, count=100)
    with pytest.raises(ZeepFault) as failed:
        transfer_funds(partner(live_bridge, "partner-outage-1"), "PB-E2E-0008")
    assert failed.value.code == "soap:Server"
    assert fault_detail(failed.value, "f:FaultInfo/f:CorrelationId") == "partner-outage-1"
    assert fault_detail(failed.value, "f:FaultInfo/f:Kind") == "upstream-unavailable"
    assert fault_detail(failed.value, "f:FaultInfo/f:RetryAfter")
    assert "Traceback" not in failed.value.message
    calls = control(live_bridge, "calls")["calls"]
    assert [call["operation"] for call in calls] == [
        "PostPayment",
        "InquirePayment",
        "InquirePayment",
    ]
    assert control(live_bridge, "effects?scope=payment")["effects"] == []


# -- refusals, in raw requests -------------------------------------------------------------------
# Refusals change nothing, so they share one bridge per module (starting one costs ~1 s); the
# simulator's records are reset before each test.


@pytest.fixture(scope="module")
def shared_bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    database = tmp_path_factory.mktemp("soap-e2e") / "bridge.db"
    with serve_bridge(database_url=f"sqlite:///{database}") as live:
        yield live


@pytest.fixture
def quiet_bridge(shared_bridge: LiveBridge) -> LiveBridge:
    requests.post(
        f"{shared_bridge.url}/sims/corebank/_control/reset", timeout=10
    ).raise_for_status()
    return shared_bridge


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "invalid").glob("*.xml")))
def test_schema_invalid_request_is_a_client_fault_naming_the_field(
    quiet_bridge: LiveBridge, name: str
) -> None:
    document = request_file(f"invalid/{name}")
    response = post_raw(quiet_bridge, document, ACTIONS[name.split("__")[0]])
    assert response.status_code == 500
    fault = read_fault(response.content)
    assert (fault.code, fault.field) == ("Client", expected_field(document))
    assert no_stack_trace(response.content)
    assert control(quiet_bridge, "calls?operation=PostPayment")["calls"] == []


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "hostile").glob("*.xml")))
def test_hostile_xml_is_a_client_fault_and_nothing_is_expanded(
    quiet_bridge: LiveBridge, name: str
) -> None:
    document = request_file(f"hostile/{name}").replace(b"CANARY", b"http://127.0.0.1:9")
    response = post_raw(quiet_bridge, document, "TransferFunds")
    assert response.status_code == 500
    assert read_fault(response.content).code == "Client"
    assert b"lollol" not in response.content
    assert b"root:" not in response.content
    assert b"expanded" not in response.content
    assert no_stack_trace(response.content)
    assert control(quiet_bridge, "calls")["calls"] == []


def test_body_over_the_limit_is_a_client_fault(quiet_bridge: LiveBridge) -> None:
    body = transfer()
    padded = body.replace(b"<soapenv:Body>", b"<soapenv:Body>" + b" " * (1_048_576 + 1), 1)
    response = post_raw(quiet_bridge, padded, "TransferFunds")
    assert response.status_code == 413
    fault = read_fault(response.content)
    assert (fault.code, fault.kind) == ("Client", "hostile-document")


def test_soapaction_naming_another_operation_is_a_client_fault(quiet_bridge: LiveBridge) -> None:
    response = post_raw(quiet_bridge, transfer(), "GetTransactions")
    assert response.status_code == 500
    assert read_fault(response.content).code == "Client"
    assert control(quiet_bridge, "calls")["calls"] == []


@pytest.mark.parametrize("content_type", ["text/xml; charset=utf-8", "application/soap+xml"])
def test_soap12_envelope_is_a_version_mismatch(quiet_bridge: LiveBridge, content_type: str) -> None:
    response = post_raw(
        quiet_bridge,
        request_file("protocol/soap12_envelope.xml"),
        "TransferFunds",
        **{"Content-Type": content_type},
    )
    assert response.status_code == 500
    assert read_fault(response.content).code == "VersionMismatch"


# -- other SOAP stacks' habits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "action"),
    [
        ("text/xml;charset=UTF-8", '"TransferFunds"'),  # SoapUI
        ("text/xml; charset=utf-8", "TransferFunds"),  # unquoted, as some stacks send it
        ("text/xml", '"TransferFunds"'),  # no charset: the XML declaration says UTF-8
    ],
)
def test_requests_as_other_stacks_send_them_are_accepted(
    quiet_bridge: LiveBridge, content_type: str, action: str
) -> None:
    response = requests.post(
        f"{quiet_bridge.url}/soap/banking",
        data=transfer("PB-E2E-STACK"),
        headers={"Content-Type": content_type, "SOAPAction": action},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    answer = etree.fromstring(response.content)
    assert answer.findtext(f".//{{{BANKING}}}Sts") == "ACSC"


def test_every_request_file_is_a_valid_call(quiet_bridge: LiveBridge) -> None:
    """The request files are the examples a partner can copy: each one works as it is."""
    for name, action in ACTIONS.items():
        response = post_raw(quiet_bridge, request_file(f"requests/{name}.xml"), action)
        assert response.status_code == 200, (name, response.text)
