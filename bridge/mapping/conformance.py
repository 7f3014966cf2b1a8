"""Does a canonical message fit its contract? Write it with its mapping, validate the XML with
the contract's schema, and name the first offending field by its canonical path.

The SOAP door validates what arrives as XML; this gives JSON arriving at the REST door the same
contract (lengths, patterns, ranges, digits), so both doors refuse the same messages.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from bridge.domain.errors import MappingError
from bridge.mapping.compiler import CompiledMapping
from bridge.mapping.registry import Mappings
from bridge.mapping.schemas import contract_schema
from bridge.mapping.spec import FieldSpec

_ELEMENT = re.compile(r"^Element '[^']*'(?:, attribute '[^']*')?: ")
_FACET = re.compile(r"\[facet '[^']*'\] ")
_NAMESPACED = re.compile(r"\{(?:urn:|https?://)[^}]*\}")


def canonical_paths(fields: tuple[FieldSpec, ...], xml: str, canonical: str = "") -> dict[str, str]:
    """XML element path (no positions) -> canonical field path, for every mapped element."""
    paths: dict[str, str] = {}
    for spec in fields:
        here = f"{xml}/{spec.path.strip('/')}".split("/@")[0]
        name = spec.names[0] if len(spec.names) == 1 else ", ".join(spec.names)
        dotted = f"{canonical}.{name}" if canonical else name
        paths[here] = dotted
        if spec.currency and not spec.currency.startswith("@"):
            paths[f"{xml}/{spec.currency}"] = dotted
        if spec.fields:
            paths.update(canonical_paths(spec.fields, here, dotted))
        # an intermediate group element (e.g. Agt of Agt/BICFI) names its first field
        parent = here.rsplit("/", 1)[0]
        while parent != xml and parent not in paths:
            paths[parent] = dotted
            parent = parent.rsplit("/", 1)[0]
    return paths


class Conformance:
    """`check(message)` raises MappingError when the message does not fit the contract."""

    def __init__(self, mapping: CompiledMapping, schema: Any) -> None:
        self._mapping = mapping
        self._schema = schema
        self._paths = canonical_paths(mapping.spec.fields, mapping.spec.element)

    def check(self, message: Any) -> None:
        document = etree.fromstring(self._mapping.write(message))  # our own output: no DTD
        if self._schema.validate(document):
            return
        error = self._schema.error_log[0]
        found: Any = document.xpath(error.path) if error.path else []
        node: Any = found[0] if found else document
        xml_path = "/".join(
            etree.QName(n).localname for n in reversed([node, *node.iterancestors()])
        )
        field = self._paths.get(xml_path, xml_path)
        reason = _FACET.sub("", _ELEMENT.sub("", _NAMESPACED.sub("", error.message))).rstrip(".")
        raise MappingError(
            field, f"a value the contract accepts ({reason[:1].lower()}{reason[1:]})"
        )


class Contracts:
    """The conformance check of every mapping, built once on first use."""

    def __init__(self, mappings: Mappings) -> None:
        self._mappings = mappings
        self._checks: dict[str, Conformance] = {}

    def check(self, name: str, message: Any) -> None:
        conformance = self._checks.get(name)
        if conformance is None:
            mapping = self._mappings[name]
            conformance = Conformance(mapping, contract_schema(mapping.spec.contract))
            self._checks[name] = conformance
        conformance.check(message)
