"""The payroll simulator (`wsdl/upstream/payroll.wsdl`): employee records applied once per
RecordId, batches once per BatchId, with a result per record (`service`, `rules`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete

from bridge.sims.assembly import sim_control, simulator
from bridge.sims.context import SimContext, Wire, data_file
from bridge.sims.control import SimControl
from bridge.sims.payroll import service
from bridge.sims.payroll.rules import PayrollRules
from bridge.sims.payroll.service import Payroll, employees_state
from bridge.sims.wsgi import Simulator
from bridge.store.sim_tables import sim_employees

NAME = "payroll"
KEYS = {"UpsertEmployee": "RecordId", "SubmitPayrollBatch": "BatchId"}

__all__ = ["build", "control", "seed_employees"]


def seed_employees(connection: Connection, now: datetime) -> None:
    service.seed_employees(connection, now, data_file("payroll_employees.yaml")["employees"])


def control(ctx: SimContext) -> SimControl:
    def state() -> Wire:
        with ctx.engine.connect() as connection:
            return employees_state(connection)

    def reset(connection: Connection) -> None:
        connection.execute(delete(sim_employees))
        seed_employees(connection, ctx.clock())

    return sim_control(ctx, NAME, KEYS, reset_state=reset, state=state)


def build(ctx: SimContext) -> Simulator:
    sim = control(ctx)
    payroll = Payroll(
        sim.recorder, PayrollRules.from_data(data_file("payroll_rules.yaml")), ctx.clock
    )
    handlers = {
        "UpsertEmployee": payroll.upsert_employee,
        "SubmitPayrollBatch": payroll.submit_batch,
    }
    return simulator(NAME, "Payroll", sim, KEYS, ctx=ctx, handlers=handlers)
