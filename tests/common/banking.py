"""Core banking as a test wants it, and the service's retry rule without its waiting.

One `FakeCoreBank` for every in-process test of transfers (REST door, SOAP door, reconciliation,
circuit breaker): it answers accounts and statements from data files, remembers every posting and
every call, and fails on request. Injected into a real `BankingService` over a real database.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

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
from bridge.domain.corebank import TRANSIENT_REASON
from bridge.domain.errors import UpstreamTimeout
from bridge.services.retry import RetryPolicy

DATA = Path(__file__).parents[1] / "data" / "rest"

UNAVAILABLE = PostingResult(
    status=TransferStatus.RJCT, reason_code=TRANSIENT_REASON, result_text="system unavailable"
)
INSUFFICIENT_FUNDS = PostingResult(
    payment_id="P-RJCT",
    status=TransferStatus.RJCT,
    reason_code="AM04",
    result_text="insufficient funds",
)
UNKNOWN = PostingResult(
    status=TransferStatus.RJCT, reason_code="AC01", result_text="Unknown account"
)


@dataclass(frozen=True, slots=True)
class ImmediateRetry(RetryPolicy):
    """The service's retry rule without its backoff: tests need the rule, not the waiting."""

    initial_wait: float = 0
    max_wait: float = 0


def _data(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


@dataclass
class FakeCoreBank:
    """Core banking in memory.

    A PostPayment answers, in order: what `results` holds (an exception there is raised), then a
    rejection for `unknown_accounts` (AC01, either side) or a debtor in `poor_accounts` (AM04),
    else a settled posting. Failures: `failure` is raised by every call while set; `fail()`
    queues errors for the next calls of one operation ("*": of any); `lose_replies` PostPayments
    are applied and then time out, as when the reply is lost on the way back."""

    accounts: dict[str, dict[str, str]] = field(default_factory=lambda: _data("accounts.json"))
    statement_data: dict[str, object] = field(default_factory=lambda: _data("statement.json"))
    postings: list[PaymentPosting] = field(default_factory=list)
    # Every operation called, in order ("PostPayment", "InquirePayment", ...).
    calls: list[str] = field(default_factory=list)
    results: list[PostingResult | Exception] = field(default_factory=list)
    unknown_accounts: set[str] = field(default_factory=set)
    poor_accounts: set[str] = field(default_factory=set)
    failure: Exception | None = None
    failures: dict[str, list[BaseException]] = field(default_factory=dict)
    lose_replies: int = 0
    # When set, PostPayment waits for it: lets a test hold a request mid-flight.
    gate: threading.Event | None = None
    # When set, what core banking applied, by externalRef: a PostPayment of an applied ref
    # answers what was applied without posting again, one adds what it answers (unless
    # transient), and InquirePayment finds it. Unset, every inquiry finds nothing.
    ledger: dict[str, PostingResult] | None = None
    entered: threading.Event = field(default_factory=threading.Event)

    def fail(self, operation: str, error: BaseException, times: int = 1) -> None:
        self.failures.setdefault(operation, []).extend([error] * times)

    def post_payment(
        self, posting: PaymentPosting, correlation_id: str | None = None
    ) -> PostingResult:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(timeout=10)
        self._call("PostPayment")
        applied = None if self.ledger is None else self.ledger.get(posting.external_ref)
        if applied is not None:
            result = applied
        else:
            self.postings.append(posting)
            result = self._answer(posting)
            if self.ledger is not None and not result.transient:
                self.ledger[posting.external_ref] = result
        if self.lose_replies:
            self.lose_replies -= 1
            raise UpstreamTimeout("corebank", "PostPayment: no answer in time")
        return result

    def inquire_payment(
        self, external_ref: str, correlation_id: str | None = None
    ) -> PaymentInquiryResult:
        self._call("InquirePayment")
        applied = None if self.ledger is None else self.ledger.get(external_ref)
        if applied is None:
            return PaymentInquiryResult(found=False)
        return PaymentInquiryResult(
            found=True,
            payment_id=applied.payment_id,
            status=applied.status,
            reason_code=applied.reason_code,
            result_text=applied.result_text,
            posting_date=applied.posting_date,
        )

    def validate_account(
        self, validation: AccountValidation, correlation_id: str | None = None
    ) -> AccountValidationResult:
        self._call("ValidateAccount")
        account = self.accounts.get(validation.account.number)
        if account is None or validation.account.number in self.unknown_accounts:
            return AccountValidationResult(known=False, name_match=VerificationResult.NOAP)
        holder = account["holder"]
        if validation.holder_name == holder:
            match = VerificationResult.MTCH
        elif validation.holder_name.casefold().split() == holder.casefold().split():
            match = VerificationResult.CMTC
        else:
            match = VerificationResult.NMTC
        return AccountValidationResult(
            known=True,
            account_status=AccountStatus(account["status"]),
            name_match=match,
            registered_name=holder,
        )

    def statement(
        self, query: TransactionsQuery, correlation_id: str | None = None
    ) -> TransactionPage:
        self._call("GetStatement")
        entries = [
            Transaction(
                tx_id=entry["tx_id"],
                booking_date=date.fromisoformat(entry["booking_date"]),
                amount=Money(
                    amount=Decimal(entry["amount"]["amount"]), currency=entry["amount"]["currency"]
                ),
                credit_debit=CreditDebit(entry["credit_debit"]),
                counterparty_name=entry["counterparty_name"],
                remittance_info=entry["remittance_info"],
            )
            for entry in self.statement_data["transactions"]  # type: ignore[attr-defined]
            if self.statement_data["account"] == query.account.number
            and query.from_date <= date.fromisoformat(entry["booking_date"]) <= query.to_date
        ]
        start = (query.page_number - 1) * query.page_size
        page = entries[start : start + query.page_size]
        return TransactionPage(transactions=page, more_data=start + query.page_size < len(entries))

    def _answer(self, posting: PaymentPosting) -> PostingResult:
        if self.results:
            result = self.results.pop(0)
            if isinstance(result, Exception):
                raise result
            return result
        accounts = {posting.debit_account.number, posting.credit_account.number}
        if accounts & self.unknown_accounts:
            return UNKNOWN
        if posting.debit_account.number in self.poor_accounts:
            return INSUFFICIENT_FUNDS
        return PostingResult(
            payment_id=f"P{len(self.postings):04d}",
            status=TransferStatus.ACSC,
            result_text="ok",
            posting_date=posting.value_date,
        )

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        if self.failure is not None:
            raise self.failure
        for key in (operation, "*"):
            if self.failures.get(key):
                raise self.failures[key].pop(0)
