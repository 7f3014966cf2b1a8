"""The scopes of imported services belong to the app that imported them: `POST
/api/v1/clients` and the API document take them from the app's registry."""

from __future__ import annotations

import requests

from bridge.security.access import SCOPES, Scopes
from tests.common.live import LiveBridge
from tests.credentials import Credentials, grant


def admin(live: LiveBridge) -> Credentials:
    return grant(live.bridge.engine, scopes={"clients:admin"}, name="operator")


def register(live: LiveBridge, scopes: list[str]) -> requests.Response:
    body = {"name": "VAT checker", "tier": "partner", "scopes": scopes}
    return requests.post(
        f"{live.url}/api/v1/clients", json=body, headers=admin(live).headers, timeout=30
    )


def test_a_client_may_be_registered_over_rest_with_an_imported_services_scope(
    live: LiveBridge,
) -> None:
    answer = register(live, ["vat:call", "accounts:read"])

    assert answer.status_code == 201, answer.text
    assert set(answer.json()["client"]["scopes"]) == {"vat:call", "accounts:read"}


def test_a_scope_no_service_declares_is_refused_naming_its_place(live: LiveBridge) -> None:
    answer = register(live, ["vat:approx"])

    assert answer.status_code == 400, answer.text
    assert "scopes[0]" in answer.text


def test_more_scopes_than_the_app_knows_are_refused(live: LiveBridge) -> None:
    answer = register(live, ["vat:call"] * (len(live.bridge.security.scopes) + 1))

    assert answer.status_code == 400, answer.text


def test_the_api_document_offers_the_apps_scopes_and_no_other_app_sees_them(
    live: LiveBridge,
) -> None:
    document = requests.get(f"{live.url}/api/openapi.json", timeout=30).json()
    flows = document["components"]["securitySchemes"]["oauth2"]["flows"]
    registration = document["paths"]["/api/v1/clients"]["post"]["requestBody"]

    assert "vat:call" in flows["clientCredentials"]["scopes"]
    scopes = registration["content"]["application/json"]["schema"]["properties"]["scopes"]
    assert "vat12:call" in scopes["items"]["enum"]
    assert scopes["maxItems"] == len(live.bridge.security.scopes)
    assert "vat:call" not in SCOPES
    assert "vat:call" not in Scopes()
