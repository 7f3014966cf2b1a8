"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: it can do its work)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bridge.rest.auth import open_access
from bridge.store.db import migration_state

health = Blueprint("health", __name__)


@health.get("/healthz")
@open_access
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@health.get("/readyz")
@open_access
def readyz() -> ResponseReturnValue:
    bridge = current_app.extensions["bridge"]
    checks: dict[str, Any] = {}
    try:
        with bridge.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = migration_state(bridge.engine)
        checks["database"] = "ok"
        checks["migrations"] = "ok" if current == head else f"at {current}, expected {head}"
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    checks["mappings"] = f"{len(bridge.mappings)} compiled"
    simulators = sorted(path for path in bridge.mounts if path.startswith("/sims/"))
    checks["simulators"] = simulators or "off"
    ready = checks.get("database") == "ok" and checks.get("migrations") == "ok"
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503
