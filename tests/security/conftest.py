"""Security tests run on a real, migrated SQLite database; argon2 at its cheapest parameters,
because the tests are about what is checked, not about how slow it is to check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bridge.app import Bridge, create_app
from bridge.security.clients import ApiClient, ClientRegistry
from bridge.security.tokens import KeyRing, TokenService
from bridge.settings import Settings
from tests.common.clock import Clock
from tests.common.tokens import AUDIENCE, ISSUER
from tests.credentials import CHEAP


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(engine: Engine, clock: Clock) -> ClientRegistry:
    return ClientRegistry(engine, hasher=CHEAP, clock=clock)


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate("k1")


@pytest.fixture
def tokens(engine: Engine, ring: KeyRing, clock: Clock) -> TokenService:
    return TokenService(engine, ring, issuer=ISSUER, audience=AUDIENCE, clock=clock)


@pytest.fixture
def partner(registry: ClientRegistry) -> tuple[ApiClient, str]:
    return registry.create(
        "Acme Logistics",
        "partner",
        ["shipments:read", "shipments:write"],
        plan="enterprise",
        organisation="acme",
    )


@pytest.fixture
def app(sqlite_url: str, tmp_path: Path) -> Iterator[Bridge]:
    """The whole app on this test's database and signing keys, without simulators."""
    bridge = create_app(
        Settings(
            database_url=sqlite_url,
            simulators=False,
            scheduler=False,
            token_keys_dir=tmp_path / "keys",
        )
    )
    yield bridge
    bridge.close()
