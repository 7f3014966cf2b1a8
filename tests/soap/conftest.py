"""Fixtures of the SOAP door: a fake core bank for in-process tests, request files, fault reading.

In-process tests drive the door through werkzeug's test client with a `FakeCoreBank` behind the
real `BankingService` and a SQLite store; end-to-end tests (test_e2e.py) use the whole bridge on
a loopback port with the simulators, and zeep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client, run_wsgi_app
from werkzeug.wrappers import Response

from bridge.domain import (
    AccountStatus,
    AccountValidation,
    AccountValidationResult,
    CreditDebit,
    Money,
    PaymentInquiryResult,
    PaymentPosting,
    PostingResult,
    Transaction,
    TransactionPage,
    TransactionsQuery,
    TransferStatus,
    VerificationResult,
)
from bridge.domain.errors import UpstreamUnavailable
from bridge.mapping import Mappings
from bridge.observability.correlation import CorrelationMiddleware
from bridge.security import build_security
from bridge.services.banking import BankingService, RetryPolicy
from bridge.settings import Settings
from bridge.soap import create_banking_soap
from bridge.soap.gateway import SoapGateway
from bridge.store.db import make_engine, migrate
from bridge.store.transfers import TransferStore
from bridge.upstream.soap import UpstreamTimeout
from tests.credentials import Credentials, authorized, grant

DATA = Path(__file__).resolve().parents[1] / "data" / "soap"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
BANKING = "urn:bridge:banking:v1"
FAULT_INFO = "urn:bridge:fault:v1"
URL = "/soap/banking"

# Accounts the fake core bank treats specially; every other account exists and has money.
UNKNOWN_ACCOUNT = "DE02120300000000202051"
POOR_ACCOUNT = "DE41500105170123456789"


class ImmediateRetry(RetryPolicy):
    """The service's retry rule without its backoff (tests need the rule, not the waiting), and
    without tenacity 9's deprecated `initial` that bridge/services/banking.py still passes."""

    def retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.attempts),
            retry=retry_if_exception_type(UpstreamUnavailable),
            reraise=True,
        )


RETRIES = ImmediateRetry(attempts=3, retry_after=7)


@dataclass
class FakeCoreBank:
    """Core banking in memory, with the behaviour the SOAP tests need.

    `fail` makes the next calls of an operation ("*": of any) raise; `lose_replies` PostPayments
    are applied and then time out, as when the reply is lost on the way back."""

    applied: dict[str, PostingResult] = field(default_factory=dict)
    postings: list[PaymentPosting] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    lose_replies: int = 0

    def fail(self, operation: str, error: BaseException, times: int = 1) -> None:
        self.failures.setdefault(operation, []).extend([error] * times)

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        for key in (operation, "*"):
            if self.failures.get(key):
                raise self.failures[key].pop(0)

    def post_payment(
        self, posting: PaymentPosting, correlation_id: str | None = None
    ) -> PostingResult:
        self._call("PostPayment")
        result = self.applied.get(posting.external_ref)
        if result is None:
            result = _decide(posting)
            self.applied[posting.external_ref] = result
            self.postings.append(posting)
        if self.lose_replies:
            self.lose_replies -= 1
            raise UpstreamTimeout("corebank", "PostPayment: no answer in time")
        return result

    def inquire_payment(
        self, external_ref: str, correlation_id: str | None = None
    ) -> PaymentInquiryResult:
        self._call("InquirePayment")
        found = self.applied.get(external_ref)
        if found is None:
            return PaymentInquiryResult(found=False)
        return PaymentInquiryResult(
            found=True,
            payment_id=found.payment_id,
            status=found.status,
            reason_code=found.reason_code,
            result_text=found.result_text,
            posting_date=found.posting_date,
        )

    def validate_account(
        self, validation: AccountValidation, correlation_id: str | None = None
    ) -> AccountValidationResult:
        self._call("ValidateAccount")
        if validation.account.number == UNKNOWN_ACCOUNT:
            return AccountValidationResult(known=False, name_match=VerificationResult.NOAP)
        return AccountValidationResult(
            known=True, account_status=AccountStatus.ACTV, name_match=VerificationResult.MTCH
        )

    def statement(
        self, query: TransactionsQuery, correlation_id: str | None = None
    ) -> TransactionPage:
        self._call("GetStatement")
        booked = Transaction(
            tx_id="E20250502-0001",
            booking_date=date(2025, 5, 2),
            amount=Money(amount=Decimal("1850.00"), currency="EUR"),
            credit_debit=CreditDebit.CRDT,
            counterparty_name="Café Schäfer KG",
            remittance_info="Brötchen April",
        )
        return TransactionPage(transactions=[booked], more_data=False)


