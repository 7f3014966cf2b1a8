"""Logs as one JSON object per line on stderr, each carrying the correlation id of its request.

The id lives in a context variable: `CorrelationMiddleware` sets it for the duration of a
request and `SyncEngine` while it delivers a batch (the first row's id), so code below them logs
it, and sends it upstream, without passing it along. A filter on the handler copies it into
every record; a record given `extra={"correlation_id": ...}` keeps its own.

Secrets never reach the output (DESIGN.md, pitfalls: spyne logs a whole raw request when its XML
is invalid): values under keys named like password, secret, token or authorization, the same
inside XML elements and `key=value` text, and IBANs, which keep their first four and last four
characters (`DE89…3000`): the masking itself is `bridge.domain.redaction`, shared with the
audit log.

`bridge serve` and the `bridge` commands call `configure_logging` once.
"""

from __future__ import annotations

import json
import logging
import sys
from contextlib import AbstractContextManager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from bridge.domain.redaction import MASK, redact, redact_text, secret_key
from bridge.observability.context import bound

CORRELATION_ID: ContextVar[str | None] = ContextVar("bridge_correlation_id", default=None)

# Fields this module writes itself; they are not redacted (the id must stay searchable).
_OWN = ("time", "level", "logger", "message", "correlation_id", "exception")
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_HANDLER_NAME = "bridge.json"


def current_correlation_id() -> str | None:
    """The correlation id of the request or sync batch this code runs for, if any."""
    return CORRELATION_ID.get()


def correlated(correlation_id: str | None) -> AbstractContextManager[None]:
    """Make `correlation_id` the current one until the block ends."""
    return bound(CORRELATION_ID, correlation_id)


class CorrelationFilter(logging.Filter):
    """Adds the current correlation id to a record that has none of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "correlation_id", None):
            record.correlation_id = CORRELATION_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (ISO-8601 UTC), level, logger, message, correlation_id
    when known, exception when present, then the record's `extra=` fields, secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        correlation_id = getattr(record, "correlation_id", None) or CORRELATION_ID.get()
        if correlation_id:
            entry["correlation_id"] = str(correlation_id)
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = redact_text(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact_text(self.formatStack(record.stack_info))
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in _OWN and not key.startswith("_"):
                entry[key] = MASK if secret_key(key) else redact(value)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler[Any]):
    """Writes to whatever `sys.stderr` is at the time (as logging's last-resort handler does),
    so a replaced stderr (a test runner's capture, click's runner) is followed, never kept."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        logging.Handler.__init__(self, level)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


# Libraries that talk at INFO about what the bridge reports itself (`bridge migrate` prints the
# revision; `bridge serve` the endpoints): their lines would bury a command's answer.
# spyne's registry warns "Overwriting application" each time a process builds its doors again
# (a gunicorn worker after the master, a test after another): nothing is overwritten that
# the bridge reads.
QUIET_LOGGERS = {
    "alembic.runtime.migration": logging.WARNING,
    # "Adding job tentatively", "Running job ...": the bridge logs its runs itself (job_runs).
    "apscheduler": logging.WARNING,
    "spyne.application": logging.WARNING,
    "spyne.util.appreg": logging.ERROR,
}


def configure_logging(level: str | int = "INFO") -> logging.Handler:
    """Send every log record, as JSON, to stderr at `level` and above.

    Idempotent: a second call replaces the level, never adds a second handler."""
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = _StderrHandler()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(CorrelationFilter())
        root.addHandler(handler)
    root.setLevel(level)
    return handler
