"""HR changes to payroll: claimed rows become one SubmitPayrollBatch, results come per record.

The batch id is derived from the record ids, so a batch resent after a crash is the same batch
to payroll (which replays its first answer); payroll also applies each RecordId once, so records
regrouped into another batch are not applied twice. A record payroll rejects is a dead letter
with payroll's reason; a record that would make payroll refuse the whole batch (it does not fit
the contract) is set aside as a dead letter before the batch is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass

from bridge.domain import EmployeeChange, PayrollBatch, PayrollBatchResult, RecordStatus
from bridge.domain.clock import utcnow
from bridge.domain.upstream import Payroll
from bridge.store.employees import TOPIC
from bridge.sync.deliveries import read_rows
from bridge.sync.engine import Dead, Delivered, Outcome, Retry
from bridge.sync.outbox import OutboxRow

OPERATIONS = {
    "SubmitPayrollBatch": ("payroll/payroll_batch", "payroll/payroll_batch_result"),
    "UpsertEmployee": ("payroll/employee_upsert", "payroll/employee_upsert_result"),
}


def batch_id(records: Sequence[EmployeeChange]) -> str:
    digest = hashlib.sha256("|".join(sorted(r.record_id for r in records)).encode()).hexdigest()
    return f"B-{digest[:40]}"


@dataclass(eq=False)
class PayrollDeliverer:
    topic = TOPIC
    upstream = "payroll"

    payroll: Payroll
    _: KW_ONLY
    batch_size: int = 200

    def deliver(self, rows: Sequence[OutboxRow]) -> dict[int, Outcome]:
        outcomes, records, rows_by_record = read_rows(
            rows, EmployeeChange, lambda change: change.record_id
        )
        sendable = self._fitting(records, outcomes, rows_by_record)
        if not sendable:
            return outcomes
        batch = PayrollBatch(batch_id=batch_id(sendable), submitted_at=utcnow(), records=sendable)
        result: PayrollBatchResult = self.payroll.call(
            "SubmitPayrollBatch", batch, correlation_id=rows[0].correlation_id
        )
        for answer in result.results:
            row_id = rows_by_record.get(answer.record_id or "")
            if row_id is None:
                continue
            if answer.status == RecordStatus.ACCEPTED:
                outcomes[row_id] = Delivered(
                    {"batch_id": result.batch_id, "employee_no": answer.employee_no}
                )
            else:
                reason = f"{answer.reason_code or 'REJECTED'}: {answer.reason_text or ''}".strip()
                outcomes[row_id] = Dead(f"rejected by payroll: {reason}")
        for change in sendable:
            outcomes.setdefault(
                rows_by_record[change.record_id], Retry("payroll answered nothing for this record")
            )
        return outcomes

    def _fitting(
        self,
        records: list[EmployeeChange],
        outcomes: dict[int, Outcome],
        rows_by_record: dict[str, int],
    ) -> list[EmployeeChange]:
        """The records payroll's contract accepts; the others become dead letters."""
        if not records:
            return []
        whole = PayrollBatch(batch_id=batch_id(records), submitted_at=utcnow(), records=records)
        if self.payroll.refusal("SubmitPayrollBatch", whole) is None:
            return records
        fitting = []
        for record in records:
            alone = PayrollBatch(
                batch_id="check", submitted_at=whole.submitted_at, records=[record]
            )
            reason = self.payroll.refusal("SubmitPayrollBatch", alone)
            if reason is None:
                fitting.append(record)
            else:
                outcomes[rows_by_record[record.record_id]] = Dead(reason)
        return fitting
