"""`POST /oauth/token` over the whole WSGI stack, on a migrated SQLite database."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from werkzeug.test import Client, TestResponse

from bridge.app import Bridge, create_app
from bridge.security.clients import ClientRegistry
from bridge.security.tokens import KeyRing, TokenService
from bridge.settings import Settings

URL = "/oauth/token"
SCOPES = ["shipments:read", "shipments:write"]


@pytest.fixture
def app(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bridge]:
    # The signing keys default to ./var/keys: keep them in this test's directory.
    monkeypatch.chdir(tmp_path)
    bridge = create_app(Settings(database_url=sqlite_url, simulators=False))
    yield bridge
    bridge.engine.dispose()


@pytest.fixture
def http(app: Bridge) -> Client:
    return Client(app)


@pytest.fixture
def registry(app: Bridge) -> ClientRegistry:
    return ClientRegistry(app.engine)


@pytest.fixture
def credentials(registry: ClientRegistry) -> tuple[str, str]:
    client, secret = registry.create("Acme", "partner", SCOPES, organisation="acme")
    return client.id, secret


def verifier(app: Bridge, tmp_path: Path) -> TokenService:
    """Checks tokens the way another worker would: from the key files alone."""
    ring = KeyRing.load(tmp_path / "var" / "keys")
    return TokenService(app.engine, ring, issuer=app.settings.base_url, audience="bridge")


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def token(http: Client, form: dict[str, Any], **headers: str) -> TestResponse:
    return http.post(URL, data=form, headers=headers)


def assert_oauth_error(response: TestResponse, status: int, error: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == error
    assert response.headers["Cache-Control"] == "no-store"


def test_client_credentials_with_basic_auth_issue_a_bearer_token(
    http: Client, app: Bridge, tmp_path: Path, credentials: tuple[str, str]
) -> None:
    response = token(http, {"grant_type": "client_credentials"}, **basic(*credentials))

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    assert body["scope"] == " ".join(SCOPES)
    assert body["refresh_token"]
    assert verifier(app, tmp_path).verify(body["access_token"]).client_id == credentials[0]


def test_client_credentials_in_the_form_are_accepted(
    http: Client, credentials: tuple[str, str]
) -> None:
    client_id, secret = credentials
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}

    assert token(http, form).status_code == 200


def test_scope_narrows_the_token(
    http: Client, app: Bridge, tmp_path: Path, credentials: tuple[str, str]
) -> None:
    form = {"grant_type": "client_credentials", "scope": "shipments:read"}

    body = token(http, form, **basic(*credentials)).get_json()

    assert body["scope"] == "shipments:read"
    assert verifier(app, tmp_path).verify(body["access_token"]).scopes == {"shipments:read"}


def test_refresh_grant_rotates_the_refresh_token(
    http: Client, credentials: tuple[str, str]
) -> None:
    first = token(http, {"grant_type": "client_credentials"}, **basic(*credentials)).get_json()

    response = token(
        http,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        **basic(*credentials),
    )

    assert response.status_code == 200
    assert response.get_json()["refresh_token"] != first["refresh_token"]


def test_reused_refresh_token_is_invalid_grant_and_revokes_its_successor(
    http: Client, credentials: tuple[str, str]
) -> None:
    auth = basic(*credentials)
    first = token(http, {"grant_type": "client_credentials"}, **auth).get_json()
    second = token(
        http, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, **auth
    ).get_json()

    reuse = token(
        http, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, **auth
    )
    successor = token(
        http, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}, **auth
    )

    assert_oauth_error(reuse, 400, "invalid_grant")
    assert_oauth_error(successor, 400, "invalid_grant")


def test_wrong_secret_is_invalid_client_with_a_challenge(
    http: Client, credentials: tuple[str, str]
) -> None:
    response = token(http, {"grant_type": "client_credentials"}, **basic(credentials[0], "nope"))

    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"] == 'Basic realm="bridge"'


def test_no_client_authentication_is_invalid_client(http: Client) -> None:
    assert_oauth_error(token(http, {"grant_type": "client_credentials"}), 401, "invalid_client")


@pytest.mark.parametrize(
    "header", ["Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"x").decode()]
)
def test_unreadable_authorization_is_invalid_client(http: Client, header: str) -> None:
    response = token(http, {"grant_type": "client_credentials"}, Authorization=header)

    assert_oauth_error(response, 401, "invalid_client")


def test_disabled_client_is_invalid_client(
    http: Client, registry: ClientRegistry, credentials: tuple[str, str]
) -> None:
    registry.disable(credentials[0])

    response = token(http, {"grant_type": "client_credentials"}, **basic(*credentials))

    assert_oauth_error(response, 401, "invalid_client")


def test_scope_the_client_does_not_hold_is_invalid_scope(
    http: Client, credentials: tuple[str, str]
) -> None:
    form = {"grant_type": "client_credentials", "scope": "transfers:write"}

    assert_oauth_error(token(http, form, **basic(*credentials)), 400, "invalid_scope")


def test_unknown_grant_type_is_unsupported(http: Client, credentials: tuple[str, str]) -> None:
    form = {"grant_type": "password", "username": "a", "password": "b"}

    assert_oauth_error(token(http, form, **basic(*credentials)), 400, "unsupported_grant_type")


def test_missing_grant_type_is_invalid_request(http: Client, credentials: tuple[str, str]) -> None:
    assert_oauth_error(token(http, {}, **basic(*credentials)), 400, "invalid_request")


def test_refresh_grant_without_a_token_is_invalid_request(
    http: Client, credentials: tuple[str, str]
) -> None:
    response = token(http, {"grant_type": "refresh_token"}, **basic(*credentials))

    assert_oauth_error(response, 400, "invalid_request")


def test_unknown_refresh_token_is_invalid_grant(http: Client, credentials: tuple[str, str]) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": "made-up"}

    assert_oauth_error(token(http, form, **basic(*credentials)), 400, "invalid_grant")


def test_repeated_parameter_is_invalid_request(http: Client, credentials: tuple[str, str]) -> None:
    body = "grant_type=client_credentials&grant_type=refresh_token"
    response = http.post(
        URL,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers=basic(*credentials),
    )

    assert_oauth_error(response, 400, "invalid_request")


def test_two_authentication_methods_are_invalid_request(
    http: Client, credentials: tuple[str, str]
) -> None:
    form = {"grant_type": "client_credentials", "client_secret": credentials[1]}

    assert_oauth_error(token(http, form, **basic(*credentials)), 400, "invalid_request")


def test_json_body_is_invalid_request(http: Client, credentials: tuple[str, str]) -> None:
    response = http.post(
        URL, json={"grant_type": "client_credentials"}, headers=basic(*credentials)
    )

    assert_oauth_error(response, 400, "invalid_request")


def test_get_is_not_allowed(http: Client) -> None:
    assert http.get(URL).status_code == 405
