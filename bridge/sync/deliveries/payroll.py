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
from functools import partial

from bridge.domain import EmployeeChange, PayrollBatch, PayrollBatchResult, RecordStatus
from bridge.domain.clock import utcnow
from bridge.domain.upstream import Payroll
from bridge.store.employees import TOPIC
from bridge.sync.deliveries import read_rows
from bridge.sync.engine import Dead, Delivered, Outcome, Retry, Send
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
        return self.prepare(rows)()

    def prepare(self, rows: Sequence[OutboxRow]) -> Send:
        """The rows read and checked against payroll's contract (the sync engine does this
        while the previous batch is with payroll); the call returned sends the batch."""
        outcomes, records, rows_by_record = read_rows(
            rows, EmployeeChange, lambda change: change.record_id
        )
        if not records:
            return lambda: outcomes
        whole = batch_id(records)
        sendable = self._fitting(whole, records, outcomes, rows_by_record)
        if not sendable:
            return lambda: outcomes
        return partial(
            self._send,
            whole if sendable is records else batch_id(sendable),
            sendable,
            outcomes,
            rows_by_record,
            rows[0].correlation_id,
        )

    def _send(
        self,
        batch_key: str,
        sendable: list[EmployeeChange],
        outcomes: dict[int, Outcome],
        rows_by_record: dict[str, int],
        correlation_id: str | None,
    ) -> dict[int, Outcome]:
        batch = PayrollBatch(batch_id=batch_key, submitted_at=utcnow(), records=sendable)
        result: PayrollBatchResult = self.payroll.call(
            "SubmitPayrollBatch", batch, correlation_id=correlation_id
        )
        outcomes = dict(outcomes)
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
        whole_id: str,
        records: list[EmployeeChange],
        outcomes: dict[int, Outcome],
        rows_by_record: dict[str, int],
    ) -> list[EmployeeChange]:
        """The records payroll's contract accepts (`records` itself when all of them do); the
        others become dead letters."""
        whole = PayrollBatch(batch_id=whole_id, submitted_at=utcnow(), records=records)
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
