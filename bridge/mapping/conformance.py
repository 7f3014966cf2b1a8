"""Does a canonical message fit its contract? Write it with its mapping, validate the XML with
the contract's schema, and name the first offending field by its canonical path.

The SOAP door validates what arrives as XML; this gives JSON arriving at the REST door the same
contract (lengths, patterns, ranges, digits), with the same validator
(`bridge.mapping.validation`), so both doors refuse the same messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.domain.errors import MappingError
from bridge.mapping import xml
from bridge.mapping.compiler import CompiledMapping
from bridge.mapping.registry import Mappings
from bridge.mapping.schemas import CONTRACTS_ROOT, contract_validator
from bridge.mapping.spec import FieldSpec
from bridge.mapping.validation import ContractSchema


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

    def __init__(self, mapping: CompiledMapping, schema: ContractSchema) -> None:
        self._mapping = mapping
        self._schema = schema
        self._paths = canonical_paths(mapping.spec.fields, mapping.spec.element)

    def check(self, message: Any) -> None:
        # Our own output, through the one parser (lxml's default parser is one for the process,
        # behind a lock: threads would queue for it).
        document = xml.parse(self._mapping.write(message))
        violation = self._schema.violation(document)
        if violation is None:
            return
        element = violation.element or self._mapping.spec.element
        field = self._paths.get(element, element)
        reason = violation.short_reason
        raise MappingError(
            field, f"a value the contract accepts ({reason[:1].lower()}{reason[1:]})"
        )


class Contracts:
    """The conformance check of every mapping, built once on first use, against the contracts
    in `contracts_dir` (`Settings.contracts_dir`)."""

    def __init__(self, mappings: Mappings, contracts_dir: Path = CONTRACTS_ROOT) -> None:
        self._mappings = mappings
        self._contracts_dir = contracts_dir
        self._checks: dict[str, Conformance] = {}

    def check(self, name: str, message: Any) -> None:
        conformance = self._checks.get(name)
        if conformance is None:
            mapping = self._mappings[name]
            validator = contract_validator(mapping.spec.contract, self._contracts_dir)
            conformance = Conformance(mapping, validator)
            self._checks[name] = conformance
        conformance.check(message)
