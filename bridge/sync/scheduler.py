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

The reconciler of unfinished transfers (`bridge.sync.reconcile`) is one more job here, on
`reconcile_schedule` (every minute by default), with a grace of 30 seconds: a missed run is
not worth catching up, the next one settles the same transfers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from bridge.domain.errors import Conflict
from bridge.observability import metrics
from bridge.settings import Settings
from bridge.sync.engine import SyncEngine
from bridge.sync.housekeeping import purge
from bridge.sync.triggers import schedule_trigger

if TYPE_CHECKING:
    from bridge.sync.reconcile import Reconciler

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"


@dataclass(frozen=True, slots=True)
class Schedule:
    job: str
    # A crontab (UTC) or "every <n>s|m|h" (bridge.sync.triggers).
    crontab: str
    misfire_grace_time: int


def schedules(settings: Settings, jobs: list[str]) -> list[Schedule]:
    """The schedules of `jobs` as configured (`*_schedule` settings), with their grace times."""
    every = {
        "payroll": Schedule("payroll", settings.payroll_schedule, misfire_grace_time=300),
        "shipments": Schedule("shipments", settings.shipments_schedule, misfire_grace_time=30),
        "classification": Schedule(
            "classification", settings.classification_schedule, misfire_grace_time=3600
        ),
    }
    return [every[job] for job in jobs]


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
    log.info("sync job %s: %s", job, report.counts)


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


_reconciler: Reconciler | None = None


@dataclass(frozen=True, slots=True)
class _Job:
    """One job of the scheduler: `function` called with `args` on `crontab`'s schedule, and
    still run up to `misfire_grace_time` seconds late."""

    id: str
    name: str
    function: Callable[..., None]
    crontab: str
    misfire_grace_time: int
    args: tuple[str, ...] = ()


class _JobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's job store, minus its `shutdown`, which disposes the engine it was given:
    the app's own, whose connections in use (the scheduler lock's among them) would be
    orphaned by a scheduler stepping down. The app disposes its engine when it closes."""

    def shutdown(self) -> None:
        pass


def run_reconcile() -> None:
    if _reconciler is None:
        log.error("reconcile fired without a reconciler in this process")
        return
    try:
        report = _reconciler.run(trigger="schedule")
    except Conflict as exc:  # an operator's reconciliation is running in this process
        log.info("reconcile skipped: %s", exc.detail)
        return
    if report.settled or report.error:
        log.info(
            "reconcile: %d booked, %d pending, %d rejected, %d refused, %d failed%s",
            *(report.count(outcome) for outcome in metrics.RECONCILE_OUTCOMES),
            f" (stopped: {report.error})" if report.error else "",
        )


def build_scheduler(
    engine: Engine,
    sync: SyncEngine,
    schedules: list[Schedule],
    *,
    housekeeping: tuple[str, timedelta] | None = None,
    reconcile: tuple[str, Reconciler] | None = None,
) -> Any:
    """`housekeeping`: (crontab, outbox retention) of the hourly clean-up, if it should run;
    `reconcile`: (schedule, reconciler) of the reconciler of unfinished transfers."""
    global _engine, _retention, _reconciler
    _engine = sync
    scheduler = BackgroundScheduler(
        jobstores={"default": _JobStore(engine=engine, tablename=JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=len(schedules) + 2)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone="UTC",
    )
    jobs = [
        _Job(
            f"sync:{each.job}",
            f"sync {each.job}",
            run_scheduled_job,
            each.crontab,
            each.misfire_grace_time,
            (each.job,),
        )
        for each in schedules
    ]
    if housekeeping is not None:
        crontab, _retention = housekeeping
        jobs.append(_Job("housekeeping", "housekeeping", run_housekeeping, crontab, 3600))
    if reconcile is not None:
        crontab, _reconciler = reconcile
        jobs.append(_Job("reconcile", "reconcile transfers", run_reconcile, crontab, 30))
    for job in jobs:
        scheduler.add_job(
            job.function,
            schedule_trigger(job.crontab),
            args=list(job.args),
            id=job.id,
            name=job.name,
            replace_existing=True,
            misfire_grace_time=job.misfire_grace_time,
        )
    return scheduler
