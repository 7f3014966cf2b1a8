"""`bridge clients`: register API clients and manage their credentials from the shell.

Secrets, API keys and WS-Security passwords are printed once, when made, and never shown again:
the database keeps secrets and keys only as hashes, and WS-Security passwords sealed under a
key file. A lost one is replaced (`rotate-secret`, `api-key`, `wss-password`).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from bridge.audit_cli import audited
from bridge.cli_common import config_option, settings_or_exit
from bridge.contracts.catalog import CONFIG, SERVICES
from bridge.contracts.config import ServiceConfig
from bridge.domain.errors import BridgeError
from bridge.security.access import SCOPES, Scopes
from bridge.security.clients import TIERS, ClientRegistry, scope_text
from bridge.security.links import AccountLinks
from bridge.security.sealing import wss_sealer
from bridge.settings import DEFAULT_PLAN, Settings
from bridge.store.db import make_engine, migrate


def _registry(config: Path | None) -> ClientRegistry:
    settings = settings_or_exit(config)
    engine = make_engine(settings.database_url)
    migrate(engine)
    return ClientRegistry(engine, sealer=wss_sealer(settings))


def known_scopes(settings: Settings) -> Scopes:
    """The scopes `bridge serve` would know with these settings: the bridge's own and those
    the imported services' import files declare (read from their service.yaml alone: nothing
    is compiled to create a client)."""
    folder = settings.contracts_dir / SERVICES
    files = sorted(folder.glob(f"*/{CONFIG}")) if folder.is_dir() else []
    declared: dict[str, str] = {}
    for path in files:
        for scope, description in ServiceConfig.read(path).described_scopes().items():
            declared.setdefault(scope, description)
    return Scopes(declared)


@contextmanager
def _refusals() -> Iterator[None]:
    """What the registry refuses (an unknown or disabled client, ...): one line, exit 1."""
    try:
        yield
    except BridgeError as exc:
        click.echo(f"bridge: {exc.detail}", err=True)
        sys.exit(1)


@click.group()
def clients() -> None:
    """API clients: create, list, rotate their secret, issue API keys and WS-Security
    passwords, link the accounts whose statements they read, disable."""


# The credentials a command prints: (label of the text form, variable of the --env form, value).
Shown = list[tuple[str, str, str]]

env_option = click.option(
    "--env",
    "as_env",
    is_flag=True,
    help="Print shell assignments (CLIENT_ID=..., one a line) for `eval`, instead of labels.",
)


def _show(shown: Shown, as_env: bool) -> None:
    for label, variable, value in shown:
        click.echo(f"{variable}={shlex.quote(value)}" if as_env else f"{label + ':':<14} {value}")


def _client_command(
    name: str, *options: Callable[[Any], Any]
) -> Callable[[Callable[..., None]], click.Command]:
    """`bridge clients NAME CLIENT_ID [options]`: with --config, audited with the client id as
    its subject."""

    def decorate(command: Callable[..., None]) -> click.Command:
        wrapped: Any = audited(f"clients {name}", resource="client_id")(command)
        for option in reversed(options):
            wrapped = option(wrapped)
        wrapped = click.argument("client_id")(wrapped)
        return clients.command(name)(config_option(wrapped))

    return decorate


@clients.command("create")
@config_option
@env_option
@click.option("--name", required=True, help="Who the client is, for people reading lists.")
@click.option("--tier", type=click.Choice(TIERS), required=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="SCOPE",
    help=f"A scope it may be granted (repeat for several): {', '.join(SCOPES)}, or one an "
    "imported service declares (`bridge contract list`), such as vat:call.",
)
@click.option("--organisation", default=None, help="The partner organisation it belongs to.")
@click.option("--plan", default=DEFAULT_PLAN, show_default=True, help="Rate-limit plan.")
@audited("clients create", resource="name")
def create(
    config: Path | None,
    name: str,
    tier: str,
    scopes: tuple[str, ...],
    organisation: str | None,
    plan: str,
    as_env: bool,
) -> None:
    """Register a client; prints its id and its secret, once."""
    known = known_scopes(settings_or_exit(config))
    unknown = known.unknown(scopes)
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)}: not a scope of this bridge; known: {', '.join(sorted(known))}",
            param_hint="'--scope'",
        )
    with _refusals():
        client, secret = _registry(config).create(
            name, tier, scopes, plan=plan, organisation=organisation
        )
    _show(
        [("client_id", "CLIENT_ID", client.id), ("client_secret", "CLIENT_SECRET", secret)],
        as_env,
    )
    click.echo("The secret is shown only now; store it where the client reads it.", err=True)


@clients.command("list")
@config_option
@audited("clients list")
def list_clients(config: Path | None) -> None:
    """Every client with its tier, plan, organisation, state and scopes (never a secret)."""
    for client in _registry(config).list():
        state = "active" if client.active else "disabled"
        click.echo(
            f"{client.id:<20} {client.name:<24} {client.tier:<8} {client.plan:<12} "
            f"{client.organisation or '-':<16} {state:<8} {scope_text(client.scopes)}"
        )


@_client_command("rotate-secret", env_option)
def rotate_secret(config: Path | None, client_id: str, as_env: bool) -> None:
    """Replace CLIENT_ID's secret; the old one stops working at once."""
    with _refusals():
        secret = _registry(config).rotate_secret(client_id)
    _show([("client_secret", "CLIENT_SECRET", secret)], as_env)


