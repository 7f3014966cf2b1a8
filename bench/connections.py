"""How many TCP connections a benchmark's upstream server accepted, and for how many requests.

A bridge that opens a new connection per upstream call pays a TCP handshake (and, in
production, a TLS one) on every transfer; one that reuses its pooled connections does not. The
servers the benchmarks run (bench/stub_corebank.py, bench/simulators.py) are wrapped in
`CountedConnections` when `LOG_VARIABLE` names a file: every request appends one byte to it,
`NEW` when it is the first request on its connection, `REUSED` otherwise. One append per request
(O_APPEND, atomic for one byte) works across gunicorn's worker processes and threads without
any shared memory, and costs a system call, far below a request's own cost.

    count = ConnectionLog(path).read()   # Connections(requests=..., connections=...)
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOG_VARIABLE = "BENCH_CONNECTION_LOG"
NEW, REUSED = b"+", b"."

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Connections:
    requests: int
    connections: int

    def __str__(self) -> str:
        per = self.requests / self.connections if self.connections else 0.0
        return f"{self.connections:,} connections for {self.requests:,} requests ({per:,.1f} each)"

    def __sub__(self, other: Connections) -> Connections:
        return Connections(self.requests - other.requests, self.connections - other.connections)


class CountedConnections:
    """WSGI middleware: records each request as NEW or REUSED in the log file.

    A connection is known by its socket object (gunicorn's `gunicorn.socket`), held weakly so a
    closed connection's socket can go; a server without that key is known by the peer's address
    and port."""

    def __init__(self, app: WsgiApp, log: str | Path) -> None:
        self.app = app
        self.log = Path(log)
        self._fd: int | None = None
        self._pid = 0
        self._seen: weakref.WeakSet[Any] = weakref.WeakSet()
        self._peers: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        os.write(self._log_fd(), NEW if self._first_request(environ) else REUSED)
        return self.app(environ, start_response)

    def _first_request(self, environ: dict[str, Any]) -> bool:
        sock = environ.get("gunicorn.socket")
        with self._lock:
            if sock is not None:
                if sock in self._seen:
                    return False
                self._seen.add(sock)
                return True
            peer = (str(environ.get("REMOTE_ADDR")), str(environ.get("REMOTE_PORT")))
            if peer in self._peers:
                return False
            self._peers.add(peer)
            return True

    def _log_fd(self) -> int:
        """Opened in the process that serves (after gunicorn's fork), once per process."""
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._pid = os.getpid()
        return self._fd


def counted(app: WsgiApp) -> WsgiApp:
    """`app` counted into the file `LOG_VARIABLE` names, or `app` itself when it names none."""
    log = os.environ.get(LOG_VARIABLE)
    return CountedConnections(app, log) if log else app


class ConnectionLog:
    """The reading side: what the servers writing to `path` have counted so far."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Connections:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return Connections(0, 0)
        return Connections(requests=len(data), connections=data.count(NEW))


def session_reuse(url: str, log: ConnectionLog, *, calls: int = 50) -> Connections:
    """What one `requests.Session` making `calls` GETs of `url` cost the server in
    connections: 1 when the server keeps connections alive, `calls` when it closes each."""
    import requests

    before = log.read()
    with requests.Session() as session:
        for _ in range(calls):
            session.get(url, timeout=10).raise_for_status()
    return log.read() - before


_PROCESS = re.compile(r"pid=(\d+)")


def worker_split(port: int, workers: int) -> tuple[int, ...]:
    """How the client connections established to `port` are spread over the `workers` processes
    that serve them, most first (`(5, 3)`: one worker holds five, the other three; `(8, 0)`: one
    holds all), as `ss` (iproute2) reports them; () when `ss` is missing or shows none.

    gunicorn's workers share one listening socket, and the worker that wakes first accepts: a
    load generator that opens its few keep-alive connections at once can land most or all of
    them on one worker, which then has one core's worth of CPU (the GIL) for the whole load while
    the other waits. Printed beside each wrk run so that a lopsided round can be told from a
    slower contender."""
    try:
        listing = subprocess.run(
            ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    per_process = Counter(
        match.group(1) for line in listing.splitlines() if (match := _PROCESS.search(line))
    )
    if not per_process:
        return ()
    counts = sorted(per_process.values(), reverse=True)
    return tuple(counts + [0] * (workers - len(counts)))
