"""Outbox depth over time, worked out from the outbox rows themselves: no samples are stored.

A row waits in its job's queue from `created_at` until it leaves it: at `delivered_at` when it
was delivered, at `updated_at` when it is a dead letter now (the last thing that happened to a
dead letter is its death). So the depth at a moment t is the number of rows created at or before
t that had not left by t, and a whole chart (one depth per sample time) is one query: one
`SUM(CASE ...)` column per sample time over the rows that overlap the window.

What it cannot know: a row that was dead, was replayed and is waiting again counts as waiting
since it was created (the outbox keeps no history of a row's states); and rows purged by
housekeeping (delivered ones, after `outbox_retention_days`) are gone, so a window longer than
the retention undercounts its start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, DateTime, Engine, and_, case, func, literal, or_, select

from bridge.store.tables import outbox
from bridge.sync.outbox import DEAD


@dataclass(frozen=True, slots=True)
class Window:
    """A chart's time span: `points` sample times, `step` apart, the last one at the end."""

    name: str
    span: timedelta
    points: int

    @property
    def step(self) -> timedelta:
        return self.span / (self.points - 1)

    def times(self, end: datetime) -> list[datetime]:
        return [end - self.step * (self.points - 1 - i) for i in range(self.points)]


WINDOWS = {
    "1h": Window("1h", timedelta(hours=1), 61),  # a point a minute
    "24h": Window("24h", timedelta(hours=24), 97),  # a point every 15 minutes
}


def outbox_depth(engine: Engine, topic: str, times: list[datetime]) -> list[int]:
    """The number of `topic`'s rows waiting (created, not yet delivered nor dead) at each of
    `times` (UTC, ascending), in one query."""
    if not times:
        return []
    left_at = case((outbox.c.status == DEAD, outbox.c.updated_at), else_=outbox.c.delivered_at)

    def at(moment: datetime) -> ColumnElement[datetime]:
        return literal(moment, DateTime(timezone=True))

    columns = [
        func.coalesce(
            func.sum(
                case(
                    (
                        and_(
                            outbox.c.created_at <= at(moment),
                            or_(left_at.is_(None), left_at > at(moment)),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ),
            0,
        )
        for moment in times
    ]
    query = select(*columns).where(
        outbox.c.topic == topic,
        outbox.c.created_at <= at(times[-1]),
        or_(left_at.is_(None), left_at > at(times[0])),
    )
    with engine.connect() as connection:
        row = connection.execute(query).one()
    return [int(value) for value in row]
