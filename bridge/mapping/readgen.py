"""Generates the read function of one canonical class: the plan `reader.py` compiles from a spec
(`Group` of `Leaf` nodes) becomes the source of one Python function, compiled once at start-up.

Why generate: a message is read one element at a time, and a tree of small closures (a handler
per element writing into a dict, then ``cls(**values)``) spent two thirds of its time calling
them. The generated function holds each field in a local variable, dispatches on the child's
Clark tag with string comparisons in schema order, nests a loop for each group element and calls
the class once with keywords: no call, dict or lookup per element beyond the value's parser.

It does exactly what the closures did, in the same order, with the same errors: a repeated
element is refused before its value is parsed, a nested object's errors come before its
repetition, attributes are read after the children, money is combined after the whole element,
then the first required field missing (in the spec's order) is named. Nothing of the spec is
written into the source: tags, paths, parsers and tables are constants of the function's
namespace (``T0``, ``P3``...), the source holds only generated names and the canonical class's
own field names (identifiers, checked), as keywords of its call.
"""

from __future__ import annotations

import dataclasses
import keyword
import linecache
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from lxml import etree

from bridge.domain.errors import ConfigurationError, MappingError
from bridge.mapping.scalars import Invalid, parse_string

Parse = Callable[[Any], Any]


class _Missing:
    """No value read (yet) for a field: a field may legitimately hold None."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class Scalar:
    """An element (or, repeated, each of its occurrences) whose text is a scalar or a code."""

    key: str
    path: str
    parse: Parse
    repeated: bool = False
    choices: dict[str, Any] | None = None  # a code table's or an enum's values by text
    expected: str = ""  # what a text not among `choices` should have been


@dataclass(frozen=True, slots=True)
class Nested:
    """An element read as a canonical object of its own (`read`, another generated function)."""

    key: str
    path: str
    read: Parse
    repeated: bool


@dataclass(frozen=True, slots=True)
class MoneyAttr:
    """An amount whose currency is an attribute of its element."""

    key: str
    path: str
    to_money: Callable[[str | None, str | None], Any]
    attribute: str
    repeated: bool


@dataclass(frozen=True, slots=True)
class Raw:
    """A text kept as it is until `Combine` reads it (an amount and its currency element)."""

    key: str
    path: str


@dataclass(frozen=True, slots=True)
class Codes:
    """One code that stands for several canonical fields (a multi-field code table)."""

    names: tuple[str, ...]
    path: str
    codes: dict[str, tuple[Any, ...]]
    expected: str


@dataclass(frozen=True, slots=True)
class Attribute:
    """An attribute of a group's element, read after the element's children."""

    attribute: str
    key: str
    path: str
    parse: Parse


@dataclass(frozen=True, slots=True)
class Combine:
    """Money from two sibling elements, the amount and the currency, once both are read."""

    key: str
    amount_key: str
    currency_key: str
    path: str
    currency_path: str
    to_money: Callable[[str | None, str | None], Any]


Leaf = Scalar | Nested | MoneyAttr | Raw | Codes


@dataclass(slots=True)
class Group:
    """The children of one XML element that a compiled object knows, by Clark tag."""

    path: str
    table: dict[str, Leaf | Group] = field(default_factory=dict)
    attributes: list[Attribute] = field(default_factory=list)

    def group(self, tag: str, path: str) -> Group:
        existing = self.table.get(tag)
        if existing is None:
            existing = self.table[tag] = Group(path)
        if not isinstance(existing, Group):
            raise ConfigurationError(f"{path}: used both as a field and as a group")
        return existing


# -- errors: built off the hot path, by the generated code's calls ------------------------------


def _repeated(path: str) -> MappingError:
    return MappingError(path, "this element at most once", "a repeated element")


def _invalid(path: str, exc: Invalid) -> MappingError:
    return MappingError(path, exc.expected, exc.got)


def _not_a_choice(path: str, expected: str, text: str | None) -> MappingError:
    return _invalid(path, Invalid(expected, text))


def _missing(path: str) -> MappingError:
    return MappingError(path, "a required element", "nothing")


def _indexed(item_path: str, done: int, exc: MappingError) -> MappingError:
    """An error inside the item after `done` read ones, with the item's position in its path."""
    rest = exc.path[len(item_path) :] if exc.path.startswith(item_path) else ""
    return MappingError(f"{item_path}[{done + 1}]{rest}", exc.expected, exc.got)


