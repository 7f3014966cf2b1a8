"""The sync engine's audit trail: `SyncAudit` turns each delivered, retried or dead outbox row
into an audit record with interface "sync" (`SyncEngine(on_outcome=SyncAudit(audit_log))`)."""

from __future__ import annotations

from bridge.domain.clock import Clock, utcnow
from bridge.store.audit import AuditLog, AuditRecord
from bridge.store.outbox import OutboxRow


class SyncAudit:
    """The sync engine's outcome listener (`SyncEngine(on_outcome=...)`): one record per
    delivered, retried or dead outbox row. The resource is the delivery's id, as
    `/api/v1/sync/deliveries/{id}` names it; a dead or retried row says why in `detail`."""

    OUTCOMES = {"delivered": "ok", "retry": "server_error", "dead": "server_error"}

    def __init__(self, audit_log: AuditLog, *, clock: Clock = utcnow) -> None:
        self.audit_log = audit_log
        self._clock = clock

    def __call__(self, row: OutboxRow, result: str, error: str | None) -> None:
        self.audit_log.record(
            AuditRecord(
                at=self._clock(),
                interface="sync",
                operation=f"deliver {row.topic}",
                resource_id=str(row.id),
                outcome=self.OUTCOMES.get(result, "server_error"),
                status=result,
                correlation_id=row.correlation_id,
                detail=f"key {row.key}" + (f": {error}" if error else ""),
            )
        )
