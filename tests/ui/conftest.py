"""The dashboard over the real app (SQLite, real migrations), driven like a browser would:
forms posted with the CSRF token read from the page, the session cookie kept by the client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from lxml import html
from sqlalchemy import insert
from werkzeug.test import Client, TestResponse

from bridge.app import Bridge, create_app
from bridge.settings import Settings
from bridge.store.audit import AuditLog
from bridge.store.tables import outbox
from bridge.sync import status
from bridge.sync.outbox import DEAD
from bridge.ui import trail
from tests.credentials import CHEAP, Credentials, grant

UI = "/ui"


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


def dead_letter(bridge: Bridge, topic: str = "payroll", error: str = "rejected: TEST") -> int:
    """A dead letter of `topic` with a key of its own; its delivery id."""
    now = datetime.now(UTC)
    with bridge.engine.begin() as connection:
        result = connection.execute(
            insert(outbox).values(
                topic=topic,
                key=f"UI-{uuid.uuid4().hex[:12]}",
                payload="{}",
                status=DEAD,
                attempts=1,
                last_error=error,
                available_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    delivery_id: int = result.inserted_primary_key[0]  # type: ignore[index]
    return delivery_id


def state(bridge: Bridge, delivery_id: int) -> str:
    found = status.delivery(bridge.engine, delivery_id)
    assert found is not None
    return str(found["status"])


@dataclass
class Page:
    response: TestResponse

    @property
    def tree(self) -> html.HtmlElement:
        return html.fromstring(self.response.get_data(as_text=True))

    def csrf(self) -> str:
        tokens = self.tree.xpath("//input[@name='csrf_token']/@value")
        assert tokens, "no form with a CSRF token on this page"
        return str(tokens[0])

    def text(self, xpath: str) -> list[str]:
        return [" ".join(e.text_content().split()) for e in self.tree.xpath(xpath)]


def get(browser: Client, path: str, **query: str) -> Page:
    return Page(browser.get(UI + path, query_string=query))


def post_form(browser: Client, path: str, data: dict[str, str], *, from_page: str = "/") -> Page:
    """Post `data` as the form on `from_page` would: with the token that page carries."""
    token = get(browser, from_page).csrf()
    return Page(browser.post(UI + path, data={"csrf_token": token, **data}))


def sign_in(browser: Client, client_id: str, secret: str, **extra: str) -> TestResponse:
    token = get(browser, "/login").csrf()
    return browser.post(
        UI + "/login",
        data={"csrf_token": token, "client_id": client_id, "client_secret": secret, **extra},
    )