def unexpected(path: str, tag: str, known: tuple[str, ...]) -> MappingError:
    name = etree.QName(tag)
    for one in known:
        if etree.QName(one).localname == name.localname:  # right name, wrong namespace
            return MappingError(
                f"{path}/{name.localname}",
                f"{name.localname} in namespace {etree.QName(one).namespace or '(none)'}",
                f"{name.localname} in namespace {name.namespace or '(none)'}",
            )
    names = ", ".join(etree.QName(one).localname for one in known) or "(none)"
    return MappingError(
        f"{path}/{name.localname}", f"one of the elements {names}", "an unexpected element"
    )


def _combiner(step: Combine) -> Callable[[Any, Any], Any]:
    to_money, path, currency_path = step.to_money, step.path, step.currency_path

    def combine(amount: Any, currency: Any) -> Any:
        if currency is MISSING or currency is None:
            raise MappingError(currency_path, "a currency code", "nothing")
        try:
            return to_money(None if amount is MISSING else amount, currency)
        except Invalid as exc:
            raise _invalid(path, exc) from None

    return combine


_HELPERS: dict[str, Any] = {
    "_M": MISSING,
    "_Invalid": Invalid,
    "_MappingError": MappingError,
    "_repeated": _repeated,
    "_invalid": _invalid,
    "_not_a_choice": _not_a_choice,
    "_missing": _missing,
    "_indexed": _indexed,
    "_unexpected": unexpected,
}


# -- the generator -------------------------------------------------------------------------------


class _Source:
    """Lines of Python being written, and the constants they name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = dict(_HELPERS)
        self.locals: dict[str, str] = {}  # values key -> local variable
        self._ids = count()

    def const(self, value: Any, prefix: str = "K") -> str:
        name = f"{prefix}{next(self._ids)}"
        self.namespace[name] = value
        return name

    def var(self, key: str) -> str:
        name = self.locals.get(key)
        if name is None:
            name = self.locals[key] = f"v{len(self.locals)}"
        return name

    def emit(self, depth: int, *lines: str) -> None:
        pad = "    " * depth
        self.lines.extend(pad + line for line in lines)


def generate(
    cls: type, root: Group, finish: list[Combine], where: dict[str, str]
) -> Callable[[Any], Any]:
    """The function that reads one element into an instance of `cls`, following `root`."""
    fields = [f for f in dataclasses.fields(cls) if f.init]
    for f in fields:
        if not f.name.isidentifier() or keyword.iskeyword(f.name):
            raise ConfigurationError(f"{cls.__name__}.{f.name}: not a keyword argument")
    src = _Source()
    src.emit(0, "def read(e0):")
    _group(src, root, "e0", 1)
    for step in finish:
        amount, currency = src.var(step.amount_key), src.var(step.currency_key)
        combine = src.const(_combiner(step), "C")
        src.emit(1, f"if {amount} is not _M or {currency} is not _M:")
        src.emit(2, f"{src.var(step.key)} = {combine}({amount}, {currency})")
    required = {
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    for name, path in where.items():
        if name in required:
            src.emit(1, f"if {src.var(name)} is _M:", f"    raise _missing({src.const(path)})")
    arguments = []
    for f in fields:
        local = src.var(f.name)
        if f.default is not dataclasses.MISSING:
            src.emit(1, f"if {local} is _M:", f"    {local} = {src.const(f.default, 'D')}")
        elif f.default_factory is not dataclasses.MISSING:
            factory = src.const(f.default_factory, "D")
            src.emit(1, f"if {local} is _M:", f"    {local} = {factory}()")
        arguments.append(f"{f.name}={local}")
    src.emit(1, f"return {src.const(cls, 'CLS')}({', '.join(arguments)})")
    # Every field starts unread; the line goes first, now that every local is known.
    src.lines.insert(1, "    " + " = ".join([*src.locals.values(), "_M"]))
    return _compile(src, f"<mapping reader {cls.__module__}.{cls.__qualname__}>")


def _compile(src: _Source, filename: str) -> Callable[[Any], Any]:
    text = "\n".join(src.lines) + "\n"
    # Tracebacks through the generated function show its lines.
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    code = compile(text, filename, "exec")
    exec(code, src.namespace)  # noqa: S102 - our own generated source: names and keywords only
    function: Callable[[Any], Any] = src.namespace["read"]
    return function


def _group(src: _Source, group: Group, element: str, depth: int) -> None:
    """A loop over `element`'s children dispatching on their tags, then its attributes."""
    level = int(element[1:]) + 1
    child, tag = f"e{level}", f"t{level}"
    src.emit(depth, f"for {child} in {element}:", f"    {tag} = {child}.tag")
    keyword_ = "if"
    for clark, node in group.table.items():
        src.emit(depth + 1, f"{keyword_} {tag} == {src.const(clark, 'T')}:")
        if isinstance(node, Group):
            _group(src, node, child, depth + 2)
        else:
            _leaf(src, node, child, depth + 2)
        keyword_ = "elif"
    src.emit(depth + 1, f"{keyword_} not isinstance({tag}, str):")
    src.emit(depth + 2, "pass  # comments and processing instructions carry no data")
    known = src.const(tuple(group.table), "G")
    src.emit(depth + 1, "else:", f"    raise _unexpected({src.const(group.path)}, {tag}, {known})")
    for attribute in group.attributes:
        _attribute(src, attribute, element, depth)


