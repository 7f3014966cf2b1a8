"""Shipments as tests send them: the sample order and delivery events, and `AsPartner`, which
lets a test speak for a partner organisation by name.

A request with an ``X-Test-Partner`` header carries the API key of that partner's client
(created on first use), so the whole authentication path runs with a real key.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bridge.domain.shipping import DeliveryEvent, Location, ShipmentOrder, ShipmentStatus
from bridge.mapping import canonical_json
from tests.credentials import grant

DATA = Path(__file__).parents[1] / "data" / "shipping"
PARTNER_HEADER = "HTTP_X_TEST_PARTNER"
PARTNER_SCOPES = ("shipments:read", "shipments:write")


def order_body(**changes: Any) -> dict[str, Any]:
    """The sample order as REST JSON, with top-level fields replaced."""
    body: dict[str, Any] = json.loads((DATA / "order.json").read_text("utf-8"))
    body.update(copy.deepcopy(changes))
    return body


def order_of(body: dict[str, Any]) -> ShipmentOrder:
    return canonical_json.loads(ShipmentOrder, json.dumps(body))


def order(n: int = 1001, **changes: Any) -> ShipmentOrder:
    """Sample order number `n` (ORD-2025-n, SHP-2025-n), with top-level fields replaced."""
    refs = {"order_ref": f"ORD-2025-{n}", "shipment_ref": f"SHP-2025-{n}"}
    return order_of(order_body(**{**refs, **changes}))


def event(
    status: str,
    at: str,
    *,
    ref: str = "SHP-2025-1001",
    tracking_no: str = "CP0000TEST01DE",
    estimate: str | None = None,
    city: str = "Köln",
    note: str | None = None,
) -> DeliveryEvent:
    return DeliveryEvent(
        shipment_ref=ref,
        tracking_no=tracking_no,
        status=ShipmentStatus(status),
        event_time=datetime.fromisoformat(at),
        location=Location(city=city, country_code="DE"),
        estimated_delivery=None if estimate is None else date.fromisoformat(estimate),
        note=note,
    )


class AsPartner:
    """WSGI middleware: a request naming a partner in ``X-Test-Partner`` carries the API key of
    that partner's client (tier partner, organisation = the name) instead of any other."""

    def __init__(self, app: Callable[..., Iterable[bytes]], engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self.keys: dict[str, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        partner = environ.get(PARTNER_HEADER)
        if partner:
            if partner not in self.keys:
                granted = grant(
                    self.engine, tier="partner", scopes=PARTNER_SCOPES, organisation=partner
                )
                self.keys[partner] = granted.api_key
            environ.pop("HTTP_AUTHORIZATION", None)
            environ["HTTP_X_API_KEY"] = self.keys[partner]
        return self.app(environ, start_response)
