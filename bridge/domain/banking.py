"""Canonical banking messages: transfers, account verification, statements (ISO 20022 flavour)."""

from __future__ import annotations

from dataclasses import field
from datetime import date, datetime, timedelta
from enum import StrEnum

from bridge.domain.common import AccountRef, Money, canonical

__all__ = [
    "AccountStatus",
    "AccountVerification",
    "AccountVerificationRequest",
    "ChargeBearer",
    "CreditDebit",
    "Party",
    "StatusReason",
    "Transaction",
    "TransactionPage",
    "TransactionsQuery",
    "TransferRequest",
    "TransferResult",
    "TransferStatus",
    "TransferStatusQuery",
    "VerificationResult",
]


class ChargeBearer(StrEnum):
    DEBT = "DEBT"
    CRED = "CRED"
    SHAR = "SHAR"


class TransferStatus(StrEnum):
    ACCP = "ACCP"  # accepted, not yet booked
    ACSC = "ACSC"  # settled
    PDNG = "PDNG"  # pending at core banking
    RJCT = "RJCT"  # rejected, see the reason


class VerificationResult(StrEnum):
    MTCH = "MTCH"
    CMTC = "CMTC"  # close match: see suggested_name
    NMTC = "NMTC"
    NOAP = "NOAP"  # not applicable: the account is unknown


class AccountStatus(StrEnum):
    ACTV = "ACTV"
    CLSD = "CLSD"
    BLCK = "BLCK"


class CreditDebit(StrEnum):
    CRDT = "CRDT"
    DBIT = "DBIT"


@canonical
class Party:
    name: str
    account: AccountRef
    bic: str | None = None


# The requested execution dates a transfer may carry, around the day it arrives: a date a little
# in the past is executed at once (a partner's batch from yesterday, a retry after the weekend);
# 0001-01-01 or 9999-12-31 is a mistake, not an instruction, and is refused.
EXECUTION_DATE_PAST = timedelta(days=30)
EXECUTION_DATE_AHEAD = timedelta(days=365)


def execution_date_window(today: date) -> tuple[date, date]:
    """The first and last requested execution date accepted on `today`."""
    return today - EXECUTION_DATE_PAST, today + EXECUTION_DATE_AHEAD


@canonical
class TransferRequest:
    msg_id: str
    created_at: datetime
    requested_execution_date: date | None = None
    amount: Money
    debtor: Party
    creditor: Party
    remittance_info: str | None = None
    charge_bearer: ChargeBearer | None = None


@canonical
class StatusReason:
    code: str
    additional_info: str | None = None


@canonical
class TransferResult:
    tx_id: str
    msg_id: str
    status: TransferStatus
    reason: StatusReason | None = None
    booking_date: date | None = None


@canonical
class TransferStatusQuery:
    """Exactly one of the two identifiers is set."""

    msg_id: str | None = None
    tx_id: str | None = None


@canonical
class AccountVerificationRequest:
    account: AccountRef
    name: str


@canonical
class AccountVerification:
    result: VerificationResult
    suggested_name: str | None = None
    account_status: AccountStatus | None = None  # unknown when the result is NOAP


@canonical
class TransactionsQuery:
    account: AccountRef
    from_date: date
    to_date: date
    page_number: int = 1
    page_size: int = 50


@canonical
class Transaction:
    tx_id: str
    booking_date: date
    amount: Money
    credit_debit: CreditDebit
    counterparty_name: str
    remittance_info: str | None = None


@canonical
class TransactionPage:
    transactions: list[Transaction] = field(default_factory=list)
    more_data: bool = False
