"""Banking benchmark: a transfer through the REST door and through the SOAP door of a running
bridge, beside two baselines measured in the same run, then where one request's time goes and
the payroll sync against zeep.

    python bench/banking.py [--seconds 10] [--clients 8] [--rounds 2] [--upstream sim|stub]
                            [--connections keep-alive|new|both] [--database URL]
                            [--breakdown 200] [--sync-sizes 1000]

Processes, all on loopback, all gunicorn with 2 workers (gthread, 8 threads each):
  upstream    core banking: bench/simulators.py (`--upstream sim`: the upstream simulators,
              open to these processes, their own SQLite file; a bridge's own are for its own
              clients and its admins only) or bench/stub_corebank.py (`--upstream stub`: a fixed
              reply with no work, so the numbers compare the contenders' own cost)
  bridge      `bridge serve` with simulators off, every upstream = that process
  naive       bench/naive_proxy.py: Flask + zeep + xmltodict, nothing stored (the hand-written
              proxy a team would otherwise run)
Contenders, each posting EUR 0.01 transfers between the same two accounts with a fresh MsgId
per request (so every request is a new payment, not an idempotent replay):
  zeep direct   PostPayment to the upstream with zeep, one client per process, --clients
                processes (the ceiling the upstream allows; the load generator is zeep itself)
  naive proxy   JSON POST to the naive proxy            (load: wrk, --clients connections)
  REST door     JSON POST /api/v1/transfers             (load: wrk)
  SOAP door     TransferFunds to /soap/banking           (load: wrk)
The doors authenticate every call with an API key whose plan has a limit no run reaches, so the
rate limiter counts every call, as in production; audit rows and metrics stay on.

Connections (`--connections`, default both): real core-banking servers keep HTTP/1.1 connections
alive, so `keep-alive` runs the upstream that way; `new` runs it answering `Connection: close`,
so every upstream call pays a new TCP connection. Both run the same worker class and threads.
Before each case a `requests.Session` making 50 calls shows what the upstream does (1 connection
kept alive, 50 closed), and each contender's column `up conn` is the upstream connections it
opened per request (bench/connections.py counts them in the upstream server).

wrk (Debian's package) is a native load generator, so it is not the bottleneck (DESIGN.md). Each
contender runs --rounds times, interleaved, after a warm-up; each round's req/s is printed as it
ends, and the median round is reported. Column `workers` (and the figure in brackets after a
round's req/s) is how wrk's keep-alive connections were spread over the contender's two worker
processes (bench/connections.py `worker_split`): gunicorn's workers share one listening socket
and the first awake accepts, so a round can land 8/0, leaving one worker (one core, the GIL) to
carry the load while the other idles. Such a round is slow for the naive proxy and the bridge
alike and says nothing of either; more --rounds make the median steadier.
Targets (bridge issue 14), each printed met or MISSED: REST >= 1.0x the naive proxy's requests/s
(aim 2x); SOAP >= 0.8x REST; p99 <= 3x p50 for both doors; payroll sync >= 1.0x zeep direct.
Then bench/breakdown.py (in process, sequential: where a request's time goes, REST, SOAP, naive
proxy and payroll sync) and bench/sync.py at --sync-sizes (0 skips either). Absolute numbers
drift on a shared 2-core machine; the ratios are the result.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import simulators, stub_corebank  # noqa: E402
from bench import sync as payroll_sync  # noqa: E402
from bench.breakdown import BENCH_PLAN, BENCH_RATE  # noqa: E402
from bench.connections import (  # noqa: E402
    ConnectionLog,
    Connections,
    session_reuse,
    worker_split,
)
from bench.wrk_report import parse  # noqa: E402
from bridge.security.clients import ClientRegistry  # noqa: E402
from bridge.settings import UPSTREAMS  # noqa: E402
from bridge.store.db import make_engine  # noqa: E402

BIN = Path(sys.executable).parent
WRK_SCRIPT = ROOT / "bench" / "wrk" / "unique_post.lua"
REST_BODY = ROOT / "bench" / "wrk" / "transfer.json"
SOAP_BODY = ROOT / "bench" / "wrk" / "transfer_soap.xml"
DEBTOR, CREDITOR = "DE89370400440532013000", "DE12500105170648489890"
WORKERS = 2  # worker processes of the bridge and of the naive proxy
CASES = {"keep-alive": (True,), "new": (False,), "both": (True, False)}


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    upstream: Connections = field(default_factory=lambda: Connections(0, 0))
    split: tuple[int, ...] = ()  # the contender's connections per worker process, most first

    @property
    def tail(self) -> float:
        return self.p99_ms / self.p50_ms if self.p50_ms else float("inf")

    @property
    def connections_per_request(self) -> float:
        return self.upstream.connections / self.requests if self.requests else float("nan")


@dataclass(frozen=True)
class Target:
    label: str
    value: float
    target: float
    sense: str  # ">=" or "<="
    aim: float | None = None

    @property
    def met(self) -> bool:
        return self.value >= self.target if self.sense == ">=" else self.value <= self.target

    def __str__(self) -> str:
        aim = f", aim {self.aim}x" if self.aim is not None else ""
        verdict = "met" if self.met else "MISSED"
        goal = f"target {self.sense} {self.target}x{aim}"
        return f"{self.label:<22}{self.value:6.3f}x  ({goal}: {verdict})"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {timeout} s")


def bridge_server(workdir: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "BRIDGE_PORT": str(port),
        "BRIDGE_WORKERS": str(WORKERS),
        "BRIDGE_SCHEDULER": "false",
        "BRIDGE_LOG_LEVEL": "WARNING",
        "BRIDGE_RATE_LIMIT_PLANS": json.dumps({"standard": "100/minute", BENCH_PLAN: BENCH_RATE}),
        **env,
    }
    workdir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [str(BIN / "bridge"), "serve"],
        cwd=workdir,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
    return process


def bank_api_key(database_url: str) -> str:
    """An API key of a partner bank allowed transfers, on a plan with a limit no run reaches:
    the doors authenticate and rate-limit every call, as in production, and the benchmark
    measures that too."""
    engine = make_engine(database_url)
    try:
        registry = ClientRegistry(engine)
        client, _ = registry.create(
            "bench bank", "partner", ["transfers:write", "transfers:read"], plan=BENCH_PLAN
        )
        return registry.create_api_key(client.id)
    finally:
        engine.dispose()


def gunicorn(port: int, app: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            f"--workers={WORKERS}",
            "--worker-class=gthread",
            "--threads=8",
            "--no-control-socket",
            "--log-level=warning",
            f"--bind=127.0.0.1:{port}",
            app,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_up(f"http://127.0.0.1:{port}/", process)
    return process


def run_wrk(
    name: str,
    url: str,
    body: Path,
    content_type: str,
    *,
    seconds: float,
    clients: int,
    prefix: str,
    soap_action: str | None = None,
    api_key: str | None = None,
) -> Result:
    arguments = [str(body), prefix, content_type, soap_action or "", api_key or ""]
    duration = max(1, round(seconds))
    with subprocess.Popen(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(WRK_SCRIPT),
            url,
            "--",
            *arguments,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as wrk:
        time.sleep(duration / 2)  # all connections open, none closing yet
        split = worker_split(urlsplit(url).port or 80, WORKERS)
        output, errors = wrk.communicate()
    if wrk.returncode != 0:
        raise SystemExit(f"wrk failed ({wrk.returncode}): {errors.strip()}")
    report = parse(output)
    return Result(
        name, report.rps, report.p50_ms, report.p99_ms, report.errors, report.requests, split=split
    )


def _zeep_client_loop(corebank: str, seconds: float, prefix: str) -> tuple[int, list[float], int]:
    import zeep
    from zeep.transports import Transport

    wsdl = ROOT / "wsdl" / "upstream" / "corebank.wsdl"
    client = zeep.Client(str(wsdl), transport=Transport(timeout=10, operation_timeout=10))
    service = client.create_service("{urn:corebank:payments:v1}CoreBankBinding", corebank)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:
        n += 1
        start = time.perf_counter()
        try:
            service.PostPayment(
                debitAccountNo=DEBTOR,
                creditAccountNo=CREDITOR,
                amountMinor=1,
                currencyCode="EUR",
                valueDate="2026-11-25",
                narrative="Benchmark",
                externalRef=f"{prefix}{n}",
            )
        except Exception:  # counted; the benchmark goes on
            errors += 1
        latencies.append((time.perf_counter() - start) * 1000)
    return n, latencies, errors


def run_zeep_direct(corebank: str, *, seconds: float, clients: int, prefix: str) -> Result:
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        started = time.perf_counter()
        results = pool.starmap(
            _zeep_client_loop, [(corebank, seconds, f"{prefix}{i}-") for i in range(clients)]
        )
        elapsed = time.perf_counter() - started
    latencies = sorted(x for _, lat, _ in results for x in lat)
    total = sum(n for n, _, _ in results)
    errors = sum(e for _, _, e in results)
    # spawn and zeep's WSDL load happen inside the pool: rate over the calls' own time
    busy = max(seconds, elapsed - 2.0)
    return Result(
        "zeep direct",
        total / busy,
        statistics.median(latencies),
        latencies[int(len(latencies) * 0.99) - 1],
        errors,
        total,
    )


# -- one case: the upstream keeping connections alive, or closing each --------------------------


@dataclass
class Servers:
    upstream_url: Callable[[str], str]  # upstream name -> its address
    probe_url: str  # a GET the upstream answers, for the keep-alive check
    connections: ConnectionLog
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)


def start_upstream(upstream: str, keep_alive: bool, workdir: Path) -> Servers:
    port = free_port()
    log = ConnectionLog(workdir / "upstream.connections")
    if upstream == "sim":
        (workdir / "sims").mkdir(parents=True)
        process = simulators.serve(
            f"sqlite:///{workdir / 'sims' / 'simulators.db'}",
            port,
            keep_alive=keep_alive,
            connection_log=log.path,
        )
        base = f"http://127.0.0.1:{port}/sims"
        return Servers(lambda name: f"{base}/{name}", f"{base}/corebank?wsdl", log, [process])
    # The stub answers core banking; the others are never called here (no sync job runs), but
    # a bridge with simulators off wants an address for each.
    process = stub_corebank.serve(port, keep_alive=keep_alive, connection_log=log.path)
    url = f"http://127.0.0.1:{port}/"
    return Servers(lambda name: url, url, log, [process])


def measure_case(args: argparse.Namespace, keep_alive: bool, workdir: Path) -> dict[str, Result]:
    """Start the upstream (kept alive or not), a bridge and the naive proxy on it; warm up; run
    the rounds; the median round of each contender."""
    servers = start_upstream(args.upstream, keep_alive, workdir)
    try:
        reuse = session_reuse(servers.probe_url, servers.connections)
        expected = 1 if keep_alive else 50
        verdict = "as expected" if reuse.connections == expected else "NOT as expected"
        print(
            f"\nupstream ({args.upstream}, {'keep-alive' if keep_alive else 'new connections'}): "
            f"a requests.Session making 50 calls opened {reuse.connections} ({verdict})",
            flush=True,
        )
        corebank = servers.upstream_url("corebank")
        bridge_port, naive_port = free_port(), free_port()
        servers.processes.append(
            bridge_server(
                workdir / "bridge",
                bridge_port,
                BRIDGE_SIMULATORS="false",
                **{f"BRIDGE_{name.upper()}_URL": servers.upstream_url(name) for name in UPSTREAMS},
                **({"BRIDGE_DATABASE_URL": args.database} if args.database else {}),
            )
        )
        servers.processes.append(
            gunicorn(naive_port, f"bench.naive_proxy:create_app({corebank!r})")
        )
        base = f"http://127.0.0.1:{bridge_port}"
        bridge_database = args.database or f"sqlite:///{workdir / 'bridge' / 'var' / 'bridge.db'}"
        api_key = bank_api_key(bridge_database)
        contenders: dict[str, Callable[[float, str], Result]] = {
            "zeep direct": lambda s, p: run_zeep_direct(
                corebank, seconds=s, clients=args.clients, prefix=p
            ),
            "naive proxy": lambda s, p: run_wrk(
                "naive proxy",
                f"http://127.0.0.1:{naive_port}/transfers",
                REST_BODY,
                "application/json",
                seconds=s,
                clients=args.clients,
                prefix=p,
            ),
            "REST door": lambda s, p: run_wrk(
                "REST door",
                f"{base}/api/v1/transfers",
                REST_BODY,
                "application/json",
                seconds=s,
                clients=args.clients,
                prefix=p,
                api_key=api_key,
            ),
            "SOAP door": lambda s, p: run_wrk(
                "SOAP door",
                f"{base}/soap/banking",
                SOAP_BODY,
                "text/xml; charset=utf-8",
                seconds=s,
                clients=args.clients,
                prefix=p,
                soap_action='"TransferFunds"',
                api_key=api_key,
            ),
        }
        # MsgIds unique across cases and runs: a PostgreSQL database outlives the run
        run_id = f"{int(time.time()) % 100000:05d}{'K' if keep_alive else 'N'}"
        for name, run in contenders.items():  # warm-up: imports, pools, caches
            run(2, f"W{run_id}{name[:2]}")
        rounds: dict[str, list[Result]] = {name: [] for name in contenders}
        for r in range(args.rounds):
            for name, run in contenders.items():
                before = servers.connections.read()
                result = run(args.seconds, f"R{run_id}{r}{name[:2]}")
                result.upstream = servers.connections.read() - before
                rounds[name].append(result)
            print(f"  round {r + 1}: " + " · ".join(round_figure(rs[-1]) for rs in rounds.values()))
        return {name: sorted(rs, key=lambda x: x.rps)[len(rs) // 2] for name, rs in rounds.items()}
    finally:
        servers.stop()


def round_figure(result: Result) -> str:
    split = f" ({'/'.join(str(n) for n in result.split)})" if result.split else ""
    return f"{result.name} {result.rps:.0f}{split}"


def targets(results: dict[str, Result]) -> list[Target]:
    rest, soap, naive = results["REST door"], results["SOAP door"], results["naive proxy"]
    return [
        Target("REST / naive proxy", rest.rps / naive.rps, 1.0, ">=", aim=2.0),
        Target("SOAP / REST", soap.rps / rest.rps, 0.8, ">="),
        Target("REST p99 / p50", rest.tail, 3.0, "<="),
        Target("SOAP p99 / p50", soap.tail, 3.0, "<="),
    ]


def print_case(args: argparse.Namespace, case: str, results: dict[str, Result]) -> None:
    print(
        f"\n{case}: {args.clients} clients, {args.seconds:.0f} s x {args.rounds} rounds (median "
        f"round); load: wrk (zeep direct: zeep itself); database: {database_name(args)}"
    )
    print(
        f"{'contender':<13}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99/p50':>9}{'errors':>8}"
        f"{'up conn/req':>13}  workers"
    )
    for result in results.values():
        split = "/".join(str(n) for n in result.split) or "-"
        print(
            f"{result.name:<13}{result.rps:>9.0f}{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
            f"{result.tail:>9.2f}{result.errors:>8}{result.connections_per_request:>13.3f}  {split}"
        )
    print()
    for target in targets(results):
        print(target)
    print(
        f"{'REST / zeep direct':<22}{results['REST door'].rps / results['zeep direct'].rps:6.2f}x"
    )


def database_name(args: argparse.Namespace) -> str:
    return "SQLite" if args.database is None else args.database.split(":", 1)[0]


def run_breakdown(args: argparse.Namespace) -> None:
    """bench/breakdown.py in its own process: it patches the bridge's functions to time them."""
    command = [
        sys.executable,
        str(ROOT / "bench" / "breakdown.py"),
        "--requests",
        str(args.breakdown),
    ]
    command += ["--records", str(args.breakdown_records)]
    if args.database:
        command += ["--database", args.database]
    print(flush=True)
    subprocess.run(command, check=True)


