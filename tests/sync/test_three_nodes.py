"""Several nodes: one fires each schedule, every node drains the runs it fires.

End to end, three nodes on one PostgreSQL: one fires the payroll schedule, all three drain its
runs, and the one firing it is SIGKILLed in the middle of the queue. Another node takes the
schedule over; payroll's own records show each of the 5,000 changes applied once, and sent twice
only if the dead node had it in flight; the outbox holds no dead letter; `job_runs` shows at
least two nodes delivering and no period in which the schedule fired twice. Before it, the
pieces in one process on SQLite: periods on a grid, joining, following while another leads.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
import requests
from pydantic import ValidationError
from sqlalchemy import Engine, func, insert, select

from bridge.app import Bridge, create_app
from bridge.domain import EmployeeChange
from bridge.mapping import Mappings, canonical_json
from bridge.services.hr import HrService
from bridge.settings import Settings
from bridge.sims import controls
from bridge.store.db import make_engine, migrate
from bridge.store.employees import EmployeeStore
from bridge.store.tables import job_runs, outbox
from bridge.sync.joining import Joiner
from bridge.sync.leader import Leadership
from bridge.sync.triggers import schedule_trigger
from tests.common.live import free_port

BRIDGE = Path(sys.executable).with_name("bridge")
EMPLOYEES = Path(__file__).parents[1] / "data" / "sync" / "node_employees.json"
NODES = 3
CHANGES = 5000
PERIOD = 2  # seconds: the payroll schedule is "every 2s"
LEASE = 10  # seconds a node holds its claimed rows: far longer than a batch takes here
POLL = 0.5  # seconds between a node's looks for the scheduler lock and for runs to join
DEADLINE = 180.0  # seconds to wait for a step before the test fails (never reached when sound)


# -- the pieces, in one process on SQLite --------------------------------------------------------


def test_a_period_fires_on_a_grid_counted_from_the_epoch_not_from_the_start() -> None:
    trigger = schedule_trigger("every 5s")
    started = datetime(2026, 3, 1, 12, 0, 3, 250_000, tzinfo=UTC)

    first = trigger.get_next_fire_time(None, started)

    assert first == datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    assert trigger.get_next_fire_time(first, first) == datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["every 5s", "every 2m", "every 1h", "*/15 * * * *"])
def test_a_schedule_is_a_crontab_or_a_period(expression: str) -> None:
    assert Settings(payroll_schedule=expression).payroll_schedule == expression


@pytest.mark.parametrize("expression", ["every 0s", "every 5", "every 5 days", "*/61 * * * *"])
def test_a_schedule_that_is_neither_is_refused(expression: str) -> None:
    with pytest.raises(ValidationError, match="payroll_schedule"):
        Settings(payroll_schedule=expression)


@pytest.fixture
def bridge(sqlite_url: str) -> Iterator[Bridge]:
    built = create_app(Settings(database_url=sqlite_url, simulators=False, scheduler=False))
    yield built
    built.close()


def _scheduled_run(bridge: Bridge, node: str, *, ago: float = 0, ended: bool = False) -> int:
    """A run of payroll as a scheduler fires it: by `node`, `ago` seconds ago."""
    started = datetime.now(UTC) - timedelta(seconds=ago)
    with bridge.engine.begin() as connection:
        result = connection.execute(
            insert(job_runs).values(
                job="payroll",
                trigger="schedule",
                node=node,
                started_at=started,
                ended_at=started if ended else None,
                claimed=0,
                delivered=0,
                retried=0,
                dead=0,
            )
        )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def _joins(bridge: Bridge, *, ended: int) -> list[tuple[str, str]]:
    """(job, node) of the joined runs, once `ended` of them have ended."""

    def joined() -> list[dict[str, object]]:
        with bridge.engine.connect() as connection:
            rows = connection.execute(select(job_runs).where(job_runs.c.trigger == "join"))
            return [dict(row._mapping) for row in rows]

    _wait(
        f"{ended} joined runs end",
        lambda: sum(r["ended_at"] is not None for r in joined()) >= ended,
    )
    return [(str(r["job"]), str(r["node"])) for r in joined()]


def test_a_node_joins_each_open_scheduled_run_of_another_node_once(
    bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.sync.joining")
    _scheduled_run(bridge, "gone:1", ago=60)  # left open before this node came up
    joiner = Joiner(bridge.sync)
    _scheduled_run(bridge, "other:2", ended=True)  # over: nothing left to help with
    _scheduled_run(bridge, bridge.sync.node)  # this process's own
    first = _scheduled_run(bridge, "other:2")

    joiner.follow()
    joiner.follow()
    assert _joins(bridge, ended=1) == [("payroll", bridge.sync.node)]
    second = _scheduled_run(bridge, "other:2")
    joiner.follow()
    assert len(_joins(bridge, ended=2)) == 2
    joiner.stop()

    joined = [r.args[0] for r in caplog.records if r.msg.startswith("joining")]  # type: ignore[index]
    assert joined == [first, second]


class _Follower:
    """Counts the polls at which the process followed."""

    def __init__(self) -> None:
        self.follows = 0
        self.stopped = False

    def follow(self) -> None:
        self.follows += 1

    def stop(self) -> None:
        self.stopped = True


def test_a_process_follows_while_another_leads_and_stops_following_when_it_leads(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url)
    first, second = _Follower(), _Follower()
    leader = Leadership(engine, lambda: None, lambda: None, poll=0.05, follower=first)
    leader.start()
    _wait("the first process leads", lambda: leader.leading)
    other = Leadership(engine, lambda: None, lambda: None, poll=0.05, follower=second)
    other.start()
    _wait("the second process follows", lambda: second.follows >= 3)

    leader.stop()
    _wait("the second process leads", lambda: other.leading)
    follows = second.follows
    time.sleep(0.2)  # a few polls as the leader
    other.stop()

    assert (first.follows, first.stopped, second.stopped) == (0, True, True)
    assert second.follows == follows
    engine.dispose()


@dataclass
class Node:
    """One `bridge serve` (a gunicorn master and its worker) in its own process group."""

    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def hosts(self, name: str) -> bool:
        """Whether `name` ("host:pid", as in job_runs and claims) is a process of this node."""
        try:
            return os.getpgid(int(name.rsplit(":", 1)[1])) == self.process.pid
        except ProcessLookupError:
            return False

    def send(self, number: int) -> None:
        os.killpg(self.process.pid, number)

    def kill(self) -> None:
        self.send(signal.SIGKILL)
        self.process.wait(timeout=30)


@dataclass
class Cluster:
    nodes: list[Node]
    engine: Engine
    first_run: int  # job_runs ids above this one are this cluster's

    def logs(self) -> str:
        return "\n".join(f"--- {n.log}\n{n.log.read_text()[-3000:]}" for n in self.nodes)


def _start(directory: Path, database_url: str) -> Node:
    directory.mkdir()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")},
        "BRIDGE_DATABASE_URL": database_url,
        "BRIDGE_PORT": str(port),
        "BRIDGE_WORKERS": "1",
        "BRIDGE_SCHEDULER": "true",
        "BRIDGE_SCHEDULER_POLL": str(POLL),
        "BRIDGE_PAYROLL_SCHEDULE": f"every {PERIOD}s",
        "BRIDGE_SYNC_LEASE": str(LEASE),
    }
    log = directory / "bridge.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BRIDGE), "serve"],
            cwd=directory,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL takes master and worker
        )
    return Node(process, f"http://127.0.0.1:{port}", log)


def _answers(node: Node) -> bool:
    if node.process.poll() is not None:
        pytest.fail(f"bridge serve exited ({node.process.returncode}):\n{node.log.read_text()}")
    try:
        return requests.get(f"{node.base}/healthz", timeout=2).status_code < 500
    except requests.ConnectionError:
        return False


def _wait(what: str, condition: Callable[[], object], cluster: Cluster | None = None) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}\n{cluster.logs() if cluster else ''}")
        time.sleep(0.1)


@pytest.fixture
def cluster(postgres_url: str, tmp_path: Path) -> Iterator[Cluster]:
    engine = make_engine(postgres_url)
    migrate(engine)  # once, before three nodes would race to create the schema
    with engine.connect() as connection:
        first_run = connection.execute(select(func.coalesce(func.max(job_runs.c.id), 0))).scalar()
    nodes = [_start(tmp_path / f"node{n}", postgres_url) for n in range(NODES)]
    built = Cluster(nodes, engine, int(first_run or 0))
    try:
        for node in nodes:
            _wait(f"{node.base} answers", partial(_answers, node), built)
        yield built
    finally:
        # Killed, not stopped: a node keeps nothing outside the database, and a graceful stop
        # would only wait out the keep-alive connections of its zeep clients.
        for node in nodes:
            if node.process.poll() is None:
                node.kill()
        engine.dispose()


def _changes(tag: str) -> list[EmployeeChange]:
    employees = json.loads(EMPLOYEES.read_text())
    return [
        canonical_json.loads(
            EmployeeChange,
            json.dumps(
                {
                    **employees[n % len(employees)],
                    "record_id": f"{tag}-{n:05d}",
                    "employee_no": f"{tag}{n:05d}",
                }
            ),
        )
        for n in range(CHANGES)
    ]


def _runs(cluster: Cluster) -> list[dict[str, object]]:
    """This cluster's payroll runs, oldest first."""
    with cluster.engine.connect() as connection:
        rows = connection.execute(
            select(job_runs)
            .where(job_runs.c.id > cluster.first_run, job_runs.c.job == "payroll")
            .order_by(job_runs.c.id)
        ).all()
    return [dict(row._mapping) for row in rows]


