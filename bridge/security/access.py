"""Who is calling (`Principal`) and what an operation lets in (`Access`), for every door.

Each REST route and SOAP operation declares one `Access` where it is defined: the tiers that may
call it and the scope the caller's credential must carry. Nothing is open unless it says so
(`OPEN`, for health checks, the API document and the token endpoint): a door refuses a route or
operation that declares nothing, so forgetting the declaration locks the route, never opens it.

The scopes an app knows (`Scopes`) are what `bridge clients create --scope` and
`POST /api/v1/clients` accept and what the OpenAPI document lists; a client holds some of them,
an access token carries some of those. They are the bridge's own (`SCOPES`, fixed) and those of
the imported services (`vat:call`, read from their import files): each app holds its own
registry (`Security.scopes`), built once at start-up before any door, so two apps of one
process (tests build many) never see each other's services.

    tier      who                                           typical scopes
    public    anyone's app, low plan                        accounts:read
    partner   a partner bank or logistics company           transfers:*, shipments:*
    private   our own back office and operators             everything, admin scopes

Framework-free: the doors put the `Principal` in the WSGI environ under `PRINCIPAL_KEY` (and its
id under `CLIENT_ID_KEY`, which services scope their objects by).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from bridge.domain.errors import Forbidden
from bridge.security.clients import TIERS, ApiClient, Tier

PRINCIPAL_KEY = "bridge.principal"
CLIENT_ID_KEY = "bridge.client_id"

Method = Literal["bearer", "api_key", "ws_security", "session", "client_secret"]

# The bridge's own scopes, the same in every app; read-only.
SCOPES: Mapping[str, str] = MappingProxyType(
    {
        "transfers:read": "Read your transfers",
        "transfers:write": "Submit transfers",
        "accounts:read": "Check accounts and read statements",
        "shipments:read": "Read shipments and their tracking",
        "shipments:write": "Hand over shipments; send delivery events (logistics partners)",
        "hr:read": "Read employees as payroll will receive them",
        "hr:write": "Send employee changes to payroll",
        "classifications:read": "Read classifications",
        "classifications:write": "Submit documents for classification",
        "sync:admin": "Operate the sync jobs: runs, dead letters, replays",
        "audit:read": "Read the audit log",
        "clients:admin": "Manage API clients and their credentials",
        "simulators:admin": (
            "Call and steer the upstream simulators under /sims (private tier only)"
        ),
        "metrics:read": "Scrape the Prometheus metrics at /metrics (private tier only)",
    }
)


class Scopes:
    """The scopes one app knows, scope -> what it lets a client do: the bridge's own and those
    the imported services declare. Built once at start-up; never changed while the app runs."""

    def __init__(self, declared: Mapping[str, str] | None = None) -> None:
        known = dict(SCOPES)
        for scope, description in (declared or {}).items():
            known.setdefault(scope, description)  # a built-in scope keeps its description
        self._known: Mapping[str, str] = MappingProxyType(known)

    def __contains__(self, scope: object) -> bool:
        return scope in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)

    @property
    def described(self) -> Mapping[str, str]:
        """Scope -> description, for API documents."""
        return self._known

    def unknown(self, scopes: Iterable[str]) -> list[str]:
        """Those of `scopes` this app does not know, sorted."""
        return sorted(set(scopes).difference(self._known))

    def allow(self, scope: str | None, tiers: Iterable[str] = TIERS) -> Access:
        """`allow` for an operation whose scope may be one of this app's imported services."""
        return allow(scope, tiers, known=self)


BUILTIN = Scopes()


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the client, the scopes this credential carries (an access
    token's may be fewer than the client's), and how it proved who it is."""

    client: ApiClient
    scopes: frozenset[str]
    method: Method

    @property
    def id(self) -> str:
        return self.client.id

    @property
    def tier(self) -> Tier:
        return self.client.tier

    @property
    def organisation(self) -> str | None:
        return self.client.organisation

    @property
    def plan(self) -> str:
        return self.client.plan

    @property
    def partner(self) -> str:
        """The partner this caller acts for, which owns its objects (shipments): its
        organisation, or the client itself without one."""
        return self.client.organisation or self.client.id


@dataclass(frozen=True, slots=True)
class Access:
    """What an operation lets in: a caller of one of `tiers` holding `scope`.
    `open` operations take no credential at all."""

    tiers: frozenset[str]
    scope: str | None
    open: bool = False

    def check(self, principal: Principal) -> None:
        """Nothing, or `Forbidden` saying what is missing (never what the caller holds)."""
        if self.open:
            return
        if principal.tier not in self.tiers:
            allowed = ", ".join(tier for tier in TIERS if tier in self.tiers)
            raise Forbidden(f"this operation is for {allowed} clients")
        if self.scope is not None and self.scope not in principal.scopes:
            raise Forbidden(f"this operation needs the scope {self.scope}")

    def describe(self) -> str:
        """One line for API documents: who may call."""
        if self.open:
            return "Open: no credentials needed."
        tiers = ", ".join(tier for tier in TIERS if tier in self.tiers)
        scope = f" with scope `{self.scope}`" if self.scope else ""
        return f"Tiers: {tiers}{scope}."


OPEN = Access(frozenset(), None, open=True)


def allow(
    scope: str | None, tiers: Iterable[str] = TIERS, *, known: Scopes | Mapping[str, str] = SCOPES
) -> Access:
    """The declaration of an operation: `allow("transfers:write", ("partner", "private"))`.
    `known`: the scopes it may name (the built-in ones; an app's `Scopes` for the operations
    of imported services)."""
    wanted = frozenset(tiers)
    unknown = wanted.difference(TIERS)
    if unknown or not wanted:
        raise ValueError(f"tiers must be some of {TIERS}, got {sorted(wanted)}")
    if scope is not None and scope not in known:
        raise ValueError(
            f"unknown scope {scope!r}; declare it in bridge.security.access.SCOPES "
            "or in an imported service's service.yaml"
        )
    return Access(wanted, scope)
