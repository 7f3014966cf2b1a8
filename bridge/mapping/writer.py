"""The write side of a compiled mapping: canonical object -> XML text.

The writer is a tree of small closures that append pre-built tags and escaped values to a list;
its output declares the message namespace as the default namespace."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any

from bridge.domain.common import Money
from bridge.domain.errors import MappingError
from bridge.mapping.context import (
    Context,
    Emitter,
    code_table,
    field_type,
    path_segments,
    scalar_type,
)
from bridge.mapping.scalars import Invalid, escape
from bridge.mapping.spec import FieldSpec


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
    ctx: Context, cls: type, fields: tuple[FieldSpec, ...], cpath: str
) -> ObjectWriter:
    hints = typing.get_type_hints(cls)
    root = _WriteGroup("")
    attributes: list[tuple[str, str, Callable[[Any], str], bool]] = []
    for spec in fields:
        segments = path_segments(spec.path)
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
    ctx: Context, cls: type, hints: dict[str, Any], spec: FieldSpec, cpath: str
) -> Callable[[Any], str]:
    name = spec.names[0]
    ftype = field_type(hints[name])
    if spec.code is not None:
        table = code_table(ctx, spec, [ftype.base], cpath)
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
    return typing.cast(Callable[[Any], str], scalar_type(ctx, spec, ftype, cpath).format)


def _leaf_emitter(
    ctx: Context, cls: type, hints: dict[str, Any], spec: FieldSpec, tag: str, cpath: str
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
            value = _field(obj, name, required, cpath)
            if value is not None:
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

    # The hot path of every mapping: one call per element, `_field` written out.
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


def _field(obj: Any, name: str, required: bool, cpath: str) -> Any:
    """`obj`'s field `name`, None if it has none; none for a `required` field is an error."""
    value = getattr(obj, name)
    if value is None and required:
        raise MappingError(cpath, "a value", "nothing")
    return value


def _multi_code_emitter(
    ctx: Context, hints: dict[str, Any], spec: FieldSpec, tag: str, cpath: str
) -> Emitter:
    bases = [field_type(hints[n]).base for n in spec.names]
    table = code_table(ctx, spec, bases, cpath)
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


def _money_emitter(ctx: Context, spec: FieldSpec, tag: str, cpath: str, required: bool) -> Emitter:
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
