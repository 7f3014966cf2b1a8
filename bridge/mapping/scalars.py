"""Exact conversions between XML lexical forms and canonical Python values.

Each type has a parser (XML text -> value) and a formatter (value -> XML text). Parsers raise
`Invalid` with what was expected; the compiled readers and writers add the path. Nothing here
rounds: an amount with more decimals than its currency allows is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.domain.common import AccountRef, Money
from bridge.domain.iban import IBAN_PATTERN, iban_valid

Parser = Callable[[str | None], Any]
Formatter = Callable[[Any], str]


class Invalid(Exception):
    """A value that does not fit its type; the caller names the field."""

    def __init__(self, expected: str, got: object = None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.got = None if got is None else str(got)[:80]


# xs:decimal's lexical space: ASCII digits only, no exponent, no digit separators. `Decimal()`
# also reads "1E+2", "1_000", full-width, Arabic-Indic and Devanagari digits: check first.
DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
DECIMAL_EXAMPLE = "a decimal number such as 12.50 (ASCII digits, no exponent)"
# In XML the schema collapses XML whitespace (not every Unicode space) around a number.
_XML_SPACE = " \t\n\r"
_DECIMAL = re.compile(rf"[{_XML_SPACE}]*{DECIMAL_TEXT.pattern}[{_XML_SPACE}]*")
_INTEGER = re.compile(rf"[{_XML_SPACE}]*[+-]?[0-9]+[{_XML_SPACE}]*")
# Characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})
_FRACTION = re.compile(r"\.([0-9]+)")


# What `escape` changes or refuses: most texts hold none of it and are returned as they are.
_SPECIAL = re.compile(f'[&<>"\r{_NOT_XML.pattern[1:-1]}]')


def escape(text: str) -> str:
    """Escape text for an element or a double-quoted attribute; refuse what XML cannot carry."""
    if type(text) is str and _SPECIAL.search(text) is None:
        return text
    if _NOT_XML.search(text):
        raise Invalid("text without control characters", text)
    return text.translate(_ESCAPE)


# -- parsers -------------------------------------------------------------------------------------


def parse_string(text: str | None) -> str:
    return "" if text is None else text


def parse_int(text: str | None) -> int:
    if text is None or not _INTEGER.fullmatch(text):
        raise Invalid("an integer", text)
    return int(text.strip(_XML_SPACE))


def parse_decimal(text: str | None) -> Decimal:
    if text is None or not _DECIMAL.fullmatch(text):
        raise Invalid(DECIMAL_EXAMPLE, text)
    return Decimal(text.strip(_XML_SPACE))


_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def parse_bool(text: str | None) -> bool:
    value = _BOOLEANS.get((text or "").strip())
    if value is None:
        raise Invalid("true or false", text)
    return value


def parse_date(text: str | None) -> date:
    if text is None or len(text) != 10 or text[4] != "-":
        raise Invalid("a date YYYY-MM-DD", text)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("a date YYYY-MM-DD", text) from None


def parse_datetime(text: str | None) -> datetime:
    if text is None or len(text) < 20 or text[10] != "T":
        raise Invalid("a date-time with a time zone, such as 2026-11-25T10:00:00Z", text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid("a date-time with a time zone, such as 2026-11-25T10:00:00Z", text) from None
    if value.tzinfo is None:
        raise Invalid("a date-time with a time zone, such as 2026-11-25T10:00:00Z", text)
    fraction = _FRACTION.search(text, 19)
    if fraction is not None and len(fraction.group(1)) > 6:
        raise Invalid("at most 6 decimals of a second (microseconds)", text)
    return value


def parse_account_no(text: str | None) -> AccountRef:
    """A bare account number: an IBAN when it looks like one, another identifier otherwise."""
    if not text:
        raise Invalid("an account number", text)
    return AccountRef(iban=text) if IBAN_PATTERN.fullmatch(text) else AccountRef(other_id=text)


IBAN_EXPECTED = "an IBAN with valid check digits (ISO 13616), such as DE89370400440532013000"


def parse_iban(text: str | None) -> str:
    """An IBAN whose check digits are right: a typo caught here is not a payment sent astray."""
    if text is None or not iban_valid(text):
        raise Invalid(IBAN_EXPECTED, text)
    return text


# -- formatters ----------------------------------------------------------------------------------


def format_string(value: str) -> str:
    if not isinstance(value, str):
        raise Invalid("text", value)
    return escape(value)


def format_int(value: int) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid("an integer", value)
    return str(value)


def format_decimal(value: Decimal) -> str:
    if not isinstance(value, Decimal | int) or isinstance(value, bool):
        raise Invalid("a decimal number", value)
    if isinstance(value, Decimal) and not value.is_finite():
        raise Invalid("a finite decimal number", value)
    return format(value, "f")


def format_bool(value: bool) -> str:
    if not isinstance(value, bool):
        raise Invalid("true or false", value)
    return "true" if value else "false"


def format_date(value: date) -> str:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise Invalid("a date", value)
    return value.isoformat()


def format_datetime(value: datetime) -> str:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise Invalid("a date-time with a time zone", value)
    return value.isoformat()


def format_iban(value: str) -> str:
    if not isinstance(value, str) or not iban_valid(value):
        raise Invalid(IBAN_EXPECTED, value)
    return value


def format_account_no(value: AccountRef) -> str:
    if not isinstance(value, AccountRef) or not value.number:
        raise Invalid("an account reference", value)
    return escape(value.number)


@dataclass(frozen=True, slots=True)
class ScalarType:
    name: str
    parse: Parser
    format: Formatter


SCALARS: dict[str, ScalarType] = {
    "string": ScalarType("string", parse_string, format_string),
    "int": ScalarType("int", parse_int, format_int),
    "decimal": ScalarType("decimal", parse_decimal, format_decimal),
    "bool": ScalarType("bool", parse_bool, format_bool),
    "date": ScalarType("date", parse_date, format_date),
    "datetime": ScalarType("datetime", parse_datetime, format_datetime),
    "account_no": ScalarType("account_no", parse_account_no, format_account_no),
    "iban": ScalarType("iban", parse_iban, format_iban),
}

# The scalar type a canonical annotation maps to when a spec does not say.
BY_PYTHON_TYPE: dict[type, str] = {
    str: "string",
    int: "int",
    Decimal: "decimal",
    bool: "bool",
    date: "date",
    datetime: "datetime",
    AccountRef: "account_no",
}


# -- money ---------------------------------------------------------------------------------------


class Currencies:
    """ISO 4217 minor units, loaded from `mappings/codes/iso4217.yaml`."""

    def __init__(self, minor_units: Mapping[str, int]) -> None:
        self._units = dict(minor_units)
        self._quanta = {code: Decimal(1).scaleb(-units) for code, units in self._units.items()}

    def __contains__(self, code: object) -> bool:
        return code in self._units

    def minor_units(self, code: str) -> int:
        units = self._units.get(code)
        if units is None:
            raise Invalid("an ISO 4217 currency code", code)
        return units

    def from_major(self, text: str | None, currency: str | None) -> Money:
        """``12.5`` EUR -> Money(12.50, EUR); ``12.505`` EUR is refused."""
        if currency is None:
            raise Invalid("a currency code")
        quantum = self._quanta.get(currency)
        if quantum is None:
            raise Invalid("an ISO 4217 currency code", currency)
        amount = parse_decimal(text)
        return Money(amount=self._exact(amount, quantum, currency), currency=currency)

    def from_minor(self, text: str | None, currency: str | None) -> Money:
        """``1250`` EUR -> Money(12.50, EUR)."""
        if currency is None:
            raise Invalid("a currency code")
        units = self.minor_units(currency)
        return Money(amount=Decimal(parse_int(text)).scaleb(-units), currency=currency)

    def to_major(self, money: Money) -> tuple[str, str]:
        amount, currency = self._parts(money)
        quantum = self._quanta[currency]
        return format(self._exact(amount, quantum, currency), "f"), currency

    def to_minor(self, money: Money) -> tuple[str, str]:
        amount, currency = self._parts(money)
        units = self._units[currency]
        exact = self._exact(amount, self._quanta[currency], currency)
        return str(int(exact.scaleb(units))), currency

    def canonical(self, money: Money) -> Money:
        """The same money with its amount carrying exactly the currency's minor units."""
        amount, currency = self._parts(money)
        return Money(
            amount=self._exact(amount, self._quanta[currency], currency), currency=currency
        )

    def _parts(self, money: Money) -> tuple[Decimal, str]:
        if not isinstance(money, Money):
            raise Invalid("an amount with a currency", money)
        amount, currency = money.amount, money.currency
        if currency not in self._units:
            raise Invalid("an ISO 4217 currency code", currency)
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise Invalid("a finite decimal amount", amount)
        return amount, currency

    @staticmethod
    def _exact(amount: Decimal, quantum: Decimal, currency: str) -> Decimal:
        try:
            exact = amount.quantize(quantum)
        except InvalidOperation:
            raise Invalid(f"an amount that fits {currency}", amount) from None
        if exact != amount:
            digits = -quantum.as_tuple().exponent  # type: ignore[operator]
            raise Invalid(f"at most {digits} decimals for {currency}", amount)
        return exact
