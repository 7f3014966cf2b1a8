"""Path and query parameters, as pydantic models that flask-openapi3 validates and documents.

A parameter names something (an id, a cursor, a filter): no text parameter may carry a control
character (C0, DEL, C1: NUL among them, which PostgreSQL cannot even compare), an unpaired
surrogate or an invisible bidirectional override (U+202E and kin, "Trojan Source"). Such a
value is refused with a 400 naming the parameter before any lookup, on every route at once.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from werkzeug.routing import IntegerConverter

# C0, DEL and C1 controls; surrogates; bidi embeddings, overrides, isolates and marks.
UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


ISO_DATE_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _names_time(annotation: Any) -> bool:
    """Whether a field's annotation is a date or datetime (optional or not)."""
    return annotation in (date, datetime) or any(
        argument in (date, datetime) for argument in get_args(annotation)
    )


# The largest id a BIGINT column holds: a larger one names nothing (and no driver binds it).
MAX_ID = 2**63 - 1
# A cursor is a short token of the bridge's making (`bridge.rest.cursor`): a longer one is not.
MAX_CURSOR = 200


def limit_parameter(default: int, most: int, items: str) -> Any:
    """A list's `limit` query parameter: how many `items` a page holds, 1 to `most`."""
    return Field(default=default, ge=1, le=most, description=f"{items} per page")


def cursor_parameter(description: str = "The `next_cursor` of the previous page") -> Any:
    """A list's `cursor` query parameter: where the previous page ended."""
    return Field(default=None, max_length=MAX_CURSOR, description=description)


def reference_parameter(most: int, description: str) -> Any:
    """A resource's `id` in its path: the bridge's id for it, or the reference the client gave
    it, 1 to `most` characters (the longer of the two columns)."""
    return Field(min_length=1, max_length=most, description=description)


class StoredInteger(IntegerConverter):
    """`<int:...>` in routes: ASCII digits only (werkzeug's `\\d` also takes Arabic-Indic and
    other Unicode digits, so `/deliveries/٣` named delivery 3), at most a BIGINT. Anything
    else matches no route: a 404."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class Parameters(BaseModel):
    """Unknown parameters are refused (400), not ignored, so a misspelt `limt` is noticed.

    flask-openapi3 asks a query model for its JSON schema on every request (280 us measured
    here, four times a whole Flask request). The schema of a class never changes, so it is
    computed once per class and set of arguments and handed out read-only from then on.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    _schemas: ClassVar[dict[tuple[Any, ...], dict[str, Any]]] = {}

    @field_validator("*", mode="before")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        if isinstance(value, str) and UNPRINTABLE.search(value):
            raise PydanticCustomError(
                "unprintable", "Text without control, surrogate or bidirectional characters"
            )
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _iso_times(cls, value: Any, info: ValidationInfo) -> Any:
        """Dates and times as ISO 8601 text only: pydantic would also read `until=0.5` as
        seconds since 1970."""
        if info.field_name is None or not isinstance(value, str):
            return value
        annotation = cls.model_fields[info.field_name].annotation
        if _names_time(annotation) and not ISO_DATE_START.match(value):
            raise PydanticCustomError(
                "iso_8601", "an ISO 8601 date or time such as 2026-01-31 or 2026-01-31T09:30:00Z"
            )
        return value

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        key = (cls, args, tuple(sorted(kwargs.items())))
        schema = Parameters._schemas.get(key)
        if schema is None:
            schema = Parameters._schemas[key] = super().model_json_schema(*args, **kwargs)
        return schema