def _statuses(engine: Engine, tag: str) -> Counter[str]:
    """How many of this test's outbox rows are in each state."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.status, func.count())
            .where(outbox.c.topic == "payroll", outbox.c.key.startswith(f"{tag}-"))
            .group_by(outbox.c.status)
        ).all()
    return Counter({str(status): int(count) for status, count in rows})


def _held_by(engine: Engine, tag: str, node: str) -> set[str]:
    """The keys of this test's rows that `node` holds claimed."""
    with engine.connect() as connection:
        return set(
            connection.execute(
                select(outbox.c.key).where(
                    outbox.c.topic == "payroll",
                    outbox.c.key.startswith(f"{tag}-"),
                    outbox.c.status == "claimed",
                    outbox.c.claimed_by.startswith(f"{node}:"),
                )
            ).scalars()
        )


def _sends(engine: Engine, tag: str) -> Counter[str]:
    """How many times payroll received each of this test's records (first sends and repeats),
    from payroll's own records: its batch calls, and the records each batch id carried."""
    payroll = controls(engine)["payroll"]
    batches = {
        effect["idempotency_key"]: [
            record["RecordId"] for record in effect["request"]["Batch"]["Record"]
        ]
        for effect in payroll.effects(scope="batch")
    }
    sends: Counter[str] = Counter()
    for call in payroll.calls("SubmitPayrollBatch"):
        records = batches.get(call["idempotency_key"], [])
        sends.update(r for r in records if r.startswith(f"{tag}-"))
    return sends


