"""Load benchmark: a mixed load against one bridge node and against two nodes sharing one
PostgreSQL database, and the ratio of the two measured in the same run.

    python bench/load.py [--seconds 10] [--connections 8] [--workers 2] [--rounds 2]
                         [--database postgresql://postgres@127.0.0.1:5432/postgres]
                         [--mix rest=1,soap=1,callback=1,shipment=1] [--targets 200]

The mix, each request with its own ids (the bridge deduplicates on them):
  rest       POST /api/v1/transfers, a partner bank's EUR 0.01 transfer (msg_id per request)
  soap       TransferFunds on /soap/banking, the same transfer over SOAP (MsgId per request)
  callback   UpdateDeliveryStatus on /soap/partner, the logistics partner reporting an event of
             one of --targets shipments ordered and booked before the timed phase; every event
             is new (its own EventTime), none a duplicate (the Ack's Duplicate flag is counted)
  shipment   POST /api/v1/shipments, our shop handing over an order (order_ref per request)
Callers are API clients made in the database beforehand, plan "internal" (no rate limit),
sending X-API-Key on REST and SOAP alike: a partner-tier bank, a private shop, and a
partner-tier client of the `logistics_partner` organisation.

Runs, each on a fresh PostgreSQL database (created and dropped here), each node `bridge serve`
(gunicorn, --workers processes of 8 threads) with the simulators in process and the scheduler
on (the nodes elect one leader between them):
  1 node    one wrk process with --connections connections
  2 nodes   two nodes on two ports, one wrk process per node with half the connections, run at
            the same time; their counts and rates are summed
Both runs use the same connections, duration, warm-up and wrk threads in all (one per CPU, at
most one per connection). They alternate --rounds times and the round with the median req/s is
reported, so that drift on a shared machine hits both alike.

Load: wrk, a native load generator; its CPU time is measured and printed, to show it is not the
bottleneck. wrk's own histogram mixes all request types (and adds coordinated-omission
corrections), so bench/load/mix.lua times each request itself: the request's id goes out as
X-Request-ID, the bridge echoes it, and the script matches each response to its request on
whatever connection. Percentiles are nearest-rank over the responses.

Afterwards every run checks its rows: each request answered 2xx has its transfer, shipment (and
outbox row) or delivery event stored, and nothing was stored that was not asked for (a request
still in flight when wrk stopped, or one that failed after storing, may have left its row).

This machine's cores are shared by the nodes, PostgreSQL and wrk: two nodes cannot scale 2x on
2 cores. The ratio is printed as measured, with the CPU count and where the CPU time went.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path

import psycopg
import requests
from psycopg import sql
from sqlalchemy import ColumnElement, Engine, make_url, or_, select

from bridge.security.clients import ClientRegistry
from bridge.settings import Settings
from bridge.store.db import make_engine, migrate
from bridge.store.tables import delivery_events, outbox, shipments, transfers

ROOT = Path(__file__).resolve().parents[1]

BIN = Path(sys.executable).parent
LOAD = ROOT / "bench" / "load"
SCRIPT = LOAD / "mix.lua"
KINDS = {  # mix name -> (label, id letter in mix.lua)
    "rest": ("REST transfer", "R"),
    "soap": ("SOAP transfer", "S"),
    "callback": ("partner callback", "C"),
    "shipment": ("shipment order", "H"),
}
CPUS = os.cpu_count() or 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # mix.lua's event-time origin
EVENT_STREAM_SECONDS = 256 * 100_000  # event seconds per stream in mix.lua
WARMUP_STREAM, TIMED_STREAM = 0, 2  # + node index: wrk processes' stream numbers
TARGET_PREFIX = "LT"


# -- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Node:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def start_node(workdir: Path, database_url: str, workers: int, keys_dir: Path) -> Node:
    """`bridge serve` on a free port, answering /readyz (the database is migrated already)."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "bridge.log"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")},
        "BRIDGE_PORT": str(port),
        "BRIDGE_WORKERS": str(workers),
        "BRIDGE_DATABASE_URL": database_url,
        "BRIDGE_SIMULATORS": "true",
        "BRIDGE_SCHEDULER": "true",
        "BRIDGE_TOKEN_KEYS_DIR": str(keys_dir),  # shared, as nodes of one cluster do
        "BRIDGE_LOG_LEVEL": "WARNING",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(BIN / "bridge"), "serve"],
            cwd=workdir,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    node = Node(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_ready(node)
    except BaseException:
        stop([node])
        raise
    return node


def _wait_until_ready(node: Node, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise SystemExit(
                f"bridge serve exited with {node.process.returncode}:\n{_tail(node.log)}"
            )
        with contextlib.suppress(requests.ConnectionError, requests.Timeout):  # still booting
            if requests.get(f"{node.url}/readyz", timeout=10).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"{node.url} was not ready in {timeout:.0f} s:\n{_tail(node.log)}")


def stop(nodes: Sequence[Node]) -> None:
    for node in nodes:
        node.process.terminate()
    for node in nodes:
        try:
            node.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def fresh_database(base_url: str, name: str) -> Iterator[str]:
    """A new database on the server of `base_url`, dropped afterwards (connections and all)."""
    server = make_url(base_url).set(drivername="postgresql")
    admin = server.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# -- callers and the shipments callbacks are about ----------------------------------------------


@dataclass(frozen=True)
class Callers:
    bank: str  # partner tier: transfers over REST and SOAP
    shop: str  # private tier: shipment orders
    partner: str  # partner tier, organisation = logistics_partner: delivery events
    operator: str  # private tier: runs the shipments job before the timed phase


def make_callers(engine: Engine) -> Callers:
    registry = ClientRegistry(engine)

    def key(name: str, tier: str, scopes: list[str], organisation: str | None = None) -> str:
        client, _ = registry.create(name, tier, scopes, plan="internal", organisation=organisation)
        return registry.create_api_key(client.id)

    return Callers(
        bank=key(
            "Load Bank", "partner", ["transfers:write", "transfers:read", "accounts:read"], "bank"
        ),
        shop=key("Load Shop", "private", ["shipments:write"]),
        partner=key(
            "Load Logistics",
            "partner",
            ["shipments:read", "shipments:write"],
            Settings.model_fields["logistics_partner"].default,  # the nodes run on defaults
        ),
        operator=key("Load Operator", "private", ["sync:admin"]),
    )


def book_targets(
    nodes: Sequence[Node], callers: Callers, count: int, engine: Engine
) -> list[tuple[str, str]]:
    """`count` shipments ordered through the REST door and booked by the shipments job (so
    they have the tracking numbers the partner's events must name): (shipment_ref, tracking_no).
    """
    template = (LOAD / "shipment.json").read_text()

    def order(i: int) -> None:
        body = template.replace("{{ID}}", f"{TARGET_PREFIX}{i:05d}").encode()
        answer = requests.post(
            f"{nodes[i % len(nodes)].url}/api/v1/shipments",
            data=body,
            headers={"X-API-Key": callers.shop, "Content-Type": "application/json"},
            timeout=60,
        )
        if answer.status_code not in (200, 202):
            raise SystemExit(f"ordering a target shipment: {answer.status_code} {answer.text}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(order, range(count)))
    run = requests.post(
        f"{nodes[0].url}/api/v1/sync/jobs/shipments/runs",
        headers={"X-API-Key": callers.operator},
        timeout=600,
    )
    if run.status_code not in (201, 409):  # 409: the scheduler is running it already
        raise SystemExit(f"running the shipments job: {run.status_code} {run.text}")
    query = select(shipments.c.shipment_ref, shipments.c.tracking_no).where(
        shipments.c.order_ref.like(f"ORD-{TARGET_PREFIX}%"), shipments.c.tracking_no.is_not(None)
    )
    deadline = time.monotonic() + 120
    while True:
        with engine.connect() as connection:
            booked = [(ref, tracking) for ref, tracking in connection.execute(query)]
        if len(booked) == count:
            return sorted(booked)
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(booked)} of {count} target shipments were booked")
        time.sleep(1)


# -- one phase of load -------------------------------------------------------------------------


@dataclass
class Record:
    kind: str
    key: str
    status: int  # 0: sent, never answered
    latency_us: int
    flag: str  # "-", fault, duplicate, rejected, unanswered, unmatched

    @property
    def ok(self) -> bool:
        """Answered 2xx, not a SOAP fault, and matched to its request."""
        return 200 <= self.status < 300 and self.flag not in ("fault", "unmatched")


@dataclass(frozen=True)
class Cpu:
    """CPU seconds of the machine (busy, all processes), the bridge nodes, PostgreSQL and wrk;
    and the wall clock. A difference of two readings is what a phase used."""

    busy: float
    bridge: float
    postgres: float
    wrk: float
    wall: float

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))


