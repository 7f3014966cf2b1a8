"""The one retry policy (`bridge.services.retry`): which failures a use case tries again."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridge.domain.errors import UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from bridge.services.retry import RetryPolicy, RetryRule, failed_fast, transient

NO_WAIT = RetryPolicy(attempts=3, initial_wait=0, max_wait=0)


def calls_until_given_up(error: Exception, rule: RetryRule) -> int:
    calls = 0

    def fail() -> None:
        nonlocal calls
        calls += 1
        raise error

    with pytest.raises(type(error)):
        _run(fail, rule)
    return calls


def _run(call: Callable[[], None], rule: RetryRule) -> None:
    for attempt in NO_WAIT.retrying(rule):
        with attempt:
            call()


def test_a_transient_failure_is_tried_attempts_times_then_raised() -> None:
    assert calls_until_given_up(UpstreamUnavailable("corebank", "HTTP 503"), transient) == 3


def test_a_timeout_is_transient_by_default() -> None:
    assert calls_until_given_up(UpstreamTimeout("corebank", "no answer"), transient) == 3


def test_a_timeout_is_not_retried_when_only_fast_failures_are() -> None:
    assert calls_until_given_up(UpstreamTimeout("classifier", "no answer"), failed_fast) == 1


def test_a_fast_failure_is_retried_when_only_fast_failures_are() -> None:
    assert calls_until_given_up(UpstreamUnavailable("classifier", "HTTP 500"), failed_fast) == 3


def test_a_rejection_is_never_retried() -> None:
    assert calls_until_given_up(UpstreamRejected("corebank", "Client fault"), transient) == 1


def test_a_call_that_succeeds_after_a_failure_answers() -> None:
    outcomes: list[Exception | None] = [UpstreamUnavailable("corebank", "HTTP 503"), None]

    def flaky() -> None:
        error = outcomes.pop(0)
        if error is not None:
            raise error

    _run(flaky, transient)
    assert outcomes == []
