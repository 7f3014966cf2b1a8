"""The live bridge with a hostile proxy (tests/hostile_network.py) before each upstream simulator.

One network per test session and database: the bridge on a loopback port (simulators not mounted),
the four simulators on a port of their own, and between them one `HostileProxy` per upstream.
Upstream calls time out after `UPSTREAM_TIMEOUT` seconds. Each test starts with every proxy
behaving and every circuit closed, and uses keys of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.common.network import Network, hostile_network


@pytest.fixture(scope="session")
def sqlite_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    path: Path = tmp_path_factory.mktemp("hostile") / "bridge.db"
    with hostile_network(f"sqlite:///{path}") as network:
        yield network


@pytest.fixture
def network(sqlite_network: Network) -> Iterator[Network]:
    yield from _fresh(sqlite_network)


def _fresh(network: Network) -> Iterator[Network]:
    network.behave()
    for breaker in network.live.bridge.sync.breakers.values():
        breaker.close()
    yield network
    network.behave()


@pytest.fixture(scope="session")
def postgresql_network(postgres_url: str) -> Iterator[Network]:
    with hostile_network(postgres_url) as network:
        yield network


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def banking_network(request: pytest.FixtureRequest) -> Iterator[Network]:
    """The network on SQLite, and again on PostgreSQL."""
    yield from _fresh(request.getfixturevalue(f"{request.param}_network"))
