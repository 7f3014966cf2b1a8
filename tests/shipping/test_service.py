"""ShippingService over SQLite and PostgreSQL: orders stored with their outbox rows, bookings
recorded, partner events applied once, the current status by event time, ownership kept."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from itertools import permutations

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bridge.app import Bridge, create_app
from bridge.domain.errors import KeyReused, MappingError, NotFound
from bridge.domain.shipping import BookingState, ShipmentBooking, ShipmentStatus
from bridge.mapping import canonical_json
from bridge.services.shipping import (
    After,
    ShippingService,
    current_event,
    event_key,
    latest_estimate,
)
from bridge.settings import Settings
from bridge.store.tables import delivery_events, outbox, shipments
from tests.common.shipping import event, order

ACME = "acme"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app_bridge(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Bridge]:
    """The app on either database; PostgreSQL's is shared by the session, so it is emptied."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    bridge = create_app(Settings(database_url=url, simulators=False, scheduler=False))
    with bridge.engine.begin() as connection:
        connection.execute(delete(delivery_events))
        connection.execute(delete(shipments))
        connection.execute(delete(outbox).where(outbox.c.topic == "shipments"))
    yield bridge
    bridge.engine.dispose()


BOOKING = ShipmentBooking(
    order_ref="ORD-2025-1001",
    tracking_no="CP0000TEST01DE",
    estimated_delivery=date(2025, 3, 5),
    label_url="http://sims.example/labels/CP0000TEST01DE",
)


def _outbox(bridge: Bridge) -> list[dict[str, object]]:
    with bridge.engine.connect() as connection:
        rows = connection.execute(select(outbox).where(outbox.c.topic == "shipments")).all()
    return [dict(row._mapping) for row in rows]


def _history_rows(bridge: Bridge, ref: str = "SHP-2025-1001") -> int:
    with bridge.engine.connect() as connection:
        count: int = connection.execute(
            select(func.count()).where(delivery_events.c.shipment_ref == ref)
        ).scalar_one()
    return count


# -- the rules, as pure functions ---------------------------------------------------------------


def test_the_current_event_is_the_latest_by_event_time_not_by_arrival() -> None:
    delivered = event("DELIVERED", "2025-03-04T14:00:00+01:00")
    in_transit = event("IN_TRANSIT", "2025-03-04T10:00:00+01:00")

    assert current_event([delivered, in_transit]) is delivered
    assert current_event([in_transit, delivered]) is delivered
    assert current_event([]) is None


@pytest.mark.parametrize("arrival", list(permutations(range(3))), ids=str)
def test_events_at_the_same_instant_rank_by_the_lifecycle_whatever_their_arrival(
    arrival: tuple[int, ...],
) -> None:
    same = "2025-03-04T12:00:00+00:00"
    events = [event("OUT_FOR_DELIVERY", same), event("DELIVERED", same), event("IN_TRANSIT", same)]

    latest = current_event([events[i] for i in arrival])

    assert latest is not None
    assert latest.status is ShipmentStatus.DELIVERED


def test_an_instant_written_with_another_offset_is_the_same_event() -> None:
    utc = event("IN_TRANSIT", "2025-03-04T09:00:00+00:00")
    berlin = event("IN_TRANSIT", "2025-03-04T10:00:00+01:00", city="Bonn", note="reworded")

    assert event_key(utc) == event_key(berlin)
    assert event_key(utc) != event_key(event("IN_TRANSIT", "2025-03-04T09:00:01+00:00"))


def test_the_estimate_is_the_latest_events_that_has_one() -> None:
    events = [
        event("IN_TRANSIT", "2025-03-03T10:00:00+00:00", estimate="2025-03-06"),
        event("OUT_FOR_DELIVERY", "2025-03-05T08:00:00+00:00"),
        event("PICKED_UP", "2025-03-02T10:00:00+00:00", estimate="2025-03-04"),  # late, older
    ]

    assert latest_estimate(events) == date(2025, 3, 6)
    assert latest_estimate(events[1:2]) is None


# -- orders -------------------------------------------------------------------------------------


def test_an_order_is_stored_with_its_outbox_row(app_bridge: Bridge) -> None:
    shipment = app_bridge.shipping.create(order(), partner_id=ACME, correlation_id="cid-ship-1")

    assert shipment.booking is BookingState.QUEUED
    assert shipment.order == order()
    [row] = _outbox(app_bridge)
    assert (row["key"], row["status"], row["correlation_id"]) == (
        "ORD-2025-1001",
        "pending",
        "cid-ship-1",
    )
    assert canonical_json.loads(type(order()), str(row["payload"])) == order()


def test_the_same_order_again_is_the_same_shipment_queued_once(app_bridge: Bridge) -> None:
    first = app_bridge.shipping.create(order(), partner_id=ACME)
    second = app_bridge.shipping.create(order(), partner_id=ACME)

    assert second == first
    assert len(_outbox(app_bridge)) == 1


