"""What the SOAP door knows of an inbound contract and of each of its operations, besides
spyne's methods for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.security.access import Access


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
    # The request's canonical field naming the object the operation is about, if any: a
    # `NotFound` is reported as a fault about that element (``GetShippingDetails/ShipmentRef``).
    subject: str | None = None
    # Who may call it (`bridge.security.access.allow`); None declares nothing, and the gateway
    # refuses an operation that declares nothing.
    access: Access | None = None

    @property
    def soap_action(self) -> str:
        return self.name

    @property
    def element(self) -> str:
        """The request element in Clark notation, as lxml names it."""
        return f"{{{self.namespace}}}{self.name}"


@dataclass(frozen=True, slots=True)
class OperationsOf:
    """Declares the operations of the contract `contract` (``wsdl/<contract>.wsdl``): all in its
    `namespace`, their mapping specs under ``mappings/<contract>/``."""

    contract: str
    namespace: str

    def __call__(self, name: str, request: str, response: str, **options: Any) -> Operation:
        """`options` are `Operation`'s own: ``access``, ``idempotency_key``, ``subject``."""
        specs = f"{self.contract}/{request}", f"{self.contract}/{response}"
        return Operation(self.namespace, name, *specs, **options)


@dataclass(frozen=True, slots=True)
class Contract:
    """One inbound contract as a door serves it: ``wsdl/<name>.wsdl`` at ``/soap/<name>``.

    `service` is the spyne service class whose models mirror the contract; `dependencies` are
    types spyne leaves out of its generated schema unless told (the base type of a simpleContent
    extension, see `bridge.soap.app`)."""

    name: str
    namespace: str
    service_name: str
    service: Any
    operations: tuple[Operation, ...]
    dependencies: tuple[Any, ...] = field(default=())

    @property
    def mount(self) -> str:
        return f"/soap/{self.name}"
