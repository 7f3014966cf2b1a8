"""POST, GET and list /api/v1/shipments: answers, paging and problems, over the real app."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.domain.shipping import ShipmentBooking
from bridge.store.tables import outbox
from tests.common.rest import assert_problem, post_json
from tests.common.shipping import event, order_body

SHIPMENTS = "/api/v1/shipments"


def _booked(bridge: Bridge, ref: str = "SHP-2025-1001", order_ref: str = "ORD-2025-1001") -> None:
    booking = ShipmentBooking(
        order_ref=order_ref,
        tracking_no="CP0000TEST01DE",
        estimated_delivery=date(2025, 3, 5),
        label_url="http://sims.example/labels/CP0000TEST01DE",
    )
    bridge.shipping.record_booking(ref, booking)


def _queued(bridge: Bridge) -> list[str]:
    with bridge.engine.connect() as connection:
        return list(
            connection.execute(select(outbox.c.key).where(outbox.c.topic == "shipments")).scalars()
        )


def test_an_order_is_accepted_queued_and_located(client: Client, app_bridge: Bridge) -> None:
    response = post_json(client, SHIPMENTS, order_body())

    assert response.status_code == 202, response.get_data(as_text=True)
    shipment = response.get_json()
    assert response.headers["Location"] == f"{SHIPMENTS}/SHP-2025-1001"
    assert (shipment["shipment_ref"], shipment["order_ref"]) == ("SHP-2025-1001", "ORD-2025-1001")
    assert (shipment["booking"], shipment["status"], shipment["tracking_no"]) == (
        "queued",
        None,
        None,
    )
    assert shipment["order"]["consignee"]["name"] == "Jürgen Weiß"
    assert shipment["events"] == []
    assert _queued(app_bridge) == ["ORD-2025-1001"]


def test_a_shipment_belongs_to_the_configured_logistics_partner(
    client: Client, app_bridge: Bridge
) -> None:
    post_json(client, SHIPMENTS, order_body())

    partner = app_bridge.settings.logistics_partner
    assert app_bridge.shipping.details("SHP-2025-1001", partner_id=partner).order_ref == (
        "ORD-2025-1001"
    )


def test_the_same_order_again_answers_the_shipment_and_queues_nothing_more(
    client: Client, app_bridge: Bridge
) -> None:
    first = post_json(client, SHIPMENTS, order_body())
    again = post_json(client, SHIPMENTS, order_body())

    assert again.status_code == 202
    assert again.get_json() == first.get_json()
    assert _queued(app_bridge) == ["ORD-2025-1001"]


def test_the_same_order_once_booked_answers_200_with_its_tracking_number(
    client: Client, app_bridge: Bridge
) -> None:
    post_json(client, SHIPMENTS, order_body())
    _booked(app_bridge)

    again = post_json(client, SHIPMENTS, order_body())

    assert again.status_code == 200
    assert (again.get_json()["booking"], again.get_json()["tracking_no"]) == (
        "booked",
        "CP0000TEST01DE",
    )


def test_an_order_ref_reused_for_another_order_is_422(client: Client) -> None:
    post_json(client, SHIPMENTS, order_body())

    problem = assert_problem(
        post_json(client, SHIPMENTS, order_body(service_level="EXPRESS")),
        422,
        "idempotency-key-reused",
    )

    assert "ORD-2025-1001" in problem["detail"]


def test_a_shipment_ref_already_in_use_is_422(client: Client) -> None:
    post_json(client, SHIPMENTS, order_body())

    problem = assert_problem(
        post_json(client, SHIPMENTS, order_body(order_ref="ORD-2025-1002")),
        422,
        "idempotency-key-reused",
    )

    assert "shipment_ref 'SHP-2025-1001'" in problem["detail"]


def test_an_idempotency_key_replays_the_first_answer(client: Client) -> None:
    first = post_json(client, SHIPMENTS, order_body(), **{"Idempotency-Key": "k-ship-1"})
    again = post_json(client, SHIPMENTS, order_body(), **{"Idempotency-Key": "k-ship-1"})

    assert again.headers["Idempotent-Replayed"] == "true"
    assert (again.status_code, again.get_data()) == (first.status_code, first.get_data())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consignee": {"name": "Jürgen Weiß", "phone": "0211 123456"}}, "consignee.phone"),
        ({"address": {**order_body()["address"], "country_code": "de"}}, "address.country_code"),
        (
            {"parcels": [{"weight_grams": 0, "length_cm": 1, "width_cm": 1, "height_cm": 1}]},
            "parcels.weight_grams",  # the conformance check names no position
        ),
    ],
    ids=["phone-not-e164", "country-lowercase", "weightless-parcel"],
)
def test_an_order_the_booking_contract_refuses_is_400_naming_the_field(
    client: Client, app_bridge: Bridge, change: dict[str, Any], field: str
) -> None:
    problem = assert_problem(
        post_json(client, SHIPMENTS, order_body(**change)), 400, "mapping-error"
    )

    assert [error["path"] for error in problem["errors"]] == [field]
    assert _queued(app_bridge) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"shipment_ref": "shp-2025-1001"}, "shipment_ref"),
        ({"consignee": {"name": "Ä" * 71}}, "consignee.name"),
        ({"address": {**order_body()["address"], "city": "C" * 36}}, "address.city"),
    ],
    ids=["lowercase-ref", "name-over-70", "city-over-35"],
)
def test_an_order_the_partner_contract_cannot_describe_is_400_naming_the_field(
    client: Client, app_bridge: Bridge, change: dict[str, Any], field: str
) -> None:
    problem = assert_problem(
        post_json(client, SHIPMENTS, order_body(**change)), 400, "mapping-error"
    )

    [error] = problem["errors"]
    assert error["path"] == field
    assert "partner contract" in error["expected"]
    assert _queued(app_bridge) == []


def test_an_order_with_an_unknown_field_or_without_parcels_is_400(client: Client) -> None:
    body = order_body(insurance=True)
    del body["parcels"]

    problem = assert_problem(post_json(client, SHIPMENTS, body), 400, "mapping-error")

    assert {error["path"] for error in problem["errors"]} == {"insurance", "parcels"}


def test_a_shipment_is_read_by_shipment_ref_or_order_ref(client: Client) -> None:
    post_json(client, SHIPMENTS, order_body())

    by_shipment = client.get(f"{SHIPMENTS}/SHP-2025-1001")
    by_order = client.get(f"{SHIPMENTS}/ORD-2025-1001")

    assert by_shipment.status_code == by_order.status_code == 200
    assert by_shipment.get_json() == by_order.get_json()


def test_a_shipment_shows_its_history_and_its_current_status(
    client: Client, app_bridge: Bridge
) -> None:
    post_json(client, SHIPMENTS, order_body())
    _booked(app_bridge)
    partner = app_bridge.settings.logistics_partner
    app_bridge.shipping.record_event(
        event("DELIVERED", "2025-03-04T14:00:00+01:00"), partner_id=partner
    )
    app_bridge.shipping.record_event(
        event("IN_TRANSIT", "2025-03-04T10:00:00+01:00"), partner_id=partner
    )

    shipment = client.get(f"{SHIPMENTS}/SHP-2025-1001").get_json()

    assert shipment["status"] == "DELIVERED"
    assert shipment["last_event_time"] == "2025-03-04T13:00:00+00:00"
    assert [(e["status"], e["event_time"]) for e in shipment["events"]] == [
        ("DELIVERED", "2025-03-04T14:00:00+01:00"),
        ("IN_TRANSIT", "2025-03-04T10:00:00+01:00"),
    ]


def test_fields_returns_a_sparse_shipment(client: Client) -> None:
    post_json(client, SHIPMENTS, order_body())

    response = client.get(
        f"{SHIPMENTS}/SHP-2025-1001?fields=shipment_ref,booking,order.consignee.name"
    )

    assert response.get_json() == {
        "shipment_ref": "SHP-2025-1001",
        "order": {"consignee": {"name": "Jürgen Weiß"}},
        "booking": "queued",
    }


def test_an_unknown_shipment_is_404_and_an_unknown_field_400(client: Client) -> None:
    post_json(client, SHIPMENTS, order_body())

    assert_problem(client.get(f"{SHIPMENTS}/SHP-2025-9999"), 404, "not-found")
    problem = assert_problem(
        client.get(f"{SHIPMENTS}/SHP-2025-1001?fields=tracking"), 400, "mapping-error"
    )
    assert problem["errors"][0]["got"] == "tracking"


def test_lists_page_with_a_cursor_and_filter_by_status_and_booking(
    client: Client, app_bridge: Bridge
) -> None:
    for n in (1001, 1002, 1003):
        post_json(
            client, SHIPMENTS, order_body(order_ref=f"ORD-2025-{n}", shipment_ref=f"SHP-2025-{n}")
        )
    _booked(app_bridge)
    app_bridge.shipping.record_event(
        event("PICKED_UP", "2025-03-03T09:00:00Z"), partner_id=app_bridge.settings.logistics_partner
    )

    first = client.get(f"{SHIPMENTS}?limit=2&fields=shipment_ref").get_json()
    second = client.get(f"{SHIPMENTS}?limit=2&fields=shipment_ref&cursor={first['next_cursor']}")
    picked_up = client.get(f"{SHIPMENTS}?status=PICKED_UP").get_json()
    queued = client.get(f"{SHIPMENTS}?booking=queued&fields=shipment_ref").get_json()

    assert first["shipments"] == [
        {"shipment_ref": "SHP-2025-1001"},
        {"shipment_ref": "SHP-2025-1002"},
    ]
    assert second.get_json() == {
        "shipments": [{"shipment_ref": "SHP-2025-1003"}],
        "next_cursor": None,
    }
    assert [s["shipment_ref"] for s in picked_up["shipments"]] == ["SHP-2025-1001"]
    assert picked_up["shipments"][0]["events"][0]["status"] == "PICKED_UP"
    assert [s["shipment_ref"] for s in queued["shipments"]] == ["SHP-2025-1002", "SHP-2025-1003"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=LOST", "status"),
        ("booking=maybe", "booking"),
        ("limit=0", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("colour=red", "colour"),
    ],
)
def test_a_bad_list_parameter_is_400_naming_it(client: Client, query: str, parameter: str) -> None:
    problem = assert_problem(client.get(f"{SHIPMENTS}?{query}"), 400, "mapping-error")

    assert problem["errors"][0]["path"] == parameter


def test_the_openapi_document_describes_the_shipments_resource(client: Client) -> None:
    document = client.get("/api/openapi.json").get_json()

    paths = document["paths"]
    assert {"post", "get"} <= set(paths[SHIPMENTS])
    assert set(paths[f"{SHIPMENTS}/{{id}}"]) == {"get"}
    post = paths[SHIPMENTS]["post"]
    assert {"200", "202", "400", "422"} <= set(post["responses"])
    assert "Idempotency-Key" in [p["name"] for p in post["parameters"]]
    schemas = document["components"]["schemas"]
    assert {"ShipmentOrder", "Shipment", "ShipmentList", "DeliveryEvent"} <= set(schemas)
