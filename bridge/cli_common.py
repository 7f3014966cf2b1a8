"""What every `bridge` command shares: the `--config` option and reading the settings, with a
bad setting reported on stderr (exit 2) instead of a traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bridge.domain.errors import ConfigurationError
from bridge.settings import Settings, load_settings

config_option = click.option(
    "--config",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML settings file (default: ./bridge.toml if present, or $BRIDGE_CONFIG).",
)


def settings_or_exit(config: Path | None, **overrides: Any) -> Settings:
    """The settings (`overrides` that are not None win), or exit 2 naming the bad one."""
    try:
        return load_settings(config, **{k: v for k, v in overrides.items() if v is not None})
    except ConfigurationError as exc:
        click.echo(f"bridge: {exc.detail}", err=True)
        sys.exit(2)
