"""Hypothesis strategies for the values every contract shares. Each contract's module builds its
canonical messages from these; values stay inside what the contracts' schemas accept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import strategies as st

from bridge.domain import AccountRef, Money

# Currencies with 0, 2 and 3 minor units, as the contracts and DESIGN.md name them.
MINOR_UNITS = {"JPY": 0, "VND": 0, "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "BHD": 3, "KWD": 3}

ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=7)), timezone(timedelta(hours=-5))]
)


def xml_text(min_size: int = 1, max_size: int = 35) -> st.SearchStrategy[str]:
    """Unicode text XML 1.0 can carry, without leading/trailing whitespace (schema-safe)."""
    chars = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"))
    return (
        st.text(alphabet=chars, min_size=min_size, max_size=max_size)
        .map(str.strip)
        .filter(lambda s: len(s) >= min_size)
    )


def names(max_size: int = 70) -> st.SearchStrategy[str]:
    """Names mixing scripts the bridge must carry (German, Vietnamese, Japanese)."""
    samples = st.sampled_from(
        ["Müller & Söhne GmbH", "Nguyễn Thị Minh Khai", "山田花子", "Jürgen Weiß", "O'Brien <Ltd>"]
    )
    return st.one_of(samples, xml_text(1, max_size))


def money(min_minor: int = 1, max_minor: int = 10**12) -> st.SearchStrategy[Money]:
    return st.builds(
        lambda currency, minor: Money(
            amount=Decimal(minor).scaleb(-MINOR_UNITS[currency]), currency=currency
        ),
        st.sampled_from(sorted(MINOR_UNITS)),
        st.integers(min_minor, max_minor),
    )


def with_check_digits(country: str, bban: str) -> str:
    """The IBAN of `bban` in `country`, check digits computed (ISO 13616: 98 - n mod 97)."""
    digits = int("".join(str(int(char, 36)) for char in bban + country + "00"))
    return f"{country}{98 - digits % 97:02d}{bban}"


# IBANs the banking contract accepts: its pattern and valid check digits.
IBANS = st.builds(
    with_check_digits,
    st.from_regex(r"[A-Z]{2}", fullmatch=True),
    st.from_regex(r"[A-Z0-9]{11,30}", fullmatch=True),
)
BICS = st.from_regex(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?", fullmatch=True)
LOCAL_ACCOUNT_NUMBERS = st.from_regex(r"[0-9]{6,20}", fullmatch=True)
COUNTRIES = st.from_regex(r"[A-Z]{2}", fullmatch=True)

ACCOUNTS = st.one_of(
    st.builds(AccountRef, iban=IBANS),
    st.builds(AccountRef, other_id=xml_text(1, 34)),
)
# An account as a bare number (core banking): IBANs, or local numbers that cannot look like one.
ACCOUNT_NUMBERS = st.one_of(
    st.builds(AccountRef, iban=IBANS),
    st.builds(AccountRef, other_id=LOCAL_ACCOUNT_NUMBERS),
)

DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
DATETIMES = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 12, 31), timezones=ZONES
)
