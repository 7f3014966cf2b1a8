"""The one mapping of errors to problem+json: status, type and headers for every error kind."""

from __future__ import annotations

import threading
from typing import Any

import orjson
import pytest
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.domain.errors import (
    BridgeError,
    ConfigurationError,
    Conflict,
    HostileDocument,
    InProgress,
    InvalidInput,
    InvalidToken,
    KeyReused,
    MappingError,
    NotFound,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge.rest.app import create_rest_app
from bridge.rest.problems import InvalidJson, problem
from tests.common.banking import FakeCoreBank
from tests.common.rest import assert_problem, post_json


@pytest.mark.parametrize(
    ("error", "status", "kind", "retry_after"),
    [
        (MappingError("amount.amount", "a decimal number", "ten"), 400, "mapping-error", None),
        (HostileDocument("a DOCTYPE is not accepted"), 400, "hostile-document", None),
        (InvalidJson("the body is not valid JSON"), 400, "invalid-json", None),
        (InvalidInput("debtor and creditor accounts must differ"), 422, "invalid-input", None),
        (KeyReused("MsgId 'M1' was already used"), 422, "idempotency-key-reused", None),
        (InvalidToken("the token has expired"), 401, "invalid-token", None),
        (NotFound("no transfer with TxId 'TX1'"), 404, "not-found", None),
        (Conflict("the shipment is already delivered"), 409, "conflict", None),
        (InProgress("transfer 'M1' is still being processed"), 409, "in-progress", "1"),
        (UpstreamUnavailable("corebank", "timed out", 12), 503, "upstream-unavailable", "12"),
        (UpstreamRejected("corebank", "Client fault"), 502, "upstream-rejected", None),
        (UpstreamError("corebank", "odd answer"), 502, "upstream-error", None),
        (ConfigurationError("bad mapping"), 500, "internal-error", None),
        (BridgeError("unclassified"), 500, "internal-error", None),
        (ZeroDivisionError("division by zero"), 500, "internal-error", None),
    ],
)
def test_each_error_kind_has_its_status_and_stable_type(
    rest_bridge: Bridge, error: BaseException, status: int, kind: str, retry_after: str | None
) -> None:
    app = create_rest_app(rest_bridge)
    with app.test_request_context(
        "/api/v1/anything", environ_base={"bridge.correlation_id": "c-1"}
    ):
        response = problem(error)

    body: dict[str, Any] = orjson.loads(response.get_data())
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert body["type"] == f"https://bridge.dev/problems/{kind}"
    assert body["status"] == status
    assert body["instance"] == "/api/v1/anything"
    assert body["correlation_id"] == "c-1"
    assert response.headers.get("Retry-After") == retry_after
    if status == 500:
        assert str(error) not in body["detail"]
    else:
        assert body["detail"] == str(error)


def test_mapping_error_lists_its_field(rest_bridge: Bridge) -> None:
    app = create_rest_app(rest_bridge)
    with app.test_request_context("/"):
        response = problem(MappingError("amount.amount", "a decimal number", "ten"))

    assert orjson.loads(response.get_data())["errors"] == [
        {"path": "amount.amount", "expected": "a decimal number", "got": "ten"}
    ]


def test_same_msg_id_while_the_first_is_with_core_banking_is_409(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    corebank.gate = threading.Event()
    first = threading.Thread(target=lambda: post_json(client, "/api/v1/transfers", transfer))
    first.start()
    assert corebank.entered.wait(timeout=10)

    response = post_json(client, "/api/v1/transfers", transfer)
    corebank.gate.set()
    first.join(timeout=10)

    problem_body = assert_problem(response, 409, "in-progress")
    assert "APP-2026-0001" in problem_body["detail"]
    assert response.headers["Retry-After"] == "1"