def run_sync(sizes: list[int]) -> bool:
    """bench/sync.py's two contenders at `sizes`; whether the bridge met >= 1.0x zeep at each."""
    print("\npayroll sync (bench/sync.py; its bridge database is SQLite)", flush=True)
    results = [
        payroll_sync.measure(size, contender, 200)
        for size in sizes
        for contender in ("bridge", "zeep")
    ]
    payroll_sync.print_table(results, 200)
    by = {(r.size, r.contender): r for r in results}
    met = True
    for size in sizes:
        ratio = by[(size, "bridge")].per_second / by[(size, "zeep")].per_second
        target = Target(f"sync {size:,} / zeep", ratio, 1.0, ">=")
        met = met and target.met
        print(target)
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--upstream", choices=["sim", "stub"], default="sim")
    parser.add_argument(
        "--connections",
        choices=list(CASES),
        default="both",
        help="the upstream keeps connections alive, closes each, or both cases (default both)",
    )
    parser.add_argument(
        "--database", default=None, help="the bridge's BRIDGE_DATABASE_URL (default: SQLite)"
    )
    parser.add_argument(
        "--breakdown", type=int, default=200, help="requests per door in the breakdown (0: none)"
    )
    parser.add_argument(
        "--breakdown-records", type=int, default=1000, help="payroll records in the breakdown"
    )
    parser.add_argument(
        "--sync-sizes",
        type=lambda value: [] if value.strip() == "0" else payroll_sync.sizes_option(value),
        default=[1000],
        help="bench/sync.py sizes, comma-separated (default 1000; 0: none)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    cases: dict[str, dict[str, Result]] = {}
    for keep_alive in CASES[args.connections]:
        case = "keep-alive" if keep_alive else "new connection per call"
        workdir = Path(tempfile.mkdtemp(prefix="bridge-bench-"))
        try:
            cases[case] = measure_case(args, keep_alive, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print_case(args, case, cases[case])
    if len(cases) > 1:
        print(f"\nboth cases, database {database_name(args)}:")
        print(
            f"{'case':<25}{'REST':>7}{'naive':>7}{'REST/naive':>11}{'REST p99/p50':>13}"
            f"{'SOAP/REST':>10}"
        )
        for case, results in cases.items():
            rest, naive, soap = results["REST door"], results["naive proxy"], results["SOAP door"]
            print(
                f"{case:<25}{rest.rps:>7.0f}{naive.rps:>7.0f}{rest.rps / naive.rps:>10.2f}x"
                f"{rest.tail:>12.2f}x{soap.rps / rest.rps:>9.2f}x"
            )
    if args.breakdown > 0:
        run_breakdown(args)
    if args.sync_sizes:
        run_sync(args.sync_sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
