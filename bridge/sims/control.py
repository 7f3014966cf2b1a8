"""The control plane of one simulator: a Python API and the same over HTTP JSON.

Tests in the same process use `SimControl` directly; tests in another process (the bridge under
gunicorn, a test that kills it) use the HTTP routes under `{base}/sims/<name>/_control/`:

    GET    faults                 pending injected faults
    POST   faults                 {"kind": ..., "count": N, "seconds"?: x, "stage"?: "request"
                                   | "response", "operation"?: op}  -> 201 the queued fault
    DELETE faults                 clear every fault of this simulator -> {"cleared": n}
    GET    calls?operation=&key=  recorded calls, oldest first
    GET    effects?scope=&key=    stored effects (first request and response per key)
    GET    state                  the simulator's own state (accounts, employees), if it has one
    POST   reset                  forget calls, effects and faults; reload seed data

On the bridge's port the control plane, like the rest of `/sims`, is for private clients holding
`simulators:admin` (`bridge.sims.gate`): it reads balances, salaries and payments and injects
faults. Simulators run only when `settings.simulators_decision` says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, select
from werkzeug.wrappers import Request, Response

from bridge.sims.context import Wire
from bridge.sims.faults import FaultQueue, InjectedFault, InvalidFault
from bridge.sims.records import Recorder


@dataclass(frozen=True, slots=True)
class SimControl:
    """Inspect and steer one simulator; every method reads or writes the database.
    `reset_state` reloads the simulator's own seed data, `read_state` reads that state."""

    name: str
    recorder: Recorder
    fault_queue: FaultQueue
    reset_state: Callable[[Connection], None] | None = None
    read_state: Callable[[], Wire] | None = None

    def calls(self, operation: str | None = None, key: str | None = None) -> list[Wire]:
        return self.recorder.calls(operation, key)

    def effects(self, scope: str | None = None, key: str | None = None) -> list[Wire]:
        return self.recorder.effects(scope, key)

    def inject(self, kind: str, count: int = 1, **where: Any) -> InjectedFault:
        """`where`: `FaultQueue.inject`'s ``seconds``, ``stage`` and ``operation``."""
        return self.fault_queue.inject(kind, count, **where)

    def faults(self) -> list[InjectedFault]:
        return self.fault_queue.pending()

    def clear_faults(self) -> int:
        return self.fault_queue.clear()

    @property
    def has_state(self) -> bool:
        return self.read_state is not None

    def state(self) -> Wire:
        return {} if self.read_state is None else self.read_state()

    def reset(self) -> None:
        self.fault_queue.clear()
        with self.recorder.engine.begin() as connection:
            self.recorder.clear(connection)
            if self.reset_state is not None:
                self.reset_state(connection)


def table_state(
    connection: Connection, table: Table, order_by: str, columns: Sequence[str]
) -> list[Wire]:
    """The `columns` of every row of one of a simulator's own tables, ordered by `order_by`: the
    simulator's part of ``GET state``."""
    query = select(*(table.c[column] for column in columns)).order_by(table.c[order_by])
    return [dict(row._mapping) for row in connection.execute(query)]


def control_response(control: SimControl, request: Request, route: str) -> Response:
    """Answer one `_control/<route>` request."""
    method = request.method
    if route == "faults" and method == "GET":
        return _json({"faults": [fault.as_wire() for fault in control.faults()]})
    if route == "faults" and method == "POST":
        return _inject(control, request)
    if route == "faults" and method == "DELETE":
        return _json({"cleared": control.clear_faults()})
    if route == "calls" and method == "GET":
        args = request.args
        return _json({"calls": control.calls(args.get("operation"), args.get("key"))})
    if route == "effects" and method == "GET":
        args = request.args
        return _json({"effects": control.effects(args.get("scope"), args.get("key"))})
    if route == "state" and method == "GET" and control.has_state:
        return _json(control.state())
    if route == "reset" and method == "POST":
        control.reset()
        return _json({"reset": control.name})
    if route in {"faults", "calls", "effects", "reset"} or (route == "state" and control.has_state):
        return _json({"error": f"method {method} not allowed on {route}"}, status=405)
    return _json({"error": f"no control route {route!r}"}, status=404)


def _inject(control: SimControl, request: Request) -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("kind"), str):
        return _json({"error": 'expected a JSON object with a "kind"'}, status=400)
    unknown = set(body) - {"kind", "count", "seconds", "stage", "operation"}
    if unknown:
        return _json({"error": f"unknown fields: {', '.join(sorted(unknown))}"}, status=400)
    try:
        fault = control.inject(
            body["kind"],
            body.get("count", 1),
            seconds=body.get("seconds"),
            stage=body.get("stage", "request"),
            operation=body.get("operation"),
        )
    except InvalidFault as exc:
        return _json({"error": str(exc)}, status=400)
    return _json(fault.as_wire(), status=201)


def _json(payload: Any, status: int = 200) -> Response:
    text = json.dumps(payload, ensure_ascii=False, default=str)
    return Response(text, status=status, content_type="application/json; charset=utf-8")
