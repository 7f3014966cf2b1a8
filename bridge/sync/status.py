"""The one read model of the sync jobs: what an operator asks of them, wherever they ask.

The REST door (`/api/v1/sync`), the dashboard, `bridge sync status` and the scrape-time gauges
of /metrics all show the same things: each job's topic, upstream and schedule, its queue by
state, its circuit breaker, its last runs, the deliveries and the dead letters. They render
what `SyncStatus` answers and work none of it out themselves, so a job, a state or a schedule
added here shows everywhere at once.

Everything comes back as frozen dataclasses, timestamps in UTC (SQLite hands them back without
their zone; every one the bridge writes is UTC). Lists page by id (keyset), so a page neither
skips nor repeats rows while new ones arrive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from bridge.domain.clock import as_utc
from bridge.observability.metrics import CircuitState, breaker_states
from bridge.store.outbox import CLAIMED, DEAD, DELIVERED, PENDING
from bridge.store.tables import job_runs, outbox
from bridge.sync.engine import Deliverer, SyncEngine

# Every state a delivery can be in, in the order a queue is read: waiting, in hand, done, failed.
QUEUE_STATES = (PENDING, CLAIMED, DELIVERED, DEAD)
LAST_RUNS = 5  # per job, unless asked otherwise


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One run of a job: who started it (`trigger`), where, and what became of its rows."""

    id: int
    job: str
    trigger: str
    node: str
    started_at: datetime
    ended_at: datetime | None = None
    claimed: int
    delivered: int
    retried: int
    dead: int
    error: str | None = None

    @property
    def seconds(self) -> float | None:
        """How long the run took; None while it runs."""
        if self.ended_at is None:
            return None
        return max((self.ended_at - self.started_at).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row, with the job that delivers it (None for a topic no job of this bridge
    has). `payload`, the canonical JSON message, carries personal data (salaries, bank
    accounts): it is read only when asked for. A dead letter's `updated_at` is when it died."""

    id: int
    job: str | None
    topic: str
    key: str
    status: str
    attempts: int
    last_error: str | None
    correlation_id: str | None
    created_at: datetime
    available_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    payload: str | None = None


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """How many of a job's deliveries are in each state."""

    pending: int = 0
    claimed: int = 0
    delivered: int = 0
    dead: int = 0


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A job as a whole. `scheduled` is false when this bridge's scheduler is off (the job runs
    only by hand); `running` says whether this process runs it now; `circuit` is its upstream's
    breaker as every worker of the node sees it (`metrics.breaker_states`); `queue` how many
    of its deliveries are in each state (every one of `QUEUE_STATES`, zeros included)."""

    name: str
    topic: str
    upstream: str
    schedule: str
    scheduled: bool
    batch_size: int
    circuit: CircuitState
    running: bool
    queue: QueueDepth
    last_runs: Sequence[Run] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UpstreamStatus:
    """An upstream system, its circuit breaker and the jobs that call it. `circuit` is None for
    an upstream without a breaker; `failures` are those counted by this process."""

    name: str
    circuit: CircuitState | None
    failures: int
    fail_max: int | None
    reset_timeout: float | None
    jobs: list[str]
    last_run: Run | None

    @property
    def health(self) -> str:
        """ok | degraded | down | unknown, from the breaker and the last run of its jobs."""
        if self.circuit == "open":
            return "down"
        if self.circuit == "half-open" or (self.last_run is not None and self.last_run.error):
            return "degraded"
        if self.circuit is None and self.last_run is None:
            return "unknown"
        return "ok"


class SyncStatus:
    """Reads the sync jobs of one bridge: its `SyncEngine` (jobs, breakers, runs in this
    process, the outbox), the schedule of each job (a crontab in UTC, or every <n>s|m|h) and
    whether this bridge schedules them at all. The composition root builds it; the doors only
    render what it answers."""

    def __init__(self, sync: SyncEngine, schedules: Mapping[str, str], *, scheduled: bool) -> None:
        self._sync = sync
        self._schedules = dict(schedules)
        self._scheduled = scheduled

    # -- jobs -------------------------------------------------------------------------------------

    def job_names(self) -> list[str]:
        return sorted(self._sync.deliverers)

    def topic_of(self, job: str) -> str | None:
        deliverer = self._sync.deliverers.get(job)
        return None if deliverer is None else deliverer.topic

    def job_of(self, topic: str) -> str | None:
        return self._jobs_by_topic().get(topic)

    def jobs(self, *, last_runs: int = LAST_RUNS) -> list[JobStatus]:
        """Every job, by name, each with its `last_runs` newest runs."""
        depth = self.depth_by_job()
        return [self._job(name, depth[name], last_runs) for name in self.job_names()]

    def job(self, name: str, *, last_runs: int = LAST_RUNS) -> JobStatus | None:
        if name not in self._sync.deliverers:
            return None
        return self._job(name, self.depth_by_job()[name], last_runs)

    def depth_by_job(self) -> dict[str, dict[str, int]]:
        """{job: {state: rows}} for every job and every state (zeros included), in one query."""
        depth = self._sync.outbox.depth()
        return {
            job: {state: depth.get(deliverer.topic, {}).get(state, 0) for state in QUEUE_STATES}
            for job, deliverer in self._sync.deliverers.items()
        }

    def upstreams(self) -> list[UpstreamStatus]:
        """Every upstream with a breaker or a job, by name, with the newest run of its jobs."""
        jobs_of: dict[str, list[str]] = {}
        for job, deliverer in sorted(self._sync.deliverers.items()):
            jobs_of.setdefault(deliverer.upstream, []).append(job)
        breakers = self._sync.breakers
        states = breaker_states(breakers)
        found = []
        for name in sorted(set(breakers) | set(jobs_of)):
            breaker = breakers.get(name)
            jobs = jobs_of.get(name, [])
            runs = [run for job in jobs for run in self.runs(job=job, limit=1)]
            found.append(
                UpstreamStatus(
                    name=name,
                    circuit=states.get(name),
                    failures=0 if breaker is None else int(breaker.fail_counter),
                    fail_max=None if breaker is None else int(breaker.fail_max),
                    reset_timeout=None if breaker is None else float(breaker.reset_timeout),
                    jobs=jobs,
                    last_run=max(runs, key=lambda run: run.started_at, default=None),
                )
            )
        return found

    # -- runs -------------------------------------------------------------------------------------

    def runs(
        self, *, job: str | None = None, limit: int = 20, before_id: int | None = None
    ) -> list[Run]:
        """The runs (of one job, or all), newest first; `before_id` continues a list after its
        last run."""
        query = select(job_runs).order_by(job_runs.c.id.desc()).limit(limit)
        if job is not None:
            query = query.where(job_runs.c.job == job)
        if before_id is not None:
            query = query.where(job_runs.c.id < before_id)
        return [Run(**row) for row in self._rows(query)]

    def run(self, run_id: int) -> Run | None:
        found = self._rows(select(job_runs).where(job_runs.c.id == run_id))
        return Run(**found[0]) if found else None

    # -- deliveries -------------------------------------------------------------------------------

    def deliveries(
        self,
        *,
        job: str | None = None,
        status: str | None = None,
        after_id: int = 0,
        limit: int = 50,
        payload: bool = False,
    ) -> list[Delivery]:
        """Outbox rows, oldest first, of one job's topic (every topic when None) and in one
        state (every state when None); `after_id` continues a list after its last row."""
        query = _delivery_query(payload).where(outbox.c.id > after_id)
        if job is not None:
            query = query.where(outbox.c.topic == self.topic_of(job))
        if status is not None:
            query = query.where(outbox.c.status == status)
        return self._deliveries(query.order_by(outbox.c.id).limit(limit))

    def delivery(self, delivery_id: int, *, payload: bool = False) -> Delivery | None:
        found = self._deliveries(_delivery_query(payload).where(outbox.c.id == delivery_id))
        return found[0] if found else None

    def dead_letters(self, *, limit: int = 50) -> list[Delivery]:
        """The dead letters, oldest first (the ones waiting longest for a replay)."""
        return self.deliveries(status=DEAD, limit=limit)

    # -- reading ----------------------------------------------------------------------------------

    def _job(self, name: str, depth: dict[str, int], last_runs: int) -> JobStatus:
        deliverer: Deliverer = self._sync.deliverers[name]
        return JobStatus(
            name=name,
            topic=deliverer.topic,
            upstream=deliverer.upstream,
            schedule=self._schedules[name],
            scheduled=self._scheduled,
            batch_size=deliverer.batch_size,
            circuit=breaker_states(self._sync.breakers)[deliverer.upstream],
            running=name in self._sync.running,
            queue=QueueDepth(**depth),
            last_runs=self.runs(job=name, limit=last_runs) if last_runs else [],
        )

    def _jobs_by_topic(self) -> dict[str, str]:
        return {deliverer.topic: job for job, deliverer in self._sync.deliverers.items()}

    def _deliveries(self, query: Select[Any]) -> list[Delivery]:
        jobs = self._jobs_by_topic()
        return [Delivery(job=jobs.get(row["topic"]), **row) for row in self._rows(query)]

    def _rows(self, query: Select[Any]) -> list[dict[str, Any]]:
        """The rows as dicts, their times given back the zone SQLite drops."""
        with self._sync.engine.connect() as connection:
            return [
                {
                    name: as_utc(value) if isinstance(value, datetime) else value
                    for name, value in row._mapping.items()
                }
                for row in connection.execute(query)
            ]


# What a delivery shows; its payload (personal data) only on request.
_DELIVERY_COLUMNS = (
    outbox.c.id,
    outbox.c.topic,
    outbox.c.key,
    outbox.c.status,
    outbox.c.attempts,
    outbox.c.last_error,
    outbox.c.correlation_id,
    outbox.c.created_at,
    outbox.c.available_at,
    outbox.c.updated_at,
    outbox.c.delivered_at,
)


def _delivery_query(payload: bool) -> Select[Any]:
    return select(*_DELIVERY_COLUMNS, *((outbox.c.payload,) if payload else ()))
