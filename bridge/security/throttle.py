"""Throttling of credential guessing: after too many refused credentials, stop checking them.

`failed` counts one refused credential against the source address it came from and, when the
credential names its client (the token endpoint's client id, a UsernameToken's Username),
against that client id. `check` runs before a credential is looked at: once either count has
reached its limit within the window (settings `auth_failure_limit` per client id,
`auth_failure_source_limit` per source, `auth_failure_lockout` seconds), it raises
`TooManyFailures` (a `RateLimited`: 429 with ``Retry-After``) without checking anything, so a
right guess during the lock-out gets nowhere either. `bridge.security.Security.attempt` is the
one place the doors and the token endpoint call both.

Choices, and why:

- What counts: a credential that was checked and refused (reason "invalid"). A request without
  any credential, an expired token or a replayed nonce is not a guess: a monitor without
  credentials or a client retrying a stale token must not lock out an address that a NAT may
  share with others. The security events (`bridge.security.events`) still see them all.
- API keys and bearer tokens count per source only. They do not name a client that can be
  trusted before they are checked (a forged token names whomever the forger likes, and a key's
  prefix is printed in lists and logs): counting per client there would let anyone lock any
  client out, and their 256 random bits are not guessable anyway.
- A success resets nothing: an attacker holding one valid credential must not be able to clear
  the count of an address by mixing successes into the guesses.
- Windows are the fixed windows of the `limits` library, like the rate limits: a count starts
  with the first failure and is dropped a window later, so a lock-out lasts at most one window
  and ``Retry-After`` is the time left in it. Check and count are two steps, so a burst of
  concurrent guesses may pass the limit by the number in flight.
- Storage: memory per process, or Redis when ``BRIDGE_REDIS_URL`` is set, shared by every worker
  and node (keys under `rate_limit_prefix`, client ids hashed: they are the caller's input).
  Redis unreachable: fail open, as the rate limiter does (`FailOpenStore`): a WARNING, and
  `on_unchecked` is told of each check or count skipped (``bridge_auth_throttle_unchecked_total``).
  The credential itself is still checked; only the throttle is off.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from bridge.domain.errors import RateLimited
from bridge.security.counters import Counters
from bridge.security.ratelimit import STORAGE_PAUSE, FailOpenStore

if TYPE_CHECKING:
    from bridge.settings import Settings

# The reason (`AuthenticationFailed.reason`) of a credential that was checked and refused.
GUESS = "invalid"
_NAMESPACE = "authfail"


class TooManyFailures(RateLimited):
    """Too many refused credentials from this source, or for this client id, in the window."""


class AuthThrottle:
    """Counts refused credentials per client id and per source; refuses either over its limit."""

    def __init__(
        self,
        *,
        client_limit: int = 10,
        source_limit: int = 30,
        window: int = 300,
        storage_url: str = "memory://",
        key_prefix: str = "bridge",
        pause: float = STORAGE_PAUSE,
        on_unchecked: Callable[[], None] | None = None,
    ) -> None:
        if client_limit < 1 or source_limit < 1 or window < 1:
            raise ValueError("limits and window are at least 1")
        self.client_limit = client_limit
        self.source_limit = source_limit
        self.window = window
        # Told of each check or count skipped (the composition root counts it in metrics).
        self.on_unchecked = on_unchecked or (lambda: None)
        self._store = FailOpenStore(
            storage_url, "authentication throttling", key_prefix=key_prefix, pause=pause
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthThrottle:
        return cls(
            client_limit=settings.auth_failure_limit,
            source_limit=settings.auth_failure_source_limit,
            window=settings.auth_failure_lockout,
            storage_url=settings.redis_url or "memory://",
            key_prefix=settings.rate_limit_prefix,
        )

    def check(self, source: str | None, client_id: str | None = None) -> None:
        """Nothing, or `TooManyFailures` when `client_id` or `source` is locked out."""
        for key, limit, whom in self._counters(source, client_id):
            locked = self._store.run(partial(_retry_after, key=key, limit=limit))
            if locked is None:
                self.on_unchecked()
                return
            if locked:
                raise TooManyFailures(
                    f"too many failed authentications {whom}; try again in {locked} seconds",
                    limit=limit,
                    window=self.window,
                    retry_after=locked,
                )

    def failed(self, source: str | None, client_id: str | None = None) -> None:
        """Count one refused credential against `source` and `client_id` (when given)."""
        for key, _, _ in self._counters(source, client_id):
            if self._store.run(partial(_count, key=key, window=self.window)) is None:
                self.on_unchecked()
                return

    def close(self) -> None:
        """Let go of the store's connections (Redis)."""
        self._store.close()

    def _counters(self, source: str | None, client_id: str | None) -> list[tuple[str, int, str]]:
        """(key, limit, whom for the message) of each count this attempt belongs to."""
        counters = [(f"{_NAMESPACE}/source/{source or 'unknown'}", self.source_limit, "from here")]
        if client_id:
            hashed = hashlib.sha256(client_id.encode()).hexdigest()[:32]
            counters.insert(
                0, (f"{_NAMESPACE}/client/{hashed}", self.client_limit, "for this client")
            )
        return counters


def _count(storage: Counters, *, key: str, window: int) -> int:
    count: int = storage.incr(key, window)
    return count


def _retry_after(storage: Counters, *, key: str, limit: int) -> int:
    """0 when `key` is under `limit`, else the seconds until its window ends (at least 1)."""
    if storage.get(key) < limit:
        return 0
    return max(1, math.ceil(storage.get_expiry(key) - time.time()))
