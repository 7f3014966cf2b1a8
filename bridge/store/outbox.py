"""The outbox table's operations: queue, claim, settle, release (housekeeping deletes old rows).

A service queues a row inside its own database transaction (`add(connection, ...)`), so the data
and the promise to deliver it commit or roll back together. Rows are claimed under a lease: in
batches by the sync workers (`OutboxStore.claim`), or one row by its key by a service that
delivers it while a caller waits (`hold`, then `settle_held` or `release_held`). Both kinds of
claim, settlement and release write the same values (`_claimed`, `_delivered`, `_failed`,
`_released`), so a row held by a waiting caller and a row claimed by a job end the same way.

When a failed row is tried again (the retry policy) is the sync layer's decision
(`bridge.sync.outbox.Backoff`): here a failure is told when it is due again, or that it is dead.

Row states: pending -> claimed -> delivered, or back to pending (a transient failure), or dead
(a permanent failure, or retries spent), from where `replay` puts it back to pending.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    func,
    insert,
    null,
    or_,
    select,
    update,
)

from bridge.domain.clock import utcnow
from bridge.store.base import Store
from bridge.store.tables import outbox

PENDING, CLAIMED, DELIVERED, DEAD = "pending", "claimed", "delivered", "dead"
# The longest error text a row keeps (the rest of a long fault adds nothing to act on).
MAX_ERROR = 2000


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    topic: str
    key: str
    payload: str
    attempts: int
    correlation_id: str | None


def add(
    connection: Connection,
    topic: str,
    key: str,
    payload: str,
    correlation_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """Queue one delivery inside the caller's transaction: `payload` (canonical JSON) for
    `topic`, under the `key` the upstream deduplicates on."""
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


# -- the state of a row's delivery, for views of the data it came from ---------------------------


def with_delivery(table: Table, key: ColumnElement[str], topic: str) -> Select[Any]:
    """Rows of `table` with the state of their outbox row (`delivery`, `delivery_error`; None
    without one), `key` naming the row's key column. Reading the state from the outbox row,
    which the sync engine owns, means the data and its delivery can never disagree."""
    return select(
        table,
        outbox.c.status.label("delivery"),
        outbox.c.last_error.label("delivery_error"),
    ).select_from(table.outerjoin(outbox, and_(outbox.c.topic == topic, outbox.c.key == key)))


def delivery_filters(done: ColumnElement[bool]) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(dead, waiting) for a `with_delivery` view: not `done` (the upstream's answer is
    recorded) and a dead letter; not `done` and still to be delivered (or retried)."""
    dead = and_(~done, outbox.c.status == DEAD)
    waiting = and_(~done, or_(outbox.c.status.is_(None), outbox.c.status != DEAD))
    return dead, waiting


# -- what a claim, a settlement and a release write ------------------------------------------------


def _abandoned(now: datetime) -> ColumnElement[bool]:
    """Claimed by someone whose lease ran out (a worker or caller that died): claimable again."""
    return and_(outbox.c.status == CLAIMED, outbox.c.claimed_until < now)


def _claimed(holder: str, until: datetime, now: datetime) -> dict[str, Any]:
    return {"status": CLAIMED, "claimed_by": holder, "claimed_until": until, "updated_at": now}


def _released(now: datetime) -> dict[str, Any]:
    """Back to pending untried: no attempt is counted."""
    return {"status": PENDING, "claimed_by": null(), "claimed_until": null(), "updated_at": now}


def _delivered(result: Any, now: datetime) -> dict[str, Any]:
    """`result`: the upstream's answer as JSON text (or a bound parameter carrying it).
    Cleared columns are literal NULLs here and below, not parameters: a batch settled in one
    executemany would bind and convert each of them again for every row."""
    return {
        "status": DELIVERED,
        "result": result,
        "last_error": null(),
        "claimed_by": null(),
        "claimed_until": null(),
        "delivered_at": now,
        "updated_at": now,
        "attempts": outbox.c.attempts + 1,
    }


def _failed(error: str, retry_at: datetime | None, now: datetime) -> dict[str, Any]:
    """A failed attempt: pending again from `retry_at`, or dead when there is none."""
    values: dict[str, Any] = {
        "status": PENDING if retry_at is not None else DEAD,
        "attempts": outbox.c.attempts + 1,
        "last_error": error[:MAX_ERROR],
        "claimed_by": null(),
        "claimed_until": null(),
        "updated_at": now,
    }
    if retry_at is not None:
        values["available_at"] = retry_at
    return values


# -- one row, held by its key inside the caller's transaction --------------------------------------


def _held(topic: str, key: str, holder: str) -> ColumnElement[bool]:
    return and_(outbox.c.topic == topic, outbox.c.key == key, outbox.c.claimed_by == holder)


def hold(
    connection: Connection, *, topic: str, key: str, holder: str, until: datetime, now: datetime
) -> bool:
    """Claim the row of (`topic`, `key`) for `holder` until `until`, as a worker would claim it
    (a pending row, due or not: the caller is waiting now; or one whose lease ran out), so no
    job sends it meanwhile. False when it is not claimable (delivered, dead, or held)."""
    claimable = and_(
        outbox.c.topic == topic,
        outbox.c.key == key,
        or_(outbox.c.status == PENDING, _abandoned(now)),
    )
    taken: int = connection.execute(
        update(outbox).where(claimable).values(**_claimed(holder, until, now))
    ).rowcount
    return taken == 1


