"""Runs a sync job: claim a batch of outbox rows, hand it to the topic's deliverer, record what
happened to each row, repeat until the queue is drained; every run is recorded in `job_runs`.

A deliverer turns rows into upstream calls and says, per row, whether it was delivered, should be
retried (transient) or is dead (permanent: a Client fault, a row that does not map, a rejected
record). An exception from the deliverer speaks for the whole batch: `UpstreamUnavailable`
(timeouts, HTTP 5xx, Server faults, dropped connections, HTML or unreadable replies: the batch
may have been applied, and the upstream deduplicates on each row's key) retries every row later
and ends the run; each
upstream has a circuit breaker, so a dead system is not hammered: while it is open, claimed rows
are handed back untried.

A process runs one run of a job at a time (whoever asks: the scheduler, the REST API); another
is refused with `Conflict` while it lasts. Claims would make two runs safe, but a second drain of
the same queue in the same process only competes with the first for its rows.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import pybreaker
from sqlalchemy import Engine, insert, update

from bridge.domain.clock import utcnow
from bridge.domain.errors import Conflict, InvalidInput, UpstreamRejected, UpstreamUnavailable
from bridge.observability import metrics
from bridge.observability.logging import correlated, current_correlation_id
from bridge.store.tables import job_runs
from bridge.sync.outbox import DEAD, Outbox, OutboxRow
from bridge.upstream.breakers import circuit_breaker

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivered:
    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Retry:
    error: str


@dataclass(frozen=True, slots=True)
class Dead:
    error: str


Outcome = Delivered | Retry | Dead
# Told of each row's fate: (row, "delivered" | "retry" | "dead", error); the audit log listens.
OutcomeListener = Callable[[OutboxRow, str, str | None], None]


class Deliverer(Protocol):
    """Delivers rows of one outbox topic to one upstream."""

    topic: str
    upstream: str
    batch_size: int

    def deliver(self, rows: Sequence[OutboxRow]) -> dict[int, Outcome]:
        """An outcome for every row id, or an exception that speaks for the whole batch."""
        ...


@dataclass(slots=True)
class RunReport:
    job: str
    trigger: str
    started_at: datetime
    ended_at: datetime | None = None
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    error: str | None = None
    run_id: int | None = field(default=None, repr=False)

    @property
    def counts(self) -> str:
        """The run in a log line: what it claimed and what became of it, and why it stopped."""
        stopped = f" ({self.error})" if self.error else ""
        return (
            f"claimed {self.claimed}, delivered {self.delivered}, retried {self.retried}, "
            f"dead {self.dead}{stopped}"
        )


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class SyncEngine:
    def __init__(
        self,
        engine: Engine,
        outbox: Outbox,
        deliverers: dict[str, Deliverer],
        *,
        breakers: dict[str, Any] | None = None,
        lease: timedelta = timedelta(minutes=5),
        node: str | None = None,
        on_outcome: OutcomeListener | None = None,
    ) -> None:
        self.engine = engine
        self.on_outcome = on_outcome
        self.outbox = outbox
        self.deliverers = deliverers
        # One per upstream (`bridge.upstream.breakers`): the composition root passes them all,
        # core banking's included, so every view of the breakers sees the same ones.
        self.breakers = breakers or {
            d.upstream: circuit_breaker(d.upstream) for d in deliverers.values()
        }
        self._lease = lease
        self.node = node or node_name()
        self._running: set[str] = set()
        self._running_lock = threading.Lock()

    @property
    def running(self) -> frozenset[str]:
        """The jobs with a run going in this process."""
        with self._running_lock:
            return frozenset(self._running)

    def run(
        self,
        job: str,
        *,
        trigger: str = "manual",
        max_batches: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RunReport:
        """Drain the job's topic (or `max_batches` batches of it) and record the run; a
        `Conflict` if this process is running the job already."""
        with self._exclusive(job):
            return self._run(job, trigger, max_batches, progress)

    @contextmanager
    def _exclusive(self, job: str) -> Iterator[None]:
        with self._running_lock:
            if job in self._running:
                raise Conflict(f"a run of {job} is already going in this process ({self.node})")
            self._running.add(job)
        try:
            yield
        finally:
            with self._running_lock:
                self._running.discard(job)

    def _run(
        self,
        job: str,
        trigger: str,
        max_batches: int | None,
        progress: Callable[[int], None] | None,
    ) -> RunReport:
        deliverer = self.deliverers[job]
        breaker = self.breakers[deliverer.upstream]
        report = RunReport(job=job, trigger=trigger, started_at=utcnow())
        report.run_id = self._start(report)
        batches = 0
        try:
            while max_batches is None or batches < max_batches:
                rows = self.outbox.claim(
                    deliverer.topic, deliverer.batch_size, lease=self._lease, worker=self.node
                )
                if not rows:
                    break
                batches += 1
                report.claimed += len(rows)
                # A batch goes upstream as one call: it carries (and logs) its first row's id.
                with correlated(rows[0].correlation_id or current_correlation_id()):
                    if not self._deliver(deliverer, breaker, rows, report):
                        break
                if progress is not None:
                    progress(len(rows))
        except Exception as exc:  # recorded, then raised: a job run never fails silently
            report.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            report.ended_at = utcnow()
            self._end(report)
            metrics.observe_job_run(report)
        return report

    def _deliver(
        self, deliverer: Deliverer, breaker: Any, rows: Sequence[OutboxRow], report: RunReport
    ) -> bool:
        """Deliver one batch; False when the run should stop (upstream unavailable)."""
        try:
            outcomes = breaker.call(deliverer.deliver, rows)
        except pybreaker.CircuitBreakerError:
            self.outbox.release(rows)
            report.error = f"circuit open for {deliverer.upstream}"
            return False
        except UpstreamUnavailable as exc:
            for row in rows:
                self._failed(report, row, exc.detail, permanent=False)
            report.error = exc.detail
            log.warning("%s: %s; %d rows will be retried", deliverer.topic, exc.detail, len(rows))
            return False
        except (UpstreamRejected, InvalidInput) as exc:
            for row in rows:
                self._failed(report, row, exc.detail, permanent=True)
            return True
        delivered = []
        for row in rows:
            outcome = outcomes.get(row.id) or Retry("the deliverer gave no outcome for this row")
            if isinstance(outcome, Delivered):
                delivered.append((row.id, outcome.result))
            else:
                permanent = isinstance(outcome, Dead)
                self._failed(report, row, outcome.error, permanent=permanent)
        report.delivered += self.outbox.delivered(delivered)
        for row in rows:
            if isinstance(outcomes.get(row.id), Delivered):
                self._tell(row, "delivered", None)
        return True

    def _failed(self, report: RunReport, row: OutboxRow, error: str, *, permanent: bool) -> None:
        state = self.outbox.failed(row, error, permanent=permanent)
        if state == DEAD:
            report.dead += 1
        else:
            report.retried += 1
        self._tell(row, "dead" if state == DEAD else "retry", error)

    def _tell(self, row: OutboxRow, result: str, error: str | None) -> None:
        if self.on_outcome is not None:
            try:
                self.on_outcome(row, result, error)
            except Exception:  # a listener never fails a delivery that happened
                log.exception("outcome listener failed for outbox row %s", row.id)

    def _start(self, report: RunReport) -> int:
        with self.engine.begin() as connection:
            result = connection.execute(
                insert(job_runs).values(
                    job=report.job,
                    trigger=report.trigger,
                    node=self.node,
                    started_at=report.started_at,
                    claimed=0,
                    delivered=0,
                    retried=0,
                    dead=0,
                )
            )
            run_id: int = result.inserted_primary_key[0]  # type: ignore[index]
        return run_id

    def _end(self, report: RunReport) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(job_runs)
                .where(job_runs.c.id == report.run_id)
                .values(
                    ended_at=report.ended_at,
                    claimed=report.claimed,
                    delivered=report.delivered,
                    retried=report.retried,
                    dead=report.dead,
                    error=report.error,
                )
            )
