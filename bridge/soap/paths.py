"""Which contract element an error is about, for the ``Field`` of a SOAP fault.

The banking service names fields canonically (``amount``, ``to_date``) because it serves every
door; a partner wrote ``TransferFunds/Amt`` and ``GetTransactions/ToDt``. The mapping specs
already say which canonical field comes from which element, so the translation is read from
them, once, at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bridge.domain.errors import KeyReused, MappingError, NotFound
from bridge.mapping import Mappings
from bridge.mapping.spec import FieldSpec, MessageSpec
from bridge.soap.operations import Operation


class ElementPaths:
    """Canonical field path (``debtor.account.iban``) -> element path (``TransferFunds/Dbtr/
    Acct/IBAN``) for the fields of one message spec."""

    def __init__(self, spec: MessageSpec) -> None:
        self.root = spec.element
        self._paths: dict[str, str] = {}
        self._add(spec.fields, "", spec.element)

    def _add(self, fields: Iterable[FieldSpec], prefix: str, parent: str) -> None:
        for spec in fields:
            path = f"{parent}/{spec.path.strip('/')}"
            for name in spec.names:
                self._paths[prefix + name] = path
            if spec.currency is not None:  # money: amount and currency of the canonical Money
                self._paths[f"{prefix}{spec.names[0]}.amount"] = path
                currency = spec.currency
                self._paths[f"{prefix}{spec.names[0]}.currency"] = (
                    f"{path}/{currency}" if currency.startswith("@") else f"{parent}/{currency}"
                )
            if spec.fields is not None:
                self._add(spec.fields, f"{prefix}{spec.names[0]}.", path)

    def element_path(self, canonical: str) -> str:
        """The element path of `canonical`, or of its nearest mapped parent; a path that already
        names an element of this message is returned as it is."""
        if canonical == self.root or canonical.startswith(f"{self.root}/"):
            return canonical
        candidate = canonical
        while candidate:
            found = self._paths.get(candidate)
            if found is not None:
                return found
            candidate = candidate.rpartition(".")[0]
        return self.root


class ErrorFields:
    """`fields("TransferFunds", error)` -> the element path the error is about, or None: the
    field a `MappingError` names, the idempotency key a `KeyReused` is about, the subject of the
    operation (``ShipmentRef``) a `NotFound` is about."""

    def __init__(self, mappings: Mappings, operations: Sequence[Operation]) -> None:
        self._operations = {operation.name: operation for operation in operations}
        self._paths = {
            operation.name: ElementPaths(mappings[operation.request].spec)
            for operation in operations
        }

    def __call__(self, operation: str, error: BaseException) -> str | None:
        paths = self._paths.get(operation)
        if paths is None:
            return None
        if isinstance(error, MappingError):
            return paths.element_path(error.path)
        key = self._operations[operation].idempotency_key
        if isinstance(error, KeyReused) and key is not None:
            return paths.element_path(key)
        subject = self._operations[operation].subject
        if isinstance(error, NotFound) and subject is not None:
            return paths.element_path(subject)
        return None
