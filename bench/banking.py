"""Banking benchmark: a transfer through the REST door and through the SOAP door of a running
bridge, beside two baselines measured in the same run.

    python bench/banking.py [--seconds 10] [--clients 8] [--rounds 2] [--upstream sim|stub]

Processes, all on loopback, all gunicorn with 2 workers (gthread, 8 threads each):
  simulators  bench/simulators.py: the upstream simulators, open to these processes (their own
              SQLite file); a bridge's own are for its own clients and its admins only
  bridge      `bridge serve` with simulators off, every upstream = the simulators' process
  naive       bench/naive_proxy.py: Flask + zeep + xmltodict, nothing stored (the hand-written
              proxy a team would otherwise run)
Contenders, each posting EUR 0.01 transfers between the same two accounts with a fresh MsgId
per request (so every request is a new payment, not an idempotent replay):
  zeep direct   PostPayment to the simulator with zeep, one client per process, --clients
                processes (the ceiling the simulator allows; the load generator is zeep itself)
  naive proxy   JSON POST to the naive proxy            (load: wrk, --clients connections)
  REST door     JSON POST /api/v1/transfers             (load: wrk)
  SOAP door     TransferFunds to /soap/banking           (load: wrk)
wrk (Debian's package) is a native load generator, so it is not the bottleneck (DESIGN.md). Each
contender runs --rounds times, interleaved, after a warm-up; the median round is reported.
Targets: REST >= 2x the naive proxy's requests/s; SOAP >= 0.8x REST; p99 <= 3x p50.
With `--upstream stub` core banking is bench/stub_corebank.py, a fixed reply with no work, so
the numbers compare the contenders' own cost rather than the simulator's capacity.
Absolute numbers drift on a shared 2-core machine; the ratios are the result.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import simulators  # noqa: E402
from bridge.security.clients import ClientRegistry  # noqa: E402
from bridge.settings import UPSTREAMS  # noqa: E402
from bridge.store.db import make_engine  # noqa: E402

BIN = Path(sys.executable).parent
WRK_SCRIPT = ROOT / "bench" / "wrk" / "unique_post.lua"
REST_BODY = ROOT / "bench" / "wrk" / "transfer.json"
SOAP_BODY = ROOT / "bench" / "wrk" / "transfer_soap.xml"
DEBTOR, CREDITOR = "DE89370400440532013000", "DE12500105170648489890"


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def tail(self) -> float:
        return self.p99_ms / self.p50_ms if self.p50_ms else float("inf")


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
        "BRIDGE_WORKERS": "2",
        "BRIDGE_SCHEDULER": "false",
        "BRIDGE_LOG_LEVEL": "WARNING",
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
    """An API key of a partner bank allowed transfers, on the plan without a rate limit: the
    doors authenticate every call, as in production, and the benchmark measures that too."""
    engine = make_engine(database_url)
    try:
        registry = ClientRegistry(engine)
        client, _ = registry.create(
            "bench bank", "partner", ["transfers:write", "transfers:read"], plan="internal"
        )
        return registry.create_api_key(client.id)
    finally:
        engine.dispose()


def gunicorn(port: int, app: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers=2",
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


_DURATION = re.compile(r"([\d.]+)(us|ms|s)\b")


def _ms(text: str) -> float:
    match = _DURATION.search(text)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


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
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(WRK_SCRIPT),
            url,
            "--",
            *arguments,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Result(name, rps, p50, p99, errors)


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
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--upstream", choices=["sim", "stub"], default="sim")
    parser.add_argument(
        "--database", default=None, help="the bridge's BRIDGE_DATABASE_URL (default: SQLite)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="bridge-bench-"))
    sims_port, bridge_port, naive_port = free_port(), free_port(), free_port()
    servers = []
    try:
        if args.upstream == "sim":
            upstreams = {name: f"http://127.0.0.1:{sims_port}/sims/{name}" for name in UPSTREAMS}
            (workdir / "sims").mkdir()
            sims_database = f"sqlite:///{workdir / 'sims' / 'simulators.db'}"
            servers.append(simulators.serve(sims_database, sims_port))
        else:
            # The stub answers core banking; the others are never called here (no sync job
            # runs), but a bridge with simulators off wants an address for each.
            upstreams = {name: f"http://127.0.0.1:{sims_port}/" for name in UPSTREAMS}
            servers.append(gunicorn(sims_port, "bench.stub_corebank:app"))
        corebank = upstreams["corebank"]
        servers.append(
            bridge_server(
                workdir / "bridge",
                bridge_port,
                BRIDGE_SIMULATORS="false",
                **{f"BRIDGE_{name.upper()}_URL": url for name, url in upstreams.items()},
                **({"BRIDGE_DATABASE_URL": args.database} if args.database else {}),
            )
        )
        servers.append(gunicorn(naive_port, f"bench.naive_proxy:create_app({corebank!r})"))
        base = f"http://127.0.0.1:{bridge_port}"
        bridge_database = args.database or f"sqlite:///{workdir / 'bridge' / 'var' / 'bridge.db'}"
        api_key = bank_api_key(bridge_database)
        contenders = {
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
        for name, run in contenders.items():  # warm-up: imports, pools, caches
            run(2, f"W{name[:2]}")
        rounds: dict[str, list[Result]] = {name: [] for name in contenders}
        for r in range(args.rounds):
            for name, run in contenders.items():
                rounds[name].append(run(args.seconds, f"R{r}{name[:2]}"))
        results = {
            name: sorted(rs, key=lambda x: x.rps)[len(rs) // 2] for name, rs in rounds.items()
        }
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"\n{args.clients} clients, {args.seconds:.0f} s x {args.rounds} rounds (median round); "
        "load: wrk (zeep direct: zeep itself)"
    )
    print(f"{'contender':<13}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99/p50':>9}{'errors':>8}")
    for result in results.values():
        print(
            f"{result.name:<13}{result.rps:>9.0f}{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
            f"{result.tail:>9.2f}{result.errors:>8}"
        )
    rest, soap, naive = results["REST door"], results["SOAP door"], results["naive proxy"]
    print()
    checks = [
        ("REST / naive proxy", rest.rps / naive.rps, 2.0, ">="),
        ("SOAP / REST", soap.rps / rest.rps, 0.8, ">="),
        ("REST p99 / p50", rest.tail, 3.0, "<="),
        ("SOAP p99 / p50", soap.tail, 3.0, "<="),
        ("REST / zeep direct", rest.rps / results["zeep direct"].rps, None, ""),
    ]
    for label, value, target, sense in checks:
        if target is None:
            print(f"{label:<20}{value:6.2f}x")
            continue
        met = value >= target if sense == ">=" else value <= target
        print(f"{label:<20}{value:6.2f}x  (target {sense} {target}x: {'met' if met else 'MISSED'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
