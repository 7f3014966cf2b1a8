"""The transactional outbox as the sync workers use it: the table's operations
(`bridge.store.outbox`) and the retry policy for rows that failed (`Backoff`).

A service adds a row inside its own database transaction, so the data and the promise to deliver
it commit or roll back together. Workers claim rows in batches under a lease; a worker that dies
leaves its rows claimed until the lease runs out; then anyone may claim them again, and the
upstream deduplicates on the row's key, so nothing is lost and nothing is applied twice.

A transiently failed row is retried later with exponential backoff and jitter; a permanent
failure, or retries spent, makes it a dead letter, from where `replay` puts it back to pending.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bridge.store.outbox import CLAIMED as CLAIMED
from bridge.store.outbox import DEAD as DEAD
from bridge.store.outbox import DELIVERED as DELIVERED
from bridge.store.outbox import PENDING as PENDING
from bridge.store.outbox import OutboxRow as OutboxRow
from bridge.store.outbox import OutboxStore
from bridge.store.outbox import add as add


@dataclass(frozen=True, slots=True)
class Backoff:
    """When a transiently failed row is tried again: base * 2^(attempt-1), capped, with jitter."""

    base: float = 30.0
    cap: float = 3600.0
    max_attempts: int = 8

    def delay(self, attempts: int, rng: Callable[[], float] = random.random) -> timedelta:
        raw = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        return timedelta(seconds=raw * (0.5 + rng()))  # full spread 0.5x..1.5x


@dataclass(eq=False, kw_only=True)
class Outbox(OutboxStore):
    """The outbox store with the retry policy of the sync workers."""

    backoff: Backoff = field(default_factory=Backoff)

    def failed(self, row: OutboxRow, error: str, *, permanent: bool) -> str:
        """Record a failed attempt; returns the row's new state (pending again, or dead)."""
        attempts = row.attempts + 1
        dead = permanent or attempts >= self.backoff.max_attempts
        reason = error if permanent or not dead else f"retries exhausted ({attempts}): {error}"
        retry_at = None if dead else self.clock() + self.backoff.delay(attempts)
        self.settle_failed(row.id, reason, retry_at=retry_at)
        return DEAD if dead else PENDING
