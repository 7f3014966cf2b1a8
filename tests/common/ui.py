"""The dashboard driven like a browser would: forms posted with the CSRF token read from the
page, the session cookie kept by the client; dead letters made for it to show."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import html
from sqlalchemy import insert
from werkzeug.test import Client, TestResponse

from bridge.app import Bridge
from bridge.store.tables import outbox
from bridge.sync.outbox import DEAD

UI = "/ui"


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
    found = bridge.sync_status.delivery(delivery_id)
    assert found is not None
    return found.status


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
