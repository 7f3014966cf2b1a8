"""Where one transfer's time goes in the bridge, and one payroll record's, without a profiler.

    python bench/breakdown.py [--requests 200] [--records 1000] [--database URL]

In this process, one request at a time: the bridge built by `create_app(settings)` (simulators
and scheduler off, rate limits, audit rows and metrics on), its WSGI app called directly, with
core banking = bench/stub_corebank.py (keeping connections alive) and payroll = the payroll
simulator (bench/simulators.py), each in its own gunicorn. Named functions of the bridge are
timed at run time (bench/stages.py): a stage's time excludes the stages inside it, and what is
left of a request is the first row (HTTP, WSGI, Flask or spyne, middlewares). Printed per door:

  REST door      POST /api/v1/transfers, the bench's JSON transfer, a fresh msg_id each
  SOAP door      TransferFunds to /soap/banking, the same transfer
  naive proxy    bench/naive_proxy.py's Flask app on the same stub (its total, and zeep's HTTP)
  payroll sync   `bridge.sync.run("payroll")` over --records queued HR changes, per record

and, per door, how many connections core banking accepted for its calls (bench/connections.py):
about one for the whole run when the client reuses its pooled connections.

A name that no longer exists (the code is being changed) is skipped with a printed note. One
sequential request measures cost, not capacity: bench/banking.py measures that.
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import simulators, stub_corebank  # noqa: E402
from bench.connections import ConnectionLog  # noqa: E402
from bench.stages import Stage, StageTimer  # noqa: E402

REST_BODY = ROOT / "bench" / "wrk" / "transfer.json"
SOAP_BODY = ROOT / "bench" / "wrk" / "transfer_soap.xml"
# A plan with a limit no run reaches: the limiter counts every call, as in production.
BENCH_PLAN = "bench"
BENCH_RATE = "1000000/minute"

AUTH = Stage("auth and rate limit", ("bridge.security.admission.admit",))
SERVICE = Stage(
    "service: fingerprint, serialise",
    ("bridge.services.banking.BankingService.transfer_funds",),
)
RULES = Stage("validation: business rules", ("bridge.services.banking.BankingService._check",))
CLAIM = Stage("claim (transfer stored)", ("bridge.store.transfers.TransferStore.claim",))
BREAKER = Stage(
    "upstream: breaker, metrics",
    (
        "bridge.upstream.corebank.GuardedCoreBank.post_payment",
        "bridge.upstream.corebank.SoapCoreBank.post_payment",
        "bridge.upstream.soap.SoapUpstream.call",
    ),
)
UPSTREAM_XML = Stage("upstream: XML out and in", ("bridge.upstream.soap.SoapUpstream._call",))
UPSTREAM_HTTP = Stage(
    "upstream: HTTP round trip", ("bridge.upstream.transport.SoapTransport.post",)
)
FINISH = Stage("finish (result stored)", ("bridge.store.transfers.TransferStore.finish",))
AUDIT = Stage("audit row (queued)", ("bridge.security.audit.AuditMiddleware._write",))
AUDIT_WRITER = Stage("audit writer", ("bridge.store.audit.AuditLog._write_batch",), background=True)

REST_STAGES = [
    AUTH,
    Stage("validation: JSON -> canonical", ("bridge.rest.schemas.JsonBody.read",)),
    Stage("validation: contract (XML + XSD)", ("bridge.mapping.conformance.Contracts.check",)),
    RULES,
    SERVICE,
    CLAIM,
    BREAKER,
    UPSTREAM_XML,
    UPSTREAM_HTTP,
    FINISH,
    Stage("response (canonical JSON)", ("bridge.rest.wire.canonical_response",)),
    AUDIT,
    AUDIT_WRITER,
]
SOAP_STAGES = [
    Stage("SOAP envelope read, checked", ("bridge.soap.gateway.SoapGateway._checked_request",)),
    AUTH,
    Stage("validation: XML -> canonical", ("bridge.soap.protocol.MappedSoap11.deserialize",)),
    RULES,
    SERVICE,
    CLAIM,
    BREAKER,
    UPSTREAM_XML,
    UPSTREAM_HTTP,
    FINISH,
    Stage(
        "response (canonical -> XML)",
        (
            "bridge.soap.protocol.MappedSoap11.serialize",
            "bridge.soap.protocol.MappedSoap11.create_out_string",
        ),
    ),
    AUDIT,
    AUDIT_WRITER,
]
NAIVE_STAGES = [Stage("zeep: HTTP round trip", ("zeep.transports.Transport.post",))]
SYNC_STAGES = [
    Stage("claim a batch", ("bridge.store.outbox.OutboxStore.claim",)),
    Stage(
        "rows -> canonical, batch",
        ("bridge.sync.deliveries.payroll.PayrollDeliverer.prepare",),
    ),
    Stage("contract check (XML + XSD)", ("bridge.upstream.soap.SoapUpstream.refusal",)),
    Stage("upstream: breaker, metrics", ("bridge.upstream.soap.SoapUpstream.call",)),
    UPSTREAM_XML,
    UPSTREAM_HTTP,
    Stage("record outcomes", ("bridge.store.outbox.OutboxStore.delivered",)),
    Stage("audit rows (queued)", ("bridge.sync.audit.SyncAudit.__call__",)),
    Stage(
        "run bookkeeping",
        ("bridge.sync.engine.SyncEngine._start", "bridge.sync.engine.SyncEngine._end"),
    ),
    AUDIT_WRITER,
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def call_wsgi(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> str:
    """The status line; the body read whole and the iterable closed, as a server does."""
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(line)
        return lambda data: None

    body = app(environ, start_response)
    try:
        for _ in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return status[0]


def environ_for(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        path=path,
        method="POST",
        data=body,
        headers=list(headers.items()),
        environ_base={"REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000"},
    )
    try:
        environ: dict[str, Any] = builder.get_environ()
    finally:
        builder.close()
    return environ


def run_requests(
    timer: StageTimer,
    app: Callable[..., Iterable[bytes]],
    make_environ: Callable[[int], dict[str, Any]],
    count: int,
) -> list[str]:
    """`count` requests one after another, after a few untimed ones (imports, pools, caches);
    the status lines that were not 2xx."""
    failures = []
    for n in range(-5, count):
        environ = make_environ(n)
        if n < 0:
            call_wsgi(app, environ)
            continue
        with timer.request():
            status = call_wsgi(app, environ)
        if not status.startswith("2"):
            failures.append(status)
    return failures


def measure(
    title: str,
    stages: list[Stage],
    run: Callable[[StageTimer], tuple[list[str], str]],
    *,
    total_label: str,
    unit: str = "request",
    how: str = "one at a time",
) -> None:
    """Instrument, run, restore, print: one table."""
    timer = StageTimer()
    missing = timer.instrument(stages)
    try:
        failures, note = run(timer)
    finally:
        timer.restore()
    print(f"\n{title}: {timer.requests:,} {unit}s, {how}{note}")
    for name in missing:
        print(f"  (not timed: {name} no longer exists)")
    if failures:
        print(f"  ({len(failures)} not 2xx, e.g. {failures[0]})")
    print(timer.table(stages, total_label=total_label, unit=unit))


def build_bridge(database_url: str, corebank_url: str, payroll_url: str, workdir: Path) -> Any:
    from bridge.app import create_app
    from bridge.settings import UPSTREAMS, load_settings

    urls: dict[str, Any] = {
        f"{name}_url": payroll_url if name == "payroll" else corebank_url for name in UPSTREAMS
    }
    settings = load_settings(
        database_url=database_url,
        simulators=False,
        scheduler=False,
        log_level="WARNING",
        rate_limit_plans={"standard": "100/minute", BENCH_PLAN: BENCH_RATE},
        **urls,
    )
    return create_app(settings, start_scheduler=False)


def api_key(bridge: Any) -> str:
    from bridge.security.clients import ClientRegistry

    registry = ClientRegistry(bridge.engine)
    client, _ = registry.create(
        "bench bank", "partner", ["transfers:write", "transfers:read"], plan=BENCH_PLAN
    )
    key: str = registry.create_api_key(client.id)
    return key


def rest_run(bridge: Any, key: str, count: int, log: ConnectionLog, prefix: str) -> Any:
    template = REST_BODY.read_text()

    def environ(n: int) -> dict[str, Any]:
        body = template.replace("{{ID}}", f"{prefix}R{n}").encode()
        return environ_for(
            "/api/v1/transfers",
            body,
            {"Content-Type": "application/json", "X-API-Key": key},
        )

    def run(timer: StageTimer) -> tuple[list[str], str]:
        before = log.read()
        failures = run_requests(timer, bridge.wsgi, environ, count)
        bridge.audit.flush()  # the writer's share of this run, timed before the run ends
        return failures, f"; core banking: {log.read() - before}"

    return run


def soap_run(bridge: Any, key: str, count: int, log: ConnectionLog, prefix: str) -> Any:
    template = SOAP_BODY.read_text()

    def environ(n: int) -> dict[str, Any]:
        body = template.replace("{{ID}}", f"{prefix}S{n}").encode()
        return environ_for(
            "/soap/banking",
            body,
            {
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": '"TransferFunds"',
                "X-API-Key": key,
            },
        )

    def run(timer: StageTimer) -> tuple[list[str], str]:
        before = log.read()
        failures = run_requests(timer, bridge.wsgi, environ, count)
        bridge.audit.flush()  # the writer's share of this run, timed before the run ends
        return failures, f"; core banking: {log.read() - before}"

    return run


def naive_run(corebank_url: str, count: int, log: ConnectionLog) -> Any:
    body = REST_BODY.read_text().replace("{{ID}}", "naive").encode()

    def run(timer: StageTimer) -> tuple[list[str], str]:
        from bench.naive_proxy import create_app

        app = create_app(corebank_url).wsgi_app
        before = log.read()
        failures = run_requests(
            timer,
            app,
            lambda n: environ_for("/transfers", body, {"Content-Type": "application/json"}),
            count,
        )
        return failures, f"; core banking: {log.read() - before}"

    return run


def sync_run(bridge: Any, records: int, log: ConnectionLog) -> Any:
    from bench.sync import employee_change
    from bridge.services.hr import HrService
    from bridge.store.employees import EmployeeStore

    token = secrets.token_hex(3)
    changes = [
        dataclasses.replace(employee_change(n), record_id=f"BD-{token}-{n:06d}")
        for n in range(records)
    ]
    HrService(EmployeeStore(bridge.engine), bridge.mappings.currencies).record_changes(changes)

    def run(timer: StageTimer) -> tuple[list[str], str]:
        before = log.read()
        with timer.request():
            report = bridge.sync.run("payroll")
        bridge.audit.flush()
        # one "request" is the whole run: per record below
        timer.requests = max(report.delivered, 1)
        failures = [] if report.error is None else [report.error]
        return failures, f" ({report.counts}); payroll: {log.read() - before}"

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per door (default 200)")
    parser.add_argument("--records", type=int, default=1000, help="payroll sync (default 1000)")
    parser.add_argument("--database", default=None, help="the bridge's database (default SQLite)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bridge-breakdown-"))
    stub_log, sims_log = workdir / "stub.connections", workdir / "sims.connections"
    stub_port, sims_port = free_port(), free_port()
    stub = stub_corebank.serve(stub_port, connection_log=stub_log)
    sims = simulators.serve(
        f"sqlite:///{workdir / 'simulators.db'}", sims_port, workers=1, connection_log=sims_log
    )
    corebank_url = f"http://127.0.0.1:{stub_port}/"
    payroll_url = f"http://127.0.0.1:{sims_port}/sims/payroll"
    database = args.database or f"sqlite:///{workdir / 'bridge.db'}"
    prefix = f"B{secrets.token_hex(3)}"
    try:
        print(
            f"where the time goes: in process, sequential; database {database.split(':')[0]}; "
            "core banking: the stub, keep-alive; payroll: the simulator"
        )
        measure(
            "naive proxy",
            NAIVE_STAGES,
            naive_run(corebank_url, args.requests, ConnectionLog(stub_log)),
            total_label="Flask, zeep and xmltodict",
        )
        for title, stages, make, label in (
            ("REST door", REST_STAGES, rest_run, "HTTP and Flask"),
            ("SOAP door", SOAP_STAGES, soap_run, "HTTP, WSGI and spyne"),
        ):
            bridge = build_bridge(database, corebank_url, payroll_url, workdir)
            try:
                key = api_key(bridge)
                run = make(bridge, key, args.requests, ConnectionLog(stub_log), prefix)
                measure(title, stages, run, total_label=label)
            finally:
                bridge.close()
        if args.records == 0:  # --records 0: the doors only
            return 0
        bridge = build_bridge(database, corebank_url, payroll_url, workdir)
        try:
            measure(
                "payroll sync",
                SYNC_STAGES,
                sync_run(bridge, args.records, ConnectionLog(sims_log)),
                total_label="job engine (loop, breaker, metrics)",
                unit="record",
                how="one job run",
            )
        finally:
            bridge.close()
    finally:
        for server in (stub, sims):
            server.terminate()
        for server in (stub, sims):
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    status = main()
    print(f"\n(breakdown took {time.perf_counter() - started:.0f} s)")
    raise SystemExit(status)
