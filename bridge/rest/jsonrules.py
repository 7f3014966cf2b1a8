"""What the REST door refuses in a JSON body that JSON's grammar allows, naming the field.

    check_unique_keys(body)   MappingError (400) naming the first key that appears twice in one
                              object, by its JSON path: parsers keep the last, so a body could
                              say one amount to a reviewer and another to the bridge
    exact_decimals(schema)    a pydantic-core schema whose decimals accept only a JSON string in
                              xs:decimal's lexical form (``"12.50"``): a JSON number arrives as a
                              binary float (``100000000000000.01`` reads as ``...02``), and
                              `Decimal()` also reads ``"1E+2"``, ``"1_000"`` and digits of other
                              scripts, which the SOAP door's schema refuses; and whose dates and
                              times accept only their ISO 8601 text, never a number of seconds

The lexical rule itself is the mapping layer's (`bridge.mapping.scalars.DECIMAL_TEXT`), so both
doors read the same decimals.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from bridge.domain.errors import MappingError
from bridge.mapping.scalars import DECIMAL_TEXT

DECIMAL_AS_STRING = 'a decimal as a JSON string such as "12.50", not a JSON number'
DECIMAL_LEXICAL = (
    'a decimal such as "12.50": ASCII digits with an optional sign and decimal point, '
    "no exponent, digit separators or spaces"
)
UNIQUE_KEY = "each key at most once in its object"


class _Duplicated(dict[str, Any]):
    """An object that had a key twice; `key` is the first repeated one."""

    key = ""


def duplicate_key(data: bytes | str) -> str | None:
    """The JSON path of the first key repeated within one object of `data`, or None (also when
    `data` is not JSON: the reader that parses it says why)."""
    repeated: list[bool] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(items)
        if len(found) == len(items):
            return found
        duplicated = _Duplicated(found)
        duplicated.key = _first_repeated(items)
        repeated.append(True)
        return duplicated

    try:
        document = json.loads(data, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return None
    return _path_to_duplicate(document, ()) if repeated else None


def _first_repeated(items: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for key, _ in items:
        if key in seen:
            return key
        seen.add(key)
    return ""


def _path_to_duplicate(node: Any, path: tuple[str, ...]) -> str | None:
    if isinstance(node, _Duplicated):
        return ".".join((*path, node.key))
    if not isinstance(node, dict | list):
        return None
    children = node.items() if isinstance(node, dict) else enumerate(node)
    for name, child in children:
        found = _path_to_duplicate(child, (*path, str(name)))
        if found is not None:
            return found
    return None


def check_unique_keys(data: bytes | str) -> None:
    """Refuse a body in which an object has a key twice, naming the key by its JSON path."""
    path = duplicate_key(data)
    if path is not None:
        raise MappingError(path, UNIQUE_KEY, "a repeated key")


def _decimal_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise PydanticCustomError("decimal_type", DECIMAL_AS_STRING)
    if not DECIMAL_TEXT.fullmatch(value):
        raise PydanticCustomError("decimal_parsing", DECIMAL_LEXICAL)
    return value


def exact_decimals(schema: Any) -> Any:
    """A copy of the core schema `schema` with every decimal checked by `_decimal_text` first."""
    if isinstance(schema, list):
        return [exact_decimals(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copied = {key: exact_decimals(value) for key, value in schema.items()}
    if copied.get("type") == "decimal":
        wrapped: CoreSchema = core_schema.no_info_before_validator_function(
            _decimal_text,
            copied,
        )
        return wrapped
    if copied.get("type") in _TEXT_ONLY:
        text: CoreSchema = core_schema.no_info_before_validator_function(
            _TEXT_ONLY[copied["type"]], copied
        )
        return text
    return copied


def _text_only(kind: str, example: str) -> Any:
    """A check that a date or time arrives as its ISO 8601 text: pydantic would read a JSON
    number as seconds since 1970 (`"effective_date": 0` as 1970-01-01)."""
    message = f'a {kind} as a JSON string such as "{example}", not a number'

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise PydanticCustomError(f"{kind}_type", message)
        return value

    return check


_TEXT_ONLY = {
    "date": _text_only("date", "2026-01-31"),
    "datetime": _text_only("datetime", "2026-01-31T09:30:00+01:00"),
}
