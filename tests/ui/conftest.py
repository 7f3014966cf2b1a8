"""The dashboard over the real app (SQLite, real migrations), driven like a browser would:
forms posted with the CSRF token read from the page, the session cookie kept by the client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import Client

from bridge.app import Bridge, create_app
from bridge.settings import Settings
from bridge.store.audit import AuditLog
from bridge.ui import trail
from tests.common.ui import UI, sign_in
from tests.credentials import CHEAP, Credentials, grant


@pytest.fixture(scope="package")
def ui_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    where = tmp_path_factory.mktemp("ui")
    return Settings(
        database_url=f"sqlite:///{where / 'bridge.db'}",
        simulators=False,
        scheduler=False,
        token_keys_dir=where / "keys",
    )


@pytest.fixture(scope="package")
def ui_bridge(ui_settings: Settings) -> Iterator[Bridge]:
    """One bridge for the package (building one costs a second or two): each test signs in with a
    client of its own and makes its own outbox rows."""
    bridge = create_app(ui_settings)
    # Clients are made with cheap argon2 parameters; checking them must not rehash them dearly.
    bridge.security.clients.hasher = CHEAP
    yield bridge
    bridge.engine.dispose()


@pytest.fixture
def fresh_bridge(sqlite_url: str, tmp_path: Path) -> Iterator[Bridge]:
    """A bridge of this test's own, for a test that reads every row of a table."""
    bridge = create_app(
        Settings(
            database_url=sqlite_url,
            simulators=False,
            scheduler=False,
            token_keys_dir=tmp_path / "keys",
        )
    )
    bridge.security.clients.hasher = CHEAP
    yield bridge
    bridge.engine.dispose()


@pytest.fixture(scope="package")
def ui_app(ui_bridge: Bridge) -> Flask:
    app: Flask = ui_bridge.mounts[UI]
    return app


@pytest.fixture(scope="package")
def audit(ui_app: Flask) -> AuditLog:
    log: AuditLog = ui_app.extensions[trail.EXTENSION]
    return log


@pytest.fixture
def operator(ui_bridge: Bridge) -> Credentials:
    """A private client holding sync:admin: who may sign in."""
    return grant(ui_bridge.engine, tier="private", scopes={"sync:admin"}, name="Ops Olga")


@pytest.fixture
def browser(ui_bridge: Bridge) -> Client:
    return Client(ui_bridge)


@pytest.fixture
def signed_in(browser: Client, operator: Credentials) -> Client:
    response = sign_in(browser, operator.client.id, operator.secret)
    assert response.status_code == 303, response.text
    return browser