def _decide(posting: PaymentPosting) -> PostingResult:
    ref = posting.external_ref
    if UNKNOWN_ACCOUNT in (posting.debit_account.number, posting.credit_account.number):
        return PostingResult(
            status=TransferStatus.RJCT, reason_code="AC01", result_text="Unknown account"
        )
    if posting.debit_account.number == POOR_ACCOUNT:
        return PostingResult(
            status=TransferStatus.RJCT, reason_code="AM04", result_text="Insufficient funds"
        )
    return PostingResult(
        payment_id=f"P-{ref}",
        status=TransferStatus.ACSC,
        result_text="Posted",
        posting_date=posting.value_date,
    )


@dataclass
class Door:
    """The SOAP door in process: `post` a request file or raw bytes, read the answer."""

    client: Client
    corebank: FakeCoreBank
    gateway: SoapGateway
    app: Any  # the WSGI application the client drives
    engine: Engine
    credentials: Credentials  # what every request without its own credential carries

    def call(self, environ: dict[str, Any]) -> Response:
        """Run one raw WSGI environ (for what a test client would normalise away)."""
        app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        return Response(app_iter, status, headers)

    def post(
        self,
        body: bytes,
        action: str | None = "TransferFunds",
        content_type: str = "text/xml; charset=utf-8",
        **headers: str,
    ) -> Any:
        sent = {"Content-Type": content_type, **headers}
        if action is not None:
            sent["SOAPAction"] = f'"{action}"'
        return self.client.post(URL, data=body, headers=sent)


@pytest.fixture
def door(tmp_path: Path, mappings: Mappings) -> Iterator[Door]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bridge.db'}")
    migrate(engine)
    corebank = FakeCoreBank()
    banking = BankingService(
        TransferStore(engine),
        corebank,
        mappings.currencies,
        retry=RETRIES,
    )
    settings = Settings(host="127.0.0.1", port=8080, simulators=False, scheduler=False)
    # What the door takes from the bridge; the rest of `Bridge` is other doors' business.
    bridge = SimpleNamespace(
        settings=settings,
        mappings=mappings,
        banking=banking,
        security=build_security(settings, engine),
    )
    gateway = create_banking_soap(bridge, max_body_bytes=64 * 1024)
    credentials = grant(engine, tier="partner", organisation="bank-a")
    app = authorized(
        CorrelationMiddleware(DispatcherMiddleware(NotFound(), {URL: gateway})), credentials
    )
    yield Door(Client(app), corebank, gateway, app, engine, credentials)
    engine.dispose()


def request_file(name: str) -> bytes:
    return (DATA / name).read_bytes()


def transfer(msg_id: str = "PB-SOAP-0001", **replace: str) -> bytes:
    """The TransferFunds request file with another MsgId and, by element name, other values."""
    text = request_file("requests/transfer_funds.xml").decode()
    text = text.replace("PB-SOAP-0001", msg_id)
    for name, value in replace.items():
        if name == "Ccy":
            text = re.sub(r'Ccy="[^"]*"', f'Ccy="{value}"', text)
        elif name in ("DbtrIBAN", "CdtrIBAN"):
            role = name[:4]
            text = re.sub(
                rf"(<bnk:{role}>.*?<bnk:IBAN>)[^<]*(</bnk:IBAN>)",
                rf"\g<1>{value}\g<2>",
                text,
                flags=re.S,
            )
        else:
            text = re.sub(rf"(<bnk:{name}[^>]*>)[^<]*(</bnk:{name}>)", rf"\g<1>{value}\g<2>", text)
    return text.encode()


@dataclass(frozen=True)
class Fault:
    """A SOAP 1.1 fault as read from a response body."""

    code: str
    text: str
    field: str | None
    reason: str | None
    kind: str | None
    correlation_id: str | None
    retry_after: str | None


def read_fault(body: bytes) -> Fault:
    envelope = etree.fromstring(body)
    fault = envelope.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, body
    code = fault.findtext("faultcode") or ""
    prefix, _, local = code.rpartition(":")
    assert fault.find("faultcode").nsmap.get(prefix) == SOAP_ENV, code
    return Fault(
        code=local,
        text=fault.findtext("faultstring") or "",
        field=fault.findtext(f"detail/{{{BANKING}}}ValidationFault/{{{BANKING}}}Field"),
        reason=fault.findtext(f"detail/{{{BANKING}}}ValidationFault/{{{BANKING}}}Reason"),
        kind=fault.findtext(f"detail/{{{FAULT_INFO}}}FaultInfo/{{{FAULT_INFO}}}Kind"),
        correlation_id=fault.findtext(
            f"detail/{{{FAULT_INFO}}}FaultInfo/{{{FAULT_INFO}}}CorrelationId"
        ),
        retry_after=fault.findtext(f"detail/{{{FAULT_INFO}}}FaultInfo/{{{FAULT_INFO}}}RetryAfter"),
    )


def expected_field(document: bytes) -> str:
    found = re.search(rb"<!-- expect-field: (\S+) -->", document)
    assert found, "an invalid request file says which field it breaks"
    return found.group(1).decode()


def no_stack_trace(body: bytes) -> bool:
    return b"Traceback" not in body and b'File "' not in body and b".py" not in body
