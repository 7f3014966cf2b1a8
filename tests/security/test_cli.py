"""`bridge clients` through click's CliRunner, on a SQLite database and a key directory named by
the environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bridge.clients_cli import clients
from bridge.domain.errors import InvalidClient
from bridge.security.clients import ClientRegistry
from bridge.security.sealing import WSS_KEY_FILE, Sealer
from bridge.store.db import make_engine

Invoke = Callable[..., Result]


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def run(sqlite_url: str, keys_dir: Path) -> Invoke:
    runner = CliRunner()
    env = {"BRIDGE_DATABASE_URL": sqlite_url, "BRIDGE_TOKEN_KEYS_DIR": str(keys_dir)}

    def invoke(*args: str) -> Result:
        return runner.invoke(clients, list(args), env=env)

    return invoke


def _fields(output: str) -> dict[str, str]:
    return {
        name.strip(): value.strip()
        for name, _, value in (line.partition(":") for line in output.splitlines())
        if value
    }


def _create(run: Invoke) -> tuple[str, str]:
    result = run(
        "create",
        "--name",
        "Acme",
        "--tier",
        "partner",
        "--scope",
        "shipments:read",
        "--scope",
        "shipments:write",
        "--organisation",
        "acme",
        "--plan",
        "enterprise",
    )
    assert result.exit_code == 0, result.output
    fields = _fields(result.stdout)
    return fields["client_id"], fields["client_secret"]


def test_create_prints_an_id_and_a_secret_that_authenticate(run: Invoke, sqlite_url: str) -> None:
    client_id, secret = _create(run)

    client = ClientRegistry(make_engine(sqlite_url)).authenticate(client_id, secret)

    assert (client.tier, client.organisation, client.plan) == ("partner", "acme", "enterprise")


def test_list_shows_clients_but_never_secrets(run: Invoke) -> None:
    client_id, secret = _create(run)

    result = run("list")

    assert client_id in result.stdout
    assert "shipments:read shipments:write" in result.stdout
    assert secret not in result.stdout


def test_rotate_secret_prints_a_new_working_secret(run: Invoke, sqlite_url: str) -> None:
    client_id, old = _create(run)

    new = _fields(run("rotate-secret", client_id).stdout)["client_secret"]

    registry = ClientRegistry(make_engine(sqlite_url))
    assert registry.authenticate(client_id, new).id == client_id
    with pytest.raises(InvalidClient):
        registry.authenticate(client_id, old)


def test_disable_refuses_the_client(run: Invoke, sqlite_url: str) -> None:
    client_id, secret = _create(run)

    result = run("disable", client_id)

    assert result.exit_code == 0
    assert "disabled" in run("list").stdout
    with pytest.raises(InvalidClient):
        ClientRegistry(make_engine(sqlite_url)).authenticate(client_id, secret)


def test_api_key_prints_a_key_that_authenticates(run: Invoke, sqlite_url: str) -> None:
    client_id, _ = _create(run)

    key = _fields(run("api-key", client_id).stdout)["api_key"]

    assert ClientRegistry(make_engine(sqlite_url)).authenticate_api_key(key).id == client_id


def test_unknown_client_exits_non_zero_with_a_message(run: Invoke) -> None:
    result = run("rotate-secret", "cl_nobody")

    assert result.exit_code == 1
    assert "no API client" in result.stderr


def test_unknown_tier_is_a_usage_error(run: Invoke) -> None:
    result = run("create", "--name", "X", "--tier", "admin")

    assert result.exit_code == 2


def test_wss_password_prints_the_username_and_a_password_the_registry_checks_against(
    run: Invoke, sqlite_url: str, keys_dir: Path
) -> None:
    client_id, secret = _create(run)

    fields = _fields(run("wss-password", client_id).stdout)

    assert fields["username"] == client_id
    registry = ClientRegistry(make_engine(sqlite_url), sealer=Sealer(keys_dir / WSS_KEY_FILE))
    found = registry.wss_credentials(client_id)
    assert found is not None
    assert found[1] == fields["wss_password"] != secret


def test_wss_password_for_an_unknown_client_exits_non_zero(run: Invoke) -> None:
    result = run("wss-password", "cl_nobody")

    assert result.exit_code == 1
    assert "no API client" in result.stderr


def test_a_scope_the_bridge_does_not_know_is_a_usage_error(run: Invoke) -> None:
    result = run("create", "--name", "X", "--tier", "partner", "--scope", "shipments:delete")

    assert result.exit_code == 2
    assert "shipments:delete" in result.stderr


def test_env_form_prints_assignments_a_shell_can_eval(run: Invoke, sqlite_url: str) -> None:
    created = run(
        "create", "--name", "Shell", "--tier", "private", "--scope", "audit:read", "--env"
    )
    assigned = dict(line.split("=", 1) for line in created.stdout.splitlines())
    key = run("api-key", assigned["CLIENT_ID"], "--env").stdout.strip()
    wss = run("wss-password", assigned["CLIENT_ID"], "--env").stdout.splitlines()

    assert created.exit_code == 0, created.output
    assert set(assigned) == {"CLIENT_ID", "CLIENT_SECRET"}
    registry = ClientRegistry(make_engine(sqlite_url))
    assert registry.authenticate(assigned["CLIENT_ID"], assigned["CLIENT_SECRET"]).name == "Shell"
    assert key.startswith("API_KEY=bk_")
    assert registry.authenticate_api_key(key.removeprefix("API_KEY=")).id == assigned["CLIENT_ID"]
    assert [line.split("=", 1)[0] for line in wss] == ["WSS_USERNAME", "WSS_PASSWORD"]
