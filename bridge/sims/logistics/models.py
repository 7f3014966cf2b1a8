"""spyne models of `wsdl/upstream/logistics.wsdl`, in the contract's element order."""

from __future__ import annotations

from spyne import Date, Integer32, Unicode

from bridge.sims.soap import model, optional, repeated, required

NS = "urn:logistics:booking:v1"

Consignee = model(
    NS,
    "Consignee",
    [("Name", required(Unicode)), ("Phone", optional(Unicode)), ("Email", optional(Unicode))],
)

Address = model(
    NS,
    "Address",
    [
        ("Street", required(Unicode)),
        ("PostCode", required(Unicode)),
        ("City", required(Unicode)),
        ("CountryCode", required(Unicode)),
    ],
)

Parcel = model(
    NS,
    "Parcel",
    [
        ("WeightGrams", required(Integer32)),
        ("LengthCm", required(Integer32)),
        ("WidthCm", required(Integer32)),
        ("HeightCm", required(Integer32)),
        ("Description", optional(Unicode)),
    ],
)

ShippingDetails = model(
    NS,
    "ShippingDetails",
    [
        ("OrderRef", required(Unicode)),
        ("ShipmentRef", required(Unicode)),
        ("ServiceLevel", required(Unicode)),
        ("Consignee", required(Consignee)),
        ("Address", required(Address)),
        ("Parcel", repeated(Parcel, min_occurs=1)),
    ],
)

CreateShipmentRequest = model(
    NS, "CreateShipmentRequest", [("ShippingDetails", required(ShippingDetails))]
)

CreateShipmentResult = model(
    NS,
    "CreateShipmentResult",
    [
        ("OrderRef", required(Unicode)),
        ("TrackingNo", required(Unicode)),
        ("EstimatedDelivery", required(Date)),
        ("LabelUrl", optional(Unicode)),
    ],
)
