"""Housekeeping deletes what is kept only for a while, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

from bridge.store.db import make_engine, migrate
from bridge.store.tables import idempotency_keys, outbox
from bridge.sync import outbox as queue
from bridge.sync.housekeeping import purge


def test_delivered_rows_past_retention_and_expired_keys_are_deleted(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    migrate(engine)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        for key in ("old-delivered", "new-delivered", "old-dead", "pending"):
            queue.add(connection, topic="payroll", key=key, payload="{}")
        connection.execute(
            update(outbox)
            .where(outbox.c.key.in_(["old-delivered", "new-delivered"]))
            .values(status="delivered")
        )
        connection.execute(update(outbox).where(outbox.c.key == "old-dead").values(status="dead"))
        connection.execute(
            update(outbox)
            .where(outbox.c.key.in_(["old-delivered", "old-dead"]))
            .values(delivered_at=now - timedelta(days=8))
        )
        connection.execute(
            update(outbox)
            .where(outbox.c.key == "new-delivered")
            .values(delivered_at=now - timedelta(days=1))
        )
        for key, expires in (
            ("expired", now - timedelta(hours=1)),
            ("live", now + timedelta(hours=1)),
        ):
            connection.execute(
                insert(idempotency_keys).values(
                    client_id="c",
                    key=key,
                    fingerprint="f",
                    state="done",
                    created_at=now - timedelta(days=1),
                    expires_at=expires,
                )
            )

    purged = purge(engine, retention=timedelta(days=7))

    assert (purged.outbox_rows, purged.idempotency_keys) == (1, 1)
    with engine.connect() as connection:
        left = set(connection.execute(select(outbox.c.key)).scalars())
        keys = set(connection.execute(select(idempotency_keys.c.key)).scalars())
    assert left == {"new-delivered", "old-dead", "pending"}
    assert keys == {"live"}
    engine.dispose()
