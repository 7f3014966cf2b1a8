"""Reading wrk's printed report (wrk 4.x, `--latency`): requests/s, p50, p99, errors.

wrk prints durations in the unit that suits them: `us`, `ms`, `s`, then `m` and `h` past a
minute (`1.02m`). Its report also has percentages that are not percentiles, the `+/- Stdev`
column of the thread stats:

      Latency    12.10ms    3.20ms  80.00ms   72.50%
      Req/Sec   330.12     40.00   400.00     61.50%
    Latency Distribution
       50%   11.80ms

A search for the first `50%` anywhere matches inside `72.50%` and takes the next word
("Req/Sec", "Latency") for the value: that is how a PostgreSQL run once printed its p50 as
`nan`. Percentiles are read only from the lines under "Latency Distribution", each a whole line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MS_PER_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = re.compile(r"^([\d.]+)(us|ms|s|m|h)$")
_DISTRIBUTION = re.compile(r"^\s*Latency Distribution\s*$", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s+(\d+(?:\.\d+)?)%\s+(\S+)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s+(\d+) requests in ", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


class WrkOutputError(ValueError):
    """wrk's output lacks a figure the benchmark needs: shown whole, never read as nan."""


@dataclass(frozen=True)
class WrkReport:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def duration_ms(text: str) -> float:
    """One of wrk's durations (`479.00us`, `1.13ms`, `2.01s`, `1.02m`, `1.00h`) in ms."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise WrkOutputError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _MS_PER_UNIT[match.group(2)]


def percentiles(output: str) -> dict[float, float]:
    """The "Latency Distribution" block: {50.0: ms, 75.0: ms, 90.0: ms, 99.0: ms}."""
    start = _DISTRIBUTION.search(output)
    if start is None:
        raise WrkOutputError(f"no latency distribution (was wrk run with --latency?):\n{output}")
    found = {}
    for line in output[start.end() :].lstrip("\n").splitlines():
        match = _PERCENTILE.match(line)
        if match is None:
            break
        found[float(match.group(1))] = duration_ms(match.group(2))
    return found


def parse(output: str) -> WrkReport:
    """The figures of one wrk run, or `WrkOutputError` naming what is missing."""
    rate, total = _RATE.search(output), _TOTAL.search(output)
    if rate is None or total is None:
        raise WrkOutputError(f"no request count or rate in wrk's output:\n{output}")
    latency = percentiles(output)
    if 50.0 not in latency or 99.0 not in latency:
        raise WrkOutputError(f"no 50% or 99% latency in wrk's output:\n{output}")
    non_2xx = _NON_2XX.search(output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    socket_errors = _SOCKET_ERRORS.search(output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return WrkReport(
        requests=int(total.group(1)),
        rps=float(rate.group(1)),
        p50_ms=latency[50.0],
        p99_ms=latency[99.0],
        errors=errors,
    )
