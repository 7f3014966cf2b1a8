"""/api/v1/sync/deliveries: the outbox, its dead letters, and replaying them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.rest.app import create_rest_app
from bridge.rest.auth import declared
from bridge.rest.sync import ADMIN_SCOPE
from tests.common.hr import make_dead, queue_changes
from tests.common.rest import assert_problem, post_json
from tests.credentials import authorized, grant

URL = "/api/v1/sync/deliveries"
FIELDS = [
    "id",
    "job",
    "topic",
    "key",
    "status",
    "attempts",
    "last_error",
    "correlation_id",
    "created_at",
    "available_at",
    "delivered_at",
    "payload",
]


@pytest.fixture
def ids(sync_bridge: Bridge) -> list[int]:
    """Four payroll deliveries; the second and the fourth are dead letters."""
    queued = queue_changes(sync_bridge)
    make_dead(sync_bridge, queued[1], queued[3], error="rejected by payroll: HOURS_ABOVE_MAXIMUM")
    return queued


def test_deliveries_are_listed_oldest_first_without_their_payload(
    client: Client, ids: list[int]
) -> None:
    response = client.get(URL)

    assert response.status_code == 200
    deliveries = response.get_json()["deliveries"]
    assert [d["id"] for d in deliveries] == ids
    assert list(deliveries[0]) == FIELDS
    first = deliveries[0]
    assert (first["job"], first["topic"], first["key"], first["status"]) == (
        "payroll",
        "payroll",
        "HR-REC-0001",
        "pending",
    )
    assert (first["attempts"], first["correlation_id"], first["payload"]) == (
        0,
        "cid-syncops",
        None,
    )
    assert datetime.fromisoformat(first["created_at"]).tzinfo is not None
    assert response.get_json()["next_cursor"] is None


def test_include_payload_adds_the_queued_message(client: Client, ids: list[int]) -> None:
    first = client.get(URL, query_string={"include": "payload"}).get_json()["deliveries"][0]

    assert first["payload"]["record_id"] == "HR-REC-0001"
    assert first["payload"]["salary"]["amount"] == {"amount": "4200.00", "currency": "EUR"}


def test_status_dead_lists_the_dead_letters_with_their_reason(
    client: Client, ids: list[int]
) -> None:
    deliveries = client.get(URL, query_string={"status": "dead", "job": "payroll"}).get_json()[
        "deliveries"
    ]

    assert [d["id"] for d in deliveries] == [ids[1], ids[3]]
    assert {d["last_error"] for d in deliveries} == {"rejected by payroll: HOURS_ABOVE_MAXIMUM"}


def test_another_jobs_deliveries_are_not_listed(client: Client, ids: list[int]) -> None:
    answer = client.get(URL, query_string={"job": "classification"}).get_json()

    assert answer == {"deliveries": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("query", "path"),
    [({"job": "nightly"}, "job"), ({"status": "lost"}, "status"), ({"include": "all"}, "include")],
)
def test_a_filter_that_names_nothing_known_is_400(
    client: Client, query: dict[str, str], path: str
) -> None:
    problem = assert_problem(client.get(URL, query_string=query), 400, "mapping-error")

    assert problem["errors"][0]["path"] == path


def test_deliveries_page_with_a_cursor(client: Client, ids: list[int]) -> None:
    first = client.get(URL, query_string={"limit": 3}).get_json()
    second = client.get(URL, query_string={"limit": 3, "cursor": first["next_cursor"]}).get_json()

    assert [d["id"] for d in first["deliveries"] + second["deliveries"]] == ids
    assert second["next_cursor"] is None


def test_one_delivery_is_read_by_its_id(client: Client, ids: list[int]) -> None:
    plain = client.get(f"{URL}/{ids[3]}").get_json()
    full = client.get(f"{URL}/{ids[3]}", query_string={"include": "payload"}).get_json()

    assert (plain["key"], plain["status"], plain["payload"]) == ("HR-REC-0004", "dead", None)
    assert full["payload"]["weekly_hours"] == "60"


def test_an_unknown_delivery_is_404(client: Client) -> None:
    assert_problem(client.get(f"{URL}/999"), 404, "not-found")
    assert_problem(client.post(f"{URL}/999/replay"), 404, "not-found")


def test_replaying_a_dead_letter_puts_it_back_in_the_queue(client: Client, ids: list[int]) -> None:
    response = client.post(f"{URL}/{ids[1]}/replay")

    assert response.status_code == 200, response.get_data(as_text=True)
    replayed = response.get_json()
    assert (replayed["status"], replayed["attempts"]) == ("pending", 0)
    due = datetime.fromisoformat(replayed["available_at"])
    assert abs(due - datetime.now(UTC)) < timedelta(minutes=1)
    assert client.get(f"{URL}/{ids[3]}").get_json()["status"] == "dead"  # only the one named


def test_replaying_a_delivery_that_is_not_dead_is_409(client: Client, ids: list[int]) -> None:
    problem = assert_problem(client.post(f"{URL}/{ids[0]}/replay"), 409, "conflict")

    assert "is pending, not dead" in problem["detail"]


def test_replay_without_a_body_replays_every_dead_letter(client: Client, ids: list[int]) -> None:
    response = client.post(f"{URL}/replay")

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"replayed": 2}
    assert client.get(URL, query_string={"status": "dead"}).get_json()["deliveries"] == []


@pytest.mark.parametrize(
    ("body", "replayed"),
    [({"job": "payroll"}, 2), ({"job": "classification"}, 0), ({}, 2)],
)
def test_replay_of_one_jobs_dead_letters(
    client: Client, ids: list[int], body: dict[str, Any], replayed: int
) -> None:
    assert post_json(client, f"{URL}/replay", body).get_json() == {"replayed": replayed}


def test_replay_of_named_dead_letters_leaves_the_others(client: Client, ids: list[int]) -> None:
    answer = post_json(client, f"{URL}/replay", {"ids": [ids[0], ids[3]]}).get_json()

    assert answer == {"replayed": 1}  # ids[0] is pending, not a dead letter
    dead = client.get(URL, query_string={"status": "dead"}).get_json()["deliveries"]
    assert [d["id"] for d in dead] == [ids[1]]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"job": "nightly"}, "job"),
        ({"ids": []}, "ids"),
        ({"every": True}, "every"),
        ({"ids": [-781909409859950608384]}, "ids.0"),  # no BIGINT: was a driver error, a 500
        ({"ids": [2**63]}, "ids.0"),
    ],
)
def test_replay_with_a_bad_body_is_400_and_replays_nothing(
    client: Client, ids: list[int], body: dict[str, Any], path: str
) -> None:
    problem = assert_problem(post_json(client, f"{URL}/replay", body), 400, "mapping-error")

    assert problem["errors"][0]["path"] == path
    assert len(client.get(URL, query_string={"status": "dead"}).get_json()["deliveries"]) == 2


def test_every_sync_route_is_for_private_clients_holding_the_admin_scope(
    sync_bridge: Bridge,
) -> None:
    app = create_rest_app(sync_bridge)
    routes = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("sync.")]

    assert len(routes) == 9
    for rule in routes:
        access = declared(app, rule.endpoint)
        assert access is not None, rule.rule
        assert (access.scope, access.tiers) == (ADMIN_SCOPE, frozenset({"private"})), rule.rule


@pytest.mark.parametrize(
    ("tier", "scopes", "status"),
    [
        ("private", [ADMIN_SCOPE], 200),
        ("private", ["hr:write"], 403),
        ("partner", [ADMIN_SCOPE], 403),
    ],
)
def test_the_sync_api_admits_only_private_operators(
    sync_bridge: Bridge, tier: str, scopes: list[str], status: int
) -> None:
    caller = Client(authorized(sync_bridge, grant(sync_bridge.engine, tier=tier, scopes=scopes)))

    assert caller.get("/api/v1/sync/jobs").status_code == status
    assert Client(sync_bridge).get("/api/v1/sync/jobs").status_code == 401
