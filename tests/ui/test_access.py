"""Who gets into the dashboard: private clients holding sync:admin, signed in with their id and
secret; every page but the login page needs the session, every form its CSRF token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from bridge.app import Bridge, create_app
from bridge.settings import Settings
from bridge.store.audit import AuditLog
from bridge.ui.session import current_operator
from bridge.ui.session import sign_in as start_session
from tests.common.ui import UI, dead_letter, get, post_form, sign_in, state
from tests.credentials import Credentials, grant

PAGES = ["/", "/audit", "/deliveries/1", "/?window=24h"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_visitor_to_the_login_page(browser: Client, path: str) -> None:
    response = browser.get(UI + path)

    assert response.status_code == 302
    assert response.location.startswith(f"{UI}/login?next=")


@pytest.mark.parametrize("path", ["/deliveries/{id}/replay", "/jobs/payroll/run", "/logout"])
def test_every_form_needs_a_signed_in_operator_even_with_a_valid_token(
    browser: Client, ui_bridge: Bridge, path: str
) -> None:
    delivery_id = dead_letter(ui_bridge)
    visitor_token = get(browser, "/login").csrf()

    response = browser.post(UI + path.format(id=delivery_id), data={"csrf_token": visitor_token})

    assert response.status_code == 302
    assert response.location.startswith(f"{UI}/login")
    assert state(ui_bridge, delivery_id) == "dead"


def test_the_login_page_and_the_stylesheet_need_no_session(browser: Client) -> None:
    assert browser.get(UI + "/login").status_code == 200
    with browser.get(UI + "/static/ui.css") as stylesheet:
        assert stylesheet.status_code == 200


def test_an_operator_signs_in_and_lands_where_they_were_going(
    browser: Client, operator: Credentials
) -> None:
    first = browser.get(UI + "/audit?outcome=denied")
    target = first.location.partition("next=")[2]

    response = sign_in(
        browser, operator.client.id, operator.secret, next=f"{UI}/audit?outcome=denied"
    )
    page = get(browser, "/")

    assert target
    assert response.status_code == 303
    assert response.location == f"{UI}/audit?outcome=denied"
    assert page.response.status_code == 200
    assert page.text("//header//form[@class='who']/span") == [f"Ops Olga {operator.client.id}"]


@pytest.mark.parametrize(
    "elsewhere", ["https://evil.example/ui/", "//evil.example/ui/", "/api/v1/sync/jobs", "/ui\\x"]
)
def test_a_next_page_outside_the_dashboard_is_ignored(
    browser: Client, operator: Credentials, elsewhere: str
) -> None:
    response = sign_in(browser, operator.client.id, operator.secret, next=elsewhere)

    assert response.location == f"{UI}/"


def test_a_wrong_secret_is_refused_without_saying_which_part_was_wrong(
    browser: Client, operator: Credentials
) -> None:
    wrong_secret = sign_in(browser, operator.client.id, "not-the-secret")
    unknown_id = sign_in(browser, "cl_0000000000000000", operator.secret)

    for response in (wrong_secret, unknown_id):
        assert response.status_code == 401
        assert "Unknown client id or wrong secret." in response.get_data(as_text=True)
    assert browser.get(UI + "/").status_code == 302


@pytest.mark.parametrize(
    ("tier", "scopes", "missing"),
    [
        ("partner", {"sync:admin", "shipments:read"}, "this is a partner client with it."),
        ("public", {"sync:admin"}, "this is a public client with it."),
        ("private", {"audit:read", "transfers:write"}, "this is a private client without it."),
    ],
)
def test_clients_of_another_tier_or_without_sync_admin_are_refused(
    browser: Client, ui_bridge: Bridge, tier: str, scopes: set[str], missing: str
) -> None:
    other = grant(ui_bridge.engine, tier=tier, scopes=scopes)

    response = sign_in(browser, other.client.id, other.secret)

    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "The dashboard is for private clients holding the scope sync:admin" in text
    assert missing in text
    assert browser.get(UI + "/").status_code == 302


def test_refused_and_accepted_sign_ins_are_audited(
    browser: Client,
    ui_bridge: Bridge,
    operator: Credentials,
    audit: AuditLog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refusals: list[tuple[str | None, str, str]] = []
    monkeypatch.setattr(ui_bridge.security, "on_failure", lambda *fail: refusals.append(fail))
    partner = grant(ui_bridge.engine, tier="partner", scopes={"sync:admin"})

    sign_in(browser, operator.client.id, "not-the-secret")
    sign_in(browser, partner.client.id, partner.secret)
    sign_in(browser, operator.client.id, operator.secret)
    audit.flush()

    found = audit.query(interface="ui", client_id=operator.client.id)

    assert [(r.operation, r.outcome, r.status, r.client_id) for r in reversed(found)] == [
        ("login", "unauthenticated", "401", operator.client.id),
        ("login", "ok", "303", operator.client.id),
    ]
    assert found[0].tier == "private"
    assert "not-the-secret" not in str(found)
    [denied] = audit.query(interface="ui", client_id=partner.client.id)
    assert (denied.outcome, denied.status, denied.tier) == ("denied", "403", "partner")
    # Only the wrong secret counts as a refused credential (where guessing runs are watched).
    assert [(door, reason) for _, door, reason in refusals] == [("ui", "invalid")]


def test_guessing_the_secret_locks_the_client_id_out_even_for_the_right_secret(
    ui_bridge: Bridge, operator: Credentials, audit: AuditLog
) -> None:
    # A source of its own: the package's other tests share 127.0.0.1's count.
    def from_elsewhere(environ: dict[str, Any], start_response: Any) -> Any:
        return ui_bridge({**environ, "REMOTE_ADDR": "203.0.113.7"}, start_response)

    guesser = Client(from_elsewhere)
    limit = ui_bridge.settings.auth_failure_limit

    refused = [sign_in(guesser, operator.client.id, f"guess-{n}").status_code for n in range(limit)]
    locked = sign_in(guesser, operator.client.id, operator.secret)
    audit.flush()

    assert refused == [401] * limit
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "too many failed authentications" in locked.get_data(as_text=True)
    assert guesser.get(UI + "/").status_code == 302, "the right secret did not sign in"
    [throttled] = audit.query(interface="ui", client_id=operator.client.id, outcome="rate_limited")
    assert throttled.status == "429"


def test_a_form_without_the_session_csrf_token_is_refused(
    signed_in: Client, ui_bridge: Bridge
) -> None:
    dead = dead_letter(ui_bridge)

    missing = signed_in.post(f"{UI}/deliveries/{dead}/replay")
    forged = signed_in.post(f"{UI}/deliveries/{dead}/replay", data={"csrf_token": "forged"})

    assert (missing.status_code, forged.status_code) == (403, 403)
    assert "did not come from your dashboard session" in forged.get_data(as_text=True)
    assert state(ui_bridge, dead) == "dead"


def test_another_sessions_token_does_not_open_this_one(
    ui_bridge: Bridge, operator: Credentials, signed_in: Client
) -> None:
    other = Client(ui_bridge)
    sign_in(other, operator.client.id, operator.secret)
    foreign = get(other, "/").csrf()

    response = signed_in.post(f"{UI}/logout", data={"csrf_token": foreign})

    assert response.status_code == 403
    assert signed_in.get(UI + "/").status_code == 200


def test_the_login_form_itself_needs_its_token(browser: Client, operator: Credentials) -> None:
    response = browser.post(
        UI + "/login", data={"client_id": operator.client.id, "client_secret": operator.secret}
    )

    assert response.status_code == 403
    assert browser.get(UI + "/").status_code == 302


def test_signing_out_ends_the_session(signed_in: Client) -> None:
    response = post_form(signed_in, "/logout", {})

    assert response.response.status_code == 303
    assert signed_in.get(UI + "/").status_code == 302
    assert "Signed out." in get(signed_in, "/login").response.get_data(as_text=True)


def test_a_disabled_client_is_signed_out_at_its_next_click(
    signed_in: Client, ui_bridge: Bridge, operator: Credentials
) -> None:
    ui_bridge.security.clients.disable(operator.client.id)

    assert signed_in.get(UI + "/").status_code == 302


def test_a_login_lasts_the_configured_hours_however_busy(
    ui_app: Flask, ui_bridge: Bridge, operator: Credentials
) -> None:
    lifetime = ui_app.permanent_session_lifetime
    signed_in_at = datetime.now(UTC)
    with ui_app.test_request_context(UI + "/"):
        start_session(operator.client, signed_in_at)
        clients = ui_bridge.security.clients
        just_before = current_operator(
            clients, lifetime, signed_in_at + lifetime - timedelta(seconds=1)
        )
        at_the_end = current_operator(clients, lifetime, signed_in_at + lifetime)

    assert lifetime == timedelta(hours=8)
    assert just_before is not None
    assert just_before.id == operator.client.id
    assert at_the_end is None


def test_the_session_cookie_is_http_only_same_site_strict_and_scoped_to_the_dashboard(
    browser: Client, operator: Credentials
) -> None:
    response = sign_in(browser, operator.client.id, operator.secret)

    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("bridge_ui=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/ui" in cookie
    assert "Secure" not in cookie  # served over http here
    assert "Expires=" in cookie


def test_behind_https_the_cookie_is_secure(ui_settings: Settings) -> None:
    bridge = create_app(ui_settings.model_copy(update={"public_url": "https://bridge.example"}))
    try:
        response = Client(bridge).get(UI + "/login")
    finally:
        bridge.engine.dispose()

    assert "Secure" in response.headers["Set-Cookie"]
