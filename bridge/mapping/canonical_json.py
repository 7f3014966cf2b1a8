"""The canonical model as JSON: what the REST facade speaks and what outbox rows store.

Amounts are JSON strings ("12.50"), never floats; dates and date-times are ISO 8601. Reading
validates through pydantic against the canonical class (one adapter per class, built once).
"""

from __future__ import annotations

import typing
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

import orjson
from pydantic import TypeAdapter, ValidationError

from bridge.domain.errors import MappingError

T = TypeVar("T")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not part of the canonical model")


def dumps(message: Any) -> bytes:
    return orjson.dumps(message, default=_default)


@cache
def _adapter(model: type) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def loads(model: type[T], data: bytes | str) -> T:
    """JSON -> canonical object, or a MappingError naming the first bad field by its JSON path."""
    try:
        message: T = _adapter(typing.cast(type, model)).validate_json(data)
        return message
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(part) for part in first["loc"]) or "(body)"
        expected = _EXPECTED.get(first["type"], first["msg"].lower())
        raise MappingError(path, expected, _shown(first.get("input"))) from None


# pydantic's wording where it does not say what would have been accepted.
_EXPECTED = {
    "missing": "a value: the field is required",
    "unexpected_keyword_argument": "no such field",
}


def _shown(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)[:80]
