"""The audit log: who did what, through which door, with what outcome, kept append-only.

Writing must not hold up the request it describes, so `AuditLog.record` only appends to an
in-memory buffer; one writer thread per log (started on the first record) inserts the buffer in
batches, every `flush_interval` seconds or as soon as `batch_size` rows wait, and `flush()`,
`close()` and interpreter exit (a gunicorn worker's too) write whatever is left. A normal
shutdown loses nothing.

Nothing a caller sends can stop the writer (README, "Audit log"):
- every text is made storable first: NUL (which PostgreSQL refuses) and unpaired surrogates
  (which no UTF-8 driver can encode) become U+FFFD;
- when the database refuses a batch, its rows are written one by one; a row refused alone is
  written in a safe form (every text ASCII, anything else as a `\\xNN`/`\\uNNNN` escape); a row
  refused even so, while its neighbours are written, is set aside: logged in its masked,
  escaped form and counted (`on_dropped("unwritable", 1)`), never retried in front of the rest;
- when the database itself is away (a connection error, or no row of the batch can be written),
  the rows go back to the front of the buffer and are tried again after a growing pause. The
  buffer is bounded (`max_pending`): past it the oldest rows are dropped, logged at ERROR and
  counted (`on_dropped("overflow", n)`).
Every refused insert is reported through `on_write_failure` (the composition root counts it in
`bridge_audit_write_failures_total`; the store imports no metrics).

Masking happens here, once, for every way a row arrives, in the writer rather than the request:
secrets and IBANs in `operation`, `resource_id` and `detail` are masked with the JSON logs' own
`redact_text` (an IBAN keeps its first and last four characters), and every text is cut to its
column, so one odd value never makes a batch fail.

Rows are read newest first, a page at a time by id (`query(before_id=...)`): ids only grow, so
rows written meanwhile never shift a page. The table refuses UPDATE and DELETE
(`bridge/store/migrations/versions/0006_audit_log.py`).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from bridge.domain.clock import as_utc
from bridge.domain.redaction import redact_text
from bridge.store.audit_tables import audit_log
from bridge.store.db import storable

log = logging.getLogger(__name__)

# Where an audited event came in, and what became of it.
AuditInterface = Literal["rest", "soap", "sims", "sync", "admin", "ui", "cli"]
AuditOutcome = Literal[
    "ok",
    "client_error",
    "unauthenticated",
    "denied",
    "not_found",
    "rate_limited",
    "server_error",
    "security_event",
]
INTERFACES = frozenset(get_args(AuditInterface))
OUTCOMES = frozenset(get_args(AuditOutcome))
MAX_LIMIT = 1000
# A detail longer than this is cut: an audit row says what happened, it does not carry payloads.
MAX_DETAIL = 1000
# Texts are cut to their column plus this much before masking (an IBAN is at most 34
# characters, so one that straddles the cut is still masked whole), then to their column.
_MASKING_MARGIN = 34
# Longest pause between two attempts while the database refuses writes.
MAX_RETRY_PAUSE = 30.0
# Rows of a refused batch tried one by one before a database that writes none of them is
# taken to be away, not refusing these rows.
PROBE_ROWS = 10
_TEXT_COLUMNS = (
    "client_id",
    "tier",
    "interface",
    "operation",
    "resource_id",
    "outcome",
    "status",
    "source",
    "correlation_id",
    "detail",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditRecord:
    """One audited event. `status` is an HTTP status ("201"), a SOAP faultcode ("soap:Client")
    or a sync result ("delivered", "retry", "dead"); `id` is set on rows read back."""

    id: int | None = None
    at: datetime
    client_id: str | None = None
    tier: str | None = None
    interface: str
    operation: str
    resource_id: str | None = None
    outcome: str
    status: str
    latency_ms: float | None = None
    source: str | None = None
    correlation_id: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.interface not in INTERFACES:
            raise ValueError(f"interface must be one of {sorted(INTERFACES)}: {self.interface!r}")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}: {self.outcome!r}")
        if self.at.tzinfo is None:
            raise ValueError("at must be timezone-aware")


def masked(entry: AuditRecord) -> AuditRecord:
    """`entry` as it may be stored: secrets and IBANs masked, texts cut to their columns."""
    return replace(
        entry,
        at=entry.at.astimezone(UTC),
        client_id=_cut(entry.client_id, "client_id"),
        tier=_cut(entry.tier, "tier"),
        operation=_masked(entry.operation, "operation") or "",
        resource_id=_masked(entry.resource_id, "resource_id"),
        status=_cut(entry.status, "status") or "",
        source=_cut(entry.source, "source"),
        correlation_id=_cut(entry.correlation_id, "correlation_id"),
        detail=_masked(entry.detail, "detail"),
    )


def _masked(value: str | None, column: str) -> str | None:
    """Cut first: masking costs more than linear time on long runs of word characters."""
    if value is None:
        return None
    return _cut(redact_text(value[: _length(column) + _MASKING_MARGIN]), column)


def _cut(value: str | None, column: str) -> str | None:
    if value is None:
        return None
    value = storable(value)
    length = _length(column)
    return value if len(value) <= length else value[: length - 1] + "…"


def _escaped(value: str | None, column: str) -> str | None:
    """`value` in ASCII only, anything else escaped (`\\x00`, `\\u202e`), cut to its column."""
    if value is None:
        return None
    return _cut(value.encode("unicode_escape").decode("ascii"), column)


def _length(column: str) -> int:
    length: int | None = getattr(audit_log.c[column].type, "length", None)
    return length or MAX_DETAIL


@dataclass(eq=False)
class AuditLog:
    """`on_write_failure()` is called for every insert the database refused;
    `on_dropped(reason, count)` for rows lost: "overflow" (the buffer was full),
    "unwritable" (refused even in safe form) or "stopped" (unwritten at close)."""

    engine: Engine
    _: KW_ONLY
    flush_interval: float = 1.0
    batch_size: int = 1000
    max_pending: int = 100_000
    on_write_failure: Callable[[], None] = lambda: None
    on_dropped: Callable[[str, int], None] = lambda reason, count: None
    _pending: deque[AuditRecord] = field(init=False, default_factory=deque)
    _changed: threading.Condition = field(init=False, default_factory=threading.Condition)
    # One batch insert at a time, writer thread or flush().
    _writing: threading.Lock = field(init=False, default_factory=threading.Lock)
    _writer: threading.Thread | None = field(init=False, default=None)
    _failures: int = field(init=False, default=0)
    _dropped: int = field(init=False, default=0)
    _in_flight: int = field(init=False, default=0)  # rows taken by the batch being written
    _reported_at_close: int = field(init=False, default=0)  # counted "stopped" by a close()
    _closed: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        _LIVE.add(self)

    # -- writing -------------------------------------------------------------------------------

    def record(self, entry: AuditRecord) -> None:
        """Queue `entry` for the writer; returns at once (the writer masks it)."""
        with self._changed:
            self._pending.append(entry)
            overflow = len(self._pending) - self.max_pending
            if overflow > 0:
                for _ in range(overflow):
                    self._pending.popleft()
                self._dropped += overflow
            if len(self._pending) == 1 or len(self._pending) >= self.batch_size:
                self._changed.notify_all()
        if self._closed:
            self.flush()  # late records (at exit, after close) are written at once
        else:
            self._ensure_writer()

    def flush(self) -> None:
        """Write everything recorded so far; on a database error, log it and keep the rows."""
        while self._write_batch():
            pass

    def close(self) -> None:
        """Write what is left and stop the writer thread."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        writer = self._writer
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout=30)
        self.flush()
        with self._changed:
            lost = len(self._pending)
        if lost:
            log.error("audit log closed with %d rows the database did not take", lost)
        if lost > self._reported_at_close:  # closed again (at exit): count each row once
            self._dropped_rows("stopped", lost - self._reported_at_close)
        self._reported_at_close = lost

    @property
    def pending(self) -> int:
        """Rows recorded but not written yet (a batch being written included)."""
        with self._changed:
            return len(self._pending) + self._in_flight

    def _ensure_writer(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            return
        with self._changed:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(
                    target=self._run, name="audit-log-writer", daemon=True
                )
                self._writer.start()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return  # close() writes the rest
                # Let a batch fill for up to one interval, unless it is full already.
                if len(self._pending) < self.batch_size:
                    self._changed.wait(self.flush_interval)
            if not self._drain():
                pause = min(MAX_RETRY_PAUSE, self.flush_interval * 2**self._failures)
                with self._changed:
                    if not self._closed:
                        self._changed.wait(pause)

    def _drain(self) -> bool:
        """Write batches until the buffer is empty; False when the database refused one."""
        try:
            while self._write_batch():
                pass
        except Exception:  # never let the writer thread die
            log.exception("audit log writer failed")
            return False
        return self._failures == 0

    def _write_batch(self) -> bool:
        """Insert one batch; True if there may be more to write."""
        with self._writing:
            with self._changed:
                rows = [
                    self._pending.popleft() for _ in range(min(self.batch_size, len(self._pending)))
                ]
                dropped, self._dropped = self._dropped, 0
                self._in_flight = len(rows)
            try:
                return self._write_rows(rows, dropped)
            finally:
                with self._changed:
                    self._in_flight = 0

    def _write_rows(self, rows: list[AuditRecord], dropped: int) -> bool:
        """Write `rows` (taken from the buffer) under the writing lock."""
        if dropped:
            log.error("audit log buffer full: %d oldest rows dropped", dropped)
            self._dropped_rows("overflow", dropped)
        if not rows:
            return False
        try:
            self._insert([_row(entry) for entry in rows])
        except Exception as exc:
            self._refused(len(rows), exc)
            if _database_away(exc):
                self._keep(rows)
                return False
            return self._write_one_by_one(rows)
        self._failures = 0
        return True

    def _write_one_by_one(self, rows: list[AuditRecord]) -> bool:
        """A refused batch, row by row: one row's content never holds back its neighbours.
        False (rows kept for the next attempt) when the database, not a row, is the trouble."""
        written = 0
        unwritable: list[AuditRecord] = []
        for index, entry in enumerate(rows):
            error: Exception | None = None
            for form in (_row, _safe_row):
                try:
                    self._insert([form(entry)])
                except Exception as exc:
                    self._refused(1, exc)
                    error = exc
                    if _database_away(exc):
                        break
                    continue
                if form is _safe_row:
                    log.warning("audit log: row written in safe form: %s", _described(entry))
                written += 1
                error = None
                break
            if error is None:
                continue
            if _database_away(error) or (written == 0 and index + 1 >= PROBE_ROWS):
                self._keep(unwritable + rows[index:])
                return False
            unwritable.append(entry)
        if written == 0:
            self._keep(unwritable)
            return False
        for entry in unwritable:
            log.error("audit log: row set aside, refused even in safe form: %s", _described(entry))
        if unwritable:
            self._dropped_rows("unwritable", len(unwritable))
        self._failures = 0
        return True

    def _insert(self, values: list[dict[str, Any]]) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(audit_log), values)

    def _dropped_rows(self, reason: str, count: int) -> None:
        try:
            self.on_dropped(reason, count)
        except Exception:  # a metric must not cost the rows being written
            log.exception("audit log: could not count %d dropped rows", count)

    def _refused(self, count: int, exc: Exception) -> None:
        try:
            self.on_write_failure()
        except Exception:
            log.exception("audit log: could not count a refused write")
        log.error(
            "audit log: the database refused %d rows (%s: %s)",
            count,
            type(exc).__name__,
            storable(str(exc))[:500],
        )

    def _keep(self, rows: list[AuditRecord]) -> None:
        """Back to the front of the buffer, in order, for the next attempt."""
        with self._changed:
            self._pending.extendleft(reversed(rows))
            self._in_flight = 0
        self._failures += 1
        log.error("audit log: %d rows kept for the next attempt", len(rows))

    def _forked(self) -> None:
        """In a forked child (a gunicorn worker): the parent's writer thread did not come along,
        and its locks may have been held at the fork; the rows buffered are the parent's."""
        self._changed = threading.Condition()
        self._writing = threading.Lock()
        self._writer = None
        self._pending.clear()

    # -- reading -------------------------------------------------------------------------------

    def query(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        client_id: str | None = None,
        outcome: str | None = None,
        interface: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """Rows newest first (by id), at most `limit`; `since` inclusive, `until` exclusive;
        `before_id` continues a page after its last row's id."""
        statement = select(audit_log).order_by(audit_log.c.id.desc())
        statement = statement.limit(max(1, min(limit, MAX_LIMIT)))
        # SQLite compares the stored text: bounds in UTC, as every row is written.
        if since is not None:
            statement = statement.where(audit_log.c.at >= since.astimezone(UTC))
        if until is not None:
            statement = statement.where(audit_log.c.at < until.astimezone(UTC))
        if client_id is not None:
            statement = statement.where(audit_log.c.client_id == client_id)
        if outcome is not None:
            statement = statement.where(audit_log.c.outcome == outcome)
        if interface is not None:
            statement = statement.where(audit_log.c.interface == interface)
        if before_id is not None:
            statement = statement.where(audit_log.c.id < before_id)
        with self.engine.connect() as connection:
            rows = connection.execute(statement).mappings().all()
        return [_record(row) for row in rows]


def _row(entry: AuditRecord) -> dict[str, Any]:
    # Every field is a scalar: no deep copy (`asdict`'s was most of the writer's time).
    stored = masked(entry)
    return {f.name: getattr(stored, f.name) for f in fields(AuditRecord) if f.name != "id"}


def _safe_row(entry: AuditRecord) -> dict[str, Any]:
    """`_row` with every text in escaped ASCII: what any database takes."""
    row = _row(entry)
    for column in _TEXT_COLUMNS:
        row[column] = _escaped(row[column], column)
    return row


def _described(entry: AuditRecord) -> str:
    """A row as the logs may show it: masked, escaped, without its detail."""
    row = _safe_row(entry)
    shown = ("at", "client_id", "interface", "operation", "resource_id", "status", "correlation_id")
    return " ".join(f"{name}={row[name]}" for name in shown)


def _database_away(error: Exception) -> bool:
    """A lost or refused connection: the database is away, not refusing this row."""
    if isinstance(error, DisconnectionError):
        return True
    return isinstance(error, DBAPIError) and (
        error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    )


def _record(row: Any) -> AuditRecord:
    values = {f.name: row[f.name] for f in fields(AuditRecord)}
    values["at"] = as_utc(values["at"])
    return AuditRecord(**values)


# Every live log is flushed at interpreter exit, so a normal shutdown loses no row.
_LIVE: weakref.WeakSet[AuditLog] = weakref.WeakSet()


def _flush_at_exit() -> None:
    for audit in list(_LIVE):
        try:
            audit.close()
        except Exception:
            log.exception("audit log: could not flush at exit")


def _forked_child() -> None:
    for audit in list(_LIVE):
        audit._forked()


atexit.register(_flush_at_exit)
os.register_at_fork(after_in_child=_forked_child)
