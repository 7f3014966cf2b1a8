"""End to end over a real socket: the REST door, the banking service, the zeep client and the
core banking simulator, all in the live bridge (SQLite, simulators in process)."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from bridge.sims import controls
from bridge.store.tables import transfers
from tests.common.live import LiveBridge

DATA = Path(__file__).parents[1] / "data" / "rest"
ACCOUNT = "DE89370400440532013000"

pytestmark = pytest.mark.slow


@pytest.fixture
def transfer() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "transfer_request.json").read_text("utf-8"))
    return loaded


def postings(live: LiveBridge, tx_id: str) -> list[dict[str, Any]]:
    corebank = controls(live.bridge.engine)["corebank"]
    return [c for c in corebank.calls("PostPayment", key=tx_id) if not c["duplicate"]]


def stored_transfers(live: LiveBridge) -> int:
    with live.bridge.engine.connect() as connection:
        count: int = connection.execute(select(func.count()).select_from(transfers)).scalar_one()
    return count


def test_transfer_is_posted_to_core_banking_and_read_back(
    live_bridge: LiveBridge, transfer: dict[str, Any]
) -> None:
    created = requests.post(f"{live_bridge.url}/api/v1/transfers", json=transfer, timeout=30)

    assert created.status_code == 201, created.text
    result = created.json()
    assert result["status"] == "ACSC"
    assert result["booking_date"]
    read = requests.get(f"{live_bridge.url}{created.headers['Location']}", timeout=30)
    assert read.json() == result
    assert len(postings(live_bridge, result["tx_id"])) == 1


def test_account_holder_is_verified_by_core_banking(live_bridge: LiveBridge) -> None:
    response = requests.post(
        f"{live_bridge.url}/api/v1/accounts/{ACCOUNT}/verification",
        json={"name": "Bäckerei Müller & Söhne GmbH"},
        timeout=30,
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"result": "MTCH", "suggested_name": None, "account_status": "ACTV"}


def test_statement_pages_through_core_banking(live_bridge: LiveBridge) -> None:
    url = f"{live_bridge.url}/api/v1/accounts/{ACCOUNT}/transactions"
    query: dict[str, str] = {"from_date": "2025-05-01", "to_date": "2025-05-31", "limit": "4"}
    pages: list[dict[str, Any]] = []
    while True:
        response = requests.get(url, params=query, timeout=30)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if pages[-1]["next_cursor"] is None:
            break
        query = {**query, "cursor": pages[-1]["next_cursor"]}

    entries = [t for page in pages for t in page["transactions"]]
    assert len(pages) > 1
    assert all(len(page["transactions"]) == 4 for page in pages[:-1])
    assert 1 <= len(pages[-1]["transactions"]) <= 4
    assert len({t["tx_id"] for t in entries}) == len(entries)
    assert [t["tx_id"] for t in entries][:2] == ["E20250502-0001", "E20250505-0002"]
    assert entries[0]["amount"] == {"amount": "1850.00", "currency": "EUR"}
    assert entries[0]["credit_debit"] == "CRDT"


def test_concurrent_requests_with_one_key_have_one_effect(
    live_bridge: LiveBridge, transfer: dict[str, Any]
) -> None:
    url = f"{live_bridge.url}/api/v1/transfers"
    headers = {"Idempotency-Key": "concurrent-1"}
    start = threading.Barrier(8)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def send() -> None:
        start.wait(timeout=10)
        response = requests.post(url, json=transfer, headers=headers, timeout=60)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    settled = requests.post(url, json=transfer, headers=headers, timeout=60)

    statuses = sorted(a.status_code for a in answers)
    first = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers]
    assert len(answers) == 8
    assert set(statuses) <= {201, 409}, statuses
    assert len(first) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["Content-Type"] == "application/problem+json"
            assert answer.json()["type"] == "https://bridge.dev/problems/in-progress"
        else:
            assert answer.content == first[0].content
    assert settled.headers["Idempotent-Replayed"] == "true"
    assert settled.content == first[0].content
    assert stored_transfers(live_bridge) == 1
    assert len(postings(live_bridge, first[0].json()["tx_id"])) == 1


def test_sequential_retry_over_the_network_is_replayed_without_second_posting(
    live_bridge: LiveBridge, transfer: dict[str, Any]
) -> None:
    url = f"{live_bridge.url}/api/v1/transfers"
    other = copy.deepcopy(transfer)
    other["msg_id"] = "APP-2026-0002"
    headers = {"Idempotency-Key": "sequential-1"}

    first = requests.post(url, json=other, headers=headers, timeout=60)
    again = requests.post(url, json=other, headers=headers, timeout=60)

    assert first.status_code == 201
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(postings(live_bridge, first.json()["tx_id"])) == 1
