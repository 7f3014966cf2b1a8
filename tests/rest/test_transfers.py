"""POST /api/v1/transfers and GET /api/v1/transfers/{id}: their answers and their problems."""

from __future__ import annotations

import copy
from typing import Any

from werkzeug.test import Client

from tests.common.banking import INSUFFICIENT_FUNDS, UNAVAILABLE, FakeCoreBank
from tests.common.rest import assert_problem, load, post_json

TRANSFERS = "/api/v1/transfers"


def test_transfer_is_created_settled_and_located(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    response = post_json(client, TRANSFERS, transfer)

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    result = response.get_json()
    assert result["msg_id"] == "APP-2026-0001"
    assert result["status"] == "ACSC"
    assert result["tx_id"].startswith("TX")
    assert response.headers["Location"] == f"{TRANSFERS}/{result['tx_id']}"
    [posting] = corebank.postings
    assert str(posting.amount.amount) == "125.50"
    assert posting.debit_account.iban == "DE89370400440532013000"


def test_rejected_transfer_is_created_with_its_reason(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    corebank.results.append(INSUFFICIENT_FUNDS)

    response = post_json(client, TRANSFERS, transfer)

    assert response.status_code == 201
    result = response.get_json()
    assert result["status"] == "RJCT"
    assert result["reason"] == {"code": "AM04", "additional_info": "insufficient funds"}


def test_retried_msg_id_returns_first_result_without_second_posting(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    first = post_json(client, TRANSFERS, transfer).get_json()
    second = post_json(client, TRANSFERS, transfer).get_json()

    assert second == first
    assert len(corebank.postings) == 1


def test_msg_id_reused_for_another_transfer_is_422(
    client: Client, transfer: dict[str, Any]
) -> None:
    post_json(client, TRANSFERS, transfer)
    changed = copy.deepcopy(transfer)
    changed["amount"]["amount"] = "999.00"

    problem = assert_problem(post_json(client, TRANSFERS, changed), 422, "idempotency-key-reused")

    assert "APP-2026-0001" in problem["detail"]
    assert problem["instance"] == TRANSFERS


def test_same_debtor_and_creditor_is_422_invalid_input(
    client: Client, transfer: dict[str, Any]
) -> None:
    transfer["creditor"]["account"] = transfer["debtor"]["account"]

    problem = assert_problem(post_json(client, TRANSFERS, transfer), 422, "invalid-input")

    assert "differ" in problem["detail"]


def test_amount_with_more_decimals_than_its_currency_is_400_naming_amount(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    transfer["amount"] = {"amount": "10.005", "currency": "EUR"}

    problem = assert_problem(post_json(client, TRANSFERS, transfer), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "amount"
    assert "2" in problem["errors"][0]["expected"]
    assert corebank.postings == []


def test_msg_id_longer_than_the_contract_allows_is_400_naming_it(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    transfer["msg_id"] = "M" * 36

    problem = assert_problem(post_json(client, TRANSFERS, transfer), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "msg_id"
    assert "maximum length of '35'" in problem["errors"][0]["expected"]
    assert corebank.postings == []


def test_bic_that_breaks_the_contracts_pattern_is_400_naming_it(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    transfer["creditor"]["bic"] = "not-a-bic"

    problem = assert_problem(post_json(client, TRANSFERS, transfer), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "creditor.bic"
    assert corebank.postings == []


def test_unknown_field_in_the_body_is_400_naming_it(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    transfer["debtor"]["nickname"] = "Bäcker"

    problem = assert_problem(post_json(client, TRANSFERS, transfer), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "debtor.nickname"
    assert problem["errors"][0]["expected"] == "no such field"
    assert corebank.postings == []


def test_every_bad_field_is_listed_with_its_path_and_expectation(client: Client) -> None:
    response = post_json(client, TRANSFERS, load("transfer_request_bad_fields.json"))

    problem = assert_problem(response, 400, "mapping-error")
    by_path = {error["path"]: error for error in problem["errors"]}
    assert set(by_path) == {"created_at", "amount.amount", "creditor", "charge_bearer"}
    assert by_path["creditor"]["expected"] == "a value: the field is required"
    assert "got" not in by_path["creditor"]
    assert by_path["amount.amount"]["got"] == "twelve"
    assert "DEBT" in by_path["charge_bearer"]["expected"]
    assert problem["detail"].startswith("4 fields are invalid")


def test_body_that_is_not_json_is_400(client: Client) -> None:
    response = client.post(TRANSFERS, data=b'{"msg_id": ', content_type="application/json")

    problem = assert_problem(response, 400, "invalid-json")

    assert "not valid JSON" in problem["detail"]


def test_json_that_is_not_an_object_is_400(client: Client) -> None:
    response = post_json(client, TRANSFERS, ["a", "list"])

    problem = assert_problem(response, 400, "mapping-error")

    assert problem["errors"][0]["path"] == "(body)"


def test_body_of_another_media_type_is_415(client: Client, transfer: dict[str, Any]) -> None:
    response = client.post(
        TRANSFERS, data="msg_id=1", content_type="application/x-www-form-urlencoded"
    )

    problem = assert_problem(response, 415, "unsupported-media-type")

    assert "application/x-www-form-urlencoded" in problem["detail"]


def test_body_without_content_type_is_415(client: Client, transfer: dict[str, Any]) -> None:
    assert_problem(client.post(TRANSFERS, data=b"{}"), 415, "unsupported-media-type")


def test_body_over_64_kib_is_413(client: Client, transfer: dict[str, Any]) -> None:
    transfer["remittance_info"] = "x" * 70_000

    assert_problem(post_json(client, TRANSFERS, transfer), 413, "request-entity-too-large")


def test_core_banking_unavailable_is_503_with_retry_after(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    corebank.results.extend([UNAVAILABLE, UNAVAILABLE])

    response = post_json(client, TRANSFERS, transfer)

    problem = assert_problem(response, 503, "upstream-unavailable")
    assert response.headers["Retry-After"] == "7"
    assert "corebank" in problem["detail"]


def test_transfer_retried_after_503_goes_through_once(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    corebank.results.extend([UNAVAILABLE, UNAVAILABLE])
    post_json(client, TRANSFERS, transfer)

    response = post_json(client, TRANSFERS, transfer)

    assert response.status_code == 201
    assert response.get_json()["status"] == "ACSC"


def test_unexpected_error_is_500_with_correlation_id_and_no_internals(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    corebank.failure = RuntimeError("secret connection string postgres://u:p@db")

    response = post_json(client, TRANSFERS, transfer, **{"X-Request-ID": "req-500-check"})

    problem = assert_problem(response, 500, "internal-error")
    assert problem["correlation_id"] == "req-500-check"
    text = response.get_data(as_text=True)
    assert "secret" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text


def test_transfer_is_read_by_tx_id(client: Client, transfer: dict[str, Any]) -> None:
    created = post_json(client, TRANSFERS, transfer)

    response = client.get(created.headers["Location"])

    assert response.status_code == 200
    assert response.get_json() == created.get_json()


def test_transfer_is_read_by_the_clients_msg_id(client: Client, transfer: dict[str, Any]) -> None:
    created = post_json(client, TRANSFERS, transfer).get_json()

    response = client.get(f"{TRANSFERS}/APP-2026-0001")

    assert response.status_code == 200
    assert response.get_json() == created


def test_unknown_transfer_is_404(client: Client) -> None:
    problem = assert_problem(client.get(f"{TRANSFERS}/NOPE-1"), 404, "not-found")

    assert "NOPE-1" in problem["detail"]
    assert problem["instance"] == f"{TRANSFERS}/NOPE-1"


def test_another_partners_transfer_is_404(
    client: Client, other_partner: Client, transfer: dict[str, Any]
) -> None:
    location = post_json(client, TRANSFERS, transfer).headers["Location"]

    response = other_partner.get(location)

    assert_problem(response, 404, "not-found")


def test_transfer_id_longer_than_35_characters_is_400(client: Client) -> None:
    problem = assert_problem(client.get(f"{TRANSFERS}/{'X' * 36}"), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "id"


def test_sparse_fields_return_only_those_named(client: Client, transfer: dict[str, Any]) -> None:
    location = post_json(client, TRANSFERS, transfer).headers["Location"]

    response = client.get(location, query_string={"fields": "status,msg_id"})

    assert response.get_json() == {"msg_id": "APP-2026-0001", "status": "ACSC"}


def test_sparse_fields_reach_into_nested_objects(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    corebank.results.append(INSUFFICIENT_FUNDS)
    location = post_json(client, TRANSFERS, transfer).headers["Location"]

    response = client.get(location, query_string={"fields": "reason.code,status"})

    assert response.get_json() == {"status": "RJCT", "reason": {"code": "AM04"}}


def test_unknown_sparse_field_is_400_naming_it(client: Client, transfer: dict[str, Any]) -> None:
    location = post_json(client, TRANSFERS, transfer).headers["Location"]

    response = client.get(location, query_string={"fields": "status,amount,reason.colour"})

    problem = assert_problem(response, 400, "mapping-error")
    assert [(e["path"], e["got"]) for e in problem["errors"]] == [
        ("fields", "amount"),
        ("fields", "reason.colour"),
    ]
    assert "tx_id" in problem["errors"][0]["expected"]


def test_unknown_query_parameter_is_400_naming_it(client: Client, transfer: dict[str, Any]) -> None:
    location = post_json(client, TRANSFERS, transfer).headers["Location"]

    problem = assert_problem(
        client.get(location, query_string={"feilds": "status"}), 400, "mapping-error"
    )

    assert problem["errors"] == [{"path": "feilds", "expected": "no such field", "got": "status"}]


def test_unknown_route_is_404_problem(client: Client) -> None:
    problem = assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found")

    assert problem["instance"] == "/api/v1/nothing-here"


def test_wrong_method_is_405_problem_with_allow(client: Client) -> None:
    response = client.delete(TRANSFERS)

    assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["Allow"]
