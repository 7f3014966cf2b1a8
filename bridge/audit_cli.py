"""`bridge audit`: read the audit log from the shell; and `audited`, which records the runs of
the admin commands (`bridge clients ...`, `bridge sync replay`) in it.

    bridge audit --since 1h --outcome denied
    bridge audit --client acme-7f3a --interface soap --limit 20 --json

Entries come newest first; `--before ID` continues after the last id of a page. A command run
from the shell is recorded with interface "cli", the operating-system user and host as its
source (`alice@ops-1`), the command's subject (a client id) as its resource, its options as the
detail (masked like every detail; no command takes a secret as an option), and its exit status.
"""

from __future__ import annotations

import functools
import getpass
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from bridge.cli_common import config_option, settings_or_exit
from bridge.domain.clock import as_utc, utcnow
from bridge.domain.errors import ConfigurationError
from bridge.settings import load_settings
from bridge.store.audit import INTERFACES, MAX_LIMIT, OUTCOMES, AuditLog, AuditRecord
from bridge.store.db import make_engine

log = logging.getLogger(__name__)

Command = TypeVar("Command", bound=Callable[..., Any])
_RELATIVE = re.compile(r"(?P<count>\d+)(?P<unit>[smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class Moment(click.ParamType[datetime, Any]):
    """An ISO 8601 time (UTC when it has no offset), or a time ago: 90s, 15m, 2h, 7d."""

    name = "time"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        relative = _RELATIVE.fullmatch(str(value).strip())
        if relative:
            ago = timedelta(**{_UNITS[relative["unit"]]: int(relative["count"])})
            return utcnow() - ago
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is neither an ISO 8601 time nor a time ago like 15m", param, ctx)
        return as_utc(moment)


# -- recording the admin commands ----------------------------------------------------------------


def audited(operation: str, *, resource: str | None = None) -> Callable[[Command], Command]:
    """Record each run of the click command below (put it under the click decorators):
    `operation` names it ("clients disable"), `resource` the parameter that names its subject.
    The record is written when the command ends, however it ends; recording never changes how
    it ends."""

    def wrap(command: Command) -> Command:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            at, started = utcnow(), time.perf_counter()
            outcome, status = "server_error", "error"
            try:
                result = command(*args, **kwargs)
                outcome, status = "ok", "0"
                return result
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if not exit_.code else 1)
                outcome, status = ("ok" if code == 0 else "client_error"), str(code)
                raise
            except click.exceptions.Exit as exit_:
                code = exit_.exit_code
                outcome, status = ("ok" if code == 0 else "client_error"), str(code)
                raise
            except click.ClickException as refused:
                outcome, status = "client_error", str(refused.exit_code)
                raise
            finally:
                subject = kwargs.get(resource) if resource else None
                _record(
                    kwargs.get("config"),
                    AuditRecord(
                        at=at,
                        interface="cli",
                        operation=operation,
                        resource_id=None if subject is None else str(subject),
                        outcome=outcome,
                        status=status,
                        latency_ms=round((time.perf_counter() - started) * 1000, 3),
                        source=operator(),
                        detail=_options(kwargs, skip={"config", resource}),
                    ),
                )

        return run  # type: ignore[return-value]

    return wrap


def operator() -> str:
    """Who runs this command: user@host."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name, no passwd entry (some containers)
        user = "uid"
    return f"{user}@{socket.gethostname()}"


def _options(kwargs: dict[str, Any], skip: set[str | None]) -> str | None:
    shown = [
        f"{name}={' '.join(map(str, value)) if isinstance(value, tuple) else value}"
        for name, value in kwargs.items()
        if name not in skip and value not in (None, (), False)
    ]
    return " ".join(shown) or None


def _record(config: Path | None, entry: AuditRecord) -> None:
    """Write `entry` now; a database that cannot take it is reported, never raised."""
    try:
        settings = load_settings(config)
    except ConfigurationError:
        return  # the command said so already
    engine = make_engine(settings.database_url)
    try:
        audit_log = AuditLog(engine)
        audit_log.record(entry)
        audit_log.close()
    except Exception:
        log.warning("could not write the audit record of %s", entry.operation, exc_info=True)
    finally:
        engine.dispose()


@click.command("audit")
@config_option
@click.option("--since", type=Moment(), default=None, help="From this time on (or 15m, 2h, 7d).")
@click.option("--until", type=Moment(), default=None, help="Before this time.")
@click.option("--client", "client_id", default=None, help="Only this API client's entries.")
@click.option("--outcome", type=click.Choice(sorted(OUTCOMES)), default=None)
@click.option("--interface", type=click.Choice(sorted(INTERFACES)), default=None)
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_LIMIT),
    default=50,
    show_default=True,
    help="Entries to show.",
)
@click.option("--before", "before_id", type=click.IntRange(1), default=None, help="Ids below this.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@audited("audit")
def audit(
    config: Path | None,
    since: datetime | None,
    until: datetime | None,
    client_id: str | None,
    outcome: str | None,
    interface: str | None,
    limit: int,
    before_id: int | None,
    as_json: bool,
) -> None:
    """The audit log, newest first: calls on the doors, sync deliveries, admin actions and
    security events."""
    settings = settings_or_exit(config)
    engine = make_engine(settings.database_url)
    try:
        entries = AuditLog(engine).query(
            since=since,
            until=until,
            client_id=client_id,
            outcome=outcome,
            interface=interface,
            before_id=before_id,
            limit=limit,
        )
    finally:
        engine.dispose()
    if as_json:
        for entry in entries:
            click.echo(orjson.dumps(asdict(entry)).decode())
        return
    click.echo(
        f"{'id':>8}  {'at (UTC)':<19}  {'interface':<9} {'operation':<40} {'resource':<16} "
        f"{'client':<20} {'outcome':<15} {'status':<12} {'ms':>8}  source"
    )
    for entry in entries:
        latency = "" if entry.latency_ms is None else f"{entry.latency_ms:.1f}"
        click.echo(
            f"{entry.id:>8}  {entry.at:%Y-%m-%d %H:%M:%S}  {entry.interface:<9} "
            f"{_fit(entry.operation, 40)} {_fit(entry.resource_id, 16)} "
            f"{_fit(entry.client_id, 20)} {entry.outcome:<15} {_fit(entry.status, 12)} "
            f"{latency:>8}  {entry.source or '-'}"
        )
    if len(entries) == limit:
        click.echo(f"(more: --before {entries[-1].id})", err=True)


def _fit(value: str | None, width: int) -> str:
    text = value or "-"
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)