def _store(src: _Source, local: str, value: str, path: str, repeated: bool, depth: int) -> None:
    if repeated:
        src.emit(depth, f"if {local} is _M:", f"    {local} = [{value}]")
        src.emit(depth, "else:", f"    {local}.append({value})")
    else:
        src.emit(depth, f"if {local} is not _M:", f"    raise _repeated({path})")
        src.emit(depth, f"{local} = {value}")


def _leaf(src: _Source, leaf: Leaf, element: str, depth: int) -> None:
    path = src.const(leaf.path, "P")
    if isinstance(leaf, Codes):
        codes, expected = src.const(leaf.codes), src.const(leaf.expected)
        src.emit(depth, f"x = {codes}.get({element}.text)", "if x is None:")
        src.emit(depth, f"    raise _MappingError({path}, {expected}, {element}.text)")
        for index, name in enumerate(leaf.names):
            src.emit(depth, f"if x[{index}] is not None:", f"    {src.var(name)} = x[{index}]")
        return
    local = src.var(leaf.key)
    if isinstance(leaf, Raw):
        _store(src, local, f"{element}.text", path, False, depth)
    elif isinstance(leaf, Nested):
        read = src.const(leaf.read, "R")
        if leaf.repeated:
            src.emit(depth, f"if {local} is _M:", f"    {local} = []")
            src.emit(depth, "try:", f"    {local}.append({read}({element}))")
            src.emit(depth, "except _MappingError as exc:")
            src.emit(depth, f"    raise _indexed({path}, len({local}), exc) from None")
        else:
            src.emit(depth, f"x = {read}({element})")
            _store(src, local, "x", path, False, depth)
    elif isinstance(leaf, MoneyAttr):
        to_money, attribute = src.const(leaf.to_money, "F"), src.const(leaf.attribute, "A")
        src.emit(depth, "try:", f"    x = {to_money}({element}.text, {element}.get({attribute}))")
        src.emit(depth, "except _Invalid as exc:", f"    raise _invalid({path}, exc) from None")
        _store(src, local, "x", path, leaf.repeated, depth)
    elif leaf.repeated:
        parse = src.const(leaf.parse, "F")
        src.emit(depth, "try:", f"    x = {parse}({element}.text)")
        src.emit(depth, "except _Invalid as exc:", f"    raise _invalid({path}, exc) from None")
        _store(src, local, "x", path, True, depth)
    else:
        # The hot path: one element, one value; refused repeated before its text is parsed.
        src.emit(depth, f"if {local} is not _M:", f"    raise _repeated({path})")
        _scalar(src, leaf, local, element, path, depth)


def _scalar(src: _Source, leaf: Scalar, local: str, element: str, path: str, depth: int) -> None:
    if leaf.choices is not None:
        choices, expected = src.const(leaf.choices), src.const(leaf.expected)
        src.emit(depth, f"{local} = {choices}.get({element}.text, _M)", f"if {local} is _M:")
        src.emit(depth, f"    raise _not_a_choice({path}, {expected}, {element}.text)")
    elif leaf.parse is parse_string:
        src.emit(depth, f"{local} = {element}.text", f"if {local} is None:", f'    {local} = ""')
    else:
        parse = src.const(leaf.parse, "F")
        src.emit(depth, "try:", f"    {local} = {parse}({element}.text)")
        src.emit(depth, "except _Invalid as exc:", f"    raise _invalid({path}, exc) from None")


def _attribute(src: _Source, attribute: Attribute, element: str, depth: int) -> None:
    name, path = src.const(attribute.attribute, "A"), src.const(attribute.path, "P")
    parse, local = src.const(attribute.parse, "F"), src.var(attribute.key)
    src.emit(depth, f"x = {element}.get({name})", "if x is not None:")
    src.emit(depth + 1, "try:", f"    x = {parse}(x)")
    src.emit(depth + 1, "except _Invalid as exc:", f"    raise _invalid({path}, exc) from None")
    _store(src, local, "x", path, False, depth + 1)
