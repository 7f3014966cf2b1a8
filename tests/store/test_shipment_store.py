"""The shipment store on SQLite and PostgreSQL: an order stored with its outbox row, a clash
told apart from other refusals, changes made only under the shipment's lock, events kept once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from bridge.domain.errors import NotFound
from bridge.domain.shipping import ShipmentBooking, ShipmentStatus
from bridge.store.shipments import ShipmentStore
from bridge.store.tables import delivery_events, outbox
from tests.common.clock import Clock
from tests.common.shipping import event, order

ACME = "acme"
BOOKING = ShipmentBooking(
    order_ref="ORD-2025-1001",
    tracking_no="CP0000TEST01DE",
    estimated_delivery=date(2025, 3, 5),
)


@pytest.fixture
def store(any_engine: Engine, clock: Clock) -> ShipmentStore:
    return ShipmentStore(any_engine, clock=clock)


@pytest.fixture
def stored(store: ShipmentStore) -> ShipmentStore:
    assert store.add(order(), partner_id=ACME, correlation_id="cid-1")
    return store


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_an_order_is_stored_with_its_outbox_row(stored: ShipmentStore, any_engine: Engine) -> None:
    shipment = stored.get("SHP-2025-1001")

    assert shipment is not None
    assert (shipment.order, shipment.status, shipment.tracking_no) == (order(), None, None)
    with any_engine.connect() as connection:
        row = connection.execute(select(outbox)).one()
    assert (row.topic, row.key, row.correlation_id) == ("shipments", "ORD-2025-1001", "cid-1")


def test_an_order_clashing_with_a_stored_shipment_is_not_stored(stored: ShipmentStore) -> None:
    assert not stored.add(
        order(1002, order_ref="ORD-2025-1001"), partner_id=ACME, correlation_id=None
    )

    assert [(owner, o.shipment_ref) for owner, o in stored.orders_like(order(1002))] == []
    assert [owner for owner, _ in stored.orders_like(order())] == [ACME]


def test_a_refusal_that_is_no_clash_with_a_shipment_is_raised(
    store: ShipmentStore, any_engine: Engine, clock: Clock
) -> None:
    with any_engine.begin() as connection:  # a stale outbox row holding the order's key
        connection.execute(
            insert(outbox).values(
                topic="shipments",
                key="ORD-2025-1001",
                payload="{}",
                status="delivered",
                attempts=1,
                available_at=clock(),
                created_at=clock(),
                updated_at=clock(),
            )
        )

    with pytest.raises(IntegrityError):
        store.add(order(), partner_id=ACME, correlation_id=None)
    assert store.get("SHP-2025-1001") is None


def _lock(store: ShipmentStore, partner_id: str) -> None:
    with store.locked("SHP-2025-1001", partner_id=partner_id) as shipment:
        assert shipment.shipment_ref == "SHP-2025-1001"


def test_another_partners_shipment_cannot_be_locked_as_if_unknown(stored: ShipmentStore) -> None:
    _lock(stored, ACME)

    with pytest.raises(NotFound, match="unknown shipment 'SHP-2025-1001'"):
        _lock(stored, "other")


def test_an_event_is_kept_once_under_its_key(stored: ShipmentStore, any_engine: Engine) -> None:
    picked_up = event("PICKED_UP", "2025-03-03T09:00:00+01:00")

    with stored.locked("SHP-2025-1001", partner_id=ACME) as shipment:
        assert shipment.add_event(picked_up, "key-1")
        assert not shipment.add_event(picked_up, "key-1")
        assert shipment.history() == [picked_up]

    assert _count(any_engine, delivery_events) == 1


def _add_event_then_fail(store: ShipmentStore) -> None:
    with store.locked("SHP-2025-1001") as shipment:
        shipment.add_event(event("PICKED_UP", "2025-03-03T09:00:00+01:00"), "key-1")
        raise RuntimeError("the decision failed")


def test_what_a_failing_block_changed_under_the_lock_is_rolled_back(
    stored: ShipmentStore, any_engine: Engine
) -> None:
    with pytest.raises(RuntimeError):
        _add_event_then_fail(stored)

    assert _count(any_engine, delivery_events) == 0


def test_the_current_event_and_a_booking_are_kept_on_the_shipment(
    stored: ShipmentStore, clock: Clock
) -> None:
    delivered = event("DELIVERED", "2025-03-04T14:00:00+01:00")
    with stored.locked("SHP-2025-1001") as shipment:
        shipment.set_booking(BOOKING, date(2025, 3, 6))
        shipment.set_current(delivered, None)

    found = stored.get("ORD-2025-1001")  # by order_ref as well

    assert found is not None
    assert (found.tracking_no, found.estimated_delivery, found.status) == (
        "CP0000TEST01DE",
        date(2025, 3, 6),
        ShipmentStatus.DELIVERED,
    )
    assert found.last_event_time == datetime(2025, 3, 4, 13, 0, tzinfo=UTC)
    assert found.booked_at == clock()


def test_a_partner_sees_only_its_own_shipments(stored: ShipmentStore) -> None:
    assert stored.get("SHP-2025-1001", partner_id="other") is None
    assert stored.details("SHP-2025-1001", partner_id="other") is None
    assert stored.list(partner_id="other") == []
    assert [s.shipment_ref for s in stored.list(partner_id=ACME)] == ["SHP-2025-1001"]
