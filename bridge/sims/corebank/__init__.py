"""The core banking simulator (`wsdl/upstream/corebank.wsdl`): accounts seeded from
`data/corebank_accounts.yaml`, payments posted once per externalRef, statements paged."""

from __future__ import annotations

from bridge.sims.context import SimContext
from bridge.sims.contract import load_contract
from bridge.sims.control import SimControl
from bridge.sims.corebank import models as m
from bridge.sims.corebank.ledger import BankRules
from bridge.sims.corebank.seed import accounts_state, bank_data, reset_ledger, seed_ledger
from bridge.sims.corebank.service import CoreBank
from bridge.sims.faults import COMMON_KINDS, FaultQueue
from bridge.sims.records import Recorder
from bridge.sims.soap import Operation, soap_application
from bridge.sims.wsgi import Simulator

NAME = "corebank"
KEYS = {
    "PostPayment": "externalRef",
    "InquirePayment": "externalRef",
    "ValidateAccount": None,
    "GetStatement": None,
}

__all__ = ["build", "control", "seed_ledger"]


def control(ctx: SimContext) -> SimControl:
    def state() -> dict[str, object]:
        with ctx.engine.connect() as connection:
            return accounts_state(connection)

    return SimControl(
        NAME,
        Recorder(ctx.engine, NAME, ctx.clock),
        FaultQueue(
            ctx.engine,
            NAME,
            ctx.clock,
            operations=frozenset(KEYS),
            kinds=COMMON_KINDS | {"unavailable"},
            bound={"unavailable": "PostPayment"},
        ),
        reset_state=reset_ledger,
        state=state,
    )


def build(ctx: SimContext) -> Simulator:
    address = ctx.address(NAME)
    contract = load_contract(NAME, address)
    sim_control = control(ctx)
    bank = CoreBank(sim_control.recorder, BankRules.from_data(bank_data()))
    operations = [
        Operation("PostPayment", m.PostPaymentRequest, m.PostPaymentResult, bank.post_payment),
        Operation(
            "InquirePayment", m.InquirePaymentRequest, m.InquirePaymentResult, bank.inquire_payment
        ),
        Operation(
            "ValidateAccount",
            m.ValidateAccountRequest,
            m.ValidateAccountResult,
            bank.validate_account,
        ),
        Operation("GetStatement", m.GetStatementRequest, m.GetStatementResult, bank.get_statement),
    ]
    soap = soap_application("CoreBank", contract.namespace, address, operations)
    return Simulator(NAME, contract, soap, sim_control, KEYS)
