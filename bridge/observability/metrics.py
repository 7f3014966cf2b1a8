"""Prometheus metrics: what every door, upstream and sync job did, served at /metrics.

The families (all prefixed ``bridge_``):

    bridge_requests_total{door,operation,outcome}       every request, by door and operation
    bridge_request_seconds{door,operation}              ... and its latency (histogram)
    bridge_upstream_calls_total{upstream,operation,outcome}  every SOAP call to an upstream
    bridge_upstream_seconds{upstream,operation}         ... and its latency (histogram)
    bridge_circuit_breaker_state{upstream}              0 closed, 1 half-open, 2 open
    bridge_job_runs_total{job,outcome}                  sync job runs: ok, or failed
    bridge_job_run_seconds{job}                         ... and their duration (histogram)
    bridge_outbox_rows{job,status}                      read from the database at scrape time
    bridge_dead_letters{job}                            read from the database at scrape time
    bridge_rate_limited_total{door}                     429s, at any door
    bridge_auth_failures_total{door,reason}             refused credentials, at any door
    bridge_security_events_total{kind}                  failed-login bursts, reused refresh tokens
    bridge_reconciled_total{outcome}                    transfers the reconciler looked at
    bridge_transfers_unsettled{status}                  read from the database at scrape time
    bridge_audit_write_failures_total                   audit inserts the database refused
    bridge_audit_rows_dropped_total{reason}             audit rows lost: overflow, unwritable,
                                                        stopped (README, "Audit log")

Per-request metrics live in a WSGI middleware, not in Flask hooks: the SOAP doors and the
simulators are spyne apps mounted beside Flask, which its hooks never see (DESIGN.md, pitfalls).
Labels are bounded by construction: a REST operation is its route template, a SOAP operation a
SOAPAction the door knows; anything else is "unmatched" or "unknown", never the raw value.

Under gunicorn each worker counts in its own memory-mapped files (prometheus-client's
multiprocess mode, set up by `bridge.serve.prepare_metrics_dir`), and whichever worker answers
a scrape sums them.
The outbox and unsettled-transfer families are read from the database at scrape time instead,
so every node and every worker reports the same truth. This module sits below the layers it
counts (sync, store, upstream) and imports none of them nor any web framework: what a scrape
reads is a callable the composition root hands `OutboxCollector` and `UnsettledCollector`, and
each layer that counts calls in here. The REST door leaves its route for the labels
(`bridge.rest.routes.label_routes`).
"""

from __future__ import annotations

import glob
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal, Protocol, cast

