"""Canonical HR and payroll messages: employee changes and payroll batches."""

from __future__ import annotations

from dataclasses import field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from bridge.domain.common import Money, canonical

__all__ = [
    "EmployeeAction",
    "EmployeeChange",
    "EmployeeUpsertResult",
    "PayPeriod",
    "PayrollBatch",
    "PayrollBatchResult",
    "RecordResult",
    "RecordStatus",
    "Salary",
]


class EmployeeAction(StrEnum):
    HIRE = "HIRE"
    CHANGE = "CHANGE"
    TERMINATE = "TERMINATE"


class PayPeriod(StrEnum):
    MONTHLY = "MONTHLY"
    ANNUAL = "ANNUAL"
    HOURLY = "HOURLY"


class RecordStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


@canonical
class Salary:
    amount: Money
    period: PayPeriod


@canonical
class EmployeeChange:
    record_id: str  # the idempotency key payroll deduplicates each record on
    employee_no: str
    given_name: str
    family_name: str
    salary: Salary
    weekly_hours: Decimal
    bank_account: str  # IBAN
    effective_date: date
    action: EmployeeAction


@canonical
class PayrollBatch:
    batch_id: str  # the idempotency key of the whole batch
    submitted_at: datetime
    records: list[EmployeeChange] = field(default_factory=list)


@canonical
class EmployeeUpsertResult:
    """Payroll's answer to one `UpsertEmployee`. Unlike a batch's `RecordResult` it carries no
    record id (the contract's UpsertEmployeeResult has none): the caller knows which it sent."""

    employee_no: str
    status: RecordStatus
    reason_code: str | None = None
    reason_text: str | None = None


@canonical
class RecordResult:
    """Payroll's answer to one record of a batch."""

    record_id: str | None = None
    employee_no: str
    status: RecordStatus
    reason_code: str | None = None
    reason_text: str | None = None


@canonical
class PayrollBatchResult:
    batch_id: str
    accepted: int
    rejected: int
    results: list[RecordResult] = field(default_factory=list)
