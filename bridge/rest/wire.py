"""The small seams between a Flask request and a service call: who is calling, under which
correlation id, and how a canonical object goes back out as JSON.

The caller is the client `bridge.rest.auth` authenticated and left in the environ under
`CLIENT_ID_KEY`; services scope transfers and keys by it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, request

from bridge.mapping import canonical_json
from bridge.observability.correlation import ENVIRON_KEY
from bridge.rest.fields import Selection, project
from bridge.rest.schemas import JSON
from bridge.security.access import CLIENT_ID_KEY

if TYPE_CHECKING:
    from bridge.components import Bridge

ANONYMOUS = "anonymous"
DOOR = "rest"


def bridge() -> Bridge:
    found: Bridge = current_app.extensions["bridge"]
    return found


def client_id() -> str:
    value: str = request.environ.get(CLIENT_ID_KEY) or ANONYMOUS
    return value


def correlation_id() -> str | None:
    value: str | None = request.environ.get(ENVIRON_KEY) or None
    return value


def canonical_response(
    message: Any,
    *,
    status: int = 200,
    fields: Selection | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """`message` (a canonical dataclass) as canonical JSON, cut to `fields` if asked."""
    if fields is not None:
        message = project(dataclasses.asdict(message), fields)
    return Response(
        canonical_json.dumps(message), status=status, headers=dict(headers or {}), mimetype=JSON
    )


def page_response(page: Any, items: str, fields: Selection | None) -> Response:
    """One page of a list (a canonical dataclass whose member `items` holds the page's items,
    beside `next_cursor`), each item cut to `fields` if asked: the envelope is always sent."""
    if fields is None:
        return canonical_response(page)
    envelope = dataclasses.asdict(page)
    envelope[items] = project(envelope[items], fields)
    return canonical_response(envelope)
