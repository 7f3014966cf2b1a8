"""Simulators of the four upstream SOAP systems, so the bridge runs and is tested without them.

`create_simulators(engine, base_url)` builds them once and returns the WSGI apps to mount:

    /sims/corebank    core banking       wsdl/upstream/corebank.wsdl
    /sims/payroll     payroll            wsdl/upstream/payroll.wsdl
    /sims/logistics   logistics booking  wsdl/upstream/logistics.wsdl
    /sims/classifier  classification     wsdl/upstream/classifier.wsdl

Each serves its checked-in contract at `?wsdl` (soap:address = `{base_url}/sims/<name>`),
answers document/literal SOAP 1.1 through spyne, records every call in the database, applies
each idempotency key once and answers repeats with the first response, and serves injected
faults to its next calls. Tests steer them through `controls(engine)` in-process or through
`{base_url}/sims/<name>/_control/...` over HTTP (`bridge.sims.control`).

The apps returned here are open; the bridge mounts them behind `bridge.sims.gate` (admins only on
its public port) and serves them to its own upstream clients on `bridge.sims.server`.

Seed data (core banking accounts, payroll employees) is loaded here, at start-up, by `seed`:
idempotently, so a restart keeps what the simulators did, and without a migration per data edit.
"""

from __future__ import annotations

from pathlib import Path
from wsgiref.types import WSGIApplication

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bridge.domain.clock import Clock, utcnow
from bridge.mapping.schemas import CONTRACTS_ROOT
from bridge.sims import classifier, corebank, logistics, payroll
from bridge.sims.context import SimContext
from bridge.sims.control import SimControl
from bridge.sims.wsgi import SimulatorApp

__all__ = ["SimControl", "controls", "create_simulators", "reset_simulators", "seed"]

SIMULATORS = (corebank, payroll, logistics, classifier)


def create_simulators(
    engine: Engine,
    base_url: str,
    *,
    clock: Clock = utcnow,
    contracts_dir: Path = CONTRACTS_ROOT,
) -> dict[str, WSGIApplication]:
    """The four simulators as WSGI apps keyed by mount path, e.g. "/sims/corebank", serving
    the contracts under `contracts_dir` (`Settings.contracts_dir`)."""
    seed(engine, clock=clock)
    ctx = SimContext(
        engine=engine, base_url=base_url.rstrip("/"), clock=clock, contracts_dir=contracts_dir
    )
    apps: dict[str, WSGIApplication] = {}
    for module in SIMULATORS:
        simulator = module.build(ctx)
        apps[f"/sims/{simulator.name}"] = SimulatorApp(simulator)
    return apps


def controls(engine: Engine, *, clock: Clock = utcnow) -> dict[str, SimControl]:
    """The control plane of each simulator, by name, for tests in the same process."""
    ctx = SimContext(engine=engine, base_url="", clock=clock)
    return {module.NAME: module.control(ctx) for module in SIMULATORS}


def seed(engine: Engine, *, clock: Clock = utcnow) -> None:
    """Insert missing seed rows; rows already there (and everything done since) are kept."""
    for attempt in range(3):
        try:
            with engine.begin() as connection:
                corebank.seed_ledger(connection)
                payroll.seed_employees(connection, clock())
            return
        except IntegrityError:
            # Another worker seeded the same rows first: look again.
            if attempt == 2:
                raise


def reset_simulators(engine: Engine) -> None:
    """Forget every call, effect and fault of the four simulators and reload the seed data."""
    for control in controls(engine).values():
        control.reset()
