"""`Idempotency-Key` on the POST endpoints, through the test client."""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from tests.common.banking import UNAVAILABLE, FakeCoreBank
from tests.common.rest import assert_problem, post_json

TRANSFERS = "/api/v1/transfers"
VERIFY = "/api/v1/accounts/DE89370400440532013000/verification"


def post_with_key(client: Client, body: Any, key: str, url: str = TRANSFERS) -> TestResponse:
    return post_json(client, url, body, **{"Idempotency-Key": key})


def test_retry_with_same_key_replays_first_response_byte_for_byte(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    first = post_with_key(client, transfer, "key-1")
    again = post_with_key(client, transfer, "key-1")

    assert again.status_code == first.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(corebank.postings) == 1


def test_replay_does_not_care_about_whitespace_or_key_order(
    client: Client, transfer: dict[str, Any]
) -> None:
    first = post_with_key(client, transfer, "key-order")
    reordered = json.dumps(dict(reversed(list(transfer.items()))), indent=4)

    again = client.post(
        TRANSFERS,
        data=reordered,
        content_type="application/json",
        headers={"Idempotency-Key": "key-order"},
    )

    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()


def test_same_key_with_another_body_is_422(client: Client, transfer: dict[str, Any]) -> None:
    post_with_key(client, transfer, "key-2")
    other = copy.deepcopy(transfer)
    other["msg_id"] = "APP-2026-0099"

    problem = assert_problem(post_with_key(client, other, "key-2"), 422, "idempotency-key-reused")

    assert "key-2" in problem["detail"]


def test_same_key_on_another_endpoint_is_422(client: Client, transfer: dict[str, Any]) -> None:
    post_with_key(client, transfer, "key-3")

    assert_problem(
        post_with_key(client, {"name": "X"}, "key-3", VERIFY), 422, "idempotency-key-reused"
    )


def test_keys_belong_to_their_client(
    client: Client, other_partner: Client, transfer: dict[str, Any]
) -> None:
    post_with_key(client, transfer, "shared-key")
    other = copy.deepcopy(transfer)
    other["msg_id"] = "APP-OTHER-CLIENT"

    response = other_partner.post(
        TRANSFERS,
        data=json.dumps(other),
        content_type="application/json",
        headers={"Idempotency-Key": "shared-key"},
    )

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_error_response_is_stored_and_replayed_too(
    client: Client, transfer: dict[str, Any]
) -> None:
    transfer["creditor"]["account"] = transfer["debtor"]["account"]
    first = post_with_key(client, transfer, "key-4")

    again = post_with_key(client, transfer, "key-4")

    assert first.status_code == again.status_code == 422
    assert again.mimetype == "application/problem+json"
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_503_is_not_stored_so_the_retry_it_asks_for_runs(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    corebank.results.extend([UNAVAILABLE, UNAVAILABLE])
    assert post_with_key(client, transfer, "key-5").status_code == 503

    again = post_with_key(client, transfer, "key-5")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers


def test_retry_while_the_first_still_runs_is_409_then_replays(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank
) -> None:
    corebank.gate = threading.Event()
    answers: list[TestResponse] = []
    first = threading.Thread(
        target=lambda: answers.append(post_with_key(client, transfer, "key-6"))
    )
    first.start()
    assert corebank.entered.wait(timeout=10)

    during = post_with_key(client, transfer, "key-6")
    corebank.gate.set()
    first.join(timeout=10)
    after = post_with_key(client, transfer, "key-6")

    problem = assert_problem(during, 409, "in-progress")
    assert during.headers["Retry-After"] == "1"
    assert "key-6" in problem["detail"]
    assert answers[0].status_code == 201
    assert after.get_data() == answers[0].get_data()
    assert len(corebank.postings) == 1


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\tkey"])
def test_malformed_key_is_400_before_anything_runs(
    client: Client, transfer: dict[str, Any], corebank: FakeCoreBank, key: str
) -> None:
    problem = assert_problem(post_with_key(client, transfer, key), 400, "mapping-error")

    assert problem["errors"][0]["path"] == "Idempotency-Key"
    assert corebank.postings == []


def test_key_of_255_printable_characters_is_accepted(
    client: Client, transfer: dict[str, Any]
) -> None:
    assert post_with_key(client, transfer, "k ~" * 85).status_code == 201


def test_verification_is_replayed_under_its_key(client: Client) -> None:
    first = post_with_key(client, {"name": "Bäckerei Müller & Söhne GmbH"}, "verify-1", VERIFY)
    again = post_with_key(client, {"name": "Bäckerei Müller & Söhne GmbH"}, "verify-1", VERIFY)

    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
