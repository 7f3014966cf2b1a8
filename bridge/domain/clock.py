"""The one clock: what time it is (UTC), and a stored time given back its zone.

Everything that needs the time takes a `Clock` (default `utcnow`), so a test passes a fixed one
instead of patching a module. Every time the bridge stores is UTC, but SQLite hands a
timezone-aware column back naive: whatever is read from the store goes through `as_utc`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeAlias, overload

Clock: TypeAlias = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """`value` with a zone: a naive one is read as UTC; an aware one is returned unchanged."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
