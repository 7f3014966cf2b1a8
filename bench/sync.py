"""Payroll sync benchmark: the bridge's payroll job against zeep posting the same batches.

    python bench/sync.py [--sizes 1000,10000,100000] [--batch-size 200] [--contenders bridge,zeep]

For each size N, two runs, each against a fresh payroll simulator (bench/simulators.py under
gunicorn on a loopback port, its own new SQLite database, in its own process), so that payroll's
once-per-RecordId rule cannot turn one contender's records into the other's duplicates:

  bridge  N HR changes are queued into a new bridge database (`HrService.record_changes` in
          chunks of 1,000: employee rows and outbox rows), then a separate process does what
          `bridge sync run payroll` does: builds the bridge (`create_app`) and runs the payroll
          job with a progress bar: claim a batch, check it against the contract, map it, send
          SubmitPayrollBatch, record each row's outcome, until the queue is empty.
  zeep    a separate process builds a zeep client from the same contract (same hardened
          settings, a requests session) and sends the same records in the same batches (same
          batch ids, same batch size) with `client.service.SubmitPayrollBatch(Batch={...})`,
          making each batch as it goes: no database, no outbox, no mapping layer.

Columns, per run (all of the sync process, measured inside it):
  rec/s        records payroll accepted, per second of the run (start-up not included)
  cpu us/rec   CPU time (user + system) of the run per record: what the sync process itself
               costs, whatever the simulator does
  wait %       share of the run spent waiting for the simulator's answers
  sim ms/call  median time of a SubmitPayrollBatch call, first ten -> last ten: a simulator
               that slows down as its tables grow shows here
  RSS MB       resident memory when the run starts (after imports and start-up) and its peak
               (`ru_maxrss`); peak minus start is what the run itself needed
Then the ratios: bridge rec/s / zeep rec/s and bridge CPU / zeep CPU per size, and each
contender's peak RSS at the largest size / at the smallest: about 1.0 when memory does not grow
with the backlog. The exit status is 1 if any run did not deliver every change.

Both contenders wait on the same simulator, a spyne service that applies every record to its
own database in one process: with a high `wait %` the simulator is the bottleneck and rec/s
measures it more than the contender; `cpu us/rec` then compares the two sync processes. On two
cores the full default run takes about three minutes. Absolute numbers drift on a shared machine;
the ratios are the result.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import simulators  # noqa: E402
from bridge.domain import (  # noqa: E402
    EmployeeAction,
    EmployeeChange,
    Money,
    PayPeriod,
    Salary,
)

CONTRACT = ROOT / "wsdl" / "upstream" / "payroll.wsdl"
QUEUE_CHUNK = 1000
IBANS = ("DE89370400440532013000", "GB29NWBK60161331926819", "GB82WEST12345698765432")
GIVEN = ("Ngọc Ánh", "Jürgen", "花子", "Amélie")
FAMILY = ("Trần", "Müller", "山本", "Øverås")


def employee_change(n: int) -> EmployeeChange:
    """Record n of every run: a HIRE payroll accepts, the same for both contenders."""
    return EmployeeChange(
        record_id=f"BENCH-{n:07d}",
        employee_no=f"B{n:07d}",
        given_name=GIVEN[n % len(GIVEN)],
        family_name=FAMILY[n % len(FAMILY)],
        salary=Salary(
            amount=Money(amount=Decimal("4100.00"), currency="EUR"), period=PayPeriod.MONTHLY
        ),
        weekly_hours=Decimal("38.5"),
        bank_account=IBANS[n % len(IBANS)],
        effective_date=date(2026, 12, 1),
        action=EmployeeAction.HIRE,
    )


# -- the sync processes (run as `python bench/sync.py --worker ...`) -------------------------------


class UpstreamClock:
    """Time spent inside `requests.Session.send` (zeep) or `SoapTransport.post` (the bridge):
    waiting for the simulator's answers."""

    def __init__(self) -> None:
        from bridge.upstream.transport import SoapTransport

        self.calls: list[float] = []
        send = requests.Session.send
        post = SoapTransport.post

        def timed_post(transport: SoapTransport, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return post(transport, *args, **kwargs)
            finally:
                self.calls.append(time.perf_counter() - start)

        setattr(SoapTransport, "post", timed_post)  # noqa: B010 (a method, swapped for timing)

        def timed(session: requests.Session, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return send(session, *args, **kwargs)
            finally:
                self.calls.append(time.perf_counter() - start)

        setattr(requests.Session, "send", timed)  # noqa: B010 (a method, swapped for timing)

    def report(self) -> dict[str, float]:
        """Total wait, and the median call of the first and of the last ten (a simulator that
        slows down as its tables grow shows here)."""
        first, last = self.calls[:10] or [0.0], self.calls[-10:] or [0.0]
        return {
            "upstream_seconds": sum(self.calls),
            "upstream_first_ms": statistics.median(first) * 1000,
            "upstream_last_ms": statistics.median(last) * 1000,
        }


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bridge_worker(database_url: str, payroll_url: str, batch_size: int) -> dict[str, Any]:
    """What `bridge sync run payroll` does, with the run timed and the upstream wait counted."""
    import click

    from bridge.app import create_app
    from bridge.settings import load_settings

    clock = UpstreamClock()
    settings = load_settings(
        database_url=database_url,
        payroll_url=payroll_url,
        simulators=False,
        scheduler=False,
        upstream_timeout=120,
    )
    bridge = create_app(settings, run_migrations=False, start_scheduler=False)
    bridge.sync.deliverers["payroll"].batch_size = batch_size
    due = bridge.sync.outbox.depth().get("payroll", {}).get("pending", 0)
    rss_start, cpu_start = peak_rss_kb(), cpu_seconds()
    start = time.perf_counter()
    with (
        open(os.devnull, "w") as hidden,
        click.progressbar(length=due, label="payroll", file=hidden) as bar,
    ):
        report = bridge.sync.run("payroll", progress=bar.update)
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu_start
    bridge.close()
    return {
        "delivered": report.delivered,
        "failed": report.dead + report.retried,
        "error": report.error,
        "seconds": seconds,
        **clock.report(),
        "cpu_seconds": cpu,
        "rss_start_kb": rss_start,
        "rss_peak_kb": peak_rss_kb(),
    }


def zeep_worker(payroll_url: str, size: int, batch_size: int) -> dict[str, Any]:
    """The same batches straight through zeep: generated as they go, nothing stored."""
    from zeep import Client
    from zeep.transports import Transport

    from bridge.sync.deliveries.payroll import batch_id
    from bridge.upstream.soap import hardened_settings

    clock = UpstreamClock()
    session = requests.Session()
    session.trust_env = False  # no proxy looked up in the environment on every call
    transport = Transport(session=session, timeout=120, operation_timeout=120)
    client = Client(str(CONTRACT), transport=transport, settings=hardened_settings())
    service = client.create_service("{urn:payroll:v1}PayrollBinding", payroll_url)
    rss_start, cpu_start = peak_rss_kb(), cpu_seconds()
    accepted = rejected = 0
    start = time.perf_counter()
    for first in range(0, size, batch_size):
        records = [employee_change(n) for n in range(first, min(size, first + batch_size))]
        result = service.SubmitPayrollBatch(
            Batch={
                "BatchId": batch_id(records),
                "SubmittedAt": datetime.now(UTC),
                "Record": [_zeep_record(record) for record in records],
            }
        )
        accepted += result.Accepted
        rejected += result.Rejected
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu_start
    return {
        "delivered": accepted,
        "failed": rejected,
        "error": None,
        "seconds": seconds,
        **clock.report(),
        "cpu_seconds": cpu,
        "rss_start_kb": rss_start,
        "rss_peak_kb": peak_rss_kb(),
    }


def _zeep_record(change: EmployeeChange) -> dict[str, Any]:
    return {
        "RecordId": change.record_id,
        "EmployeeNo": change.employee_no,
        "GivenName": change.given_name,
        "FamilyName": change.family_name,
        "Salary": {
            "Amount": change.salary.amount.amount,
            "Currency": change.salary.amount.currency,
            "Period": change.salary.period.value,
        },
        "WeeklyHours": change.weekly_hours,
        "BankAccount": change.bank_account,
        "EffectiveDate": change.effective_date,
        "Action": change.action.value,
    }


# -- the driver ------------------------------------------------------------------------------------


@dataclass
class Result:
    size: int
    contender: str
    delivered: int
    failed: int
    error: str | None
    seconds: float
    upstream_seconds: float
    upstream_first_ms: float
    upstream_last_ms: float
    cpu_seconds: float
    rss_start_mb: float
    rss_peak_mb: float

    @property
    def per_second(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    @property
    def wait_share(self) -> float:
        return self.upstream_seconds / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Simulator:
    """The simulators (bench/simulators.py: open, one gthread worker, as `bridge serve` runs by
    default) on a fresh SQLite database and a loopback port; the payroll one is used."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = simulators.serve(
            f"sqlite:///{workdir / 'simulators.db'}",
            self.port,
            workers=1,
            log=workdir / "simulators.log",
        )

    @property
    def payroll_url(self) -> str:
        return f"{self.base}/sims/payroll"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def queue_changes(database_url: str, size: int) -> float:
    """Queue `size` changes the way HR does, in chunks; returns the seconds it took."""
    from bridge.mapping import Mappings
    from bridge.services.hr import HrService
    from bridge.store.db import make_engine, migrate
    from bridge.store.employees import EmployeeStore

    engine = make_engine(database_url)
    migrate(engine)
    hr = HrService(EmployeeStore(engine), Mappings.load().currencies)
    start = time.perf_counter()
    for first in range(0, size, QUEUE_CHUNK):
        hr.record_changes(employee_change(n) for n in range(first, min(size, first + QUEUE_CHUNK)))
    engine.dispose()
    return time.perf_counter() - start


def run_worker(arguments: list[str]) -> tuple[dict[str, Any], float]:
    """Run a sync process in its own interpreter; its report, and the CPU seconds of its run."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--worker", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"sync process failed ({process.returncode}):\n{err}")
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report, float(report.pop("cpu_seconds"))


def measure(size: int, contender: str, batch_size: int) -> Result:
    with tempfile.TemporaryDirectory(prefix=f"bench-sync-{contender}-") as tmp:
        workdir = Path(tmp)
        simulator = Simulator(workdir)
        try:
            if contender == "bridge":
                database_url = f"sqlite:///{workdir / 'bridge.db'}"
                queued = queue_changes(database_url, size)
                print(f"  queued {size:,} changes in {queued:.1f} s", file=sys.stderr)
                arguments = ["bridge", database_url, simulator.payroll_url, str(batch_size)]
            else:
                arguments = ["zeep", simulator.payroll_url, str(size), str(batch_size)]
            report, cpu = run_worker(arguments)
        finally:
            simulator.stop()
    return Result(
        size=size,
        contender=contender,
        delivered=report["delivered"],
        failed=report["failed"],
        error=report["error"],
        seconds=report["seconds"],
        upstream_seconds=report["upstream_seconds"],
        upstream_first_ms=report["upstream_first_ms"],
        upstream_last_ms=report["upstream_last_ms"],
        cpu_seconds=cpu,
        rss_start_mb=report["rss_start_kb"] / 1024,
        rss_peak_mb=report["rss_peak_kb"] / 1024,
    )


def worker_main(arguments: list[str]) -> int:
    kind, *rest = arguments
    if kind == "bridge":
        report = bridge_worker(rest[0], rest[1], int(rest[2]))
    else:
        report = zeep_worker(rest[0], int(rest[1]), int(rest[2]))
    print(json.dumps(report))
    return 0


def print_table(results: list[Result], batch_size: int) -> None:
    print(
        f"payroll sync, batches of {batch_size}; simulator: bench/simulators.py (gunicorn "
        f"gthread, 1 worker) on loopback, a fresh one per run; {os.cpu_count()} CPUs"
    )
    header = (
        f"{'changes':>9} {'contender':<9} {'delivered':>9} {'seconds':>8} {'rec/s':>7}"
        f" {'cpu us/rec':>10} {'wait %':>6} {'sim ms/call':>13} {'RSS start MB':>12}"
        f" {'RSS peak MB':>11}"
    )
    print(header)
    for r in results:
        calls = f"{r.upstream_first_ms:.0f} -> {r.upstream_last_ms:.0f}"
        print(
            f"{r.size:>9,} {r.contender:<9} {r.delivered:>9,} {r.seconds:>8.2f}"
            f" {r.per_second:>7,.0f} {r.cpu_seconds / r.size * 1e6:>10,.0f}"
            f" {r.wait_share * 100:>6.0f} {calls:>13} {r.rss_start_mb:>12.1f}"
            f" {r.rss_peak_mb:>11.1f}"
            + (f"  ({r.failed} failed: {r.error})" if r.failed or r.error else "")
        )
    by = {(r.size, r.contender): r for r in results}
    sizes = sorted({r.size for r in results})
    print()
    for size in sizes:
        ours, theirs = by.get((size, "bridge")), by.get((size, "zeep"))
        if ours and theirs:
            print(
                f"{size:>9,}: bridge rec/s / zeep rec/s = {ours.per_second / theirs.per_second:.2f}"
                f";  cpu per record bridge / zeep = {ours.cpu_seconds / theirs.cpu_seconds:.2f}"
            )
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for contender in ("bridge", "zeep"):
            a, b = by.get((small, contender)), by.get((large, contender))
            if a and b:
                grew = (a.rss_peak_mb - a.rss_start_mb, b.rss_peak_mb - b.rss_start_mb)
                print(
                    f"{contender}: peak RSS at {large:,} / at {small:,} = "
                    f"{b.rss_peak_mb / a.rss_peak_mb:.2f} ({a.rss_peak_mb:.1f} -> "
                    f"{b.rss_peak_mb:.1f} MB; growth during the run "
                    f"{grew[0]:.1f} -> {grew[1]:.1f} MB)"
                )
    waits = [r for r in results if r.wait_share >= 0.5]
    if waits:
        worst = max(waits, key=lambda r: r.wait_share)
        print(
            f"the simulator is the bottleneck: up to {worst.wait_share:.0%} of a run "
            f"({worst.contender}, {worst.size:,}) was spent waiting for its answers; compare "
            "cpu us/rec rather than rec/s"
        )


def sizes_option(value: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("a comma-separated list of positive counts")
    return sizes


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        return worker_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=sizes_option,
        default=[1000, 10000, 100000],
        help="comma-separated numbers of HR changes (default 1000,10000,100000)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=200,
        help="records per SubmitPayrollBatch, both contenders (default 200, the job's own)",
    )
    parser.add_argument(
        "--contenders", default="bridge,zeep", help="which to run (default bridge,zeep)"
    )
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        for contender in args.contenders.split(","):
            print(f"{contender}: {size:,} changes ...", file=sys.stderr)
            results.append(measure(size, contender, args.batch_size))
    print_table(results, args.batch_size)
    # Every change must have reached payroll, or the figures measure something else.
    return 0 if all(r.delivered == r.size for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