@_client_command("disable")
def disable(config: Path | None, client_id: str) -> None:
    """Refuse CLIENT_ID from now on; revokes its API keys and refresh tokens."""
    with _refusals():
        _registry(config).disable(client_id)
    click.echo(f"client {client_id} disabled")


@_client_command("api-key", env_option)
def api_key(config: Path | None, client_id: str, as_env: bool) -> None:
    """Issue a new API key for CLIENT_ID; prints it once."""
    with _refusals():
        key = _registry(config).create_api_key(client_id)
    _show([("api_key", "API_KEY", key)], as_env)


@_client_command("wss-password", env_option)
def wss_password(config: Path | None, client_id: str, as_env: bool) -> None:
    """Issue a new WS-Security password for CLIENT_ID (the UsernameToken's Username is the
    client id); prints it once, and the previous one stops working."""
    with _refusals():
        password = _registry(config).create_wss_password(client_id)
    _show(
        [("username", "WSS_USERNAME", client_id), ("wss_password", "WSS_PASSWORD", password)],
        as_env,
    )
    click.echo("The password is shown only now; store it where the client reads it.", err=True)


organisation_option = click.option(
    "--organisation",
    "shared",
    is_flag=True,
    help="Link to the client's organisation: every client of it reads the account.",
)


@_client_command("link-account", click.argument("account"), organisation_option)
def link_account(config: Path | None, client_id: str, account: str, shared: bool) -> None:
    """Let CLIENT_ID (or its organisation) read the statements of ACCOUNT (an IBAN or another
    account identifier). Private clients read every account without links."""
    registry = _registry(config)
    with _refusals():
        link = AccountLinks(registry.engine).link(
            registry.get(client_id), account, organisation=shared
        )
    click.echo(f"account {link.account} linked to {link.holder_kind} {link.holder}")


@_client_command("unlink-account", click.argument("account"), organisation_option)
def unlink_account(config: Path | None, client_id: str, account: str, shared: bool) -> None:
    """Stop CLIENT_ID (or its organisation) reading the statements of ACCOUNT; at once, on
    every node."""
    registry = _registry(config)
    with _refusals():
        AccountLinks(registry.engine).unlink(registry.get(client_id), account, organisation=shared)
    click.echo(f"account {account} unlinked")


@_client_command("accounts")
def accounts(config: Path | None, client_id: str) -> None:
    """The accounts CLIENT_ID reads statements of: its own links and its organisation's."""
    registry = _registry(config)
    with _refusals():
        links = AccountLinks(registry.engine).of(registry.get(client_id))
    for link in links:
        click.echo(f"{link.account:<34} {link.holder_kind:<12} {link.holder}")
