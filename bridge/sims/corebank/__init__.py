"""The core banking simulator (`wsdl/upstream/corebank.wsdl`): accounts seeded from
`data/corebank_accounts.yaml`, payments posted once per externalRef, statements paged."""

from __future__ import annotations

from bridge.sims.assembly import sim_control, simulator
from bridge.sims.context import SimContext
from bridge.sims.control import SimControl
from bridge.sims.corebank.ledger import BankRules
from bridge.sims.corebank.seed import accounts_state, bank_data, reset_ledger, seed_ledger
from bridge.sims.corebank.service import CoreBank
from bridge.sims.faults import COMMON_KINDS
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

    return sim_control(
        ctx,
        NAME,
        KEYS,
        kinds=COMMON_KINDS | {"unavailable"},
        bound={"unavailable": "PostPayment"},
        reset_state=reset_ledger,
        state=state,
    )


def build(ctx: SimContext) -> Simulator:
    sim = control(ctx)
    bank = CoreBank(sim.recorder, BankRules.from_data(bank_data()))
    handlers = {
        "PostPayment": bank.post_payment,
        "InquirePayment": bank.inquire_payment,
        "ValidateAccount": bank.validate_account,
        "GetStatement": bank.get_statement,
    }
    return simulator(NAME, "CoreBank", sim, KEYS, ctx=ctx, handlers=handlers)
