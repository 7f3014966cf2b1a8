"""`POST /api/v1/services/<name>/<operation>`: an imported service's operations as JSON."""

from __future__ import annotations

from typing import Any

import requests

from bridge.sims.control import SimControl
from tests.common.live import LiveBridge
from tests.credentials import Credentials, grant

CHECK = {"countryCode": "DE", "vatNumber": "123456789"}
PROBLEM = "application/problem+json"


def call(
    live: LiveBridge, who: Credentials | None, operation: str, body: Any, service: str = "vat"
) -> requests.Response:
    headers = {} if who is None else who.headers
    return requests.post(
        f"{live.url}/api/v1/services/{service}/{operation}", json=body, headers=headers, timeout=30
    )


def test_check_vat_answers_the_output_of_the_contract_as_json(
    live: LiveBridge, caller: Credentials
) -> None:
    answer = call(live, caller, "checkVat", CHECK)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) >= {"countryCode", "vatNumber", "requestDate", "valid"}
    assert isinstance(body["valid"], bool)


def test_the_same_request_gets_the_same_answer_and_another_request_another(
    live: LiveBridge, caller: Credentials
) -> None:
    first = call(live, caller, "checkVat", CHECK).json()
    again = call(live, caller, "checkVat", CHECK).json()
    other = [
        call(live, caller, "checkVat", {**CHECK, "vatNumber": f"9{n}"}).json() for n in range(5)
    ]

    assert first == again
    assert any(answer != first for answer in other)


def test_a_decimal_is_read_exactly_and_reaches_the_simulator(
    live: LiveBridge, caller: Credentials, simulator: SimControl
) -> None:
    body = {"countryCode": "DE", "name": "Bäckerei Müller GmbH", "capital": "100000000000000.01"}

    answer = call(live, caller, "registerCompany", body)

    assert answer.status_code == 200, answer.text
    assert [c["operation"] for c in simulator.calls()] == ["registerCompany"]


def test_a_field_the_contract_refuses_is_a_400_naming_it_and_nothing_is_sent(
    live: LiveBridge, caller: Credentials, simulator: SimControl
) -> None:
    answer = call(live, caller, "checkVat", {"countryCode": "de", "vatNumber": "123456789"})

    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"] == PROBLEM
    assert "countryCode" in answer.text
    assert simulator.calls() == []


def test_a_missing_required_field_is_refused_before_the_upstream(
    live: LiveBridge, caller: Credentials, simulator: SimControl
) -> None:
    answer = call(live, caller, "checkVat", {"countryCode": "DE"})

    assert answer.status_code == 400, answer.text
    assert "vatNumber" in answer.text
    assert simulator.calls() == []


def test_a_declared_fault_is_its_own_problem_type_with_its_detail(
    live: LiveBridge, caller: Credentials, simulator: SimControl
) -> None:
    simulator.inject("declared_fault", operation="checkVat")

    answer = call(live, caller, "checkVat", CHECK)

    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"] == "https://bridge.dev/problems/services/vat/InvalidInputFault"
    assert problem["fault"] == "InvalidInputFault"
    assert problem["fault_detail"]["code"] in ("INVALID_INPUT", "MS_UNAVAILABLE")


def test_an_upstream_that_is_down_is_a_503_with_retry_after(
    live: LiveBridge, caller: Credentials
) -> None:
    answer = call(live, caller, "checkVat", CHECK, service="down")

    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.json()["type"] == "https://bridge.dev/problems/upstream-unavailable"


def test_an_unsafe_operation_is_not_retried(
    live: LiveBridge, caller: Credentials, simulator: SimControl
) -> None:
    simulator.inject("http_500", operation="registerCompany")
    body = {"countryCode": "DE", "name": "Muster AG", "capital": "50000"}

    answer = call(live, caller, "registerCompany", body)

    assert answer.status_code == 503, answer.text
    assert [c["fault"] for c in simulator.calls()] == ["http_500"]


def test_a_safe_operation_is_retried_after_a_transient_failure(
    live: LiveBridge, caller: Credentials, simulator: SimControl
) -> None:
    simulator.inject("http_500", operation="checkVat")

    answer = call(live, caller, "checkVat", CHECK)

    assert answer.status_code == 200, answer.text
    assert [c["fault"] for c in simulator.calls()] == ["http_500", None]


def test_the_service_is_closed_to_a_client_until_it_is_granted_its_scope(
    live: LiveBridge,
) -> None:
    outsider = grant(live.bridge.engine, tier="partner", scopes={"transfers:write"})
    insider = grant(live.bridge.engine, tier="partner", scopes={"vat:call"})

    refused = call(live, outsider, "checkVat", CHECK)
    let_in = call(live, insider, "checkVat", CHECK)

    assert refused.status_code == 403
    assert "vat:call" in refused.json()["detail"]
    assert let_in.status_code == 200


def test_a_caller_without_credentials_is_refused_before_the_body_is_read(
    live: LiveBridge,
) -> None:
    assert call(live, None, "checkVat", {"not": "read"}).status_code == 401


def test_an_unknown_service_or_operation_is_a_404_problem(
    live: LiveBridge, caller: Credentials
) -> None:
    for answer in (
        call(live, caller, "checkVat", CHECK, service="nothing"),
        call(live, caller, "nothing", CHECK),
    ):
        assert answer.status_code == 404
        assert answer.headers["Content-Type"] == PROBLEM


def test_the_api_document_lists_each_imported_operation_with_its_schemas_and_scope(
    live: LiveBridge,
) -> None:
    document = requests.get(f"{live.url}/api/openapi.json", timeout=30).json()

    operation = document["paths"]["/api/v1/services/vat/checkVat"]["post"]
    schemas = document["components"]["schemas"]
    request_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request_schema = schemas[request_ref.rsplit("/", 1)[1]]
    assert set(request_schema["properties"]) == {"countryCode", "vatNumber"}
    assert {"oauth2": ["vat:call"]} in operation["security"]
    fault = operation["responses"]["422"]["content"][PROBLEM]["schema"]["oneOf"][0]
    assert fault["properties"]["fault"] == {"const": "InvalidInputFault"}
    assert (
        "vat:call"
        in document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"][
            "scopes"
        ]
    )
