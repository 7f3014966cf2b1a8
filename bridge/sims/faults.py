"""Faults injected into the next N calls of one simulator, kept in `sim_faults`.

Kinds (every simulator):
- `latency`: sleep `seconds` (default 0.2), then answer normally;
- `soap_fault`: a SOAP 1.1 `soap:Server` fault with HTTP 500;
- `http_500`: a plain-text HTTP 500, no SOAP at all;
- `timeout`: hold the request `seconds` (default 15; choose more than the client's timeout),
  then answer HTTP 504 with no SOAP body;
- `drop`: close the connection without a response (see `bridge.sims.wsgi`).
Core banking adds `unavailable`: PostPayment answers result code 91 and posts nothing.

`stage="request"` (default) serves the fault instead of handling the call: nothing is applied.
`stage="response"` handles the call first (the effect is applied and recorded) and then serves
the fault instead of the answer, as when a reply is lost on the way back: the case that makes
a retry dangerous without idempotency keys. `operation` limits a fault to one operation.

Queued faults are served oldest first. A call consumes one unit with a conditional
`UPDATE ... SET remaining = remaining - 1 WHERE remaining > 0`, so workers and processes sharing
the database never serve one unit twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from sqlalchemy import Engine, RowMapping, delete, insert, or_, select, update

from bridge.domain.clock import Clock
from bridge.sims.context import Wire
from bridge.store.sim_tables import sim_faults

COMMON_KINDS = frozenset({"latency", "soap_fault", "http_500", "timeout", "drop"})
STAGES = ("request", "response")
DEFAULT_SECONDS = {"latency": 0.2, "timeout": 15.0}
MAX_COUNT = 100_000
MAX_SECONDS = 600.0


class InvalidFault(ValueError):
    """A fault injection request that names an unknown kind, stage or operation."""


@dataclass(frozen=True)
class InjectedFault:
    id: int
    kind: str
    remaining: int
    seconds: float
    stage: str
    operation: str | None

    def as_wire(self) -> Wire:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultQueue:
    """The faults injected into the operations of simulator `system`, of `kinds`; `bound` ties a
    kind to the one operation it makes sense for (kind -> operation)."""

    engine: Engine
    system: str
    clock: Clock
    operations: frozenset[str]
    kinds: frozenset[str] = COMMON_KINDS
    bound: Mapping[str, str] = field(default_factory=dict)

    def inject(
        self,
        kind: str,
        count: int = 1,
        *,
        seconds: float | None = None,
        stage: str = "request",
        operation: str | None = None,
    ) -> InjectedFault:
        kind, operation = self._checked(kind, count, seconds, stage, operation)
        delay = float(seconds if seconds is not None else DEFAULT_SECONDS.get(kind, 0.0))
        values = {
            "system": self.system,
            "kind": kind,
            "remaining": count,
            "seconds": delay,
            "stage": stage,
            "operation": operation,
            "created_at": self.clock(),
        }
        with self.engine.begin() as connection:
            fault_id = connection.execute(insert(sim_faults).values(**values)).inserted_primary_key
        assert fault_id is not None
        return InjectedFault(int(fault_id[0]), kind, count, delay, stage, operation)

    def take(self, operation: str) -> InjectedFault | None:
        """Consume one unit of the oldest pending fault that applies to `operation`."""
        while True:
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(sim_faults)
                    .where(
                        sim_faults.c.system == self.system,
                        sim_faults.c.remaining > 0,
                        or_(sim_faults.c.operation.is_(None), sim_faults.c.operation == operation),
                    )
                    .order_by(sim_faults.c.id)
                    .limit(1)
                ).first()
            if row is None:
                return None
            with self.engine.begin() as connection:
                taken = connection.execute(
                    update(sim_faults)
                    .where(sim_faults.c.id == row.id, sim_faults.c.remaining > 0)
                    .values(remaining=sim_faults.c.remaining - 1)
                ).rowcount
            if taken == 1:
                return _fault(row._mapping, remaining=row.remaining - 1)
            # Another worker took the last unit between the two statements: look again.

    def pending(self) -> list[InjectedFault]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(sim_faults)
                .where(sim_faults.c.system == self.system, sim_faults.c.remaining > 0)
                .order_by(sim_faults.c.id)
            ).all()
        return [_fault(row._mapping) for row in rows]

    def clear(self) -> int:
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    delete(sim_faults).where(sim_faults.c.system == self.system)
                ).rowcount
            )

    def _checked(
        self, kind: str, count: int, seconds: float | None, stage: str, operation: str | None
    ) -> tuple[str, str | None]:
        if not isinstance(kind, str) or kind not in self.kinds:
            raise InvalidFault(
                f"unknown fault kind {kind!r}; known: {', '.join(sorted(self.kinds))}"
            )
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
            raise InvalidFault(f"count must be an integer from 1 to {MAX_COUNT}")
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 <= seconds <= MAX_SECONDS
        ):
            raise InvalidFault(f"seconds must be a number from 0 to {MAX_SECONDS:g}")
        if stage not in STAGES:
            raise InvalidFault(f"stage must be one of {', '.join(STAGES)}")
        if operation is not None and (
            not isinstance(operation, str) or operation not in self.operations
        ):
            raise InvalidFault(f"unknown operation {operation!r}")
        if kind in self.bound:
            if operation not in (None, self.bound[kind]) or stage != "request":
                raise InvalidFault(f"{kind} applies to {self.bound[kind]} requests only")
            operation = self.bound[kind]
        return kind, operation


def _fault(row: RowMapping, remaining: int | None = None) -> InjectedFault:
    return InjectedFault(
        id=int(row["id"]),
        kind=str(row["kind"]),
        remaining=int(row["remaining"] if remaining is None else remaining),
        seconds=float(row["seconds"] or 0.0),
        stage=str(row["stage"]),
        operation=row["operation"],
    )
