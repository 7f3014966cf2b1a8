"""Canonical payroll messages that fit wsdl/upstream/payroll.wsdl."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bridge.domain import (
    EmployeeAction,
    EmployeeChange,
    EmployeeUpsertResult,
    PayPeriod,
    PayrollBatch,
    PayrollBatchResult,
    RecordResult,
    RecordStatus,
    Salary,
)
from tests.strategies.common import DATES, DATETIMES, IBANS, money, names, xml_text

RECORD_IDS = xml_text(1, 64)  # RecordId
BATCH_IDS = xml_text(1, 64)  # BatchId
EMPLOYEE_NOS = st.from_regex(r"[A-Z0-9]{3,16}", fullmatch=True)  # EmployeeNo
REASON_CODES = st.from_regex(r"[A-Z0-9_]{1,32}", fullmatch=True)  # ReasonCode
REASON_TEXTS = xml_text(1, 255)  # ReasonText
RECORD_COUNTS = st.integers(0, 2**31 - 1)  # RecordCount: xs:int >= 0
# WeeklyHours: xs:decimal, 2 fraction digits, 0..80.
WEEKLY_HOURS = st.decimals(
    min_value=0, max_value=80, places=2, allow_nan=False, allow_infinity=False
)

# SalaryAmount: > 0, at most 3 decimals and 18 digits; money() keeps to the currency's minor units.
SALARIES = st.builds(Salary, amount=money(), period=st.sampled_from(PayPeriod))

EMPLOYEE_CHANGES = st.builds(
    EmployeeChange,
    record_id=RECORD_IDS,
    employee_no=EMPLOYEE_NOS,
    given_name=names(70),  # PersonName
    family_name=names(70),
    salary=SALARIES,
    weekly_hours=WEEKLY_HOURS,
    bank_account=IBANS,
    effective_date=DATES,
    action=st.sampled_from(EmployeeAction),
)

RECORD_RESULTS = st.builds(
    RecordResult,
    record_id=st.none() | RECORD_IDS,
    employee_no=EMPLOYEE_NOS,
    status=st.sampled_from(RecordStatus),
    reason_code=st.none() | REASON_CODES,
    reason_text=st.none() | REASON_TEXTS,
)

STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    EmployeeChange: EMPLOYEE_CHANGES,
    EmployeeUpsertResult: st.builds(
        EmployeeUpsertResult,
        employee_no=EMPLOYEE_NOS,
        status=st.sampled_from(RecordStatus),
        reason_code=st.none() | REASON_CODES,
        reason_text=st.none() | REASON_TEXTS,
    ),
    PayrollBatch: st.builds(
        PayrollBatch,
        batch_id=BATCH_IDS,
        submitted_at=DATETIMES,
        records=st.lists(EMPLOYEE_CHANGES, min_size=1, max_size=4),  # Record: 1..unbounded
    ),
    PayrollBatchResult: st.builds(
        PayrollBatchResult,
        batch_id=BATCH_IDS,
        accepted=RECORD_COUNTS,
        rejected=RECORD_COUNTS,
        results=st.lists(RECORD_RESULTS, max_size=4),
    ),
}
