"""Rate limits per API client and plan: one budget per client, whichever door, worker or node.

A plan names a rate (`Settings.rate_limit_plans`: "standard" 100/minute, "enterprise"
1000/minute, "internal" unlimited) and every client has one plan. `RateLimiter.hit` spends one
call of the client's budget and returns the `Quota` left, or raises `RateLimited`; `headers` and
`refusal_headers` turn either into HTTP header fields. The doors do the rest: REST answers 429
problem+json, SOAP a Client fault with HTTP 429, and each counts ``bridge_rate_limited_total``
with its own door label (``RATE_LIMITED.labels(door).inc()``: this module imports no framework,
and bridge.observability.metrics imports Flask).

Choices, and why:

- Storage: in this process's memory by default (`bridge.security.counters`); in Redis when
  ``BRIDGE_REDIS_URL`` is set, so every worker and node spends from one budget. In memory each
  gunicorn worker counts alone.
- Strategy: the fixed window of the `limits` library. A client's counter starts with its first
  call and expires one window later: one INCR+EXPIRE script and one key per client in Redis.
  Counts are exact within a window and the reset time is the key's TTL, so "exactly N calls" holds
  and ``Retry-After`` tells the truth. The price is the boundary burst: a full budget at the end
  of one window and another at the start of the next. The moving window is exact at every instant
  but keeps one timestamp per call (a 1,000-entry list per enterprise client in Redis); the
  sliding-window counter weights the previous window, so counts and reset times are estimates.
- Redis unreachable: fail open. Calls go through uncounted, a WARNING is logged and
  ``bridge_rate_limit_unchecked_total`` counts them; after a failure the limiter leaves Redis alone
  for `STORAGE_PAUSE` seconds, so an outage does not add a timeout to every call. Rate limits
  protect capacity; authentication and scopes protect data and money, and they do not depend on
  Redis. An outage of the limiter's store must not become an outage of the bridge.
- A client whose plan is not configured (a plan since removed from the settings, a typo at
  ``bridge clients create``) is limited by the "standard" plan, with a WARNING once per plan
  name: refusing it would cut a partner off over a configuration slip, and letting it through
  unlimited would reward the slip.
- "unlimited" plans are not counted at all: `hit` returns None and no header is sent.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from limits import RateLimitItem
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from redis.backoff import NoBackoff
from redis.retry import Retry

from bridge.domain.errors import ConfigurationError, RateLimited
from bridge.security.counters import Counters, LocalCounters
from bridge.settings import DEFAULT_PLAN, Settings, parse_plans

log = logging.getLogger(__name__)
T = TypeVar("T")

# Seconds to connect to Redis or wait for its answer: it answers in well under a millisecond
# when healthy, and a call must not hang on a limiter that is not.
STORAGE_TIMEOUT = 0.5
# Seconds the limiter leaves an unreachable Redis alone before trying again.
STORAGE_PAUSE = 5.0


@dataclass(frozen=True, slots=True)
class Quota:
    """A client's budget after a call: `remaining` of `limit` calls until the window resets in
    `reset_after` seconds. `window` is the plan's window in seconds, `policy` the plan's name."""

    limit: int
    remaining: int
    reset_after: int
    window: int
    policy: str


class QuotaExceeded(RateLimited):
    """The `RateLimited` this module raises: it also carries the `Quota` (nothing left), so
    `refusal_headers` can send the same RateLimit fields as a served call."""

    def __init__(self, detail: str, *, quota: Quota) -> None:
        super().__init__(
            detail, limit=quota.limit, window=quota.window, retry_after=quota.reset_after
        )
        self.quota = quota


def _storage(url: str, key_prefix: str) -> Counters:
    """This process's own counters for "memory://" (`bridge.security.counters`: `limits`'
    MemoryStorage starts a thread every few calls), else the `limits` storage at `url`."""
    if url.startswith("memory://"):
        return LocalCounters()
    options: dict[str, Any] = {
        "wrap_exceptions": True,
        "key_prefix": key_prefix,
        "socket_connect_timeout": STORAGE_TIMEOUT,
        "socket_timeout": STORAGE_TIMEOUT,
        # One quick retry gets past a pooled connection Redis closed (a restart);
        # redis-py's default backs off for seconds, which a request cannot wait for.
        "retry": Retry(NoBackoff(), 1),
    }
    storage = storage_from_string(url, **options)
    if not isinstance(storage, Storage):
        raise ConfigurationError(f"rate limits need a synchronous storage, not {url!r}")
    return storage


class FailOpenStore:
    """A `limits` storage (memory, or Redis at `url`) whose outages are let through: `run`
    answers None while it is unreachable, with one WARNING per outage saying `what` is not
    enforced, and leaves it alone for `pause` seconds after each failure. Shared by the rate
    limiter and the authentication throttle (`bridge.security.throttle`)."""

    def __init__(
        self, url: str, what: str, *, key_prefix: str = "bridge", pause: float = STORAGE_PAUSE
    ) -> None:
        self.what = what
        self._storage = _storage(url, key_prefix)
        self._pause = pause
        self._paused_until = 0.0
        self._failing = False

    def run(self, call: Callable[[Counters], T]) -> T | None:
        """`call`'s answer on the storage, or None: the storage is unreachable (or paused)."""
        if time.monotonic() < self._paused_until:
            return None
        try:
            answer = call(self._storage)
        except StorageError as exc:
            self._paused_until = time.monotonic() + self._pause
            self._failing = True
            log.warning(
                "%s not enforced for the next %g s: their storage is unreachable (%s)",
                self.what,
                self._pause,
                exc.storage_error,
            )
            return None
        if self._failing:
            self._failing = False
            log.warning("%s enforced again: their storage answers", self.what)
        return answer

    def close(self) -> None:
        """Let go of the storage's connections (Redis); a later `run` opens new ones."""
        connection = getattr(self._storage, "get_connection", None)
        if connection is not None:
            connection().connection_pool.disconnect()


