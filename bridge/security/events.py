"""Security events: what the audit log marks `security_event`, logs at WARNING and counts in
`bridge_security_events_total{kind}`, once per event.

- `auth_failure_burst`: `burst` failed authentications from one source address within `window`
  seconds (settings `auth_failure_burst`, `auth_failure_window`), the shape of a password or
  key guessing run. Reported when the burst-th failure arrives; further failures from that
  source belong to the same burst until it has been quiet for a whole window, so a source that
  keeps failing is one event, not one per failure. Counted per process: under gunicorn each
  worker, and each node, sees only the failures it answered, so a burst spread over N workers
  shows up once it reaches `burst` in one of them (or not at all if it is spread thin enough);
  the per-failure counter `bridge_auth_failures_total` still sees every failure.
- `refresh_token_reused`: a spent refresh token presented again (`TokenService` revokes its
  family): two parties hold it, one of them a thief.

Sources are remembered in a bounded table (`max_sources`, least recently failing dropped first),
so a flood of failures from ever new addresses costs bounded memory.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field

from bridge.domain.clock import Clock, utcnow
from bridge.observability.audit import current_source
from bridge.observability.logging import current_correlation_id
from bridge.observability.metrics import SECURITY_EVENT_KINDS, SECURITY_EVENTS
from bridge.store.audit import INTERFACES, AuditLog, AuditRecord

log = logging.getLogger(__name__)

AUTH_FAILURE_BURST, REFRESH_TOKEN_REUSED = SECURITY_EVENT_KINDS
UNKNOWN_SOURCE = "unknown"


@dataclass(slots=True)
class _Failures:
    times: deque[float] = field(default_factory=deque)
    in_burst: bool = False
    last: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(eq=False)
class SecurityEvents:
    audit_log: AuditLog
    _: KW_ONLY
    burst: int = 10
    window: float = 60.0
    max_sources: int = 10_000
    monotonic: Callable[[], float] = time.monotonic
    clock: Clock = utcnow
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _sources: OrderedDict[str, _Failures] = field(init=False, default_factory=OrderedDict)

    def __post_init__(self) -> None:
        if self.burst < 2:
            raise ValueError("a burst is at least 2 failures")
        for kind in SECURITY_EVENT_KINDS:
            SECURITY_EVENTS.labels(kind)  # the family shows zeros before the first event

    def auth_failed(self, source: str | None, door: str, reason: str) -> None:
        """Note one failed authentication; report a burst when this one completes it."""
        source = source or UNKNOWN_SOURCE
        now = self.monotonic()
        with self._lock:
            failures = self._sources.pop(source, None) or _Failures()
            self._sources[source] = failures  # most recently failing last
            while len(self._sources) > self.max_sources:
                self._sources.popitem(last=False)
            quiet = now - failures.last > self.window
            failures.last = now
            if failures.in_burst and not quiet:
                return  # the burst already reported goes on
            if failures.in_burst:
                failures.in_burst = False
                failures.reasons.clear()
            while failures.times and now - failures.times[0] > self.window:
                failures.times.popleft()
            failures.times.append(now)
            failures.reasons[reason] = failures.reasons.get(reason, 0) + 1
            if len(failures.times) < self.burst:
                return
            count, reasons = len(failures.times), dict(failures.reasons)
            failures.times.clear()
            failures.in_burst = True
        why = ", ".join(f"{name} {n}" for name, n in sorted(reasons.items()))
        self._report(
            AUTH_FAILURE_BURST,
            interface=door if door in INTERFACES else "rest",
            operation="authenticate",
            source=source,
            detail=f"{count} failed authentications within {self.window:g} s ({why})",
        )

    def refresh_token_reused(
        self, client_id: str, family_id: str, source: str | None = None
    ) -> None:
        """A spent refresh token came back; its family (`family_id`) has been revoked. The
        source defaults to the address of the request this runs in (`AuditMiddleware`)."""
        self._report(
            REFRESH_TOKEN_REUSED,
            interface="rest",
            operation="POST /oauth/token",
            source=source or current_source(),
            client_id=client_id,
            resource_id=family_id,
            detail="a spent refresh token was presented again; its token family is revoked",
        )

    def _report(
        self,
        kind: str,
        *,
        interface: str,
        operation: str,
        source: str | None,
        detail: str,
        client_id: str | None = None,
        resource_id: str | None = None,
    ) -> None:
        SECURITY_EVENTS.labels(kind).inc()
        log.warning(
            "security event %s: %s",
            kind,
            detail,
            extra={
                "security_event": kind,
                "source": source,
                "client_id": client_id,
                "resource_id": resource_id,
            },
        )
        self.audit_log.record(
            AuditRecord(
                at=self.clock(),
                client_id=client_id,
                interface=interface,
                operation=operation,
                resource_id=resource_id,
                outcome="security_event",
                status=kind,
                source=source,
                correlation_id=current_correlation_id(),
                detail=detail,
            )
        )
