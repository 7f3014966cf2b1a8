"""The payroll simulator's operations, in wire form (JSON types) in and out.

- UpsertEmployee applies one record once per RecordId (scope "record") and answers
  ACCEPTED, or REJECTED with the ReasonCode and ReasonText of `rules.refusal`.
- SubmitPayrollBatch applies a batch once per BatchId (scope "batch"): a repeated BatchId
  answers the first result whole and applies nothing. In a new batch, records are applied in
  order, each once per RecordId, shared with UpsertEmployee: a record already applied (earlier
  in this batch, in another batch, or alone) is answered with its first result, not reapplied.
  Accepted and Rejected count the batch's results, replayed ones included.
- An accepted HIRE or CHANGE stores the record as the employee's current data (ACTIVE); an
  accepted TERMINATE marks the employee TERMINATED, and a later HIRE may bring them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bridge.domain.clock import Clock
from bridge.sims.context import Wire
from bridge.sims.control import table_state
from bridge.sims.payroll.rules import ACTIVE, TERMINATED, PayrollRules, refusal
from bridge.sims.records import Call, Recorder
from bridge.store.sim_tables import sim_employees

ACCEPTED, REJECTED = "ACCEPTED", "REJECTED"


@dataclass(frozen=True)
class Payroll:
    recorder: Recorder
    rules: PayrollRules
    clock: Clock

    def upsert_employee(self, environ: dict[str, Any], request: Wire) -> Wire:
        record = request["EmployeeRecord"]

        def work(call: Call) -> Wire:
            result, call.duplicate = self._record_once(call, "UpsertEmployee", record)
            call.summary = {"EmployeeNo": record["EmployeeNo"], "Action": record["Action"]}
            call.summary["outcome"] = _outcome(result)
            return {name: value for name, value in result.items() if name != "RecordId"}

        return self.recorder.transact(environ, "UpsertEmployee", record["RecordId"], work)

    def submit_batch(self, environ: dict[str, Any], request: Wire) -> Wire:
        batch = request["Batch"]
        replayed: list[str] = []

        def apply(call: Call) -> Wire:
            replayed.clear()  # a retried transaction starts again
            results = []
            for record in batch["Record"]:
                result, again = self._record_once(call, "SubmitPayrollBatch", record)
                results.append(result)
                if again:
                    replayed.append(record["RecordId"])
            accepted = sum(result["Status"] == ACCEPTED for result in results)
            return {
                "BatchId": batch["BatchId"],
                "Accepted": accepted,
                "Rejected": len(results) - accepted,
                "Result": results,
            }

        def summarize(request: Wire, response: Wire) -> Wire:
            summary: Wire = {
                "records": len(request["Batch"]["Record"]),
                "outcome": f"{response['Accepted']} accepted, {response['Rejected']} rejected",
            }
            if replayed:
                summary["replayed_records"] = replayed
            return summary

        return self.recorder.once(
            environ, "SubmitPayrollBatch", "batch", batch["BatchId"], request, apply, summarize
        )

    def _record_once(self, call: Call, operation: str, record: Wire) -> tuple[Wire, bool]:
        return call.once(
            operation,
            "record",
            record["RecordId"],
            record,
            lambda: self._apply(call.connection, record),
        )

    def _apply(self, connection: Connection, record: Wire) -> Wire:
        number = record["EmployeeNo"]
        status = connection.execute(
            select(sim_employees.c.status).where(sim_employees.c.employee_no == number)
        ).scalar()
        result: Wire = {"RecordId": record["RecordId"], "EmployeeNo": number}
        refused = refusal(record, status, self.rules)
        if refused is not None:
            return {
                **result,
                "Status": REJECTED,
                "ReasonCode": refused[0],
                "ReasonText": refused[1],
            }
        values = {
            "status": TERMINATED if record["Action"] == "TERMINATE" else ACTIVE,
            "record": record,
            "record_id": record["RecordId"],
            "updated_at": self.clock(),
        }
        if status is None:
            connection.execute(insert(sim_employees).values(employee_no=number, **values))
        else:
            connection.execute(
                update(sim_employees).where(sim_employees.c.employee_no == number).values(**values)
            )
        return {**result, "Status": ACCEPTED}


def seed_employees(connection: Connection, now: datetime, employees: list[Wire]) -> None:
    known = set(connection.execute(select(sim_employees.c.employee_no)).scalars())
    for employee in employees:
        if employee["EmployeeNo"] in known:
            continue
        record = {**employee, "RecordId": "seed", "Action": "HIRE"}
        connection.execute(
            insert(sim_employees).values(
                employee_no=employee["EmployeeNo"],
                status=ACTIVE,
                record=record,
                record_id="seed",
                updated_at=now,
            )
        )


def employees_state(connection: Connection) -> Wire:
    columns = ("employee_no", "status", "record_id", "record")
    return {"employees": table_state(connection, sim_employees, "employee_no", columns)}


def _outcome(result: Wire) -> str:
    reason = result.get("ReasonCode")
    return f"{result['Status']} {reason}" if reason else str(result["Status"])
