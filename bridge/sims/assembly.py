"""How a simulator is put together, the same way for each of them.

A simulator package names what is its own: its name, its operations with the element each is
keyed by (`keys`), its handlers, and its contract's spyne models, one ``<Operation>Request`` and
one ``<Operation>Result`` per operation in its models module. The rest, a recorder and a fault
queue behind its control plane, the contract served at its address and spyne's application
answering it, is built here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import Connection

from bridge.sims.context import SimContext, Wire
from bridge.sims.contract import load_contract
from bridge.sims.control import SimControl
from bridge.sims.faults import COMMON_KINDS, FaultQueue
from bridge.sims.records import Recorder
from bridge.sims.schema_models import contract_models
from bridge.sims.soap import Handler, Operation, soap_application
from bridge.sims.wsgi import Page, Simulator


def sim_control(
    ctx: SimContext,
    name: str,
    keys: Mapping[str, str | None],
    *,
    kinds: frozenset[str] = COMMON_KINDS,
    bound: Mapping[str, str] | None = None,
    reset_state: Callable[[Connection], None] | None = None,
    state: Callable[[], Wire] | None = None,
) -> SimControl:
    """The control plane of simulator `name`: faults may be injected into its operations (of
    `kinds`, a kind `bound` to the one operation it makes sense for)."""
    faults = FaultQueue(
        engine=ctx.engine,
        system=name,
        clock=ctx.clock,
        operations=frozenset(keys),
        kinds=kinds,
        bound=dict(bound or {}),
    )
    recorder = Recorder(ctx.engine, name, ctx.clock)
    return SimControl(name, recorder, faults, reset_state=reset_state, read_state=state)


def simulator(
    name: str,
    service: str,
    control: SimControl,
    keys: Mapping[str, str | None],
    *,
    ctx: SimContext,
    handlers: Mapping[str, Handler],
    pages: Mapping[str, Page] | None = None,
) -> Simulator:
    """Simulator `name` (spyne service `service`) at its address in `ctx`, serving its contract
    from `ctx.contracts_dir`: `handlers` answer its operations, whose request and answer types
    are the contract's ``<Operation>Request`` and ``<Operation>Result``."""
    address = ctx.address(name)
    contract = load_contract(name, address, ctx.contracts_dir / "upstream")
    models = contract_models(contract)
    operations = [
        Operation(operation, models[f"{operation}Request"], models[f"{operation}Result"], handle)
        for operation, handle in handlers.items()
    ]
    soap = soap_application(service, contract.namespace, address, operations)
    return Simulator(name, contract, soap, control, keys, pages=dict(pages or {}))