import pybreaker
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    make_wsgi_app,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bridge.domain.errors import (
    BridgeError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bridge.wsgi import WSGIApp

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Doors that authenticate callers, and the reasons a credential is refused: declared with zero
# samples, so an alert on a rise sees a zero first.
AUTHENTICATED_DOORS = ("rest", "soap")
AUTH_FAILURE_REASONS = ("missing", "invalid", "expired", "replayed")


def _counted_and_timed(
    counted: tuple[str, str], timed: tuple[str, str], labels: list[str]
) -> tuple[Counter, Histogram]:
    """A (name, help) counter by `labels` and outcome, and a (name, help) histogram by `labels`."""
    return Counter(*counted, [*labels, "outcome"]), Histogram(*timed, labels)


REQUESTS, REQUEST_SECONDS = _counted_and_timed(
    (
        "bridge_requests",
        "Requests answered, by door (rest, soap, sims, ops), operation and outcome.",
    ),
    ("bridge_request_seconds", "Time to answer a request (until the WSGI app returns its body)."),
    ["door", "operation"],
)
UPSTREAM_CALLS, UPSTREAM_SECONDS = _counted_and_timed(
    (
        "bridge_upstream_calls",
        "SOAP calls to upstream systems, by outcome: ok, timeout, unavailable, rejected, error.",
    ),
    (
        "bridge_upstream_seconds",
        "Latency of SOAP calls to upstream systems, whatever their outcome.",
    ),
    ["upstream", "operation"],
)
CIRCUIT_BREAKER_STATE = Gauge(
    "bridge_circuit_breaker_state",
    "State of an upstream's circuit breaker: 0 closed, 1 half-open, 2 open "
    "(the worst live worker's, under gunicorn).",
    ["upstream"],
    multiprocess_mode="livemax",
)
JOB_RUNS = Counter(
    "bridge_job_runs",
    "Sync job runs, by outcome: ok, or failed (upstream unavailable, circuit open, error).",
    ["job", "outcome"],
)
JOB_RUN_SECONDS = Histogram(
    "bridge_job_run_seconds",
    "Duration of sync job runs.",
    ["job"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
RATE_LIMITED = Counter(
    "bridge_rate_limited",
    "Requests refused by a rate limit (HTTP 429), by door.",
    ["door"],
)
RATE_LIMIT_UNCHECKED = Counter(
    "bridge_rate_limit_unchecked",
    "Calls let through without a rate-limit check because the limiter's storage (Redis) was "
    "unreachable: the limiter fails open.",
)
AUTH_FAILURES = Counter(
    "bridge_auth_failures",
    "Requests whose credentials were refused, by door and reason.",
    ["door", "reason"],
)
AUTH_THROTTLED = Counter(
    "bridge_auth_throttled",
    "Requests answered 429 unchecked because their source or client id had too many "
    "credentials refused lately (bridge.security.throttle), by door.",
    ["door"],
)
AUTH_THROTTLE_UNCHECKED = Counter(
    "bridge_auth_throttle_unchecked",
    "Credential checks or refusals not seen by the guessing throttle because its storage "
    "(Redis) was unreachable: the throttle fails open.",
)

# Security events (bridge.security.events): counted once per event, not per failure in it.
SECURITY_EVENT_KINDS = ("auth_failure_burst", "refresh_token_reused")
SECURITY_EVENTS = Counter(
    "bridge_security_events",
    "Security events, by kind: auth_failure_burst (failed authentications from one source "
    "within a window), refresh_token_reused (a spent refresh token presented again).",
    ["kind"],
)

# The reconciler (bridge.sync.reconcile), one count per transfer it looked at.
RECONCILE_OUTCOMES = ("booked", "pending", "rejected", "refused", "failed")
RECONCILED = Counter(
    "bridge_reconciled",
    "Unfinished or pending transfers the reconciler looked at, by outcome: booked, pending "
    "(still), rejected (by core banking), refused (rejected unposted by the bridge: too late), "
    "failed (left unfinished for the next run).",
    ["outcome"],
)

# The audit writer (bridge.store.audit), through the callbacks bridge.app hands it.
AUDIT_DROP_REASONS = ("overflow", "unwritable", "stopped")
AUDIT_WRITE_FAILURES = Counter(
    "bridge_audit_write_failures",
    "Audit log inserts the database refused (a batch, or one row of a refused batch); the "
    "rows are retried, written in safe form or, if refused even so, dropped and counted.",
)
AUDIT_ROWS_DROPPED = Counter(
    "bridge_audit_rows_dropped",
    "Audit rows lost, by reason: overflow (buffer full during an outage), unwritable (refused "
    "even in safe form), stopped (still unwritten when the log was closed).",
    ["reason"],
)


def audit_rows_dropped(reason: str, count: int) -> None:
    """`AuditLog(on_dropped=...)`: count rows the audit writer lost."""
    AUDIT_ROWS_DROPPED.labels(reason).inc(count)


BREAKER_STATES = {
    pybreaker.STATE_CLOSED: 0,
    pybreaker.STATE_HALF_OPEN: 1,
    pybreaker.STATE_OPEN: 2,
}


def declare_label_values() -> None:
    """Expose the families alerts watch for a rise with a zero sample per known label value:
    refusals per door, audit rows dropped per reason, reconciled transfers per outcome. Until
    something is counted they show that nothing was."""
    for door in AUTHENTICATED_DOORS:
        RATE_LIMITED.labels(door)
        AUTH_THROTTLED.labels(door)
        for reason in AUTH_FAILURE_REASONS:
            AUTH_FAILURES.labels(door, reason)
    for reason in AUDIT_DROP_REASONS:
        AUDIT_ROWS_DROPPED.labels(reason)
    for outcome in RECONCILE_OUTCOMES:
        RECONCILED.labels(outcome)


# --- multiprocess mode ------------------------------------------------------------------------


def mark_process_dead(pid: int) -> None:
    """gunicorn's `child_exit` hook: a dead worker's live gauges stop counting."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


# --- scrape time ------------------------------------------------------------------------------


class OutboxCollector(Collector):
    """bridge_outbox_rows{job,status} and bridge_dead_letters{job}, read by `depth_by_job`
    ({job: {status: rows}}, every job and status: `bridge.sync.status.SyncStatus`) from the
    outbox table."""

    def __init__(self, depth_by_job: Callable[[], Mapping[str, Mapping[str, int]]]) -> None:
        self._depth_by_job = depth_by_job

    def collect(self) -> Iterator[Metric]:
        rows = GaugeMetricFamily(
            "bridge_outbox_rows", "Outbox rows by job and status.", labels=["job", "status"]
        )
        dead = GaugeMetricFamily(
            "bridge_dead_letters", "Dead letters waiting for a replay, by job.", labels=["job"]
        )
        try:
            depth = self._depth_by_job()
        except Exception:
            # A scrape still answers the other families while the database is away.
            log.warning("could not read the outbox depth", exc_info=True)
            depth = {}
        for job, counts in sorted(depth.items()):
            for status, count in counts.items():
                rows.add_metric([job, status], count)
            dead.add_metric([job], counts.get("dead", 0))
        yield rows
        yield dead


class UnsettledCollector(Collector):
    """bridge_transfers_unsettled{status}: transfers older than the alert age still RCVD (core
    banking never answered: the reconciler should have settled them) or PDNG (core banking has
    not decided), read by `count` ({"RCVD": n, "PDNG": m}) from the transfers table."""

    def __init__(self, count: Callable[[], Mapping[str, int]], older_than: float) -> None:
        self._count = count
        self._older_than = older_than

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "bridge_transfers_unsettled",
            f"Transfers created more than {self._older_than:g} s ago and still unsettled, by "
            "status: RCVD (core banking has not answered) or PDNG (core banking has not decided).",
            labels=["status"],
        )
        try:
            counts = self._count()
        except Exception:
            log.warning("could not count the unsettled transfers", exc_info=True)
            counts = None
        if counts is not None:
            for status, count in sorted(counts.items()):
                family.add_metric([status], count)
        yield family


class _Registered(Collector):
    """The families of another registry, collected into this one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()


def metrics_app(*scraped: Collector) -> WSGIApp:
    """The WSGI app to mount at /metrics: this process's families (or, in multiprocess mode,
    every worker's, summed from the files) and the `scraped` collectors, read at each scrape.

    A registry per app, so building several apps in one process (the tests do) never
    registers one collector twice in the global registry."""
    declare_label_values()
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Registered(REGISTRY))
    for collector in scraped:
        registry.register(collector)
    app: WSGIApp = make_wsgi_app(registry)
    return app


# --- upstream calls, circuit breakers, job runs ----------------------------------------------


def upstream_outcome(error: BaseException | None) -> str:
    if error is None:
        return "ok"
    if isinstance(error, UpstreamUnavailable):
        return "timeout" if isinstance(error, UpstreamTimeout) else "unavailable"
    if isinstance(error, UpstreamRejected):
        return "rejected"
    return "error"


@contextmanager
def upstream_call(upstream: str, operation: str) -> Iterator[None]:
    """Time one upstream call and count its outcome; log a failed one with its reason."""
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        error = exc
        raise
    finally:
        outcome = upstream_outcome(error)
        UPSTREAM_SECONDS.labels(upstream, operation).observe(time.perf_counter() - started)
        UPSTREAM_CALLS.labels(upstream, operation, outcome).inc()
        if isinstance(error, BridgeError):
            _log_failed_call(upstream, operation, outcome, error)


def _log_failed_call(upstream: str, operation: str, outcome: str, error: BridgeError) -> None:
    """One line per failed upstream call, under the request's correlation id, saying why (the
    metric says only how many). A refusal by the upstream (a SOAP fault about the message) is
    the upstream answering, so it is INFO; the rest (unreachable, timed out, an unreadable or
    unknown outcome) is WARNING. A call refused by an open circuit never gets here: the
    breaker's opening is logged once instead (`BreakerStateListener`). An error outside the
    bridge's own tree is logged, with its traceback, where it is answered."""
    level = logging.INFO if outcome == "rejected" else logging.WARNING
    log.log(
        level,
        "upstream call failed (%s): %s",  # the detail names the upstream and the operation
        outcome,
        error.detail,
        extra={"upstream": upstream, "operation": operation, "outcome": outcome},
    )


class BreakerStateListener(pybreaker.CircuitBreakerListener):
    """Keeps bridge_circuit_breaker_state in step with one upstream's breaker."""

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream
        self._gauge = CIRCUIT_BREAKER_STATE.labels(upstream)

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        self._gauge.set(BREAKER_STATES.get(new_state.name, 2))
        before = "none" if old_state is None else old_state.name
        log.log(
            logging.INFO if new_state.name == "closed" else logging.WARNING,
            "%s circuit %s (was %s)%s",
            self._upstream,
            new_state.name,
            before,
            f": calls fail fast for {cb.reset_timeout:g} s" if new_state.name == "open" else "",
            extra={"upstream": self._upstream, "circuit": new_state.name},
        )


def watch_breakers(breakers: Mapping[str, pybreaker.CircuitBreaker]) -> None:
    """Report each upstream's breaker state, starting from its state now."""
    for upstream, breaker in breakers.items():
        CIRCUIT_BREAKER_STATE.labels(upstream).set(BREAKER_STATES.get(breaker.current_state, 2))
        breaker.add_listener(BreakerStateListener(upstream))


CircuitState = Literal["closed", "half-open", "open"]


def breaker_states(breakers: Mapping[str, pybreaker.CircuitBreaker]) -> dict[str, CircuitState]:
    """Each upstream's circuit state ("closed", "half-open", "open") as the whole node sees it:
    under gunicorn (multiprocess mode) the worst live worker's, read from the
    bridge_circuit_breaker_state files (livemax); otherwise this process's breaker. A worker's
    breaker holds only what that worker's calls saw, so the page it draws must not stop there."""
    states = {
        upstream: cast(CircuitState, breaker.current_state)
        for upstream, breaker in breakers.items()
    }
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return states
    names = {value: cast(CircuitState, name) for name, value in BREAKER_STATES.items()}
    files = glob.glob(os.path.join(directory, "gauge_livemax_*.db"))
    try:
        families = multiprocess.MultiProcessCollector.merge(  # type: ignore[no-untyped-call]
            files, accumulate=False
        )
    except Exception:
        log.warning("could not read the workers' circuit breaker states", exc_info=True)
        return states
    for family in families:
        if family.name != CIRCUIT_BREAKER_STATE._name:
            continue
        for sample in family.samples:
            upstream = sample.labels.get("upstream")
            if upstream in states:
                states[upstream] = names.get(int(sample.value), "open")
    return states


class FinishedRun(Protocol):
    """What `observe_job_run` reads of a run's report (`bridge.sync.engine.RunReport`)."""

    @property
    def job(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def ended_at(self) -> datetime | None: ...
    @property
    def error(self) -> str | None: ...


def observe_job_run(report: FinishedRun) -> None:
    """Count a finished run (`ended_at` set): ok, or failed when it recorded an error."""
    if report.ended_at is None:
        return
    JOB_RUN_SECONDS.labels(report.job).observe(
        (report.ended_at - report.started_at).total_seconds()
    )
    JOB_RUNS.labels(report.job, "ok" if report.error is None else "failed").inc()


# --- requests ---------------------------------------------------------------------------------

_OPS_PATHS = frozenset(("/healthz", "/readyz", "/metrics"))
# Where the REST door leaves a request's route template (`bridge.rest.routes.label_routes`).
ROUTE_KEY = "bridge.metrics.route"


def door_of(path: str) -> str:
    """rest | soap | sims | ui | ops (health, metrics, API document and docs), from the path."""
    if path.startswith("/api/"):
        return "rest" if path.startswith("/api/v1/") else "ops"
    if path.startswith("/soap/"):
        return "soap"
    if path.startswith("/sims/"):
        return "sims"
    if path == "/ui" or path.startswith("/ui/"):
        return "ui"
    if path in _OPS_PATHS:
        return "ops"
    return "rest"


def _mount_of(path: str) -> str:
    """The mount path a path is under: /soap/banking of /soap/banking/anything."""
    return "/".join(path.split("/", 3)[:3])


class MetricsMiddleware:
    """Counts and times every request of the app it wraps.

    `soap_operations` names, per mount path of a SOAP app ("/soap/banking", "/sims/payroll"),
    the operations its SOAPAction may name. A REST operation is the route the REST door left in
    the environ under `ROUTE_KEY`."""

    def __init__(self, app: WSGIApp, soap_operations: Mapping[str, frozenset[str]]) -> None:
        self.app = app
        self._soap_operations = dict(soap_operations)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        # Read before dispatching: DispatcherMiddleware rewrites PATH_INFO for mounted apps.
        path: str = environ.get("PATH_INFO") or "/"
        door = door_of(path)
        status: list[str] = []
        soap_fault = False

        def start(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal soap_fault
            status[:] = [status_line]
            if status_line.startswith("500") and door in ("soap", "sims"):
                soap_fault = any(
                    name.lower() == "content-type" and "xml" in value for name, value in headers
                )
            return start_response(status_line, headers, exc_info)

        try:
            body = self.app(environ, start)
        except BaseException:
            self._record(door, self._operation(door, path, environ), "5xx", started)
            raise
        outcome = "fault" if soap_fault else (status[0][0] + "xx" if status else "5xx")
        self._record(door, self._operation(door, path, environ), outcome, started)
        return body

    @staticmethod
    def _record(door: str, operation: str, outcome: str, started: float) -> None:
        REQUEST_SECONDS.labels(door, operation).observe(time.perf_counter() - started)
        REQUESTS.labels(door, operation, outcome).inc()

    def _operation(self, door: str, path: str, environ: dict[str, Any]) -> str:
        return operation_of(door, path, environ, self._soap_operations)


# Where a door that picks the operation itself (by the Body child of an imported contract, whose
# SOAPAction may be anything or empty) leaves "<service>.<operation>": bounded by the catalog.
OPERATION_KEY = "bridge.operation"


def operation_of(
    door: str, path: str, environ: dict[str, Any], soap_operations: Mapping[str, frozenset[str]]
) -> str:
    """The bounded name of a request's operation (shared with the audit log): a REST route
    template, a SOAP operation its mount knows, or "unmatched", "unknown", "wsdl", "other"."""
    if door in ("soap", "sims"):
        named = environ.get(OPERATION_KEY)
        if isinstance(named, str):
            return named  # the door picked it from the contract (bridge.soap.passthrough)
        known = soap_operations.get(_mount_of(path))
        if known is None:
            return "unmatched"
        method = environ.get("REQUEST_METHOD", "GET")
        if method != "POST":
            return "wsdl" if environ.get("QUERY_STRING", "").lower() == "wsdl" else "other"
        action = environ.get("HTTP_SOAPACTION", "").strip().strip('"')
        return action if action in known else "unknown"
    if path == "/metrics":
        return "GET /metrics" if environ.get("REQUEST_METHOD") == "GET" else "unmatched"
    route: str = environ.get(ROUTE_KEY) or "unmatched"
    return route
