"""The scheduled sync jobs: APScheduler 3, its job store in the database, one scheduler a cluster.

APScheduler 3 cannot share a job store between schedulers, so exactly one process fires the
schedules: the one holding the scheduler lock (`bridge.sync.leader`). Every other process joins
each scheduled run while it lasts (`bridge.sync.joining`), and any process may drain the outbox
by hand (`bridge sync run`, the REST API); claims make that safe.

Job defaults, chosen on purpose:
- `coalesce=True`: runs missed while the bridge was down collapse into one run; each run drains
  the whole queue, so running it three times in a row would only add empty runs.
- `max_instances=1`: a run still draining when its next time comes is not doubled; the next run
  starts on the following tick (claims would make a double run safe, but not useful).
- `misfire_grace_time` per job: a run late by less than this still runs, a later one is skipped
  until the next tick: payroll 5 minutes (every 15), shipments 30 seconds (every minute),
  classification 1 hour (nightly; a node back at 03:00 still classifies last night's batch).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from bridge.domain.errors import Conflict
from bridge.sync.engine import SyncEngine
from bridge.sync.housekeeping import purge
from bridge.sync.triggers import schedule_trigger

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"


@dataclass(frozen=True, slots=True)
class Schedule:
    job: str
    # A crontab (UTC) or "every <n>s|m|h" (bridge.sync.triggers).
    crontab: str
    misfire_grace_time: int


# The process's sync engine, for jobs fired by APScheduler (its job store keeps a reference to
# `run_scheduled_job`, which must be importable by name, and the job's name as its argument).
_engine: SyncEngine | None = None


def run_scheduled_job(job: str) -> None:
    if _engine is None:
        log.error("sync job %s fired without a sync engine in this process", job)
        return
    try:
        report = _engine.run(job, trigger="schedule")
    except Conflict as exc:  # an operator's run of the job is draining the queue right now
        log.info("sync job %s skipped: %s", job, exc.detail)
        return
    log.info(
        "sync job %s: claimed %d, delivered %d, retried %d, dead %d%s",
        job,
        report.claimed,
        report.delivered,
        report.retried,
        report.dead,
        f" ({report.error})" if report.error else "",
    )


_retention: timedelta | None = None


def run_housekeeping() -> None:
    if _engine is None or _retention is None:
        log.error("housekeeping fired without a sync engine in this process")
        return
    purged = purge(_engine.engine, retention=_retention)
    log.info(
        "housekeeping: %d delivered outbox rows and %d expired idempotency keys deleted",
        purged.outbox_rows,
        purged.idempotency_keys,
    )


def build_scheduler(
    engine: Engine,
    sync: SyncEngine,
    schedules: list[Schedule],
    *,
    housekeeping: tuple[str, timedelta] | None = None,
) -> Any:
    """`housekeeping`: (crontab, outbox retention) of the hourly clean-up, if it should run."""
    global _engine, _retention
    _engine = sync
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=len(schedules) or 1)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone="UTC",
    )
    for schedule in schedules:
        scheduler.add_job(
            run_scheduled_job,
            schedule_trigger(schedule.crontab),
            args=[schedule.job],
            id=f"sync:{schedule.job}",
            name=f"sync {schedule.job}",
            replace_existing=True,
            misfire_grace_time=schedule.misfire_grace_time,
        )
    if housekeeping is not None:
        crontab, _retention = housekeeping
        scheduler.add_job(
            run_housekeeping,
            schedule_trigger(crontab),
            id="housekeeping",
            name="housekeeping",
            replace_existing=True,
            misfire_grace_time=3600,
        )
    return scheduler
