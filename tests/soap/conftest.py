"""The SOAP door in process: werkzeug's test client over the gateway, with a `FakeCoreBank`
behind the real `BankingService` and a SQLite store; end-to-end tests (test_e2e.py) use the whole
bridge on a loopback port with the simulators, and zeep. Helpers: tests/common/soap.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from bridge.mapping import Mappings
from bridge.observability.correlation import CorrelationMiddleware
from bridge.security import build_security
from bridge.services.banking import BankingService
from bridge.settings import Settings
from bridge.soap import create_banking_soap
from bridge.store.db import make_engine, migrate
from bridge.store.transfers import TransferStore
from tests.common.soap import RETRIES, URL, Door, door_corebank
from tests.credentials import authorized, grant


@pytest.fixture
def door(tmp_path: Path, mappings: Mappings) -> Iterator[Door]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bridge.db'}")
    migrate(engine)
    corebank = door_corebank()
    banking = BankingService(
        TransferStore(engine),
        corebank,
        mappings.currencies,
        retry=RETRIES,
    )
    settings = Settings(host="127.0.0.1", port=8080, simulators=False, scheduler=False)
    # What the door takes from the bridge; the rest of `Bridge` is other doors' business.
    bridge = SimpleNamespace(
        settings=settings,
        mappings=mappings,
        banking=banking,
        security=build_security(settings, engine),
    )
    gateway = create_banking_soap(bridge, max_body_bytes=64 * 1024)
    credentials = grant(engine, tier="partner", organisation="bank-a")
    app = authorized(
        CorrelationMiddleware(DispatcherMiddleware(NotFound(), {URL: gateway})), credentials
    )
    yield Door(Client(app), corebank, gateway, app, engine, credentials)
    engine.dispose()
