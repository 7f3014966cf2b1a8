"""The payroll simulator (`wsdl/upstream/payroll.wsdl`): employee records applied once per
RecordId, batches once per BatchId, with a result per record (`service`, `rules`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete

from bridge.sims.context import SimContext, Wire, data_file
from bridge.sims.contract import load_contract
from bridge.sims.control import SimControl
from bridge.sims.faults import FaultQueue
from bridge.sims.payroll import models as m
from bridge.sims.payroll import service
from bridge.sims.payroll.rules import PayrollRules
from bridge.sims.payroll.service import Payroll, employees_state
from bridge.sims.records import Recorder
from bridge.sims.soap import Operation, soap_application
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

    return SimControl(
        NAME,
        Recorder(ctx.engine, NAME, ctx.clock),
        FaultQueue(ctx.engine, NAME, ctx.clock, operations=frozenset(KEYS)),
        reset_state=reset,
        state=state,
    )


def build(ctx: SimContext) -> Simulator:
    address = ctx.address(NAME)
    contract = load_contract(NAME, address)
    sim_control = control(ctx)
    rules = PayrollRules.from_data(data_file("payroll_rules.yaml"))
    payroll = Payroll(sim_control.recorder, rules, ctx.clock)
    operations = [
        Operation(
            "UpsertEmployee",
            m.UpsertEmployeeRequest,
            m.UpsertEmployeeResult,
            payroll.upsert_employee,
        ),
        Operation(
            "SubmitPayrollBatch",
            m.SubmitPayrollBatchRequest,
            m.SubmitPayrollBatchResult,
            payroll.submit_batch,
        ),
    ]
    soap = soap_application("Payroll", contract.namespace, address, operations)
    return Simulator(NAME, contract, soap, sim_control, KEYS)