def cpu_now(nodes: Sequence[Node]) -> Cpu:
    """Linux /proc: a process's own time plus that of its children it has waited for (a
    gunicorn master's exited workers, the postmaster's exited backends)."""
    with open("/proc/stat") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    masters = {node.process.pid for node in nodes}
    bridge = postgres = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, _, rest = (entry / "stat").read_text().partition(" (")[2].rpartition(") ")
        except OSError:
            continue
        values = rest.split()
        used = sum(int(n) for n in values[11:15])  # utime, stime, cutime, cstime
        if int(entry.name) in masters or int(values[1]) in masters:  # a master, a worker
            bridge += used
        elif name == "postgres":
            postgres += used
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk: the children waited for
    return Cpu(
        busy=(sum(ticks[:8]) - idle) / CLOCK_TICKS,
        bridge=bridge / CLOCK_TICKS,
        postgres=postgres / CLOCK_TICKS,
        wrk=children.ru_utime + children.ru_stime,
        wall=time.monotonic(),
    )


@dataclass
class WrkRun:
    """What one wrk process saw: a record per request, its duration, its broken connections."""

    records: list[Record]
    seconds: float
    socket_errors: int


@dataclass
class Phase:
    runs: list[WrkRun]
    cpu: Cpu
    streams: list[int]

    @property
    def records(self) -> Iterator[Record]:
        for run in self.runs:
            yield from run.records


