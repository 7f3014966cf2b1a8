"""A core banking stand-in that answers every PostPayment with the same settled reply at once.

    gunicorn --workers 2 --worker-class gthread --threads 8 'bench.stub_corebank:create_app()'

For `bench/banking.py --upstream stub`: with the simulator (spyne + a SQLite ledger) out of the
way, the contenders' own cost per request is what the numbers compare. `serve` runs it the two
ways a core banking server may treat its callers: keeping HTTP/1.1 connections alive, as real
servers do (the reply has a Content-Length, so gunicorn's gthread worker keeps the connection
when the client asks), or closing each (`Connection: close`, gunicorn's keep-alive off), so the
client pays a new TCP connection per call. Same worker class and threads both ways: only the
connection policy differs. Requests and connections are counted when bench/connections.py's
`LOG_VARIABLE` names a file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests

from bench.connections import LOG_VARIABLE, WsgiApp, counted

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
REPLY = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<PostPaymentResponse xmlns="urn:corebank:payments:v1"><paymentId>P-STUB</paymentId>'
    b"<resultCode>00</resultCode><resultText>posted</resultText>"
    b"<postingDate>2026-11-25</postingDate></PostPaymentResponse></soap:Body></soap:Envelope>"
)


def reply(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(length)
    start_response(
        "200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(REPLY)))]
    )
    return [REPLY]


def create_app() -> WsgiApp:
    """The stub, counted when the environment asks for it (bench/connections.py)."""
    return counted(reply)


def serve(
    port: int,
    *,
    keep_alive: bool = True,
    workers: int = 2,
    threads: int = 8,
    connection_log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """gunicorn serving the stub on 127.0.0.1:`port`, answering when this returns."""
    environment = {**os.environ}
    if connection_log is not None:
        environment[LOG_VARIABLE] = str(connection_log)
    process = subprocess.Popen(
        [
            str(GUNICORN),
            f"--workers={workers}",
            "--worker-class=gthread",
            f"--threads={threads}",
            # gunicorn's own default is 2 s; 0 makes every reply `Connection: close`
            f"--keep-alive={5 if keep_alive else 0}",
            "--no-control-socket",
            "--log-level=warning",
            f"--bind=127.0.0.1:{port}",
            "bench.stub_corebank:create_app()",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the core banking stub exited with {process.returncode}")
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"the core banking stub did not answer on port {port} within 60 s")
