"""Which accounts' statements a caller may read: account links.

A statement names counterparties and amounts, so it is for the account's holder, not for
whoever knows the number. An operator links an account to a partner client, or to the client's
organisation so that every client of that organisation reads it (`bridge clients link-account`,
`POST /api/v1/clients/{id}/accounts`). Private clients (our own systems) read every account;
public clients read none (the routes refuse them: they get account verification only).

`reader(principal)` is what the doors hand `BankingService.transactions`: None for a private
caller, else a check of the caller's links, read at each call (links are few and rarely read,
and an unlink must work at once on every node).

Accounts are kept as core banking names them (an IBAN, or another identifier), 1 to 34 letters
and digits, the form the REST path takes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError

from bridge.domain.clock import as_utc
from bridge.domain.errors import Conflict, InvalidInput, MappingError, NotFound
from bridge.security.access import Principal
from bridge.security.clients import ApiClient
from bridge.store.base import Store
from bridge.store.tables import account_links

HolderKind = Literal["client", "organisation"]
ACCOUNT = re.compile(r"[A-Za-z0-9]{1,34}")


@dataclass(frozen=True, slots=True)
class AccountLink:
    """`account` is readable by the client `holder` or every client of the organisation."""

    account: str
    holder_kind: HolderKind
    holder: str
    created_at: datetime


class AccountLinks(Store):
    def link(self, client: ApiClient, account: str, *, organisation: bool = False) -> AccountLink:
        """Let `client` (or, with `organisation`, every client of its organisation) read
        `account`'s statements; `Conflict` when that link exists already."""
        kind, holder = _holder(client, organisation)
        link = AccountLink(_checked(account), kind, holder, self.clock())
        try:
            with self.engine.begin() as db:
                db.execute(
                    insert(account_links).values(
                        holder_kind=kind,
                        holder=holder,
                        account=link.account,
                        created_at=link.created_at,
                    )
                )
        except IntegrityError:
            raise Conflict(f"the account is already linked to {kind} {holder!r}") from None
        return link

    def unlink(self, client: ApiClient, account: str, *, organisation: bool = False) -> None:
        """Remove the link `link` made; `NotFound` when there is none."""
        kind, holder = _holder(client, organisation)
        with self.engine.begin() as db:
            removed = db.execute(
                delete(account_links).where(
                    account_links.c.holder_kind == kind,
                    account_links.c.holder == holder,
                    account_links.c.account == _checked(account),
                )
            ).rowcount
        if not removed:
            raise NotFound(f"the account is not linked to {kind} {holder!r}")

    def of(self, client: ApiClient) -> list[AccountLink]:
        """The links that let `client` read an account: its own and its organisation's."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(account_links)
                .where(_held_by(client))
                .order_by(account_links.c.account, account_links.c.holder_kind)
            ).all()
        return [AccountLink(r.account, r.holder_kind, r.holder, as_utc(r.created_at)) for r in rows]

    def readable(self, client: ApiClient, account: str) -> bool:
        """Whether `account` is linked to `client` or to its organisation."""
        with self.engine.connect() as db:
            found = db.execute(
                select(account_links.c.account)
                .where(account_links.c.account == account, _held_by(client))
                .limit(1)
            ).first()
        return found is not None

    def reader(self, principal: Principal | None) -> Callable[[str], bool] | None:
        """What `BankingService.transactions` checks accounts with: None (every account) for a
        private caller; for anyone else, its links (no caller: none)."""
        if principal is not None and principal.tier == "private":
            return None
        if principal is None:
            return lambda account: False
        client = principal.client
        return lambda account: self.readable(client, account)


def _held_by(client: ApiClient) -> ColumnElement[bool]:
    own = and_(account_links.c.holder_kind == "client", account_links.c.holder == client.id)
    if client.organisation is None:
        return own
    shared = and_(
        account_links.c.holder_kind == "organisation",
        account_links.c.holder == client.organisation,
    )
    return or_(own, shared)


def _holder(client: ApiClient, organisation: bool) -> tuple[HolderKind, str]:
    if not organisation:
        return "client", client.id
    if client.organisation is None:
        # The client's state, not a field of the request: refused as a whole (422).
        raise InvalidInput(f"client {client.id} belongs to no organisation to link accounts to")
    return "organisation", client.organisation


def _checked(account: str) -> str:
    if not ACCOUNT.fullmatch(account):
        raise MappingError(
            "account", "an IBAN or account identifier, 1 to 34 letters and digits", account
        )
    return account
