"""Bounded retries of an upstream call while a caller waits, shared by every service.

How often and how long (`RetryPolicy`) is configuration; which failures are worth another try
is the use case's rule, passed to `retrying`: any transient failure (`transient`, e.g. a
transfer, whose inquiry settles what a lost reply did), or only the fast ones (`failed_fast`,
e.g. a classification, where a timeout has already cost the caller the whole upstream timeout).
Work that may wait for later goes through the outbox instead (`bridge.sync.outbox.Backoff`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from bridge.domain.errors import UpstreamTimeout, UpstreamUnavailable

RetryRule = Callable[[BaseException], bool]


def transient(error: BaseException) -> bool:
    return isinstance(error, UpstreamUnavailable)


def failed_fast(error: BaseException) -> bool:
    """Transient, and cheap to try again: an HTTP 5xx, a Server fault, a refused connection."""
    return transient(error) and not isinstance(error, UpstreamTimeout)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, `attempts` tries in all."""

    attempts: int = 3
    initial_wait: float = 0.05
    max_wait: float = 0.5
    retry_after: int = 5  # seconds a caller is told to wait once retries are spent

    def retrying(self, retry_on: RetryRule = transient) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(
                multiplier=self.initial_wait, max=self.max_wait, jitter=self.initial_wait
            ),
            retry=retry_if_exception(retry_on),
            reraise=True,
        )
