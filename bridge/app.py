"""The composition root: builds every expensive thing once and mounts the WSGI apps.

/            Flask: REST facade, /healthz, /readyz
/soap/<x>    the inbound SOAP contracts: banking (partner banks), partner (logistics partners)
/sims/<x>    the four upstream simulators (spyne), when `settings.simulators` is on
/metrics     Prometheus metrics (bridge.observability.metrics)

and, when `settings.scheduler` is on, the sync scheduler in whichever process holds the
cluster-wide scheduler lock (bridge.sync.leader).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bridge.mapping import Mappings
from bridge.mapping.conformance import Contracts
from bridge.observability import metrics
from bridge.observability.audit import AuditMiddleware, SyncAudit
from bridge.observability.correlation import CorrelationMiddleware
from bridge.security import Security, build_security
from bridge.security.events import SecurityEvents
from bridge.services.banking import BankingService
from bridge.services.classification import ClassificationService
from bridge.services.hr import HrService
from bridge.services.shipping import ShippingService
from bridge.settings import Settings
from bridge.store.audit import AuditLog
from bridge.store.db import make_engine, migrate
from bridge.store.transfers import TransferStore
from bridge.sync.deliveries import classification, payroll, shipments
from bridge.sync.engine import Deliverer, SyncEngine
from bridge.sync.leader import Leadership
from bridge.sync.outbox import Outbox
from bridge.sync.scheduler import Schedule, build_scheduler
from bridge.upstream.corebank import build_corebank
from bridge.upstream.soap import SoapUpstream, build_upstream


@dataclass
class Bridge:
    """Everything one process builds at start-up and shares between requests."""

    settings: Settings
    engine: Engine
    mappings: Mappings
    banking: BankingService
    hr: HrService
    shipping: ShippingService
    classification: ClassificationService
    sync: SyncEngine
    contracts: Contracts
    security: Security
    audit: AuditLog
    mounts: dict[str, Any] = field(default_factory=dict)
    wsgi: Any = None
    leadership: Leadership | None = None

    def close(self) -> None:
        """Stop the scheduler (if this process runs it) and release the database."""
        if self.leadership is not None:
            self.leadership.stop()
        self.audit.close()  # writes what is still buffered
        if self.security.limiter is not None:
            self.security.limiter.close()
        self.engine.dispose()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.wsgi(environ, start_response)


def create_app(
    settings: Settings, *, run_migrations: bool = True, start_scheduler: bool = True
) -> Bridge:
    from bridge.rest.app import create_rest_app
    from bridge.soap import create_banking_soap, create_partner_soap
    from bridge.ui import create_ui

    engine = make_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    mappings = Mappings.load(settings.mappings_dir)
    audit = AuditLog(engine)
    banking = BankingService(
        TransferStore(engine), build_corebank(settings, mappings), mappings.currencies
    )
    # One classifier client and service, shared by the REST door (wait=true) and the job.
    classifier = ClassificationService(
        engine,
        soap_upstream(settings, mappings, "classifier", classification.OPERATIONS),
        settings.review_threshold,
    )
    shipping = ShippingService(engine)
    sync = SyncEngine(
        engine,
        Outbox(engine),
        build_deliverers(settings, mappings, classifier, shipping),
        lease=timedelta(seconds=settings.sync_lease),
        on_outcome=SyncAudit(audit),
    )
    bridge = Bridge(
        settings=settings,
        engine=engine,
        mappings=mappings,
        banking=banking,
        hr=HrService(engine, mappings.currencies),
        shipping=shipping,
        classification=classifier,
        sync=sync,
        contracts=Contracts(mappings),
        security=build_security(settings, engine),
        audit=audit,
    )
    events = SecurityEvents(
        audit, burst=settings.auth_failure_burst, window=settings.auth_failure_window
    )
    bridge.security.on_failure = events.auth_failed
    bridge.security.tokens.on_reuse = events.refresh_token_reused
    if settings.scheduler and start_scheduler:
        bridge.leadership = start_leadership(bridge)
    if settings.simulators:
        from bridge.sims import create_simulators

        bridge.mounts.update(create_simulators(engine, settings.base_url))
    bridge.mounts["/soap/banking"] = create_banking_soap(
        bridge, max_body_bytes=settings.soap_max_body_bytes
    )
    bridge.mounts["/soap/partner"] = create_partner_soap(
        bridge, max_body_bytes=settings.soap_max_body_bytes
    )
    bridge.mounts["/ui"] = create_ui(bridge)
    metrics.watch_breakers(sync.breakers)
    operations = soap_operations(bridge.mounts)
    bridge.wsgi = CorrelationMiddleware(
        AuditMiddleware(
            metrics.MetricsMiddleware(
                DispatcherMiddleware(
                    DispatcherMiddleware(
                        metrics.label_routes(create_rest_app(bridge)),
                        {"/metrics": metrics.metrics_app(sync)},
                    ),
                    bridge.mounts,
                ),
                operations,
            ),
            audit,
            soap_operations=operations,
            trusted_proxies=settings.trusted_proxies,
        )
    )
    return bridge


def soap_operations(mounts: dict[str, Any]) -> dict[str, frozenset[str]]:
    """The operations the SOAPAction of each mounted SOAP app may name (metrics labels)."""
    from bridge.sims.wsgi import SimulatorApp
    from bridge.soap import banking, partner

    known = {
        contract.mount: frozenset(operation.name for operation in contract.operations)
        for contract in (banking.CONTRACT, partner.CONTRACT)
    }
    for path, app in mounts.items():
        if isinstance(app, SimulatorApp):
            known[path] = app.sim.contract.operations
    return known


def soap_upstream(
    settings: Settings, mappings: Mappings, name: str, operations: dict[str, tuple[str, str]]
) -> SoapUpstream:
    """The zeep client of upstream `name`, from its checked-in contract, at its configured URL."""
    contract = settings.contracts_dir / "upstream" / f"{name}.wsdl"
    return build_upstream(
        name,
        contract,
        settings.upstream_url(name),
        mappings,
        operations,
        timeout=settings.upstream_timeout,
    )


def build_deliverers(
    settings: Settings,
    mappings: Mappings,
    classifier: ClassificationService,
    shipping: ShippingService,
) -> dict[str, Deliverer]:
    def upstream(name: str, operations: dict[str, tuple[str, str]]) -> Any:
        return soap_upstream(settings, mappings, name, operations)

    return {
        "payroll": payroll.PayrollDeliverer(upstream("payroll", payroll.OPERATIONS)),
        "classification": classification.ClassificationDeliverer(classifier),
        "shipments": shipments.ShipmentsDeliverer(
            upstream("logistics", shipments.OPERATIONS), shipping
        ),
    }


def schedules(settings: Settings, jobs: list[str]) -> list[Schedule]:
    every = {
        "payroll": Schedule("payroll", settings.payroll_schedule, misfire_grace_time=300),
        "shipments": Schedule("shipments", settings.shipments_schedule, misfire_grace_time=30),
        "classification": Schedule(
            "classification", settings.classification_schedule, misfire_grace_time=3600
        ),
    }
    return [every[job] for job in jobs]


def start_leadership(bridge: Bridge) -> Leadership:
    """Fire the schedules if this process wins the scheduler lock; join their runs if not."""
    from bridge.sync.joining import Joiner

    settings = bridge.settings
    scheduler = build_scheduler(
        bridge.engine,
        bridge.sync,
        schedules(settings, list(bridge.sync.deliverers)),
        housekeeping=(
            settings.housekeeping_schedule,
            timedelta(days=settings.outbox_retention_days),
        ),
    )
    leadership = Leadership(
        bridge.engine,
        on_lead=scheduler.start,
        on_lose=lambda: scheduler.shutdown(wait=False),
        poll=settings.scheduler_poll,
        follower=Joiner(bridge.sync),
    )
    leadership.start()
    return leadership


def endpoints(bridge: Bridge) -> list[tuple[str, str]]:
    """What `bridge serve` prints: (what, where)."""
    base = bridge.settings.base_url
    rows = [
        ("REST API", f"{base}/api/v1"),
        ("OpenAPI", f"{base}/api/openapi.json"),
        ("API docs", f"{base}/api/docs"),
        ("OAuth2 tokens", f"{base}/oauth/token"),
        ("health", f"{base}/healthz"),
        ("readiness", f"{base}/readyz"),
        ("metrics", f"{base}/metrics"),
        ("dashboard", f"{base}/ui/"),
    ]
    rows += [
        (
            f"{'simulator' if path.startswith('/sims/') else 'SOAP'} {path.rsplit('/', 1)[-1]}",
            f"{base}{path}?wsdl",
        )
        for path in sorted(bridge.mounts, key=lambda p: (p.startswith("/sims/"), p))
        if path.startswith(("/sims/", "/soap/"))
    ]
    return rows
