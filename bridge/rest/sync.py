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

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

import orjson
from flask import Response, request, url_for
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag
from pydantic import Field

from bridge.app import schedules
from bridge.domain.errors import Conflict, MappingError, NotFound
from bridge.observability.metrics import breaker_states
from bridge.rest.audit import record_admin_action
from bridge.rest.auth import protect
from bridge.rest.cursor import one_page
from bridge.rest.idempotency import idempotent
from bridge.rest.openapi import request_body, responses, success
from bridge.rest.params import MAX_ID, Parameters
from bridge.rest.schemas import (
    Delivery,
    DeliveryList,
    DeliveryStatus,
    JobRun,
    JobRunList,
    JsonBody,
    QueueDepth,
    ReplayRequest,
    ReplayResult,
    RunRequest,
    SyncJob,
    SyncJobList,
)
from bridge.rest.wire import bridge, canonical_response
from bridge.sync import status
from bridge.sync.engine import Deliverer
from bridge.sync.outbox import DEAD

T = TypeVar("T")

sync = APIBlueprint(
    "sync",
    __name__,
    url_prefix="/api/v1",
    abp_tags=[
        Tag(
            name="sync",
            description="Scheduled sync jobs, their queues and dead letters (operators only)",
        )
    ],
)

# The scope an operator's credentials need for every route here.
ADMIN_SCOPE = "sync:admin"
RUN_REQUEST = JsonBody(RunRequest)
REPLAY_REQUEST = JsonBody(ReplayRequest)
LAST_RUNS = 5  # per job in the job list
JOB_NAME = r"^[a-z][a-z_]{0,31}$"


class JobPath(Parameters):
    job: str = Field(pattern=JOB_NAME, description="The job: payroll, shipments, classification")


class RunPath(JobPath):
    run_id: int = Field(ge=1, le=MAX_ID, description="The run's id")


class DeliveryPath(Parameters):
    id: int = Field(ge=1, le=MAX_ID, description="The delivery's id")


class RunsQuery(Parameters):
    limit: int = Field(default=20, ge=1, le=200, description="Runs per page")
    cursor: str | None = Field(
        default=None, max_length=200, description="The `next_cursor` of the previous page"
    )


class DeliveriesQuery(Parameters):
    status: DeliveryStatus | None = Field(
        default=None, description="Only deliveries in this state; `dead` for the dead letters"
    )
    job: str | None = Field(default=None, pattern=JOB_NAME, description="Only this job's")
    limit: int = Field(default=50, ge=1, le=500, description="Deliveries per page")
    cursor: str | None = Field(
        default=None, max_length=200, description="The `next_cursor` of the previous page"
    )
    include: Literal["payload"] | None = Field(
        default=None,
        description="`payload` adds each delivery's message (personal data: ask only when needed)",
    )


class DeliveryQuery(Parameters):
    include: Literal["payload"] | None = Field(
        default=None, description="`payload` adds the delivery's message"
    )


# -- jobs ------------------------------------------------------------------------------------------


@sync.get(
    "/sync/jobs",
    operation_id="listSyncJobs",
    summary="List the sync jobs",
    description="Every job this bridge runs: its schedule (a crontab in UTC, or every "
    "<n>s|m|h), whether this node schedules it, its queue by state, its upstream's circuit "
    "breaker and its last runs.",
    # flask-openapi3 documents a 400 on every operation; ours says it is a problem.
    responses=responses(200, success("SyncJobList", "The jobs"), problems=(400,)),
)
@protect(ADMIN_SCOPE, "private")
def list_jobs() -> Response:
    depth = bridge().sync.outbox.depth()
    return canonical_response(
        SyncJobList(jobs=[_job(name, depth) for name in bridge().sync.deliverers])
    )


@sync.get(
    "/sync/jobs/<job>",
    operation_id="getSyncJob",
    summary="Read a sync job",
    description="The job's schedule, queue, circuit breaker and last runs.",
    responses=responses(200, success("SyncJob", "The job"), problems=(400, 404)),
)
@protect(ADMIN_SCOPE, "private")
def get_job(path: JobPath) -> Response:
    _deliverer(path.job)
    return canonical_response(_job(path.job, bridge().sync.outbox.depth()))


