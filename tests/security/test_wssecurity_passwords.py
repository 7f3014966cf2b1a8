"""WS-Security passwords: issued by the registry, sealed at rest under a key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select

from bridge.domain.errors import ConfigurationError, NotFound
from bridge.security.clients import ClientRegistry
from bridge.security.sealing import WSS_KEY_FILE, Sealer, load_key
from bridge.store.security_tables import api_clients
from tests.common.clock import Clock


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / WSS_KEY_FILE


@pytest.fixture
def wss_registry(engine: Engine, clock: Clock, key_file: Path) -> ClientRegistry:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return ClientRegistry(engine, hasher=cheap, clock=clock, sealer=Sealer(key_file))


def stored(engine: Engine, client_id: str) -> str | None:
    with engine.connect() as db:
        value: str | None = db.execute(
            select(api_clients.c.wss_password).where(api_clients.c.id == client_id)
        ).scalar_one()
    return value


def test_the_key_file_is_made_on_first_use_readable_by_its_owner_only(
    key_file: Path,
) -> None:
    sealer = Sealer(key_file)
    assert not key_file.exists()

    sealer.seal("secret", "cl_a")

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_nodes_sharing_the_key_file_open_each_others_seals(key_file: Path) -> None:
    sealed = Sealer(key_file).seal("secret", "cl_a")

    assert Sealer(key_file).open(sealed, "cl_a") == "secret"


def test_an_existing_key_file_is_never_replaced(key_file: Path) -> None:
    first = load_key(key_file)

    assert load_key(key_file) == first


def test_a_seal_does_not_open_under_another_client(key_file: Path) -> None:
    sealed = Sealer(key_file).seal("secret", "cl_a")

    with pytest.raises(ConfigurationError):
        Sealer(key_file).open(sealed, "cl_b")


def test_a_seal_does_not_open_with_another_key(tmp_path: Path, key_file: Path) -> None:
    sealed = Sealer(key_file).seal("secret", "cl_a")

    with pytest.raises(ConfigurationError):
        Sealer(tmp_path / "other" / WSS_KEY_FILE).open(sealed, "cl_a")


def test_a_key_file_of_the_wrong_size_is_a_configuration_error(key_file: Path) -> None:
    key_file.parent.mkdir(parents=True)
    key_file.write_text("c2hvcnQ=\n")

    with pytest.raises(ConfigurationError, match=WSS_KEY_FILE):
        Sealer(key_file).seal("secret", "cl_a")


def test_the_password_is_stored_sealed_not_in_clear(
    wss_registry: ClientRegistry, engine: Engine
) -> None:
    client, _ = wss_registry.create("Nordbank", "partner", ["accounts:read"])

    password = wss_registry.create_wss_password(client.id)

    sealed = stored(engine, client.id)
    assert sealed is not None
    assert password not in sealed


def test_the_registry_gives_the_verifier_the_current_password(
    wss_registry: ClientRegistry,
) -> None:
    client, _ = wss_registry.create("Nordbank", "partner", ["accounts:read"])
    wss_registry.create_wss_password(client.id)
    password = wss_registry.create_wss_password(client.id)

    assert wss_registry.wss_credentials(client.id) == (client, password)


def test_a_client_without_a_wss_password_has_no_wss_credentials(
    wss_registry: ClientRegistry,
) -> None:
    client, _ = wss_registry.create("Nordbank", "partner", ["accounts:read"])

    assert wss_registry.wss_credentials(client.id) is None
    assert wss_registry.wss_credentials("cl_unknown") is None


def test_a_wss_password_for_an_unknown_client_is_not_found(
    wss_registry: ClientRegistry,
) -> None:
    with pytest.raises(NotFound):
        wss_registry.create_wss_password("cl_unknown")


def test_a_registry_without_a_sealer_issues_no_wss_password(registry: ClientRegistry) -> None:
    client, _ = registry.create("Nordbank", "partner", ["accounts:read"])

    with pytest.raises(ConfigurationError):
        registry.create_wss_password(client.id)
