"""Each REST request's route template, left where the metrics and the audit log read it.

The metrics middleware and the audit middleware wrap every mounted app, Flask's among them, and
know nothing of Flask; the REST door tells them which route a request matched, so their labels
stay bounded ("POST /api/v1/transfers", never the raw path with its ids).
"""

from __future__ import annotations

from flask import Flask, request

from bridge.observability.metrics import ROUTE_KEY


def label_routes(app: Flask) -> Flask:
    """Leave each request's route ("POST /api/v1/transfers") in the environ under `ROUTE_KEY`:
    first of the app's before-request functions, so a request another one answers early (a
    refusal) is still labelled by its route."""

    def leave_route() -> None:
        rule = request.url_rule
        if rule is not None:
            request.environ[ROUTE_KEY] = f"{request.method} {rule.rule}"

    app.before_request_funcs.setdefault(None, []).insert(0, leave_route)
    return app
