"""What the composition root builds once and hands to the doors: `Bridge`, and `Upstreams`.

The doors (REST, SOAP, the dashboard) are given one `Bridge` and read the services, the sync
engine, security and settings from it; `bridge.app.create_app` builds it and mounts the doors.
The record lives here, below the doors and above what it holds, so that the doors depend on it
and not on the composition root that builds them (which imports every door).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine

from bridge.mapping import Mappings
from bridge.mapping.conformance import Contracts
from bridge.security import Security
from bridge.services.banking import BankingService
from bridge.services.classification import ClassificationService
from bridge.services.hr import HrService
from bridge.services.imported import ImportedServices
from bridge.services.shipping import ShippingService
from bridge.settings import Settings
from bridge.store.audit import AuditLog
from bridge.sync.engine import SyncEngine
from bridge.sync.leader import Leadership
from bridge.sync.reconcile import Reconciler
from bridge.sync.scheduler import schedules
from bridge.sync.status import SyncStatus
from bridge.upstream.transport import UpstreamPool, pooled_http


class SimulatorEndpoints(Protocol):
    """This process's simulator server (`bridge.sims.server.SimulatorServer`), as the upstream
    clients reach it: its address per upstream and the headers that let them in."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    def address(self, name: str) -> str: ...

    def close(self) -> None: ...


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
    upstreams: Upstreams
    mounts: dict[str, Any] = field(default_factory=dict)
    wsgi: Any = None
    leadership: Leadership | None = None
    reconciler: Reconciler | None = None
    # The imported services (`bridge contract import`), served by both doors.
    imported: ImportedServices = field(default_factory=ImportedServices)

    def close(self) -> None:
        """Stop the scheduler (if this process runs it) and the simulator server (if it runs
        one), and release the database."""
        if self.leadership is not None:
            self.leadership.stop()
        if self.upstreams.simulators is not None:
            self.upstreams.simulators.close()
        self.audit.close()  # writes what is still buffered
        if self.security.limiter is not None:
            self.security.limiter.close()
        if self.security.throttle is not None:
            self.security.throttle.close()
        self.engine.dispose()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.wsgi(environ, start_response)

    @property
    def sync_status(self) -> SyncStatus:
        """The read model of the sync jobs that the REST door, the dashboard, `bridge sync
        status` and /metrics render (it reads `sync.deliverers` as they are when asked)."""
        jobs = list(self.sync.deliverers)
        return SyncStatus(
            self.sync,
            {schedule.job: schedule.crontab for schedule in schedules(self.settings, jobs)},
            scheduled=self.settings.scheduler,
        )


@dataclass(frozen=True)
class Upstreams:
    """Where each upstream's calls go: its configured URL, or else this process's simulator
    server, through connections whose calls carry the server's secret (and to that server
    only)."""

    settings: Settings
    simulators: SimulatorEndpoints | None = None

    def address(self, name: str) -> str:
        configured = self.settings.upstream_url(name)
        if configured or self.simulators is None:
            return configured
        return self.simulators.address(name)

    def http(self, name: str) -> UpstreamPool:
        """The connections of upstream `name`'s client: new ones, carrying the simulator
        server's secret only when `address(name)` is that server."""
        if self.simulators is None or self.settings.upstream_url(name):
            return pooled_http(ca_certs=self.settings.upstream_ca_file)
        return pooled_http(headers=self.simulators.headers)
