"""The read model of the sync jobs (`SyncStatus`): what the REST door, the dashboard, `bridge sync
status` and /metrics all render, read from one SQLite outbox and a sync engine with a fake job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, update

from bridge.domain.errors import UpstreamUnavailable
from bridge.store.tables import outbox as outbox_table
from bridge.sync import outbox
from bridge.sync.engine import Outcome, SyncEngine
from bridge.sync.outbox import Outbox, OutboxRow
from bridge.sync.status import QUEUE_STATES, QueueDepth, SyncStatus
from tests.common.hr import FakePayroll

SCHEDULE = "*/15 * * * *"


class UnreachablePayroll(FakePayroll):
    """Payroll that never answers: every run ends early with the upstream unavailable."""

    def deliver(self, rows: Sequence[OutboxRow]) -> dict[int, Outcome]:
        raise UpstreamUnavailable("payroll", "did not answer")


@pytest.fixture
def sync(engine: Engine) -> SyncEngine:
    return SyncEngine(engine, Outbox(engine), {"payroll": FakePayroll()})


@pytest.fixture
def read(sync: SyncEngine) -> SyncStatus:
    return SyncStatus(sync, {"payroll": SCHEDULE}, scheduled=True)


def queue(engine: Engine, *keys: str, topic: str = "payroll") -> list[int]:
    """Queue a delivery of `topic` per key; their ids."""
    with engine.begin() as connection:
        for key in keys:
            outbox.add(connection, topic=topic, key=key, payload='{"hours": 7}')
        found = connection.execute(
            select(outbox_table.c.id)
            .where(outbox_table.c.topic == topic, outbox_table.c.key.in_(keys))
            .order_by(outbox_table.c.id)
        )
        return list(found.scalars())


def kill(engine: Engine, *ids: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(outbox_table)
            .where(outbox_table.c.id.in_(ids))
            .values(status="dead", last_error="rejected: TEST", updated_at=datetime.now(UTC))
        )


def test_a_job_counts_every_queue_state_zeros_included(engine: Engine, read: SyncStatus) -> None:
    ids = queue(engine, "A", "B", "C")
    kill(engine, ids[0])

    [job] = read.jobs()

    assert job.queue == QueueDepth(pending=2, claimed=0, delivered=0, dead=1)
    assert [state.name for state in fields(QueueDepth)] == list(QUEUE_STATES)
    assert read.depth_by_job() == {"payroll": asdict(job.queue)}


def test_a_job_shows_its_schedule_circuit_and_newest_runs(
    sync: SyncEngine, read: SyncStatus
) -> None:
    sync.run("payroll")
    newest = sync.run("payroll")

    job = read.job("payroll", last_runs=1)

    assert job is not None
    assert (job.topic, job.upstream, job.schedule, job.scheduled) == (
        "payroll",
        "payroll",
        SCHEDULE,
        True,
    )
    assert (job.circuit, job.running, job.batch_size) == ("closed", False, 2)
    assert [run.id for run in job.last_runs] == [newest.run_id]
    assert read.job("nightly") is None


def test_runs_come_newest_first_and_continue_before_an_id(
    sync: SyncEngine, read: SyncStatus
) -> None:
    for _ in range(3):
        sync.run("payroll")

    newest = read.runs(limit=2)
    rest = read.runs(limit=2, before_id=newest[-1].id)

    assert [run.id for run in newest + rest] == [3, 2, 1]
    assert all(run.started_at.tzinfo is not None and run.seconds is not None for run in rest)
    assert read.run(1) == rest[0]
    assert read.run(99) is None


def test_dead_letters_name_their_job_and_none_for_a_topic_no_job_delivers(
    engine: Engine, read: SyncStatus
) -> None:
    kill(engine, *queue(engine, "A"), *queue(engine, "Z", topic="retired"))

    letters = read.dead_letters()

    assert [(letter.key, letter.job, letter.topic) for letter in letters] == [
        ("A", "payroll", "payroll"),
        ("Z", None, "retired"),
    ]
    assert all(letter.last_error == "rejected: TEST" for letter in letters)


def test_deliveries_carry_their_payload_only_when_asked(engine: Engine, read: SyncStatus) -> None:
    [delivery_id] = queue(engine, "A")

    without, with_payload = read.delivery(delivery_id), read.delivery(delivery_id, payload=True)

    assert without is not None
    assert without.payload is None
    assert with_payload is not None
    assert with_payload.payload == '{"hours": 7}'
    assert read.deliveries(job="payroll", after_id=delivery_id) == []


def test_an_upstream_whose_last_run_failed_is_degraded_and_down_once_its_circuit_opens(
    engine: Engine,
) -> None:
    sync = SyncEngine(engine, Outbox(engine), {"payroll": UnreachablePayroll()})
    read = SyncStatus(sync, {"payroll": SCHEDULE}, scheduled=False)
    queue(engine, "A")
    sync.run("payroll")

    [degraded] = read.upstreams()
    sync.breakers["payroll"].open()
    [down] = read.upstreams()

    assert (degraded.name, degraded.jobs, degraded.health) == ("payroll", ["payroll"], "degraded")
    assert degraded.last_run is not None
    assert degraded.last_run.error is not None
    assert (down.circuit, down.health) == ("open", "down")
