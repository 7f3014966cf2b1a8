"""What an operator asks of the sync jobs: the last runs, the deliveries and the dead letters.

Rows come back as dicts of column values, timestamps in UTC (SQLite hands them back without
their zone; every one the bridge writes is UTC). Lists page by id (keyset), so a page neither
skips nor repeats rows while new ones arrive.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from bridge.domain.clock import as_utc
from bridge.store.tables import job_runs, outbox
from bridge.sync.outbox import DEAD

# What a delivery shows; its payload (personal data: salaries, bank accounts) only on request.
_DELIVERY_COLUMNS = (
    outbox.c.id,
    outbox.c.topic,
    outbox.c.key,
    outbox.c.status,
    outbox.c.attempts,
    outbox.c.last_error,
    outbox.c.correlation_id,
    outbox.c.created_at,
    outbox.c.available_at,
    outbox.c.delivered_at,
)


def last_runs(
    engine: Engine, *, job: str | None = None, limit: int = 20, before_id: int | None = None
) -> list[dict[str, Any]]:
    """The runs, newest first; `before_id` continues a list after its last run."""
    query = select(job_runs).order_by(job_runs.c.id.desc()).limit(limit)
    if job is not None:
        query = query.where(job_runs.c.job == job)
    if before_id is not None:
        query = query.where(job_runs.c.id < before_id)
    with engine.connect() as connection:
        return [_utc(row._mapping) for row in connection.execute(query)]


def job_run(engine: Engine, run_id: int) -> dict[str, Any] | None:
    with engine.connect() as connection:
        row = connection.execute(select(job_runs).where(job_runs.c.id == run_id)).first()
    return None if row is None else _utc(row._mapping)


def deliveries(
    engine: Engine,
    *,
    topics: list[str] | None = None,
    status: str | None = None,
    after_id: int = 0,
    limit: int = 50,
    payload: bool = False,
) -> list[dict[str, Any]]:
    """Outbox rows, oldest first, of these topics (all when None) and this status."""
    columns = (*_DELIVERY_COLUMNS, outbox.c.payload) if payload else _DELIVERY_COLUMNS
    query = select(*columns).where(outbox.c.id > after_id).order_by(outbox.c.id).limit(limit)
    if topics is not None:
        query = query.where(outbox.c.topic.in_(topics))
    if status is not None:
        query = query.where(outbox.c.status == status)
    with engine.connect() as connection:
        return [_utc(row._mapping) for row in connection.execute(query)]


def delivery(engine: Engine, delivery_id: int, *, payload: bool = False) -> dict[str, Any] | None:
    columns = (*_DELIVERY_COLUMNS, outbox.c.payload) if payload else _DELIVERY_COLUMNS
    with engine.connect() as connection:
        row = connection.execute(select(*columns).where(outbox.c.id == delivery_id)).first()
    return None if row is None else _utc(row._mapping)


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


def _utc(row: Any) -> dict[str, Any]:
    """The row as a dict, its times given back the zone SQLite drops."""
    return {
        name: as_utc(value) if isinstance(value, datetime) else value for name, value in row.items()
    }
