"""Circuit breakers of the upstream systems: one per upstream, all made here, shared by whoever
calls that upstream (the sync jobs, core banking's client in the request path) and watched by
`bridge_circuit_breaker_state` (`bridge.observability.metrics.watch_breakers`).

Only unavailability trips a breaker: `UpstreamUnavailable`, its `OutcomeUnknown` and
`UpstreamTimeout` included. A Client fault (`UpstreamRejected`), input the bridge refused or an
account the upstream does not hold is an answer, and says the upstream is up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TypeVar

import pybreaker

from bridge.domain.errors import UpstreamUnavailable

T = TypeVar("T")

FAIL_MAX = 5
RESET_TIMEOUT = 60.0


def _answered(error: BaseException) -> bool:
    """pybreaker's `exclude`: everything but unavailability counts as a success."""
    return not isinstance(error, UpstreamUnavailable)


def circuit_breaker(
    name: str, *, fail_max: int = FAIL_MAX, reset_timeout: float = RESET_TIMEOUT
) -> pybreaker.CircuitBreaker:
    """Opens after `fail_max` unavailable calls in a row; lets a trial call through
    `reset_timeout` seconds later."""
    return pybreaker.CircuitBreaker(
        fail_max=fail_max, reset_timeout=reset_timeout, exclude=[_answered], name=name
    )


def circuit_breakers(upstreams: Iterable[str]) -> dict[str, pybreaker.CircuitBreaker]:
    """One breaker per upstream: what the composition root hands every caller of each."""
    return {name: circuit_breaker(name) for name in upstreams}


def retry_after(breaker: pybreaker.CircuitBreaker) -> int:
    """Whole seconds until an open breaker lets a call through again; 0 when it would now."""
    if breaker.current_state != pybreaker.STATE_OPEN:
        return 0
    # pybreaker keeps the moment it opened in its storage and has no public reader for it.
    opened_at = breaker._state_storage.opened_at
    if opened_at is None:
        return 0
    left = breaker.reset_timeout - (datetime.now(UTC) - opened_at).total_seconds()
    return max(0, math.ceil(left))


def guarded(
    breaker: pybreaker.CircuitBreaker,
    upstream: str,
    call: Callable[[], T],
    *,
    unavailable: Callable[[T], str | None] | None = None,
) -> T:
    """`call()` through `breaker`: fails fast with `UpstreamUnavailable` (and the seconds until
    the next trial as its Retry-After) while the circuit is open; counts the call's outcome.

    Unlike `breaker.call`, which holds the breaker's lock for the whole call (one call at a time
    per process), the lock is held only to count the outcome: a request path calls this from
    many threads at once. Once the reset timeout has passed, the calls made before the first
    outcome is counted are all trials. `unavailable(result)` says why a reply means the upstream
    could not do the work (core banking's result code 91), which counts as a failure too."""
    wait = retry_after(breaker)
    if wait > 0:
        raise UpstreamUnavailable(
            upstream,
            f"circuit open after {breaker.fail_max} failed calls in a row; "
            f"calls resume within {wait} s",
            retry_after=wait,
        )
    try:
        result = call()
    except Exception as exc:
        traceback = exc.__traceback__
        _count(breaker, exc)
        exc.with_traceback(traceback)  # without the frames counting it added
        raise
    why = None if unavailable is None else unavailable(result)
    _count(breaker, None if why is None else UpstreamUnavailable(upstream, why))
    return result


def _count(breaker: pybreaker.CircuitBreaker, error: Exception | None) -> None:
    """Tell the breaker how a call went (a success, or `error`), moving its state as it does."""

    def outcome() -> None:
        if error is not None:
            raise error

    try:
        breaker.call(outcome)
    except pybreaker.CircuitBreakerError:
        pass  # it opened now, or another call reopened it: this call's own outcome stands
    except Exception as raised:
        if raised is not error:
            raise