def run_phase(
    nodes: Sequence[Node],
    *,
    seconds: float,
    connections: int,
    stream: int,
    mix: dict[str, int],
    callers: Callers,
    targets: Sequence[tuple[str, str]],
    workdir: Path,
) -> Phase:
    """One wrk process per node, all at once, the connections and wrk threads split evenly."""
    per_node = connections // len(nodes)
    threads = max(1, min(per_node, CPUS // len(nodes)))
    started = []
    before = cpu_now(nodes)
    for index, node in enumerate(nodes):
        config = workdir / f"wrk-{stream + index}.conf"
        out = workdir / f"records-{stream + index}.tsv"
        lines = [
            f"stream {stream + index}",
            f"lane {index * threads}",
            f"lanes {len(nodes) * threads}",
            f"templates {LOAD}",
            f"out {out}",
            "mix " + ",".join(f"{name}={weight}" for name, weight in mix.items() if weight),
            f"key.bank {callers.bank}",
            f"key.private {callers.shop}",
            f"key.partner {callers.partner}",
            *(f"target {ref} {tracking}" for ref, tracking in targets),
        ]
        config.write_text("\n".join(lines) + "\n")
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{per_node}",
            f"-d{max(1, round(seconds))}s",
            "--timeout=60s",
            "-s",
            str(SCRIPT),
            node.url,
            "--",
            str(config),
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started.append((process, out))
    for process, out in started:
        _, errors = process.communicate()
        if process.returncode != 0 or not out.exists():
            raise SystemExit(f"wrk failed ({process.returncode}): {errors.decode()}")
    used = cpu_now(nodes) - before
    return Phase(
        [_read_records(out) for _, out in started],
        used,
        [stream + index for index in range(len(nodes))],
    )


def _read_records(path: Path) -> WrkRun:
    header, *lines = path.read_text().splitlines()
    words = header.split()[1:]  # "# duration_us D connect C read R write W timeout T"
    counts = {name: int(value) for name, value in zip(words[::2], words[1::2], strict=True)}
    seconds = counts.pop("duration_us") / 1e6
    records = []
    for line in lines:
        kind, key, status, latency, flag = line.split("\t")
        records.append(Record(kind, key, int(status), int(latency), flag))
    return WrkRun(records, seconds, sum(counts.values()))


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    responses: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    flags: dict[str, int] = field(default_factory=dict)


def stats(phase: Phase, kinds: Sequence[str] | None = None) -> Stats:
    """Responses of `kinds` (all, when None): requests/s summed over the wrk processes (each
    over its own duration), latency percentiles over every response, errors: non-2xx answers,
    SOAP faults, and (for all kinds) answers matching no request and broken connections."""
    latencies: list[int] = []
    rps, errors = 0.0, 0
    flags: dict[str, int] = {}
    for run in phase.runs:
        answered = 0
        for record in run.records:
            if record.status == 0 or (kinds is not None and record.kind not in kinds):
                continue
            if record.flag == "unmatched":  # no request, no latency: an error of "all"
                errors += 1
                continue
            answered += 1
            latencies.append(record.latency_us)
            errors += not record.ok
            if record.flag not in ("-", "fault"):
                flags[record.flag] = flags.get(record.flag, 0) + 1
        rps += answered / run.seconds
        if kinds is None:
            errors += run.socket_errors
    latencies.sort()
    return Stats(
        len(latencies),
        rps,
        _percentile(latencies, 0.50) / 1000,
        _percentile(latencies, 0.99) / 1000,
        errors,
        flags,
    )


def _percentile(ordered: Sequence[int], fraction: float) -> float:
    """The nearest-rank percentile of sorted values."""
    if not ordered:
        return float("nan")
    return float(ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))])


