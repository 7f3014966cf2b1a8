"""Rate limits in Redis: one budget shared by separate processes, keys under the configured
prefix, and what happens when Redis does not answer (the limiter fails open)."""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from prometheus_client import REGISTRY

from bridge.domain.errors import RateLimited
from bridge.observability.metrics import RATE_LIMIT_UNCHECKED
from bridge.security.ratelimit import RateLimiter
from tests.common.live import free_port

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
PLANS = {"standard": "100/minute", "burst": "20/minute", "tiny": "3/minute"}

# One node of the bridge, reduced to its limiter: it connects, says "ready", waits for the start
# signal on stdin, spends `calls` calls of `client`'s "burst" budget and reports what it got.
NODE = """
import json, sys
from bridge.domain.errors import RateLimited
from bridge.security.ratelimit import RateLimiter
from bridge.settings import Settings

url, prefix, client, calls = sys.argv[1:5]
plans = {"standard": "100/minute", "burst": "20/minute"}
settings = Settings(redis_url=url, rate_limit_prefix=prefix, rate_limit_plans=plans)
limiter = RateLimiter.from_settings(settings)
limiter.hit("connect-" + client, "standard")
print("ready", flush=True)
sys.stdin.readline()
served, refused = [], 0
for _ in range(int(calls)):
    try:
        served.append(limiter.hit(client, "burst").remaining)
    except RateLimited:
        refused += 1
print(json.dumps({"served": served, "refused": refused}), flush=True)
"""


def _unchecked() -> float:
    return REGISTRY.get_sample_value("bridge_rate_limit_unchecked_total") or 0.0


@pytest.fixture
def limiter(redis_url: str, redis_prefix: str) -> Iterator[RateLimiter]:
    limiter = RateLimiter(PLANS, redis_url, key_prefix=redis_prefix)
    yield limiter
    limiter.close()


def test_two_processes_share_one_budget_exactly(redis_url: str, redis_prefix: str) -> None:
    with contextlib.ExitStack() as stack:
        nodes = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", NODE, redis_url, redis_prefix, "cl_shared", "15"],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
            for _ in range(2)
        ]
        for node in nodes:
            stack.callback(node.kill)  # runs first on the way out; a no-op once it exited
            assert node.stdout is not None
            assert node.stdout.readline().strip() == "ready"
        for node in nodes:  # both connected: start them together
            assert node.stdin is not None
            node.stdin.write("go\n")
            node.stdin.flush()
        reports = [json.loads(node.communicate(timeout=60)[0]) for node in nodes]

    served = [remaining for report in reports for remaining in report["served"]]
    # 30 calls on a budget of 20: each of the 20 served calls got its own place in the count.
    assert sorted(served) == list(range(20))
    assert sum(report["refused"] for report in reports) == 10
    assert all(report["served"] for report in reports), "both processes spent from the budget"


def test_keys_live_under_the_prefix_and_expire_with_the_window(
    limiter: RateLimiter, redis_url: str, redis_prefix: str
) -> None:
    limiter.hit("cl_a", "tiny")

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{redis_prefix}:*"))
        assert len(keys) == 1
        assert b"cl_a" in keys[0]
        assert 0 < client.ttl(keys[0]) <= 60
    finally:
        client.close()


def test_two_limiters_on_one_redis_spend_one_budget(
    limiter: RateLimiter, redis_url: str, redis_prefix: str
) -> None:
    other = RateLimiter(PLANS, redis_url, key_prefix=redis_prefix)
    try:
        limiter.hit("cl_a", "tiny")
        other.hit("cl_a", "tiny")
        limiter.hit("cl_a", "tiny")

        with pytest.raises(RateLimited) as refused:
            other.hit("cl_a", "tiny")
    finally:
        other.close()

    assert refused.value.limit == 3
    assert 1 <= refused.value.retry_after <= 60


def test_another_prefix_is_another_budget(
    limiter: RateLimiter, redis_url: str, redis_prefix: str
) -> None:
    for _ in range(3):
        limiter.hit("cl_a", "tiny")
    other = RateLimiter(PLANS, redis_url, key_prefix=f"{redis_prefix}-other")
    try:
        quota = other.hit("cl_a", "tiny")
    finally:
        other.close()

    assert quota is not None
    assert quota.remaining == 2


# --- Redis down: fail open ---------------------------------------------------------------------


def test_unreachable_redis_lets_calls_through_counts_them_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RateLimiter(
        PLANS, f"redis://127.0.0.1:{free_port()}/0", on_unchecked=RATE_LIMIT_UNCHECKED.inc
    )
    before = _unchecked()
    try:
        with caplog.at_level(logging.WARNING, logger="bridge.security.ratelimit"):
            answers = [limiter.hit("cl_a", "tiny") for _ in range(5)]
    finally:
        limiter.close()

    assert answers == [None] * 5, "more calls than the plan allows, none refused"
    assert _unchecked() - before == 5
    warnings = [r.getMessage() for r in caplog.records if "not enforced" in r.getMessage()]
    assert len(warnings) == 1, "one warning, then Redis is left alone for a while"


class _Relay(socketserver.ThreadingTCPServer):
    """A TCP relay to Redis that a test can cut (`down`) and restore (`up`) on the same port."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.target = target
        self.live: set[socket.socket] = set()
        super().__init__(("127.0.0.1", port), _Pipe)


class _Pipe(socketserver.BaseRequestHandler):
    server: _Relay

    def handle(self) -> None:
        upstream = socket.create_connection(self.server.target)
        self.server.live |= {self.request, upstream}
        peer = {self.request: upstream, upstream: self.request}
        with selectors.DefaultSelector() as selector:
            for end in peer:
                selector.register(end, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select():
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                        if not data:
                            return
                        peer[key.fileobj].sendall(data)  # type: ignore[index]
            except OSError:
                return
            finally:
                upstream.close()


class Outage:
    def __init__(self, redis_url: str) -> None:
        parts = urlsplit(redis_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}{parts.path}"
        self._relay: _Relay | None = None
        self._thread: threading.Thread | None = None

    def up(self) -> None:
        self._relay = _Relay(self.port, self.target)
        self._thread = threading.Thread(target=self._relay.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        relay, thread = self._relay, self._thread
        if relay is None or thread is None:
            return
        relay.shutdown()
        for end in list(relay.live):
            with contextlib.suppress(OSError):  # already closed by its other end
                end.shutdown(socket.SHUT_RDWR)
        relay.server_close()
        thread.join(timeout=10)
        self._relay = self._thread = None


@pytest.fixture
def outage(redis_url: str) -> Iterator[Outage]:
    outage = Outage(redis_url)
    outage.up()
    yield outage
    outage.down()


def test_limits_apply_again_when_redis_answers_again_with_the_count_kept(
    outage: Outage, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RateLimiter(PLANS, outage.url, key_prefix=redis_prefix, pause=0)
    try:
        served = [limiter.hit("cl_a", "tiny") for _ in range(2)]
        outage.down()
        with caplog.at_level(logging.WARNING, logger="bridge.security.ratelimit"):
            during = limiter.hit("cl_a", "tiny")
            outage.up()
            after = limiter.hit("cl_a", "tiny")
        with pytest.raises(RateLimited):
            limiter.hit("cl_a", "tiny")
    finally:
        limiter.close()

    assert [q.remaining for q in served if q] == [2, 1]
    assert during is None, "let through while Redis was away"
    assert after is not None
    assert after.remaining == 0, "the third counted call of the window"
    messages = [r.getMessage() for r in caplog.records]
    assert any("not enforced" in m for m in messages)
    assert any("enforced again" in m for m in messages)
