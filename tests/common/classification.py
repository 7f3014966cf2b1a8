"""Documents to classify as tests send them (tests/data/classification), and the service's
threshold and retry rule as the tests set them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge.domain.classification import ClassificationRequest
from bridge.mapping import canonical_json
from bridge.services.retry import RetryPolicy

DATA = Path(__file__).parents[1] / "data" / "classification"
THRESHOLD = Decimal("0.75")
# The retry rule without the waiting: tests need the rule, not the pauses.
NO_WAIT = RetryPolicy(attempts=2, initial_wait=0, max_wait=0)


def documents() -> list[dict[str, Any]]:
    """The English, German and Vietnamese documents with what the simulator answers for each."""
    loaded: list[dict[str, Any]] = json.loads((DATA / "documents.json").read_text("utf-8"))
    return loaded


def case(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "cases.json").read_text("utf-8"))[name]
    return loaded


def request_of(body: dict[str, Any]) -> ClassificationRequest:
    return canonical_json.loads(ClassificationRequest, json.dumps(body))
