"""The read side of a compiled mapping: XML element -> canonical object.

The reader walks each element's children once and dispatches on the child's Clark-notation tag
(``{urn:...}Name``) through a dict built at start-up, so it is namespace-aware and indifferent to
prefixes."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any

from lxml import etree

from bridge.domain.common import Money
from bridge.domain.errors import ConfigurationError, MappingError
from bridge.mapping.context import (
    Context,
    FieldType,
    ReadHandler,
    Values,
    check_covered,
    code_table,
    field_type,
    path_segments,
    scalar_type,
)
from bridge.mapping.scalars import Invalid, ScalarType
from bridge.mapping.spec import FieldSpec


class _ReadGroup:
    """The children of one XML element that a compiled object knows, by Clark tag."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.table: dict[str, ReadHandler | _ReadGroup] = {}
        self.attributes: list[tuple[str, ReadHandler]] = []

    def group(self, tag: str, path: str) -> _ReadGroup:
        existing = self.table.get(tag)
        if existing is None:
            existing = self.table[tag] = _ReadGroup(path)
        if not isinstance(existing, _ReadGroup):
            raise ConfigurationError(f"{path}: used both as a field and as a group")
        return existing

    def freeze(self) -> ReadHandler:
        table: dict[str, ReadHandler] = {
            tag: (h.freeze() if isinstance(h, _ReadGroup) else h) for tag, h in self.table.items()
        }
        attributes = tuple(self.attributes)
        path = self.path

        def fill(element: Any, values: Values) -> None:
            for child in element:
                handler = table.get(child.tag)
                if handler is None:
                    if isinstance(child.tag, str):
                        raise _unexpected(path, child.tag, table)
                    continue  # comments and processing instructions carry no data
                handler(child, values)
            for _, read_attribute in attributes:
                read_attribute(element, values)

        return fill


def _unexpected(path: str, tag: str, table: dict[str, Any]) -> MappingError:
    name = etree.QName(tag)
    for known in table:
        if etree.QName(known).localname == name.localname:  # right name, wrong namespace
            return MappingError(
                f"{path}/{name.localname}",
                f"{name.localname} in namespace {etree.QName(known).namespace or '(none)'}",
                f"{name.localname} in namespace {name.namespace or '(none)'}",
            )
    return MappingError(
        f"{path}/{name.localname}", f"one of the elements {_names(table)}", "an unexpected element"
    )


def _names(table: dict[str, Any]) -> str:
    return ", ".join(etree.QName(tag).localname for tag in table) or "(none)"


class ObjectReader:
    """Reads one element into an instance of a canonical class."""

    def __init__(
        self,
        cls: type,
        fill: ReadHandler,
        finish: list[Callable[[Values], None]],
        where: dict[str, str],
    ) -> None:
        self.cls = cls
        self._fill = fill
        self._finish = tuple(finish)
        self._where = where  # canonical field -> XML path, for "missing" errors

    def read(self, element: Any) -> Any:
        values: Values = {}
        self._fill(element, values)
        for finish in self._finish:
            finish(values)
        try:
            return self.cls(**values)
        except TypeError:
            for name, path in self._where.items():
                if name not in values and _is_required(self.cls, name):
                    raise MappingError(path, "a required element", "nothing") from None
            raise


def _is_required(cls: type, name: str) -> bool:
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    return False


