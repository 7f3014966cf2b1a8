"""Canonical HR and payroll messages: employee changes and payroll batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from bridge.domain.common import Money


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


@dataclass(slots=True, kw_only=True)
class Salary:
    amount: Money
    period: PayPeriod


@dataclass(slots=True, kw_only=True)
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


@dataclass(slots=True, kw_only=True)
class PayrollBatch:
    batch_id: str  # the idempotency key of the whole batch
    submitted_at: datetime
    records: list[EmployeeChange] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class EmployeeUpsertResult:
    """Payroll's answer to one `UpsertEmployee`. Unlike a batch's `RecordResult` it carries no
    record id (the contract's UpsertEmployeeResult has none): the caller knows which it sent."""

    employee_no: str
    status: RecordStatus
    reason_code: str | None = None
    reason_text: str | None = None


@dataclass(slots=True, kw_only=True)
class RecordResult:
    """Payroll's answer to one record of a batch."""

    record_id: str | None = None
    employee_no: str
    status: RecordStatus
    reason_code: str | None = None
    reason_text: str | None = None


@dataclass(slots=True, kw_only=True)
class PayrollBatchResult:
    batch_id: str
    accepted: int
    rejected: int
    results: list[RecordResult] = field(default_factory=list)
