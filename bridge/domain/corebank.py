"""Canonical forms of the core banking conversation (the legacy `corebank` vocabulary mapped in).

Core banking speaks integer minor units, flat camelCase fields and two-digit result codes; the
mapping layer turns those into these objects, whose status and reason use the ISO 20022 codes of
`bridge.domain.banking`. Turning a `TransferRequest` into a `PaymentPosting` is domain logic
(`bridge.domain.transfers`), not mapping.
"""

from __future__ import annotations

from datetime import date

from bridge.domain.banking import AccountStatus, TransferStatus, VerificationResult
from bridge.domain.common import AccountRef, Money, canonical

__all__ = [
    "AccountValidation",
    "AccountValidationResult",
    "PaymentInquiry",
    "PaymentInquiryResult",
    "PaymentPosting",
    "PostingResult",
]


@canonical
class PaymentPosting:
    debit_account: AccountRef
    credit_account: AccountRef
    credit_bank_code: str | None = None
    amount: Money
    value_date: date
    narrative: str | None = None
    external_ref: str  # the idempotency key core banking deduplicates on


@canonical
class PostingResult:
    payment_id: str | None = None
    status: TransferStatus
    reason_code: str | None = None
    result_text: str
    posting_date: date | None = None

    @property
    def transient(self) -> bool:
        """Core banking said "system unavailable" (code 91): nothing was posted, try again."""
        return self.reason_code == TRANSIENT_REASON


# ISO 20022 AB07 "OfflineAgent": what core banking's result code 91 maps to.
TRANSIENT_REASON = "AB07"


@canonical
class PaymentInquiry:
    external_ref: str


@canonical
class PaymentInquiryResult:
    found: bool
    payment_id: str | None = None
    status: TransferStatus | None = None
    reason_code: str | None = None
    result_text: str | None = None
    posting_date: date | None = None

    def posting(self) -> PostingResult | None:
        """What core banking did with the payment asked about, or None if nothing was posted
        (not found, no status yet, or the transient "system unavailable")."""
        if not self.found or self.status is None or self.reason_code == TRANSIENT_REASON:
            return None
        return PostingResult(
            payment_id=self.payment_id,
            status=self.status,
            reason_code=self.reason_code,
            result_text=self.result_text or "",
            posting_date=self.posting_date,
        )


@canonical
class AccountValidation:
    account: AccountRef
    holder_name: str


@canonical
class AccountValidationResult:
    known: bool
    account_status: AccountStatus | None = None
    name_match: VerificationResult
    registered_name: str | None = None
