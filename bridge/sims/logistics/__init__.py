"""The logistics booking simulator (`wsdl/upstream/logistics.wsdl`): shipments booked once per
OrderRef, with tracking numbers, estimated deliveries and labels (`booking`, `service`)."""

from __future__ import annotations

from bridge.sims.context import SimContext, data_file
from bridge.sims.contract import load_contract
from bridge.sims.control import SimControl
from bridge.sims.faults import FaultQueue
from bridge.sims.logistics import models as m
from bridge.sims.logistics.booking import BookingRules
from bridge.sims.logistics.service import Logistics
from bridge.sims.records import Recorder
from bridge.sims.soap import Operation, soap_application
from bridge.sims.wsgi import Simulator

NAME = "logistics"
KEYS = {"CreateShipment": "OrderRef"}

__all__ = ["build", "control"]


def control(ctx: SimContext) -> SimControl:
    return SimControl(
        NAME,
        Recorder(ctx.engine, NAME, ctx.clock),
        FaultQueue(ctx.engine, NAME, ctx.clock, operations=frozenset(KEYS)),
    )


def build(ctx: SimContext) -> Simulator:
    address = ctx.address(NAME)
    contract = load_contract(NAME, address)
    sim_control = control(ctx)
    rules = BookingRules.from_data(data_file("logistics.yaml"))
    logistics = Logistics(sim_control.recorder, rules, ctx.clock, address)
    operations = [
        Operation(
            "CreateShipment",
            m.CreateShipmentRequest,
            m.CreateShipmentResult,
            logistics.create_shipment,
        )
    ]
    soap = soap_application("Logistics", contract.namespace, address, operations)
    return Simulator(NAME, contract, soap, sim_control, KEYS, pages={"labels": logistics.label})
