"""What a person sees in the terminal: a command's answer, not the libraries' chatter."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.served import BRIDGE

pytestmark = pytest.mark.slow


def _bridge(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BRIDGE_SCHEDULER": "false"}
    return subprocess.run(
        [str(BRIDGE), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )


def test_sync_status_prints_its_table_and_no_log_lines(tmp_path: Path) -> None:
    done = _bridge(tmp_path, "sync", "status")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split() == [
        "queue",
        "pending",
        "claimed",
        "delivered",
        "dead",
    ]
    assert done.stderr == "", "migrations and spyne start-up logged to the terminal"


def test_migrate_prints_one_line(tmp_path: Path) -> None:
    done = _bridge(tmp_path, "migrate")

    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert done.stdout.startswith("database sqlite:///var/bridge.db at revision ")
    assert done.stderr == ""
