"""What the dashboard's panels show, read from the running bridge: the upstreams and their
circuit breakers, the bridge's own readiness, each job's queue and depth over time, the recent
runs and the dead letters. Plain data for the templates; no Flask here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bridge.observability.metrics import breaker_states
from bridge.settings import UPSTREAMS
from bridge.store.db import migration_state
from bridge.sync import status
from bridge.ui.chart import LineChart, line_chart
from bridge.ui.depth import Window, outbox_depth

if TYPE_CHECKING:
    from bridge.app import Bridge

RECENT_RUNS = 20
DEAD_LETTERS = 100


@dataclass(frozen=True, slots=True)
class Readiness:
    """What /readyz checks, for the eye: the database answers and its schema is current."""

    database: str
    migrations: str

    @property
    def ready(self) -> bool:
        return self.database == "ok" and self.migrations == "ok"


@dataclass(frozen=True, slots=True)
class Upstream:
    """One upstream system: where the bridge calls it and how its circuit breaker stands.
    `circuit` is the state across every worker (`metrics.breaker_states`), None for an upstream
    without a breaker; `failures` are those counted by the process drawing the page."""

    name: str
    url: str
    circuit: str | None
    failures: int
    fail_max: int | None
    reset_timeout: float | None
    jobs: list[str]
    last_run: dict[str, Any] | None

    @property
    def health(self) -> str:
        """ok | degraded | down | unknown, from the breaker and the last run of its jobs."""
        if self.circuit == "open":
            return "down"
        if self.circuit == "half-open" or (self.last_run is not None and self.last_run["error"]):
            return "degraded"
        if self.circuit is None and self.last_run is None:
            return "unknown"
        return "ok"


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    topic: str
    upstream: str
    schedule: str
    running: bool
    queue: Mapping[str, int]
    chart: LineChart


def readiness(bridge: Bridge) -> Readiness:
    try:
        with bridge.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = migration_state(bridge.engine)
    except SQLAlchemyError as exc:
        return Readiness(f"unreachable ({type(exc).__name__})", "unknown")
    return Readiness("ok", "ok" if current == head else f"at {current}, expected {head}")


def upstreams(bridge: Bridge) -> list[Upstream]:
    jobs_of: dict[str, list[str]] = {}
    for job, deliverer in bridge.sync.deliverers.items():
        jobs_of.setdefault(deliverer.upstream, []).append(job)
    states = breaker_states(bridge.sync.breakers)
    found = []
    for name in sorted(set(UPSTREAMS) | set(bridge.sync.breakers)):
        breaker = bridge.sync.breakers.get(name)
        jobs = sorted(jobs_of.get(name, []))
        runs = [run for job in jobs for run in status.last_runs(bridge.engine, job=job, limit=1)]
        found.append(
            Upstream(
                name=name,
                url=bridge.upstreams.address(name) if name in UPSTREAMS else "",
                circuit=states.get(name),
                failures=0 if breaker is None else int(breaker.fail_counter),
                fail_max=None if breaker is None else int(breaker.fail_max),
                reset_timeout=None if breaker is None else float(breaker.reset_timeout),
                jobs=jobs,
                last_run=max(runs, key=lambda run: run["started_at"], default=None),
            )
        )
    return found


def jobs(bridge: Bridge, window: Window, now: datetime) -> list[Job]:
    from bridge.app import schedules

    depth = bridge.sync.outbox.depth()
    times = window.times(now)
    found = []
    for name, deliverer in sorted(bridge.sync.deliverers.items()):
        counts = depth.get(deliverer.topic, {})
        found.append(
            Job(
                name=name,
                topic=deliverer.topic,
                upstream=deliverer.upstream,
                schedule=schedules(bridge.settings, [name])[0].crontab,
                running=name in bridge.sync.running,
                queue={
                    state: counts.get(state, 0)
                    for state in ("pending", "claimed", "delivered", "dead")
                },
                chart=line_chart(times, outbox_depth(bridge.engine, deliverer.topic, times)),
            )
        )
    return found


def recent_runs(bridge: Bridge) -> list[dict[str, Any]]:
    return status.last_runs(bridge.engine, limit=RECENT_RUNS)


def dead_letters(bridge: Bridge) -> list[dict[str, Any]]:
    """The oldest dead letters first (the ones waiting longest), with their job's name."""
    jobs = {deliverer.topic: job for job, deliverer in bridge.sync.deliverers.items()}
    rows = status.dead_letters(bridge.engine, limit=DEAD_LETTERS)
    return [{**row, "job": jobs.get(row["topic"], row["topic"])} for row in rows]


def job_of_topic(bridge: Bridge, topic: str) -> str:
    for job, deliverer in bridge.sync.deliverers.items():
        if deliverer.topic == topic:
            return job
    return topic
