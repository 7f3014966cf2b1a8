"""What services and sync jobs need of a back-office system they reach by its SOAP contract.

Each is called by operation name with canonical messages and answers canonical objects (the
mapping layer translates both ways), and can tell before a call whether its contract would
refuse a message (`refusal`), so one unfit record is set aside instead of failing a batch.
`bridge.upstream.soap.SoapUpstream` is every one of them; tests pass fakes. Core banking, whose
conversation has typed operations and an outcome settled by asking, has its own Protocol
(`bridge.upstream.corebank.CoreBank`).
"""

from __future__ import annotations

from typing import Any, Protocol


class ContractClient(Protocol):
    def call(self, operation: str, message: Any, *, correlation_id: str | None = None) -> Any:
        """The upstream's answer to `message`; `UpstreamRejected` for a Client fault,
        `UpstreamUnavailable` when the outcome is unknown."""
        ...

    def refusal(self, operation: str, message: Any) -> str | None:
        """Why the upstream's contract would refuse `message`, or None if it fits."""
        ...


class Classifier(ContractClient, Protocol):
    """The AI classification service: ClassifyText, ClassifyBatch."""


class Logistics(ContractClient, Protocol):
    """The logistics partner's booking service: CreateShipment."""


class Payroll(ContractClient, Protocol):
    """Payroll: SubmitPayrollBatch, UpsertEmployee."""
