"""The payroll simulator: per-record results, batch and record idempotency."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from zeep.helpers import serialize_object

from bridge.sims import SimControl
from tests.sims.messages import batch, employee


def employees(control: Callable[[str], SimControl]) -> dict[str, str]:
    return {e["employee_no"]: e["status"] for e in control("payroll").state()["employees"]}


def test_an_accepted_hire_creates_an_active_employee(
    payroll: Any, control: Callable[[str], SimControl]
) -> None:
    result = payroll.UpsertEmployee(EmployeeRecord=employee("PR-1", "E1001"))

    assert (result.EmployeeNo, result.Status, result.ReasonCode) == ("E1001", "ACCEPTED", None)
    assert employees(control)["E1001"] == "ACTIVE"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"BankAccount": "DE89370400440532013001"}, "INVALID_IBAN"),
        ({"WeeklyHours": "48.25"}, "HOURS_ABOVE_MAXIMUM"),
        (
            {"Salary": {"Amount": "5250.00", "Currency": "CHF", "Period": "MONTHLY"}},
            "UNSUPPORTED_CURRENCY",
        ),
        (
            {"Salary": {"Amount": "1850.5", "Currency": "JPY", "Period": "HOURLY"}},
            "AMOUNT_PRECISION",
        ),
        (
            {"Salary": {"Amount": "12.81", "Currency": "EUR", "Period": "HOURLY"}},
            "BELOW_MINIMUM_WAGE",
        ),
        (
            {
                "Salary": {"Amount": "1500.00", "Currency": "EUR", "Period": "MONTHLY"},
                "WeeklyHours": "40",
            },
            "BELOW_MINIMUM_WAGE",
        ),
        ({"EmployeeNo": "VN0042"}, "ALREADY_EMPLOYED"),
        ({"Action": "CHANGE", "EmployeeNo": "NOBODY1"}, "UNKNOWN_EMPLOYEE"),
        ({"Action": "TERMINATE", "EmployeeNo": "NOBODY2"}, "UNKNOWN_EMPLOYEE"),
    ],
)
def test_a_record_breaking_a_rule_is_rejected_with_its_reason(
    payroll: Any, control: Callable[[str], SimControl], fields: dict[str, Any], reason: str
) -> None:
    before = employees(control)

    result = payroll.UpsertEmployee(EmployeeRecord=employee("PR-RULE", **fields))

    assert (result.Status, result.ReasonCode) == ("REJECTED", reason)
    assert result.ReasonText
    assert employees(control) == before


def test_part_time_pay_is_checked_per_hour(payroll: Any) -> None:
    part_time = {"Amount": "1200.00", "Currency": "EUR", "Period": "MONTHLY"}

    result = payroll.UpsertEmployee(
        EmployeeRecord=employee("PR-PART", Salary=part_time, WeeklyHours="20")
    )

    assert result.Status == "ACCEPTED"


def test_a_batch_answers_one_result_per_record_and_counts_them(
    payroll: Any, control: Callable[[str], SimControl]
) -> None:
    records = [
        employee("PR-B1-1", "E3001"),
        employee("PR-B1-2", "E3002", BankAccount="GB82WEST12345698765433"),
        employee("PR-B1-3", "VN0042", Action="TERMINATE"),
        employee("PR-B1-4", "E3001", Action="CHANGE", WeeklyHours="40"),
        employee("PR-B1-5", "NOBODY3", Action="TERMINATE"),
    ]

    result = payroll.SubmitPayrollBatch(Batch=batch("BATCH-1", *records))

    assert (result.BatchId, result.Accepted, result.Rejected) == ("BATCH-1", 3, 2)
    assert [(r.RecordId, r.Status, r.ReasonCode) for r in result.Result] == [
        ("PR-B1-1", "ACCEPTED", None),
        ("PR-B1-2", "REJECTED", "INVALID_IBAN"),
        ("PR-B1-3", "ACCEPTED", None),
        ("PR-B1-4", "ACCEPTED", None),
        ("PR-B1-5", "REJECTED", "UNKNOWN_EMPLOYEE"),
    ]
    state = employees(control)
    assert (state["E3001"], state["VN0042"]) == ("ACTIVE", "TERMINATED")
    assert "E3002" not in state


def test_a_replayed_batch_id_answers_the_whole_first_result_and_applies_nothing(
    payroll: Any, control: Callable[[str], SimControl]
) -> None:
    first = payroll.SubmitPayrollBatch(
        Batch=batch("BATCH-2", employee("PR-B2-1", "E4001"), employee("PR-B2-2", "E4002"))
    )
    # A replay of the same BatchId, even with other records, changes nothing.
    second = payroll.SubmitPayrollBatch(Batch=batch("BATCH-2", employee("PR-B2-3", "E4003")))

    assert serialize_object(second) == serialize_object(first)
    assert "E4003" not in employees(control)
    calls = control("payroll").calls("SubmitPayrollBatch", key="BATCH-2")
    assert [call["duplicate"] for call in calls] == [False, True]
    assert len(control("payroll").effects(scope="batch")) == 1
    assert len(control("payroll").effects(scope="record")) == 2


def test_a_record_already_applied_is_answered_not_reapplied_in_a_new_batch(
    payroll: Any, control: Callable[[str], SimControl]
) -> None:
    hire = employee("PR-R-1", "E5001")
    payroll.UpsertEmployee(EmployeeRecord=hire)

    result = payroll.SubmitPayrollBatch(
        Batch=batch("BATCH-3", hire, employee("PR-R-2", "E5002"), hire)
    )

    # Applied again, the hire would be rejected as ALREADY_EMPLOYED: it is answered as first.
    assert [(r.RecordId, r.Status) for r in result.Result] == [
        ("PR-R-1", "ACCEPTED"),
        ("PR-R-2", "ACCEPTED"),
        ("PR-R-1", "ACCEPTED"),
    ]
    assert (result.Accepted, result.Rejected) == (3, 0)
    (call,) = control("payroll").calls("SubmitPayrollBatch")
    assert call["summary"]["replayed_records"] == ["PR-R-1", "PR-R-1"]
    assert len(control("payroll").effects(key="PR-R-1")) == 1


def test_a_retried_record_id_returns_the_first_result(payroll: Any) -> None:
    first = payroll.UpsertEmployee(EmployeeRecord=employee("PR-RETRY", "E6001"))
    second = payroll.UpsertEmployee(EmployeeRecord=employee("PR-RETRY", "E6001"))

    assert (first.Status, second.Status) == ("ACCEPTED", "ACCEPTED")


def test_a_terminated_employee_can_be_hired_again(
    payroll: Any, control: Callable[[str], SimControl]
) -> None:
    payroll.UpsertEmployee(EmployeeRecord=employee("PR-T-1", "DE0815", Action="TERMINATE"))
    change = payroll.UpsertEmployee(EmployeeRecord=employee("PR-T-2", "DE0815", Action="CHANGE"))
    rehire = payroll.UpsertEmployee(EmployeeRecord=employee("PR-T-3", "DE0815"))

    assert (change.ReasonCode, rehire.Status) == ("UNKNOWN_EMPLOYEE", "ACCEPTED")
    assert employees(control)["DE0815"] == "ACTIVE"
