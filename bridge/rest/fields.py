"""Sparse field sets: `?fields=tx_id,status,reason.code` on reads.

Names are the canonical field names of the resource (of each item, for a list), comma-separated;
a dotted name picks a field of a nested object (`amount.currency`), a bare one takes the whole
value (`amount`), and naming a field together with one of its parts takes the whole field. A
field the resource does not have is refused with a 400 naming it, so a typo is not mistaken for
an empty answer. A list's own envelope (`next_cursor`) is always sent.

The names a resource accepts are read from its dataclass once, when the `SparseFields` is built.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Union

from pydantic import Field

from bridge.domain.errors import MappingError
from bridge.rest.problems import InvalidFields

# A selection: field name -> None for the whole value, or the selection inside it.
Selection = dict[str, "Selection | None"]

PARAMETER = "fields"


def fields_parameter(example: str, *, of: str = "to return") -> Any:
    """The `fields` query parameter of a read, as a `Parameters` field: `example` is a
    selection of the resource's names; `of` says whose names they are (``of each item``)."""
    description = (
        f"Comma-separated field names {of}, dotted for nested ones (`{example}`); "
        "all fields when absent"
    )
    return Field(default=None, description=description)


class SparseFields:
    def __init__(self, model: type[Any]) -> None:
        self.model = model
        self.names = frozenset(_paths(model, ""))

    def parse(self, raw: str | None) -> Selection | None:
        """The selection asked for, or None for every field."""
        if raw is None:
            return None
        names = [name.strip() for name in raw.split(",")]
        unknown = [name for name in names if name not in self.names]
        if unknown:
            expected = f"field names of {self.model.__name__}: {', '.join(sorted(self.names))}"
            raise InvalidFields([MappingError(PARAMETER, expected, name) for name in unknown])
        selection: Selection = {}
        for name in names:
            _add(selection, name.split("."))
        return selection


def project(value: Any, selection: Selection | None) -> Any:
    """`value` (canonical JSON as Python objects) cut down to `selection`."""
    if selection is None:
        return value
    if isinstance(value, list):
        return [project(item, selection) for item in value]
    if isinstance(value, dict):
        return {
            name: project(item, selection[name])
            for name, item in value.items()
            if name in selection
        }
    return value


def _add(selection: Selection, parts: list[str]) -> None:
    node = selection
    for index, part in enumerate(parts):
        if index == len(parts) - 1:
            node[part] = None
            return
        if part in node and node[part] is None:
            return  # the whole field is already taken
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        node = child


def _paths(model: type[Any], prefix: str) -> list[str]:
    hints = typing.get_type_hints(model)
    paths: list[str] = []
    for model_field in dataclasses.fields(model):
        name = prefix + model_field.name
        paths.append(name)
        nested = _dataclass_in(hints[model_field.name])
        if nested is not None:
            paths.extend(_paths(nested, name + "."))
    return paths


def _dataclass_in(hint: Any) -> type[Any] | None:
    """The dataclass inside `X`, `X | None` or `list[X]`, if there is one."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType, list):
        for argument in typing.get_args(hint):
            found = _dataclass_in(argument)
            if found is not None:
                return found
    return None
