"""The Flask application of the REST facade: an OpenAPI (flask-openapi3) app.

    /healthz, /readyz                          liveness and readiness (not in the API document)
    /api/openapi.json                          OpenAPI 3.1, generated at start-up
    /api/docs                                  Swagger UI from local assets
    /api/v1/transfers[/{id}]                   transfers.py
    /api/v1/accounts/{account}/...             accounts.py
    /api/v1/classifications[/{id}]             classifications.py
    /api/v1/shipments[/{id}]                   shipments.py
    /api/v1/hr/...                             hr.py
    /api/v1/sync/jobs, /api/v1/sync/deliveries sync.py (operators)
    /api/v1/services/{name}/{operation}        services.py (imported services, one route each)
    /oauth/token                               oauth.py (RFC 6749 token endpoint)

Every route declares who may call it (`auth.py`): the app refuses to start if one does not.
Every error, from any route or none, leaves as application/problem+json (`problems.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_openapi3.models.info import Info
from flask_openapi3.openapi import OpenAPI

from bridge.domain.errors import ConfigurationError
from bridge.rest.accounts import accounts
from bridge.rest.audit import audit
from bridge.rest.auth import install, undeclared
from bridge.rest.classifications import classifications
from bridge.rest.clients import clients
from bridge.rest.health import health
from bridge.rest.hr import hr
from bridge.rest.idempotency import EXTENSION as IDEMPOTENCY
from bridge.rest.jsonlimits import JsonProvider, LimitedRequest
from bridge.rest.oauth import oauth
from bridge.rest.openapi import API_PREFIX, DOC_URL, publish, security_schemes
from bridge.rest.params import StoredInteger
from bridge.rest.problems import Problem, invalid_parameters, problem
from bridge.rest.services import document, services_blueprint
from bridge.rest.shipments import shipments
from bridge.rest.sync import sync
from bridge.rest.transfers import transfers
from bridge.store.idempotency import IdempotencyStore

if TYPE_CHECKING:
    from bridge.components import Bridge

API_VERSION = "1.0.0"


def create_rest_app(bridge: Bridge) -> OpenAPI:
    app = OpenAPI(
        "bridge",
        info=Info(
            title="Bridge",
            version=API_VERSION,
            description="Transfers, account checks and statements, in the canonical JSON model. "
            "Errors are RFC 9457 problem details.",
        ),
        security_schemes=security_schemes(bridge.security.scopes.described),
        doc_prefix=API_PREFIX,
        doc_url=DOC_URL,
        validation_error_status=400,
        validation_error_model=Problem,
        validation_error_callback=invalid_parameters,
    )
    # Bodies and their JSON within the input limits (settings; README, "Input limits").
    app.config["MAX_CONTENT_LENGTH"] = bridge.settings.rest_max_body_bytes
    app.request_class = LimitedRequest
    app.json = JsonProvider(app, max_depth=bridge.settings.json_max_depth)
    app.extensions["bridge"] = bridge
    app.extensions[IDEMPOTENCY] = IdempotencyStore(bridge.engine)
    app.json.sort_keys = False
    app.url_map.converters["int"] = StoredInteger  # before any route is added
    app.register_blueprint(health)
    app.register_api(transfers)
    app.register_api(accounts)
    app.register_api(classifications)
    app.register_api(shipments)
    app.register_api(hr)
    app.register_api(sync)
    app.register_api(audit)
    app.register_api(clients)
    app.register_api(oauth)
    app.register_blueprint(services_blueprint(bridge.imported, bridge.security.scopes))
    app.register_error_handler(Exception, problem)
    closed = undeclared(app)
    if closed:
        raise ConfigurationError(f"REST routes without an access declaration: {closed}")
    install(app, bridge.security)
    publish(app, paths=document(bridge.imported))
    return app
