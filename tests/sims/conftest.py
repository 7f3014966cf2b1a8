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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from sqlalchemy import Engine
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server
from zeep.transports import Transport

from bridge.mapping.schemas import contract_schema
from bridge.sims import SimControl, controls, create_simulators, reset_simulators
from bridge.store.db import make_engine, migrate

ROOT = Path(__file__).resolve().parents[2]
WSDL_DIR = ROOT / "wsdl" / "upstream"
NS_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NAMES = ("corebank", "payroll", "logistics", "classifier")
BINDINGS = {
    "corebank": "{urn:corebank:payments:v1}CoreBankBinding",
    "payroll": "{urn:payroll:v1}PayrollBinding",
    "logistics": "{urn:logistics:booking:v1}LogisticsBinding",
    "classifier": "{urn:classifier:v1}ClassifierBinding",
}
MONDAY = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
HARDENED = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True)


class FixedClock:
    """The simulators' clock: fixed, so estimated deliveries are predictable."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class ContractCheck(zeep.Plugin):
    """Fails a call whose answer (other than a fault) is not valid against the contract."""

    def __init__(self, name: str) -> None:
        self.schema = contract_schema(name)

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        body = envelope.find(f"{{{NS_ENV}}}Body")
        answer = body[0]
        if answer.tag != f"{{{NS_ENV}}}Fault":
            self.schema.assertValid(answer)
        return envelope, http_headers


@dataclass(frozen=True)
class SimServer:
    base_url: str
    engine: Engine
    clock: FixedClock
    controls: dict[str, SimControl]

    def url(self, name: str) -> str:
        return f"{self.base_url}/sims/{name}"

    def client(self, name: str, *, operation_timeout: float = 5.0) -> zeep.Client:
        """A zeep client that loads the simulator's WSDL from the running server."""
        transport = Transport(timeout=5, operation_timeout=operation_timeout)
        return zeep.Client(
            f"{self.url(name)}?wsdl",
            settings=HARDENED,
            transport=transport,
            plugins=[ContractCheck(name)],
        )

    def checked_in_client(self, name: str) -> Any:
        """A service proxy from the checked-in WSDL file, pointed at the simulator."""
        client = zeep.Client(
            str(WSDL_DIR / f"{name}.wsdl"),
            settings=HARDENED,
            transport=Transport(timeout=5, operation_timeout=5),
            plugins=[ContractCheck(name)],
        )
        return client.create_service(BINDINGS[name], self.url(name))

    def post_document(self, name: str, document: etree._Element) -> requests.Response:
        """POST one request element, wrapped in a SOAP 1.1 envelope, without zeep."""
        envelope = etree.Element(f"{{{NS_ENV}}}Envelope", nsmap={"soap": NS_ENV})
        etree.SubElement(envelope, f"{{{NS_ENV}}}Body").append(document)
        payload = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
        return self.post_raw(name, payload, etree.QName(document).localname)

    def post_raw(self, name: str, payload: bytes, action: str = "") -> requests.Response:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}
        return requests.post(self.url(name), data=payload, headers=headers, timeout=5)


@pytest.fixture(scope="session")
def sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    # BRIDGE_TEST_POSTGRES_URL runs the simulators on that PostgreSQL database instead.
    url = os.environ.get("BRIDGE_TEST_POSTGRES_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('sims') / 'bridge.db'}"
    )
    engine = make_engine(url)
    migrate(engine)
    clock = FixedClock(MONDAY)
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
