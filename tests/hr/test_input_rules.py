"""The REST door's input rules on HR changes (README "Input rules"): salaries and hours are
decimals as JSON strings in xs:decimal's form, each key once; a refusal names the field and
stores and queues nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import Client

from bridge.app import Bridge
from tests.common.hr import counts
from tests.common.rest import assert_problem, put_json

URL = "/api/v1/hr/employees/HR5001"


def put_raw(client: Client, text: str) -> Any:
    return client.put(URL, data=text.encode(), content_type="application/json")


def test_salary_as_json_number_is_refused_naming_it(
    client: Client, change: dict[str, Any], hr_bridge: Bridge
) -> None:
    text = json.dumps(change).replace('"amount": "4200"', '"amount": 4200.10')

    problem = assert_problem(put_raw(client, text), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "salary.amount.amount"
    assert counts(hr_bridge) == (0, 0)


@pytest.mark.parametrize("hours", ["3.85E+1", "38_5", "\u0663\u0668", " 38.5"])
def test_weekly_hours_not_in_decimal_form_are_refused_naming_them(
    client: Client, change: dict[str, Any], hr_bridge: Bridge, hours: str
) -> None:
    change["weekly_hours"] = hours

    problem = assert_problem(put_json(client, URL, change), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "weekly_hours"
    assert counts(hr_bridge) == (0, 0)


def test_duplicate_key_in_an_hr_change_is_refused_naming_it(
    client: Client, change: dict[str, Any], hr_bridge: Bridge
) -> None:
    text = json.dumps(change).replace('"weekly_hours": ', '"weekly_hours": "20", "weekly_hours": ')

    problem = assert_problem(put_raw(client, text), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "weekly_hours"
    assert counts(hr_bridge) == (0, 0)


def test_duplicate_key_in_a_batch_item_is_refused_naming_its_path(
    client: Client, batch: dict[str, Any], hr_bridge: Bridge
) -> None:
    first = json.dumps(batch["changes"][0])
    doubled = first.replace('"action": ', '"action": "TERMINATE", "action": ', 1)
    text = json.dumps(batch).replace(first, doubled, 1)

    response = client.post(
        "/api/v1/hr/changes", data=text.encode(), content_type="application/json"
    )

    problem = assert_problem(response, 400, "mapping-error")
    assert problem["errors"][0]["path"] == "changes.0.action"
    assert counts(hr_bridge) == (0, 0)
