"""Compiles a `MessageSpec` into a reader (XML element -> canonical object, `reader.py`) and a
writer (canonical object -> XML text, `writer.py`), once, at start-up."""

from __future__ import annotations

import dataclasses
from typing import Any

import bridge.domain as domain
from bridge.domain.errors import MappingError
from bridge.mapping.context import (
    Context,
)
from bridge.mapping.reader import compile_reader
from bridge.mapping.scalars import (
    Currencies,
    escape,
)
from bridge.mapping.spec import CodeTable, MessageSpec
from bridge.mapping.writer import build_writer


class CompiledMapping:
    """One message spec, compiled both ways."""

    def __init__(
        self, spec: MessageSpec, codes: dict[str, CodeTable], currencies: Currencies
    ) -> None:
        ctx = Context(spec, codes, currencies)
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
