"""A core banking system as a test wants it: answers from data files, remembers every posting,
and fails on request. Injected into a real `BankingService` over the real database."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

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


@dataclass
class FakeCoreBank:
    accounts: dict[str, dict[str, str]] = field(
        default_factory=lambda: json.loads((DATA / "accounts.json").read_text("utf-8"))
    )
    statement_data: dict[str, object] = field(
        default_factory=lambda: json.loads((DATA / "statement.json").read_text("utf-8"))
    )
    postings: list[PaymentPosting] = field(default_factory=list)
    # What the next PostPayment calls answer (or raise), in order; then a settled posting.
    results: list[PostingResult | Exception] = field(default_factory=list)
    # Raised by every call while set.
    failure: Exception | None = None
    # When set, PostPayment waits for it: lets a test hold a request mid-flight.
    gate: threading.Event | None = None
    # When set, what core banking applied, by externalRef: PostPayment adds what it answers
    # (unless transient) and InquirePayment finds it. Unset, every inquiry finds nothing.
    ledger: dict[str, PostingResult] | None = None
    entered: threading.Event = field(default_factory=threading.Event)

    def post_payment(
        self, posting: PaymentPosting, correlation_id: str | None = None
    ) -> PostingResult:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(timeout=10)
        self._fail()
        self.postings.append(posting)
        if self.results:
            result = self.results.pop(0)
            if isinstance(result, Exception):
                raise result
        else:
            result = PostingResult(
                payment_id=f"P{len(self.postings):04d}",
                status=TransferStatus.ACSC,
                result_text="ok",
                posting_date=posting.value_date,
            )
        if self.ledger is not None and not result.transient:
            self.ledger[posting.external_ref] = result
        return result

    def inquire_payment(
        self, external_ref: str, correlation_id: str | None = None
    ) -> PaymentInquiryResult:
        self._fail()
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
        self._fail()
        account = self.accounts.get(validation.account.number)
        if account is None:
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
        self._fail()
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

    def _fail(self) -> None:
        if self.failure is not None:
            raise self.failure