class RateLimiter:
    """Spends calls from each client's budget, in memory or in Redis (`storage_url`).

    `key_prefix` starts every key in Redis, so several bridges (or test runs) can share one;
    `pause` is how long an unreachable store is left alone (`STORAGE_PAUSE`)."""

    def __init__(
        self,
        plans: Mapping[str, str],
        storage_url: str = "memory://",
        *,
        key_prefix: str = "bridge",
        pause: float = STORAGE_PAUSE,
        on_unchecked: Callable[[], None] | None = None,
    ) -> None:
        # Told of each call let through uncounted (the composition root counts it in metrics).
        self.on_unchecked = on_unchecked or (lambda: None)
        try:
            self._plans = parse_plans(plans)
        except ValueError as exc:
            raise ConfigurationError(f"rate_limit_plans: {exc}") from None
        self._store = FailOpenStore(storage_url, "rate limits", key_prefix=key_prefix, pause=pause)
        self._warned: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        if settings.redis_url is None and settings.workers > 1:
            log.warning(
                "rate limits are counted per worker (%d workers, no BRIDGE_REDIS_URL): "
                "a client may make up to %d times its plan's calls",
                settings.workers,
                settings.workers,
            )
        return cls(
            settings.rate_limit_plans,
            settings.redis_url or "memory://",
            key_prefix=settings.rate_limit_prefix,
        )

    @staticmethod
    def headers(quota: Quota) -> dict[str, str]:
        """`headers`, for a door that holds only the limiter."""
        return headers(quota)

    @staticmethod
    def refusal_headers(error: RateLimited) -> dict[str, str]:
        """`refusal_headers`, for a door that holds only the limiter."""
        return refusal_headers(error)

    @property
    def plans(self) -> frozenset[str]:
        """The configured plan names (what `bridge clients create --plan` may name)."""
        return frozenset(self._plans)

    def hit(self, client_id: str, plan: str) -> Quota | None:
        """Spend one call of `client_id`'s budget under `plan`: the `Quota` left, None when
        nothing was counted (an unlimited plan, or an unreachable store), or `QuotaExceeded`
        (a `RateLimited`) when the budget is spent. Refused calls count too, as requests."""
        policy, item = self._rate(plan)
        if item is None:
            return None
        window = item.get_expiry()
        counted = self._count(item.key_for(client_id), window)
        if counted is None:
            return None
        count, reset_after = counted
        if count <= item.amount:
            return Quota(item.amount, item.amount - count, reset_after, window, policy)
        quota = Quota(item.amount, 0, max(1, reset_after), window, policy)
        raise QuotaExceeded(
            f"the {policy!r} plan allows {item.amount} calls in {window} seconds; "
            f"try again in {quota.reset_after} seconds",
            quota=quota,
        )

    def _rate(self, plan: str) -> tuple[str, RateLimitItem | None]:
        if plan in self._plans:
            return plan, self._plans[plan]
        if plan not in self._warned:
            self._warned.add(plan)
            log.warning(
                "rate-limit plan %r is not configured (rate_limit_plans): its clients get the "
                "%r plan",
                plan,
                DEFAULT_PLAN,
            )
        return DEFAULT_PLAN, self._plans[DEFAULT_PLAN]

    def _count(self, key: str, window: int) -> tuple[int, int] | None:
        """(calls in the window so far, seconds until it resets), or None: not counted."""

        def spend(storage: Counters) -> tuple[int, float | None]:
            count = storage.incr(key, window)
            # The first call of a window created the key: it resets a whole window from now.
            return count, None if count == 1 else storage.get_expiry(key)

        counted = self._store.run(spend)
        if counted is None:
            self.on_unchecked()
            return None
        count, reset_at = counted
        if reset_at is None:
            return count, window
        return count, min(window, max(0, math.ceil(reset_at - time.time())))

    def close(self) -> None:
        """Let go of the store's connections (Redis); a later `hit` opens new ones."""
        self._store.close()


def headers(quota: Quota) -> dict[str, str]:
    """The RateLimit header fields of a response, in two dialects.

    ``RateLimit-Policy`` and ``RateLimit`` as the current IETF draft defines them
    (draft-ietf-httpapi-ratelimit-headers-11: structured-field lists of a policy named by the
    plan, with quota ``q`` and window ``w``, remaining ``r`` and seconds to reset ``t``), and
    the ``RateLimit-Limit``/``-Remaining``/``-Reset`` trio of its earlier drafts, which most
    clients and gateways in the wild still read. Reset is in seconds from now, never a date."""
    return {
        "RateLimit-Policy": f'"{quota.policy}";q={quota.limit};w={quota.window}',
        "RateLimit": f'"{quota.policy}";r={quota.remaining};t={quota.reset_after}',
        "RateLimit-Limit": str(quota.limit),
        "RateLimit-Remaining": str(quota.remaining),
        "RateLimit-Reset": str(quota.reset_after),
    }


def refusal_headers(error: RateLimited) -> dict[str, str]:
    """The header fields of a 429: ``Retry-After`` (seconds) and the RateLimit fields. The
    draft's fields need the policy's name, which only a `QuotaExceeded` carries."""
    if isinstance(error, QuotaExceeded):
        fields = headers(error.quota)
    else:
        fields = {
            "RateLimit-Limit": str(error.limit),
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": str(error.retry_after),
        }
    fields["Retry-After"] = str(error.retry_after)
    return fields
