"""Housekeeping: what the bridge keeps only for a while is deleted on a schedule.

- delivered outbox rows, `outbox_retention_days` after delivery (dead letters stay until they
  are replayed: they are the operators' to-do list);
- REST idempotency keys past their expiry (kept at least 24 hours, see bridge.store.idempotency);
- WS-Security nonces no accepted Created can reuse any more (bridge.security.nonces).

Deletes run in bounded chunks so a large backlog never holds one long transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select

from bridge.domain.clock import utcnow
from bridge.security.nonces import purge_expired as purge_expired_nonces
from bridge.store.idempotency import IdempotencyStore
from bridge.store.tables import outbox
from bridge.sync.outbox import DELIVERED

CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Purged:
    outbox_rows: int
    idempotency_keys: int
    wss_nonces: int = 0


def purge(engine: Engine, *, retention: timedelta, now: datetime | None = None) -> Purged:
    cutoff = (now or utcnow()) - retention
    removed = 0
    while True:
        with engine.begin() as connection:
            ids = list(
                connection.execute(
                    select(outbox.c.id)
                    .where(outbox.c.status == DELIVERED, outbox.c.delivered_at < cutoff)
                    .order_by(outbox.c.id)
                    .limit(CHUNK)
                ).scalars()
            )
            if not ids:
                break
            connection.execute(delete(outbox).where(outbox.c.id.in_(ids)))
        removed += len(ids)
    return Purged(
        outbox_rows=removed,
        idempotency_keys=IdempotencyStore(engine).purge_expired(),
        wss_nonces=purge_expired_nonces(engine, now),
    )
