"""The core banking system: four operations, canonical objects in and out."""

from __future__ import annotations

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
from bridge.mapping import Mappings
from bridge.settings import Settings
from bridge.upstream.soap import SoapUpstream, build_upstream

OPERATIONS = {
    "PostPayment": ("corebank/post_payment", "corebank/post_payment_result"),
    "InquirePayment": ("corebank/inquire_payment", "corebank/inquire_payment_result"),
    "ValidateAccount": ("corebank/validate_account", "corebank/validate_account_result"),
    "GetStatement": ("corebank/statement_request", "corebank/statement"),
}


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
        result: TransactionPage = self.upstream.call(
            "GetStatement", query, correlation_id=correlation_id
        )
        return result


def build_corebank(settings: Settings, mappings: Mappings) -> CoreBank:
    return CoreBank(
        build_upstream(
            "corebank",
            settings.contracts_dir / "upstream" / "corebank.wsdl",
            settings.upstream_url("corebank"),
            mappings,
            OPERATIONS,
            timeout=settings.upstream_timeout,
        )
    )
