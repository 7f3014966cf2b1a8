"""The `bridge` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bridge.domain.errors import ConfigurationError
from bridge.settings import Settings, load_settings


def _settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})
    except ConfigurationError as exc:
        click.echo(f"bridge: {exc.detail}", err=True)
        sys.exit(2)


config_option = click.option(
    "--config",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML settings file (default: ./bridge.toml if present, or $BRIDGE_CONFIG).",
)


@click.group()
def main() -> None:
    """Bridge: SOAP-to-REST integration bridge."""


@main.command()
@config_option
@click.option("--host", default=None, help="Interface to listen on (BRIDGE_HOST).")
@click.option("--port", type=int, default=None, help="Port to listen on (BRIDGE_PORT).")
@click.option(
    "--workers", type=int, default=None, help="gunicorn worker processes (BRIDGE_WORKERS)."
)
def serve(config: Path | None, host: str | None, port: int | None, workers: int | None) -> None:
    """Migrate the database and serve the bridge (REST, SOAP, simulators) under gunicorn."""
    from bridge.app import create_app, endpoints
    from bridge.serve import run

    settings = _settings(config, host=host, port=port, workers=workers)
    try:
        bridge = create_app(settings)  # migrates, and proves the app builds before forking
    except ConfigurationError as exc:
        click.echo(f"bridge: {exc.detail}", err=True)
        sys.exit(2)
    click.echo(
        f"Bridge listening on {settings.base_url}  (database {_masked(settings.database_url)})"
    )
    for what, where in endpoints(bridge):
        click.echo(f"  {what:<22} {where}")
    bridge.engine.dispose()
    run(settings)


@main.command()
@config_option
def migrate(config: Path | None) -> None:
    """Bring the database schema to the latest revision."""
    from bridge.store.db import make_engine, migration_state
    from bridge.store.db import migrate as upgrade

    settings = _settings(config)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    current, _ = migration_state(engine)
    click.echo(f"database {_masked(settings.database_url)} at revision {current}")


@main.command()
@config_option
def mappings(config: Path | None) -> None:
    """Compile every mapping spec and list them (a bad spec is reported with its file)."""
    from bridge.mapping import Mappings

    settings = _settings(config)
    try:
        loaded = Mappings.load(settings.mappings_dir)
    except ConfigurationError as exc:
        click.echo(f"bridge: {exc.detail}", err=True)
        sys.exit(2)
    for mapping in loaded:
        click.echo(f"{mapping.name:<42} {mapping.spec.element:<30} -> {mapping.model.__name__}")


def _masked(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url