@sync.get(
    "/sync/jobs/<job>/runs",
    operation_id="listSyncJobRuns",
    summary="List a job's runs",
    description="Newest first, at most `limit` per page; pass `next_cursor` as `cursor` for "
    "the next page (null on the last).",
    responses=responses(200, success("JobRunList", "One page of runs"), problems=(400, 404)),
)
@protect(ADMIN_SCOPE, "private")
def list_job_runs(path: JobPath, query: RunsQuery) -> Response:
    """Keyset paging on the run id: runs started meanwhile do not shift the pages."""
    _deliverer(path.job)
    before = None if query.cursor is None else _decode_cursor("runs", query.cursor)
    rows, next_cursor = one_page(
        lambda limit: status.last_runs(
            bridge().engine, job=path.job, limit=limit, before_id=before
        ),
        query.limit,
        lambda last: _encode_cursor("runs", int(last["id"])),
    )
    return canonical_response(
        JobRunList(runs=[_job_run(row) for row in rows], next_cursor=next_cursor)
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
    responses=responses(
        201,
        success("JobRun", "The run, ended", {"Location": "Where the run can be read again"}),
        problems=(400, 404, 409, 415),
    ),
    openapi_extensions={
        "requestBody": {
            **request_body(RUN_REQUEST, "Optional: how many batches at most")["requestBody"],
            "required": False,
        }
    },
)
@idempotent
@protect(ADMIN_SCOPE, "private")
def run_job(path: JobPath) -> Response:
    _deliverer(path.job)
    body = _optional_body(RUN_REQUEST, RunRequest())
    report = bridge().sync.run(path.job, trigger="api", max_batches=body.batches)
    run = _job_run(_found(status.job_run(bridge().engine, cast(int, report.run_id)), "run"))
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
    responses=responses(200, success("JobRun", "The run"), problems=(400, 404)),
)
@protect(ADMIN_SCOPE, "private")
def get_job_run(path: RunPath) -> Response:
    row = status.job_run(bridge().engine, path.run_id)
    if row is None or row["job"] != path.job:
        raise NotFound(f"no run {path.run_id} of job {path.job!r}")
    return canonical_response(_job_run(row))


# -- deliveries ------------------------------------------------------------------------------------


@sync.get(
    "/sync/deliveries",
    operation_id="listDeliveries",
    summary="List deliveries (the outbox and its dead letters)",
    description="Oldest first, at most `limit` per page; pass `next_cursor` as `cursor` for "
    "the next page (null on the last). `status=dead` lists the dead letters, each with the "
    "reason in `last_error`.",
    responses=responses(200, success("DeliveryList", "One page of deliveries"), problems=(400,)),
)
@protect(ADMIN_SCOPE, "private")
def list_deliveries(query: DeliveriesQuery) -> Response:
    """Keyset paging on the delivery id: new deliveries do not shift the pages."""
    topics = None if query.job is None else [_topic(query.job, "job")]
    after = 0 if query.cursor is None else _decode_cursor("deliveries", query.cursor)
    rows, next_cursor = one_page(
        lambda limit: status.deliveries(
            bridge().engine,
            topics=topics,
            status=query.status,
            after_id=after,
            limit=limit,
            payload=query.include == "payload",
        ),
        query.limit,
        lambda last: _encode_cursor("deliveries", int(last["id"])),
    )
    jobs = _jobs_by_topic()
    page = [_delivery(row, jobs) for row in rows]
    return canonical_response(DeliveryList(deliveries=page, next_cursor=next_cursor))


@sync.get(
    "/sync/deliveries/<int:id>",
    operation_id="getDelivery",
    summary="Read a delivery",
    responses=responses(200, success("Delivery", "The delivery"), problems=(400, 404)),
)
@protect(ADMIN_SCOPE, "private")
def get_delivery(path: DeliveryPath, query: DeliveryQuery) -> Response:
    row = status.delivery(bridge().engine, path.id, payload=query.include == "payload")
    return canonical_response(_delivery(_found(row, f"delivery {path.id}"), _jobs_by_topic()))


@sync.post(
    "/sync/deliveries/<int:id>/replay",
    operation_id="replayDelivery",
    summary="Replay a dead letter",
    description="Puts the dead letter back in its queue (pending, attempts 0, due now) for the "
    "job's next run, and answers the delivery as it now is. A delivery that is not dead is a "
    "409.",
    responses=responses(
        200, success("Delivery", "The delivery, back in the queue"), problems=(400, 404, 409)
    ),
)
@idempotent
@protect(ADMIN_SCOPE, "private")
def replay_delivery(path: DeliveryPath) -> Response:
    engine, outbox = bridge().engine, bridge().sync.outbox
    row = _found(status.delivery(engine, path.id), f"delivery {path.id}")
    if row["status"] != DEAD or outbox.replay(ids=[path.id]) == 0:
        now = _found(status.delivery(engine, path.id), f"delivery {path.id}")
        raise Conflict(
            f"delivery {path.id} is {now['status']}, not dead: only dead letters are replayed"
        )
    replayed = _found(status.delivery(engine, path.id), f"delivery {path.id}")
    record_admin_action("sync replay", resource_id=str(path.id), detail="replayed 1")
    return canonical_response(_delivery(replayed, _jobs_by_topic()))


