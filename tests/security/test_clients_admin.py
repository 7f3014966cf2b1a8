"""`/api/v1/clients` over the whole app (SQLite, real migrations, real auth): what an operator
with `clients:admin` may do, and who is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from bridge.app import Bridge
from bridge.security.clients import ClientRegistry

PROBLEM = "application/problem+json"
NEW_CLIENT = {
    "name": "Acme Logistics",
    "tier": "partner",
    "scopes": ["shipments:read", "shipments:write"],
    "plan": "enterprise",
    "organisation": "acme",
}


@pytest.fixture
def registry(app: Bridge) -> ClientRegistry:
    return app.security.clients


@pytest.fixture
def client(app: Bridge) -> Client:
    return Client(app)


def api_key(registry: ClientRegistry, tier: str, scopes: list[str]) -> dict[str, str]:
    caller, _ = registry.create(f"{tier} caller", tier, scopes, plan="internal")
    return {"X-API-Key": registry.create_api_key(caller.id)}


@pytest.fixture
def admin(registry: ClientRegistry) -> dict[str, str]:
    """The headers of a private client holding clients:admin."""
    return api_key(registry, "private", ["clients:admin"])


def post(client: Client, url: str, headers: dict[str, str], body: Any = None) -> TestResponse:
    if body is None:
        return client.post(url, headers=headers)
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def created(client: Client, admin: dict[str, str]) -> dict[str, Any]:
    response = post(client, "/api/v1/clients", admin, NEW_CLIENT)
    assert response.status_code == 201, response.get_data(as_text=True)
    answer: dict[str, Any] = response.get_json()
    return answer


def token_status(client: Client, client_id: str, secret: str) -> int:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    return response.status_code


# -- allowed ------------------------------------------------------------------------------------


def test_create_answers_the_client_and_a_secret_that_gets_a_token(
    client: Client, admin: dict[str, str]
) -> None:
    response = post(client, "/api/v1/clients", admin, NEW_CLIENT)

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    answer = response.get_json()
    new = answer["client"]
    assert response.headers["Location"] == f"/api/v1/clients/{new['id']}"
    assert (new["tier"], new["organisation"], new["plan"], new["active"]) == (
        "partner",
        "acme",
        "enterprise",
        True,
    )
    assert new["scopes"] == ["shipments:read", "shipments:write"]
    assert token_status(client, new["id"], answer["client_secret"]) == 200


def test_list_and_get_show_clients_but_never_a_secret(
    client: Client, admin: dict[str, str]
) -> None:
    answer = created(client, admin)
    client_id = answer["client"]["id"]

    listed = client.get("/api/v1/clients", headers=admin)
    one = client.get(f"/api/v1/clients/{client_id}", headers=admin)

    assert client_id in [found["id"] for found in listed.get_json()["clients"]]
    assert one.get_json() == answer["client"]
    for response in (listed, one):
        assert answer["client_secret"] not in response.get_data(as_text=True)


def test_rotate_secret_answers_a_new_secret_and_the_old_one_stops_working(
    client: Client, admin: dict[str, str]
) -> None:
    answer = created(client, admin)
    client_id, old = answer["client"]["id"], answer["client_secret"]

    response = post(client, f"/api/v1/clients/{client_id}/secret", admin)

    assert response.status_code == 200
    new = response.get_json()["client_secret"]
    assert token_status(client, client_id, new) == 200
    assert token_status(client, client_id, old) == 401


def test_a_new_api_key_authenticates_as_its_client(
    client: Client, admin: dict[str, str], registry: ClientRegistry
) -> None:
    client_id = created(client, admin)["client"]["id"]

    response = post(client, f"/api/v1/clients/{client_id}/api-keys", admin)

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    key = response.get_json()["api_key"]
    assert registry.authenticate_api_key(key).id == client_id


def test_a_new_wss_password_is_the_one_soap_calls_are_checked_against(
    client: Client, admin: dict[str, str], registry: ClientRegistry
) -> None:
    client_id = created(client, admin)["client"]["id"]

    response = post(client, f"/api/v1/clients/{client_id}/wss-password", admin)

    assert response.status_code == 200
    answer = response.get_json()
    assert answer["username"] == client_id
    found = registry.wss_credentials(client_id)
    assert found is not None
    assert found[1] == answer["wss_password"]


def test_disable_refuses_the_client_at_once(
    client: Client, admin: dict[str, str], registry: ClientRegistry
) -> None:
    client_id = created(client, admin)["client"]["id"]
    key = {"X-API-Key": registry.create_api_key(client_id)}
    assert client.get("/api/v1/shipments", headers=key).status_code == 200

    response = post(client, f"/api/v1/clients/{client_id}/disable", admin)

    assert response.status_code == 200
    assert response.get_json()["active"] is False
    assert client.get("/api/v1/shipments", headers=key).status_code == 401


# -- refused ------------------------------------------------------------------------------------


def test_unknown_client_is_a_404_problem(client: Client, admin: dict[str, str]) -> None:
    response = post(client, "/api/v1/clients/cl_nobody/secret", admin)

    assert response.status_code == 404
    assert response.mimetype == PROBLEM


def test_a_scope_the_bridge_does_not_know_is_a_400_naming_it(
    client: Client, admin: dict[str, str]
) -> None:
    body = {**NEW_CLIENT, "scopes": ["shipments:read", "shipments:delete"]}

    response = post(client, "/api/v1/clients", admin, body)

    assert response.status_code == 400
    assert [error["path"] for error in response.get_json()["errors"]] == ["scopes[1]"]


def test_an_unknown_tier_is_a_400(client: Client, admin: dict[str, str]) -> None:
    response = post(client, "/api/v1/clients", admin, {**NEW_CLIENT, "tier": "admin"})

    assert response.status_code == 400
    assert response.mimetype == PROBLEM


def test_without_credentials_every_route_is_a_401(client: Client) -> None:
    for response in (
        client.get("/api/v1/clients"),
        post(client, "/api/v1/clients", {}, NEW_CLIENT),
        post(client, "/api/v1/clients/cl_x/wss-password", {}),
    ):
        assert response.status_code == 401
        assert response.mimetype == PROBLEM


@pytest.mark.parametrize(
    ("tier", "scopes"),
    [
        ("partner", ["clients:admin"]),  # the scope, but not our own client
        ("private", ["sync:admin", "audit:read"]),  # our own client, without the scope
    ],
)
def test_a_client_without_private_tier_and_clients_admin_is_a_403(
    client: Client, registry: ClientRegistry, tier: str, scopes: list[str]
) -> None:
    headers = api_key(registry, tier, scopes)

    for response in (
        client.get("/api/v1/clients", headers=headers),
        post(client, "/api/v1/clients", headers, NEW_CLIENT),
    ):
        assert response.status_code == 403
        assert response.mimetype == PROBLEM
    assert [found.name for found in registry.list()] == [f"{tier} caller"]
