"""`bridge audit` reads the log; the admin commands (`bridge clients ...`, `bridge sync ...`)
are recorded in it with interface "cli". Through click's CliRunner, on a migrated SQLite
database named by the environment."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from bridge.cli import main
from bridge.store.audit import AuditLog, AuditRecord
from tests.common.audit import entry

Invoke = Callable[..., Result]


@pytest.fixture
def run(engine: Engine, tmp_path: Path) -> Invoke:
    runner = CliRunner()
    env = {
        "BRIDGE_DATABASE_URL": str(engine.url),
        "BRIDGE_TOKEN_KEYS_DIR": str(tmp_path / "keys"),
        "BRIDGE_SIMULATORS": "false",
        "BRIDGE_SCHEDULER": "false",
    }

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env)

    return invoke


@pytest.fixture
def audit(engine: Engine) -> Iterator[AuditLog]:
    log = AuditLog(engine)
    yield log
    log.close()


def test_audit_lists_entries_newest_first(run: Invoke, audit: AuditLog) -> None:
    audit.record(entry("acme-1", operation="POST /api/v1/transfers", status="201"))
    audit.record(
        entry("acme-1", operation="GET /api/v1/transfers/<id>", outcome="not_found", status="404")
    )
    audit.flush()

    result = run("audit")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "at", "(UTC)"]
    assert "GET /api/v1/transfers/<id>" in lines[1]
    assert "not_found" in lines[1]
    assert "POST /api/v1/transfers" in lines[2]


def test_audit_filters_and_prints_json_lines(run: Invoke, audit: AuditLog) -> None:
    now = datetime.now(UTC)
    audit.record(entry("acme-1", at=now - timedelta(hours=3), outcome="denied", status="403"))
    audit.record(entry("acme-1", at=now, outcome="denied", status="403", resource_id="TX-7"))
    audit.record(entry("other", at=now, outcome="denied", status="403"))
    audit.record(entry("acme-1", at=now, outcome="ok"))
    audit.flush()

    result = run("audit", "--client", "acme-1", "--outcome", "denied", "--since", "1h", "--json")

    assert result.exit_code == 0, result.output
    (line,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (line["client_id"], line["outcome"], line["resource_id"]) == ("acme-1", "denied", "TX-7")
    assert set(line) == set(AuditRecord.__dataclass_fields__)


def test_audit_pages_with_before(run: Invoke, audit: AuditLog) -> None:
    for n in range(3):
        audit.record(entry("acme-1", resource_id=f"R{n}"))
    audit.flush()

    first = [
        json.loads(line) for line in run("audit", "--json", "--limit", "2").stdout.splitlines()
    ]
    rest = run("audit", "--json", "--before", str(first[-1]["id"]), "--interface", "rest")

    second = [json.loads(line) for line in rest.stdout.splitlines()]
    assert [e["resource_id"] for e in first + second] == ["R2", "R1", "R0"]


def test_audit_refuses_a_time_it_cannot_read(run: Invoke) -> None:
    result = run("audit", "--since", "yesterday-ish")

    assert result.exit_code == 2
    assert "ISO 8601" in result.output


def test_client_commands_are_recorded_without_their_secrets(run: Invoke, audit: AuditLog) -> None:
    created = run(
        "clients",
        "create",
        "--name",
        "Acme",
        "--tier",
        "partner",
        "--scope",
        "shipments:read",
        "--organisation",
        "acme",
    )
    assert created.exit_code == 0, created.output
    fields = dict(line.split(":", 1) for line in created.stdout.splitlines())
    client_id, secret = fields["client_id"].strip(), fields["client_secret"].strip()
    assert run("clients", "disable", client_id).exit_code == 0
    assert run("clients", "disable", "no-such-client").exit_code == 1

    found = audit.query(interface="cli")

    assert [(e.operation, e.resource_id, e.outcome, e.status) for e in found] == [
        ("clients disable", "no-such-client", "client_error", "1"),
        ("clients disable", client_id, "ok", "0"),
        ("clients create", "Acme", "ok", "0"),
    ]
    assert found[2].detail == "tier=partner scopes=shipments:read organisation=acme plan=standard"
    assert found[0].source is not None
    assert "@" in found[0].source
    assert all(secret not in repr(e) for e in found)


def test_a_sync_replay_from_the_shell_is_recorded(run: Invoke, audit: AuditLog) -> None:
    result = run("sync", "replay", "--all", "--job", "payroll")

    assert result.exit_code == 0, result.output
    (found,) = audit.query(interface="cli", limit=10)
    assert (found.operation, found.resource_id, found.outcome) == ("sync replay", "payroll", "ok")
    assert found.detail == "replay_all=True"


def test_reading_the_audit_log_is_itself_recorded(run: Invoke, audit: AuditLog) -> None:
    run("audit", "--outcome", "denied")

    (found,) = audit.query(interface="cli")
    assert (found.operation, found.detail) == ("audit", "outcome=denied limit=50")
