"""`bridge serve` as users and operators run it: the real command in a subprocess.

One helper for every test that must see the bridge the way it runs (gunicorn workers forked
from the `bridge serve` master, its import order, its metrics directory), instead of a copy of
the start/wait/stop loop per test module.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine

from bridge.store.db import make_engine
from tests.common.live import free_port
from tests.credentials import Credentials, grant

BRIDGE = Path(sys.executable).with_name("bridge")


@dataclass
class Served:
    """A running `bridge serve`: its base URL, working directory and process."""

    url: str
    workdir: Path
    process: subprocess.Popen[str]
    output: str = ""

    @contextlib.contextmanager
    def database(self) -> Iterator[Engine]:
        """An engine on the served bridge's embedded database (`var/bridge.db` in its working
        directory), disposed when left."""
        engine = make_engine(f"sqlite:///{self.workdir / 'var' / 'bridge.db'}")
        try:
            yield engine
        finally:
            engine.dispose()

    def grant(self, **options: Any) -> Credentials:
        """A client of the served bridge and its API key (`tests.credentials.grant`)."""
        with self.database() as engine:
            return grant(engine, **options)


def json_records(output: str) -> list[dict[str, Any]]:
    """The bridge's own log records in what `bridge serve` printed (one JSON object a line;
    gunicorn's own start-up lines stay plain and are skipped)."""
    records = []
    for line in output.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
    return records


def wait_healthy(process: subprocess.Popen[str], url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                "bridge serve exited:\n" + (process.stdout.read() if process.stdout else "")
            )
        with contextlib.suppress(requests.ConnectionError, requests.Timeout):
            if requests.get(f"{url}/healthz", timeout=1).ok:
                return
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"bridge serve did not answer /healthz within {timeout:g} s")


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM (a graceful stop), then what the process printed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


@contextlib.contextmanager
def bridge_serve(
    workdir: Path, env: Mapping[str, str] | None = None, *args: str
) -> Iterator[Served]:
    """`bridge serve [args]` in `workdir` on a free loopback port, healthy when entered, stopped
    gracefully when left. `env` is added to this process's environment; the scheduler is off
    unless it says otherwise."""
    port = free_port()
    environment = {
        **os.environ,
        "BRIDGE_SCHEDULER": "false",
        **(env or {}),
        "BRIDGE_PORT": str(port),
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [str(BRIDGE), "serve", *args],
        cwd=workdir,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}", workdir, process)
    try:
        wait_healthy(process, served.url)
        yield served
    finally:
        served.output = stop(process)
        (workdir / "serve.log").write_text(served.output)
