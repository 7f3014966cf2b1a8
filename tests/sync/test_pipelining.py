"""A sync run readies the next batch while one is with the upstream (`SyncEngine`, a deliverer
with `prepare`), and keeps every rule of a run without it: one call in flight at a time, in
claim order, each sent after the previous one's answer; a run the upstream stops releases the
batch it had readied, untried; payroll's deliverer calls payroll only when the batch is sent."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy import Engine, select

from bridge.domain import PayrollBatch, PayrollBatchResult, RecordResult, RecordStatus
from bridge.domain.errors import UpstreamUnavailable
from bridge.mapping import canonical_json
from bridge.store.tables import outbox as outbox_table
from bridge.sync import outbox
from bridge.sync.deliveries.payroll import PayrollDeliverer
from bridge.sync.engine import Delivered, Outcome, Send, SyncEngine
from bridge.sync.outbox import Outbox, OutboxRow
from tests.common.hr import employee_changes

# How long a test waits for the other thread before it fails (never reached when it passes).
PATIENCE = 10.0


class Pipelined:
    """A deliverer that records what happens to each batch (by its first key): prepared, sent,
    answered; `down_at` makes the call for that batch find the upstream unavailable. The first
    call waits (up to PATIENCE) until the second batch is prepared, so a run that prepared
    nothing while a batch is in flight shows as `overlapped` False."""

    topic = "payroll"
    upstream = "payroll"
    batch_size = 2

    def __init__(self, down_at: str | None = None) -> None:
        self.down_at = down_at
        self.events: list[tuple[str, str]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.overlapped: bool | None = None
        self._second_prepared = threading.Event()
        self._lock = threading.Lock()

    def deliver(self, rows: Sequence[OutboxRow]) -> dict[int, Outcome]:
        return self.prepare(rows)()

    def prepare(self, rows: Sequence[OutboxRow]) -> Send:
        batch = rows[0].key
        self._event("prepared", batch)
        if sum(1 for kind, _ in self.events if kind == "prepared") == 2:
            self._second_prepared.set()

        def send() -> dict[int, Outcome]:
            with self._lock:
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                self._event("sent", batch)
                if self.overlapped is None:
                    self.overlapped = self._second_prepared.wait(PATIENCE)
                if batch == self.down_at:
                    raise UpstreamUnavailable("payroll", "payroll did not answer")
                self._event("answered", batch)
                return {row.id: Delivered({"batch": batch}) for row in rows}
            finally:
                with self._lock:
                    self.in_flight -= 1

        return send

    def _event(self, kind: str, batch: str) -> None:
        with self._lock:
            self.events.append((kind, batch))

    def of(self, kind: str) -> list[str]:
        return [batch for event, batch in self.events if event == kind]


def queue(engine: Engine, count: int) -> list[str]:
    keys = [f"K{n:02d}" for n in range(count)]
    with engine.begin() as connection:
        for key in keys:
            outbox.add(connection, topic="payroll", key=key, payload="{}")
    return keys


def rows_by_key(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        found = connection.execute(select(outbox_table)).all()
    return {row.key: row for row in found}


def test_the_next_batch_is_readied_while_one_is_in_flight_and_sent_after_its_answer(
    engine: Engine,
) -> None:
    queue(engine, 7)
    deliverer = Pipelined()

    report = SyncEngine(engine, Outbox(engine), {"payroll": deliverer}).run("payroll")

    assert (report.claimed, report.delivered, report.error) == (7, 7, None)
    assert deliverer.overlapped is True
    batches = ["K00", "K02", "K04", "K06"]
    assert deliverer.of("sent") == batches  # in claim order
    assert deliverer.most_in_flight == 1
    sent_after_answer = [
        deliverer.events.index(("answered", before)) < deliverer.events.index(("sent", after))
        for before, after in pairwise(batches)
    ]
    assert sent_after_answer == [True, True, True]
    assert {row.status for row in rows_by_key(engine).values()} == {"delivered"}


def test_a_run_the_upstream_stops_releases_the_batch_it_readied_untried(engine: Engine) -> None:
    queue(engine, 8)
    deliverer = Pipelined(down_at="K02")

    report = SyncEngine(engine, Outbox(engine), {"payroll": deliverer}).run("payroll")

    assert deliverer.of("prepared") == ["K00", "K02", "K04"]
    assert deliverer.of("sent") == ["K00", "K02"]
    assert (report.claimed, report.delivered, report.retried) == (4, 2, 2)
    assert report.error == "payroll: payroll did not answer"
    rows = rows_by_key(engine)
    assert [rows[key].status for key in ("K00", "K01")] == ["delivered", "delivered"]
    assert [(rows[key].status, rows[key].attempts) for key in ("K02", "K03")] == [
        ("pending", 1),
        ("pending", 1),
    ]
    readied = [
        (rows[key].status, rows[key].attempts, rows[key].claimed_by) for key in ("K04", "K05")
    ]
    assert readied == [("pending", 0, None), ("pending", 0, None)]


def test_max_batches_claims_no_batch_beyond_it(engine: Engine) -> None:
    queue(engine, 6)
    deliverer = Pipelined()
    deliverer.overlapped = False  # one batch: nothing to ready while it is in flight

    report = SyncEngine(engine, Outbox(engine), {"payroll": deliverer}).run(
        "payroll", max_batches=1
    )

    assert deliverer.of("prepared") == ["K00"]
    assert (report.claimed, report.delivered) == (2, 2)
    assert {rows_by_key(engine)[key].status for key in ("K02", "K03", "K04", "K05")} == {"pending"}


class RecordingPayroll:
    """Payroll that accepts every record, counting its calls and contract checks."""

    def __init__(self) -> None:
        self.calls: list[PayrollBatch] = []
        self.checks = 0

    def refusal(self, operation: str, message: Any) -> str | None:
        self.checks += 1
        return None

    def call(self, operation: str, message: Any, *, correlation_id: str | None = None) -> Any:
        self.calls.append(message)
        return PayrollBatchResult(
            batch_id=message.batch_id,
            accepted=len(message.records),
            rejected=0,
            results=[
                RecordResult(
                    record_id=record.record_id,
                    employee_no=record.employee_no,
                    status=RecordStatus.ACCEPTED,
                )
                for record in message.records
            ],
        )


def test_payroll_is_called_when_a_prepared_batch_is_sent_not_when_it_is_prepared() -> None:
    changes = employee_changes()[:3]
    rows = [
        OutboxRow(n, "payroll", change.record_id, canonical_json.dumps(change).decode(), 0, None)
        for n, change in enumerate(changes, start=1)
    ]
    payroll = RecordingPayroll()
    deliverer = PayrollDeliverer(payroll)

    send = deliverer.prepare(rows)

    assert (payroll.checks, payroll.calls) == (1, [])
    outcomes = send()
    [batch] = payroll.calls
    assert [record.record_id for record in batch.records] == [c.record_id for c in changes]
    assert sorted(outcomes) == [1, 2, 3]
    assert all(isinstance(outcome, Delivered) for outcome in outcomes.values())
