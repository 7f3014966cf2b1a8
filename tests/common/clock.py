"""The one test clock: a callable that answers `now`, which a test can set or move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """A clock a test can move; by default it starts at the current second."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now if now is not None else datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
