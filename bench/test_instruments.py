"""Checks of the benchmarks' own instruments: wrk's report read right, connections counted right,
stage times adding up. Not part of the suite (its testpaths is tests/); run them after changing
bench/:

    .venv/bin/pytest bench/test_instruments.py -q -p no:cacheprovider
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import stub_corebank  # noqa: E402
from bench.connections import ConnectionLog, session_reuse, worker_split  # noqa: E402
from bench.stages import Stage, StageTimer  # noqa: E402
from bench.wrk_report import WrkOutputError, duration_ms, parse  # noqa: E402

REPORTS = ROOT / "bench" / "wrk"


def test_a_plain_wrk_report_gives_rate_count_and_percentiles() -> None:
    report = parse((REPORTS / "report_kept_alive.txt").read_text())

    assert (report.requests, report.rps, report.errors) == (11325, 5618.41, 0)
    assert report.p50_ms == pytest.approx(0.479)
    assert report.p99_ms == pytest.approx(6.63)


def test_stdev_percentages_ending_in_50_or_99_are_not_read_as_percentiles() -> None:
    report = parse((REPORTS / "report_stdev_trap.txt").read_text())

    assert report.p50_ms == pytest.approx(2010.0)
    assert report.p99_ms == pytest.approx(61_200.0)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("479.00us", 0.479),
        ("1.13ms", 1.13),
        ("2.01s", 2010.0),
        ("1.02m", 61_200.0),
        ("1.00h", 3.6e6),
    ],
)
def test_every_unit_wrk_prints_becomes_milliseconds(text: str, ms: float) -> None:
    assert duration_ms(text) == pytest.approx(ms)


def test_a_report_without_its_latency_distribution_is_an_error_not_nan() -> None:
    text = (REPORTS / "report_kept_alive.txt").read_text()
    cut = text[: text.index("  Latency Distribution")] + text[text.index("  11325 requests") :]

    with pytest.raises(WrkOutputError, match="--latency"):
        parse(cut)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(params=[True, False], ids=["keep-alive", "close"])
def stub(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, bool, ConnectionLog]]:
    """The core banking stub keeping connections alive or closing each: (url, kept, log)."""
    port, log = _free_port(), ConnectionLog(tmp_path / "connections")
    process = stub_corebank.serve(
        port, keep_alive=request.param, workers=1, threads=2, connection_log=log.path
    )
    try:
        yield f"http://127.0.0.1:{port}/", request.param, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_session_opens_one_connection_to_a_kept_alive_stub_and_one_per_call_otherwise(
    stub: tuple[str, bool, ConnectionLog],
) -> None:
    url, kept_alive, log = stub

    used = session_reuse(url, log, calls=50)

    assert used.requests == 50
    assert used.connections == (1 if kept_alive else 50)


def test_the_worker_split_counts_each_open_connection_once_under_the_process_holding_it(
    tmp_path: Path,
) -> None:
    port = _free_port()
    process = stub_corebank.serve(port, keep_alive=True, workers=2, threads=2)
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(6)]
    try:
        for client in clients:  # a request each, answered: every connection is accepted
            client.sendall(b"GET / HTTP/1.1\r\nHost: stub\r\n\r\n")
            assert client.recv(65536).startswith(b"HTTP/1.1 ")
        split = worker_split(port, 2)
    finally:
        for client in clients:
            client.close()
        process.terminate()
        process.wait(timeout=30)

    assert sum(split) == 6
    assert len(split) == 2
    assert list(split) == sorted(split, reverse=True)


def test_no_connection_is_no_split() -> None:
    assert worker_split(_free_port(), 2) == ()


def test_stage_times_exclude_inner_stages_and_add_up_to_the_request(tmp_path: Path) -> None:
    log = ConnectionLog(tmp_path / "absent")
    timer = StageTimer()
    stages = [
        Stage("read", ("bench.connections.ConnectionLog.read",)),
        Stage("gone", ("bench.connections.NoSuchThing.read",)),
    ]
    missing = timer.instrument(stages)
    try:
        with timer.request():
            log.read()
            log.read()
    finally:
        timer.restore()

    assert missing == ["bench.connections.NoSuchThing.read"]
    assert timer.calls["read"] == 2
    assert timer.exclusive[""] + timer.exclusive["read"] == pytest.approx(timer.total)
    assert not hasattr(ConnectionLog.read, "__wrapped__")  # restored
