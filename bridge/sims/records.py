"""What a simulator received (`sim_calls`) and applied (`sim_effects`), and the once-only rule.

Every handled call runs in one transaction that starts by inserting its `sim_calls` row (the
first statement is a write, so SQLite takes its write lock before anything is read and two
calls with one key are serialised), then looks up the effect stored under the call's
idempotency key: found, the stored response is answered again and nothing is applied; not found,
the simulator applies the call and stores the effect with its response in the same transaction.
On PostgreSQL two concurrent first calls may both apply; the unique key on `sim_effects` lets
only one commit, and the other is retried from the start and answered as a duplicate.

Calls the handler did not record (refused by the schema, a fault injected instead, a business
Client fault) are recorded by the WSGI wrapper with `record_unanswered`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    RowMapping,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bridge.domain.clock import Clock, as_utc
from bridge.sims.context import Wire
from bridge.store.sim_tables import sim_calls, sim_effects

# The WSGI environ key under which a handler leaves the id of the call row it wrote.
CALL_ID = "bridge.sims.call_id"
ATTEMPTS = 3


def digest(request: Wire) -> str:
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Effect:
    """A stored `sim_effects` row, as its columns are named."""

    scope: str
    idempotency_key: str
    operation: str
    request_digest: str
    request: Wire
    response: Wire


@dataclass
class Call:
    """One call being handled, inside its transaction."""

    connection: Connection
    system: str
    clock: Clock
    duplicate: bool = False
    summary: Wire = field(default_factory=dict)
    # Keys answered from an effect whose first request differed from this one.
    conflicts: list[str] = field(default_factory=list)

    def once(
        self, operation: str, scope: str, key: str, request: Wire, apply: Callable[[], Wire]
    ) -> tuple[Wire, bool]:
        """(response, replayed): apply and store the effect of `key`, or answer the stored one."""
        effect = self.stored(scope, key)
        if effect is None:
            response = apply()
            self.store(operation, scope, key, request, response)
            return response, False
        if effect.request_digest != digest(request):
            self.conflicts.append(key)
        return effect.response, True

    def stored(self, scope: str, key: str) -> Effect | None:
        row = self.connection.execute(
            select(sim_effects).where(
                sim_effects.c.system == self.system,
                sim_effects.c.scope == scope,
                sim_effects.c.idempotency_key == key,
            )
        ).first()
        if row is None:
            return None
        return Effect(**{name: getattr(row, name) for name in Effect.__dataclass_fields__})

    def store(self, operation: str, scope: str, key: str, request: Wire, response: Wire) -> None:
        effect = Effect(scope, key, operation, digest(request), request, response)
        row = asdict(effect) | {"system": self.system, "created_at": self.clock()}
        self.connection.execute(insert(sim_effects).values(row))


@dataclass(frozen=True)
class Recorder:
    """The calls and effects of simulator `system`."""

    engine: Engine
    system: str
    clock: Clock

    def transact(
        self,
        environ: dict[str, Any],
        operation: str,
        key: str | None,
        work: Callable[[Call], Wire],
    ) -> Wire:
        """Record the call and run `work` in one transaction; answer what `work` returns."""
        attempt = 0
        while True:
            try:
                with self.engine.begin() as connection:
                    call_id = self._insert_call(connection, operation, key, None, {})
                    call = Call(connection, self.system, self.clock)
                    response = work(call)
                    summary = call.summary
                    if call.conflicts:
                        summary = {**summary, "conflicts": call.conflicts}
                    connection.execute(
                        update(sim_calls)
                        .where(sim_calls.c.id == call_id)
                        .values(duplicate=call.duplicate, summary=summary)
                    )
            except IntegrityError:
                attempt += 1
                if attempt >= ATTEMPTS:
                    raise
                continue
            environ[CALL_ID] = call_id
            return response

    def once(
        self,
        environ: dict[str, Any],
        operation: str,
        scope: str,
        key: str,
        request: Wire,
        apply: Callable[[Call], Wire],
        summarize: Callable[[Wire, Wire], Wire],
    ) -> Wire:
        """Apply a keyed call at most once; a repeated key answers the first response."""

        def work(call: Call) -> Wire:
            response, call.duplicate = call.once(
                operation, scope, key, request, lambda: apply(call)
            )
            call.summary = summarize(request, response)
            return response

        return self.transact(environ, operation, key, work)

    def record(
        self,
        environ: dict[str, Any],
        operation: str,
        key: str | None,
        answer: Callable[[Call], Wire],
        summarize: Callable[[Wire], Wire],
    ) -> Wire:
        """Record a call that changes nothing (an inquiry) and answer it."""

        def work(call: Call) -> Wire:
            response = answer(call)
            call.summary = summarize(response)
            return response

        return self.transact(environ, operation, key, work)

    def record_unanswered(
        self, operation: str, key: str | None, fault: str | None, summary: Wire
    ) -> int:
        """A call that got no answer from its handler (refused, faulted, injected fault)."""
        with self.engine.begin() as connection:
            return self._insert_call(connection, operation, key, fault, summary)

    def mark_fault(self, call_id: int, kind: str) -> None:
        """Note an injected fault on a call its handler recorded (latency, a lost reply)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(sim_calls).where(sim_calls.c.id == call_id).values(fault=kind)
            )

    def calls(self, operation: str | None = None, key: str | None = None) -> list[Wire]:
        rows = self._rows(sim_calls, sim_calls.c.operation, operation, key)
        return [
            {
                "id": row.id,
                "operation": row.operation,
                "idempotency_key": row.idempotency_key,
                "duplicate": bool(row.duplicate),
                "fault": row.fault,
                "received_at": _iso(row.received_at),
                "summary": row.summary,
            }
            for row in rows
        ]

    def effects(self, scope: str | None = None, key: str | None = None) -> list[Wire]:
        rows = self._rows(sim_effects, sim_effects.c.scope, scope, key)
        return [_effect_wire(row._mapping) for row in rows]

    def _rows(
        self, table: Table, column: ColumnElement[str], value: str | None, key: str | None
    ) -> Sequence[Row[Any]]:
        """This simulator's rows of `table`, oldest first: those whose `column` is `value` and
        whose idempotency key is `key`, where given."""
        query = select(table).where(table.c.system == self.system)
        if value is not None:
            query = query.where(column == value)
        if key is not None:
            query = query.where(table.c.idempotency_key == key)
        with self.engine.connect() as connection:
            return connection.execute(query.order_by(table.c.id)).all()

    def clear(self, connection: Connection) -> None:
        connection.execute(delete(sim_calls).where(sim_calls.c.system == self.system))
        connection.execute(delete(sim_effects).where(sim_effects.c.system == self.system))

    def _insert_call(
        self,
        connection: Connection,
        operation: str,
        key: str | None,
        fault: str | None,
        summary: Wire,
    ) -> int:
        inserted = connection.execute(
            insert(sim_calls).values(
                system=self.system,
                operation=operation,
                idempotency_key=key,
                duplicate=False,
                fault=fault,
                received_at=self.clock(),
                summary=summary,
            )
        ).inserted_primary_key
        assert inserted is not None
        return int(inserted[0])


def _effect_wire(row: RowMapping) -> Wire:
    return {
        "id": row["id"],
        "scope": row["scope"],
        "idempotency_key": row["idempotency_key"],
        "operation": row["operation"],
        "request_digest": row["request_digest"],
        "request": row["request"],
        "response": row["response"],
        "created_at": _iso(row["created_at"]),
    }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).isoformat()
