"""The live bridge with a hostile proxy (tests/hostile_network.py) before each upstream simulator.

The bridge on a loopback port (simulators not mounted), the four simulators on a port of their
own, and between them one `HostileProxy` per upstream. Upstream calls time out after
`UPSTREAM_TIMEOUT` seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bridge.settings import UPSTREAMS
from bridge.sims import SimControl, controls
from bridge.store.tables import outbox
from tests.common.live import LiveBridge, serve_bridge
from tests.hostile_network import HostileProxy, serve_simulators

UPSTREAM_TIMEOUT = 0.5


@dataclass
class Network:
    live: LiveBridge
    proxies: dict[str, HostileProxy]

    @property
    def url(self) -> str:
        return self.live.url

    def sim(self, name: str) -> SimControl:
        return controls(self.live.bridge.engine)[name]

    def behave(self) -> None:
        for proxy in self.proxies.values():
            proxy.behave()

    def outbox_row(self, topic: str, key: str) -> dict[str, Any]:
        with self.live.bridge.engine.connect() as connection:
            row = connection.execute(
                select(outbox).where(outbox.c.topic == topic, outbox.c.key == key)
            ).one()
        return dict(row._mapping)

    def make_due(self, topic: str) -> None:
        """Pretend the backoff of the topic's waiting rows has passed."""
        with self.live.bridge.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(outbox.c.topic == topic)
                .values(available_at=datetime.now(UTC) - timedelta(seconds=1))
            )


@contextmanager
def hostile_network(database_url: str) -> Iterator[Network]:
    with ExitStack() as stack:
        proxies = {
            name: stack.enter_context(HostileProxy(client_timeout=UPSTREAM_TIMEOUT))
            for name in UPSTREAMS
        }
        urls: dict[str, Any] = {f"{name}_url": proxy.url for name, proxy in proxies.items()}
        live = stack.enter_context(
            serve_bridge(
                database_url=database_url,
                simulators=False,
                upstream_timeout=UPSTREAM_TIMEOUT,
                **urls,
            )
        )
        sims = stack.enter_context(serve_simulators(live.bridge.engine))
        for name, proxy in proxies.items():
            proxy.target = f"{sims}/sims/{name}"
        yield Network(live, proxies)
