"""Guessing credentials is throttled: after too many refused ones per client id or per source,
the token endpoint and both doors answer 429 with Retry-After without checking anything, so a
right guess during the lock-out gets nowhere; after the window it works again."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from prometheus_client import REGISTRY
from werkzeug.test import Client, TestResponse
from zeep.wsse.username import UsernameToken

from bridge.app import Bridge, create_app
from bridge.security.throttle import AuthThrottle, TooManyFailures
from bridge.settings import Settings
from tests.common.live import free_port
from tests.credentials import Credentials, grant

SOAP_REQUESTS = Path(__file__).parents[1] / "data" / "soap" / "requests"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TOKEN = "/oauth/token"
SHIPMENTS = "/api/v1/shipments"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def _token(http: Client, client_id: str, secret: str, source: str = "10.0.0.1") -> TestResponse:
    return http.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers=_basic(client_id, secret),
        environ_base={"REMOTE_ADDR": source},
    )


def _unchecked() -> float:
    return REGISTRY.get_sample_value("bridge_auth_throttle_unchecked_total") or 0.0


def _bridge(sqlite_url: str, tmp_path: Path, **settings: Any) -> Bridge:
    return create_app(
        Settings(
            database_url=sqlite_url,
            token_keys_dir=tmp_path / "keys",
            simulators=False,
            scheduler=False,
            **settings,
        )
    )


@pytest.fixture
def bridge(sqlite_url: str, tmp_path: Path) -> Iterator[Bridge]:
    """A bridge whose limits a test reaches quickly: 3 per client id, 5 per source."""
    app = _bridge(sqlite_url, tmp_path, auth_failure_limit=3, auth_failure_source_limit=5)
    yield app
    app.close()


@pytest.fixture
def http(bridge: Bridge) -> Client:
    return Client(bridge)


@pytest.fixture
def bank(bridge: Bridge) -> Credentials:
    return grant(bridge.engine, tier="partner", organisation="bank-a")


# -- the throttle itself --------------------------------------------------------------------------


def test_a_client_id_is_locked_out_after_its_limit_with_the_time_left() -> None:
    throttle = AuthThrottle(client_limit=2, source_limit=100, window=60)
    for _ in range(2):
        throttle.check("10.0.0.1", "cl_a")
        throttle.failed("10.0.0.1", "cl_a")

    with pytest.raises(TooManyFailures) as refused:
        throttle.check("10.0.0.2", "cl_a")

    assert 1 <= refused.value.retry_after <= 60
    assert refused.value.limit == 2
    throttle.check("10.0.0.2", "cl_b")  # another client from another source: not locked


def test_a_source_is_locked_out_whichever_client_ids_it_tries() -> None:
    throttle = AuthThrottle(client_limit=100, source_limit=3, window=60)
    for n in range(3):
        throttle.failed("10.0.0.1", f"cl_{n}")

    with pytest.raises(TooManyFailures):
        throttle.check("10.0.0.1", "cl_never_tried")
    throttle.check("10.0.0.2", "cl_never_tried")


def test_unreachable_redis_lets_attempts_through_counts_them_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    skipped: list[int] = []
    throttle = AuthThrottle(
        client_limit=1,
        source_limit=1,
        storage_url=f"redis://127.0.0.1:{free_port()}/0",
        on_unchecked=lambda: skipped.append(1),
    )
    try:
        with caplog.at_level(logging.WARNING, logger="bridge.security.ratelimit"):
            for _ in range(3):
                throttle.failed("10.0.0.1", "cl_a")
                throttle.check("10.0.0.1", "cl_a")  # not refused: fails open
    finally:
        throttle.close()

    assert len(skipped) == 6
    warnings = [r.getMessage() for r in caplog.records if "not enforced" in r.getMessage()]
    assert warnings == [warnings[0]]
    assert warnings[0].startswith("authentication throttling not enforced")


# -- the token endpoint ---------------------------------------------------------------------------


def test_wrong_secrets_get_429_after_the_limit_and_then_the_right_one_too(
    http: Client, bank: Credentials
) -> None:
    client_id = bank.client.id
    answers = [_token(http, client_id, f"guess-{n}") for n in range(30)]

    assert [a.status_code for a in answers] == [401] * 3 + [429] * 27
    refused = answers[-1]
    assert refused.get_json()["error"] == "temporarily_unavailable"
    assert refused.headers["Cache-Control"] == "no-store"
    assert 1 <= int(refused.headers["Retry-After"]) <= 300
    during = _token(http, client_id, bank.secret, source="10.0.0.9")
    assert during.status_code == 429, "the right secret is not even checked during the lock-out"


def test_the_right_secret_works_again_once_the_window_is_over(
    sqlite_url: str, tmp_path: Path
) -> None:
    app = _bridge(sqlite_url, tmp_path, auth_failure_limit=3, auth_failure_lockout=2)
    try:
        http = Client(app)
        bank = grant(app.engine, tier="partner")
        for n in range(3):
            assert _token(http, bank.client.id, f"guess-{n}").status_code == 401
        during = _token(http, bank.client.id, bank.secret)
        assert during.status_code == 429
        assert 1 <= int(during.headers["Retry-After"]) <= 2

        time.sleep(int(during.headers["Retry-After"]) + 0.1)
        after = _token(http, bank.client.id, bank.secret)
    finally:
        app.close()

    assert after.status_code == 200, after.get_data(as_text=True)
    assert after.get_json()["access_token"]


def test_a_source_is_locked_out_across_client_ids(http: Client, bank: Credentials) -> None:
    for n in range(5):
        assert _token(http, f"cl_unknown{n}", "guess").status_code == 401

    assert _token(http, bank.client.id, bank.secret).status_code == 429
    assert _token(http, bank.client.id, bank.secret, source="10.0.0.2").status_code == 200


def test_a_success_does_not_reset_the_count_of_the_source(
    http: Client, bridge: Bridge, bank: Credentials
) -> None:
    other = grant(bridge.engine, tier="partner", organisation="bank-b")
    for n in range(2):
        assert _token(http, f"cl_unknown{n}", "guess").status_code == 401
    assert _token(http, other.client.id, other.secret).status_code == 200
    for n in range(2, 5):
        assert _token(http, f"cl_unknown{n}", "guess").status_code == 401

    assert _token(http, bank.client.id, bank.secret).status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_source(
    sqlite_url: str, tmp_path: Path
) -> None:
    app = _bridge(sqlite_url, tmp_path, trusted_proxies=1, auth_failure_source_limit=2)
    try:
        http = Client(app)
        bank = grant(app.engine, tier="partner")

        def from_(address: str, secret: str) -> int:
            return http.post(
                TOKEN,
                data={"grant_type": "client_credentials"},
                headers={**_basic(bank.client.id, secret), "X-Forwarded-For": address},
            ).status_code

        assert [from_("203.0.113.7", "guess") for _ in range(2)] == [401, 401]
        assert from_("203.0.113.7", bank.secret) == 429
        assert from_("203.0.113.8", bank.secret) == 200, "the proxy's own address is not locked"
    finally:
        app.close()


# -- the REST door --------------------------------------------------------------------------------


def test_bad_api_keys_lock_out_their_source_even_for_a_good_key(
    http: Client, bank: Credentials
) -> None:
    before = REGISTRY.get_sample_value("bridge_auth_throttled_total", {"door": "rest"}) or 0.0
    bad = [http.get(SHIPMENTS, headers={"X-API-Key": f"bk_abc{n}_nope"}) for n in range(5)]
    refused = http.get(SHIPMENTS, headers=bank.headers)

    assert [a.status_code for a in bad] == [401] * 5
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["type"].endswith("/rate-limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 300
    after = REGISTRY.get_sample_value("bridge_auth_throttled_total", {"door": "rest"})
    assert after == before + 1
    elsewhere = http.get(SHIPMENTS, headers=bank.headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert elsewhere.status_code == 200


def test_requests_without_credentials_are_not_guesses(http: Client, bank: Credentials) -> None:
    for _ in range(10):
        assert http.get(SHIPMENTS).status_code == 401

    assert http.get(SHIPMENTS, headers=bank.headers).status_code != 429


# -- the SOAP door --------------------------------------------------------------------------------


def _soap(http: Client, username: str, password: str) -> TestResponse:
    envelope = etree.fromstring((SOAP_REQUESTS / "verify_account.xml").read_bytes())
    UsernameToken(username, password, use_digest=True).apply(envelope, {})
    return http.post(
        "/soap/banking",
        data=etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"VerifyAccount"'},
        environ_base={"REMOTE_ADDR": "10.0.0.3"},
    )


def _faultcode(response: TestResponse) -> str:
    fault = etree.fromstring(response.get_data()).find(f".//{{{SOAP_ENV}}}Fault")
    assert fault is not None
    return fault.findtext("faultcode") or ""


def test_wrong_username_tokens_lock_out_the_client_id_at_the_soap_door(
    http: Client, bridge: Bridge, bank: Credentials
) -> None:
    password = bridge.security.clients.create_wss_password(bank.client.id)
    wrong = [_soap(http, bank.client.id, f"guess-{n}") for n in range(3)]

    right = _soap(http, bank.client.id, password)

    assert [a.status_code for a in wrong] == [401] * 3
    assert right.status_code == 429, right.get_data(as_text=True)
    assert _faultcode(right).endswith("Client")
    assert 1 <= int(right.headers["Retry-After"]) <= 300


def test_with_redis_down_the_doors_still_check_credentials_and_count_the_unchecked(
    sqlite_url: str, tmp_path: Path
) -> None:
    app = _bridge(sqlite_url, tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    try:
        http = Client(app)
        bank = grant(app.engine, tier="partner")
        before = _unchecked()

        served = http.get(SHIPMENTS, headers=bank.headers)
        refused = http.get(SHIPMENTS, headers={"X-API-Key": "bk_abc_nope"})
    finally:
        app.close()

    assert served.status_code == 200
    assert refused.status_code == 401, "fail open lets guesses be checked, never through"
    assert _unchecked() > before