def settle_held(
    connection: Connection,
    *,
    topic: str,
    key: str,
    holder: str,
    now: datetime,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """End `holder`'s hold with the attempt's outcome: delivered with `result`, or failed with
    `error` (pending again from `retry_at`, dead without one)."""
    if result is not None:
        values = _delivered(json.dumps(result, default=str), now)
    elif error is not None:
        values = _failed(error, retry_at, now)
    else:
        raise ValueError("settle_held needs a result or an error")
    connection.execute(update(outbox).where(_held(topic, key, holder)).values(**values))


def release_held(
    connection: Connection, *, topic: str, key: str, holder: str, now: datetime
) -> None:
    """Give `holder`'s row back untried: the attempt said nothing about the delivery."""
    connection.execute(update(outbox).where(_held(topic, key, holder)).values(**_released(now)))


# -- batches, for the sync workers ---------------------------------------------------------------

# What a claim reads of a row, in `OutboxRow`'s order (id first: claimed rows sort by it). Not
# the timestamps: turning SQLite's text back into datetimes was a tenth of a claim.
_ROW = (
    outbox.c.id,
    outbox.c.topic,
    outbox.c.key,
    outbox.c.payload,
    outbox.c.attempts,
    outbox.c.correlation_id,
)
_by_id = itemgetter(0)


class OutboxStore(Store):
    def claim(self, topic: str, limit: int, *, lease: timedelta, worker: str) -> list[OutboxRow]:
        """Up to `limit` rows due now (or abandoned by a dead worker), held for `lease`.

        On PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` lets any number of workers share the
        queue; on SQLite (one node) the same statements run and the claim token decides.
        Abandoned claims first, then the rows due longest, in due-time order: both are range
        reads of the (topic, status, available_at) index that stop after `limit` rows, so a
        claim costs the same with 100 or 100,000 rows queued or delivered before it. (Ordered
        by id, with an OR of the two conditions, every claim read and sorted every row the
        topic ever had: 40 ms a claim at 100,000 rows on SQLite.)"""
        now = self.clock()
        token = f"{worker}:{uuid.uuid4().hex[:12]}"
        abandoned = _abandoned(now)
        due = and_(outbox.c.status == PENDING, outbox.c.available_at <= now)
        with self.engine.begin() as connection:
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
            claimed = (
                update(outbox)
                .where(and_(outbox.c.id.in_(ids), or_(abandoned, due)))
                .values(**_claimed(token, now + lease, now))
            )
            if connection.dialect.update_returning:  # PostgreSQL, SQLite >= 3.35
                # The rows this claim took, in the same statement: no second read by id.
                taken = connection.execute(claimed.returning(*_ROW))
                rows: Sequence[Any] = sorted(taken, key=_by_id)
            else:
                connection.execute(claimed)
                rows = connection.execute(
                    select(*_ROW)
                    .where(and_(outbox.c.id.in_(ids), outbox.c.claimed_by == token))
                    .order_by(outbox.c.id)
                ).all()
        return [OutboxRow(*row) for row in rows]

    def delivered(self, results: Iterable[tuple[int, dict[str, Any]]]) -> int:
        """Mark rows delivered with the upstream's answer, in one statement executed for every
        row (building an UPDATE per row cost a third of a payroll run's CPU time)."""
        rows = [
            {"row_id": row_id, "row_result": json.dumps(result, default=str)}
            for row_id, result in results
        ]
        if not rows:
            return 0
        statement = (
            update(outbox)
            .where(outbox.c.id == bindparam("row_id"))
            .values(**_delivered(bindparam("row_result"), self.clock()))
        )
        with self.engine.begin() as connection:
            connection.execute(statement, rows)
        return len(rows)

    def settle_failed(self, row_id: int, error: str, *, retry_at: datetime | None) -> None:
        """Record a failed attempt: pending again from `retry_at`, or dead without one."""
        now = self.clock()
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox).where(outbox.c.id == row_id).values(**_failed(error, retry_at, now))
            )

    def release(self, rows: Iterable[OutboxRow]) -> None:
        """Give claimed rows back untried (e.g. the circuit is open): no attempt is counted."""
        ids = [row.id for row in rows]
        if not ids:
            return
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(and_(outbox.c.id.in_(ids), outbox.c.status == CLAIMED))
                .values(**_released(self.clock()))
            )

    def replay(self, *, topic: str | None = None, ids: Iterable[int] | None = None) -> int:
        """Put dead letters back in the queue, all of them or the named ones."""
        now = self.clock()
        condition = outbox.c.status == DEAD
        if topic is not None:
            condition = and_(condition, outbox.c.topic == topic)
        if ids is not None:
            condition = and_(condition, outbox.c.id.in_(list(ids)))
        with self.engine.begin() as connection:
            replayed: int = connection.execute(
                update(outbox)
                .where(condition)
                .values(status=PENDING, attempts=0, available_at=now, updated_at=now)
            ).rowcount
        return replayed

    def depth(self) -> dict[str, dict[str, int]]:
        """{topic: {status: count}} for every topic with rows."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(outbox.c.topic, outbox.c.status, func.count()).group_by(
                    outbox.c.topic, outbox.c.status
                )
            ).all()
        depth: dict[str, dict[str, int]] = {}
        for topic, status, count in rows:
            depth.setdefault(topic, {})[status] = count
        return depth
