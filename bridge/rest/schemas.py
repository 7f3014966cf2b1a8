"""What the REST door reads and writes, as schemas generated from the classes themselves.

Bodies are the canonical dataclasses of `bridge.domain` (the REST JSON *is* the canonical model
serialised); the few shapes only REST has (a page of transactions with its cursor, the name to
verify, a problem) are defined here. pydantic derives both the validation and the OpenAPI
component schemas from the same classes, so the document cannot drift from what is accepted.
Everything is built once, at import: no schema work happens per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from flask import request
from pydantic import Field, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema
from werkzeug.exceptions import UnsupportedMediaType

from bridge.domain import (
    AccountVerification,
    Transaction,
    TransferRequest,
    TransferResult,
)
from bridge.rest.problems import InvalidFields, InvalidJson, Problem

T = TypeVar("T")

REF_TEMPLATE = "#/components/schemas/{model}"
JSON = "application/json"


@dataclass(slots=True, kw_only=True)
class VerificationRequest:
    """The name to check against the account named in the path."""

    name: Annotated[str, Field(min_length=1, max_length=140)]


@dataclass(slots=True, kw_only=True)
class TransactionList:
    """One page of an account's booked transactions; `next_cursor` fetches the next, if any."""

    transactions: list[Transaction] = field(default_factory=list)
    next_cursor: str | None = None


class CanonicalJsonSchema(GenerateJsonSchema):
    """Amounts travel as JSON strings ("12.50", exact) in both directions; pydantic would also
    advertise a JSON number for decimals on input, which is the float this API avoids."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
            "examples": ["12.50"],
        }


class JsonBody(Generic[T]):
    """A request body of type `model`: media type checked, JSON parsed and validated in one pass
    by pydantic-core, every bad field reported by its JSON path."""

    def __init__(self, model: type[T]) -> None:
        self.model = model
        self._adapter: TypeAdapter[T] = TypeAdapter(model)

    def read(self) -> T:
        if not _is_json(request.mimetype):
            raise UnsupportedMediaType(
                f"send the body as {JSON}, not {request.mimetype or 'without a Content-Type'}"
            )
        try:
            return self._adapter.validate_json(request.get_data(cache=True))
        except ValidationError as exc:
            for error in exc.errors():
                if error["type"] == "json_invalid":
                    raise InvalidJson(f"the body is not valid JSON: {error['msg']}") from None
            raise InvalidFields.from_validation(exc) from None

    @property
    def component(self) -> str:
        return self.model.__name__


def _is_json(mimetype: str) -> bool:
    return mimetype == JSON or (mimetype.startswith("application/") and mimetype.endswith("+json"))


# Every class the REST door documents; their nested classes come along as components too.
DOCUMENTED: tuple[type[Any], ...] = (
    TransferRequest,
    TransferResult,
    VerificationRequest,
    AccountVerification,
    TransactionList,
    Problem,
)


def component_schemas() -> dict[str, Any]:
    """The OpenAPI `components.schemas` of every documented class, keyed by class name."""
    keyed, definitions = TypeAdapter.json_schemas(
        [(model.__name__, "validation", TypeAdapter(model)) for model in DOCUMENTED],
        ref_template=REF_TEMPLATE,
        schema_generator=CanonicalJsonSchema,
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    for (name, _mode), schema in keyed.items():
        if schema.get("$ref") != REF_TEMPLATE.format(model=name):
            schemas[name] = schema
    return schemas
