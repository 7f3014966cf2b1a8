"""One real HTTP server for the simulator tests: werkzeug's threaded server on 127.0.0.1, port 0,
the four simulators mounted under /sims on a temporary SQLite database migrated with Alembic
(or on the PostgreSQL database named by BRIDGE_TEST_POSTGRES_URL, when set).

Every test starts from the seed (`reset_simulators` runs before each one) and at a fixed clock:
Monday 2 June 2025, 09:00 UTC. zeep clients load each simulator's WSDL from the server with
hardened settings, and a plugin checks every answer against the checked-in contract's schema.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import zeep
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server

from bridge.sims import SimControl, controls, create_simulators, reset_simulators
from bridge.store.db import make_engine, migrate
from tests.common.clock import Clock
from tests.common.sims import MONDAY, NAMES, SimServer


@pytest.fixture(scope="session")
def sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    # BRIDGE_TEST_POSTGRES_URL runs the simulators on that PostgreSQL database instead.
    url = os.environ.get("BRIDGE_TEST_POSTGRES_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('sims') / 'bridge.db'}"
    )
    engine = make_engine(url)
    migrate(engine)
    clock = Clock(MONDAY)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, NotFound(), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    server.app = DispatcherMiddleware(NotFound(), create_simulators(engine, base_url, clock=clock))
    thread = threading.Thread(target=server.serve_forever, name="sims", daemon=True)
    thread.start()
    yield SimServer(base_url, engine, clock, controls(engine, clock=clock))
    server.shutdown()
    server.server_close()
    engine.dispose()


@pytest.fixture(autouse=True)
def fresh_simulators(sim_server: SimServer) -> None:
    reset_simulators(sim_server.engine)
    sim_server.clock.now = MONDAY


@pytest.fixture(scope="session")
def clients(sim_server: SimServer) -> dict[str, zeep.Client]:
    return {name: sim_server.client(name) for name in NAMES}


@pytest.fixture
def corebank(clients: dict[str, zeep.Client]) -> Any:
    return clients["corebank"].service


@pytest.fixture
def payroll(clients: dict[str, zeep.Client]) -> Any:
    return clients["payroll"].service


@pytest.fixture
def logistics(clients: dict[str, zeep.Client]) -> Any:
    return clients["logistics"].service


@pytest.fixture
def classifier(clients: dict[str, zeep.Client]) -> Any:
    return clients["classifier"].service


@pytest.fixture
def control(sim_server: SimServer) -> Callable[[str], SimControl]:
    return sim_server.controls.__getitem__
