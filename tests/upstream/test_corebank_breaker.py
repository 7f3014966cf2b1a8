"""Core banking's circuit breaker (`GuardedCoreBank`, `bridge.upstream.breakers`): what counts
against it, how it fails fast while open, and that it lets calls run side by side."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pybreaker
import pytest

from bridge.domain import AccountRef, Money, PaymentPosting, PostingResult, TransferStatus
from bridge.domain.corebank import TRANSIENT_REASON
from bridge.domain.errors import (
    BridgeError,
    InvalidInput,
    NotFound,
    OutcomeUnknown,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from bridge.upstream.breakers import circuit_breaker
from bridge.upstream.corebank import GuardedCoreBank
from tests.common.banking import FakeCoreBank

FAIL_MAX = 3


def guarded(fake: FakeCoreBank, *, reset_timeout: float = 60) -> GuardedCoreBank:
    return GuardedCoreBank(
        fake, circuit_breaker("corebank", fail_max=FAIL_MAX, reset_timeout=reset_timeout)
    )


def posting(ref: str = "TX1") -> PaymentPosting:
    return PaymentPosting(
        debit_account=AccountRef(iban="DE89370400440532013000"),
        credit_account=AccountRef(iban="DE12500105170648489890"),
        amount=Money(amount=Decimal("1.00"), currency="EUR"),
        value_date=date(2026, 12, 4),
        external_ref=ref,
    )


def fail(corebank: GuardedCoreBank, times: int) -> None:
    for _ in range(times):
        with pytest.raises(BridgeError):
            corebank.inquire_payment("TX1")


@pytest.mark.parametrize(
    "failure",
    [
        UpstreamUnavailable("corebank", "not sent, no connection"),
        OutcomeUnknown("corebank", "HTTP 500"),
        UpstreamTimeout("corebank", "no answer in time"),
    ],
    ids=["unavailable", "outcome-unknown", "timeout"],
)
def test_unavailable_calls_open_the_circuit_then_calls_fail_fast_with_retry_after(
    failure: UpstreamUnavailable,
) -> None:
    fake = FakeCoreBank(failure=failure)
    corebank = guarded(fake)
    fail(corebank, FAIL_MAX)
    assert corebank.breaker.current_state == pybreaker.STATE_OPEN
    fake.failure = None
    fake.entered.clear()

    with pytest.raises(UpstreamUnavailable) as refused:
        corebank.post_payment(posting())

    assert type(refused.value) is UpstreamUnavailable  # never sent: not an unknown outcome
    assert "circuit open" in refused.value.detail
    assert 0 < refused.value.retry_after <= 60
    assert not fake.entered.is_set()
    assert fake.postings == []


@pytest.mark.parametrize(
    "answer",
    [
        UpstreamRejected("corebank", "PostPayment: refused (Client): bad account"),
        InvalidInput("debtor and creditor accounts must differ"),
        NotFound("no account DE00"),
    ],
    ids=["client-fault", "invalid-input", "unknown-account"],
)
def test_client_faults_refused_input_and_unknown_accounts_do_not_count(answer: Exception) -> None:
    corebank = guarded(FakeCoreBank(failure=answer))

    fail(corebank, FAIL_MAX * 2)

    assert corebank.breaker.current_state == pybreaker.STATE_CLOSED
    assert corebank.breaker.fail_counter == 0


def test_the_failing_call_keeps_its_own_error_when_it_opens_the_circuit() -> None:
    corebank = guarded(FakeCoreBank(failure=OutcomeUnknown("corebank", "HTTP 502")))
    fail(corebank, FAIL_MAX - 1)

    with pytest.raises(OutcomeUnknown, match="HTTP 502"):
        corebank.inquire_payment("TX1")
    assert corebank.breaker.current_state == pybreaker.STATE_OPEN


def test_result_code_91_counts_as_unavailable_and_is_still_returned() -> None:
    unavailable = PostingResult(
        status=TransferStatus.RJCT, reason_code=TRANSIENT_REASON, result_text="system down"
    )
    fake = FakeCoreBank(results=[unavailable] * FAIL_MAX)
    corebank = guarded(fake)

    answers = [corebank.post_payment(posting(f"TX{n}")) for n in range(FAIL_MAX)]

    assert all(answer.transient for answer in answers)
    assert corebank.breaker.current_state == pybreaker.STATE_OPEN


def test_an_answer_resets_the_count_of_failures() -> None:
    fake = FakeCoreBank(failure=OutcomeUnknown("corebank", "HTTP 500"))
    corebank = guarded(fake)
    fail(corebank, FAIL_MAX - 1)
    fake.failure = None
    corebank.inquire_payment("TX1")
    fake.failure = OutcomeUnknown("corebank", "HTTP 500")

    fail(corebank, FAIL_MAX - 1)

    assert corebank.breaker.current_state == pybreaker.STATE_CLOSED


def test_after_the_reset_timeout_a_trial_call_goes_through_and_closes_the_circuit() -> None:
    fake = FakeCoreBank(failure=OutcomeUnknown("corebank", "HTTP 500"))
    corebank = guarded(fake, reset_timeout=0)
    fail(corebank, FAIL_MAX)
    assert corebank.breaker.current_state == pybreaker.STATE_OPEN
    fake.failure = None

    assert corebank.post_payment(posting()).status == TransferStatus.ACSC

    assert corebank.breaker.current_state == pybreaker.STATE_CLOSED
    assert len(fake.postings) == 1


def test_a_failed_trial_call_opens_the_circuit_again() -> None:
    fake = FakeCoreBank(failure=OutcomeUnknown("corebank", "HTTP 500"))
    corebank = guarded(fake, reset_timeout=0)
    fail(corebank, FAIL_MAX)

    fail(corebank, 1)

    assert corebank.breaker.current_state == pybreaker.STATE_OPEN


def test_calls_run_side_by_side_the_breaker_is_not_held_during_a_call() -> None:
    """pybreaker's own `call` holds its lock for the whole call: one core banking call at a
    time per process. Here a PostPayment waits mid-call while another call completes."""
    fake = FakeCoreBank(gate=threading.Event())
    corebank = guarded(fake)
    posting_thread = threading.Thread(target=corebank.post_payment, args=(posting(),))
    posting_thread.start()
    try:
        assert fake.entered.wait(timeout=10)

        assert corebank.inquire_payment("TX-other").found is False
        assert fake.postings == []  # the PostPayment is still waiting inside core banking
    finally:
        assert fake.gate is not None
        fake.gate.set()
        posting_thread.join(timeout=10)
    assert len(fake.postings) == 1
