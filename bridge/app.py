"""The composition root: builds every expensive thing once and mounts the WSGI apps.

/            Flask: REST facade, /healthz, /readyz
/sims/<x>    the four upstream simulators (spyne), when `settings.simulators` is on
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bridge.mapping import Mappings
from bridge.observability.correlation import CorrelationMiddleware
from bridge.services.banking import BankingService
from bridge.settings import Settings
from bridge.store.db import make_engine, migrate
from bridge.store.transfers import TransferStore
from bridge.upstream.corebank import build_corebank


@dataclass
class Bridge:
    """Everything one process builds at start-up and shares between requests."""

    settings: Settings
    engine: Engine
    mappings: Mappings
    banking: BankingService
    mounts: dict[str, Any] = field(default_factory=dict)
    wsgi: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.wsgi(environ, start_response)


def create_app(settings: Settings, *, run_migrations: bool = True) -> Bridge:
    from bridge.rest.app import create_rest_app

    engine = make_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    mappings = Mappings.load(settings.mappings_dir)
    banking = BankingService(
        TransferStore(engine), build_corebank(settings, mappings), mappings.currencies
    )
    bridge = Bridge(settings=settings, engine=engine, mappings=mappings, banking=banking)
    if settings.simulators:
        from bridge.sims import create_simulators

        bridge.mounts.update(create_simulators(engine, settings.base_url))
    bridge.wsgi = CorrelationMiddleware(
        DispatcherMiddleware(create_rest_app(bridge), bridge.mounts)
    )
    return bridge


def endpoints(bridge: Bridge) -> list[tuple[str, str]]:
    """What `bridge serve` prints: (what, where)."""
    base = bridge.settings.base_url
    rows = [("health", f"{base}/healthz"), ("readiness", f"{base}/readyz")]
    rows += [
        (f"simulator {path.rsplit('/', 1)[-1]}", f"{base}{path}?wsdl") for path in bridge.mounts
    ]
    return rows
