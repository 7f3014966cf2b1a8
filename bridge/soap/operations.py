"""What the SOAP door knows of one operation of a contract, besides spyne's method for it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Operation:
    """A document/literal operation: its name is also its SOAPAction and the local name of its
    request element; `request` and `response` name the mapping specs that read and write its
    body (``banking/transfer_request``)."""

    namespace: str
    name: str
    request: str
    response: str
    # The request's canonical field that is the caller's idempotency key, if any.
    idempotency_key: str | None = None

    @property
    def soap_action(self) -> str:
        return self.name

    @property
    def element(self) -> str:
        """The request element in Clark notation, as lxml names it."""
        return f"{{{self.namespace}}}{self.name}"
