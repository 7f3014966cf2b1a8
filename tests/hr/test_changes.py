"""POST /api/v1/hr/changes: a batch of HR changes, stored and queued all together or not at all."""

from __future__ import annotations

import copy
import re
from typing import Any

from sqlalchemy import select
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.store.tables import outbox
from tests.common.hr import counts, load
from tests.common.rest import assert_problem, post_json

URL = "/api/v1/hr/changes"


def many(template: dict[str, Any], count: int) -> dict[str, Any]:
    changes = []
    for n in range(count):
        change = copy.deepcopy(template)
        change["record_id"] = f"HR-MANY-{n:05d}"
        change["employee_no"] = f"M{n:05d}"
        changes.append(change)
    return {"changes": changes}


def test_batch_queues_every_change_in_the_order_sent(
    client: Client, hr_bridge: Bridge, batch: dict[str, Any]
) -> None:
    response = post_json(client, URL, batch)

    assert response.status_code == 202, response.get_data(as_text=True)
    answered = response.get_json()["changes"]
    assert [a["change"]["record_id"] for a in answered] == [
        "HR-REC-0001",
        "HR-REC-0002",
        "HR-REC-0003",
        "HR-REC-0004",
    ]
    assert {a["queue"]["status"] for a in answered} == {"pending"}
    with hr_bridge.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.id, outbox.c.key).order_by(outbox.c.id)).all()
    assert [(a["queue"]["delivery_id"], a["change"]["record_id"]) for a in answered] == [
        tuple(row) for row in rows
    ]
    assert counts(hr_bridge) == (4, 4)


def test_changes_without_record_ids_get_one_each(client: Client, batch: dict[str, Any]) -> None:
    for change in batch["changes"]:
        del change["record_id"]

    answered = post_json(client, URL, batch).get_json()["changes"]

    record_ids = [a["change"]["record_id"] for a in answered]
    assert all(re.fullmatch(r"[0-9a-f]{32}", r) for r in record_ids)
    assert len(set(record_ids)) == 4


def test_one_bad_change_stores_nothing_and_every_bad_field_is_named_by_its_index(
    client: Client, hr_bridge: Bridge
) -> None:
    response = post_json(client, URL, load("changes_bad_fields.json"))

    problem = assert_problem(response, 400, "mapping-error")
    assert sorted(e["path"] for e in problem["errors"]) == [
        "changes[1].salary.period",
        "changes[1].weekly_hours",
        "changes[2].department",
        "changes[2].given_name",
    ]
    assert counts(hr_bridge) == (0, 0)


def test_changes_payrolls_contract_refuses_are_named_and_nothing_is_stored(
    client: Client, hr_bridge: Bridge
) -> None:
    response = post_json(client, URL, load("changes_outside_contract.json"))

    problem = assert_problem(response, 400, "mapping-error")
    assert [e["path"] for e in problem["errors"]] == [
        "changes[1].employee_no",
        "changes[2].weekly_hours",
    ]
    assert counts(hr_bridge) == (0, 0)


def test_an_amount_with_too_many_decimals_is_named_by_its_index(
    client: Client, hr_bridge: Bridge, batch: dict[str, Any]
) -> None:
    batch["changes"][2]["salary"]["amount"]["amount"] = "1800.5"  # JPY has no minor unit

    problem = assert_problem(post_json(client, URL, batch), 400, "mapping-error")

    assert [e["path"] for e in problem["errors"]] == ["changes[2].salary.amount"]
    assert counts(hr_bridge) == (0, 0)


def test_two_changes_with_one_record_id_are_refused(
    client: Client, hr_bridge: Bridge, batch: dict[str, Any]
) -> None:
    batch["changes"][3]["record_id"] = "HR-REC-0002"

    problem = assert_problem(post_json(client, URL, batch), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "changes[3].record_id"
    assert "changes[1]" in problem["errors"][0]["expected"]
    assert counts(hr_bridge) == (0, 0)


def test_a_record_id_queued_earlier_for_another_change_is_422_and_nothing_is_stored(
    client: Client, hr_bridge: Bridge, batch: dict[str, Any]
) -> None:
    post_json(client, URL, {"changes": batch["changes"][:1]})
    batch["changes"][0]["weekly_hours"] = "20"

    problem = assert_problem(post_json(client, URL, batch), 422, "idempotency-key-reused")

    assert "changes[0].record_id" in problem["detail"]
    assert counts(hr_bridge) == (1, 1)


def test_a_batch_sent_again_with_its_record_ids_is_queued_once(
    client: Client, hr_bridge: Bridge, batch: dict[str, Any]
) -> None:
    first = post_json(client, URL, batch)
    again = post_json(client, URL, batch)

    assert again.status_code == 202
    assert again.get_json() == first.get_json()
    assert counts(hr_bridge) == (4, 4)


def test_idempotency_key_replays_the_first_answer(
    client: Client, hr_bridge: Bridge, batch: dict[str, Any]
) -> None:
    for change in batch["changes"]:
        del change["record_id"]  # only the key protects this batch from a second queueing

    first = post_json(client, URL, batch, **{"Idempotency-Key": "hr-batch-1"})
    again = post_json(client, URL, batch, **{"Idempotency-Key": "hr-batch-1"})

    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()
    assert counts(hr_bridge) == (4, 4)


def test_idempotency_key_reused_for_another_batch_is_422(
    client: Client, batch: dict[str, Any]
) -> None:
    post_json(client, URL, batch, **{"Idempotency-Key": "hr-batch-2"})
    batch["changes"].pop()

    response = post_json(client, URL, batch, **{"Idempotency-Key": "hr-batch-2"})

    assert_problem(response, 422, "idempotency-key-reused")


def test_a_bare_array_is_refused_the_batch_is_an_object(
    client: Client, batch: dict[str, Any]
) -> None:
    problem = assert_problem(post_json(client, URL, batch["changes"]), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "(body)"


def test_an_empty_batch_is_400(client: Client) -> None:
    problem = assert_problem(post_json(client, URL, {"changes": []}), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "changes"


def test_a_thousand_changes_are_taken_at_once(
    client: Client, hr_bridge: Bridge, batch: dict[str, Any]
) -> None:
    body = many(batch["changes"][0], 1000)

    response = post_json(client, URL, body)

    assert response.status_code == 202, response.get_data(as_text=True)[:500]
    assert len(response.get_json()["changes"]) == 1000
    assert counts(hr_bridge) == (1000, 1000)


def test_more_than_a_thousand_changes_are_400(
    client: Client, hr_bridge: Bridge, batch: dict[str, Any]
) -> None:
    problem = assert_problem(
        post_json(client, URL, many(batch["changes"][0], 1001)), 400, "mapping-error"
    )

    assert problem["errors"][0]["path"] == "changes"
    assert counts(hr_bridge) == (0, 0)


def test_a_body_over_a_mebibyte_is_413(client: Client, batch: dict[str, Any]) -> None:
    body = many(batch["changes"][0], 1000)
    for change in body["changes"]:
        change["family_name"] = "Ü" * 600

    assert_problem(post_json(client, URL, body), 413, "request-entity-too-large")
