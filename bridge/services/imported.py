"""The use case of every imported service: call one of its operations.

    services.call("vat", "checkVat", {"countryCode": "DE", "vatNumber": "123456789"})
        -> {"countryCode": "DE", ..., "valid": true}

in three steps: the operation's input codec writes the JSON as the Body child and checks it
against the contract (what the contract refuses is refused here, before anything reaches the
upstream: a `MappingError` naming the JSON field); the service's upstream client sends it
(`bridge.upstream.generic`); the output codec reads the reply back into JSON. `forward` is the
same call for the SOAP pass-through, which already holds a checked Body child and answers the
reply's Body child, checked against the contract too.

Retries: only an operation its import file marks `safe: true` is sent again after a transient
failure (a retry of anything else could apply it twice), at most `retries` more times.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from bridge.contracts.catalog import ImportedService
from bridge.contracts.model import Operation
from bridge.domain.errors import BridgeError, NotFound, OutcomeUnknown
from bridge.services.retry import RetryPolicy, transient


class ServiceUpstream(Protocol):
    """What the service needs of an imported service's SOAP client."""

    def call(
        self,
        operation: str,
        body: Any,
        *,
        headers: Sequence[Any] = (),
        correlation_id: str | None = None,
    ) -> Any | None: ...


@dataclass(frozen=True)
class Service:
    """One imported service as this process runs it: its contract, import file and codecs
    (`imported`), its upstream client, and the waits between retries of its safe operations
    (how many: the import file's `retries`)."""

    imported: ImportedService
    upstream: ServiceUpstream
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def name(self) -> str:
        return self.imported.name

    def operation(self, name: str) -> Operation:
        found = self.imported.contract.operations.get(name)
        if found is None:
            raise NotFound(f"the service {self.name} has no operation {name!r}")
        return found

    def scope(self, operation: str) -> str:
        """The scope a caller needs: the operation's own, if its import file names one, else
        the service's."""
        return self.imported.config.scope_of(operation)

    @property
    def tiers(self) -> tuple[str, ...]:
        return tuple(self.imported.config.tiers)

    def safe(self, operation: str) -> bool:
        return self.imported.config.policy(operation).safe

    def codec(self, operation: str, message: str) -> Any:
        """The codec of `message` ("input", "output" or a fault's name) of `operation`."""
        return self.imported.codecs[(operation, message)]


class ImportedServices:
    """Every imported service of this process, by name; built once at start-up."""

    def __init__(self, services: Iterable[Service] = ()) -> None:
        self._services = {service.name: service for service in services}

    def __iter__(self) -> Iterator[Service]:
        return iter(self._services.values())

    def __len__(self) -> int:
        return len(self._services)

    def service(self, name: str) -> Service:
        found = self._services.get(name)
        if found is None:
            raise NotFound(f"no imported service {name!r}")
        return found

    def call(
        self,
        name: str,
        operation: str,
        data: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
    ) -> Any | None:
        """The operation's output as JSON (None for a one-way operation)."""
        service = self.service(name)
        op = service.operation(operation)
        body = service.codec(operation, "input").write(data)
        reply = self._send(service, op, body, correlation_id)
        if reply is None:
            return None
        try:
            return service.codec(operation, "output").read(reply)
        except BridgeError as exc:
            raise OutcomeUnknown(
                name, f"{operation}: a reply that cannot be read ({exc.detail[:200]})"
            ) from None

    def forward(
        self,
        name: str,
        operation: str,
        body: Any,
        *,
        headers: Sequence[Any] = (),
        correlation_id: str | None = None,
    ) -> Any | None:
        """The reply's Body child to a Body child the door has checked, sent with the header
        entries the door forwards (`headers`, checked too); a reply that breaks the contract
        is an unknown outcome, never passed on."""
        service = self.service(name)
        op = service.operation(operation)
        reply = self._send(service, op, body, correlation_id, headers)
        if reply is None:
            return None
        violation = service.imported.contract.schema.validator.violation(reply)
        if violation is not None:
            raise OutcomeUnknown(
                name,
                f"{operation}: a reply that breaks the contract "
                f"({violation.field or 'the reply'}: {violation.reason[:200]})",
            )
        return reply

    @staticmethod
    def _send(
        service: Service,
        op: Operation,
        body: Any,
        correlation_id: str | None,
        headers: Sequence[Any] = (),
    ) -> Any | None:
        def send() -> Any | None:
            return service.upstream.call(
                op.name, body, headers=headers, correlation_id=correlation_id
            )

        retries = service.imported.config.retries_of(op.name)
        if retries <= 0:
            return send()
        policy = replace(service.retry, attempts=retries + 1)
        for attempt in policy.retrying(transient):
            with attempt:
                return send()
        raise AssertionError("unreachable: tenacity reraises the last failure")


def declared_scopes(services: Iterable[ImportedService]) -> dict[str, str]:
    """The scopes the imported services' import files name, and what each lets a client do:
    what the app's `bridge.security.access.Scopes` is built with at start-up."""
    scopes: dict[str, str] = {}
    for service in services:
        for scope, description in service.config.described_scopes().items():
            scopes.setdefault(scope, description)
    return scopes
