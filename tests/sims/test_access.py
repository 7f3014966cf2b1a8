"""Who reaches the simulators a bridge runs: its own upstream clients on the process's simulator
server (with the process's secret), admins on the public mount. Refusals of the public mount
over a served bridge are in tests/test_serve.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.test import Client

from bridge.app import Bridge, create_app
from bridge.settings import Settings
from bridge.sims.gate import SECRET_HEADER
from bridge.sims.server import SimulatorServer
from tests.credentials import grant, simulator_admin

PAYROLL = "https://payroll.example/soap"


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    built = create_app(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'bridge.db'}",
            scheduler=False,
            payroll_url=PAYROLL,
            rate_limit_plans={"standard": "100/minute", "tiny": "1/minute"},
        )
    )
    yield built
    built.close()


def server_of(bridge: Bridge) -> SimulatorServer:
    server = bridge.upstreams.simulators
    assert server is not None, "a bridge on a loopback host runs its simulators"
    return server


def test_the_simulator_server_listens_on_loopback_only(bridge: Bridge) -> None:
    assert urlsplit(server_of(bridge).url).hostname == "127.0.0.1"


def test_the_simulator_server_refuses_a_request_without_the_process_secret(
    bridge: Bridge,
) -> None:
    server = server_of(bridge)
    wsdl = f"{server.address('corebank')}?wsdl"

    without = requests.get(wsdl, timeout=10)
    guessed = requests.get(wsdl, headers={SECRET_HEADER: "guess"}, timeout=10)
    admin = requests.get(wsdl, headers=simulator_admin(bridge.engine).headers, timeout=10)
    own = requests.get(wsdl, headers=server.headers, timeout=10)

    assert [r.status_code for r in (without, guessed, admin)] == [403, 403, 403]
    assert own.status_code == 200
    assert b"PostPayment" in own.content


def test_upstream_clients_send_the_secret_to_the_simulator_server_and_nowhere_else(
    bridge: Bridge,
) -> None:
    server = server_of(bridge)

    assert bridge.upstreams.address("corebank") == server.address("corebank")
    assert bridge.upstreams.http("corebank").headers[SECRET_HEADER] == server.secret
    assert bridge.upstreams.address("payroll") == PAYROLL
    assert SECRET_HEADER not in bridge.upstreams.http("payroll").headers


def test_every_process_draws_its_own_secret() -> None:
    first, second = SimulatorServer({}), SimulatorServer({})
    try:
        assert first.secret != second.secret
        assert first.secret not in repr(first)
    finally:
        first.close()
        second.close()


def test_the_simulator_server_stops_with_the_bridge(tmp_path: Path) -> None:
    built = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'b.db'}", scheduler=False))
    server = server_of(built)
    built.close()

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.address('corebank')}?wsdl", headers=server.headers, timeout=5)


def test_an_admin_over_the_rate_limit_of_its_plan_is_told_when_to_come_back(
    bridge: Bridge,
) -> None:
    admin = grant(bridge.engine, scopes={"simulators:admin"}, plan="tiny")
    client = Client(bridge)

    first = client.get("/sims/corebank/_control/faults", headers=admin.headers)
    second = client.get("/sims/corebank/_control/faults", headers=admin.headers)

    assert first.status_code == 200
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) > 0
