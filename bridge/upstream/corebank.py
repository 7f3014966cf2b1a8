"""The core banking system: four operations, canonical objects in and out."""

from __future__ import annotations

import requests

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
from bridge.upstream.soap import SoapUpstream, build_upstream

OPERATIONS = {
    "PostPayment": ("corebank/post_payment", "corebank/post_payment_result"),
    "InquirePayment": ("corebank/inquire_payment", "corebank/inquire_payment_result"),
    "ValidateAccount": ("corebank/validate_account", "corebank/validate_account_result"),
    "GetStatement": ("corebank/statement_request", "corebank/statement"),
}
# GetStatement's Client fault for an account core banking does not hold: the result has no code
# to say so. An unknown account is a 404, as the REST door documents, not an upstream failure.
UNKNOWN_ACCOUNT = "(Client.UnknownAccount)"


class CoreBank:
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


def build_corebank(
    settings: Settings,
    mappings: Mappings,
    *,
    address: str | None = None,
    session: requests.Session | None = None,
) -> CoreBank:
    """`address` and `session`: where to call it and how, when not `settings.corebank_url` (this
    process's simulator server and a session carrying its secret, `bridge.app.Upstreams`)."""
    return CoreBank(
        build_upstream(
            "corebank",
            settings.contracts_dir / "upstream" / "corebank.wsdl",
            address or settings.upstream_url("corebank"),
            mappings,
            OPERATIONS,
            timeout=settings.upstream_timeout,
            session=session,
        )
    )
