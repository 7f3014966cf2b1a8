"""The logistics simulator's operation, in wire form: CreateShipment, once per OrderRef
(scope "order"); a repeated OrderRef answers the first booking and books nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from bridge.domain.clock import Clock
from bridge.sims.context import Wire
from bridge.sims.logistics.booking import (
    BookingRules,
    estimated_delivery,
    label_text,
    refusal,
    tracking_no,
)
from bridge.sims.records import Call, Recorder
from bridge.sims.soap import client_fault


@dataclass(frozen=True)
class Logistics:
    recorder: Recorder
    rules: BookingRules
    clock: Clock
    address: str  # where its labels are served

    def create_shipment(self, environ: dict[str, Any], request: Wire) -> Wire:
        details = request["ShippingDetails"]

        def apply(call: Call) -> Wire:
            refused = refusal(details, self.rules)
            if refused is not None:
                raise client_fault(*refused)
            level, country = details["ServiceLevel"], details["Address"]["CountryCode"]
            number = tracking_no(details["OrderRef"], level, self.rules)
            delivery = estimated_delivery(self.clock().date(), level, country, self.rules)
            return {
                "OrderRef": details["OrderRef"],
                "TrackingNo": number,
                "EstimatedDelivery": delivery.isoformat(),
                "LabelUrl": f"{self.address}/labels/{number}",
            }

        return self.recorder.once(
            environ,
            "CreateShipment",
            "order",
            details["OrderRef"],
            request,
            apply,
            lambda request, response: {
                "ServiceLevel": details["ServiceLevel"],
                "CountryCode": details["Address"]["CountryCode"],
                "parcels": len(details["Parcel"]),
                "outcome": response["TrackingNo"],
            },
        )

    def label(self, tracking: str) -> Response:
        """The label page of a booked shipment, by tracking number."""
        for effect in self.recorder.effects(scope="order"):
            if effect["response"]["TrackingNo"] == tracking:
                text = label_text(effect["request"], effect["response"])
                return Response(text, content_type="text/plain; charset=utf-8")
        return Response("No such label\n", status=404, content_type="text/plain; charset=utf-8")