@dataclass(frozen=True)
class RowCheck:
    """Rows of one kind stored during a phase, against the requests answered 2xx."""

    what: str
    answered_ok: int
    stored: int
    lost: int  # answered 2xx, not stored: must be 0
    unanswered: int  # stored, but its request was in flight at the stop or answered an error
    unexplained: int  # stored, but no request of the phase asked for it: must be 0
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.lost == 0 and self.unexplained == 0 and not self.note


def _compare(what: str, records: list[Record], stored: set[str], note: str = "") -> RowCheck:
    ok = {r.key for r in records if r.ok}
    sent = {r.key for r in records}
    return RowCheck(
        what,
        len(ok),
        len(stored),
        len(ok - stored),
        len((stored - ok) & sent),
        len(stored - sent),
        note,
    )


def check_rows(engine: Engine, phase: Phase) -> list[RowCheck]:
    """Compare the rows the bridge stored with what the phase's requests were answered."""
    records = list(phase.records)
    by_kind = {kind: [r for r in records if r.kind == kind] for kind in KINDS}
    transfer_ids = [f"L{s}{KINDS[k][1]}%" for s in phase.streams for k in ("rest", "soap")]
    order_refs = [f"ORD-L{s}{KINDS['shipment'][1]}%" for s in phase.streams]
    windows = [
        (
            EPOCH + dt.timedelta(seconds=s * EVENT_STREAM_SECONDS),
            EPOCH + dt.timedelta(seconds=(s + 1) * EVENT_STREAM_SECONDS),
        )
        for s in phase.streams
    ]
    with engine.connect() as connection:
        stored_transfers = {
            msg_id
            for (msg_id,) in connection.execute(
                select(transfers.c.msg_id).where(_any_like(transfers.c.msg_id, transfer_ids))
            )
        }
        stored_orders = {
            ref
            for (ref,) in connection.execute(
                select(shipments.c.order_ref).where(_any_like(shipments.c.order_ref, order_refs))
            )
        }
        queued = {
            key
            for (key,) in connection.execute(
                select(outbox.c.key).where(
                    outbox.c.topic == "shipments", _any_like(outbox.c.key, order_refs)
                )
            )
        }
        events = {
            f"{ref}@{at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
            for ref, at in connection.execute(
                select(delivery_events.c.shipment_ref, delivery_events.c.event_time).where(
                    delivery_events.c.shipment_ref.like(f"SHP-{TARGET_PREFIX}%")
                )
            )
            if any(start <= at < end for start, end in windows)
        }
    outbox_note = (
        ""
        if queued == stored_orders
        else f"outbox rows differ from shipments: {len(queued ^ stored_orders)}"
    )
    return [
        _compare("transfers", by_kind["rest"] + by_kind["soap"], stored_transfers),
        _compare("shipments", by_kind["shipment"], stored_orders, outbox_note),
        _compare("delivery events", by_kind["callback"], events),
    ]


def _any_like(column: ColumnElement[str], patterns: Sequence[str]) -> ColumnElement[bool]:
    return or_(*(column.like(pattern) for pattern in patterns))


# -- a run: n nodes on a fresh database --------------------------------------------------------


@dataclass
class Run:
    name: str
    round_no: int
    phase: Phase
    rows: list[RowCheck]
    booked: int  # shipments the callbacks were about
    logged_errors: int  # ERROR lines in the nodes' logs, whole run


