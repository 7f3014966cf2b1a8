"""`/api/v1/hr`: HR changes bound for payroll.

    PUT  /hr/employees/{employee_no}   one employee's change       -> 202 AcceptedChange
    GET  /hr/employees/{employee_no}   the employee's latest record -> 200 EmployeeChange
    POST /hr/changes                   {"changes": [...]}, 1..1000  -> 202 AcceptedChanges

Each write stores the changes as the employees' latest records and queues them for payroll in
one database transaction (`HrService.record_changes`); the payroll job delivers them later, so
the answer is `202 Accepted` with each change's queue entry. A change must fit payroll's
contract (employee number, name lengths, IBAN, hours, digits) and its currency's minor units:
what payroll would refuse is a 400 naming the field now, not a dead letter after the next run.

The batch is a JSON object, `{"changes": [...]}`, not a bare array: field errors then read
`changes[3].weekly_hours`, and the request can grow other members without a new version. It is
all or nothing: with one bad change nothing is stored, and the 400 names every field that does
not read (wrong type, missing, unknown) or, when all of them read, the first field of each
change that payroll's contract refuses.

Retries. `record_id` is the key payroll applies a change once by, and the bridge's too: the same
record id with the same change is answered with the first one's receipt and queued once; with
another change it is a 422. `POST` also takes `Idempotency-Key`, which replays the first answer
byte for byte. `PUT` does not: a client that wants a retry to be safe sends a `record_id` (its
own reference, the way a partner bank sends a MsgId), which also survives the 24 hours an
idempotency key is kept; a `PUT` without one queues a new record each time it is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import wraps
from typing import ParamSpec, cast

from flask import Response, request, url_for
from flask_openapi3.types import ResponseDict
from pydantic import Field

from bridge.domain import EmployeeChange
from bridge.domain.errors import InvalidInput, KeyReused, MappingError
from bridge.rest.auth import protect
from bridge.rest.blueprint import resource
from bridge.rest.fields import SparseFields, fields_parameter
from bridge.rest.idempotency import idempotent
from bridge.rest.openapi import answers, ref, request_body
from bridge.rest.params import Parameters
from bridge.rest.problems import MEDIA_TYPE, InvalidFields
from bridge.rest.schemas import (
    AcceptedChange,
    AcceptedChanges,
    DeliveryStatus,
    EmployeeChangeBatch,
    EmployeeChangeBody,
    EmployeeChangeItem,
    JsonBody,
    QueueEntry,
)
from bridge.rest.wire import bridge, canonical_response, correlation_id
from bridge.services.hr import new_record_id

P = ParamSpec("P")

hr = resource("hr", __name__, "HR changes bound for payroll")

CHANGE_BODY = JsonBody(EmployeeChangeBody)
CHANGE_BATCH = JsonBody(EmployeeChangeBatch)
EMPLOYEE_FIELDS = SparseFields(EmployeeChange)
# The payroll contract's UpsertEmployee holds exactly one EmployeeChange.
CONTRACT = "payroll/employee_upsert"
# A batch of 1,000 changes with long Unicode names is about 600 KiB; the app's 64 KiB limit is
# for single resources.
MAX_BATCH_BYTES = 1024 * 1024
EMPLOYEE_NO = r"^[A-Z0-9]{3,16}$"  # payroll's EmployeeNo
_INDEX = re.compile(r"\.(\d+)(?=\.|$)")


class EmployeePath(Parameters):
    employee_no: str = Field(
        pattern=EMPLOYEE_NO,
        description="Payroll's employee number: 3 to 16 capital letters and digits",
    )


class EmployeeQuery(Parameters):
    fields: str | None = fields_parameter("record_id,salary.amount.amount")


def body_limit(limit: int) -> Callable[[Callable[P, Response]], Callable[P, Response]]:
    """Let this view read a body up to `limit` bytes; set before anything reads the body
    (`@idempotent` fingerprints it), so it goes above `@idempotent`."""

    def decorate(view: Callable[P, Response]) -> Callable[P, Response]:
        @wraps(view)
        def limited(*args: P.args, **kwargs: P.kwargs) -> Response:
            request.max_content_length = limit
            return view(*args, **kwargs)

        return limited

    return decorate


def _accepted_responses(component: str, description: str, *, batch: bool) -> ResponseDict:
    where = {"Location": "Where the employee's record is read"}
    documented = answers(component, description, 409, 415, 422, status=202, headers=where)
    if batch:
        documented[413] = {
            "description": f"The body is larger than {MAX_BATCH_BYTES // 1024} KiB",
            "content": {MEDIA_TYPE: {"schema": ref("Problem")}},
        }
    return documented


@hr.put(
    "/hr/employees/<employee_no>",
    operation_id="putEmployee",
    summary="Queue an HR change of one employee for payroll",
    description="Stores the change as the employee's latest record and queues it for payroll "
    "in one transaction; answers 202 with the change as stored and its queue entry. Send your "
    "own `record_id` to make a retry safe: the same `record_id` with the same change answers "
    "the first receipt and queues nothing, with another change it is a 422. Without one, each "
    "request queues a new record. The change must fit payroll's contract (a 400 names the "
    "field); `employee_no` in the body, if any, must be the path's.",
    responses=_accepted_responses(
        "AcceptedChange", "The change as stored and queued for payroll", batch=False
    ),
    openapi_extensions=request_body(CHANGE_BODY, "The change; `record_id` is optional"),
)
@protect("hr:write", "private")
def put_employee(path: EmployeePath) -> Response:
    body = CHANGE_BODY.read()
    if body.employee_no is not None and body.employee_no != path.employee_no:
        raise InvalidInput(  # the body and the path disagree as a whole: 422
            f"the body's employee_no {body.employee_no!r} is not the path's {path.employee_no!r}"
        )
    change = _change(body, path.employee_no)
    _fits_contract([change], lambda _: "")
    # The service names fields as changes[i].<field>; this request has one change.
    try:
        (accepted,) = _record([change])
    except MappingError as exc:
        raise MappingError(exc.path.removeprefix("changes[0]."), exc.expected, exc.got) from None
    except KeyReused as exc:
        raise KeyReused(exc.detail.removeprefix("changes[0].")) from None
    location = url_for("hr.get_employee", employee_no=accepted.change.employee_no)
    return canonical_response(accepted, status=202, headers={"Location": location})


@hr.get(
    "/hr/employees/<employee_no>",
    operation_id="getEmployee",
    summary="Read an employee's latest HR record",
    description="The latest change stored for the employee, whether or not payroll has it yet "
    "(its delivery is under `/api/v1/sync/deliveries`).",
    responses=answers("EmployeeChange", "The employee's latest record", 404),
)
@protect("hr:read", "private")
def get_employee(path: EmployeePath, query: EmployeeQuery) -> Response:
    fields = EMPLOYEE_FIELDS.parse(query.fields)
    return canonical_response(bridge().hr.employee(path.employee_no), fields=fields)


@hr.post(
    "/hr/changes",
    operation_id="createEmployeeChanges",
    summary="Queue a batch of HR changes for payroll",
    description='1 to 1,000 changes as `{"changes": [...]}`, stored and queued in one '
    "transaction: all of them, or, if any change is wrong, none (a 400 names the wrong "
    "fields as `changes[i].field`). Answers 202 with each change as stored and its queue "
    "entry, in the order sent. Record ids work as for PUT, and must differ within a batch.",
    responses=_accepted_responses(
        "AcceptedChanges", "The changes as stored and queued, in the order sent", batch=True
    ),
    openapi_extensions=request_body(CHANGE_BATCH, "The changes, in the order to apply them"),
)
@body_limit(MAX_BATCH_BYTES)
@idempotent
@protect("hr:write", "private")
def create_employee_changes() -> Response:
    try:
        batch = CHANGE_BATCH.read()
    except InvalidFields as exc:
        raise InvalidFields([_indexed(error) for error in exc.errors]) from None
    changes = [_change(item, item.employee_no) for item in batch.changes]
    _fits_contract(changes, lambda index: f"changes[{index}].")
    return canonical_response(AcceptedChanges(changes=_record(changes)), status=202)


def _change(body: EmployeeChangeBody | EmployeeChangeItem, employee_no: str) -> EmployeeChange:
    """The canonical change, with a record id of the bridge's making if the client gave none
    (made here, not in the service, so the contract check sees the record as payroll will).
    An empty one is no record id: refused, not replaced."""
    if body.record_id == "":
        raise MappingError("record_id", "a record id of 1 character or more, or none", "''")
    record_id = body.record_id if body.record_id is not None else new_record_id()
    fields = {name: getattr(body, name) for name in EmployeeChange.__dataclass_fields__}
    return EmployeeChange(**fields | {"record_id": record_id, "employee_no": employee_no})


def _fits_contract(changes: Sequence[EmployeeChange], prefix: Callable[[int], str]) -> None:
    """Every change payroll's contract would refuse, each named by its first wrong field."""
    contracts = bridge().contracts
    errors = []
    for index, change in enumerate(changes):
        try:
            contracts.check(CONTRACT, change)
        except MappingError as exc:
            errors.append(exc.under(prefix(index)))
    if errors:
        raise InvalidFields(errors)


def _record(changes: list[EmployeeChange]) -> list[AcceptedChange]:
    hr_service = bridge().hr
    accepted = hr_service.record_changes(changes, correlation_id=correlation_id())
    queued = hr_service.queued([change.record_id for change in accepted])
    entries = {
        record_id: QueueEntry(
            delivery_id=entry.delivery_id, status=cast(DeliveryStatus, entry.status)
        )
        for record_id, entry in queued.items()
    }
    return [AcceptedChange(change=change, queue=entries[change.record_id]) for change in accepted]


def _indexed(error: MappingError) -> MappingError:
    """pydantic's `changes.3.weekly_hours` as `changes[3].weekly_hours`."""
    return MappingError(_INDEX.sub(r"[\1]", error.path), error.expected, error.got)
