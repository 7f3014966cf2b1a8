"""Every node drains: a process that does not fire the schedules joins each run the leader fires.

Exactly one process in the cluster fires the schedules (`bridge.sync.leader`), and its scheduled
run, open in `job_runs`, is the cluster's "drain this queue now". Every other process looks for
such runs each time it asks for the scheduler lock, and runs the same job beside each one it has
not joined yet: its own run, recorded in `job_runs` with trigger `join` and its node, claiming
its own batches (``FOR UPDATE SKIP LOCKED``). So any number of workers drain at once, while the
number of scheduled runs per period stays one, and the queue is still drained on the schedule
("payroll every 15 minutes"), not whenever a node happens to look.

A process joins a scheduled run once, and only runs that started after it came up (and within
the last hour): a run left open by a leader that died is joined by the nodes that were up then,
not by every node that starts later.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select

from bridge.domain.clock import utcnow
from bridge.domain.errors import Conflict
from bridge.store.tables import job_runs
from bridge.sync.engine import SyncEngine

log = logging.getLogger(__name__)

SCHEDULED, JOIN = "schedule", "join"
# How far back a scheduled run may have started and still be joined (bounds the look-up).
WINDOW = timedelta(hours=1)


class Joiner:
    """Joins this cluster's open scheduled runs from a process that does not lead."""

    def __init__(self, sync: SyncEngine) -> None:
        self._sync = sync
        self._since = utcnow()
        self._joined: set[int] = set()
        self._pending: dict[str, Future[None]] = {}
        self._pool = ThreadPoolExecutor(
            max_workers=len(sync.deliverers) or 1, thread_name_prefix="sync-join"
        )

    def follow(self) -> None:
        """Start a run beside every scheduled run opened since the last look."""
        since = max(self._since, utcnow() - WINDOW)
        with self._sync.engine.connect() as connection:
            runs = connection.execute(
                select(job_runs.c.id, job_runs.c.job).where(
                    job_runs.c.job.in_(list(self._sync.deliverers)),
                    job_runs.c.started_at >= since,
                    job_runs.c.trigger == SCHEDULED,
                    job_runs.c.ended_at.is_(None),
                    job_runs.c.node != self._sync.node,
                )
            ).all()
        # Forget the runs that have ended: the set holds only runs still open.
        self._joined &= {run.id for run in runs}
        for run in runs:
            if run.id in self._joined:
                continue
            self._joined.add(run.id)
            pending = self._pending.get(run.job)
            if pending is not None and not pending.done():
                continue  # this process is still draining the job from an earlier run
            log.info("joining scheduled run #%d of %s", run.id, run.job)
            self._pending[run.job] = self._pool.submit(self._join, run.job)

    def stop(self) -> None:
        """Start no more joins; a join under way ends when its queue is drained."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _join(self, job: str) -> None:
        try:
            report = self._sync.run(job, trigger=JOIN)
        except Conflict as exc:  # this process runs the job already (an operator, the API)
            log.info("sync job %s not joined: %s", job, exc.detail)
            return
        except Exception:
            log.exception("joined run of sync job %s failed", job)
            return
        log.info("joined run of %s: %s", job, report.counts)
