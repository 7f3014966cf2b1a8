"""The schedules as configured: one APScheduler job per sync job, with the defaults chosen on
purpose, in the database job store; a fired job runs the sync engine."""

from __future__ import annotations

from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import inspect

from bridge.app import create_app
from bridge.settings import Settings
from bridge.sync import scheduler as scheduler_module
from bridge.sync.scheduler import build_scheduler, run_scheduled_job, schedules


def test_each_job_is_scheduled_from_settings_with_coalesce_and_one_instance(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'b.db'}",
        simulators=False,
        payroll_schedule="*/5 * * * *",
    )
    bridge = create_app(settings)
    scheduler = build_scheduler(
        bridge.engine, bridge.sync, schedules(settings, list(bridge.sync.deliverers))
    )
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"sync:payroll", "sync:shipments", "sync:classification"}
        payroll = jobs["sync:payroll"]
        assert isinstance(payroll.trigger, CronTrigger)
        assert str(payroll.trigger.fields[6]) == "*/5"  # minute
        assert (payroll.coalesce, payroll.max_instances, payroll.misfire_grace_time) == (
            True,
            1,
            300,
        )
        assert jobs["sync:shipments"].misfire_grace_time == 30
        assert jobs["sync:classification"].misfire_grace_time == 3600
        assert "apscheduler_jobs" in inspect(bridge.engine).get_table_names()
    finally:
        scheduler.shutdown(wait=False)
        bridge.close()


def test_a_fired_job_records_a_scheduled_run(tmp_path: Path) -> None:
    bridge = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'b.db'}", simulators=False))
    build_scheduler(bridge.engine, bridge.sync, [])  # registers this process's sync engine
    try:
        run_scheduled_job("payroll")  # an empty queue: a run with nothing claimed
        (run,) = bridge.sync_status.runs()
        assert (run.job, run.trigger, run.claimed) == ("payroll", "schedule", 0)
    finally:
        scheduler_module._engine = None
        bridge.close()
