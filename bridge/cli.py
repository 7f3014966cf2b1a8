"""The `bridge` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bridge.audit_cli import audit, audited
from bridge.cli_common import config_option, settings_or_exit
from bridge.domain.errors import ConfigurationError
from bridge.observability.logging import configure_logging

if TYPE_CHECKING:
    from bridge.components import Bridge


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
    from bridge.serve import prepare_metrics_dir, run

    settings = settings_or_exit(config, host=host, port=port, workers=workers)
    simulators_on, why = settings.simulators_decision()
    missing = settings.unconfigured_upstreams()
    if missing:
        click.echo(
            f"bridge: the simulators are off ({why}), so every upstream needs a URL; "
            f"not set: {', '.join(missing)}",
            err=True,
        )
        sys.exit(2)
    prepare_metrics_dir()  # before the app (and prometheus-client) is imported

    from bridge.app import create_app, endpoints

    # Before the app is built, and inherited by the workers gunicorn forks from this process.
    configure_logging(settings.log_level)
    try:
        # Migrates, and proves the app builds, before gunicorn forks its workers (which run the
        # scheduler and the simulator server, not this master process: no thread survives a fork).
        bridge = create_app(settings, start_scheduler=False, start_simulators=False)
    except ConfigurationError as exc:
        click.echo(f"bridge: {exc.detail}", err=True)
        sys.exit(2)
    click.echo(
        f"Bridge listening on {settings.base_url}  (database {_masked(settings.database_url)})"
    )
    if simulators_on:
        click.echo(
            f"Simulators on ({why}): /sims/* for private clients holding simulators:admin; "
            "the bridge calls them on a loopback port of each worker"
        )
    else:
        click.echo(f"Simulators off ({why})")
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

    settings = settings_or_exit(config)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    current, _ = migration_state(engine)
    click.echo(f"database {_masked(settings.database_url)} at revision {current}")


@main.command()
@config_option
def mappings(config: Path | None) -> None:
    """Compile every mapping spec and list them (a bad spec is reported with its file)."""
    from bridge.mapping import Mappings

    settings = settings_or_exit(config)
    try:
        loaded = Mappings.load(settings.mappings_dir)
    except ConfigurationError as exc:
        click.echo(f"bridge: {exc.detail}", err=True)
        sys.exit(2)
    for mapping in loaded:
        click.echo(f"{mapping.name:<42} {mapping.spec.element:<30} -> {mapping.model.__name__}")


@main.group()
def sync() -> None:
    """Scheduled sync jobs: run one now, see the queues, replay dead letters, reconcile."""


JOBS = click.Choice(["payroll", "shipments", "classification"])


def _bridge(config: Path | None) -> Bridge:
    from bridge.app import create_app

    settings = settings_or_exit(config)
    configure_logging(settings.log_level)
    return create_app(settings, start_scheduler=False)


@sync.command("run")
@config_option
@click.argument("job", type=JOBS)
@click.option("--batches", type=int, default=None, help="Stop after this many batches.")
@audited("sync run", resource="job")
def sync_run(config: Path | None, job: str, batches: int | None) -> None:
    """Run JOB now (as the scheduler would), with a progress bar."""
    bridge = _bridge(config)
    if job not in bridge.sync.deliverers:
        click.echo(f"bridge: job {job} is not available in this build", err=True)
        sys.exit(2)
    topic = bridge.sync.deliverers[job].topic
    due = bridge.sync.outbox.depth().get(topic, {}).get("pending", 0)
    with click.progressbar(length=due, label=f"{job}: {due} pending", show_pos=True) as bar:
        report = bridge.sync.run(job, trigger="manual", max_batches=batches, progress=bar.update)
    click.echo(
        f"{job}: claimed {report.claimed}, delivered {report.delivered}, "
        f"retried {report.retried}, dead {report.dead}"
        + (f"; stopped: {report.error}" if report.error else "")
    )
    bridge.close()
    sys.exit(1 if report.error else 0)


@sync.command("status")
@config_option
def sync_status(config: Path | None) -> None:
    """Queue depth per job, the last runs and the dead letters."""
    from bridge.sync.status import QUEUE_STATES

    bridge = _bridge(config)
    read = bridge.sync_status
    widths = dict(zip(QUEUE_STATES, (8, 9, 11, 6), strict=True))  # each state's column
    click.echo("queue".ljust(14) + "".join(state.rjust(width) for state, width in widths.items()))
    for job in read.jobs(last_runs=0):
        counts = (str(getattr(job.queue, state)).rjust(width) for state, width in widths.items())
        click.echo(job.name.ljust(14) + "".join(counts))
    click.echo("\nlast runs")
    for run in read.runs(limit=10):
        click.echo(
            f"  #{run.id:<5} {run.job:<14} {run.trigger:<9} {run.started_at:%Y-%m-%d %H:%M:%S}"
            f"  claimed {run.claimed} delivered {run.delivered} retried {run.retried}"
            f" dead {run.dead}" + (f"  error: {run.error}" if run.error else "")
        )
    letters = read.dead_letters(limit=20)
    click.echo(f"\ndead letters ({len(letters)} shown)")
    for letter in letters:
        click.echo(f"  #{letter.id:<6} {letter.topic:<14} {letter.key:<34} {letter.last_error}")
    bridge.close()


@sync.command("replay")
@config_option
@click.argument("ids", type=int, nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter.")
@click.option("--job", type=JOBS, default=None, help="Only this job's dead letters.")
@audited("sync replay", resource="job")
def sync_replay(
    config: Path | None, ids: tuple[int, ...], replay_all: bool, job: str | None
) -> None:
    """Put dead letters back in the queue: by id, or --all (optionally of one --job)."""
    if not ids and not replay_all:
        click.echo("bridge: name dead letter ids, or --all", err=True)
        sys.exit(2)
    bridge = _bridge(config)
    topic = bridge.sync.deliverers[job].topic if job else None
    count = bridge.sync.outbox.replay(topic=topic, ids=ids or None)
    click.echo(f"replayed {count} dead letter(s)")
    bridge.close()


@sync.command("reconcile")
@config_option
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Settle at most this many transfers."
)
@audited("sync reconcile")
def sync_reconcile(config: Path | None, limit: int | None) -> None:
    """Settle unfinished transfers now (as the scheduler does), printing each one settled."""
    from bridge.observability.metrics import RECONCILE_OUTCOMES

    bridge = _bridge(config)
    if bridge.reconciler is None:  # `create_app` always builds one
        click.echo("bridge: this bridge was built without a reconciler", err=True)
        sys.exit(2)
    report = bridge.reconciler.run(trigger="manual", limit=limit)
    for entry in report.settled:
        click.echo(
            f"{entry.tx_id:<26} {entry.msg_id:<35} {entry.outcome:<9} {entry.how:<9} "
            f"{entry.status}" + (f" {entry.reason}" if entry.reason else "")
        )
    click.echo(
        ", ".join(f"{report.count(outcome)} {outcome}" for outcome in RECONCILE_OUTCOMES)
        + (f"; stopped: {report.error}" if report.error else "")
    )
    bridge.close()
    sys.exit(1 if report.error else 0)


@sync.command("purge")
@config_option
@audited("sync purge")
def sync_purge(config: Path | None) -> None:
    """Delete delivered outbox rows past retention and expired idempotency keys now."""
    from datetime import timedelta

    from bridge.sync.housekeeping import purge

    bridge = _bridge(config)
    purged = purge(bridge.engine, retention=timedelta(days=bridge.settings.outbox_retention_days))
    click.echo(
        f"deleted {purged.outbox_rows} delivered outbox row(s) and "
        f"{purged.idempotency_keys} expired idempotency key(s)"
    )
    bridge.close()


def _masked(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url


from bridge.clients_cli import clients  # noqa: E402
from bridge.contract_cli import contract  # noqa: E402
from bridge.sim_cli import sim  # noqa: E402

main.add_command(clients)
main.add_command(audit)
main.add_command(contract)
main.add_command(sim)
