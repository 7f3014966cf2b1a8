"""The OpenAPI document (/api/openapi.json) and the interactive docs (/api/docs)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from werkzeug.test import Client

from bridge.domain import Money, Party, TransferRequest, TransferResult
from bridge.rest.accounts import TransactionsParams
from bridge.rest.openapi import EXAMPLES
from bridge.rest.problems import Problem
from tests.common.banking import FakeCoreBank
from tests.common.rest import post_json

OPERATIONS = {
    ("/api/v1/audit", "get"): "listAuditEntries",
    ("/api/v1/clients", "get"): "listClients",
    ("/api/v1/clients", "post"): "createClient",
    ("/api/v1/clients/{client_id}", "get"): "getClient",
    ("/api/v1/clients/{client_id}/secret", "post"): "rotateClientSecret",
    ("/api/v1/clients/{client_id}/api-keys", "post"): "createApiKey",
    ("/api/v1/clients/{client_id}/wss-password", "post"): "createWssPassword",
    ("/api/v1/clients/{client_id}/disable", "post"): "disableClient",
    ("/api/v1/clients/{client_id}/accounts", "get"): "listAccountLinks",
    ("/api/v1/clients/{client_id}/accounts", "post"): "linkAccount",
    ("/api/v1/clients/{client_id}/accounts/{account}", "delete"): "unlinkAccount",
    ("/api/v1/transfers", "post"): "createTransfer",
    ("/api/v1/transfers/{id}", "get"): "getTransfer",
    ("/api/v1/accounts/{account}/verification", "post"): "verifyAccount",
    ("/api/v1/accounts/{account}/transactions", "get"): "listTransactions",
    ("/api/v1/classifications", "post"): "createClassification",
    ("/api/v1/classifications", "get"): "listClassifications",
    ("/api/v1/classifications/{id}", "get"): "getClassification",
    ("/api/v1/shipments", "post"): "createShipment",
    ("/api/v1/shipments", "get"): "listShipments",
    ("/api/v1/shipments/{id}", "get"): "getShipment",
    ("/api/v1/hr/employees/{employee_no}", "put"): "putEmployee",
    ("/api/v1/hr/employees/{employee_no}", "get"): "getEmployee",
    ("/api/v1/hr/changes", "post"): "createEmployeeChanges",
    ("/api/v1/sync/jobs", "get"): "listSyncJobs",
    ("/api/v1/sync/jobs/{job}", "get"): "getSyncJob",
    ("/api/v1/sync/jobs/{job}/runs", "get"): "listSyncJobRuns",
    ("/api/v1/sync/jobs/{job}/runs", "post"): "runSyncJob",
    ("/api/v1/sync/jobs/{job}/runs/{run_id}", "get"): "getSyncJobRun",
    ("/api/v1/sync/deliveries", "get"): "listDeliveries",
    ("/api/v1/sync/deliveries/{id}", "get"): "getDelivery",
    ("/api/v1/sync/deliveries/{id}/replay", "post"): "replayDelivery",
    ("/api/v1/sync/deliveries/replay", "post"): "replayDeliveries",
    ("/oauth/token", "post"): "issueToken",
}
# The token endpoint speaks RFC 6749: its refusals are OAuth error objects, and a repeated token
# request is answered anew, never replayed.
API_OPERATIONS = {key: name for key, name in OPERATIONS.items() if key[0].startswith("/api/")}


@pytest.fixture
def spec(client: Client) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document: dict[str, Any] = response.get_json()
    return document


def test_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_document_has_every_operation(spec: dict[str, Any]) -> None:
    found = {
        (path, method): operation["operationId"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }

    assert found == OPERATIONS


def test_security_schemes_are_bearer_oauth2_and_api_key(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]

    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /oauth/token",
    }
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}


def test_every_operation_says_who_may_call_it(spec: dict[str, Any]) -> None:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            assert "security" in operation, f"{method} {path}"
            if operation["security"]:
                assert operation["x-bridge-tiers"], f"{method} {path}"
                assert "401" in operation["responses"], f"{method} {path}"
                assert "403" in operation["responses"], f"{method} {path}"
            else:
                assert path in ("/healthz", "/readyz", "/oauth/token"), path


@pytest.mark.parametrize("model", [TransferRequest, TransferResult, Party, Money])
def test_components_are_generated_from_the_canonical_dataclasses(
    spec: dict[str, Any], model: type[Any]
) -> None:
    schema = spec["components"]["schemas"][model.__name__]

    assert list(schema["properties"]) == [f.name for f in dataclasses.fields(model)]


def test_amounts_are_documented_as_strings(spec: dict[str, Any]) -> None:
    amount = spec["components"]["schemas"]["Money"]["properties"]["amount"]

    assert amount["type"] == "string"
    assert re.fullmatch(amount["pattern"], "12.50")
    assert not re.fullmatch(amount["pattern"], "12,50")


def test_transfer_body_and_answer_refer_to_the_canonical_schemas(spec: dict[str, Any]) -> None:
    post = spec["paths"]["/api/v1/transfers"]["post"]

    body = post["requestBody"]["content"]["application/json"]["schema"]
    created = post["responses"]["201"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/TransferRequest"}
    assert created == {"$ref": "#/components/schemas/TransferResult"}


def test_idempotency_key_is_documented_on_posts_only(spec: dict[str, Any]) -> None:
    """... except the clients API's: a replayable answer there would be a stored secret."""
    for (path, method), _ in API_OPERATIONS.items():
        operation = spec["paths"][path][method]
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        idempotent = method == "post" and not path.startswith("/api/v1/clients")
        assert headers == (["Idempotency-Key"] if idempotent else []), (path, method)
        if idempotent:
            assert {"409", "422"} <= set(operation["responses"])


