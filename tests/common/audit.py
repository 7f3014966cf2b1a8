"""Audit records as tests write them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from bridge.store.audit import AuditRecord


def entry(client_id: str, **fields: Any) -> AuditRecord:
    """A plausible REST call record; `fields` override any of it."""
    values: dict[str, Any] = {
        "at": datetime.now(UTC),
        "client_id": client_id,
        "tier": "partner",
        "interface": "rest",
        "operation": "POST /api/v1/transfers",
        "outcome": "ok",
        "status": "201",
        "latency_ms": 12.5,
        "source": "192.0.2.7",
        "correlation_id": uuid.uuid4().hex,
    }
    values.update(fields)
    return AuditRecord(**values)
