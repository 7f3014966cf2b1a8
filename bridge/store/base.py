"""What every store of the bridge's database holds: the engine it works on and the clock that
stamps its rows. The clock is passed in, so tests move time instead of patching it."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from sqlalchemy import Engine

from bridge.domain.clock import Clock, utcnow


@dataclass(eq=False)
class Store:
    """A store over `engine`; `clock` is what "now" is when it stamps or compares a row."""

    engine: Engine
    _: KW_ONLY
    clock: Clock = utcnow

    def __post_init__(self) -> None:
        """Where a store builds, once, what it prepares on its engine."""
