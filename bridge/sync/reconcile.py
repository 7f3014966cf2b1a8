"""The reconciler: settles the transfers no request will finish.

A transfer is stored before core banking hears of it (`bridge.services.banking`). When the
request working on it dies or gives up (a killed process, core banking down), it stays RCVD
(answered as ACCP) until the partner sends its MsgId again, which it may never do. The reconciler
does not wait for that: on a schedule (`reconcile_schedule`, fired by the cluster's one
scheduler) or by hand (`bridge sync reconcile`), it claims, one at a time, every transfer still
RCVD whose lease has expired and every PDNG one not asked about for `reconcile_pending_every`
seconds, and `BankingService.reconcile_transfer` settles it: what core banking has under the
TxId wins; a payment core banking never received is posted once, or rejected unposted when it
is too late to post.

Claims are the transfers' own leases, so a partner's retry, another node's reconciler and a
run by hand never post the same transfer twice. A run stops at the first sign that core banking
is unavailable (the rest wait for the next run) and goes on past any other failure, which leaves
that transfer for the next run. Each transfer looked at is counted in
`bridge_reconciled_total{outcome}` and audited (interface "sync", operation "reconcile
transfer", the TxId as resource).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import KW_ONLY, dataclass, field
from datetime import timedelta

from bridge.domain.clock import Clock, utcnow
from bridge.domain.errors import Conflict, UpstreamUnavailable
from bridge.observability import metrics
from bridge.observability.logging import correlated
from bridge.services.banking import BankingService, Settlement
from bridge.store.audit import AuditLog, AuditRecord
from bridge.store.transfers import TransferRecord, TransferStore

log = logging.getLogger(__name__)

_BY_STATUS = {"ACSC": "booked", "PDNG": "pending", "ACCP": "pending", "RJCT": "rejected"}


@dataclass(frozen=True, slots=True)
class Reconciled:
    """One transfer the reconciler looked at. `outcome`: booked, pending, rejected (by core
    banking), refused (rejected unposted by the bridge) or failed (left for the next run);
    `how`: found, posted, refused, unchanged, or error."""

    tx_id: str
    msg_id: str
    client_id: str
    outcome: str
    how: str
    status: str
    reason: str | None = None


@dataclass
class ReconcileReport:
    settled: list[Reconciled] = field(default_factory=list)
    error: str | None = None  # why the run stopped early

    def count(self, outcome: str) -> int:
        return sum(1 for entry in self.settled if entry.outcome == outcome)


@dataclass(eq=False)
class Reconciler:
    transfers: TransferStore
    banking: BankingService
    _: KW_ONLY
    lease: timedelta
    post_within: timedelta
    pending_every: timedelta
    audit: AuditLog | None = None
    limit: int = 1000
    clock: Clock = utcnow
    _running: threading.Lock = field(init=False, default_factory=threading.Lock)

    def run(self, *, trigger: str = "manual", limit: int | None = None) -> ReconcileReport:
        """Settle what is due, at most `limit` transfers; a `Conflict` if this process is
        reconciling already."""
        if not self._running.acquire(blocking=False):
            raise Conflict("a reconciliation is already going in this process")
        try:
            return self._run(trigger, self.limit if limit is None else limit)
        finally:
            self._running.release()

    def _run(self, trigger: str, limit: int) -> ReconcileReport:
        report = ReconcileReport()
        correlation_id = f"reconcile-{uuid.uuid4().hex[:16]}"
        pending_before = self.clock() - self.pending_every
        seen: set[str] = set()
        with correlated(correlation_id):
            while len(report.settled) < limit:
                record = self.transfers.claim_due(
                    lease=self.lease, pending_before=pending_before, skip=frozenset(seen)
                )
                if record is None:
                    break
                seen.add(record.tx_id)
                try:
                    entry = self._settle(record, correlation_id)
                except UpstreamUnavailable as exc:
                    entry = self._failed(record, f"core banking unavailable: {exc.detail}")
                    report.error = entry.reason
                report.settled.append(entry)
                metrics.RECONCILED.labels(entry.outcome).inc()
                self._record(entry, trigger, correlation_id)
                if report.error:
                    break
        return report

    def _failed(self, record: TransferRecord, reason: str) -> Reconciled:
        self.transfers.release(record.tx_id)  # a retried request or the next run resumes it
        return Reconciled(
            record.tx_id, record.msg_id, record.client_id, "failed", "error", record.status, reason
        )

    def _settle(self, record: TransferRecord, correlation_id: str) -> Reconciled:
        """Raises `UpstreamUnavailable` (the run stops); any other failure is this transfer's."""
        try:
            result, how = self.banking.reconcile_transfer(
                record,
                post_within=self.post_within,
                now=self.clock(),
                correlation_id=correlation_id,
            )
        except UpstreamUnavailable:
            raise
        except Exception as exc:
            log.exception("reconciling transfer %s failed", record.tx_id)
            return self._failed(record, f"error: {type(exc).__name__}")
        if how == "unchanged":
            self.transfers.release(record.tx_id)  # asked again after pending_every
        reason = (
            f"{result.reason.code} {result.reason.additional_info or ''}".strip()
            if result.reason
            else None
        )
        return Reconciled(
            record.tx_id,
            record.msg_id,
            record.client_id,
            _outcome(str(result.status), how),
            how,
            str(result.status),
            reason,
        )

    def _record(self, entry: Reconciled, trigger: str, correlation_id: str) -> None:
        if self.audit is None:
            return
        self.audit.record(
            AuditRecord(
                at=self.clock(),
                interface="sync",
                operation="reconcile transfer",
                resource_id=entry.tx_id,
                outcome="server_error" if entry.outcome == "failed" else "ok",
                status=entry.outcome,
                correlation_id=correlation_id,
                detail=(
                    f"{trigger}: {entry.how}, {entry.status}"
                    + (f" {entry.reason}" if entry.reason else "")
                    + f"; client {entry.client_id}, MsgId {entry.msg_id}"
                ),
            )
        )


def _outcome(status: str, how: Settlement) -> str:
    return "refused" if how == "refused" else _BY_STATUS.get(status, "failed")
