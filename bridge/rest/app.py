"""The Flask application of the REST facade."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from bridge.rest.health import health

if TYPE_CHECKING:
    from bridge.app import Bridge


def create_rest_app(bridge: Bridge) -> Flask:
    app = Flask("bridge")
    app.extensions["bridge"] = bridge
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.register_blueprint(health)
    return app
