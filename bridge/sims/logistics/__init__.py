"""The logistics booking simulator (`wsdl/upstream/logistics.wsdl`): shipments booked once per
OrderRef, with tracking numbers, estimated deliveries and labels (`booking`, `service`)."""

from __future__ import annotations

from bridge.sims.assembly import sim_control, simulator
from bridge.sims.context import SimContext, data_file
from bridge.sims.control import SimControl
from bridge.sims.logistics.booking import BookingRules
from bridge.sims.logistics.service import Logistics
from bridge.sims.wsgi import Simulator

NAME = "logistics"
KEYS = {"CreateShipment": "OrderRef"}

__all__ = ["build", "control"]


def control(ctx: SimContext) -> SimControl:
    return sim_control(ctx, NAME, KEYS)


def build(ctx: SimContext) -> Simulator:
    address = ctx.address(NAME)
    sim = control(ctx)
    rules = BookingRules.from_data(data_file("logistics.yaml"))
    logistics = Logistics(sim.recorder, rules, ctx.clock, address)
    return simulator(
        NAME,
        "Logistics",
        sim,
        KEYS,
        ctx=ctx,
        handlers={"CreateShipment": logistics.create_shipment},
        pages={"labels": logistics.label},
    )
