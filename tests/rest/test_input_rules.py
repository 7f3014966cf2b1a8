"""The REST door's input rules (README "Input rules"): what `Decimal()`, a JSON parser or a
lax schema would let through is refused with a 400 problem naming the field, and nothing is
stored or sent to core banking."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.test import Client, TestResponse

from bridge.app import Bridge
from bridge.mapping.scalars import DECIMAL_TEXT
from bridge.rest.schemas import component_schemas
from bridge.store.tables import transfers
from tests.common.banking import FakeCoreBank
from tests.common.rest import PROBLEM, assert_problem, post_json
from tests.hostile import hostile_json_values

TRANSFERS = "/api/v1/transfers"
VERIFY = "/api/v1/accounts/DE89370400440532013000/verification"
JSON_VALUES = hostile_json_values()
LONE_SURROGATE = re.compile(
    r"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}"
)
# Every field of a transfer a caller writes, by its JSON path.
TRANSFER_FIELDS = (
    "msg_id",
    "created_at",
    "requested_execution_date",
    "amount.amount",
    "amount.currency",
    "debtor.name",
    "debtor.account.iban",
    "debtor.bic",
    "creditor.name",
    "creditor.account.iban",
    "creditor.bic",
    "remittance_info",
    "charge_bearer",
)


def post_raw(client: Client, url: str, text: str) -> TestResponse:
    return client.post(url, data=text.encode(), content_type="application/json")


def with_raw_value(body: dict[str, Any], path: str, raw: str) -> str:
    """`body` as JSON text with the field at `path` replaced by the raw JSON text `raw`."""
    marker = "\u0000replace-me\u0000"
    changed = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = changed
    for name in parents:
        node = node[name]
    node[last] = marker
    return json.dumps(changed).replace(json.dumps(marker), raw)


def stored_transfers(bridge: Bridge) -> int:
    with bridge.engine.connect() as connection:
        count: int = connection.execute(select(func.count()).select_from(transfers)).scalar_one()
    return count


def refused_naming(response: TestResponse, field: str) -> dict[str, Any]:
    problem = assert_problem(response, 400, "mapping-error")
    assert problem["errors"][0]["path"] == field, problem
    return problem


# -- amounts ---------------------------------------------------------------------------------


def test_amount_with_exponent_is_refused_naming_amount(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    transfer["amount"]["amount"] = "1E+2"

    problem = refused_naming(post_json(client, TRANSFERS, transfer), "amount.amount")

    assert "no exponent" in problem["errors"][0]["expected"]
    assert corebank.postings == []


def test_amount_with_digit_separators_is_refused_naming_amount(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    transfer["amount"]["amount"] = "1_000.00"

    refused_naming(post_json(client, TRANSFERS, transfer), "amount.amount")
    assert corebank.postings == []


@pytest.mark.parametrize(
    "amount",
    ["\uff11\uff10.\uff10\uff10", "\u0661.\u0660\u0660", "\u0967\u0966.\u0966\u0966"],
    ids=["full-width", "arabic-indic", "devanagari"],
)
def test_amount_in_digits_of_another_script_is_refused_naming_amount(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank, amount: str
) -> None:
    transfer["amount"]["amount"] = amount

    refused_naming(post_json(client, TRANSFERS, transfer), "amount.amount")
    assert corebank.postings == []


def test_amount_as_json_number_is_refused_naming_amount_not_rounded(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank, rest_bridge: Bridge
) -> None:
    body = with_raw_value(transfer, "amount.amount", "100000000000000.01")

    problem = refused_naming(post_raw(client, TRANSFERS, body), "amount.amount")

    assert "JSON string" in problem["errors"][0]["expected"]
    assert corebank.postings == []
    assert stored_transfers(rest_bridge) == 0


def test_amount_as_json_string_keeps_every_digit(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    transfer["amount"]["amount"] = "100000000000000.01"

    assert post_json(client, TRANSFERS, transfer).status_code == 201
    assert str(corebank.postings[0].amount.amount) == "100000000000000.01"


def test_amount_with_spaces_around_it_is_refused_naming_amount(
    client: Client, transfer: dict[str, Any]
) -> None:
    transfer["amount"]["amount"] = " 10.00"

    refused_naming(post_json(client, TRANSFERS, transfer), "amount.amount")


def test_documented_decimal_schema_is_the_rule_applied() -> None:
    amount = component_schemas()["Money"]["properties"]["amount"]

    assert amount["type"] == "string"
    assert amount["pattern"] == f"^{DECIMAL_TEXT.pattern}$"


# -- IBANs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("party", ["debtor", "creditor"])
def test_iban_with_wrong_check_digits_is_refused_naming_it(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank, party: str
) -> None:
    transfer[party]["account"] = {"iban": "DE00370400440532013000"}

    problem = refused_naming(post_json(client, TRANSFERS, transfer), f"{party}.account.iban")

    assert "check digits" in problem["errors"][0]["expected"]
    assert corebank.postings == []


def test_foreign_iban_with_wrong_check_digits_is_not_forwarded_for_clearing(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank, rest_bridge: Bridge
) -> None:
    transfer["creditor"]["account"] = {"iban": "GB29NWBK60161331926818"}  # ...19 is right

    refused_naming(post_json(client, TRANSFERS, transfer), "creditor.account.iban")
    assert corebank.postings == []
    assert stored_transfers(rest_bridge) == 0


def test_account_verification_of_an_iban_with_wrong_check_digits_is_refused_naming_it(
    client: Client,
) -> None:
    response = post_json(
        client, "/api/v1/accounts/DE00370400440532013000/verification", {"name": "Jürgen"}
    )

    refused_naming(response, "account.iban")


# -- requested execution date ----------------------------------------------------------------


@pytest.mark.parametrize("wanted", ["0001-01-01", "9999-12-31"])
def test_execution_date_far_from_today_is_refused_naming_it(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank, wanted: str
) -> None:
    transfer["requested_execution_date"] = wanted

    problem = refused_naming(post_json(client, TRANSFERS, transfer), "requested_execution_date")

    assert problem["errors"][0]["expected"].startswith("a date from ")
    assert corebank.postings == []


@pytest.mark.parametrize("days", [-30, 0, 365])
def test_execution_date_within_the_window_is_accepted(
    client: Client, transfer: dict[str, Any], days: int
) -> None:
    today = datetime.now(UTC).date()
    transfer["requested_execution_date"] = (today + timedelta(days=days)).isoformat()

    assert post_json(client, TRANSFERS, transfer).status_code == 201


# -- msg_id ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "msg_id",
    ["APP\n0001", "APP\t0001", "\u202eAPP-0001", "APP\u200d0001", " APP-0001", "APP-0001 "],
    ids=["newline", "tab", "rtl-override", "zero-width-joiner", "leading-space", "trailing-space"],
)
def test_msg_id_with_control_format_or_edge_space_is_refused_naming_it(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank, msg_id: str
) -> None:
    transfer["msg_id"] = msg_id

    refused_naming(post_json(client, TRANSFERS, transfer), "msg_id")
    assert corebank.postings == []


def test_msg_id_of_printable_unicode_with_inner_spaces_is_accepted(
    client: Client, transfer: dict[str, Any]
) -> None:
    transfer["msg_id"] = "Müller 山田 #42"

    assert post_json(client, TRANSFERS, transfer).status_code == 201


# -- duplicate keys --------------------------------------------------------------------------


def test_duplicate_key_is_refused_naming_it(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    text = json.dumps(transfer).replace('"msg_id": ', '"msg_id": "FIRST", "msg_id": ', 1)

    problem = refused_naming(post_raw(client, TRANSFERS, text), "msg_id")

    assert "at most once" in problem["errors"][0]["expected"]
    assert corebank.postings == []


def test_duplicate_key_in_a_nested_object_is_refused_naming_its_path(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    text = json.dumps(transfer).replace(
        '"amount": "125.50"', '"amount": "1.00", "amount": "125.50"'
    )

    refused_naming(post_raw(client, TRANSFERS, text), "amount.amount")
    assert corebank.postings == []


def test_duplicate_key_in_another_body_is_refused_too(client: Client) -> None:
    response = post_raw(client, VERIFY, '{"name": "Jürgen", "name": "Jürgen Großmann"}')

    refused_naming(response, "name")


# -- every field, every hostile value ---------------------------------------------------------


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from(TRANSFER_FIELDS),
    raw=st.sampled_from(sorted(JSON_VALUES.values())),
)
def test_hostile_value_in_any_transfer_field_is_refused_naming_it_or_accepted(
    client: Client,
    transfer: dict[str, Any],
    corebank: FakeCoreBank,
    rest_bridge: Bridge,
    field: str,
    raw: str,
) -> None:
    stored, posted = stored_transfers(rest_bridge), len(corebank.postings)
    body = copy.deepcopy(transfer)
    body["msg_id"] = f"H-{stored}"  # a new transfer each time, unless msg_id is the field

    response = post_raw(client, TRANSFERS, with_raw_value(body, field, raw))

    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code == 201:
        return
    assert response.mimetype == PROBLEM
    problem = response.get_json(force=True)
    assert response.status_code == 400, problem
    if LONE_SURROGATE.search(raw):  # I-JSON (RFC 7493): such a document is not read at all
        assert problem["type"].endswith("/invalid-json"), problem
        return
    named = problem["errors"][0]["path"]
    assert field == named or field.startswith(f"{named}."), (field, problem)
    assert (stored_transfers(rest_bridge), len(corebank.postings)) == (stored, posted)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=st.sampled_from(sorted(JSON_VALUES.values())))
def test_hostile_name_to_verify_is_refused_naming_it_or_answered(client: Client, raw: str) -> None:
    response = post_raw(client, VERIFY, f'{{"name": {raw}}}')

    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code == 200:
        return
    problem = response.get_json(force=True)
    if LONE_SURROGATE.search(raw):
        assert problem["type"].endswith("/invalid-json"), problem
        return
    assert response.status_code == 400, problem
    assert problem["errors"][0]["path"] == "name", problem
