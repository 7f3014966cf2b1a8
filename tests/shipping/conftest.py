"""Shipments over the real app (SQLite, real migrations): the service and REST door in process,
the partner door and the shipments job end to end on `live_bridge` with the simulators.

A partner is an organisation with a partner-tier API client; `AsPartner`
(tests/common/shipping.py) lets a test speak for one by name.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from werkzeug.test import Client

from bridge.app import Bridge, create_app
from bridge.services.shipping import ShippingService
from bridge.settings import Settings
from tests.common.shipping import AsPartner
from tests.credentials import authorized, grant


@pytest.fixture
def app_bridge(sqlite_url: str) -> Iterator[Bridge]:
    """The whole app without simulators: the REST and SOAP doors over a real database."""
    bridge = create_app(Settings(database_url=sqlite_url, simulators=False, scheduler=False))
    bridge.wsgi = AsPartner(bridge.wsgi, bridge.engine)
    yield bridge
    bridge.engine.dispose()


@pytest.fixture
def service(app_bridge: Bridge) -> ShippingService:
    return app_bridge.shipping


@pytest.fixture
def client(app_bridge: Bridge) -> Client:
    """Werkzeug's test client over the whole WSGI stack (correlation middleware included)."""
    return Client(authorized(app_bridge, grant(app_bridge.engine)))
