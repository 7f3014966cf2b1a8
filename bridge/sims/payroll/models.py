"""spyne models of `wsdl/upstream/payroll.wsdl`, in the contract's element order."""

from __future__ import annotations

from spyne import Date, DateTime, Decimal, Integer32, Unicode

from bridge.sims.soap import model, optional, repeated, required

NS = "urn:payroll:v1"

Salary = model(
    NS,
    "Salary",
    [("Amount", required(Decimal)), ("Currency", required(Unicode)), ("Period", required(Unicode))],
)

EmployeeRecord = model(
    NS,
    "EmployeeRecord",
    [
        ("RecordId", required(Unicode)),
        ("EmployeeNo", required(Unicode)),
        ("GivenName", required(Unicode)),
        ("FamilyName", required(Unicode)),
        ("Salary", required(Salary)),
        ("WeeklyHours", required(Decimal)),
        ("BankAccount", required(Unicode)),
        ("EffectiveDate", required(Date)),
        ("Action", required(Unicode)),
    ],
)

UpsertEmployeeRequest = model(
    NS, "UpsertEmployeeRequest", [("EmployeeRecord", required(EmployeeRecord))]
)

UpsertEmployeeResult = model(
    NS,
    "UpsertEmployeeResult",
    [
        ("EmployeeNo", required(Unicode)),
        ("Status", required(Unicode)),
        ("ReasonCode", optional(Unicode)),
        ("ReasonText", optional(Unicode)),
    ],
)

PayrollBatch = model(
    NS,
    "PayrollBatch",
    [
        ("BatchId", required(Unicode)),
        ("SubmittedAt", required(DateTime)),
        ("Record", repeated(EmployeeRecord, min_occurs=1)),
    ],
)

SubmitPayrollBatchRequest = model(
    NS, "SubmitPayrollBatchRequest", [("Batch", required(PayrollBatch))]
)

RecordResult = model(
    NS,
    "RecordResult",
    [
        ("RecordId", optional(Unicode)),
        ("EmployeeNo", required(Unicode)),
        ("Status", required(Unicode)),
        ("ReasonCode", optional(Unicode)),
        ("ReasonText", optional(Unicode)),
    ],
)

SubmitPayrollBatchResult = model(
    NS,
    "SubmitPayrollBatchResult",
    [
        ("BatchId", required(Unicode)),
        ("Accepted", required(Integer32)),
        ("Rejected", required(Integer32)),
        ("Result", repeated(RecordResult)),
    ],
)
