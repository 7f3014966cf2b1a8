"""The transactional outbox: work bound for an upstream, stored with the data it comes from.

A service adds a row inside its own database transaction (`add(connection, ...)`), so the data
and the promise to deliver it commit or roll back together. Workers claim rows in batches under a
lease: on PostgreSQL with ``SELECT ... FOR UPDATE SKIP LOCKED`` so any number of workers share
the queue; on SQLite (one node) the same statements run and the claim token decides. A worker
that dies leaves its rows claimed until the lease runs out; then anyone may claim them again, and
the upstream deduplicates on the row's key, so nothing is lost and nothing is applied twice.

Row states: pending -> claimed -> delivered, or back to pending (a transient failure, retried
later with exponential backoff and jitter), or dead (a permanent failure, or retries spent), from
where `replay` puts it back to pending.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, or_, select, update

from bridge.domain.clock import Clock, utcnow
from bridge.store.tables import outbox

PENDING, CLAIMED, DELIVERED, DEAD = "pending", "claimed", "delivered", "dead"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    topic: str
    key: str
    payload: str
    attempts: int
    correlation_id: str | None


@dataclass(frozen=True, slots=True)
class Backoff:
    """When a transiently failed row is tried again: base * 2^(attempt-1), capped, with jitter."""

    base: float = 30.0
    cap: float = 3600.0
    max_attempts: int = 8

    def delay(self, attempts: int, rng: Callable[[], float] = random.random) -> timedelta:
        raw = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        return timedelta(seconds=raw * (0.5 + rng()))  # full spread 0.5x..1.5x


def add(
    connection: Connection,
    *,
    topic: str,
    key: str,
    payload: str,
    correlation_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """Queue one delivery inside the caller's transaction."""
    at = now or utcnow()
    connection.execute(
        insert(outbox).values(
            topic=topic,
            key=key,
            payload=payload,
            status=PENDING,
            attempts=0,
            available_at=at,
            correlation_id=correlation_id,
            created_at=at,
            updated_at=at,
        )
    )


class Outbox:
    def __init__(
        self,
        engine: Engine,
        *,
        backoff: Backoff | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._engine = engine
        self.backoff = backoff or Backoff()
        self._clock = clock

    def claim(self, topic: str, limit: int, *, lease: timedelta, worker: str) -> list[OutboxRow]:
        """Up to `limit` rows due now (or abandoned by a dead worker), held for `lease`.

        Abandoned claims first, then the rows due longest, in due-time order: both are range
        reads of the (topic, status, available_at) index that stop after `limit` rows, so a
        claim costs the same with 100 or 100,000 rows queued or delivered before it. (Ordered
        by id, with an OR of the two conditions, every claim read and sorted every row the
        topic ever had: 40 ms a claim at 100,000 rows on SQLite.)"""
        now = self._clock()
        token = f"{worker}:{uuid.uuid4().hex[:12]}"
        abandoned = and_(outbox.c.status == CLAIMED, outbox.c.claimed_until < now)
        due = and_(outbox.c.status == PENDING, outbox.c.available_at <= now)
        with self._engine.begin() as connection:
            ids: list[int] = []
            for condition, order in (
                (abandoned, (outbox.c.id,)),
                (due, (outbox.c.available_at, outbox.c.id)),
            ):
                if len(ids) < limit:
                    ids += connection.execute(
                        select(outbox.c.id)
                        .where(outbox.c.topic == topic, condition)
                        .order_by(*order)
                        .limit(limit - len(ids))
                        .with_for_update(skip_locked=True)
                    ).scalars()
            if not ids:
                return []
            # Still claimable (another worker may have been quicker); no topic here, or SQLite
            # reads the whole topic through its index instead of the `limit` rows by key.
            connection.execute(
                update(outbox)
                .where(and_(outbox.c.id.in_(ids), or_(abandoned, due)))
                .values(status=CLAIMED, claimed_by=token, claimed_until=now + lease, updated_at=now)
            )
            rows = connection.execute(
                select(outbox)
                .where(and_(outbox.c.id.in_(ids), outbox.c.claimed_by == token))
                .order_by(outbox.c.id)
            ).all()
        return [
            OutboxRow(r.id, r.topic, r.key, r.payload, r.attempts, r.correlation_id) for r in rows
        ]

    def delivered(self, results: Iterable[tuple[int, dict[str, Any]]]) -> int:
        """Mark rows delivered with the upstream's answer, in one statement executed for every
        row (building an UPDATE per row cost a third of a payroll run's CPU time)."""
        now = self._clock()
        rows = [
            {"row_id": row_id, "row_result": json.dumps(result, default=str)}
            for row_id, result in results
        ]
        if not rows:
            return 0
        statement = (
            update(outbox)
            .where(outbox.c.id == bindparam("row_id"))
            .values(
                status=DELIVERED,
                result=bindparam("row_result"),
                last_error=None,
                claimed_by=None,
                claimed_until=None,
                delivered_at=now,
                updated_at=now,
                attempts=outbox.c.attempts + 1,
            )
        )
        with self._engine.begin() as connection:
            connection.execute(statement, rows)
        return len(rows)

    def failed(self, row: OutboxRow, error: str, *, permanent: bool) -> str:
        """Record a failed attempt; returns the row's new state (pending again, or dead)."""
        now = self._clock()
        attempts = row.attempts + 1
        dead = permanent or attempts >= self.backoff.max_attempts
        reason = error if permanent or not dead else f"retries exhausted ({attempts}): {error}"
        values: dict[str, Any] = {
            "status": DEAD if dead else PENDING,
            "attempts": attempts,
            "last_error": reason[:2000],
            "claimed_by": None,
            "claimed_until": None,
            "updated_at": now,
        }
        if not dead:
            values["available_at"] = now + self.backoff.delay(attempts)
        with self._engine.begin() as connection:
            connection.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
        return DEAD if dead else PENDING

    def release(self, rows: Iterable[OutboxRow]) -> None:
        """Give claimed rows back untried (e.g. the circuit is open): no attempt is counted."""
        ids = [row.id for row in rows]
        if not ids:
            return
        now = self._clock()
        with self._engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(and_(outbox.c.id.in_(ids), outbox.c.status == CLAIMED))
                .values(status=PENDING, claimed_by=None, claimed_until=None, updated_at=now)
            )

    def replay(self, *, topic: str | None = None, ids: Iterable[int] | None = None) -> int:
        """Put dead letters back in the queue, all of them or the named ones."""
        now = self._clock()
        condition = outbox.c.status == DEAD
        if topic is not None:
            condition = and_(condition, outbox.c.topic == topic)
        if ids is not None:
            condition = and_(condition, outbox.c.id.in_(list(ids)))
        with self._engine.begin() as connection:
            replayed: int = connection.execute(
                update(outbox)
                .where(condition)
                .values(status=PENDING, attempts=0, available_at=now, updated_at=now)
            ).rowcount
        return replayed

    def depth(self) -> dict[str, dict[str, int]]:
        """{topic: {status: count}} for every topic with rows."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(outbox.c.topic, outbox.c.status, func.count()).group_by(
                    outbox.c.topic, outbox.c.status
                )
            ).all()
        depth: dict[str, dict[str, int]] = {}
        for topic, status, count in rows:
            depth.setdefault(topic, {})[status] = count
        return depth
