"""HR changes travel to payroll through the outbox: delivered once, rejections kept as dead
letters with payroll's reason, an unavailable payroll retried later, dead letters replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bridge.sims import controls
from bridge.store.tables import employees, job_runs, outbox
from tests.common.hr import employee_changes
from tests.common.live import LiveBridge


def _rows(live: LiveBridge) -> dict[str, dict[str, object]]:
    with live.bridge.engine.connect() as connection:
        rows = connection.execute(select(outbox).where(outbox.c.topic == "payroll")).all()
    return {row.key: dict(row._mapping) for row in rows}


def _make_due(live: LiveBridge) -> None:
    """Pretend the backoff has passed."""
    with live.bridge.engine.begin() as connection:
        connection.execute(
            update(outbox).values(available_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_changes_are_stored_and_queued_in_one_transaction(live_bridge: LiveBridge) -> None:
    accepted = live_bridge.bridge.hr.record_changes(employee_changes(), correlation_id="cid-hr-1")

    assert [c.record_id for c in accepted] == ["REC-0001", "REC-0002", "REC-0003", "REC-0004"]
    rows = _rows(live_bridge)
    assert {k: r["status"] for k, r in rows.items()} == dict.fromkeys(rows, "pending")
    assert rows["REC-0001"]["correlation_id"] == "cid-hr-1"
    with live_bridge.bridge.engine.connect() as connection:
        assert connection.execute(select(employees.c.employee_no)).scalars().all() == [
            "HR1001",
            "HR1002",
            "HR1003",
            "HR1004",
        ]


def test_a_change_with_too_many_decimals_is_refused_and_nothing_is_queued(
    live_bridge: LiveBridge,
) -> None:
    changes = employee_changes()
    changes[2].salary.amount.amount = changes[2].salary.amount.amount + type(
        changes[2].salary.amount.amount
    )("0.5")
    with pytest.raises(Exception, match=r"changes\[2\]\.salary\.amount"):
        live_bridge.bridge.hr.record_changes(changes)
    assert _rows(live_bridge) == {}


def test_payroll_run_delivers_each_record_once_and_dead_letters_the_rejected(
    live_bridge: LiveBridge,
) -> None:
    live_bridge.bridge.hr.record_changes(employee_changes())

    report = live_bridge.bridge.sync.run("payroll")

    assert (report.claimed, report.delivered, report.dead, report.retried) == (4, 3, 1, 0)
    rows = _rows(live_bridge)
    assert rows["REC-0004"]["status"] == "dead"
    assert "HOURS_ABOVE_MAXIMUM" in str(rows["REC-0004"]["last_error"])
    payroll = controls(live_bridge.bridge.engine)["payroll"]
    applied = {e["idempotency_key"] for e in payroll.effects(scope="record")}
    assert {"REC-0001", "REC-0002", "REC-0003"} <= applied
    with live_bridge.bridge.engine.connect() as connection:
        run = connection.execute(select(job_runs)).one()
    assert (run.job, run.claimed, run.delivered, run.dead) == ("payroll", 4, 3, 1)


def test_payroll_down_then_back_retries_later_and_loses_nothing(live_bridge: LiveBridge) -> None:
    payroll = controls(live_bridge.bridge.engine)["payroll"]
    live_bridge.bridge.hr.record_changes(employee_changes()[:3])
    payroll.inject("http_500", count=1)

    first = live_bridge.bridge.sync.run("payroll")

    assert (first.delivered, first.retried) == (0, 3)
    assert first.error is not None
    rows = _rows(live_bridge)
    assert {r["status"] for r in rows.values()} == {"pending"}
    assert all(r["attempts"] == 1 for r in rows.values())
    assert live_bridge.bridge.sync.run("payroll").claimed == 0  # backoff: not due yet

    _make_due(live_bridge)
    second = live_bridge.bridge.sync.run("payroll")

    assert second.delivered == 3
    assert {r["status"] for r in _rows(live_bridge).values()} == {"delivered"}


def test_a_response_lost_after_payroll_applied_is_not_applied_twice(
    live_bridge: LiveBridge,
) -> None:
    payroll = controls(live_bridge.bridge.engine)["payroll"]
    live_bridge.bridge.hr.record_changes(employee_changes()[:2])
    payroll.inject("drop", count=1, stage="response")

    live_bridge.bridge.sync.run("payroll")
    _make_due(live_bridge)
    live_bridge.bridge.sync.run("payroll")

    assert {r["status"] for r in _rows(live_bridge).values()} == {"delivered"}
    batches = payroll.calls(operation="SubmitPayrollBatch")
    assert len(batches) == 2
    assert [call["duplicate"] for call in batches] == [False, True]


def test_dead_letters_can_be_replayed(live_bridge: LiveBridge) -> None:
    live_bridge.bridge.hr.record_changes(employee_changes())
    live_bridge.bridge.sync.run("payroll")
    dead = [r["id"] for r in _rows(live_bridge).values() if r["status"] == "dead"]

    assert live_bridge.bridge.sync.outbox.replay(ids=dead) == 1
    row = _rows(live_bridge)["REC-0004"]
    assert (row["status"], row["attempts"]) == ("pending", 0)
