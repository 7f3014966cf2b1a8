"""What the reader and the writer of a compiled mapping share: the canonical field types, the
compile context (the spec, code tables, currencies) and the checks a spec must pass both ways."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any

from bridge.domain.errors import ConfigurationError
from bridge.mapping.scalars import (
    BY_PYTHON_TYPE,
    SCALARS,
    Currencies,
)
from bridge.mapping.spec import CodeTable, FieldSpec, MessageSpec

Values = dict[str, Any]
ReadHandler = Callable[[Any, Values], None]
Emitter = Callable[[Any, list[str]], None]


@dataclasses.dataclass(frozen=True, slots=True)
class FieldType:
    """What a canonical annotation says about a field."""

    base: Any
    optional: bool
    repeated: bool


def field_type(annotation: Any) -> FieldType:
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            raise ConfigurationError(f"unsupported canonical annotation {annotation!r}")
        annotation = args[0]
        origin = typing.get_origin(annotation)
    if origin is list:
        return FieldType(typing.get_args(annotation)[0], optional, True)
    return FieldType(annotation, optional, False)


class Context:
    """What every compiled node needs: the spec (for error messages), tables and currencies."""

    def __init__(
        self, spec: MessageSpec, codes: dict[str, CodeTable], currencies: Currencies
    ) -> None:
        self.spec = spec
        self.codes = codes
        self.currencies = currencies

    def fail(self, where: str, message: str) -> ConfigurationError:
        return ConfigurationError(f"mapping {self.spec.name}, {where}: {message}")

    def clark(self, segment: str) -> str:
        prefix, _, local = segment.rpartition(":")
        if not prefix:
            return f"{{{self.spec.namespace}}}{local}" if self.spec.namespace else local
        uri = self.spec.namespaces.get(prefix)
        if uri is None:
            raise self.fail(segment, f"undeclared namespace prefix {prefix!r}")
        return f"{{{uri}}}{local}"


def path_segments(path: str) -> list[str]:
    return [part for part in path.strip("/").split("/") if part]


def scalar_type(ctx: Context, spec: FieldSpec, ftype: FieldType, path: str) -> Any:
    type_name = spec.type or BY_PYTHON_TYPE.get(ftype.base)
    if type_name not in SCALARS:
        raise ctx.fail(
            path, f"no XML type for {ftype.base!r}; say `type:` one of {sorted(SCALARS)}"
        )
    return SCALARS[type_name]


def code_table(ctx: Context, spec: FieldSpec, bases: list[Any], path: str) -> CodeTable:
    table = ctx.codes.get(spec.code or "")
    if table is None:
        raise ctx.fail(path, f"unknown code table {spec.code!r}")
    if table.fields and tuple(table.fields) != spec.names:
        raise ctx.fail(
            path, f"code table {table.name} is for fields {table.fields}, not {spec.names}"
        )
    converted: dict[str, tuple[Any, ...]] = {}
    for code, values in table.codes.items():
        converted[code] = tuple(
            canonical_value(ctx, base, v, path) for base, v in zip(bases, values, strict=True)
        )
    return CodeTable(table.name, table.fields, converted)


def canonical_value(ctx: Context, base: Any, value: Any, path: str) -> Any:
    if value is None:
        return None
    if isinstance(base, type) and issubclass(base, Enum):
        try:
            return base(value)
        except ValueError:
            raise ctx.fail(path, f"{value!r} is not a {base.__name__}") from None
    if base is Decimal:
        return Decimal(str(value))
    if isinstance(base, type) and not isinstance(value, base):
        raise ctx.fail(path, f"{value!r} is not a {base.__name__}")
    return value


def check_covered(ctx: Context, cls: type, fields: tuple[FieldSpec, ...], path: str) -> None:
    """Every canonical field must be mapped, or a round trip would lose it."""
    mapped = {name for spec in fields for name in spec.names}
    declared = {f.name for f in dataclasses.fields(cls)}
    if mapped - declared:
        raise ctx.fail(path, f"{cls.__name__} has no fields {sorted(mapped - declared)}")
    if declared - mapped:
        raise ctx.fail(path, f"fields of {cls.__name__} not mapped: {sorted(declared - mapped)}")
