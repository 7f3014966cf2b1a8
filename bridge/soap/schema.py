"""Validation of a request's body element against the contract schema, before any handler runs.

The checking and the naming of the field are `bridge.mapping.validation`'s, shared with the REST
door and the upstream clients; this door turns a violation into the contract's
``ValidationFault`` (Field, Reason): ``TransferFunds/Dbtr/Acct/IBAN``, ``TransferFunds/Amt/@Ccy``.
"""

from __future__ import annotations

from typing import Any

from bridge.mapping.validation import ContractSchema
from bridge.soap.faults import InvalidField


class ContractValidator:
    """Checks body elements against one contract's schema."""

    def __init__(self, schema: ContractSchema) -> None:
        self._schema = schema

    def check(self, element: Any) -> None:
        """Return if `element` is valid, else raise `InvalidField` for the first error."""
        violation = self._schema.violation(element)
        if violation is not None:
            raise InvalidField(violation.field, violation.reason)
