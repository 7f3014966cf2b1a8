"""What the dashboard's panels add to the sync read model (`Bridge.sync_status`, which gives the
upstreams and their circuit breakers, the jobs and their queues, the runs and the dead letters):
the bridge's own readiness, where each upstream is called, and each job's outbox depth over
time as a chart. Plain data for the templates; no Flask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bridge.settings import UPSTREAMS
from bridge.store.db import migration_state
from bridge.sync.status import JobStatus
from bridge.ui.chart import LineChart, line_chart
from bridge.ui.depth import Window, outbox_depth

if TYPE_CHECKING:
    from bridge.components import Bridge

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


def readiness(bridge: Bridge) -> Readiness:
    try:
        with bridge.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = migration_state(bridge.engine)
    except SQLAlchemyError as exc:
        return Readiness(f"unreachable ({type(exc).__name__})", "unknown")
    return Readiness("ok", "ok" if current == head else f"at {current}, expected {head}")


def addresses(bridge: Bridge) -> dict[str, str]:
    """Where the bridge calls each upstream: its configured URL or this process's simulator."""
    return {name: bridge.upstreams.address(name) for name in UPSTREAMS}


def depth_charts(
    bridge: Bridge, jobs: Iterable[JobStatus], window: Window, now: datetime
) -> dict[str, LineChart]:
    """Each job's outbox depth over `window`, ending `now`, by job name."""
    times = window.times(now)
    return {
        job.name: line_chart(times, outbox_depth(bridge.engine, job.topic, times)) for job in jobs
    }
