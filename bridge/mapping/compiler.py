"""Compiles a `MessageSpec` into a reader (XML element -> canonical object) and a writer
(canonical object -> XML text), once, at start-up.

The reader walks each element's children once and dispatches on the child's Clark-notation tag
(``{urn:...}Name``) through a dict built here, so it is namespace-aware and indifferent to
prefixes. The writer is a tree of small closures that append pre-built tags and escaped values to
a list; its output declares the message namespace as the default namespace.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any

from lxml import etree

import bridge.domain as domain
from bridge.domain.common import Money
from bridge.domain.errors import ConfigurationError, MappingError
from bridge.mapping.scalars import (
    BY_PYTHON_TYPE,
    SCALARS,
    Currencies,
    Invalid,
    ScalarType,
    escape,
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


class _Context:
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


def _segments(path: str) -> list[str]:
    return [part for part in path.strip("/").split("/") if part]


# ------------------------------------------------------------------------------------------------
# Reader
# ------------------------------------------------------------------------------------------------


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
    ctx: _Context, cls: type, fields: tuple[FieldSpec, ...], path: str
) -> ObjectReader:
    hints = typing.get_type_hints(cls)
    _check_covered(ctx, cls, fields, path)
    root = _ReadGroup(path)
    finish: list[Callable[[Values], None]] = []
    where: dict[str, str] = {}
    for spec in fields:
        segments = _segments(spec.path)
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
    ctx: _Context,
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
    ctx: _Context, cls: type, hints: dict[str, Any], spec: FieldSpec, path: str
) -> Callable[[Any], Any]:
    name = spec.names[0]
    if name not in hints:
        raise ctx.fail(path, f"{cls.__name__} has no field {name!r}")
    ftype = field_type(hints[name])
    if spec.code is not None:
        table = _code_table(ctx, spec, [ftype.base], path)
        lookup = {code: values[0] for code, values in table.codes.items()}
        expected = f"one of the codes {', '.join(lookup)}"

        def parse_code(text: Any) -> Any:
            try:
                return lookup[text]
            except KeyError:
                raise Invalid(expected, text) from None

        return parse_code
    if isinstance(ftype.base, type) and issubclass(ftype.base, Enum):
        members = {str(m.value): m for m in ftype.base}
        expected = f"one of {', '.join(members)}"

        def parse_enum(text: Any) -> Any:
            try:
                return members[text]
            except KeyError:
                raise Invalid(expected, text) from None

        return parse_enum
    scalar: ScalarType = _scalar(ctx, spec, ftype, path)
    return scalar.parse


def _scalar(ctx: _Context, spec: FieldSpec, ftype: FieldType, path: str) -> Any:
    type_name = spec.type or BY_PYTHON_TYPE.get(ftype.base)
    if type_name not in SCALARS:
        raise ctx.fail(
            path, f"no XML type for {ftype.base!r}; say `type:` one of {sorted(SCALARS)}"
        )
    return SCALARS[type_name]


def _code_table(ctx: _Context, spec: FieldSpec, bases: list[Any], path: str) -> CodeTable:
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
            _canonical_value(ctx, base, v, path) for base, v in zip(bases, values, strict=True)
        )
    return CodeTable(table.name, table.fields, converted)


def _canonical_value(ctx: _Context, base: Any, value: Any, path: str) -> Any:
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


def _multi_code_reader(
    ctx: _Context, cls: type, hints: dict[str, Any], spec: FieldSpec, path: str
) -> ReadHandler:
    for name in spec.names:
        if name not in hints:
            raise ctx.fail(path, f"{cls.__name__} has no field {name!r}")
    bases = [field_type(hints[n]).base for n in spec.names]
    table = _code_table(ctx, spec, bases, path)
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
    ctx: _Context,
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


def _check_covered(ctx: _Context, cls: type, fields: tuple[FieldSpec, ...], path: str) -> None:
    """Every canonical field must be mapped, or a round trip would lose it."""
    mapped = {name for spec in fields for name in spec.names}
    declared = {f.name for f in dataclasses.fields(cls)}
    if mapped - declared:
        raise ctx.fail(path, f"{cls.__name__} has no fields {sorted(mapped - declared)}")
    if declared - mapped:
        raise ctx.fail(path, f"fields of {cls.__name__} not mapped: {sorted(declared - mapped)}")


# ------------------------------------------------------------------------------------------------
# Writer
# ------------------------------------------------------------------------------------------------


class _WriteGroup:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.items: list[Emitter | _WriteGroup] = []

    def freeze(self) -> Emitter:
        items = tuple(i.freeze() if isinstance(i, _WriteGroup) else i for i in self.items)
        open_tag, close_tag = f"<{self.tag}>", f"</{self.tag}>"

        def emit_group(obj: Any, out: list[str]) -> None:
            mark = len(out)
            out.append(open_tag)
            for item in items:
                item(obj, out)
            if len(out) == mark + 1:
                out.pop()  # nothing inside: an optional group is left out
            else:
                out.append(close_tag)

        return emit_group


def _failing(cpath: str, exc: Invalid) -> MappingError:
    return MappingError(cpath, exc.expected, exc.got)


class ObjectWriter:
    def __init__(
        self,
        cls: type,
        children: Emitter,
        attributes: tuple[tuple[str, str, Callable[[Any], str], bool], ...],
    ) -> None:
        self.cls = cls
        self.children = children
        self.attributes = attributes

    def open_tag(self, tag: str, obj: Any, cpath: str) -> str:
        if not self.attributes:
            return f"<{tag}>"
        parts = [f"<{tag}"]
        for attribute, name, fmt, required in self.attributes:
            value = getattr(obj, name)
            if value is None:
                if required:
                    raise MappingError(f"{cpath}.{name}", "a value", "nothing")
                continue
            try:
                parts.append(f' {attribute}="{fmt(value)}"')
            except Invalid as exc:
                raise _failing(f"{cpath}.{name}", exc) from None
        parts.append(">")
        return "".join(parts)


def build_writer(
    ctx: _Context, cls: type, fields: tuple[FieldSpec, ...], cpath: str
) -> ObjectWriter:
    hints = typing.get_type_hints(cls)
    root = _WriteGroup("")
    attributes: list[tuple[str, str, Callable[[Any], str], bool]] = []
    for spec in fields:
        segments = _segments(spec.path)
        name = spec.names[0]
        here = f"{cpath}.{name}" if cpath else name
        if segments[-1].startswith("@"):
            if len(segments) != 1 or len(spec.names) > 1:
                raise ctx.fail(spec.path, "attributes are supported on the object's own element")
            ftype = field_type(hints[name])
            fmt = _formatter(ctx, cls, hints, spec, here)
            attributes.append((segments[0][1:], name, fmt, not ftype.optional))
            continue
        group = root
        for segment in segments[:-1]:
            last = group.items[-1] if group.items else None
            if isinstance(last, _WriteGroup) and last.tag == segment:
                group = last
            else:
                new = _WriteGroup(segment)
                group.items.append(new)
                group = new
        group.items.append(_leaf_emitter(ctx, cls, hints, spec, segments[-1], here))
    items = tuple(i.freeze() if isinstance(i, _WriteGroup) else i for i in root.items)

    def emit_children(obj: Any, out: list[str]) -> None:
        for item in items:
            item(obj, out)

    return ObjectWriter(cls, emit_children, tuple(attributes))


def _formatter(
    ctx: _Context, cls: type, hints: dict[str, Any], spec: FieldSpec, cpath: str
) -> Callable[[Any], str]:
    name = spec.names[0]
    ftype = field_type(hints[name])
    if spec.code is not None:
        table = _code_table(ctx, spec, [ftype.base], cpath)
        reverse = {values[0]: code for code, values in table.codes.items()}
        expected = f"one of {', '.join(str(v) for v in reverse)}"

        def format_code(value: Any) -> str:
            try:
                return escape(reverse[value])
            except (KeyError, TypeError):
                raise Invalid(expected, value) from None

        return format_code
    if isinstance(ftype.base, type) and issubclass(ftype.base, Enum):
        enum_type = ftype.base
        members = {m: escape(str(m.value)) for m in enum_type}
        expected = f"one of {', '.join(members.values())}"

        def format_enum(value: Any) -> str:
            text = members.get(value) if isinstance(value, enum_type) else None
            if text is None:
                raise Invalid(
                    f"a {enum_type.__name__}: {expected}", f"{type(value).__name__} {value!r}"
                )
            return text

        return format_enum
    return typing.cast(Callable[[Any], str], _scalar(ctx, spec, ftype, cpath).format)


def _leaf_emitter(
    ctx: _Context, cls: type, hints: dict[str, Any], spec: FieldSpec, tag: str, cpath: str
) -> Emitter:
    name = spec.names[0]
    if len(spec.names) > 1:
        return _multi_code_emitter(ctx, hints, spec, tag, cpath)
    ftype = field_type(hints[name])
    required = not ftype.optional and not ftype.repeated
    open_tag, close_tag = f"<{tag}>", f"</{tag}>"
    if ftype.base is Money:
        return _money_emitter(ctx, spec, tag, cpath, required)
    if dataclasses.is_dataclass(ftype.base) and spec.code is None and spec.type is None:
        assert spec.fields is not None
        writer = build_writer(ctx, typing.cast(type, ftype.base), spec.fields, cpath)
        item_cls, children = writer.cls, writer.children

        def write_one(value: Any, out: list[str], here: str) -> None:
            if type(value) is not item_cls:
                raise MappingError(here, f"a {item_cls.__name__}", type(value).__name__)
            out.append(writer.open_tag(tag, value, here))
            children(value, out)
            out.append(close_tag)

        if ftype.repeated:

            def emit_objects(obj: Any, out: list[str]) -> None:
                for index, item in enumerate(getattr(obj, name) or ()):
                    here = f"{cpath}[{index}]"
                    try:
                        write_one(item, out, here)
                    except MappingError as exc:
                        if not exc.path.startswith(cpath) or exc.path.startswith(here):
                            raise
                        raise MappingError(
                            here + exc.path[len(cpath) :], exc.expected, exc.got
                        ) from None

            return emit_objects

        def emit_object(obj: Any, out: list[str]) -> None:
            value = getattr(obj, name)
            if value is None:
                if required:
                    raise MappingError(cpath, "a value", "nothing")
                return
            write_one(value, out, cpath)

        return emit_object
    fmt = _formatter(ctx, cls, hints, spec, cpath)
    if ftype.repeated:

        def emit_scalars(obj: Any, out: list[str]) -> None:
            for index, value in enumerate(getattr(obj, name) or ()):
                try:
                    out.append(f"{open_tag}{fmt(value)}{close_tag}")
                except Invalid as exc:
                    raise _failing(f"{cpath}[{index}]", exc) from None

        return emit_scalars

    def emit_scalar(obj: Any, out: list[str]) -> None:
        value = getattr(obj, name)
        if value is None:
            if required:
                raise MappingError(cpath, "a value", "nothing")
            return
        try:
            out.append(f"{open_tag}{fmt(value)}{close_tag}")
        except Invalid as exc:
            raise _failing(cpath, exc) from None

    return emit_scalar


def _multi_code_emitter(
    ctx: _Context, hints: dict[str, Any], spec: FieldSpec, tag: str, cpath: str
) -> Emitter:
    bases = [field_type(hints[n]).base for n in spec.names]
    table = _code_table(ctx, spec, bases, cpath)
    reverse = {values: escape(code) for code, values in table.codes.items()}
    names = spec.names
    parent = cpath.rpartition(".")[0]
    where = ", ".join(f"{parent}.{n}" if parent else n for n in names)
    expected = "one of " + "; ".join(
        "/".join(str(v) for v in key if v is not None) for key in reverse
    )

    optional = all(field_type(hints[n]).optional for n in names)

    def emit_code(obj: Any, out: list[str]) -> None:
        key = tuple(getattr(obj, n) for n in names)
        if optional and all(v is None for v in key):
            return  # an optional coded element with nothing to say is left out
        code = reverse.get(key)
        if code is None:
            raise MappingError(where, expected, "/".join(str(v) for v in key))
        out.append(f"<{tag}>{code}</{tag}>")

    return emit_code


def _money_emitter(ctx: _Context, spec: FieldSpec, tag: str, cpath: str, required: bool) -> Emitter:
    name = spec.names[0]
    assert spec.currency is not None
    to_text = ctx.currencies.to_major if spec.units == "major" else ctx.currencies.to_minor
    if spec.currency.startswith("@"):
        attribute = spec.currency[1:]

        def render(amount: str, currency: str) -> str:
            return f'<{tag} {attribute}="{currency}">{amount}</{tag}>'
    else:
        currency_tag = spec.currency

        def render(amount: str, currency: str) -> str:
            return f"<{tag}>{amount}</{tag}><{currency_tag}>{currency}</{currency_tag}>"

    def emit_money(obj: Any, out: list[str]) -> None:
        value = getattr(obj, name)
        if value is None:
            if required:
                raise MappingError(cpath, "a value", "nothing")
            return
        try:
            out.append(render(*to_text(value)))
        except Invalid as exc:
            raise _failing(cpath, exc) from None

    return emit_money


# ------------------------------------------------------------------------------------------------


class CompiledMapping:
    """One message spec, compiled both ways."""

    def __init__(
        self, spec: MessageSpec, codes: dict[str, CodeTable], currencies: Currencies
    ) -> None:
        ctx = _Context(spec, codes, currencies)
        model = getattr(domain, spec.model, None)
        if not (isinstance(model, type) and dataclasses.is_dataclass(model)):
            raise ctx.fail("model", f"bridge.domain has no class {spec.model!r}")
        self.spec = spec
        self.name = spec.name
        self.model: type = model
        self.root_tag = ctx.clark(spec.element)
        self.namespace = spec.namespace
        self._reader = compile_reader(ctx, model, spec.fields, spec.element)
        writer = build_writer(ctx, model, spec.fields, "")
        declarations = "".join(f' xmlns:{p}="{escape(u)}"' for p, u in spec.namespaces.items())
        self._root_name = spec.element
        self._declarations = f' xmlns="{escape(spec.namespace)}"{declarations}'
        self._writer = writer

    def read(self, element: Any) -> Any:
        """An lxml element of this message -> the canonical object."""
        if element.tag != self.root_tag:
            raise MappingError(
                self.spec.element,
                f"the element {self.spec.element} in namespace {self.namespace}",
                str(element.tag),
            )
        return self._reader.read(element)

    def write_text(self, obj: Any) -> str:
        """The canonical object -> this message as XML text (no declaration), default namespace."""
        if type(obj) is not self.model:
            raise MappingError(self.spec.model, f"a {self.model.__name__}", type(obj).__name__)
        open_tag = self._writer.open_tag(self._root_name, obj, "")
        out = [open_tag[:-1], self._declarations, ">"]
        self._writer.children(obj, out)
        out.append(f"</{self._root_name}>")
        return "".join(out)

    def write(self, obj: Any) -> bytes:
        return self.write_text(obj).encode("utf-8")
