"""The read side of a compiled mapping: XML element -> canonical object.

A spec is compiled into a plan (`readgen.Group`: the children each element knows by Clark-notation
tag, ``{urn:...}Name``, and what each is read as), so the reader is namespace-aware and indifferent
to prefixes; `readgen` turns the plan into one generated function per canonical class."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any

from bridge.domain.common import Money
from bridge.mapping.context import (
    Context,
    FieldType,
    check_covered,
    code_table,
    field_type,
    path_segments,
    scalar_type,
)
from bridge.mapping.readgen import (
    Attribute,
    Codes,
    Combine,
    Group,
    Leaf,
    MoneyAttr,
    Nested,
    Raw,
    Scalar,
    generate,
)
from bridge.mapping.scalars import Invalid, ScalarType
from bridge.mapping.spec import FieldSpec


class ObjectReader:
    """Reads one element into an instance of a canonical class."""

    def __init__(self, cls: type, root: Group, finish: list[Combine], where: dict[str, str]):
        """`where`: canonical field -> XML path, in the spec's order, for "missing" errors."""
        self.cls = cls
        self.read: Callable[[Any], Any] = generate(cls, root, finish, where)


def compile_reader(
    ctx: Context, cls: type, fields: tuple[FieldSpec, ...], path: str
) -> ObjectReader:
    hints = typing.get_type_hints(cls)
    check_covered(ctx, cls, fields, path)
    root = Group(path)
    finish: list[Combine] = []
    where: dict[str, str] = {}
    for spec in fields:
        segments = path_segments(spec.path)
        attribute = segments[-1][1:] if segments and segments[-1].startswith("@") else None
        if attribute is not None:
            segments = segments[:-1]
        group, here = root, path
        for segment in segments[:-1] if attribute is None else segments:
            here = f"{here}/{segment}"
            group = group.group(ctx.clark(segment), here)
        leaf_path = f"{here}/@{attribute}" if attribute else f"{here}/{segments[-1]}"
        for name in spec.names:
            where[name] = leaf_path
        if attribute is not None:
            parse = _leaf_parser(ctx, cls, hints, spec, leaf_path).parse
            group.attributes.append(Attribute(attribute, spec.names[0], leaf_path, parse))
            continue
        tag = ctx.clark(segments[-1])
        if tag in group.table:
            raise ctx.fail(leaf_path, "two fields map to the same element")
        group.table[tag] = _leaf(ctx, cls, hints, spec, leaf_path, group, here, finish)
    return ObjectReader(cls, root, finish, where)


def _leaf(
    ctx: Context,
    cls: type,
    hints: dict[str, Any],
    spec: FieldSpec,
    path: str,
    group: Group,
    parent_path: str,
    finish: list[Combine],
) -> Leaf:
    name = spec.names[0]
    if len(spec.names) > 1:
        return _multi_code(ctx, cls, hints, spec, path)
    ftype = field_type(hints[name])
    if ftype.base is Money:
        return _money(ctx, spec, path, group, parent_path, finish, ftype)
    if dataclasses.is_dataclass(ftype.base) and spec.code is None and spec.type is None:
        if spec.fields is None:
            raise ctx.fail(path, f"{name} is a {ftype.base!r}: it needs `fields`")
        reader = compile_reader(ctx, typing.cast(type, ftype.base), spec.fields, path)
        return Nested(name, path, reader.read, ftype.repeated)
    scalar = _leaf_parser(ctx, cls, hints, spec, path)
    return dataclasses.replace(scalar, key=name, path=path, repeated=ftype.repeated)


def _leaf_parser(
    ctx: Context, cls: type, hints: dict[str, Any], spec: FieldSpec, path: str
) -> Scalar:
    """How the text of the field's element (or attribute) is read: a code, an enum, a scalar."""
    name = spec.names[0]
    if name not in hints:
        raise ctx.fail(path, f"{cls.__name__} has no field {name!r}")
    ftype = field_type(hints[name])
    if spec.code is not None:
        table = code_table(ctx, spec, [ftype.base], path)
        choices = {code: values[0] for code, values in table.codes.items()}
        return _choice(name, path, choices, f"one of the codes {', '.join(choices)}")
    if isinstance(ftype.base, type) and issubclass(ftype.base, Enum):
        members = {str(m.value): m for m in ftype.base}
        return _choice(name, path, members, f"one of {', '.join(members)}")
    scalar: ScalarType = scalar_type(ctx, spec, ftype, path)
    return Scalar(name, path, scalar.parse)


def _choice(name: str, path: str, choices: dict[str, Any], expected: str) -> Scalar:
    """A text that must be one of `choices`' keys (a code, an enum's value), read as its value."""

    def parse_choice(text: Any) -> Any:
        try:
            return choices[text]
        except KeyError:
            raise Invalid(expected, text) from None

    return Scalar(name, path, parse_choice, choices=choices, expected=expected)


def _multi_code(
    ctx: Context, cls: type, hints: dict[str, Any], spec: FieldSpec, path: str
) -> Codes:
    for name in spec.names:
        if name not in hints:
            raise ctx.fail(path, f"{cls.__name__} has no field {name!r}")
    bases = [field_type(hints[n]).base for n in spec.names]
    table = code_table(ctx, spec, bases, path)
    return Codes(spec.names, path, table.codes, f"one of the codes {', '.join(table.codes)}")


def _money(
    ctx: Context,
    spec: FieldSpec,
    path: str,
    group: Group,
    parent_path: str,
    finish: list[Combine],
    ftype: FieldType,
) -> Leaf:
    name = spec.names[0]
    if spec.currency is None:
        raise ctx.fail(path, 'money needs `currency:` ("@Attr" or a sibling element)')
    if spec.units not in ("major", "minor"):
        raise ctx.fail(path, "`units:` is major (12.50) or minor (1250)")
    to_money = ctx.currencies.from_major if spec.units == "major" else ctx.currencies.from_minor
    if spec.currency.startswith("@"):
        return MoneyAttr(name, path, to_money, spec.currency[1:], ftype.repeated)
    if ftype.repeated:
        raise ctx.fail(path, "repeated money needs its currency as an attribute")
    amount_key, currency_key = f"{name}#amount", f"{name}#currency"
    currency_path = f"{parent_path}/{spec.currency}"
    currency_tag = ctx.clark(spec.currency)
    if "/" in spec.currency or currency_tag in group.table:
        raise ctx.fail(path, "the currency element must be a sibling not mapped elsewhere")
    group.table[currency_tag] = Raw(currency_key, currency_path)
    finish.append(Combine(name, amount_key, currency_key, path, currency_path, to_money))
    return Raw(amount_key, path)