def test_errors_are_documented_as_problem_json(spec: dict[str, Any]) -> None:
    for path, method in API_OPERATIONS:
        responses = spec["paths"][path][method]["responses"]
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == ["application/problem+json"], (path, status)


def test_token_endpoint_documents_a_form_body_and_oauth_errors(spec: dict[str, Any]) -> None:
    post = spec["paths"]["/oauth/token"]["post"]

    assert list(post["requestBody"]["content"]) == ["application/x-www-form-urlencoded"]
    for status in ("400", "401"):
        schema = post["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/OAuthErrorResponse"}
    assert list(post["responses"]["500"]["content"]) == ["application/problem+json"]


def test_query_parameters_are_documented_with_their_bounds(spec: dict[str, Any]) -> None:
    parameters = {
        p["name"]: p
        for p in spec["paths"]["/api/v1/accounts/{account}/transactions"]["get"]["parameters"]
    }

    assert parameters["from_date"]["required"] is True
    assert parameters["limit"]["schema"]["maximum"] == 500
    assert parameters["limit"]["schema"]["minimum"] == 1


def test_parameter_schemas_are_computed_once_not_per_request() -> None:
    assert TransactionsParams.model_json_schema() is TransactionsParams.model_json_schema()


def test_problem_bodies_match_the_documented_problem_schema(
    client: Client, transfer: dict[str, Any]
) -> None:
    transfer["amount"]["amount"] = "ten"
    bodies = [
        post_json(client, "/api/v1/transfers", transfer).get_json(),
        client.get("/api/v1/transfers/NOPE").get_json(),
        client.get("/nowhere").get_json(),
        client.put("/api/v1/transfers").get_json(),
    ]

    for body in bodies:
        Problem.model_validate(body)


def test_docs_page_loads_only_local_assets(client: Client) -> None:
    page_url = "http://localhost/api/docs"
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "SwaggerUIBundle" in html
    assert not re.search(r"https?://", html), "the page must not name any host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    for asset in assets:
        url = urlsplit(urljoin(page_url, asset))
        assert url.netloc == "localhost"
        served = client.get(url.path)
        served.close()  # static files are streamed from the wheel
        assert served.status_code == 200, asset


def test_docs_page_points_at_the_document(client: Client) -> None:
    html = client.get("/api/docs").get_data(as_text=True)

    assert urljoin("http://localhost/api/docs", "openapi.json").endswith("/api/openapi.json")
    assert 'new URL("openapi.json"' in html


