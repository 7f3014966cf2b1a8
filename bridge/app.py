"""The composition root: builds every expensive thing once and mounts the WSGI apps.

/            Flask: REST facade, /healthz, /readyz
/soap/<x>    the inbound SOAP contracts: banking (partner banks), partner (logistics partners)
/sims/<x>    the four upstream simulators (spyne), for private clients holding
             `simulators:admin` (bridge.sims.gate), when this process runs them
             (`settings.simulators_decision`); the bridge's own upstream clients call them on
             the process's own simulator server instead (bridge.sims.server, `Upstreams`)
/soap/services/<name>, /sims/services/<name>, /api/v1/services/<name>/<operation>
             each imported service (`bridge contract import`, bridge.contracts.catalog): its
             SOAP pass-through, its generated simulator and its REST operations
/metrics     Prometheus metrics (bridge.observability.metrics), for private clients holding
             `metrics:read` (a scraper's OAuth2 client credentials or API key)

and, when `settings.scheduler` is on, the sync scheduler in whichever process holds the
cluster-wide scheduler lock (bridge.sync.leader).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bridge.components import Bridge, Upstreams
from bridge.contracts.catalog import Catalog
from bridge.domain.clock import utcnow
from bridge.domain.upstream import Classifier
from bridge.mapping import Mappings
from bridge.mapping.conformance import Contracts
from bridge.mapping.schemas import contract_path
from bridge.mapping.xml import XmlLimits
from bridge.observability import metrics
from bridge.observability.correlation import CorrelationMiddleware
from bridge.rest.app import create_rest_app
from bridge.rest.routes import label_routes
from bridge.security import build_security
from bridge.security.access import Scopes, allow
from bridge.security.audit import AuditMiddleware
from bridge.security.events import SecurityEvents
from bridge.security.gate import ClientGate
from bridge.services.banking import BankingService
from bridge.services.classification import ClassificationService
from bridge.services.hr import HrService
from bridge.services.imported import (
    ImportedServices,
    Service,
    ServiceUpstream,
    declared_scopes,
)
from bridge.services.retry import RetryPolicy
from bridge.services.shipping import ShippingService
from bridge.settings import UPSTREAMS, Settings
from bridge.sims import create_simulators
from bridge.sims.gate import admin_only
from bridge.sims.server import SimulatorServer
from bridge.sims.services import create_service_simulators
from bridge.sims.wsgi import SimulatorApp
from bridge.soap import banking, create_banking_soap, create_partner_soap, partner
from bridge.soap.passthrough import passthrough_apps
from bridge.store.audit import AuditLog
from bridge.store.classifications import ClassificationStore
from bridge.store.db import make_engine, migrate
from bridge.store.employees import EmployeeStore
from bridge.store.shipments import ShipmentStore
from bridge.store.transfers import TransferStore
from bridge.sync.audit import SyncAudit
from bridge.sync.deliveries import classification, payroll, shipments
from bridge.sync.engine import Deliverer, SyncEngine
from bridge.sync.joining import Joiner
from bridge.sync.leader import Leadership
from bridge.sync.outbox import Outbox
from bridge.sync.reconcile import Reconciler
from bridge.sync.scheduler import build_scheduler, schedules
from bridge.ui import create_ui
from bridge.upstream.breakers import circuit_breakers
from bridge.upstream.corebank import CoreBank, GuardedCoreBank, build_corebank
from bridge.upstream.generic import service_upstream
from bridge.upstream.soap import SoapUpstream

# /metrics: our own systems' scrapers (Prometheus: OAuth2 client credentials), nobody else.
METRICS_ACCESS = allow("metrics:read", ("private",))


@dataclass(frozen=True)
class Overrides:
    """Seams `create_app` uses instead of building its own, so that every door (REST, SOAP, the
    dashboard, the sync jobs) is wired to the same services around them: tests put fakes of
    the upstream systems here, never into a built app.

    `corebank` stands in for core banking's zeep client (behind the app's breaker, like the
    client it replaces); `classifier` for the classifier's; `banking_retry` and
    `classification_retry` for the services' retry policies; `deliverers` for the sync jobs';
    `imported_upstreams` for the clients of imported services, by service name."""

    corebank: CoreBank | None = None
    classifier: Classifier | None = None
    banking_retry: RetryPolicy = field(default_factory=RetryPolicy)
    classification_retry: RetryPolicy = field(default_factory=RetryPolicy)
    deliverers: Callable[[ClassificationService, ShippingService], dict[str, Deliverer]] | None = (
        None
    )
    imported_upstreams: Mapping[str, ServiceUpstream] | None = None


def create_app(
    settings: Settings,
    *,
    run_migrations: bool = True,
    start_scheduler: bool = True,
    start_simulators: bool = True,
    overrides: Overrides | None = None,
) -> Bridge:
    """`start_simulators`: run this process's simulator server when the simulators are on;
    `bridge serve` builds the app once in gunicorn's master without it (threads do not survive
    the fork), then every worker builds it with. `overrides`: seams to use (`Overrides`)."""
    seams = overrides or Overrides()

    engine = make_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    mappings = Mappings.load(settings.mappings_dir)
    # Imported services (`bridge contract import`): their scopes are this app's, known before
    # any door declares access; each gets a generated simulator, a client and both doors.
    catalog = Catalog.load(settings.contracts_dir, settings.mappings_dir)
    scopes = Scopes(declared_scopes(catalog))
    audit = AuditLog(
        engine,
        flush_interval=settings.audit_flush_interval,
        on_write_failure=metrics.AUDIT_WRITE_FAILURES.inc,
        on_dropped=metrics.audit_rows_dropped,
    )
    simulators: dict[str, Any] = {}
    upstreams = Upstreams(settings)
    if settings.run_simulators:
        simulators = create_simulators(
            engine, settings.base_url, contracts_dir=settings.contracts_dir
        )
        simulators.update(
            create_service_simulators(
                catalog, engine, settings.base_url, seed=settings.simulator_seed
            )
        )
        if start_simulators:
            upstreams = Upstreams(settings, SimulatorServer(simulators))
    transfer_store = TransferStore(engine)
    service_clients = {
        s.name: service_upstream(s, upstreams.simulators, ca_certs=settings.upstream_ca_file)
        for s in catalog
    }
    # One circuit breaker per upstream: core banking's guards its client in the request path,
    # the others the sync jobs; the sync engine holds them all for the views (REST, UI, metrics).
    breakers = circuit_breakers(UPSTREAMS)
    corebank = (
        GuardedCoreBank(seams.corebank, breakers["corebank"])
        if seams.corebank is not None
        else build_corebank(
            settings,
            mappings,
            address=upstreams.address("corebank"),
            http=upstreams.http("corebank"),
            breaker=breakers["corebank"],
        )
    )
    banking = BankingService(
        transfer_store, corebank, mappings.currencies, retry=seams.banking_retry
    )
    # One classifier client and service, shared by the REST door (wait=true) and the job.
    classifier = ClassificationService(
        ClassificationStore(engine),
        seams.classifier
        or soap_upstream(
            settings, mappings, "classifier", classification.OPERATIONS, upstreams=upstreams
        ),
        settings.review_threshold,
        retry=seams.classification_retry,
        breaker=breakers["classifier"],
    )
    shipping = ShippingService(ShipmentStore(engine))
    sync = SyncEngine(
        engine,
        Outbox(engine),
        seams.deliverers(classifier, shipping)
        if seams.deliverers is not None
        else build_deliverers(settings, mappings, classifier, shipping, upstreams=upstreams),
        breakers=breakers,
        lease=timedelta(seconds=settings.sync_lease),
        on_outcome=SyncAudit(audit),
    )
    bridge = Bridge(
        settings=settings,
        engine=engine,
        mappings=mappings,
        banking=banking,
        hr=HrService(EmployeeStore(engine), mappings.currencies),
        shipping=shipping,
        classification=classifier,
        sync=sync,
        contracts=Contracts(mappings, settings.contracts_dir),
        security=build_security(settings, engine, scopes),
        audit=audit,
        upstreams=upstreams,
        imported=ImportedServices(
            Service(catalog[name], (seams.imported_upstreams or {}).get(name, client))
            for name, client in service_clients.items()
        ),
        reconciler=Reconciler(
            transfer_store,
            banking,
            lease=timedelta(seconds=settings.sync_lease),
            post_within=timedelta(seconds=settings.reconcile_post_within),
            pending_every=timedelta(seconds=settings.reconcile_pending_every),
            audit=audit,
        ),
    )
    events = SecurityEvents(
        audit, burst=settings.auth_failure_burst, window=settings.auth_failure_window
    )
    bridge.security.on_failure = partial(refused_credential, events)
    bridge.security.on_rate_limited = lambda door: metrics.RATE_LIMITED.labels(door).inc()
    if bridge.security.limiter is not None:
        bridge.security.limiter.on_unchecked = metrics.RATE_LIMIT_UNCHECKED.inc
    if bridge.security.throttle is not None:
        bridge.security.throttle.on_unchecked = metrics.AUTH_THROTTLE_UNCHECKED.inc
        bridge.security.on_throttled = lambda door: metrics.AUTH_THROTTLED.labels(door).inc()
    bridge.security.tokens.on_reuse = events.refresh_token_reused
    if settings.scheduler and start_scheduler:
        bridge.leadership = start_leadership(bridge)
    if simulators:
        bridge.mounts.update(
            {path: admin_only(app, bridge.security) for path, app in simulators.items()}
        )
    bridge.mounts["/soap/banking"] = create_banking_soap(
        bridge, max_body_bytes=settings.soap_max_body_bytes
    )
    bridge.mounts["/soap/partner"] = create_partner_soap(
        bridge, max_body_bytes=settings.soap_max_body_bytes
    )
    bridge.mounts.update(
        passthrough_apps(
            bridge.imported,
            bridge.security,
            base_url=settings.base_url,
            max_body_bytes=settings.soap_max_body_bytes,
            xml_limits=XmlLimits(settings.xml_max_elements, settings.xml_max_depth),
        )
    )
    bridge.mounts["/ui"] = create_ui(bridge)
    metrics.watch_breakers(sync.breakers)
    metrics.watch_breakers({name: client.breaker for name, client in service_clients.items()})
    operations = soap_operations(simulators)
    bridge.wsgi = CorrelationMiddleware(
        AuditMiddleware(
            metrics.MetricsMiddleware(
                DispatcherMiddleware(
                    DispatcherMiddleware(
                        label_routes(create_rest_app(bridge)),
                        {
                            "/metrics": ClientGate(
                                metrics.metrics_app(
                                    metrics.OutboxCollector(bridge.sync_status.depth_by_job),
                                    unsettled_collector(bridge),
                                ),
                                bridge.security,
                                METRICS_ACCESS,
                                door="ops",
                            )
                        },
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


def refused_credential(events: SecurityEvents, source: str | None, door: str, reason: str) -> None:
    """Every refused credential, at any door: counted, and watched for bursts."""
    metrics.AUTH_FAILURES.labels(door, reason).inc()
    events.auth_failed(source, door, reason)


def soap_operations(simulators: dict[str, Any]) -> dict[str, frozenset[str]]:
    """The operations the SOAPAction of each SOAP door and simulator may name (metrics labels)."""

    known = {
        contract.mount: frozenset(operation.name for operation in contract.operations)
        for contract in (banking.CONTRACT, partner.CONTRACT)
    }
    for path, app in simulators.items():
        if isinstance(app, SimulatorApp):
            known[path] = app.sim.contract.operations
    return known


def soap_upstream(
    settings: Settings,
    mappings: Mappings,
    name: str,
    operations: dict[str, tuple[str, str]],
    *,
    upstreams: Upstreams | None = None,
) -> SoapUpstream:
    """The zeep client of upstream `name`, from its checked-in contract, at its configured URL
    or this process's simulator (`upstreams`)."""
    upstreams = upstreams or Upstreams(settings)
    contract = contract_path(name, settings.contracts_dir)
    return SoapUpstream(
        name,
        contract,
        upstreams.address(name),
        mappings,
        operations,
        timeout=settings.upstream_timeout,
        http=upstreams.http(name),
        checked=True,
    )


