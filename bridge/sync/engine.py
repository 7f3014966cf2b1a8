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

A run keeps one batch in flight and gets the next one ready meanwhile: while batch k is with the
upstream (on the run's sender thread), batch k+1 is claimed and prepared (`Preparing.prepare`:
read, checked against the contract), and as soon as k's answer is in, k+1 is sent and k's
outcomes are recorded while it travels. Nothing else changes: one call at a time per run, each
sent only after the previous one's answer (so a later change of an employee never overtakes an
earlier one in flight), a row is marked delivered only from the upstream's answer, and a run that
stops (upstream unavailable, circuit open) gives the prepared batch back untried. A crash leaves
both batches claimed until their lease runs out, like a crash with one.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

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


# A prepared batch's upstream call: `deliver`'s answer (or exception), made when it is called.
Send = Callable[[], dict[int, Outcome]]


@runtime_checkable
class Preparing(Deliverer, Protocol):
    """A deliverer whose work before the upstream call can run while another batch is in
    flight: `deliver(rows)` is `prepare(rows)()`."""

    def prepare(self, rows: Sequence[OutboxRow]) -> Send:
        """Everything `deliver` does before it calls the upstream (reading the rows, checking
        them against the contract); the returned call sends the batch. No upstream call and
        no change to the rows here: a batch prepared and never sent is released untried."""
        ...


@dataclass(slots=True)
class _Flight:
    """A batch handed to the sender thread, and its answer to come: the outcomes, or the
    exception that speaks for the whole batch."""

    rows: Sequence[OutboxRow]
    answer: Future[dict[int, Outcome]]

    def wait(self) -> dict[int, Outcome] | Exception:
        try:
            return self.answer.result()
        except Exception as exc:
            return exc


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
        report = RunReport(job=job, trigger=trigger, started_at=utcnow())
        report.run_id = self._start(report)
        try:
            with ThreadPoolExecutor(1, thread_name_prefix=f"sync-{job}") as sender:
                self._drain(deliverer, sender, report, max_batches, progress)
        except Exception as exc:  # recorded, then raised: a job run never fails silently
            report.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            report.ended_at = utcnow()
            self._end(report)
            metrics.observe_job_run(report)
        return report

    def _drain(
        self,
        deliverer: Deliverer,
        sender: ThreadPoolExecutor,
        report: RunReport,
        max_batches: int | None,
        progress: Callable[[int], None] | None,
    ) -> None:
        """Claim, prepare, send and settle batches until the queue is empty (or `max_batches`
        are claimed, or the upstream is unavailable), one in flight while the next is readied.
        A batch prepared when the run stops is released unsent. On an exception the batch in
        flight is waited for (the executor's exit) and left claimed, as a crash leaves it: its
        lease runs out and it is sent again, under the same keys."""
        breaker = self.breakers[deliverer.upstream]
        flight: _Flight | None = None
        batches = 0
        while True:
            rows: list[OutboxRow] = []
            if max_batches is None or batches < max_batches:
                rows = self.outbox.claim(
                    deliverer.topic, deliverer.batch_size, lease=self._lease, worker=self.node
                )
            send: Send | None = None
            if rows:
                batches += 1
                send = self._prepare(deliverer, rows)
            answer: dict[int, Outcome] | Exception | None = None
            if flight is not None:
                answer = flight.wait()
                if rows and not _goes_on(answer):
                    self.outbox.release(rows)  # prepared, never sent
                    rows, send = [], None
            following = None
            if send is not None:
                report.claimed += len(rows)  # a batch released unsent was never this run's
                following = self._send(sender, breaker, rows, send)
            if flight is not None and answer is not None:
                with correlated(flight.rows[0].correlation_id or current_correlation_id()):
                    goes_on = self._settle(deliverer, flight.rows, answer, report)
                if progress is not None:
                    progress(len(flight.rows))
                if not goes_on:
                    return
            if following is None:
                return
            flight = following

    def _prepare(self, deliverer: Deliverer, rows: Sequence[OutboxRow]) -> Send:
        """The batch's upstream call, with what comes before it done now when the deliverer
        can split them; an exception there is the batch's answer, as it is from `deliver`."""
        if not isinstance(deliverer, Preparing):
            return lambda: deliverer.deliver(rows)
        with correlated(rows[0].correlation_id or current_correlation_id()):
            try:
                return deliverer.prepare(rows)
            except Exception as exc:
                failure = exc

        def fail() -> dict[int, Outcome]:
            raise failure

        return fail

    def _send(
        self, sender: ThreadPoolExecutor, breaker: Any, rows: Sequence[OutboxRow], send: Send
    ) -> _Flight:
        """Hand the batch to the sender thread, through the upstream's breaker. A batch goes
        upstream as one call: it carries (and logs) its first row's id.

        Returns once the sender thread has started on it: that thread then holds the GIL for its
        switch interval, enough to write the request and reach the socket, instead of waiting
        that long for this thread to let go (measured: ~4 ms a batch before the call went out)."""
        started = threading.Event()

        def go() -> dict[int, Outcome]:
            started.set()
            outcomes: dict[int, Outcome] = breaker.call(send)
            return outcomes

        with correlated(rows[0].correlation_id or current_correlation_id()):
            context = contextvars.copy_context()
        flight = _Flight(rows, sender.submit(context.run, go))
        started.wait()
        return flight

    def _settle(
        self,
        deliverer: Deliverer,
        rows: Sequence[OutboxRow],
        answer: dict[int, Outcome] | Exception,
        report: RunReport,
    ) -> bool:
        """Record what became of a batch; False when the run should stop (upstream
        unavailable, circuit open)."""
        if isinstance(answer, pybreaker.CircuitBreakerError):
            self.outbox.release(rows)
            report.error = f"circuit open for {deliverer.upstream}"
            return False
        if isinstance(answer, UpstreamUnavailable):
            for row in rows:
                self._failed(report, row, answer.detail, permanent=False)
            report.error = answer.detail
            log.warning(
                "%s: %s; %d rows will be retried", deliverer.topic, answer.detail, len(rows)
            )
            return False
        if isinstance(answer, UpstreamRejected | InvalidInput):
            for row in rows:
                self._failed(report, row, answer.detail, permanent=True)
            return True
        if isinstance(answer, Exception):
            raise answer
        outcomes = answer
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


def _goes_on(answer: dict[int, Outcome] | Exception) -> bool:
    """Whether a run sends its next batch after this answer: not after an upstream that is
    unavailable, a circuit that is open, or an exception nobody expected."""
    return not isinstance(answer, Exception) or isinstance(answer, UpstreamRejected | InvalidInput)
