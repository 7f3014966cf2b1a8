"""Both doors refuse what they should and let in what they should: every REST route and SOAP
operation declares who may call it; credentials are checked before anything else runs.

One bridge per module (SQLite, no simulators); each test makes its own clients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask
from lxml import etree
from werkzeug.test import Client, TestResponse

from bridge.app import Bridge, create_app
from bridge.domain.errors import ConfigurationError
from bridge.rest.app import create_rest_app
from bridge.rest.auth import protect, undeclared
from bridge.security.access import SCOPES, allow
from bridge.security.tokens import KeyRing, TokenService
from bridge.settings import Settings
from bridge.soap import banking, partner
from tests.credentials import CHEAP, Credentials, grant

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
FAULT_INFO = "urn:bridge:fault:v1"
STATUS_REQUEST = (
    Path(__file__).parents[1] / "data" / "soap" / "requests" / "get_transfer_status.xml"
)
PLANS = {"standard": "100/minute", "enterprise": "1000/minute", "internal": "unlimited"}


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    folder = tmp_path_factory.mktemp("access")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'bridge.db'}",
        simulators=False,
        scheduler=False,
        token_keys_dir=folder / "keys",
        rate_limit_plans={**PLANS, "tiny": "3/minute"},
    )
    built = create_app(settings)
    yield built
    built.close()


@pytest.fixture
def anonymous(bridge: Bridge) -> Client:
    return Client(bridge)


@pytest.fixture
def bank(bridge: Bridge) -> Credentials:
    return grant(
        bridge.engine,
        tier="partner",
        scopes=("transfers:read", "transfers:write", "accounts:read"),
        organisation="bank-a",
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(bridge: Bridge, credentials: Credentials, **service: Any) -> str:
    """An access token for `credentials`' client, from the bridge's token service or from one
    configured otherwise (`service`: another key ring, issuer, audience, clock)."""
    tokens = bridge.security.tokens
    if service:
        tokens = TokenService(
            bridge.engine,
            service.pop("keys", tokens.keys),
            issuer=service.pop("issuer", tokens.issuer),
            audience=service.pop("audience", tokens.audience),
            **service,
        )
    return tokens.access_token(credentials.client, credentials.client.scopes)


def problem_type(response: TestResponse) -> str:
    kind: str = response.get_json(force=True)["type"]
    return kind.rsplit("/", 1)[-1]


# -- declarations ------------------------------------------------------------------------------


def test_every_rest_route_declares_its_access(bridge: Bridge) -> None:
    assert undeclared(create_rest_app(bridge)) == []


def test_a_route_without_a_declaration_is_found() -> None:
    app = Flask("probe")

    @app.get("/declared")
    @protect("transfers:read")
    def declared_view() -> str:
        return "ok"

    @app.get("/forgotten")
    def forgotten_view() -> str:
        return "open?"

    assert undeclared(app) == ["GET /forgotten"]


def test_an_undeclared_route_keeps_the_app_from_starting(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bridge.rest import app as rest_app

    monkeypatch.setattr(rest_app, "undeclared", lambda app: ["GET /forgotten"])

    with pytest.raises(ConfigurationError, match="GET /forgotten"):
        rest_app.create_rest_app(bridge)


def test_every_soap_operation_declares_its_access() -> None:
    for contract in (banking.CONTRACT, partner.CONTRACT):
        for operation in contract.operations:
            assert operation.access is not None, operation.name
            assert operation.access.scope in SCOPES, operation.name


def test_a_declaration_names_known_tiers_and_scopes() -> None:
    with pytest.raises(ValueError, match="unknown scope"):
        allow("transfers:destroy")
    with pytest.raises(ValueError, match="tiers"):
        allow("transfers:read", ("vip",))


# -- REST: who gets in ---------------------------------------------------------------------------

TRANSFER = "/api/v1/transfers/NO-SUCH-TRANSFER"


def test_no_credentials_is_401_with_a_challenge(anonymous: Client) -> None:
    response = anonymous.get(TRANSFER)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="bridge"'
    assert problem_type(response) == "authentication-required"


def test_an_api_key_gets_in(anonymous: Client, bank: Credentials) -> None:
    assert anonymous.get(TRANSFER, headers=bank.headers).status_code == 404


def test_a_bearer_token_gets_in(anonymous: Client, bridge: Bridge, bank: Credentials) -> None:
    response = anonymous.get(TRANSFER, headers=bearer(token_for(bridge, bank)))

    assert response.status_code == 404
    assert problem_type(response) == "not-found"


def test_a_token_from_the_token_endpoint_gets_in(anonymous: Client, bank: Credentials) -> None:
    issued = anonymous.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "transfers:read"},
        auth=(bank.client.id, bank.secret),
    )
    token = issued.get_json()["access_token"]

    assert anonymous.get(TRANSFER, headers=bearer(token)).status_code == 404
    # ... and the scope it was narrowed to is all it carries.
    refused = anonymous.post("/api/v1/transfers", json={}, headers=bearer(token))
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "forged",
    ["expired", "not_yet_valid", "wrong_key", "wrong_audience", "wrong_issuer", "alg_none"],
)
def test_a_bad_token_is_401(
    anonymous: Client, bridge: Bridge, bank: Credentials, forged: str
) -> None:
    tokens = bridge.security.tokens
    if forged == "expired":
        token = token_for(bridge, bank, clock=lambda: tokens.clock() - timedelta(hours=2))
    elif forged == "not_yet_valid":
        token = token_for(bridge, bank, clock=lambda: tokens.clock() + timedelta(minutes=10))
    elif forged == "wrong_key":
        token = token_for(bridge, bank, keys=KeyRing.generate(tokens.keys.current))
    elif forged == "wrong_audience":
        token = token_for(bridge, bank, audience="payroll")
    elif forged == "wrong_issuer":
        token = token_for(bridge, bank, issuer="https://evil.test")
    else:
        claims = jwt.decode(token_for(bridge, bank), options={"verify_signature": False})
        header = {"kid": tokens.keys.current, "typ": "at+jwt"}
        token = jwt.encode(claims, "", algorithm="none", headers=header)

    response = anonymous.get(TRANSFER, headers=bearer(token))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="bridge"'


def test_a_disabled_clients_token_and_key_stop_working(
    anonymous: Client, bridge: Bridge, bank: Credentials
) -> None:
    token = token_for(bridge, bank)
    assert anonymous.get(TRANSFER, headers=bearer(token)).status_code == 404

    bridge.security.clients.disable(bank.client.id)
    bridge.security.authenticator.forget()

    assert anonymous.get(TRANSFER, headers=bearer(token)).status_code == 401
    assert anonymous.get(TRANSFER, headers=bank.headers).status_code == 401


def test_a_token_and_a_key_together_are_refused(
    anonymous: Client, bridge: Bridge, bank: Credentials
) -> None:
    headers = {**bank.headers, **bearer(token_for(bridge, bank))}

    assert anonymous.get(TRANSFER, headers=headers).status_code == 401


def test_a_wrong_api_key_is_401(anonymous: Client, bank: Credentials) -> None:
    tampered = bank.api_key[:-2] + ("AA" if not bank.api_key.endswith("AA") else "BB")

    assert anonymous.get(TRANSFER, headers={"X-API-Key": tampered}).status_code == 401


def test_a_route_for_another_tier_is_403(anonymous: Client, bank: Credentials) -> None:
    response = anonymous.get("/api/v1/sync/jobs", headers=bank.headers)

    assert response.status_code == 403
    assert problem_type(response) == "forbidden"


def test_a_missing_scope_is_403(anonymous: Client, bridge: Bridge) -> None:
    reader = grant(bridge.engine, tier="partner", scopes=("transfers:read",))

    assert anonymous.get(TRANSFER, headers=reader.headers).status_code == 404
    response = anonymous.post("/api/v1/transfers", json={}, headers=reader.headers)
    assert response.status_code == 403
    assert "transfers:write" in response.get_json()["detail"]


def test_open_routes_need_no_credentials(anonymous: Client) -> None:
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/api/openapi.json").status_code == 200
    assert anonymous.get("/api/docs").status_code == 200


def test_a_refused_caller_learns_nothing_about_the_body(anonymous: Client) -> None:
    response = anonymous.post("/api/v1/transfers", data="{not json", content_type="text/plain")

    assert response.status_code == 401


# -- REST: rate limits ---------------------------------------------------------------------------


def test_a_burst_over_the_plan_is_429_with_retry_after(anonymous: Client, bridge: Bridge) -> None:
    tiny = grant(bridge.engine, tier="partner", scopes=("transfers:read",), plan="tiny")

    answers = [anonymous.get(TRANSFER, headers=tiny.headers) for _ in range(5)]

    assert [a.status_code for a in answers] == [404, 404, 404, 429, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    refused = answers[3]
    assert problem_type(refused) == "rate-limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Limit"] == "3"
    # Another client's budget is its own.
    other = grant(bridge.engine, tier="partner", scopes=("transfers:read",), plan="tiny")
    assert anonymous.get(TRANSFER, headers=other.headers).status_code == 404


# -- objects of other partners ---------------------------------------------------------------------


def test_a_partner_sees_only_its_own_shipments(anonymous: Client, bridge: Bridge) -> None:
    operator = grant(bridge.engine, tier="private", scopes=("shipments:write", "shipments:read"))
    order = json.loads(
        (Path(__file__).parents[1] / "data" / "shipping" / "order.json").read_text("utf-8")
    )
    created = anonymous.post("/api/v1/shipments", json=order, headers=operator.headers)
    assert created.status_code == 202, created.get_data(as_text=True)
    ref = created.get_json()["shipment_ref"]
    scopes = ("shipments:read", "shipments:write")
    own = grant(
        bridge.engine, tier="partner", scopes=scopes, organisation=bridge.settings.logistics_partner
    )
    stranger = grant(bridge.engine, tier="partner", scopes=scopes, organisation="other-carrier")

    mine = anonymous.get(f"/api/v1/shipments/{ref}", headers=own.headers)
    theirs = anonymous.get(f"/api/v1/shipments/{ref}", headers=stranger.headers)
    listed = anonymous.get("/api/v1/shipments", headers=stranger.headers)

    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert problem_type(theirs) == "not-found"
    assert listed.get_json()["shipments"] == []
    # Only our own systems hand shipments over.
    assert anonymous.post("/api/v1/shipments", json=order, headers=own.headers).status_code == 403


# -- SOAP ------------------------------------------------------------------------------------------


def soap(client: Client, headers: dict[str, str] | None = None) -> TestResponse:
    sent = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"GetTransferStatus"'}
    return client.post(
        "/soap/banking", data=STATUS_REQUEST.read_bytes(), headers={**sent, **(headers or {})}
    )


def fault(response: TestResponse) -> tuple[str, str]:
    envelope = etree.fromstring(response.data)
    code = envelope.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode") or ""
    kind = envelope.findtext(f".//{{{FAULT_INFO}}}Kind") or ""
    return code, kind


def test_soap_without_credentials_is_a_client_fault_with_401(anonymous: Client) -> None:
    response = soap(anonymous)

    assert response.status_code == 401
    assert fault(response) == ("soap:Client", "authentication-required")


def test_soap_with_an_api_key_or_a_bearer_token_gets_in(
    anonymous: Client, bridge: Bridge, bank: Credentials
) -> None:
    for headers in (bank.headers, bearer(token_for(bridge, bank))):
        response = soap(anonymous, headers)
        # Past the door: the transfer is unknown, a Client fault from the service, HTTP 500.
        assert response.status_code == 500
        assert fault(response) == ("soap:Client", "not-found")


def test_soap_with_a_bad_token_is_401(anonymous: Client, bridge: Bridge, bank: Credentials) -> None:
    expired = token_for(
        bridge, bank, clock=lambda: bridge.security.tokens.clock() - timedelta(hours=2)
    )

    assert soap(anonymous, bearer(expired)).status_code == 401


def test_soap_for_a_scope_the_caller_lacks_is_403(anonymous: Client, bridge: Bridge) -> None:
    reader = grant(bridge.engine, tier="partner", scopes=("accounts:read",))

    response = soap(anonymous, reader.headers)

    assert response.status_code == 403
    assert fault(response) == ("soap:Client", "forbidden")


def test_soap_over_the_plan_is_a_client_fault_with_429(anonymous: Client, bridge: Bridge) -> None:
    tiny = grant(bridge.engine, tier="partner", scopes=("transfers:read",), plan="tiny")

    answers = [soap(anonymous, tiny.headers) for _ in range(4)]

    assert [a.status_code for a in answers] == [500, 500, 500, 429]
    assert fault(answers[3]) == ("soap:Client", "rate-limited")
    assert int(answers[3].headers["Retry-After"]) >= 1


def test_the_cheap_test_hasher_is_still_argon2id() -> None:
    assert CHEAP.hash("x").startswith("$argon2id$")
