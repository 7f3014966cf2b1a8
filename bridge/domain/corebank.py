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
