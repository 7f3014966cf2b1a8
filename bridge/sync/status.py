"""What an operator asks of the sync jobs: the last runs and the dead letters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from bridge.store.tables import job_runs, outbox
from bridge.sync.outbox import DEAD


def last_runs(engine: Engine, *, job: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    query = select(job_runs).order_by(job_runs.c.id.desc()).limit(limit)
    if job is not None:
        query = query.where(job_runs.c.job == job)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def dead_letters(
    engine: Engine, *, topic: str | None = None, limit: int = 50, after_id: int = 0
) -> list[dict[str, Any]]:
    query = (
        select(
            outbox.c.id,
            outbox.c.topic,
            outbox.c.key,
            outbox.c.attempts,
            outbox.c.last_error,
            outbox.c.updated_at,
            outbox.c.correlation_id,
        )
        .where(outbox.c.status == DEAD, outbox.c.id > after_id)
        .order_by(outbox.c.id)
        .limit(limit)
    )
    if topic is not None:
        query = query.where(outbox.c.topic == topic)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]
