"""The core banking simulator's rules, as a zeep client sees them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import zeep
from zeep.helpers import serialize_object

from bridge.sims import SimControl
from tests.sims.messages import (
    AN_VND,
    BAKERY,
    BLOCKED_HANAKO,
    CLOSED_DUC,
    GROSSMANN,
    HOANG_BHD,
    SAKURA,
    SCHAEFER_BHD,
    THU_HA,
    YAMADA,
    payment,
)


def balances(control: Callable[[str], SimControl]) -> dict[str, int]:
    state = control("corebank").state()
    return {account["account_no"]: account["balance_minor"] for account in state["accounts"]}


def test_posted_payment_moves_the_money_and_books_two_entries(
    corebank: Any, control: Callable[[str], SimControl]
) -> None:
    before = balances(control)

    result = corebank.PostPayment(**payment("CB-OK-1", amountMinor=12_345))

    assert result.resultCode == "00"
    assert result.resultText == "Posted"
    assert result.postingDate == date(2025, 6, 2)
    assert result.paymentId.startswith("PAY")
    after = balances(control)
    assert after[BAKERY] == before[BAKERY] - 12_345
    assert after[GROSSMANN] == before[GROSSMANN] + 12_345
    page = corebank.GetStatement(
        accountNo=GROSSMANN,
        fromDate=date(2025, 6, 2),
        toDate=date(2025, 6, 2),
        pageNo=1,
        pageSize=10,
    )
    assert [(e.entryId, e.direction, e.amountMinor, e.counterpartyName) for e in page.entry] == [
        (f"{result.paymentId}-C", "C", 12_345, "Bäckerei Müller & Söhne GmbH")
    ]


def test_retried_external_ref_returns_the_first_result_without_a_second_posting(
    corebank: Any, control: Callable[[str], SimControl]
) -> None:
    before = balances(control)

    first = corebank.PostPayment(**payment("CB-DUP-1", amountMinor=500))
    second = corebank.PostPayment(**payment("CB-DUP-1", amountMinor=500))

    assert serialize_object(second) == serialize_object(first)
    assert balances(control)[BAKERY] == before[BAKERY] - 500
    assert len(control("corebank").effects(key="CB-DUP-1")) == 1
    calls = control("corebank").calls("PostPayment", key="CB-DUP-1")
    assert [call["duplicate"] for call in calls] == [False, True]


def test_a_retry_with_another_body_still_gets_the_first_result_and_is_flagged(
    corebank: Any, control: Callable[[str], SimControl]
) -> None:
    first = corebank.PostPayment(**payment("CB-CONFLICT", amountMinor=500))
    second = corebank.PostPayment(**payment("CB-CONFLICT", amountMinor=999_999))

    assert second.paymentId == first.paymentId
    last = control("corebank").calls("PostPayment", key="CB-CONFLICT")[-1]
    assert last["summary"]["conflicts"] == ["CB-CONFLICT"]


def test_a_refusal_is_stored_and_answered_again_too(corebank: Any) -> None:
    first = corebank.PostPayment(**payment("CB-51-TWICE", debitAccountNo=THU_HA, amountMinor=2_501))
    second = corebank.PostPayment(**payment("CB-51-TWICE", debitAccountNo=THU_HA, amountMinor=1))

    assert (first.resultCode, second.resultCode) == ("51", "51")


@pytest.mark.parametrize(
    ("fields", "code", "text"),
    [
        ({"debitAccountNo": THU_HA, "amountMinor": 2_501}, "51", "Insufficient funds"),
        ({"debitAccountNo": "DE02120300000000202051"}, "14", "Unknown debit account"),
        ({"creditAccountNo": "999999"}, "14", "Unknown credit account"),
        ({"debitAccountNo": CLOSED_DUC, "amountMinor": 1}, "14", "Debit account is closed"),
        ({"creditAccountNo": CLOSED_DUC}, "14", "Credit account is closed"),
        (
            {"debitAccountNo": BLOCKED_HANAKO, "creditAccountNo": YAMADA, "currencyCode": "JPY"},
            "14",
            "Debit account is blocked",
        ),
        (
            {"currencyCode": "USD"},
            "14",
            "Currency USD does not match the debit account currency EUR",
        ),
        (
            {"creditAccountNo": YAMADA},
            "14",
            "Currency EUR does not match the credit account currency JPY",
        ),
        ({"creditAccountNo": BAKERY}, "14", "Debit and credit account are the same"),
        (
            {"amountMinor": 1_000_000},
            "09",
            "Pending: EUR amounts from 1000000 minor units need review",
        ),
        (
            {"creditAccountNo": "DE02120300000000202051", "creditBankCode": "BYLADEM1001"},
            "09",
            "Pending: forwarded to BYLADEM1001 for clearing",
        ),
    ],
    ids=[
        "insufficient_funds",
        "unknown_debit",
        "unknown_credit",
        "closed_debit",
        "closed_credit",
        "blocked_debit",
        "currency_mismatch_debit",
        "currency_mismatch_credit",
        "same_account",
        "pending_over_threshold",
        "pending_other_bank",
    ],
)
def test_payment_rules(
    corebank: Any,
    control: Callable[[str], SimControl],
    fields: dict[str, Any],
    code: str,
    text: str,
) -> None:
    before = balances(control)

    result = corebank.PostPayment(**payment("CB-RULE", **fields))

    assert (result.resultCode, result.resultText) == (code, text)
    assert result.postingDate is None
    assert (result.paymentId is not None) == (code == "09")
    assert balances(control) == before


def test_local_bank_code_and_minor_units_of_bhd_and_jpy(corebank: Any) -> None:
    bhd = corebank.PostPayment(
        **payment(
            "CB-BHD",
            debitAccountNo=SCHAEFER_BHD,
            creditAccountNo=HOANG_BHD,
            creditBankCode="0142",
            amountMinor=1_250_500,
            currencyCode="BHD",
        )
    )
    jpy = corebank.PostPayment(
        **payment(
            "CB-JPY",
            debitAccountNo=YAMADA,
            creditAccountNo=SAKURA,
            amountMinor=1_250,
            currencyCode="JPY",
        )
    )

    assert (bhd.resultCode, jpy.resultCode) == ("00", "00")


def test_inquiry_finds_the_stored_result_or_says_not_found(corebank: Any) -> None:
    posted = corebank.PostPayment(**payment("CB-INQ-1"))

    found = corebank.InquirePayment(externalRef="CB-INQ-1")
    missing = corebank.InquirePayment(externalRef="CB-INQ-NEVER")

    assert found.found is True
    assert (found.paymentId, found.resultCode, found.postingDate) == (
        posted.paymentId,
        "00",
        posted.postingDate,
    )
    assert missing.found is False
    assert missing.resultCode is None


@pytest.mark.parametrize(
    ("account", "name", "match", "status", "registered"),
    [
        (AN_VND, "Nguyễn Văn An", "FULL", "OPEN", "Nguyễn Văn An"),
        (AN_VND, "NGUYEN VAN AN", "PARTIAL", "OPEN", "Nguyễn Văn An"),
        (AN_VND, "Văn An Nguyễn", "PARTIAL", "OPEN", "Nguyễn Văn An"),
        (GROSSMANN, "Jurgen Grossmann", "PARTIAL", "OPEN", "Jürgen Großmann"),
        (YAMADA, "山田太郎", "PARTIAL", "OPEN", "山田 太郎"),
        (BLOCKED_HANAKO, "山田 花子", "FULL", "BLOCKED", "山田 花子"),
        (CLOSED_DUC, "Hans Meier", "NONE", "CLOSED", None),
    ],
)
def test_account_validation_matches_names_case_and_accent_insensitively(
    corebank: Any, account: str, name: str, match: str, status: str, registered: str | None
) -> None:
    result = corebank.ValidateAccount(accountNo=account, holderName=name)

    assert (result.resultCode, result.nameMatch, result.accountStatus) == ("00", match, status)
    assert result.registeredName == registered


def test_an_unknown_account_validates_as_14_without_status(corebank: Any) -> None:
    result = corebank.ValidateAccount(accountNo="DE02120300000000202051", holderName="Max")

    assert (result.resultCode, result.nameMatch, result.accountStatus) == ("14", "NONE", None)


def test_statement_pages_cover_every_entry_once_in_booking_order(corebank: Any) -> None:
    def page(number: int) -> Any:
        return corebank.GetStatement(
            accountNo=BAKERY,
            fromDate=date(2025, 5, 1),
            toDate=date(2025, 5, 31),
            pageNo=number,
            pageSize=5,
        )

    pages = [page(1), page(2), page(3), page(4)]

    assert [len(p.entry) for p in pages] == [5, 5, 2, 0]
    assert [p.hasMore for p in pages] == [True, True, False, False]
    dates = [entry.bookingDate for p in pages for entry in p.entry]
    assert dates == sorted(dates)
    assert len({entry.entryId for p in pages for entry in p.entry}) == 12


def test_statement_period_bounds_are_inclusive(corebank: Any) -> None:
    result = corebank.GetStatement(
        accountNo=BAKERY, fromDate=date(2025, 5, 2), toDate=date(2025, 5, 5), pageNo=1, pageSize=50
    )

    assert [entry.entryId for entry in result.entry] == ["E20250502-0001", "E20250505-0002"]
    assert result.hasMore is False


def test_statement_of_an_unknown_account_is_a_client_fault(
    corebank: Any, control: Callable[[str], SimControl]
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as fault:
        corebank.GetStatement(
            accountNo="999999",
            fromDate=date(2025, 5, 1),
            toDate=date(2025, 5, 2),
            pageNo=1,
            pageSize=1,
        )

    assert fault.value.code.endswith("Client.UnknownAccount")
    (call,) = control("corebank").calls("GetStatement")
    assert call["summary"]["faultcode"].endswith("Client.UnknownAccount")


def test_statement_with_from_after_to_is_a_client_fault(corebank: Any) -> None:
    with pytest.raises(zeep.exceptions.Fault) as fault:
        corebank.GetStatement(
            accountNo=BAKERY,
            fromDate=date(2025, 5, 2),
            toDate=date(2025, 5, 1),
            pageNo=1,
            pageSize=1,
        )

    assert fault.value.code.endswith("Client.InvalidPeriod")


def test_injected_unavailability_answers_91_posts_nothing_and_a_retry_posts(
    corebank: Any, control: Callable[[str], SimControl]
) -> None:
    control("corebank").inject("unavailable", 1)
    before = balances(control)

    down = corebank.PostPayment(**payment("CB-91"))
    inquiry = corebank.InquirePayment(externalRef="CB-91")
    retry = corebank.PostPayment(**payment("CB-91"))

    assert (down.resultCode, down.paymentId) == ("91", None)
    assert inquiry.found is False
    assert retry.resultCode == "00"
    assert balances(control)[BAKERY] == before[BAKERY] - 12_345
    assert [call["fault"] for call in control("corebank").calls("PostPayment")] == [
        "unavailable",
        None,
    ]