def test_an_order_ref_reused_for_another_order_is_refused(app_bridge: Bridge) -> None:
    app_bridge.shipping.create(order(), partner_id=ACME)
    changed = order(service_level="EXPRESS")

    with pytest.raises(KeyReused, match="order_ref 'ORD-2025-1001'"):
        app_bridge.shipping.create(changed, partner_id=ACME)
    assert app_bridge.shipping.get("SHP-2025-1001").order.service_level == "STANDARD"


def test_a_shipment_ref_naming_another_shipment_is_refused(app_bridge: Bridge) -> None:
    app_bridge.shipping.create(order(), partner_id=ACME)
    clash = order(1002, shipment_ref="SHP-2025-1001")

    with pytest.raises(KeyReused, match="shipment_ref 'SHP-2025-1001'"):
        app_bridge.shipping.create(clash, partner_id=ACME)
    assert len(_outbox(app_bridge)) == 1


def test_a_shipment_is_not_stored_when_its_outbox_row_cannot_be(app_bridge: Bridge) -> None:
    now = datetime.now(UTC)
    with app_bridge.engine.begin() as connection:  # a stale row holding the order's key
        connection.execute(
            insert(outbox).values(
                topic="shipments",
                key="ORD-2025-1001",
                payload="{}",
                status="delivered",
                attempts=1,
                available_at=now,
                created_at=now,
                updated_at=now,
            )
        )

    with pytest.raises(IntegrityError):
        app_bridge.shipping.create(order(), partner_id=ACME)
    with pytest.raises(NotFound):
        app_bridge.shipping.get("SHP-2025-1001")


def test_a_booking_is_recorded_and_its_first_time_kept(app_bridge: Bridge) -> None:
    app_bridge.shipping.create(order(), partner_id=ACME)
    app_bridge.shipping.record_booking("SHP-2025-1001", BOOKING)
    first = app_bridge.shipping.get("SHP-2025-1001")

    app_bridge.shipping.record_booking("SHP-2025-1001", BOOKING)  # a delivery repeated
    again = app_bridge.shipping.get("SHP-2025-1001")

    assert first.booking is BookingState.BOOKED
    assert (first.tracking_no, first.label_url) == (BOOKING.tracking_no, BOOKING.label_url)
    assert first.estimated_delivery == date(2025, 3, 5)
    assert again.booked_at == first.booked_at


def test_a_booking_recorded_late_keeps_the_estimate_an_event_brought(app_bridge: Bridge) -> None:
    app_bridge.shipping.create(order(), partner_id=ACME)
    app_bridge.shipping.record_event(
        event("PICKED_UP", "2025-03-03T09:00:00+01:00", estimate="2025-03-07"), partner_id=ACME
    )

    app_bridge.shipping.record_booking("SHP-2025-1001", BOOKING)

    assert app_bridge.shipping.get("SHP-2025-1001").estimated_delivery == date(2025, 3, 7)


# -- partner events ----------------------------------------------------------------------------


@pytest.fixture
def booked(service: ShippingService) -> ShippingService:
    service.create(order(), partner_id=ACME)
    service.record_booking("SHP-2025-1001", BOOKING)
    return service


def test_an_event_sets_the_current_status(app_bridge: Bridge, booked: ShippingService) -> None:
    ack = booked.record_event(event("PICKED_UP", "2025-03-03T09:00:00+01:00"), partner_id=ACME)

    assert (ack.accepted, ack.duplicate, ack.current_status) == (True, False, "PICKED_UP")
    shipment = booked.get("SHP-2025-1001")
    assert shipment.status is ShipmentStatus.PICKED_UP
    assert shipment.last_event_time == datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def test_a_duplicate_event_is_acknowledged_and_applied_once(
    app_bridge: Bridge, booked: ShippingService
) -> None:
    booked.record_event(event("IN_TRANSIT", "2025-03-03T10:00:00+01:00"), partner_id=ACME)

    ack = booked.record_event(
        event("IN_TRANSIT", "2025-03-03T09:00:00Z", city="Bonn", estimate="2025-03-09"),
        partner_id=ACME,
    )

    assert (ack.accepted, ack.duplicate, ack.current_status) == (True, True, "IN_TRANSIT")
    assert _history_rows(app_bridge) == 1
    shipment = booked.get("SHP-2025-1001")
    assert [e.location.city for e in shipment.events] == ["Köln"]
    assert shipment.estimated_delivery == date(2025, 3, 5)  # the duplicate's was not applied


def test_a_late_event_is_kept_but_does_not_set_the_status_back(
    app_bridge: Bridge, booked: ShippingService
) -> None:
    booked.record_event(event("DELIVERED", "2025-03-04T14:00:00+01:00"), partner_id=ACME)

    ack = booked.record_event(
        event("IN_TRANSIT", "2025-03-04T10:00:00+01:00", estimate="2025-03-09"), partner_id=ACME
    )

    assert (ack.duplicate, ack.current_status) == (False, "DELIVERED")
    shipment = booked.get("SHP-2025-1001")
    assert [e.status for e in shipment.events] == ["DELIVERED", "IN_TRANSIT"]  # as they arrived
    assert shipment.status is ShipmentStatus.DELIVERED
    assert shipment.last_event_time == datetime(2025, 3, 4, 13, 0, tzinfo=UTC)
    assert shipment.estimated_delivery == date(2025, 3, 9)  # the only event with an estimate


