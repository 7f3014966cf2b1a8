"""The logistics partners' contract (wsdl/partner.wsdl) as spyne sees it: models, operations,
the service.

Partners call back with delivery events (``UpdateDeliveryStatus``) and ask for their shipments
(``GetShippingDetails``). As for banking, the models only mirror the contract (dispatch, and the
drift test against the checked-in WSDL); the compiled ``partner/*`` mappings read and write the
bodies, and `ShippingService` decides: duplicates acknowledged and not applied twice, the
current status by the latest EventTime, a partner sees only its own shipments.

The caller is the API client the authentication middleware names in the environ (anonymous
until it exists); a shipment of another partner is answered as an unknown one: a Client fault
about ``ShipmentRef``, with nothing of the shipment in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

from spyne import Boolean, Date, DateTime, Decimal

from bridge.domain.shipping import DeliveryAck, DeliveryEvent, ShipmentDetails, ShipmentQuery
from bridge.security.access import allow
from bridge.services.shipping import ShippingService
from bridge.soap.models import ContractTypes
from bridge.soap.operations import Contract, OperationsOf
from bridge.soap.service import DoorConfig, DoorService, config, partner_id

NAMESPACE = "urn:bridge:partner:v1"

types = ContractTypes(NAMESPACE)
one, optional, any_number = types.one, types.optional, types.any_number

# -- simple types ----------------------------------------------------------------------------

Max16Text = types.text("Max16Text", 16)
Max35Text = types.text("Max35Text", 35)
Max70Text = types.text("Max70Text", 70)
Max140Text = types.text("Max140Text", 140)
Max350Text = types.text("Max350Text", 350)
Max500Text = types.text("Max500Text", 500)
ShipmentReference = types.pattern("ShipmentReference", r"[A-Z0-9][A-Z0-9\-]{2,34}")
TrackingNumber = types.pattern("TrackingNumber", r"[A-Za-z0-9][A-Za-z0-9\-]{0,34}")
DeliveryStatusCode = types.codes(
    "DeliveryStatusCode",
    "PICKED_UP",
    "IN_TRANSIT",
    "OUT_FOR_DELIVERY",
    "DELIVERED",
    "EXCEPTION",
    "RETURNED",
)
CountryCode = types.pattern("CountryCode", "[A-Z]{2}")
Latitude = types.named(
    Decimal, "Latitude", total_digits=9, fraction_digits=7, ge=D("-90"), le=D("90")
)
Longitude = types.named(
    Decimal, "Longitude", total_digits=10, fraction_digits=7, ge=D("-180"), le=D("180")
)

# -- complex types ---------------------------------------------------------------------------

Location = types.complex(
    "Location",
    [
        ("City", one(Max35Text)),
        ("CountryCode", one(CountryCode)),
        ("Lat", optional(Latitude)),
        ("Lon", optional(Longitude)),
    ],
)
PostalAddress = types.complex(
    "PostalAddress",
    [
        ("Street", one(Max70Text)),
        ("PostCode", one(Max16Text)),
        ("City", one(Max35Text)),
        ("CountryCode", one(CountryCode)),
    ],
)
Consignee = types.complex("Consignee", [("Nm", one(Max70Text)), ("Address", one(PostalAddress))])
DeliveryStatusUpdate = types.complex(
    "DeliveryStatusUpdate",
    [
        ("ShipmentRef", one(ShipmentReference)),
        ("TrackingNo", one(TrackingNumber)),
        ("StatusCode", one(DeliveryStatusCode)),
        ("EventTime", one(DateTime)),
        ("Location", one(Location)),
        ("EstimatedDelivery", optional(Date)),
        ("Note", optional(Max500Text)),
    ],
)
Ack = types.complex(
    "Ack",
    [
        ("ShipmentRef", one(ShipmentReference)),
        ("Accepted", one(Boolean)),
        ("Duplicate", one(Boolean)),
        ("CurrentStatus", one(DeliveryStatusCode)),
    ],
)
ShippingDetailsRequest = types.complex(
    "ShippingDetailsRequest", [("ShipmentRef", one(ShipmentReference))]
)
ShippingDetails = types.complex(
    "ShippingDetails",
    [
        ("ShipmentRef", one(ShipmentReference)),
        ("OrderRef", one(Max35Text)),
        ("TrackingNo", optional(TrackingNumber)),
        ("CurrentStatus", optional(DeliveryStatusCode)),
        ("Consignee", one(Consignee)),
        ("EstimatedDelivery", optional(Date)),
        ("Event", any_number(DeliveryStatusUpdate)),
    ],
)
ValidationFault = types.fault(
    "ValidationFault", [("Field", optional(Max140Text)), ("Reason", one(Max350Text))]
)

# -- operations ------------------------------------------------------------------------------

# Who may call: logistics partners (partner tier) and our own systems (private).
PARTNERS = ("partner", "private")
operation = OperationsOf("partner", NAMESPACE)
OPERATIONS = (
    operation(
        "UpdateDeliveryStatus",
        "delivery_status_update",
        "delivery_ack",
        subject="shipment_ref",
        access=allow("shipments:write", PARTNERS),
    ),
    operation(
        "GetShippingDetails",
        "shipping_details_request",
        "shipping_details",
        subject="shipment_ref",
        access=allow("shipments:read", PARTNERS),
    ),
)


@dataclass(frozen=True, slots=True)
class PartnerDoor(DoorConfig):
    """What the partner methods call."""

    shipping: ShippingService


def _shipping(ctx: Any) -> ShippingService:
    return config(ctx, PartnerDoor).shipping


class PartnerSoapService(DoorService):
    """The two operations of wsdl/partner.wsdl, each a call of `ShippingService` on behalf of
    the calling partner."""

    __service_name__ = "PartnerService"

    @types.operation(DeliveryStatusUpdate, Ack)
    def UpdateDeliveryStatus(ctx: Any, event: DeliveryEvent) -> DeliveryAck:
        return _shipping(ctx).record_event(event, partner_id=partner_id(ctx))

    @types.operation(ShippingDetailsRequest, ShippingDetails)
    def GetShippingDetails(ctx: Any, query: ShipmentQuery) -> ShipmentDetails:
        return _shipping(ctx).details(query.shipment_ref, partner_id=partner_id(ctx))


CONTRACT = Contract(
    name="partner",
    namespace=NAMESPACE,
    service_name="PartnerService",
    service=PartnerSoapService,
    operations=OPERATIONS,
)
