"""Banking use cases, shared by the SOAP door, the REST door and anything else that moves money.

A transfer is stored before core banking hears of it and answered from the store ever after:
a retried request with the same MsgId (the partner's idempotency key) gets the first result and
never a second posting. When an earlier attempt may have reached core banking (a timeout, a
dropped connection, an HTTP 5xx, an unreadable reply, a process that died), the payment is looked
up with `InquirePayment` by its externalRef before anything is posted again. Only core banking's
Client fault or a rejecting result code makes a transfer RJCT; when retries are spent with the
outcome unknown, the transfer stays unfinished (ACCP) and the caller is told to retry (503): a
later read or retry with the same MsgId settles it by asking.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal, TypeVar

from bridge.domain.banking import (
    AccountVerification,
    AccountVerificationRequest,
    StatusReason,
    TransactionPage,
    TransactionsQuery,
    TransferRequest,
    TransferResult,
    TransferStatus,
    TransferStatusQuery,
    VerificationResult,
    execution_date_window,
)
from bridge.domain.clock import utcnow
from bridge.domain.corebank import AccountValidation, PaymentPosting, PostingResult
from bridge.domain.errors import (
    InProgress,
    InvalidInput,
    KeyReused,
    MappingError,
    NotFound,
    OutcomeUnknown,
    UpstreamRejected,
    UpstreamUnavailable,
)
from bridge.mapping import canonical_json
from bridge.mapping.scalars import Currencies, Invalid
from bridge.services.retry import RetryPolicy
from bridge.store.transfers import TransferRecord, TransferStore
from bridge.upstream.corebank import CoreBank

T = TypeVar("T")

# Shown when core banking refused our posting as malformed: nothing was posted.
REFUSED_BY_CORE_BANKING = "NARR"
# Why the reconciler rejects, unposted, a transfer core banking never received (ISO 20022):
TOO_LATE = "TM01"  # received longer ago than the reconciler may still post
DATE_PASSED = "DT01"  # its requested execution date passed while it waited
NO_LONGER_MAPS = "NARR"  # the stored request no longer maps to a posting

# How the reconciler settled a transfer: core banking had it ("found"), it was posted now
# ("posted"), rejected unposted ("refused"), or a pending one is still pending ("unchanged").
Settlement = Literal["found", "posted", "refused", "unchanged"]


def _new_tx_id() -> str:
    return "TX" + uuid.uuid4().hex[:24].upper()


@dataclass(eq=False)
class BankingService:
    transfers: TransferStore
    corebank: CoreBank
    currencies: Currencies
    _: KW_ONLY
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lease: timedelta = timedelta(seconds=60)
    today: Callable[[], date] = lambda: utcnow().date()
    new_tx_id: Callable[[], str] = _new_tx_id

    # -- transfers -------------------------------------------------------------------------------

    def transfer_funds(
        self,
        request: TransferRequest,
        *,
        client_id: str,
        door: str,
        correlation_id: str | None = None,
    ) -> TransferResult:
        self._check(request)
        stored = canonical_json.dumps(request)  # written once: stored, and fingerprinted
        fingerprint = hashlib.sha256(stored).hexdigest()
        tx_id = self.new_tx_id()
        record, held = self.transfers.claim(
            tx_id=tx_id,
            client_id=client_id,
            msg_id=request.msg_id,
            fingerprint=fingerprint,
            request=stored.decode(),
            door=door,
            lease=self.lease,
        )
        if record.fingerprint != fingerprint:
            raise KeyReused(f"MsgId {request.msg_id!r} was already used for a different transfer")
        if record.finished:
            return _result(record)
        if not held:
            raise InProgress(f"transfer {request.msg_id!r} is still being processed; retry shortly")
        try:
            posted = self._settle(
                record,
                _posting(request, record.tx_id, self.today()),
                correlation_id,
                first_counted=record.tx_id == tx_id,  # stored just now, first attempt counted
            )
        except UpstreamRejected as exc:  # a Client fault to PostPayment: nothing was posted
            posted = PostingResult(
                status=TransferStatus.RJCT,
                reason_code=REFUSED_BY_CORE_BANKING,
                result_text=exc.detail,
            )
        except BaseException:
            self.transfers.release(record.tx_id)  # unfinished: the next retry resumes it
            raise
        return self._finish(record, posted)

    def transfer_status(
        self, query: TransferStatusQuery, *, client_id: str, correlation_id: str | None = None
    ) -> TransferResult:
        record = self.transfers.find(client_id, tx_id=query.tx_id, msg_id=query.msg_id)
        if record is None:
            named = f"TxId {query.tx_id!r}" if query.tx_id else f"MsgId {query.msg_id!r}"
            raise NotFound(f"no transfer with {named}")
        lease_active = record.lease_until is not None and record.lease_until > utcnow()
        if record.status == TransferStatus.PDNG or (not record.finished and not lease_active):
            return self._refresh(record, correlation_id)
        return _result(record)

    def _refresh(self, record: TransferRecord, correlation_id: str | None) -> TransferResult:
        """Ask core banking about a pending or abandoned transfer and keep what it says."""
        inquiry = self._with_retries(
            lambda: self.corebank.inquire_payment(record.tx_id, correlation_id)
        )
        posted = inquiry.posting()
        return _result(record) if posted is None else self._finish(record, posted)

    def _settle(
        self,
        record: TransferRecord,
        posting: PaymentPosting,
        correlation_id: str | None,
        *,
        first_counted: bool,
    ) -> PostingResult:
        # PostPayments sent before this call (the new transfer's first one is counted, not sent)
        attempts = record.attempts - 1 if first_counted else record.attempts
        count = not first_counted
        for attempt in self.retry.retrying():
            with attempt:
                if attempts > 0:  # an earlier PostPayment may have been applied: look first
                    posted = self._inquire(record.tx_id, correlation_id)
                    if posted is not None:
                        return posted
                if count:
                    self.transfers.count_attempt(record.tx_id)
                count = True
                attempts += 1
                result = self.corebank.post_payment(posting, correlation_id)
                if result.transient:
                    raise UpstreamUnavailable(
                        "corebank",
                        f"system unavailable ({result.result_text})",
                        self.retry.retry_after,
                    )
                return result
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def _inquire(self, tx_id: str, correlation_id: str | None) -> PostingResult | None:
        """What core banking booked under `tx_id`. Its refusing the question says nothing about
        the payment, so that is no rejection of the transfer: the outcome stays unknown."""
        try:
            return self.corebank.inquire_payment(tx_id, correlation_id).posting()
        except UpstreamRejected as exc:
            raise OutcomeUnknown("corebank", f"payment not looked up: {exc.detail}") from None

    def _finish(self, record: TransferRecord, posted: PostingResult) -> TransferResult:
        finished = replace(
            record,
            status=str(posted.status),
            reason_code=posted.reason_code,
            # the contract's AddtlInf (and the column) holds 105 characters
            reason_info=((posted.result_text[:105] or None) if posted.reason_code else None),
            booking_date=posted.posting_date,
            payment_id=posted.payment_id,
            lease_until=None,
        )
        self.transfers.finish(
            record.tx_id,
            status=finished.status,
            reason_code=finished.reason_code,
            reason_info=finished.reason_info,
            booking_date=finished.booking_date,
            payment_id=finished.payment_id,
        )
        return _result(finished)

    # -- reconciliation (bridge.sync.reconcile) ------------------------------------------------

    def reconcile_transfer(
        self,
        record: TransferRecord,
        *,
        post_within: timedelta,
        now: datetime,
        correlation_id: str | None = None,
    ) -> tuple[TransferResult, Settlement]:
        """Settle a transfer no request is working on (the caller holds its lease): finish it
        with what core banking has under its TxId; if core banking has nothing, post it once
        (`_settle` looks again and counts the attempt before posting) or, when it can no longer
        be posted (`_unpostable`), reject it unposted. A pending transfer is only asked about.
        Returns the result and how it was reached."""
        found = self._with_retries(lambda: self._inquire(record.tx_id, correlation_id))
        if record.finished and (found is None or found.status == record.status):
            return _result(record), "unchanged"  # pending, and core banking still says so
        if found is not None:
            return self._finish(record, found), "found"
        refused: StatusReason | None
        try:
            request = canonical_json.loads(TransferRequest, record.request)
            self._check(request)
        except (MappingError, InvalidInput) as exc:
            refused = StatusReason(
                code=NO_LONGER_MAPS,
                additional_info=f"not posted: the stored request no longer maps ({exc.detail})",
            )
        else:
            refused = _unpostable(request, record.created_at or now, now, post_within)
        if refused is not None:
            rejected = PostingResult(
                status=TransferStatus.RJCT,
                reason_code=refused.code,
                result_text=refused.additional_info or "",
            )
            return self._finish(record, rejected), "refused"
        try:
            posted = self._settle(
                record,
                _posting(request, record.tx_id, self.today()),
                correlation_id,
                first_counted=False,
            )
        except UpstreamRejected as exc:
            posted = PostingResult(
                status=TransferStatus.RJCT,
                reason_code=REFUSED_BY_CORE_BANKING,
                result_text=exc.detail,
            )
        return self._finish(record, posted), "posted"

    def _check(self, request: TransferRequest) -> None:
        """What no schema can say: the amount fits its currency, the execution date is within
        `execution_date_window` of today, the accounts differ."""
        try:
            amount = self.currencies.canonical(request.amount)
        except Invalid as exc:
            raise MappingError("amount", exc.expected, exc.got) from None
        if amount.amount <= 0:
            raise MappingError("amount.amount", "an amount greater than zero", str(amount.amount))
        wanted = request.requested_execution_date
        first, last = execution_date_window(self.today())
        if wanted is not None and not first <= wanted <= last:
            raise MappingError(
                "requested_execution_date", f"a date from {first} to {last}", str(wanted)
            )
        if request.debtor.account == request.creditor.account:
            raise InvalidInput("debtor and creditor accounts must differ")

    # -- accounts --------------------------------------------------------------------------------

    def verify_account(
        self, request: AccountVerificationRequest, *, correlation_id: str | None = None
    ) -> AccountVerification:
        checked = self._with_retries(
            lambda: self.corebank.validate_account(
                AccountValidation(account=request.account, holder_name=request.name), correlation_id
            )
        )
        if not checked.known:
            return AccountVerification(result=VerificationResult.NOAP, account_status=None)
        return AccountVerification(
            result=checked.name_match,
            suggested_name=(
                checked.registered_name if checked.name_match == VerificationResult.CMTC else None
            ),
            account_status=checked.account_status,
        )

    def transactions(
        self,
        query: TransactionsQuery,
        *,
        may_read: Callable[[str], bool] | None = None,
        correlation_id: str | None = None,
    ) -> TransactionPage:
        """`may_read` says whether the caller may read an account's statement (None: every
        account); one it may not read is answered exactly as an unknown one (`NotFound`)."""
        if query.from_date > query.to_date:
            raise MappingError(
                "to_date", f"a date on or after {query.from_date}", str(query.to_date)
            )
        if may_read is not None and not may_read(query.account.number):
            raise NotFound(f"no account {query.account.number}")
        return self._with_retries(lambda: self.corebank.statement(query, correlation_id))

    def _with_retries(self, call: Callable[[], T]) -> T:
        """For reads only: they can be repeated without effect."""
        for attempt in self.retry.retrying():
            with attempt:
                return call()
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover


def _posting(request: TransferRequest, tx_id: str, today: date) -> PaymentPosting:
    return PaymentPosting(
        debit_account=request.debtor.account,
        credit_account=request.creditor.account,
        credit_bank_code=request.creditor.bic,
        amount=request.amount,
        value_date=request.requested_execution_date or today,
        narrative=request.remittance_info,
        external_ref=tx_id,
    )


def _unpostable(
    request: TransferRequest, received: datetime, now: datetime, post_within: timedelta
) -> StatusReason | None:
    """Why a transfer core banking never received must not be posted now, if it must not: it
    was received longer than `post_within` ago (money moving that late would surprise the
    partner, who was told its request failed), or its requested execution date passed while it
    waited (a date the partner asked for, not one it sent already past)."""
    if now - received > post_within:
        return StatusReason(
            code=TOO_LATE,
            additional_info=f"not posted: unfinished since {received:%Y-%m-%d %H:%M} UTC",
        )
    wanted = request.requested_execution_date
    if wanted is not None and received.date() <= wanted < now.date():
        return StatusReason(
            code=DATE_PASSED,
            additional_info=f"not posted: requested execution date {wanted} has passed",
        )
    return None


def _result(record: TransferRecord) -> TransferResult:
    # A transfer stored but not yet answered by core banking is accepted, not booked.
    status = TransferStatus.ACCP if not record.finished else TransferStatus(record.status)
    reason = (
        StatusReason(code=record.reason_code, additional_info=record.reason_info)
        if record.reason_code
        else None
    )
    return TransferResult(
        tx_id=record.tx_id,
        msg_id=record.msg_id,
        status=status,
        reason=reason,
        booking_date=record.booking_date,
    )