def test_an_event_under_another_tracking_number_is_refused_naming_it(
    app_bridge: Bridge, booked: ShippingService
) -> None:
    stray = event("IN_TRANSIT", "2025-03-03T10:00:00+01:00", tracking_no="1Z999AA10123456784")

    with pytest.raises(MappingError) as refused:
        booked.record_event(stray, partner_id=ACME)

    assert refused.value.path == "tracking_no"
    assert _history_rows(app_bridge) == 0


def test_an_event_before_the_booking_is_recorded_is_accepted(service: ShippingService) -> None:
    service.create(order(), partner_id=ACME)

    ack = service.record_event(event("PICKED_UP", "2025-03-03T09:00:00+01:00"), partner_id=ACME)

    assert (ack.accepted, ack.current_status) == (True, "PICKED_UP")


def test_an_event_for_an_unknown_shipment_is_not_found(booked: ShippingService) -> None:
    with pytest.raises(NotFound, match="unknown shipment 'SHP-2025-9999'"):
        booked.record_event(
            event("PICKED_UP", "2025-03-03T09:00:00Z", ref="SHP-2025-9999"), partner_id=ACME
        )


def test_another_partners_shipment_is_answered_as_an_unknown_one(
    app_bridge: Bridge, booked: ShippingService
) -> None:
    picked_up = event("PICKED_UP", "2025-03-03T09:00:00Z")

    with pytest.raises(NotFound) as by_event:
        booked.record_event(picked_up, partner_id="other")
    with pytest.raises(NotFound) as by_query:
        booked.details("SHP-2025-1001", partner_id="other")

    assert by_event.value.detail == by_query.value.detail == "unknown shipment 'SHP-2025-1001'"
    assert _history_rows(app_bridge) == 0
    assert booked.details("SHP-2025-1001", partner_id=ACME).order_ref == "ORD-2025-1001"


def test_details_are_the_partner_contracts_view_of_the_shipment(booked: ShippingService) -> None:
    booked.record_event(event("PICKED_UP", "2025-03-03T09:00:00+01:00"), partner_id=ACME)

    details = booked.details("SHP-2025-1001", partner_id=ACME)

    assert (details.tracking_no, details.current_status) == ("CP0000TEST01DE", "PICKED_UP")
    assert details.consignee_name == "Jürgen Weiß"
    assert details.address.city == "Düsseldorf"
    assert details.estimated_delivery == date(2025, 3, 5)
    assert [e.status for e in details.events] == ["PICKED_UP"]


# -- lists --------------------------------------------------------------------------------------


def test_lists_filter_by_status_and_booking_and_page_by_keyset(
    app_bridge: Bridge, service: ShippingService
) -> None:
    for n in (1001, 1002, 1003):
        service.create(order(n), partner_id=ACME)
    service.record_booking("SHP-2025-1001", BOOKING)
    service.record_event(event("PICKED_UP", "2025-03-03T09:00:00Z"), partner_id=ACME)
    with app_bridge.engine.begin() as connection:
        connection.execute(
            update(outbox)
            .where(outbox.c.key == "ORD-2025-1003")
            .values(status="dead", last_error="refused by logistics: too heavy")
        )

    first = service.list(limit=2)
    rest = service.list(after=After(first[-1].created_at, first[-1].shipment_ref), limit=2)

    assert [s.shipment_ref for s in first + rest] == [
        "SHP-2025-1001",
        "SHP-2025-1002",
        "SHP-2025-1003",
    ]
    assert [s.shipment_ref for s in service.list(status=ShipmentStatus.PICKED_UP)] == [
        "SHP-2025-1001"
    ]
    assert service.list(status=ShipmentStatus.DELIVERED) == []
    by_booking = {
        state: [s.shipment_ref for s in service.list(booking=state)] for state in BookingState
    }
    assert by_booking == {
        BookingState.BOOKED: ["SHP-2025-1001"],
        BookingState.QUEUED: ["SHP-2025-1002"],
        BookingState.DEAD: ["SHP-2025-1003"],
    }
    dead = service.get("ORD-2025-1003")
    assert dead.booking_error == "refused by logistics: too heavy"
    with app_bridge.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(shipments)).scalar_one() == 3


def test_concurrent_events_of_one_shipment_are_applied_one_after_the_other(
    app_bridge: Bridge, booked: ShippingService
) -> None:
    statuses = ["PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]
    events = [event(status, f"2025-03-0{3 + i}T09:00:00Z") for i, status in enumerate(statuses)]
    sent = events + [events[-1]] * 3  # the last one four times at once

    with ThreadPoolExecutor(max_workers=len(sent)) as pool:
        acks = list(pool.map(lambda e: booked.record_event(e, partner_id=ACME), sent))

    assert sum(not ack.duplicate for ack in acks) == len(events)
    assert _history_rows(app_bridge) == len(events)
    assert booked.get("SHP-2025-1001").status is ShipmentStatus.DELIVERED
