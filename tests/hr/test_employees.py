"""PUT and GET /api/v1/hr/employees/{employee_no}: one employee's change, queued for payroll."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.store.employees import EmployeeStore
from bridge.store.tables import outbox
from tests.common.hr import counts
from tests.common.rest import assert_problem, put_json

URL = "/api/v1/hr/employees/HR5001"


def test_put_stores_and_queues_the_change_and_answers_202_with_its_queue_entry(
    client: Client, hr_bridge: Bridge, change: dict[str, Any]
) -> None:
    response = put_json(client, URL, change)

    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.headers["Location"] == URL
    body = response.get_json()
    assert re.fullmatch(r"[0-9a-f]{32}", body["change"]["record_id"])
    assert body["change"]["employee_no"] == "HR5001"
    assert body["change"]["salary"]["amount"] == {"amount": "4200.00", "currency": "EUR"}
    assert body["queue"]["status"] == "pending"
    with hr_bridge.engine.connect() as connection:
        row = connection.execute(select(outbox)).one()
    assert (row.id, row.topic, row.key) == (
        body["queue"]["delivery_id"],
        "payroll",
        body["change"]["record_id"],
    )
    assert row.correlation_id == response.headers["X-Request-ID"]
    assert counts(hr_bridge) == (1, 1)


def test_put_without_record_id_queues_a_new_record_each_time(
    client: Client, hr_bridge: Bridge, change: dict[str, Any]
) -> None:
    first = put_json(client, URL, change).get_json()
    second = put_json(client, URL, change).get_json()

    assert first["change"]["record_id"] != second["change"]["record_id"]
    assert counts(hr_bridge) == (1, 2)


def test_put_retried_with_its_record_id_answers_the_first_receipt_and_queues_once(
    client: Client, hr_bridge: Bridge, change: dict[str, Any]
) -> None:
    change["record_id"] = "HR-PUT-0001"

    first = put_json(client, URL, change)
    again = put_json(client, URL, change)

    assert again.status_code == 202
    assert again.get_json() == first.get_json()
    assert counts(hr_bridge) == (1, 1)


def test_put_reusing_a_record_id_for_another_change_is_422_and_changes_nothing(
    client: Client, hr_bridge: Bridge, change: dict[str, Any]
) -> None:
    change["record_id"] = "HR-PUT-0002"
    put_json(client, URL, change)
    change["weekly_hours"] = "20"

    problem = assert_problem(put_json(client, URL, change), 422, "idempotency-key-reused")

    assert problem["detail"].startswith("record_id: 'HR-PUT-0002' was already queued")
    assert client.get(URL).get_json()["weekly_hours"] == "38.5"
    assert counts(hr_bridge) == (1, 1)


def test_put_with_the_paths_employee_no_in_the_body_is_accepted(
    client: Client, change: dict[str, Any]
) -> None:
    change["employee_no"] = "HR5001"

    assert put_json(client, URL, change).status_code == 202


def test_put_with_another_employee_no_in_the_body_is_refused_as_a_whole(
    client: Client, hr_bridge: Bridge, change: dict[str, Any]
) -> None:
    change["employee_no"] = "HR5002"

    problem = assert_problem(put_json(client, URL, change), 422, "invalid-input")

    assert "'HR5002' is not the path's 'HR5001'" in problem["detail"]
    assert counts(hr_bridge) == (0, 0)


def test_put_to_an_employee_no_payroll_cannot_take_is_400(
    client: Client, change: dict[str, Any]
) -> None:
    problem = assert_problem(
        put_json(client, "/api/v1/hr/employees/hr-5001", change), 400, "mapping-error"
    )

    assert [e["path"] for e in problem["errors"]] == ["employee_no"]


def test_put_with_more_decimals_than_the_currency_has_is_400_naming_the_amount(
    client: Client, hr_bridge: Bridge, change: dict[str, Any]
) -> None:
    change["salary"]["amount"]["amount"] = "4200.005"

    problem = assert_problem(put_json(client, URL, change), 400, "mapping-error")

    assert [e["path"] for e in problem["errors"]] == ["salary.amount"]
    assert counts(hr_bridge) == (0, 0)


def test_put_of_a_change_payrolls_contract_refuses_is_400_naming_the_field(
    client: Client, hr_bridge: Bridge, change: dict[str, Any]
) -> None:
    change["weekly_hours"] = "90"  # payroll's contract: 0 to 80

    problem = assert_problem(put_json(client, URL, change), 400, "mapping-error")

    assert [e["path"] for e in problem["errors"]] == ["weekly_hours"]
    assert counts(hr_bridge) == (0, 0)


def test_put_with_an_unknown_or_missing_field_is_400_naming_both(
    client: Client, change: dict[str, Any]
) -> None:
    del change["bank_account"]
    change["department"] = "Sales"

    problem = assert_problem(put_json(client, URL, change), 400, "mapping-error")

    assert {e["path"]: e["expected"] for e in problem["errors"]} == {
        "bank_account": "a value: the field is required",
        "department": "no such field",
    }


def test_put_of_a_body_that_is_not_json_is_415(client: Client) -> None:
    response = client.put(URL, data="given_name=Anna", content_type="text/plain")

    assert_problem(response, 415, "unsupported-media-type")


def test_put_has_no_idempotency_key_its_record_id_makes_retries_safe(client: Client) -> None:
    operation = client.get("/api/openapi.json").get_json()["paths"][
        "/api/v1/hr/employees/{employee_no}"
    ]["put"]

    assert "Idempotency-Key" not in [p["name"] for p in operation.get("parameters", [])]
    assert "record_id" in operation["description"]


def test_get_answers_the_latest_record_of_the_employee(
    client: Client, change: dict[str, Any]
) -> None:
    put_json(client, URL, change)
    change["action"] = "CHANGE"
    change["weekly_hours"] = "30"
    latest = put_json(client, URL, change).get_json()["change"]

    response = client.get(URL)

    assert response.status_code == 200
    assert response.get_json() == latest


def test_get_with_fields_answers_only_those(client: Client, change: dict[str, Any]) -> None:
    put_json(client, URL, change)

    response = client.get(URL, query_string={"fields": "employee_no,salary.amount.currency"})

    assert response.get_json() == {
        "employee_no": "HR5001",
        "salary": {"amount": {"currency": "EUR"}},
    }


def test_get_with_an_unknown_field_is_400(client: Client, change: dict[str, Any]) -> None:
    put_json(client, URL, change)

    problem = assert_problem(
        client.get(URL, query_string={"fields": "salery"}), 400, "mapping-error"
    )

    assert problem["errors"][0]["got"] == "salery"


def test_get_of_an_unknown_employee_is_404(client: Client) -> None:
    assert_problem(client.get("/api/v1/hr/employees/HR9999"), 404, "not-found")


def test_put_racing_another_request_for_its_record_id_is_409_to_retry(
    client: Client, hr_bridge: Bridge, change: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    change["record_id"] = "HR-PUT-RACE"
    put_json(client, URL, change)
    # As if the other request committed between this one's lookup and its insert.
    monkeypatch.setattr(EmployeeStore, "queued_changes", lambda self, record_ids: {})

    problem = assert_problem(put_json(client, URL, change), 409, "conflict")

    assert "retry" in problem["detail"]
    assert counts(hr_bridge) == (1, 1)
