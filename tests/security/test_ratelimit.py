"""Rate limits in this process's memory: budgets per client and plan, refusals, header fields,
and the plans table checked at start-up."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator

import pytest

from bridge.domain.errors import ConfigurationError, RateLimited
from bridge.security.ratelimit import Quota, RateLimiter, headers, refusal_headers
from bridge.settings import Settings, load_settings

PLANS = {
    "standard": "100/minute",
    "enterprise": "1000/minute",
    "internal": "unlimited",
    "tiny": "3/minute",
    "brief": "2/second",
}


@pytest.fixture
def limiter() -> Iterator[RateLimiter]:
    limiter = RateLimiter(PLANS)
    yield limiter
    limiter.close()


def _spend(limiter: RateLimiter, client: str, plan: str, calls: int) -> list[Quota | None]:
    return [limiter.hit(client, plan) for _ in range(calls)]


# --- budgets -----------------------------------------------------------------------------------


def test_calls_up_to_the_limit_are_served_and_count_down(limiter: RateLimiter) -> None:
    quotas = _spend(limiter, "cl_a", "tiny", 3)

    assert [q.remaining if q else None for q in quotas] == [2, 1, 0]
    assert {(q.limit, q.window, q.policy) for q in quotas if q} == {(3, 60, "tiny")}


def test_the_call_after_the_limit_is_refused_with_the_plan_and_retry_after(
    limiter: RateLimiter,
) -> None:
    _spend(limiter, "cl_a", "tiny", 3)

    with pytest.raises(RateLimited) as refused:
        limiter.hit("cl_a", "tiny")

    assert refused.value.limit == 3
    assert refused.value.window == 60
    assert 1 <= refused.value.retry_after <= 60
    assert "'tiny' plan allows 3 calls in 60 seconds" in refused.value.detail


def test_refused_calls_stay_refused_within_the_window(limiter: RateLimiter) -> None:
    _spend(limiter, "cl_a", "tiny", 3)

    for _ in range(5):
        with pytest.raises(RateLimited):
            limiter.hit("cl_a", "tiny")


def test_the_first_call_of_a_window_resets_a_whole_window_later(limiter: RateLimiter) -> None:
    quota = limiter.hit("cl_a", "tiny")

    assert quota is not None
    assert quota.reset_after == quota.window == 60


def test_each_client_spends_its_own_budget(limiter: RateLimiter) -> None:
    _spend(limiter, "cl_a", "tiny", 3)

    quota = limiter.hit("cl_b", "tiny")

    assert quota is not None
    assert quota.remaining == 2


def test_standard_plan_refuses_call_101(limiter: RateLimiter) -> None:
    served = _spend(limiter, "cl_a", "standard", 100)

    with pytest.raises(RateLimited) as refused:
        limiter.hit("cl_a", "standard")

    assert [q.remaining for q in served if q] == list(range(99, -1, -1))
    assert refused.value.limit == 100


def test_enterprise_plan_allows_a_thousand_a_minute(limiter: RateLimiter) -> None:
    quota = limiter.hit("cl_a", "enterprise")

    assert quota is not None
    assert (quota.limit, quota.remaining, quota.window) == (1000, 999, 60)


def test_unlimited_plan_is_never_counted_nor_refused(limiter: RateLimiter) -> None:
    assert _spend(limiter, "cl_a", "internal", 1500) == [None] * 1500


def test_a_refused_caller_who_waits_retry_after_is_served_again(limiter: RateLimiter) -> None:
    _spend(limiter, "cl_a", "brief", 2)
    with pytest.raises(RateLimited) as refused:
        limiter.hit("cl_a", "brief")

    time.sleep(refused.value.retry_after)
    quota = limiter.hit("cl_a", "brief")

    assert quota is not None
    assert quota.remaining == 1


def test_concurrent_calls_of_one_client_get_exactly_its_limit() -> None:
    limiter = RateLimiter({"standard": "50/minute"})
    served: list[int] = []
    refused: list[int] = []
    start = threading.Barrier(8)

    def burst() -> None:
        start.wait()
        for _ in range(20):
            try:
                quota = limiter.hit("cl_a", "standard")
            except RateLimited:
                refused.append(1)
            else:
                assert quota is not None
                served.append(quota.remaining)

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(served) == list(range(50))
    assert len(refused) == 8 * 20 - 50


# --- plans -------------------------------------------------------------------------------------


def test_a_plan_that_is_not_configured_gets_standard_and_one_warning(
    limiter: RateLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bridge.security.ratelimit"):
        quotas = _spend(limiter, "cl_a", "gold", 3)

    assert {(q.policy, q.limit) for q in quotas if q} == {("standard", 100)}
    assert [q.remaining for q in quotas if q] == [99, 98, 97]
    warnings = [r.getMessage() for r in caplog.records if "'gold'" in r.getMessage()]
    assert len(warnings) == 1
    assert "'standard'" in warnings[0]


def test_default_settings_carry_the_three_plans() -> None:
    limiter = RateLimiter.from_settings(Settings())

    assert limiter.plans == {"standard", "enterprise", "internal"}


def test_settings_take_plans_from_the_environment_as_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BRIDGE_RATE_LIMIT_PLANS", '{"standard": "10/minute", "tiny": "5/minute"}')

    limiter = RateLimiter.from_settings(load_settings())

    assert limiter.plans == {"standard", "tiny"}
    quota = limiter.hit("cl_a", "tiny")
    assert quota is not None
    assert quota.limit == 5


@pytest.mark.parametrize(
    ("plans", "named"),
    [
        ({"standard": "100/minute", "gold": "100/minit"}, "plan 'gold': '100/minit' is not a rate"),
        ({"standard": "100/minute", "gold": "lots"}, "plan 'gold': 'lots' is not a rate"),
        ({"standard": "1/second;100/minute"}, "plan 'standard': one rate per plan"),
        ({"standard": "100/minute", "Gold Plan": "1/second"}, "plan 'Gold Plan': a plan name"),
        ({"enterprise": "1000/minute"}, "the 'standard' plan is missing"),
    ],
)
def test_a_bad_plans_table_is_refused_at_start_up_naming_the_plan(
    monkeypatch: pytest.MonkeyPatch, plans: dict[str, str], named: str
) -> None:
    monkeypatch.setenv("BRIDGE_RATE_LIMIT_PLANS", json.dumps(plans))

    with pytest.raises(ConfigurationError) as bad:
        load_settings()

    assert "BRIDGE_RATE_LIMIT_PLANS" in bad.value.detail
    assert named in bad.value.detail


def test_a_limiter_built_from_a_bad_table_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="plan 'gold'"):
        RateLimiter({"standard": "100/minute", "gold": "ten/minute"})


def test_unlimited_is_spelled_in_any_case() -> None:
    limiter = RateLimiter({"standard": "UNLIMITED"})

    assert limiter.hit("cl_a", "standard") is None


def test_several_workers_without_redis_warn_that_each_counts_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bridge.security.ratelimit"):
        RateLimiter.from_settings(Settings(workers=4))

    assert any("counted per worker" in r.getMessage() for r in caplog.records)


# --- header fields ----------------------------------------------------------------------------


def test_headers_carry_the_draft_fields_and_the_older_trio() -> None:
    assert headers(
        Quota(limit=100, remaining=42, reset_after=17, window=60, policy="standard")
    ) == {
        "RateLimit-Policy": '"standard";q=100;w=60',
        "RateLimit": '"standard";r=42;t=17',
        "RateLimit-Limit": "100",
        "RateLimit-Remaining": "42",
        "RateLimit-Reset": "17",
    }


def test_headers_of_a_served_call_say_what_is_left(limiter: RateLimiter) -> None:
    limiter.hit("cl_a", "tiny")
    quota = limiter.hit("cl_a", "tiny")
    assert quota is not None

    fields = headers(quota)

    assert fields["RateLimit-Policy"] == '"tiny";q=3;w=60'
    assert fields["RateLimit"] == f'"tiny";r=1;t={quota.reset_after}'
    assert fields["RateLimit-Remaining"] == "1"
    assert 0 <= int(fields["RateLimit-Reset"]) <= 60


def test_refusal_headers_agree_on_when_to_come_back(limiter: RateLimiter) -> None:
    _spend(limiter, "cl_a", "tiny", 3)
    with pytest.raises(RateLimited) as refused:
        limiter.hit("cl_a", "tiny")

    fields = refusal_headers(refused.value)

    retry = str(refused.value.retry_after)
    assert fields["Retry-After"] == retry
    assert fields["RateLimit-Reset"] == retry
    assert fields["RateLimit-Remaining"] == "0"
    assert fields["RateLimit"] == f'"tiny";r=0;t={retry}'
    assert fields["RateLimit-Policy"] == '"tiny";q=3;w=60'


def test_refusal_headers_of_a_bare_rate_limited_carry_the_trio_and_retry_after() -> None:
    error = RateLimited("slow down", limit=10, window=60, retry_after=7)

    assert refusal_headers(error) == {
        "RateLimit-Limit": "10",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "7",
        "Retry-After": "7",
    }


def test_a_door_holding_only_the_limiter_gets_the_same_fields(limiter: RateLimiter) -> None:
    quota = limiter.hit("cl_a", "tiny")
    assert quota is not None
    _spend(limiter, "cl_a", "tiny", 2)
    with pytest.raises(RateLimited) as refused:
        limiter.hit("cl_a", "tiny")

    assert limiter.headers(quota) == headers(quota)
    assert limiter.refusal_headers(refused.value) == refusal_headers(refused.value)
