"""A sync run's counts as the scheduler and a joined run log them (`RunReport.counts`)."""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.sync.engine import RunReport

STARTED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_counts_say_what_the_run_claimed_and_what_became_of_it() -> None:
    report = RunReport("payroll", "schedule", STARTED, claimed=5, delivered=3, retried=1, dead=1)
    assert report.counts == "claimed 5, delivered 3, retried 1, dead 1"


def test_counts_say_why_a_run_stopped() -> None:
    report = RunReport("payroll", "schedule", STARTED, claimed=2, error="circuit open")
    assert report.counts == "claimed 2, delivered 0, retried 0, dead 0 (circuit open)"