def run_nodes(
    count: int, round_no: int, args: argparse.Namespace, mix: dict[str, int], workdir: Path
) -> Run:
    name = f"{count} node" + ("s" if count > 1 else "")
    database = f"bridge_load_{os.getpid()}_{round_no}_{count}"
    with fresh_database(args.database, database) as url:
        engine = make_engine(url)
        migrate(engine)  # once, before the nodes start (each would try)
        callers = make_callers(engine)
        here = workdir / f"round{round_no}-{count}-nodes"
        keys_dir = here / "keys"
        nodes: list[Node] = []
        try:
            progress(f"{name}, round {round_no + 1}: starting on database {database}")
            for index in range(count):
                nodes.append(start_node(here / f"node{index}", url, args.workers, keys_dir))
            targets: list[tuple[str, str]] = []
            if mix.get("callback"):
                progress(f"  ordering and booking {args.targets} shipments to call back about")
                targets = book_targets(nodes, callers, args.targets, engine)
            load = functools.partial(
                run_phase,
                nodes,
                connections=args.connections,
                mix=mix,
                callers=callers,
                targets=targets,
                workdir=here,
            )
            if args.warmup > 0:  # imports, pools, caches; its rows are not checked
                load(seconds=args.warmup, stream=WARMUP_STREAM)
            progress(f"  load for {args.seconds:.0f} s")
            phase = load(seconds=args.seconds, stream=TIMED_STREAM)
            time.sleep(2)  # requests in flight at the stop finish on the server
            rows = check_rows(engine, phase)
        finally:
            stop(nodes)
            engine.dispose()
    errors = sum(_logged_errors(node.log) for node in nodes)
    return Run(name, round_no, phase, rows, len(targets), errors)


def _logged_errors(log: Path) -> int:
    """Lines the node logged at ERROR or above (JSON log lines; gunicorn's own are plain)."""
    return sum(
        1
        for line in log.read_text(errors="replace").splitlines()
        if '"level": "ERROR"' in line or '"level": "CRITICAL"' in line or "[ERROR]" in line
    )


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- output ------------------------------------------------------------------------------------


def _ratio(new: float, old: float) -> str:
    return f"{new / old:.2f}x" if old else "n/a"


