"""`bridge serve` (gunicorn workers) stopped gracefully right after a burst of calls: every
call's audit row is in the database afterwards, written by the workers at exit if their writer
thread had not got to it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from bridge.store.audit import AuditLog
from bridge.store.db import make_engine
from tests.served import bridge_serve

pytestmark = pytest.mark.slow

CALLS = 20


def test_rows_buffered_when_the_workers_stop_are_written(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex[:8]
    ids = [f"exit-{marker}-{n}" for n in range(CALLS)]
    # The writer thread would wait an hour: only the workers' exit can write the rows.
    environment = {
        "BRIDGE_WORKERS": "2",
        "BRIDGE_THREADS": "4",
        "BRIDGE_AUDIT_FLUSH_INTERVAL": "3600",
    }
    with bridge_serve(tmp_path, environment) as served:
        for n, correlation_id in enumerate(ids):
            path = "/api/v1/transfers/a%00b" if n % 2 else f"/api/v1/transfers/T-{n}"
            answer = requests.get(
                f"{served.url}{path}", headers={"X-Request-ID": correlation_id}, timeout=30
            )
            assert answer.status_code == 401
    # Left the block: SIGTERM, and the workers have exited.

    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'bridge.db'}")
    try:
        entries = AuditLog(engine).query(limit=1000)
    finally:
        engine.dispose()
    # (A burst of failed authentications adds a security event row: not counted here.)
    audited = [e.correlation_id for e in entries if e.outcome != "security_event"]
    assert sorted(c for c in audited if c in ids) == sorted(ids)