def test_health_endpoints_still_answer(client: Client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").status_code in (200, 503)


# -- the contracts' facets (bridge.mapping.jsonschema, openapi.contract_facets) -----------------


def test_body_fields_carry_the_facets_of_their_contract(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    msg_id = schemas["TransferRequest"]["properties"]["msg_id"]
    party = schemas["BankingParty"]["properties"]

    assert (msg_id["minLength"], msg_id["maxLength"]) == (1, 35)
    assert not re.search(msg_id["pattern"], " leading space")
    assert party["name"]["maxLength"] == 70
    assert schemas["TransferRequest"]["properties"]["debtor"] == {
        "$ref": "#/components/schemas/BankingParty"
    }
    assert [b["required"] for b in schemas["BankingAccountRef"]["oneOf"]] == [
        ["iban"],
        ["other_id"],
    ]


def test_an_amount_has_at_most_its_currencys_minor_units(spec: dict[str, Any]) -> None:
    money = spec["components"]["schemas"]["BankingMoney"]
    validator = Draft202012Validator(money)

    assert validator.is_valid({"amount": "12.50", "currency": "EUR"})
    assert validator.is_valid({"amount": "1200", "currency": "JPY"})
    assert not validator.is_valid({"amount": "12.5", "currency": "JPY"})
    assert not validator.is_valid({"amount": "12.505", "currency": "EUR"})
    assert not validator.is_valid({"amount": "0.00", "currency": "EUR"})
    assert not validator.is_valid({"amount": "12.50", "currency": ""})


def test_one_class_takes_each_contracts_facets_under_its_own_name(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    salary = schemas["EmployeeChangeBody"]["properties"]["salary"]

    assert salary == {"$ref": "#/components/schemas/PayrollSalary"}
    assert schemas["PayrollSalary"]["properties"]["amount"] == {
        "$ref": "#/components/schemas/PayrollMoney"
    }
    employee_no = schemas["EmployeeChangeItem"]["properties"]["employee_no"]
    assert re.search(employee_no["pattern"], "E10042")
    assert not re.search(employee_no["pattern"], "e1")


def test_account_parameters_take_core_bankings_account_number(spec: dict[str, Any]) -> None:
    for path in (
        "/api/v1/accounts/{account}/verification",
        "/api/v1/accounts/{account}/transactions",
    ):
        operation = next(iter(spec["paths"][path].values()))
        schema = next(p["schema"] for p in operation["parameters"] if p["name"] == "account")
        patterns = [schema["pattern"], *(part["pattern"] for part in schema.get("allOf", []))]
        assert any("[0-9]{6,20}" in pattern for pattern in patterns), path
        assert schema["format"] == "account-number"


def test_an_account_number_the_contract_forbids_never_reaches_core_banking(
    client: Client, corebank: FakeCoreBank
) -> None:
    response = client.post("/api/v1/accounts/0/verification", json={"name": "Anna"})

    assert response.status_code == 400
    assert [error["path"] for error in response.get_json()["errors"]] == ["account"]
    assert corebank.calls == []


def test_sparse_fields_are_documented_with_their_names_and_a_partial_answer(
    spec: dict[str, Any],
) -> None:
    operation = spec["paths"]["/api/v1/transfers/{id}"]["get"]
    fields = next(p for p in operation["parameters"] if p["name"] == "fields")
    names = Draft202012Validator(
        next(b for b in fields["schema"]["anyOf"] if b.get("type") == "string")
    )
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]

    assert names.is_valid("tx_id,reason.code")
    assert not names.is_valid("")
    assert not names.is_valid("tx_id,nope")
    assert answer["anyOf"][1] == {"$ref": "#/components/schemas/SparseTransferResult"}
    assert "required" not in spec["components"]["schemas"]["SparseTransferResult"]


def test_every_status_the_door_can_answer_is_documented(spec: dict[str, Any]) -> None:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert "414" in operation["responses"], (method, path)
            if "requestBody" in operation:
                assert "413" in operation["responses"], (method, path)


@pytest.mark.parametrize(
    "operation_id",
    [
        "createTransfer",
        "createShipment",
        "putEmployee",
        "createEmployeeChanges",
        "createClassification",
        "verifyAccount",
    ],
)
def test_request_examples_fit_their_schemas(spec: dict[str, Any], operation_id: str) -> None:
    operation = next(
        o
        for item in spec["paths"].values()
        for o in item.values()
        if o["operationId"] == operation_id
    )
    body = operation["requestBody"]["content"]["application/json"]
    schema = {**body["schema"], "components": spec["components"]}
    validator = Draft202012Validator(schema)

    example = body["examples"]["example"]["value"]
    assert example == orjson.loads((EXAMPLES / f"{operation_id}.json").read_bytes())
    assert not list(validator.iter_errors(example))