def _fired_in(run: dict[str, object]) -> int:
    """The schedule period (counted from the epoch, like the trigger) a run started in."""
    started = run["started_at"]
    assert isinstance(started, datetime)
    return int(started.timestamp()) // PERIOD


@pytest.mark.postgres
@pytest.mark.slow
def test_three_nodes_drain_one_queue_and_survive_the_death_of_the_scheduling_node(
    cluster: Cluster, mappings: Mappings
) -> None:
    engine, tag = cluster.engine, f"N{uuid.uuid4().hex[:4].upper()}"
    _wait(
        "a node fires the payroll schedule",
        lambda: any(r["trigger"] == "schedule" for r in _runs(cluster)),
        cluster,
    )
    leader = next(str(r["node"]) for r in _runs(cluster) if r["trigger"] == "schedule")
    (victim,) = [node for node in cluster.nodes if node.hosts(leader)]
    # The first batches take a little longer, so that the kill lands with a batch in flight.
    controls(engine)["payroll"].inject(
        "latency", count=2 * NODES, seconds=0.5, operation="SubmitPayrollBatch"
    )

    HrService(EmployeeStore(engine), mappings.currencies).record_changes(_changes(tag))

    def frozen_mid_batch() -> bool:
        """Stop the node once it holds a batch after some were delivered; go on if the batch
        was done by the time the node stopped."""
        if not (_statuses(engine, tag)["delivered"] > 0 and _held_by(engine, tag, leader)):
            return False
        victim.send(signal.SIGSTOP)
        if _held_by(engine, tag, leader):
            return True
        victim.send(signal.SIGCONT)
        return False

    _wait("the scheduling node stops with a batch in flight", frozen_mid_batch, cluster)
    victim.kill()
    stranded = _held_by(engine, tag, leader)
    assert stranded, "the kill must land while the node holds a claimed batch"
    assert _statuses(engine, tag)["delivered"] < CHANGES, "the kill must land mid-run"

    _wait(
        "every change is delivered or dead",
        lambda: sum(_statuses(engine, tag)[s] for s in ("delivered", "dead")) == CHANGES,
        cluster,
    )
    _wait(
        "another node fires the schedule",
        lambda: any(r["trigger"] == "schedule" and r["node"] != leader for r in _runs(cluster)),
        cluster,
    )

    assert _statuses(engine, tag) == {"delivered": CHANGES}
    keys = {f"{tag}-{n:05d}" for n in range(CHANGES)}
    applied = [
        effect["idempotency_key"]
        for effect in controls(engine)["payroll"].effects(scope="record")
        if effect["idempotency_key"].startswith(f"{tag}-")
    ]
    assert len(applied) == CHANGES
    assert set(applied) == keys
    sends = _sends(engine, tag)
    assert set(sends) == keys
    assert {key for key, times in sends.items() if times > 1} <= stranded

    runs = _runs(cluster)
    scheduled = [run for run in runs if run["trigger"] == "schedule"]
    periods = Counter(_fired_in(run) for run in scheduled)
    assert max(periods.values()) == 1, f"a schedule fired twice in one period: {periods}"
    delivering = {str(run["node"]) for run in runs if int(str(run["delivered"])) > 0}
    assert len(delivering) >= 2, f"only {delivering} delivered"
    assert any(run["trigger"] == "join" and run["delivered"] for run in runs)
