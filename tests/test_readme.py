"""The README's commands, run in order as a newcomer would, on a copy of the repository.

Every ```sh block of README.md runs, top to bottom, in one bash session (variables set by one
block are there for the next), with `set -euo pipefail`: a command that fails fails this test.
A block that cannot run on a developer's machine (it needs a Docker engine, or other hosts)
says so in a comment on the line before its fence: `<!-- not run: needs a Docker engine -->`.
What this test changes, and why:
- `make run` serves in the foreground forever: here it runs in the background, and the next
  command waits for /healthz;
- `make test` is the suite this test is part of: it is not run again;
- the port: 127.0.0.1:8080 becomes a free port, so a bridge already running is not disturbed;
- `curl` fails on an HTTP error status, as a person reading the answer would notice it.
The copy borrows this checkout's .venv without letting `make` install into it (installing
again would take a minute, and is what CI's own `make test` on a fresh clone does).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.common.live import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
FENCE = re.compile(
    r"^(?:[ \t]*<!-- not run: (?P<why>[^>]+?) -->\n)?(?P<indent>[ \t]*)```(?P<lang>[\w-]*)\n"
    r"(?P<body>.*?)^(?P=indent)```$",
    re.MULTILINE | re.DOTALL,
)
# An HTTP error fails the command (and shows its body), as a person reading the answer would see.
CURL_FAILS = 'curl() { command curl --fail-with-body "$@"; echo; }'
WAIT_HEALTHY = """
healthz="http://127.0.0.1:$BRIDGE_PORT/healthz"
for _ in $(seq 1 120); do command curl -fs "$healthz" >/dev/null && break; sleep 0.5; done
command curl -fs "$healthz" >/dev/null
"""


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    body: str
    not_run: str | None


def blocks(text: str) -> list[Block]:
    return [
        Block(
            line=text.count("\n", 0, match.start("body")),
            lang=match.group("lang"),
            body=textwrap.dedent(match.group("body")),
            not_run=match.group("why"),
        )
        for match in FENCE.finditer(text)
    ]


def shell_script(text: str, port: int) -> str:
    """The README's runnable shell blocks as one script, adapted as the module says."""
    parts = ["set -euo pipefail", f"export BRIDGE_PORT={port}", CURL_FAILS]
    for block in blocks(text):
        if block.lang != "sh" or block.not_run:
            continue
        parts.append(f"# --- README.md line {block.line}")
        for line in block.body.splitlines():
            command = line.split("#", 1)[0].strip()
            if command == "make run":
                parts.append("make run > make-run.log 2>&1 &")
                parts.append(WAIT_HEALTHY)
            elif command == "make test":
                continue
            else:
                parts.append(line.replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
    return "\n".join(parts) + "\n"


def _copy_of_the_repository(target: Path) -> Path:
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, tracked):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())  # keeps mtimes: make sees no change
    # The copy's .venv lends this checkout's interpreter and packages, and is marked installed
    # after the copy was made, so `make` installs nothing: an install from the copy would point
    # the shared editable install at a folder that is gone after the test.
    venv = target / ".venv"
    venv.mkdir()
    for part in (ROOT / ".venv").iterdir():
        if part.name != ".installed":
            (venv / part.name).symlink_to(part)
    (venv / ".installed").touch()
    return target


def test_every_shell_block_runs_or_says_why_not() -> None:
    found = blocks(README.read_text())
    shell = [block for block in found if block.lang == "sh"]
    assert shell, "the README shows no shell commands"
    unlabelled = [block.line for block in found if block.lang == "" and "$ " in block.body]
    assert not unlabelled, f"command blocks without a language at lines {unlabelled}"


def test_the_readme_commands_work_in_order(tmp_path: Path) -> None:
    workdir = _copy_of_the_repository(tmp_path / "bridge")
    port = free_port()
    script = workdir / "readme.sh"
    script.write_text(shell_script(README.read_text(), port))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BRIDGE_", "PROMETHEUS_", "VIRTUAL_ENV"))
    }
    # Its own session: the bridge `make run` left in the background goes with it.
    process = subprocess.Popen(
        ["bash", str(script)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=240)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    log = workdir / "make-run.log"
    assert process.returncode == 0, (
        f"README command failed (exit {process.returncode})\n--- stdout\n{stdout[-4000:]}"
        f"\n--- stderr\n{stderr[-4000:]}"
        f"\n--- make run\n{log.read_text()[-3000:] if log.exists() else ''}"
    )
