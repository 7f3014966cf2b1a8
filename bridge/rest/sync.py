"""`/api/v1/sync`: the sync jobs and their deliveries, for operators. What `bridge sync run`,
`bridge sync status` and `bridge sync replay` do on a node's command line, over HTTP:

    GET  /sync/jobs                        every job: schedule, queue depth, circuit, last runs
    GET  /sync/jobs/{job}                  one job
    GET  /sync/jobs/{job}/runs             its runs, newest first, a page at a time
    POST /sync/jobs/{job}/runs             run it now; answers the run once it has ended (201)
    GET  /sync/jobs/{job}/runs/{run_id}    one run
    GET  /sync/deliveries                  the outbox, by status and job, a page at a time
    GET  /sync/deliveries/{id}             one delivery
    POST /sync/deliveries/{id}/replay      a dead letter back to the queue (409 if not dead)
    POST /sync/deliveries/replay           every dead letter (of a job, among ids); the count

A run asked for here runs in the request, as `bridge sync run` does in its process, under the
trigger `api`; `batches` bounds it. One run of a job at a time per process: another one, from
here or from the scheduler, is a 409 while it lasts (`SyncEngine.run`). Replaying a delivery that
is not dead is a 409 too: the request is fine, the delivery's state is what refuses it.

Deliveries carry personal data (salaries, bank accounts), so their payload is shown only when
asked for (`include=payload`). These are admin endpoints: every route is for private clients
holding `sync:admin`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import orjson
from flask import Response, request, url_for
from pydantic import Field

from bridge.domain.errors import Conflict, MappingError, NotFound
from bridge.rest import cursor
from bridge.rest.audit import record_admin_action
from bridge.rest.auth import protect
from bridge.rest.blueprint import resource
from bridge.rest.idempotency import idempotent
from bridge.rest.openapi import answers, request_body
from bridge.rest.params import MAX_ID, Parameters, cursor_parameter, limit_parameter
from bridge.rest.schemas import (
    Delivery,
    DeliveryList,
    DeliveryStatus,
    JobRun,
    JobRunList,
    JsonBody,
    ReplayRequest,
    ReplayResult,
    RunRequest,
    SyncJob,
    SyncJobList,
)
from bridge.rest.wire import bridge, canonical_response
from bridge.sync import status
from bridge.sync.outbox import DEAD

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")
W = TypeVar("W", bound="DataclassInstance")

sync = resource(
    "sync", __name__, "Scheduled sync jobs, their queues and dead letters (operators only)"
)

# The scope an operator's credentials need for every route here.
ADMIN_SCOPE = "sync:admin"
# The access of every route here: private clients holding `ADMIN_SCOPE`.
admin_only = protect(ADMIN_SCOPE, "private")
RUN_REQUEST = JsonBody(RunRequest)
REPLAY_REQUEST = JsonBody(ReplayRequest)
JOB_NAME = r"^[a-z][a-z_]{0,31}$"
RUN_LOCATION = {"Location": "Where the run can be read again"}


class JobPath(Parameters):
    job: str = Field(pattern=JOB_NAME, description="The job: payroll, shipments, classification")


class RunPath(JobPath):
    run_id: int = Field(ge=1, le=MAX_ID, description="The run's id")


class DeliveryPath(Parameters):
    id: int = Field(ge=1, le=MAX_ID, description="The delivery's id")


class RunsQuery(Parameters):
    limit: int = limit_parameter(20, 200, "Runs")
    cursor: str | None = cursor_parameter()


class DeliveriesQuery(Parameters):
    status: DeliveryStatus | None = Field(
        default=None, description="Only deliveries in this state; `dead` for the dead letters"
    )
    job: str | None = Field(default=None, pattern=JOB_NAME, description="Only this job's")
    limit: int = limit_parameter(50, 500, "Deliveries")
    cursor: str | None = cursor_parameter()
    include: Literal["payload"] | None = Field(
        default=None,
        description="`payload` adds each delivery's message (personal data: ask only when needed)",
    )


class DeliveryQuery(Parameters):
    include: Literal["payload"] | None = Field(
        default=None, description="`payload` adds the delivery's message"
    )


def _optional(body: JsonBody[Any], description: str) -> dict[str, Any]:
    """The document of a request body that may be left out (`_optional_body`)."""
    return {"requestBody": {**request_body(body, description)["requestBody"], "required": False}}


# -- jobs ------------------------------------------------------------------------------------------


@sync.get(
    "/sync/jobs",
    operation_id="listSyncJobs",
    summary="List the sync jobs",
    description="Every job this bridge runs: its schedule (a crontab in UTC, or every "
    "<n>s|m|h), whether this node schedules it, its queue by state, its upstream's circuit "
    "breaker and its last runs.",
    responses=answers("SyncJobList", "The jobs"),
)
@admin_only
def list_jobs() -> Response:
    return canonical_response(SyncJobList(jobs=[_job(job) for job in _status().jobs()]))


@sync.get(
    "/sync/jobs/<job>",
    operation_id="getSyncJob",
    summary="Read a sync job",
    description="The job's schedule, queue, circuit breaker and last runs.",
    responses=answers("SyncJob", "The job", 404),
)
@admin_only
def get_job(path: JobPath) -> Response:
    found = _status().job(path.job)
    if found is None:
        raise _no_job(path.job)
    return canonical_response(_job(found))


@sync.get(
    "/sync/jobs/<job>/runs",
    operation_id="listSyncJobRuns",
    summary="List a job's runs",
    description="Newest first, at most `limit` per page; pass `next_cursor` as `cursor` for "
    "the next page (null on the last).",
    responses=answers("JobRunList", "One page of runs", 404),
)
@admin_only
def list_job_runs(path: JobPath, query: RunsQuery) -> Response:
    """Keyset paging on the run id: runs started meanwhile do not shift the pages."""
    read = _status()
    if read.topic_of(path.job) is None:
        raise _no_job(path.job)
    before = None if query.cursor is None else cursor.decode_id_after(query.cursor)
    runs, next_cursor = cursor.one_page(
        lambda limit: read.runs(job=path.job, limit=limit, before_id=before),
        query.limit,
        lambda last: cursor.encode_after(last.started_at, str(last.id)),
    )
    return canonical_response(
        JobRunList(runs=[_wire(JobRun, run) for run in runs], next_cursor=next_cursor)
    )


@sync.post(
    "/sync/jobs/<job>/runs",
    operation_id="runSyncJob",
    summary="Run a sync job now",
    description="Runs the job in this request, as `bridge sync run` does, and answers the run "
    "once it has ended: claimed, delivered, retried (transient failures, tried again later) "
    "and dead (dead letters); `error` says why it stopped early. Without a body, or without "
    "`batches`, the run drains the queue; `batches` stops it after that many. A run of the "
    "job already going in this process is a 409.",
    responses=answers("JobRun", "The run, ended", 404, 409, 415, status=201, headers=RUN_LOCATION),
    openapi_extensions=_optional(RUN_REQUEST, "Optional: how many batches at most"),
)
@idempotent
@admin_only
def run_job(path: JobPath) -> Response:
    read = _status()
    if read.topic_of(path.job) is None:
        raise _no_job(path.job)
    body = _optional_body(RUN_REQUEST, RunRequest())
    report = bridge().sync.run(path.job, trigger="api", max_batches=body.batches)
    run = _wire(JobRun, _found(read.run(cast(int, report.run_id)), "no run"))
    record_admin_action(
        "sync run",
        resource_id=path.job,
        detail=f"run {run.id}: claimed {run.claimed}, delivered {run.delivered}, "
        f"retried {run.retried}, dead {run.dead}",
    )
    location = url_for("sync.get_job_run", job=path.job, run_id=run.id)
    return canonical_response(run, status=201, headers={"Location": location})


@sync.get(
    "/sync/jobs/<job>/runs/<int:run_id>",
    operation_id="getSyncJobRun",
    summary="Read one run of a job",
    responses=answers("JobRun", "The run", 404),
)
@admin_only
def get_job_run(path: RunPath) -> Response:
    run = _status().run(path.run_id)
    if run is None or run.job != path.job:
        raise NotFound(f"no run {path.run_id} of job {path.job!r}")
    return canonical_response(_wire(JobRun, run))


# -- deliveries ------------------------------------------------------------------------------------


@sync.get(
    "/sync/deliveries",
    operation_id="listDeliveries",
    summary="List deliveries (the outbox and its dead letters)",
    description="Oldest first, at most `limit` per page; pass `next_cursor` as `cursor` for "
    "the next page (null on the last). `status=dead` lists the dead letters, each with the "
    "reason in `last_error`.",
    responses=answers("DeliveryList", "One page of deliveries"),
)
@admin_only
def list_deliveries(query: DeliveriesQuery) -> Response:
    """Keyset paging on the delivery id: new deliveries do not shift the pages."""
    read = _status()
    job = None if query.job is None else _known_job(query.job, "job")
    after = 0 if query.cursor is None else cursor.decode_id_after(query.cursor)
    deliveries, next_cursor = cursor.one_page(
        lambda limit: read.deliveries(
            job=job,
            status=query.status,
            after_id=after,
            limit=limit,
            payload=query.include == "payload",
        ),
        query.limit,
        lambda last: cursor.encode_after(last.created_at, str(last.id)),
    )
    page = [_delivery(delivery) for delivery in deliveries]
    return canonical_response(DeliveryList(deliveries=page, next_cursor=next_cursor))


@sync.get(
    "/sync/deliveries/<int:id>",
    operation_id="getDelivery",
    summary="Read a delivery",
    responses=answers("Delivery", "The delivery", 404),
)
@admin_only
def get_delivery(path: DeliveryPath, query: DeliveryQuery) -> Response:
    found = _status().delivery(path.id, payload=query.include == "payload")
    return canonical_response(_delivery(_found(found, f"no delivery {path.id}")))


@sync.post(
    "/sync/deliveries/<int:id>/replay",
    operation_id="replayDelivery",
    summary="Replay a dead letter",
    description="Puts the dead letter back in its queue (pending, attempts 0, due now) for the "
    "job's next run, and answers the delivery as it now is. A delivery that is not dead is a "
    "409.",
    responses=answers("Delivery", "The delivery, back in the queue", 404, 409),
)
@idempotent
@admin_only
def replay_delivery(path: DeliveryPath) -> Response:
    read, missing = _status(), f"no delivery {path.id}"
    dead = _found(read.delivery(path.id), missing).status == DEAD
    if not dead or bridge().sync.outbox.replay(ids=[path.id]) == 0:
        now = _found(read.delivery(path.id), missing)
        raise Conflict(
            f"delivery {path.id} is {now.status}, not dead: only dead letters are replayed"
        )
    replayed = _found(read.delivery(path.id), missing)
    record_admin_action("sync replay", resource_id=str(path.id), detail="replayed 1")
    return canonical_response(_delivery(replayed))


@sync.post(
    "/sync/deliveries/replay",
    operation_id="replayDeliveries",
    summary="Replay dead letters",
    description="Puts every dead letter back in its queue, or only those of `job`, or only "
    "those among `ids`; without a body, all of them. Answers how many went back.",
    responses=answers("ReplayResult", "How many were replayed", 415),
    openapi_extensions=_optional(REPLAY_REQUEST, "Optional: which dead letters"),
)
@idempotent
@admin_only
def replay_deliveries() -> Response:
    body = _optional_body(REPLAY_REQUEST, ReplayRequest())
    topic = None if body.job is None else _status().topic_of(_known_job(body.job, "job"))
    count = bridge().sync.outbox.replay(topic=topic, ids=body.ids)
    record_admin_action(
        "sync replay", resource_id=body.job, detail=f"replayed {count}; ids {body.ids or 'all'}"
    )
    return canonical_response(ReplayResult(replayed=count))


# -- helpers ---------------------------------------------------------------------------------------


def _status() -> status.SyncStatus:
    return bridge().sync_status


def _no_job(job: str) -> NotFound:
    return NotFound(
        f"no sync job {job!r} in this bridge (jobs: {', '.join(_status().job_names())})"
    )


def _known_job(job: str, parameter: str) -> str:
    """`job`, if this bridge has it; a 400 naming `parameter` otherwise."""
    names = _status().job_names()
    if job not in names:
        raise MappingError(parameter, f"a job of this bridge: {', '.join(names)}", job)
    return job


def _wire(wire: type[W], item: object, **given: Any) -> W:
    """The wire form of a read-model item (`bridge.sync.status`): each field the wire type
    names, copied from the item, unless `given`."""
    copied = {
        name.name: getattr(item, name.name)
        for name in dataclasses.fields(wire)
        if name.name not in given
    }
    return wire(**copied, **given)


def _job(job: status.JobStatus) -> SyncJob:
    return _wire(SyncJob, job, last_runs=[_wire(JobRun, run) for run in job.last_runs])


def _delivery(delivery: status.Delivery) -> Delivery:
    payload = None if delivery.payload is None else orjson.loads(delivery.payload)
    return _wire(Delivery, delivery, payload=payload)


def _found(item: T | None, missing: str) -> T:
    if item is None:
        raise NotFound(missing)
    return item


def _optional_body(body: JsonBody[T], default: T) -> T:
    """An optional request body: none at all means `default`."""
    if not request.get_data(cache=True):
        return default
    return body.read()
