"""The four upstream simulators for the benchmarks: open, under gunicorn, on a loopback port and a
database of their own.

    gunicorn 'bench.simulators:create_app("sqlite:///sims.db", "http://127.0.0.1:8090")'

A bridge serves its simulators to its own upstream clients only (a per-process server that wants
the process's secret, `bridge.sims.server`) and to `simulators:admin` clients on its public port
(`bridge.sims.gate`): neither is for another process to call. A benchmark's bridge under test,
its zeep baseline and its naive proxy are other processes, so they call these, served open on
127.0.0.1 as the tests' `serve_simulators` does, with gunicorn's workers instead of one thread
pool. They keep HTTP/1.1 connections alive, as real servers do (gunicorn's gthread worker, its
keep-alive on); `keep_alive=False` closes each instead. Requests and connections are counted when
`connection_log` names a file (bench/connections.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from wsgiref.types import WSGIApplication

import requests
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bench.connections import LOG_VARIABLE, counted
from bridge.sims import create_simulators, seed
from bridge.store.db import make_engine, migrate

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def create_app(database_url: str, base_url: str) -> WSGIApplication:
    """The simulators mounted at /sims/<name>, as a bridge mounts them, without the gate."""
    app: WSGIApplication = DispatcherMiddleware(
        NotFound(), dict(create_simulators(make_engine(database_url), base_url))
    )
    served: WSGIApplication = counted(app)
    return served


def serve(
    database_url: str,
    port: int,
    *,
    workers: int = 2,
    threads: int = 8,
    log: Path | None = None,
    keep_alive: bool = True,
    connection_log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """gunicorn serving `create_app` on 127.0.0.1:`port`, answering when this returns."""
    engine = make_engine(database_url)
    try:  # once, before gunicorn's workers could race to create the tables and seed rows
        migrate(engine)
        seed(engine)
    finally:
        engine.dispose()
    base = f"http://127.0.0.1:{port}"
    output = (
        subprocess.DEVNULL if log is None else os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    )
    process = subprocess.Popen(
        [
            str(GUNICORN),
            f"--workers={workers}",
            "--worker-class=gthread",
            f"--threads={threads}",
            "--timeout=300",
            f"--keep-alive={5 if keep_alive else 0}",
            "--no-control-socket",
            "--log-level=warning",
            f"--bind=127.0.0.1:{port}",
            f"bench.simulators:create_app({database_url!r}, {base!r})",
        ],
        cwd=ROOT,
        env=(
            os.environ
            if connection_log is None
            else {**os.environ, LOG_VARIABLE: str(connection_log)}
        ),
        stdout=output,
        stderr=output,
    )
    if log is not None:
        os.close(output)  # the child holds its own copy
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the simulators exited with {process.returncode}")
        try:
            if requests.get(f"{base}/sims/corebank?wsdl", timeout=10).ok:
                return process
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or its first WSDL still being built
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"the simulators did not answer at {base} within 60 s")
