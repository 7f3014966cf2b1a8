"""JSON <-> XML text for the simple types of the generic form (`bridge.mapping.generic`).

One `Scalar` per simple type, its two functions chosen once: the JSON value's type and lexical
form are checked here (a decimal's ASCII digits, an integer that is not a boolean), the facets
by the contract's validator after the message is written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bridge.mapping.scalars import DECIMAL_TEXT, Invalid, parse_bool, parse_decimal, parse_int
from bridge.mapping.xsdtree import FLOATS, INTEGERS, SimpleType

XML_SPACE = " \t\n\r"
# A decimal given as a Decimal is written out in full: refuse one whose digits would not fit
# a sensible message (1E+999999999 is a gigabyte of zeros).
_MAX_DECIMAL_DIGITS = 1000
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL_FLOATS = {"INF": math.inf, "+INF": math.inf, "-INF": -math.inf, "NaN": math.nan}


class Scalar:
    """A simple type's JSON <-> XML text conversion: `write` raises Invalid for a value of the
    wrong JSON type or lexical form; `read` turns the XML's text into its JSON value."""

    __slots__ = ("read", "simple", "write")

    def __init__(self, simple: SimpleType) -> None:
        self.simple = simple
        self.write: Callable[[Any], str]
        self.read: Callable[[str | None], Any]
        if simple.item is not None:
            item = Scalar(simple.item)
            self.write = _list_writer(item)
            self.read = _list_reader(item)
        elif simple.members:
            self.write, self.read = _write_string, _read_string
        elif simple.builtin == "boolean":
            self.write, self.read = _write_bool, parse_bool
        elif simple.builtin in INTEGERS:
            self.write, self.read = _write_int, parse_int
        elif simple.builtin == "decimal":
            self.write, self.read = _write_decimal, _read_decimal
        elif simple.builtin in FLOATS:
            self.write, self.read = _write_float, _read_float
        else:
            self.write, self.read = _write_string, _read_string


def _write_string(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("a string", value)
    return value


def _read_string(text: str | None) -> str:
    return "" if text is None else text


def _write_bool(value: Any) -> str:
    if not isinstance(value, bool):
        raise Invalid("true or false", value)
    return "true" if value else "false"


def _write_int(value: Any) -> str:
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        # JSON (and JSON Schema's "integer") has 7.0 an integer; the REST door reads it exactly
        if value.adjusted() > _MAX_DECIMAL_DIGITS:
            raise Invalid(f"an integer of at most {_MAX_DECIMAL_DIGITS} digits", value)
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid("an integer", value)
    try:
        return str(value)
    except ValueError:  # more digits than Python converts (4,300)
        raise Invalid("an integer of at most 4300 digits") from None


def _write_decimal(value: Any) -> str:
    if isinstance(value, str):
        if not DECIMAL_TEXT.fullmatch(value):
            raise Invalid(
                'a decimal as a string such as "12.50" (ASCII digits, no exponent)', value
            )
        return value
    # One rule for every door: a decimal travels as a JSON string, never as a JSON number
    # (what the document says, and what the banking door has always enforced).
    raise Invalid('a decimal as a string such as "12.50" (not a JSON number)', value)


def _read_decimal(text: str | None) -> str:
    parse_decimal(text)  # the lexical check: ASCII digits, no exponent
    return (text or "").strip(XML_SPACE)


def _write_float(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise Invalid("a number", value)
    try:
        number = float(value)
    except OverflowError:
        raise Invalid("a number a double can hold", value) from None
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "INF" if number > 0 else "-INF"
    return repr(number)


def _read_float(text: str | None) -> float:
    stripped = (text or "").strip(XML_SPACE)
    if stripped in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[stripped]
    if not _FLOAT_TEXT.fullmatch(stripped):
        raise Invalid("a floating-point number", text)
    return float(stripped)


def _list_writer(item: Scalar) -> Callable[[Any], str]:
    def write_list(value: Any) -> str:
        if not isinstance(value, list):
            raise Invalid("an array", value)
        texts = []
        for entry in value:
            text = item.write(entry)
            if not text or any(space in text for space in XML_SPACE):
                raise Invalid("list items without spaces", entry)
            texts.append(text)
        return " ".join(texts)

    return write_list


def _list_reader(item: Scalar) -> Callable[[str | None], list[Any]]:
    def read_list(text: str | None) -> list[Any]:
        return [item.read(entry) for entry in (text or "").split()]

    return read_list
