"""`bridge contract`: bring your own WSDL.

    bridge contract import path/to/checkVatService.wsdl --name vat [--upstream URL]
                           [--port PORT] [--safe OPERATION ...] [--force]
    bridge contract list
    bridge contract show vat
    bridge contract remove vat
    bridge contract diff OLD.wsdl NEW.wsdl

A refused contract is one line on stderr naming the file, the line and the reason, and exit
status 2; nothing is written then. The commands read and write files only (no database):
what they change is plain files a person reviews, like any other configuration.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from bridge.cli_common import config_option, settings_or_exit
from bridge.contract_diff_cli import diff
from bridge.domain.errors import ConfigurationError, NotFound


@click.group()
def contract() -> None:
    """Imported contracts: serve any WSDL over REST and SOAP without writing Python."""


contract.add_command(diff)


def _refused(exc: ConfigurationError | NotFound) -> NoReturn:
    click.echo(f"bridge: {' '.join(exc.detail.split())}", err=True)
    sys.exit(1 if isinstance(exc, NotFound) else 2)


def _or_refused(run: Callable[[], Any]) -> Any:
    try:
        return run()
    except (ConfigurationError, NotFound) as exc:
        _refused(exc)


@contract.command("import")
@config_option
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--name", required=True, help="The service's name: /api/v1/services/NAME.")
@click.option("--upstream", default=None, help="The service's URL (default: its simulator).")
@click.option(
    "--port", "port", default=None, help="The WSDL port to serve (default: first SOAP 1.1)."
)
@click.option(
    "--safe",
    multiple=True,
    metavar="OPERATION",
    help="An operation that may be retried (idempotent); repeat for several.",
)
@click.option("--force", is_flag=True, help="Replace an imported contract of that name.")
def import_(
    config: Path | None,
    source: Path,
    name: str,
    upstream: str | None,
    port: str | None,
    safe: tuple[str, ...],
    force: bool,
) -> None:
    """Import the WSDL SOURCE (and the files it imports) as the service NAME."""
    from bridge.contracts.importer import import_contract

    settings = settings_or_exit(config)
    imported = _or_refused(
        lambda: import_contract(
            source,
            name=name,
            contracts_dir=settings.contracts_dir,
            mappings_dir=settings.mappings_dir,
            upstream=upstream,
            port=port,
            safe=safe,
            force=force,
        )
    )
    operations = ", ".join(imported.operations)
    click.echo(
        f"imported {name}: {len(imported.operations)} operation(s) ({operations}) through port "
        f"{imported.port.name} (SOAP {imported.port.soap_version}), upstream "
        f"{upstream or 'simulator'}, scope {name}:call"
    )
    click.echo(f"  contract  {imported.wsdl.parent}")
    click.echo(f"  mappings  {settings.mappings_dir / 'services' / name}")


@contract.command("list")
@config_option
def list_(config: Path | None) -> None:
    """The imported contracts: name, operations, upstream and scope."""
    from bridge.contracts.catalog import SERVICES, load_service

    settings = settings_or_exit(config)
    folder = settings.contracts_dir / SERVICES
    names = sorted(
        path.name
        for path in (folder.iterdir() if folder.is_dir() else ())
        if path.is_dir() and not path.name.startswith(".")
    )
    if not names:
        click.echo(f"no imported contracts (in {folder})")
        return
    click.echo(f"{'name':<20} {'operations':>10}  {'upstream':<40} scope")
    for name in names:
        try:
            service = load_service(folder / name, settings.mappings_dir / SERVICES / name)
        except ConfigurationError as exc:
            click.echo(f"{name:<20} {'-':>10}  refused: {' '.join(exc.detail.split())}")
            continue
        click.echo(
            f"{name:<20} {len(service.contract.operations):>10}  "
            f"{service.config.upstream:<40} {service.config.scope}"
        )


@contract.command("show")
@config_option
@click.argument("name")
def show(config: Path | None, name: str) -> None:
    """An imported contract: its ports, operations, scopes and policies."""
    from bridge.contracts.catalog import SERVICES, load_service
    from bridge.contracts.importer import check_name

    settings = settings_or_exit(config)
    folder = settings.contracts_dir / SERVICES / _or_refused(lambda: check_name(name))
    if not folder.is_dir():
        _refused(NotFound(f"no imported contract named {name!r} (in {folder.parent})"))
    service = _or_refused(lambda: load_service(folder, settings.mappings_dir / SERVICES / name))
    for line in describe(service):
        click.echo(line)


def describe(service: Any) -> list[str]:
    """`bridge contract show` as lines of text."""
    contract, config = service.contract, service.config
    lines = [
        f"{service.name}  {contract.wsdl}",
        f"  target namespace  {contract.target_namespace}",
        f"  upstream          {config.upstream}",
        f"  scope             {config.scope}",
        f"  tiers             {', '.join(config.tiers)}",
        f"  policies          timeout {config.timeout:g} s; retries {config.retries} "
        f"(safe operations only); breaker opens after {config.breaker.fail_max} failures "
        f"for {config.breaker.reset_timeout:g} s",
        "  ports",
    ]
    for port in contract.ports:
        served = "  (served)" if port == contract.port else ""
        where = f"{port.service}/{port.name}" if port.service else port.name
        lines.append(f"    {where}  SOAP {port.soap_version}  {port.address or '-'}{served}")
    lines.append("  operations")
    for operation in contract.operations.values():
        safe = "yes" if config.policy(operation.name).safe else "no"
        style = (
            f"{operation.style}/encoded" if operation.input.use == "encoded" else operation.style
        )
        lines.append(
            f"    {operation.name}  {style}  SOAP {operation.soap_version}  "
            f"SOAPAction {operation.soap_action!r}  scope {config.scope_of(operation.name)}  "
            f"safe {safe}  timeout {config.timeout_of(operation.name):g} s"
        )
        wrapped = " (wrapped)" if operation.input.wrapped else ""
        lines.append(f"      input   {operation.input.element}{wrapped}")
        if operation.output is None:
            lines.append("      output  none (one-way)")
        else:
            lines.append(f"      output  {operation.output.element}")
        for fault in operation.faults:
            lines.append(f"      fault   {fault.name}: {fault.element}")
        for header in operation.headers:
            lines.append(f"      header  {header}")
    return lines


@contract.command("remove")
@config_option
@click.argument("name")
def remove(config: Path | None, name: str) -> None:
    """Delete the imported contract NAME: its files, import file and mapping specs."""
    from bridge.contracts.importer import remove_contract

    settings = settings_or_exit(config)
    _or_refused(lambda: remove_contract(name, settings.contracts_dir, settings.mappings_dir))
    click.echo(f"removed {name}")
