"""Requests to the REST door through werkzeug's test client, and RFC 9457 problems read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from werkzeug.test import Client, TestResponse

DATA = Path(__file__).parents[1] / "data" / "rest"
PROBLEM = "application/problem+json"
PROBLEM_TYPES = "https://bridge.dev/problems/"


def load(name: str) -> dict[str, Any]:
    """A JSON file of tests/data/rest."""
    loaded: dict[str, Any] = json.loads((DATA / name).read_text("utf-8"))
    return loaded


def post_json(client: Client, url: str, body: Any, **headers: str) -> TestResponse:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def put_json(client: Client, url: str, body: Any, **headers: str) -> TestResponse:
    return client.put(url, data=json.dumps(body), content_type="application/json", headers=headers)


def assert_problem(response: TestResponse, status: int, kind: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem of this status and kind; its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem: dict[str, Any] = response.get_json(force=True)
    assert problem["type"] == PROBLEM_TYPES + kind
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    assert problem["correlation_id"] == response.headers["X-Request-ID"]
    return problem
