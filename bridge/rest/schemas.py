"""What the REST door reads and writes, as schemas generated from the classes themselves.

Bodies are the canonical dataclasses of `bridge.domain` (the REST JSON *is* the canonical model
serialised); the few shapes only REST has (a page of transactions with its cursor, the name to
verify, a problem) are defined here. pydantic derives both the validation and the OpenAPI
component schemas from the same classes, so the document cannot drift from what is accepted.
Everything is built once, at import: no schema work happens per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from flask import request
from pydantic import Field, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import SchemaValidator, core_schema
from werkzeug.exceptions import UnsupportedMediaType

from bridge.domain import (
    AccountVerification,
    Transaction,
    TransferRequest,
    TransferResult,
)
from bridge.domain.classification import Classification, ClassificationRequest
from bridge.domain.common import canonical
from bridge.domain.payroll import EmployeeAction, EmployeeChange, Salary
from bridge.domain.shipping import Shipment, ShipmentOrder
from bridge.mapping.scalars import DECIMAL_TEXT
from bridge.rest.jsonlimits import check_json_body
from bridge.rest.jsonrules import check_unique_keys, exact_decimals
from bridge.rest.params import MAX_ID
from bridge.rest.problems import InvalidFields, InvalidJson, Problem
from bridge.store.audit import AuditInterface, AuditOutcome, AuditRecord
from bridge.sync import status

T = TypeVar("T")

REF_TEMPLATE = "#/components/schemas/{model}"
JSON = "application/json"


@dataclass(slots=True, kw_only=True)
class VerificationRequest:
    """The name to check against the account named in the path."""

    name: Annotated[str, Field(min_length=1, max_length=140)]


@dataclass(slots=True, kw_only=True)
class TransactionList:
    """One page of an account's booked transactions; `next_cursor` fetches the next, if any."""

    transactions: list[Transaction] = field(default_factory=list)
    next_cursor: str | None = None


@dataclass(slots=True, kw_only=True)
class ClassificationList:
    """One page of classifications, oldest first; `next_cursor` fetches the next, if any."""

    classifications: list[Classification] = field(default_factory=list)
    next_cursor: str | None = None


@dataclass(slots=True, kw_only=True)
class ShipmentList:
    """One page of shipments, oldest first; `next_cursor` fetches the next, if any."""

    shipments: list[Shipment] = field(default_factory=list)
    next_cursor: str | None = None


# -- HR changes bound for payroll -----------------------------------------------------------------

# The most changes one `POST /hr/changes` takes: one transaction, one answer of a few hundred KiB.
MAX_CHANGES = 1000
DeliveryStatus = Literal["pending", "claimed", "delivered", "dead"]


@canonical
class EmployeeChangeBody:
    """An HR change of the employee named in the path. `record_id` is the key payroll applies
    the change once by: send your own to make a retry safe (the same record id with the same
    change answers the first receipt and queues nothing), or leave it out and the bridge makes
    one. `employee_no` may be left out; if sent, it must be the path's."""

    record_id: str | None = None
    employee_no: str | None = None
    given_name: str
    family_name: str
    salary: Salary
    weekly_hours: Decimal
    bank_account: str
    effective_date: date
    action: EmployeeAction


@canonical
class EmployeeChangeItem(EmployeeChangeBody):
    """One change of a batch: an HR change with its employee number; `record_id` as for PUT."""

    employee_no: str


@canonical
class EmployeeChangeBatch:
    """1 to 1,000 HR changes, stored and queued all together or not at all."""

    changes: Annotated[list[EmployeeChangeItem], Field(min_length=1, max_length=MAX_CHANGES)]


@dataclass(slots=True, kw_only=True)
class QueueEntry:
    """Where an accepted change stands in the payroll queue: its delivery (an outbox row, see
    `/api/v1/sync/deliveries/{delivery_id}`) and that delivery's state."""

    delivery_id: int
    status: DeliveryStatus


@dataclass(slots=True, kw_only=True)
class AcceptedChange:
    """An HR change as stored (with its record id, the amount in its currency's minor units)
    and its place in the payroll queue."""

    change: EmployeeChange
    queue: QueueEntry


@dataclass(slots=True, kw_only=True)
class AcceptedChanges:
    """The changes of a batch as stored and queued, in the order they were sent."""

    changes: list[AcceptedChange] = field(default_factory=list)


# -- sync jobs and their deliveries (the outbox) ------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRun(status.Run):
    """One run of a sync job: who started it (`schedule`; `join`, another node draining beside a
    scheduled run; `manual` from the command line; `api`; `ui`), on which node, and what became
    of the rows it claimed. `error` says why a run stopped
    early (the upstream unavailable, its circuit open)."""


@dataclass(frozen=True, slots=True)
class SyncJob(status.JobStatus):
    """A sync job: its schedule (a crontab in UTC, or every <n>s|m|h), its queue and its last
    runs. `scheduled` is false when the scheduler is switched off (`BRIDGE_SCHEDULER=false`: the
    job runs only by hand); `running` is true while the process that answered is running the job."""

    # As documented since the first version: the circuit's states in this order, the runs as
    # `JobRun`s; every other field is the read model's.
    circuit: Literal["closed", "open", "half-open"]
    last_runs: Sequence[JobRun] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class SyncJobList:
    jobs: list[SyncJob] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class JobRunList:
    """One page of a job's runs, newest first; `next_cursor` fetches the next, if any."""

    runs: list[JobRun] = field(default_factory=list)
    next_cursor: str | None = None


