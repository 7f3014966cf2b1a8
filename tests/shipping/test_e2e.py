"""A shipment end to end on the embedded default: POST over REST, booked by the shipments job
through the zeep client and the logistics simulator, tracked by the partner's SOAP callbacks,
visible through REST, the CLI and the simulator's records. Faults are injected into the
simulator through its control plane."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import zeep
from click.testing import CliRunner
from sqlalchemy import select, update
from zeep.transports import Transport

from bridge.cli import main
from bridge.sims import SimControl, controls
from bridge.store.tables import outbox
from tests.common.live import LiveBridge
from tests.common.shipping import order_body
from tests.credentials import grant

pytestmark = pytest.mark.slow

BERLIN = dt.timezone(dt.timedelta(hours=1))
HARDENED = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True)
TOO_HEAVY = [{"weight_grams": 40_000, "length_cm": 80, "width_cm": 60, "height_cm": 60}]


def _post(live: LiveBridge, **changes: Any) -> dict[str, Any]:
    response = requests.post(f"{live.url}/api/v1/shipments", json=order_body(**changes), timeout=15)
    assert response.status_code == 202, response.text
    created: dict[str, Any] = response.json()
    return created


def _get(live: LiveBridge, ref: str = "SHP-2025-1001") -> dict[str, Any]:
    response = requests.get(f"{live.url}/api/v1/shipments/{ref}", timeout=15)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _logistics(live: LiveBridge) -> SimControl:
    return controls(live.bridge.engine)["logistics"]


def _row(live: LiveBridge, order_ref: str = "ORD-2025-1001") -> dict[str, Any]:
    with live.bridge.engine.connect() as connection:
        row = connection.execute(
            select(outbox).where(outbox.c.topic == "shipments", outbox.c.key == order_ref)
        ).one()
    return dict(row._mapping)


def _make_due(live: LiveBridge) -> None:
    """Pretend the backoff has passed."""
    with live.bridge.engine.begin() as connection:
        connection.execute(
            update(outbox).values(available_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def _partner(live: LiveBridge) -> Any:
    """The zeep client of the configured `logistics_partner`: a partner-tier client of that
    organisation, with its own API key."""
    partner = grant(
        live.bridge.engine,
        tier="partner",
        scopes=("shipments:read", "shipments:write"),
        organisation=live.bridge.settings.logistics_partner,
    )
    session = requests.Session()
    session.headers.update(partner.headers)
    transport = Transport(session=session, timeout=15, operation_timeout=15)
    return zeep.Client(f"{live.url}/soap/partner?wsdl", transport=transport, settings=HARDENED)


def test_a_shipment_travels_from_order_to_delivery(live_bridge: LiveBridge) -> None:
    created = _post(live_bridge)
    assert created["booking"] == "queued"

    report = live_bridge.bridge.sync.run("shipments")

    assert (report.claimed, report.delivered, report.retried, report.dead) == (1, 1, 0, 0)
    booked = _get(live_bridge)
    [effect] = _logistics(live_bridge).effects(scope="order", key="ORD-2025-1001")
    tracking = effect["response"]["TrackingNo"]
    assert (booked["booking"], booked["tracking_no"]) == ("booked", tracking)
    assert booked["estimated_delivery"] == effect["response"]["EstimatedDelivery"]
    label = requests.get(booked["label_url"], timeout=15)
    assert label.status_code == 200
    assert f"Tracking number: {tracking}" in label.text
    assert _row(live_bridge)["status"] == "delivered"

    partner = _partner(live_bridge)
    for status, hour in (("PICKED_UP", 9), ("DELIVERED", 14), ("OUT_FOR_DELIVERY", 8)):
        ack = partner.service.UpdateDeliveryStatus(
            ShipmentRef="SHP-2025-1001",
            TrackingNo=tracking,
            StatusCode=status,
            EventTime=dt.datetime(2025, 3, 5, hour, 0, tzinfo=BERLIN),
            Location={"City": "Düsseldorf", "CountryCode": "DE"},
        )
        assert ack.Accepted is True

    delivered = _get(live_bridge)
    assert delivered["status"] == "DELIVERED"
    assert [e["status"] for e in delivered["events"]] == [
        "PICKED_UP",
        "DELIVERED",
        "OUT_FOR_DELIVERY",
    ]
    listed = requests.get(
        f"{live_bridge.url}/api/v1/shipments?status=DELIVERED&fields=shipment_ref", timeout=15
    ).json()
    assert listed["shipments"] == [{"shipment_ref": "SHP-2025-1001"}]


def test_running_the_job_again_books_nothing_twice(live_bridge: LiveBridge) -> None:
    _post(live_bridge)
    live_bridge.bridge.sync.run("shipments")
    with live_bridge.bridge.engine.begin() as connection:  # as if the row were delivered again
        connection.execute(update(outbox).values(status="pending"))

    again = live_bridge.bridge.sync.run("shipments")

    assert (again.claimed, again.delivered) == (1, 1)
    logistics = _logistics(live_bridge)
    assert len(logistics.effects(scope="order", key="ORD-2025-1001")) == 1
    calls = logistics.calls(operation="CreateShipment", key="ORD-2025-1001")
    assert [call["duplicate"] for call in calls] == [False, True]
    assert live_bridge.bridge.sync.run("shipments").claimed == 0


def test_a_reply_lost_after_booking_is_booked_once(live_bridge: LiveBridge) -> None:
    _post(live_bridge)
    logistics = _logistics(live_bridge)
    logistics.inject("drop", count=1, stage="response")

    lost = live_bridge.bridge.sync.run("shipments")

    assert (lost.delivered, lost.retried) == (0, 1)
    assert len(logistics.effects(scope="order", key="ORD-2025-1001")) == 1  # it was booked
    assert _get(live_bridge)["booking"] == "queued"

    _make_due(live_bridge)
    retried = live_bridge.bridge.sync.run("shipments")

    assert retried.delivered == 1
    [effect] = logistics.effects(scope="order", key="ORD-2025-1001")
    assert _get(live_bridge)["tracking_no"] == effect["response"]["TrackingNo"]
    calls = logistics.calls(operation="CreateShipment", key="ORD-2025-1001")
    assert [call["duplicate"] for call in calls] == [False, True]


def test_logistics_down_is_retried_later_and_loses_nothing(live_bridge: LiveBridge) -> None:
    _post(live_bridge)
    _logistics(live_bridge).inject("http_500", count=1)

    down = live_bridge.bridge.sync.run("shipments")

    assert (down.delivered, down.retried, down.dead) == (0, 1, 0)
    assert down.error is not None
    row = _row(live_bridge)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    shipment = _get(live_bridge)
    assert shipment["booking"] == "queued"
    assert "HTTP 500" in shipment["booking_error"]
    assert live_bridge.bridge.sync.run("shipments").claimed == 0  # backoff: not due yet

    _make_due(live_bridge)
    back = live_bridge.bridge.sync.run("shipments")

    assert back.delivered == 1
    assert _get(live_bridge)["booking"] == "booked"


def test_a_parcel_over_the_weight_limit_is_a_dead_letter_with_the_reason(
    live_bridge: LiveBridge,
) -> None:
    _post(live_bridge, parcels=TOO_HEAVY)

    report = live_bridge.bridge.sync.run("shipments")

    assert (report.delivered, report.dead) == (0, 1)
    row = _row(live_bridge)
    assert row["status"] == "dead"
    assert "ParcelTooHeavy" in row["last_error"]
    assert "31500 g" in row["last_error"]
    shipment = _get(live_bridge)
    assert (shipment["booking"], shipment["booking_error"]) == ("dead", row["last_error"])
    assert _logistics(live_bridge).effects(scope="order") == []


def test_one_refused_order_does_not_hold_up_the_others_in_its_batch(
    live_bridge: LiveBridge,
) -> None:
    for n, parcels in ((1001, None), (1002, TOO_HEAVY), (1003, None)):
        refs = {"order_ref": f"ORD-2025-{n}", "shipment_ref": f"SHP-2025-{n}"}
        _post(live_bridge, **refs, **({"parcels": parcels} if parcels else {}))

    report = live_bridge.bridge.sync.run("shipments")

    assert (report.claimed, report.delivered, report.dead) == (3, 2, 1)
    assert [_get(live_bridge, f"SHP-2025-{n}")["booking"] for n in (1001, 1002, 1003)] == [
        "booked",
        "dead",
        "booked",
    ]


def test_the_cli_runs_the_shipments_job_and_shows_its_dead_letters(
    live_bridge: LiveBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    _post(live_bridge)
    _post(live_bridge, order_ref="ORD-2025-1002", shipment_ref="SHP-2025-1002", parcels=TOO_HEAVY)
    monkeypatch.delenv("BRIDGE_CONFIG", raising=False)
    env = {
        "BRIDGE_DATABASE_URL": live_bridge.bridge.settings.database_url,
        "BRIDGE_LOGISTICS_URL": f"{live_bridge.url}/sims/logistics",
        "BRIDGE_SIMULATORS": "false",
        "BRIDGE_SCHEDULER": "false",
    }

    ran = CliRunner().invoke(main, ["sync", "run", "shipments"], env=env)
    status = CliRunner().invoke(main, ["sync", "status"], env=env)

    assert ran.exit_code == 0, ran.output
    assert "shipments: claimed 2, delivered 1, retried 0, dead 1" in ran.output
    assert status.exit_code == 0, status.output
    queue = next(line for line in status.output.splitlines() if line.startswith("shipments"))
    assert queue.split() == ["shipments", "0", "0", "1", "1"]
    assert "ORD-2025-1002" in status.output
    assert "ParcelTooHeavy" in status.output
    assert _get(live_bridge)["booking"] == "booked"