def report(
    rounds: dict[int, list[Run]], args: argparse.Namespace, mix: dict[str, int], server: str
) -> None:
    # Per node count, the round with the median req/s (of two, the better).
    runs = [sorted(rs, key=lambda r: stats(r.phase).rps)[len(rs) // 2] for rs in rounds.values()]
    weights = ",".join(f"{name}={weight}" for name, weight in mix.items())
    print(
        f"\nmix {weights}; {args.connections} connections for {args.seconds:.0f} s per run "
        f"after a {args.warmup:.0f} s warm-up; each node: bridge serve, {args.workers} gunicorn "
        f"workers x 8 threads, simulators in process, scheduler on; {server}; "
        f"{CPUS} CPUs shared by the nodes, PostgreSQL and wrk; load: wrk, 2 threads in all"
    )
    print(
        "req/s of each round: "
        + "; ".join(
            f"{rs[0].name} " + ", ".join(f"{stats(r.phase).rps:.1f}" for r in rs)
            for rs in rounds.values()
        )
        + f"; below, the median round of {args.rounds}"
    )
    print(
        f"\n{'run':<9}{'request':<18}{'responses':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}"
    )
    totals = []
    for run in runs:
        lines = [(KINDS[kind][0], stats(run.phase, [kind])) for kind in mix if mix[kind]]
        totals.append(stats(run.phase))
        lines.append(("all", totals[-1]))
        for index, (label, result) in enumerate(lines):
            print(
                f"{run.name if index == 0 else '':<9}{label:<18}{result.responses:>10}"
                f"{result.rps:>9.1f}{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}{result.errors:>8}"
            )
    one, two = totals
    print(
        f"\n2 nodes / 1 node: req/s {_ratio(two.rps, one.rps)}, "
        f"p50 {_ratio(two.p50_ms, one.p50_ms)}, p99 {_ratio(two.p99_ms, one.p99_ms)}, "
        f"errors {two.errors} vs {one.errors}  ({CPUS} CPUs for everything: "
        "two nodes add processes, not cores)"
    )
    print(f"\nCPU in the timed phase, in cores busy on average (of {CPUS}):")
    print(
        f"{'run':<9}{'machine':>9}{'bridge':>9}{'postgres':>9}{'wrk':>9}{'other':>9}"
        f"{'req/CPU-s':>11}"
    )
    efficiency = []
    for run, total in zip(runs, totals, strict=True):
        cpu = run.phase.cpu
        other = cpu.busy - cpu.bridge - cpu.postgres - cpu.wrk
        cores = [cpu.busy, cpu.bridge, cpu.postgres, cpu.wrk, other]
        efficiency.append(total.responses / (cpu.bridge + cpu.postgres))
        print(
            f"{run.name:<9}"
            + "".join(f"{c / cpu.wall:>9.2f}" for c in cores)
            + f"{efficiency[-1]:>11.1f}"
        )
    print(
        "other: processes outside this benchmark; req/CPU-s: responses per CPU second of the "
        f"bridge and PostgreSQL, 2 nodes / 1 node {_ratio(efficiency[1], efficiency[0])} "
        "(less swayed by other load than req/s)"
    )
    everything = [run for rs in rounds.values() for run in rs]
    worst = max(run.phase.cpu.wrk / run.phase.cpu.wall for run in everything)
    print(
        f"the load generator (wrk) used at most {worst:.0%} of one core in any run: "
        + ("not the bottleneck" if worst < 0.5 else "CHECK: it may limit the load")
    )
    for run in runs:
        duplicates = stats(run.phase, ["callback"]).flags.get("duplicate", 0)
        rejected = stats(run.phase, ["rest", "soap"]).flags.get("rejected", 0)
        unmatched = sum(1 for r in run.phase.records if r.flag == "unmatched")
        print(
            f"{run.name}: callbacks about {run.booked} booked shipments, every event new "
            f"({duplicates} acknowledged as duplicates); transfers rejected by core banking: "
            f"{rejected}; answers matching no request: {unmatched}; "
            f"ERROR lines in the nodes' logs: {run.logged_errors}"
        )
    print("\nrows stored in each timed phase against the requests answered 2xx:")
    print(
        f"{'run':<17}{'rows':<17}{'2xx':>7}{'stored':>8}{'lost':>6}{'in flight':>11}"
        f"{'unasked':>9}  check"
    )
    for run in sorted(everything, key=lambda r: r.round_no):
        for index, row in enumerate(run.rows):
            verdict = "ok" if row.passed else f"FAILED {row.note}".strip()
            label = f"{run.name}, round {run.round_no + 1}" if index == 0 else ""
            print(
                f"{label:<17}{row.what:<17}{row.answered_ok:>7}{row.stored:>8}{row.lost:>6}"
                f"{row.unanswered:>11}{row.unexplained:>9}  {verdict}"
            )
    print(
        "lost: answered 2xx, not stored; in flight: stored, its request unanswered when wrk "
        "stopped or answered with an error; unasked: stored, never requested"
    )


def parse_mix(text: str) -> dict[str, int]:
    mix = dict.fromkeys(KINDS, 0)
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in KINDS or not weight.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"{part!r}: expected name=weight with name one of {', '.join(KINDS)}"
            )
        mix[name.strip()] = int(weight)
    if not any(mix.values()):
        raise argparse.ArgumentTypeError("at least one weight must be positive")
    return mix


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="timed phase per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up per run (seconds)")
    parser.add_argument("--connections", type=int, default=8, help="in all, split over nodes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    parser.add_argument(
        "--database",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL URL; each run makes and drops a database on its server",
    )
    parser.add_argument(
        "--mix", type=parse_mix, default=parse_mix("rest=1,soap=1,callback=1,shipment=1")
    )
    parser.add_argument("--rounds", type=int, default=2, help="1-node and 2-node runs, interleaved")
    parser.add_argument("--targets", type=int, default=200, help="shipments to call back about")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    if args.connections < 2 or args.connections % 2:
        raise SystemExit("--connections must be even (two nodes get half each)")
    if not args.database.startswith("postgresql"):
        raise SystemExit("--database must be a postgresql:// URL")
    with psycopg.connect(
        make_url(args.database).set(drivername="postgresql").render_as_string(hide_password=False)
    ) as connection:
        version = connection.execute("SHOW server_version").fetchone()
    server = f"PostgreSQL {version[0] if version else '?'}"
    workdir = Path(tempfile.mkdtemp(prefix="bridge-load-"))
    rounds: dict[int, list[Run]] = {1: [], 2: []}
    try:
        for round_no in range(args.rounds):  # interleaved, so drift hits both alike
            for count, runs in rounds.items():
                runs.append(run_nodes(count, round_no, args, args.mix, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(rounds, args, args.mix, server)
    return 0 if all(row.passed for runs in rounds.values() for r in runs for row in r.rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