@canonical
class RunRequest:
    """Run a job now. Without `batches` the run drains the queue; with it, it stops after that
    many batches (a bounded run answers sooner)."""

    batches: Annotated[int, Field(ge=1, le=100_000)] | None = None


@dataclass(slots=True, kw_only=True)
class Delivery:
    """One delivery to an upstream (an outbox row): `key` is the idempotency key the upstream
    deduplicates on (payroll's record id), `last_error` why the last attempt failed,
    `available_at` when a pending delivery is next tried. `payload` (the canonical message, with
    personal data) only when asked for with `include=payload`."""

    id: int
    job: str | None = None
    topic: str
    key: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None = None
    correlation_id: str | None = None
    created_at: datetime
    available_at: datetime
    delivered_at: datetime | None = None
    payload: dict[str, Any] | None = None


@dataclass(slots=True, kw_only=True)
class DeliveryList:
    """One page of deliveries, oldest first; `next_cursor` fetches the next, if any."""

    deliveries: list[Delivery] = field(default_factory=list)
    next_cursor: str | None = None


@canonical
class ReplayRequest:
    """Which dead letters to put back in the queue: all of them, those of one `job`, those
    among `ids`, or both filters together."""

    job: str | None = None
    # Ids of stored rows: at most a BIGINT (a larger one names nothing, and no driver binds it).
    ids: (
        Annotated[
            list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(min_length=1, max_length=1000)
        ]
        | None
    ) = None


@dataclass(slots=True, kw_only=True)
class ReplayResult:
    """How many dead letters went back to the queue (pending, attempts 0, due now)."""

    replayed: int


# -- the audit log ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry(AuditRecord):
    """One audited event: a call on a door, a sync delivery, an admin action or a security
    event. `status` is the HTTP status ("201"), SOAP faultcode ("soap:Client") or sync result
    ("delivered", "retry", "dead"); account numbers are masked and secrets never kept."""

    # The stored record's fields in its order; read back, it has an id, and the values of
    # `interface` and `outcome` are named for clients.
    id: int
    interface: AuditInterface
    outcome: AuditOutcome


@dataclass(slots=True, kw_only=True)
class AuditList:
    """One page of the audit log, newest first; `next_cursor` fetches the next, if any."""

    entries: list[AuditEntry] = field(default_factory=list)
    next_cursor: str | None = None


class CanonicalJsonSchema(GenerateJsonSchema):
    """Amounts travel as JSON strings ("12.50", exact) in both directions, in xs:decimal's
    lexical form; pydantic would also advertise a JSON number for decimals on input, which is
    the float this API refuses (`jsonrules.exact_decimals`)."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": f"^{DECIMAL_TEXT.pattern}$",
            "examples": ["12.50"],
        }


class JsonBody(Generic[T]):
    """A request body of type `model`: media type checked, each key once per object, JSON
    parsed and validated in one pass by pydantic-core with decimals read exactly (`jsonrules`),
    every bad field reported by its JSON path."""

    def __init__(self, model: type[T]) -> None:
        self.model = model
        self._validator = SchemaValidator(exact_decimals(TypeAdapter(model).core_schema))

    def read(self) -> T:
        data = json_request_data()
        try:
            body: T = self._validator.validate_json(data)
            return body
        except ValidationError as exc:
            for error in exc.errors():
                if error["type"] == "json_invalid":
                    raise InvalidJson(f"the body is not valid JSON: {error['msg']}") from None
            raise InvalidFields.from_validation(exc) from None

    @property
    def component(self) -> str:
        return self.model.__name__


def json_request_data() -> bytes:
    """The request's body, once its media type is JSON (or a `+json` one), its size and
    nesting are within the door's limits and no object in it names a key twice."""
    mimetype = request.mimetype
    if not (
        mimetype == JSON or (mimetype.startswith("application/") and mimetype.endswith("+json"))
    ):
        raise UnsupportedMediaType(
            f"send the body as {JSON}, not {mimetype or 'without a Content-Type'}"
        )
    data = request.get_data(cache=True)
    check_json_body(data)
    check_unique_keys(data)
    return data


# Every class the REST door documents; their nested classes come along as components too.
DOCUMENTED: tuple[type[Any], ...] = (
    TransferRequest,
    TransferResult,
    VerificationRequest,
    AccountVerification,
    TransactionList,
    ClassificationRequest,
    Classification,
    ClassificationList,
    ShipmentOrder,
    Shipment,
    ShipmentList,
    EmployeeChangeBody,
    EmployeeChangeBatch,
    EmployeeChange,
    AcceptedChange,
    AcceptedChanges,
    SyncJobList,
    JobRun,
    JobRunList,
    RunRequest,
    Delivery,
    DeliveryList,
    ReplayRequest,
    ReplayResult,
    AuditList,
    Problem,
)


def component_schemas() -> dict[str, Any]:
    """The OpenAPI `components.schemas` of every documented class, keyed by class name."""
    keyed, definitions = TypeAdapter.json_schemas(
        [(model.__name__, "validation", TypeAdapter(model)) for model in DOCUMENTED],
        ref_template=REF_TEMPLATE,
        schema_generator=CanonicalJsonSchema,
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    for (name, _mode), schema in keyed.items():
        if schema.get("$ref") != REF_TEMPLATE.format(model=name):
            schemas[name] = schema
    return schemas