def build_deliverers(
    settings: Settings,
    mappings: Mappings,
    classifier: ClassificationService,
    shipping: ShippingService,
    *,
    upstreams: Upstreams | None = None,
) -> dict[str, Deliverer]:
    def upstream(name: str, operations: dict[str, tuple[str, str]]) -> Any:
        return soap_upstream(settings, mappings, name, operations, upstreams=upstreams)

    return {
        "payroll": payroll.PayrollDeliverer(upstream("payroll", payroll.OPERATIONS)),
        "classification": classification.ClassificationDeliverer(classifier),
        "shipments": shipments.ShipmentsDeliverer(
            upstream("logistics", shipments.OPERATIONS), shipping
        ),
    }


def unsettled_collector(bridge: Bridge) -> metrics.UnsettledCollector:
    """bridge_transfers_unsettled, counted in the database at scrape time (every worker and
    node reports the same number)."""
    alert_after = bridge.settings.reconcile_alert_after
    transfers = TransferStore(bridge.engine)
    return metrics.UnsettledCollector(
        lambda: transfers.unsettled(older_than=utcnow() - timedelta(seconds=alert_after)),
        alert_after,
    )


def start_leadership(bridge: Bridge) -> Leadership:
    """Fire the schedules if this process wins the scheduler lock; join their runs if not."""

    settings = bridge.settings
    scheduler = build_scheduler(
        bridge.engine,
        bridge.sync,
        schedules(settings, list(bridge.sync.deliverers)),
        housekeeping=(
            settings.housekeeping_schedule,
            timedelta(days=settings.outbox_retention_days),
        ),
        reconcile=(
            None if bridge.reconciler is None else (settings.reconcile_schedule, bridge.reconciler)
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
