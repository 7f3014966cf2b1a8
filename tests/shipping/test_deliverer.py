"""ShipmentsDeliverer with a fake booking service over the real service and outbox: one outcome
per row, and what becomes of the rest of a batch when the partner goes down in its middle."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bridge.app import Bridge
from bridge.domain.errors import UpstreamRejected, UpstreamUnavailable
from bridge.domain.shipping import BookingState, ShipmentBooking, ShipmentOrder
from bridge.store.tables import outbox
from bridge.sync.deliveries.shipments import ShipmentsDeliverer
from bridge.sync.engine import Dead, Delivered, Retry, SyncEngine
from bridge.sync.outbox import Outbox, OutboxRow
from tests.common.shipping import order

ACME = "acme"
LEASE = timedelta(minutes=1)


@dataclass
class FakeLogistics:
    """Books every order it is sent, unless told otherwise by OrderRef."""

    refused: dict[str, str] = field(default_factory=dict)  # by the contract, before sending
    rejected: set[str] = field(default_factory=set)  # a Client fault
    down: set[str] = field(default_factory=set)  # unavailable when this order is sent
    answer_for: dict[str, str] = field(default_factory=dict)  # a booking of another OrderRef
    sent: list[str] = field(default_factory=list)

    def refusal(self, operation: str, message: Any) -> str | None:
        return self.refused.get(message.order_ref)

    def call(self, operation: str, message: Any, *, correlation_id: str | None = None) -> Any:
        assert operation == "CreateShipment"
        ref = message.order_ref
        self.sent.append(ref)
        if ref in self.down:
            raise UpstreamUnavailable("logistics", "CreateShipment: HTTP 503")
        if ref in self.rejected:
            raise UpstreamRejected("logistics", "CreateShipment: refused (Client): no")
        return ShipmentBooking(
            order_ref=self.answer_for.get(ref, ref),
            tracking_no=f"CP{ref[-4:]}TRACKDE",
            estimated_delivery=date(2025, 3, 5),
            label_url=f"http://sims.example/labels/{ref}",
        )


@pytest.fixture
def logistics() -> FakeLogistics:
    return FakeLogistics()


@pytest.fixture
def deliverer(app_bridge: Bridge, logistics: FakeLogistics) -> ShipmentsDeliverer:
    return ShipmentsDeliverer(logistics, app_bridge.shipping, batch_size=10)


def _claimed(app_bridge: Bridge, *orders: ShipmentOrder) -> list[OutboxRow]:
    for each in orders:
        app_bridge.shipping.create(each, partner_id=ACME)
    return Outbox(app_bridge.engine).claim("shipments", 10, lease=LEASE, worker="test")


def test_each_booked_row_is_delivered_with_its_booking_recorded(
    app_bridge: Bridge, deliverer: ShipmentsDeliverer
) -> None:
    rows = _claimed(app_bridge, order(1001), order(1002))

    outcomes = deliverer.deliver(rows)

    assert [type(outcomes[row.id]) for row in rows] == [Delivered, Delivered]
    first = outcomes[rows[0].id]
    assert isinstance(first, Delivered)
    assert first.result == {
        "tracking_no": "CP1001TRACKDE",
        "estimated_delivery": "2025-03-05",
        "label_url": "http://sims.example/labels/ORD-2025-1001",
    }
    assert app_bridge.shipping.get("SHP-2025-1002").tracking_no == "CP1002TRACKDE"


def test_a_refused_order_is_dead_for_its_row_only(
    app_bridge: Bridge, deliverer: ShipmentsDeliverer, logistics: FakeLogistics
) -> None:
    logistics.rejected.add("ORD-2025-1002")
    logistics.refused["ORD-2025-1003"] = "not valid for the logistics contract: Phone"
    rows = _claimed(app_bridge, order(1001), order(1002), order(1003), order(1004))

    outcomes = deliverer.deliver(rows)

    assert [type(outcomes[row.id]) for row in rows] == [Delivered, Dead, Dead, Delivered]
    assert outcomes[rows[1].id] == Dead(
        "refused by logistics: logistics: CreateShipment: refused (Client): no"
    )
    assert outcomes[rows[2].id] == Dead("not valid for the logistics contract: Phone")
    assert logistics.sent == ["ORD-2025-1001", "ORD-2025-1002", "ORD-2025-1004"]


def test_an_unreadable_row_is_dead_with_the_mapping_error(
    app_bridge: Bridge, deliverer: ShipmentsDeliverer
) -> None:
    [row] = _claimed(app_bridge, order(1001))

    outcome = deliverer.deliver([replace(row, payload='{"order_ref": "ORD-2025-1001"}')])[row.id]

    assert isinstance(outcome, Dead)
    assert outcome.error.startswith("mapping: ")


def test_a_booking_for_another_order_ref_is_retried(
    app_bridge: Bridge, deliverer: ShipmentsDeliverer, logistics: FakeLogistics
) -> None:
    """It says nothing about our order, which may have been booked: not a refusal."""
    logistics.answer_for["ORD-2025-1001"] = "ORD-2025-7777"
    [row] = _claimed(app_bridge, order(1001))

    outcome = deliverer.deliver([row])[row.id]

    assert outcome == Retry("logistics answered for OrderRef 'ORD-2025-7777', not 'ORD-2025-1001'")
    assert app_bridge.shipping.get("SHP-2025-1001").tracking_no is None


def test_partner_down_on_the_first_row_speaks_for_the_whole_batch(
    app_bridge: Bridge, deliverer: ShipmentsDeliverer, logistics: FakeLogistics
) -> None:
    logistics.down.add("ORD-2025-1001")
    rows = _claimed(app_bridge, order(1001), order(1002))

    with pytest.raises(UpstreamUnavailable):
        deliverer.deliver(rows)
    assert logistics.sent == ["ORD-2025-1001"]


def test_partner_down_mid_batch_keeps_what_was_booked_and_retries_the_rest(
    app_bridge: Bridge, deliverer: ShipmentsDeliverer, logistics: FakeLogistics
) -> None:
    logistics.down.add("ORD-2025-1002")
    rows = _claimed(app_bridge, order(1001), order(1002), order(1003))

    outcomes = deliverer.deliver(rows)

    assert isinstance(outcomes[rows[0].id], Delivered)
    assert outcomes[rows[1].id] == Retry("logistics: CreateShipment: HTTP 503")
    assert outcomes[rows[2].id] == Retry("not sent: logistics: CreateShipment: HTTP 503")
    assert logistics.sent == ["ORD-2025-1001", "ORD-2025-1002"]


def test_the_engine_records_a_batch_cut_short_row_by_row(
    app_bridge: Bridge, logistics: FakeLogistics
) -> None:
    logistics.down.add("ORD-2025-1002")
    for n in (1001, 1002, 1003):
        app_bridge.shipping.create(order(n), partner_id=ACME)
    engine = SyncEngine(
        app_bridge.engine,
        Outbox(app_bridge.engine),
        {"shipments": ShipmentsDeliverer(logistics, app_bridge.shipping, batch_size=10)},
    )

    report = engine.run("shipments", max_batches=1)

    assert (report.claimed, report.delivered, report.retried, report.dead) == (3, 1, 2, 0)
    with app_bridge.engine.connect() as connection:
        states = dict(connection.execute(select(outbox.c.key, outbox.c.status)).all())
    assert states == {
        "ORD-2025-1001": "delivered",
        "ORD-2025-1002": "pending",
        "ORD-2025-1003": "pending",
    }
    assert [app_bridge.shipping.get(f"ORD-2025-{n}").booking for n in (1001, 1002, 1003)] == [
        BookingState.BOOKED,
        BookingState.QUEUED,
        BookingState.QUEUED,
    ]