@sync.post(
    "/sync/deliveries/replay",
    operation_id="replayDeliveries",
    summary="Replay dead letters",
    description="Puts every dead letter back in its queue, or only those of `job`, or only "
    "those among `ids`; without a body, all of them. Answers how many went back.",
    responses=responses(
        200, success("ReplayResult", "How many were replayed"), problems=(400, 415)
    ),
    openapi_extensions={
        "requestBody": {
            **request_body(REPLAY_REQUEST, "Optional: which dead letters")["requestBody"],
            "required": False,
        }
    },
)
@idempotent
@protect(ADMIN_SCOPE, "private")
def replay_deliveries() -> Response:
    body = _optional_body(REPLAY_REQUEST, ReplayRequest())
    topic = None if body.job is None else _topic(body.job, "job")
    count = bridge().sync.outbox.replay(topic=topic, ids=body.ids)
    record_admin_action(
        "sync replay", resource_id=body.job, detail=f"replayed {count}; ids {body.ids or 'all'}"
    )
    return canonical_response(ReplayResult(replayed=count))


# -- helpers ---------------------------------------------------------------------------------------


def _deliverer(job: str) -> Deliverer:
    found = bridge().sync.deliverers.get(job)
    if found is None:
        raise NotFound(f"no sync job {job!r} in this bridge (jobs: {', '.join(_job_names())})")
    return found


def _topic(job: str, parameter: str) -> str:
    found = bridge().sync.deliverers.get(job)
    if found is None:
        raise MappingError(parameter, f"a job of this bridge: {', '.join(_job_names())}", job)
    return found.topic


def _job_names() -> list[str]:
    return sorted(bridge().sync.deliverers)


def _jobs_by_topic() -> dict[str, str]:
    return {deliverer.topic: job for job, deliverer in bridge().sync.deliverers.items()}


def _job(name: str, depth: Mapping[str, Mapping[str, int]]) -> SyncJob:
    the = bridge()
    deliverer = the.sync.deliverers[name]
    counts = depth.get(deliverer.topic, {})
    return SyncJob(
        name=name,
        topic=deliverer.topic,
        upstream=deliverer.upstream,
        schedule=schedules(the.settings, [name])[0].crontab,
        scheduled=the.settings.scheduler,
        batch_size=deliverer.batch_size,
        # across every worker, as the dashboard shows it
        circuit=breaker_states(the.sync.breakers)[deliverer.upstream],
        running=name in the.sync.running,
        queue=QueueDepth(
            pending=counts.get("pending", 0),
            claimed=counts.get("claimed", 0),
            delivered=counts.get("delivered", 0),
            dead=counts.get("dead", 0),
        ),
        last_runs=[
            _job_run(row) for row in status.last_runs(the.engine, job=name, limit=LAST_RUNS)
        ],
    )


def _job_run(row: Mapping[str, Any]) -> JobRun:
    return JobRun(
        id=row["id"],
        job=row["job"],
        trigger=row["trigger"],
        node=row["node"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        claimed=row["claimed"],
        delivered=row["delivered"],
        retried=row["retried"],
        dead=row["dead"],
        error=row["error"],
    )


def _delivery(row: Mapping[str, Any], jobs: Mapping[str, str]) -> Delivery:
    payload = row.get("payload")
    return Delivery(
        id=row["id"],
        job=jobs.get(row["topic"]),
        topic=row["topic"],
        key=row["key"],
        status=row["status"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        correlation_id=row["correlation_id"],
        created_at=row["created_at"],
        available_at=row["available_at"],
        delivered_at=row["delivered_at"],
        payload=None if payload is None else orjson.loads(payload),
    )


def _found(row: T | None, what: str) -> T:
    if row is None:
        raise NotFound(f"no {what}")
    return row


def _optional_body(body: JsonBody[T], default: T) -> T:
    """An optional request body: none at all means `default`."""
    if not request.get_data(cache=True):
        return default
    return body.read()


_CURSOR_VERSION = 1
_CURSOR_EXPECTED = "the next_cursor of a previous page of this list"


def _encode_cursor(kind: str, last_id: int) -> str:
    payload = orjson.dumps({"v": _CURSOR_VERSION, "k": kind, "i": last_id})
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def _decode_cursor(kind: str, cursor: str) -> int:
    """The id a cursor of this kind of list continues from; a 400 naming `cursor` otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise MappingError("cursor", _CURSOR_EXPECTED, cursor[:80]) from None
    last_id = payload.get("i") if isinstance(payload, dict) else None
    if (
        not isinstance(payload, dict)
        or payload.get("v") != _CURSOR_VERSION
        or payload.get("k") != kind
        or not isinstance(last_id, int)
        or isinstance(last_id, bool)
        or last_id < 1
    ):
        raise MappingError("cursor", _CURSOR_EXPECTED, cursor[:80])
    return last_id
