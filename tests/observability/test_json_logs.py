"""Log records go out as one JSON object per line, with their correlation id, secrets masked."""

from __future__ import annotations

import logging
import time
from datetime import datetime

import pytest

from bridge.domain.errors import UpstreamRejected, UpstreamUnavailable
from bridge.observability.logging import configure_logging, correlated
from bridge.observability.metrics import upstream_call, watch_breakers
from bridge.upstream.breakers import circuit_breaker, guarded
from tests.common.logs import JsonLines

log = logging.getLogger("bridge.tests.observability")


def test_a_log_line_is_one_json_object_with_the_expected_fields(json_lines: JsonLines) -> None:
    log.warning("posting %s refused", "TX-1", extra={"upstream": "corebank", "attempt": 2})

    [line] = json_lines()
    assert line["level"] == "WARNING"
    assert line["logger"] == "bridge.tests.observability"
    assert line["message"] == "posting TX-1 refused"
    assert line["upstream"] == "corebank"
    assert line["attempt"] == 2
    assert datetime.fromisoformat(line["time"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert "correlation_id" not in line
    assert "exception" not in line


def test_an_exception_is_a_string_field(json_lines: JsonLines) -> None:
    try:
        raise ValueError("bad amount")
    except ValueError:
        log.exception("mapping failed")

    [line] = json_lines()
    assert line["level"] == "ERROR"
    assert isinstance(line["exception"], str)
    assert "ValueError: bad amount" in line["exception"]


def test_the_current_correlation_id_is_added_to_every_line(json_lines: JsonLines) -> None:
    with correlated("req-42"):
        log.info("inside")
    log.info("outside")

    inside, outside = json_lines()
    assert inside["correlation_id"] == "req-42"
    assert "correlation_id" not in outside


def test_a_correlation_id_given_as_extra_wins(json_lines: JsonLines) -> None:
    with correlated("req-42"):
        log.info("explicit", extra={"correlation_id": "row-7"})

    [line] = json_lines()
    assert line["correlation_id"] == "row-7"


def test_ibans_keep_country_and_last_four(json_lines: JsonLines) -> None:
    log.info(
        "paying %s from %s",
        "DE89370400440532013000",
        "GB29 NWBK 6016 1331 9268 19",
        extra={"account": {"iban": "FR1420041010050500013M02606"}},
    )

    [line] = json_lines()
    assert line["message"] == "paying DE89…3000 from GB29…6819"
    assert line["account"] == {"iban": "FR14…2606"}


def test_values_under_secret_keys_are_masked(json_lines: JsonLines) -> None:
    log.info(
        "client login",
        extra={
            "password": "hunter2",
            "client_secret": "s3cr3t",
            "headers": {"Authorization": "Bearer eyJhbGciOi", "Accept": "application/json"},
            "grant": [{"refresh_token": "r-123"}],
        },
    )

    [line] = json_lines()
    assert line["password"] == "***"
    assert line["client_secret"] == "***"
    assert line["headers"] == {"Authorization": "***", "Accept": "application/json"}
    assert line["grant"] == [{"refresh_token": "***"}]


def test_secrets_in_logged_text_are_masked(json_lines: JsonLines) -> None:
    # spyne logs the whole raw request when its XML is invalid (DESIGN.md, pitfalls).
    raw = (
        "<wsse:UsernameToken><wsse:Username>bank-7</wsse:Username>"
        '<wsse:Password Type="#PasswordText">hunter2</wsse:Password></wsse:UsernameToken>'
    )
    log.error("invalid XML: %s; password=hunter2 Authorization: Bearer abc.def", raw)

    [line] = json_lines()
    assert "hunter2" not in line["message"]
    assert "abc.def" not in line["message"]
    assert "<wsse:Username>bank-7</wsse:Username>" in line["message"]


def test_a_word_that_only_contains_a_secret_name_is_not_a_secret(json_lines: JsonLines) -> None:
    log.warning(
        "security event %s: %s; refresh_token=abc123 client_secret: s3cr3t",
        "refresh_token_reused",
        "a spent refresh token was presented again",
    )

    [line] = json_lines()
    assert "refresh_token_reused: a spent refresh token was presented again" in line["message"]
    assert "abc123" not in line["message"]
    assert "s3cr3t" not in line["message"]


def test_configuring_twice_installs_one_handler(json_lines: JsonLines) -> None:
    before = list(logging.getLogger().handlers)

    configure_logging("INFO")
    configure_logging("INFO")

    assert logging.getLogger().handlers == before
    assert logging.getLogger().level == logging.INFO
    log.info("once")
    assert len(json_lines()) == 1


def test_failed_upstream_calls_and_the_circuit_they_open_are_logged_with_their_reasons(
    json_lines: JsonLines,
) -> None:
    breaker = circuit_breaker("corebank", fail_max=2, reset_timeout=60)
    watch_breakers({"corebank": breaker})

    def refused() -> None:
        with upstream_call("corebank", "PostPayment"):
            raise UpstreamUnavailable("corebank", "PostPayment: not sent, connection refused")

    def rejected() -> None:
        with upstream_call("corebank", "ValidateAccount"):
            raise UpstreamRejected("corebank", "ValidateAccount: Client fault: no such account")

    with pytest.raises(UpstreamRejected):
        guarded(breaker, "corebank", rejected)
    for _ in range(3):  # two failures open the circuit; the third call is refused by it
        with pytest.raises(UpstreamUnavailable):
            guarded(breaker, "corebank", refused)
    lines = [line for line in json_lines() if line.get("upstream") == "corebank"]

    calls = [line for line in lines if "operation" in line]
    assert [(line["operation"], line["level"], line["outcome"]) for line in calls] == [
        ("ValidateAccount", "INFO", "rejected"),
        ("PostPayment", "WARNING", "unavailable"),
        ("PostPayment", "WARNING", "unavailable"),  # not the third: the circuit refused it
    ]
    assert calls[1]["message"] == (
        "upstream call failed (unavailable): corebank: PostPayment: not sent, connection refused"
    )
    [opened] = [line for line in lines if line.get("circuit") == "open"]
    assert opened["level"] == "WARNING"
    assert opened["message"] == "corebank circuit open (was closed): calls fail fast for 60 s"


def test_a_circuit_closing_again_is_logged_once_at_info(json_lines: JsonLines) -> None:
    breaker = circuit_breaker("payroll", fail_max=1, reset_timeout=0.05)
    watch_breakers({"payroll": breaker})

    def down() -> None:
        raise UpstreamUnavailable("payroll", "SubmitPayrollBatch: not sent, connection refused")

    with pytest.raises(UpstreamUnavailable):
        guarded(breaker, "payroll", down)
    time.sleep(0.1)  # past the reset timeout: the next call is the trial, and it succeeds
    guarded(breaker, "payroll", lambda: None)
    circuit = [
        (line["circuit"], line["level"])
        for line in json_lines()
        if line.get("upstream") == "payroll" and "circuit" in line
    ]

    assert circuit == [("open", "WARNING"), ("half-open", "WARNING"), ("closed", "INFO")]
