"""What the spyne service of every inbound contract shares: who calls, under which correlation
id, what the door hands its methods, and the one path from an error to a SOAP fault.

A door's methods receive the canonical request and return the canonical answer; whatever they
raise leaves through `DoorService.call_wrapper` as the fault `bridge.soap.faults.soap_fault`
makes of it, with the contract element the error is about (`bridge.soap.paths.ErrorFields`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from spyne import Fault, ServiceBase

from bridge.observability.correlation import correlation_id
from bridge.security.access import CLIENT_ID_KEY, PRINCIPAL_KEY, Principal
from bridge.soap.faults import FAULT_KEY, fault_status, soap_fault

ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class DoorConfig:
    """What spyne hands a door's methods as ``ctx.app.config``: each door extends it with the
    services its methods call. `field_of` names the contract element an error is about (see
    `bridge.soap.paths`)."""

    field_of: Callable[[str, BaseException], str | None]


Config = TypeVar("Config", bound=DoorConfig)


def config(ctx: Any, kind: type[Config]) -> Config:
    """The door's `DoorConfig` (`kind`), as spyne hands it to a method."""
    return cast(Config, ctx.app.config)


def environ(ctx: Any) -> dict[str, Any]:
    found: dict[str, Any] = ctx.transport.req_env
    return found


def client_id(ctx: Any) -> str:
    """The caller: the API client the gateway authenticated and left in the environ."""
    client: str = environ(ctx).get(CLIENT_ID_KEY, ANONYMOUS)
    return client


def partner_id(ctx: Any) -> str:
    """The partner the caller acts for (`Principal.partner`)."""
    principal: Principal | None = environ(ctx).get(PRINCIPAL_KEY)
    return client_id(ctx) if principal is None else principal.partner


def correlation(ctx: Any) -> str:
    return correlation_id(environ(ctx))


class DoorService(ServiceBase):  # type: ignore[misc]
    """The base of every door's spyne service."""

    @classmethod
    def call_wrapper(cls, ctx: Any, args: Any = None) -> Any:
        """Every error of a method leaves as the one SOAP fault `soap_fault` makes of it."""
        try:
            return super().call_wrapper(ctx, args)
        except Fault:
            raise
        except Exception as exc:
            field = config(ctx, DoorConfig).field_of(ctx.descriptor.operation_name, exc)
            fault = soap_fault(exc, correlation(ctx), field=field)
            environ(ctx)[FAULT_KEY] = fault.faultcode
            status, headers = fault_status(exc)  # e.g. 503 with Retry-After; spyne's is 500
            ctx.transport.resp_code = status
            ctx.transport.resp_headers.update(headers)
            raise fault from exc
