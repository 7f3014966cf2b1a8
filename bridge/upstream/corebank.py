"""The core banking system: four operations, canonical objects in and out.

`CoreBank` is what the banking service needs; `SoapCoreBank` calls the real system (or a
simulator) through zeep, and `GuardedCoreBank` puts core banking's circuit breaker in front of
any `CoreBank` (`bridge.upstream.breakers`): while it is open, every call fails fast with
`UpstreamUnavailable` and a Retry-After, and a transfer stays unfinished for the reconciler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

import pybreaker

from bridge.domain import (
    AccountValidation,
    AccountValidationResult,
    PaymentInquiry,
    PaymentInquiryResult,
    PaymentPosting,
    PostingResult,
    TransactionPage,
    TransactionsQuery,
)
from bridge.domain.errors import NotFound, UpstreamRejected
from bridge.mapping import Mappings
from bridge.settings import Settings
from bridge.upstream.breakers import guarded
from bridge.upstream.soap import SoapUpstream
from bridge.upstream.transport import UpstreamPool

T = TypeVar("T")

OPERATIONS = {
    "PostPayment": ("corebank/post_payment", "corebank/post_payment_result"),
    "InquirePayment": ("corebank/inquire_payment", "corebank/inquire_payment_result"),
    "ValidateAccount": ("corebank/validate_account", "corebank/validate_account_result"),
    "GetStatement": ("corebank/statement_request", "corebank/statement"),
}
# GetStatement's Client fault for an account core banking does not hold: the result has no code
# to say so. An unknown account is a 404, as the REST door documents, not an upstream failure.
UNKNOWN_ACCOUNT = "(Client.UnknownAccount)"


class CoreBank(Protocol):
    def post_payment(
        self, posting: PaymentPosting, correlation_id: str | None = None
    ) -> PostingResult: ...

    def inquire_payment(
        self, external_ref: str, correlation_id: str | None = None
    ) -> PaymentInquiryResult: ...

    def validate_account(
        self, validation: AccountValidation, correlation_id: str | None = None
    ) -> AccountValidationResult: ...

    def statement(
        self, query: TransactionsQuery, correlation_id: str | None = None
    ) -> TransactionPage: ...


class SoapCoreBank:
    def __init__(self, upstream: SoapUpstream) -> None:
        self.upstream = upstream

    def post_payment(
        self, posting: PaymentPosting, correlation_id: str | None = None
    ) -> PostingResult:
        result: PostingResult = self.upstream.call(
            "PostPayment", posting, correlation_id=correlation_id
        )
        return result

    def inquire_payment(
        self, external_ref: str, correlation_id: str | None = None
    ) -> PaymentInquiryResult:
        result: PaymentInquiryResult = self.upstream.call(
            "InquirePayment",
            PaymentInquiry(external_ref=external_ref),
            correlation_id=correlation_id,
        )
        return result

    def validate_account(
        self, validation: AccountValidation, correlation_id: str | None = None
    ) -> AccountValidationResult:
        result: AccountValidationResult = self.upstream.call(
            "ValidateAccount", validation, correlation_id=correlation_id
        )
        return result

    def statement(
        self, query: TransactionsQuery, correlation_id: str | None = None
    ) -> TransactionPage:
        try:
            result: TransactionPage = self.upstream.call(
                "GetStatement", query, correlation_id=correlation_id
            )
        except UpstreamRejected as exc:
            if UNKNOWN_ACCOUNT in exc.detail:
                raise NotFound(f"no account {query.account.number}") from None
            raise
        return result


@dataclass(eq=False)
class GuardedCoreBank:
    """`corebank` behind its circuit breaker. Unavailability counts against it (a timeout, an
    unknown outcome, and a PostPayment answered with code 91, "system unavailable"); a Client
    fault or an unknown account does not."""

    corebank: CoreBank
    breaker: pybreaker.CircuitBreaker

    def post_payment(
        self, posting: PaymentPosting, correlation_id: str | None = None
    ) -> PostingResult:
        posted = partial(self.corebank.post_payment, posting, correlation_id)
        return self._guarded(posted, unavailable=_unavailable)

    def inquire_payment(
        self, external_ref: str, correlation_id: str | None = None
    ) -> PaymentInquiryResult:
        return self._guarded(partial(self.corebank.inquire_payment, external_ref, correlation_id))

    def validate_account(
        self, validation: AccountValidation, correlation_id: str | None = None
    ) -> AccountValidationResult:
        return self._guarded(partial(self.corebank.validate_account, validation, correlation_id))

    def statement(
        self, query: TransactionsQuery, correlation_id: str | None = None
    ) -> TransactionPage:
        return self._guarded(partial(self.corebank.statement, query, correlation_id))

    def _guarded(
        self, call: Callable[[], T], *, unavailable: Callable[[T], str | None] | None = None
    ) -> T:
        return guarded(self.breaker, "corebank", call, unavailable=unavailable)


def _unavailable(result: PostingResult) -> str | None:
    return f"system unavailable ({result.result_text})" if result.transient else None


def build_corebank(
    settings: Settings,
    mappings: Mappings,
    *,
    address: str | None = None,
    http: UpstreamPool | None = None,
    breaker: pybreaker.CircuitBreaker | None = None,
) -> CoreBank:
    """`address` and `http`: where to call it and how, when not `settings.corebank_url` (this
    process's simulator server, connections carrying its secret: `bridge.components.Upstreams`);
    `breaker`: core banking's circuit breaker, if calls should go through one."""
    soap = SoapCoreBank(
        SoapUpstream(
            "corebank",
            settings.contracts_dir / "upstream" / "corebank.wsdl",
            address or settings.upstream_url("corebank"),
            mappings,
            OPERATIONS,
            timeout=settings.upstream_timeout,
            http=http,
            checked=True,
        )
    )
    return soap if breaker is None else GuardedCoreBank(soap, breaker)