def _convert(path: str, parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(text: Any) -> Any:
        try:
            return parse(text)
        except Invalid as exc:
            raise MappingError(path, exc.expected, exc.got) from None

    return convert


def _store(name: str, path: str, repeated: bool) -> Callable[[Values, Any], None]:
    if repeated:

        def append(values: Values, value: Any) -> None:
            items = values.get(name)
            if items is None:
                values[name] = [value]
            else:
                items.append(value)

        return append

    def put(values: Values, value: Any) -> None:
        if name in values:
            raise MappingError(path, "this element at most once", "a repeated element")
        values[name] = value

    return put


def _index_errors(
    item_path: str, count: Callable[[], int]
) -> Callable[[MappingError], MappingError]:
    def indexed(exc: MappingError) -> MappingError:
        position = f"{item_path}[{count() + 1}]"
        rest = exc.path[len(item_path) :] if exc.path.startswith(item_path) else ""
        return MappingError(position + rest, exc.expected, exc.got)

    return indexed


def compile_reader(
    ctx: Context, cls: type, fields: tuple[FieldSpec, ...], path: str
) -> ObjectReader:
    hints = typing.get_type_hints(cls)
    check_covered(ctx, cls, fields, path)
    root = _ReadGroup(path)
    finish: list[Callable[[Values], None]] = []
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
            parse = _leaf_parser(ctx, cls, hints, spec, leaf_path)
            store = _store(spec.names[0], leaf_path, False)
            convert = _convert(leaf_path, parse)
            group.attributes.append((attribute, _attribute_reader(attribute, convert, store)))
            continue
        tag = ctx.clark(segments[-1])
        if tag in group.table:
            raise ctx.fail(leaf_path, "two fields map to the same element")
        group.table[tag] = _leaf_reader(ctx, cls, hints, spec, leaf_path, group, here, finish)
    return ObjectReader(cls, root.freeze(), finish, where)


def _attribute_reader(
    name: str, convert: Callable[[Any], Any], store: Callable[[Values, Any], None]
) -> ReadHandler:
    def read(element: Any, values: Values) -> None:
        text = element.get(name)
        if text is not None:
            store(values, convert(text))

    return read


def _leaf_reader(
    ctx: Context,
    cls: type,
    hints: dict[str, Any],
    spec: FieldSpec,
    path: str,
    group: _ReadGroup,
    parent_path: str,
    finish: list[Callable[[Values], None]],
) -> ReadHandler:
    name = spec.names[0]
    if len(spec.names) > 1:
        return _multi_code_reader(ctx, cls, hints, spec, path)
    ftype = field_type(hints[name])
    if ftype.base is Money:
        return _money_reader(ctx, spec, path, group, parent_path, finish, ftype)
    store = _store(name, path, ftype.repeated)
    if dataclasses.is_dataclass(ftype.base) and spec.code is None and spec.type is None:
        if spec.fields is None:
            raise ctx.fail(path, f"{name} is a {ftype.base!r}: it needs `fields`")
        reader = compile_reader(ctx, typing.cast(type, ftype.base), spec.fields, path)
        read = reader.read
        if ftype.repeated:

            def read_item(element: Any, values: Values) -> None:
                items = values.setdefault(name, [])
                try:
                    items.append(read(element))
                except MappingError as exc:
                    raise _index_errors(path, lambda: len(items))(exc) from None

            return read_item

        def read_object(element: Any, values: Values) -> None:
            store(values, read(element))

        return read_object
    parse = _leaf_parser(ctx, cls, hints, spec, path)
    if ftype.repeated:
        convert = _convert(path, parse)

        def read_scalars(element: Any, values: Values) -> None:
            store(values, convert(element.text))

        return read_scalars

    # The hot path of every mapping: one call per element, no helper calls on success.
    def read_scalar(element: Any, values: Values) -> None:
        if name in values:
            raise MappingError(path, "this element at most once", "a repeated element")
        try:
            values[name] = parse(element.text)
        except Invalid as exc:
            raise MappingError(path, exc.expected, exc.got) from None

    return read_scalar


def _leaf_parser(
    ctx: Context, cls: type, hints: dict[str, Any], spec: FieldSpec, path: str
) -> Callable[[Any], Any]:
    name = spec.names[0]
    if name not in hints:
        raise ctx.fail(path, f"{cls.__name__} has no field {name!r}")
    ftype = field_type(hints[name])
    if spec.code is not None:
        table = code_table(ctx, spec, [ftype.base], path)
        choices = {code: values[0] for code, values in table.codes.items()}
        return _choice_parser(choices, f"one of the codes {', '.join(choices)}")
    if isinstance(ftype.base, type) and issubclass(ftype.base, Enum):
        members = {str(m.value): m for m in ftype.base}
        return _choice_parser(members, f"one of {', '.join(members)}")
    scalar: ScalarType = scalar_type(ctx, spec, ftype, path)
    return scalar.parse


def _choice_parser(choices: dict[str, Any], expected: str) -> Callable[[Any], Any]:
    """Reads a text that must be one of `choices`' keys (a code, an enum's value) as its value."""

    def parse_choice(text: Any) -> Any:
        try:
            return choices[text]
        except KeyError:
            raise Invalid(expected, text) from None

    return parse_choice


def _multi_code_reader(
    ctx: Context, cls: type, hints: dict[str, Any], spec: FieldSpec, path: str
) -> ReadHandler:
    for name in spec.names:
        if name not in hints:
            raise ctx.fail(path, f"{cls.__name__} has no field {name!r}")
    bases = [field_type(hints[n]).base for n in spec.names]
    table = code_table(ctx, spec, bases, path)
    names = spec.names
    expected = f"one of the codes {', '.join(table.codes)}"

    def read_codes(element: Any, values: Values) -> None:
        found = table.codes.get(element.text)
        if found is None:
            raise MappingError(path, expected, element.text)
        for name, value in zip(names, found, strict=True):
            if value is not None:
                values[name] = value

    return read_codes


def _money_reader(
    ctx: Context,
    spec: FieldSpec,
    path: str,
    group: _ReadGroup,
    parent_path: str,
    finish: list[Callable[[Values], None]],
    ftype: FieldType,
) -> ReadHandler:
    name = spec.names[0]
    if spec.currency is None:
        raise ctx.fail(path, 'money needs `currency:` ("@Attr" or a sibling element)')
    if spec.units not in ("major", "minor"):
        raise ctx.fail(path, "`units:` is major (12.50) or minor (1250)")
    to_money = ctx.currencies.from_major if spec.units == "major" else ctx.currencies.from_minor
    store = _store(name, path, ftype.repeated)
    if spec.currency.startswith("@"):
        attribute = spec.currency[1:]

        def read_money(element: Any, values: Values) -> None:
            try:
                money = to_money(element.text, element.get(attribute))
            except Invalid as exc:
                raise MappingError(path, exc.expected, exc.got) from None
            store(values, money)

        return read_money
    if ftype.repeated:
        raise ctx.fail(path, "repeated money needs its currency as an attribute")
    amount_key, currency_key = f"{name}#amount", f"{name}#currency"
    currency_path = f"{parent_path}/{spec.currency}"
    currency_tag = ctx.clark(spec.currency)
    if "/" in spec.currency or currency_tag in group.table:
        raise ctx.fail(path, "the currency element must be a sibling not mapped elsewhere")
    group.table[currency_tag] = lambda element, values: _put_raw(
        values, currency_key, element.text, currency_path
    )

    def combine(values: Values) -> None:
        if amount_key not in values and currency_key not in values:
            return
        amount, currency = values.pop(amount_key, None), values.pop(currency_key, None)
        if currency is None:
            raise MappingError(currency_path, "a currency code", "nothing")
        try:
            values[name] = to_money(amount, currency)
        except Invalid as exc:
            raise MappingError(path, exc.expected, exc.got) from None

    finish.append(combine)
    return lambda element, values: _put_raw(values, amount_key, element.text, path)


def _put_raw(values: Values, key: str, text: Any, path: str) -> None:
    if key in values:
        raise MappingError(path, "this element at most once", "a repeated element")
    values[key] = text
