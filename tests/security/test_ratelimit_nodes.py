"""Two real `bridge serve` nodes on one PostgreSQL and one Redis: a client's burst, split across
both nodes and both doors, gets exactly its plan's calls and 429s after that."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from lxml import etree
from sqlalchemy import Engine

from bridge.store.db import make_engine, migrate
from tests.common.live import free_port
from tests.credentials import Credentials, grant

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

SAMPLE = Path(__file__).parents[1] / "data" / "samples" / "banking"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PLANS = {"standard": "100/minute", "internal": "unlimited", "tiny": "5/minute"}


def _start(env: dict[str, str], workdir: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("bridge")), "serve"],
        cwd=workdir,
        env={**env, "BRIDGE_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(f"{base}/healthz", timeout=1).ok:
                return process, base
        time.sleep(0.2)
    process.kill()
    pytest.fail("bridge serve did not answer /healthz within 60 s")


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def nodes(
    postgres_url: str, redis_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """The base URLs of two nodes sharing the database, the signing keys and the Redis budget.
    Each test spends the budget of a client of its own."""
    tmp_path = tmp_path_factory.mktemp("nodes")
    redis_prefix = f"bridge-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "BRIDGE_DATABASE_URL": postgres_url,
        "BRIDGE_REDIS_URL": redis_url,
        "BRIDGE_RATE_LIMIT_PREFIX": redis_prefix,
        "BRIDGE_RATE_LIMIT_PLANS": json.dumps(PLANS),
        "BRIDGE_TOKEN_KEYS_DIR": str(tmp_path / "keys"),
        "BRIDGE_SCHEDULER": "false",
        "BRIDGE_WORKERS": "1",
    }
    started: list[subprocess.Popen[str]] = []
    try:
        bases = []
        for _ in range(2):  # one after the other: the first makes the signing key
            process, base = _start(env, tmp_path)
            started.append(process)
            bases.append(base)
        yield bases
    finally:
        for process in started:
            _stop(process)
        store = redis.Redis.from_url(redis_url)
        try:
            keys = list(store.scan_iter(match=f"{redis_prefix}*"))
            if keys:
                store.delete(*keys)
        finally:
            store.close()


@pytest.fixture
def tiny(engine: Engine) -> Credentials:
    return grant(engine, tier="private", plan="tiny")


def _verify_account(base: str, credentials: Credentials) -> requests.Response:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    body.append(etree.parse(SAMPLE / "account_verification_request__iban.xml").getroot())
    return requests.post(
        f"{base}/soap/banking",
        data=etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"VerifyAccount"',
            **credentials.headers,
        },
        timeout=15,
    )


def test_a_burst_over_two_nodes_gets_exactly_the_plan_then_429s(
    nodes: list[str], tiny: Credentials
) -> None:
    answers = [
        requests.get(f"{nodes[i % 2]}/api/v1/sync/jobs", headers=tiny.headers, timeout=15)
        for i in range(12)
    ]

    served = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(served) == 5, [a.status_code for a in answers]
    assert len(refused) == 7
    assert {a.url.split("/api/")[0] for a in served} == set(nodes), "both nodes served"
    assert sorted(int(a.headers["RateLimit-Remaining"]) for a in served) == [0, 1, 2, 3, 4]
    for answer in served:
        assert answer.headers["RateLimit-Policy"] == '"tiny";q=5;w=60'
    for answer in refused:
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        assert answer.json()["type"].endswith("rate-limited")
        retry = answer.headers["Retry-After"]
        assert 1 <= int(retry) <= 60
        assert answer.headers["RateLimit-Remaining"] == "0"
        assert answer.headers["RateLimit"] == f'"tiny";r=0;t={retry}'


def test_soap_over_the_limit_is_a_client_fault_with_http_429(
    nodes: list[str], tiny: Credentials
) -> None:
    for i in range(5):
        assert _verify_account(nodes[i % 2], tiny).status_code == 200

    refused = _verify_account(nodes[1], tiny)

    assert refused.status_code == 429, refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    fault = etree.fromstring(refused.content).find(f".//{{{SOAP_ENV}}}Fault")
    assert fault is not None
    assert (fault.findtext("faultcode") or "").endswith("Client")
