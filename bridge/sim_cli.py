"""`bridge sim`: record a real upstream's exchanges with an imported service, serve them back.

    bridge sim record vat --upstream https://legacy.example/vat recordings/vat [--port 8901]
    bridge sim replay vat recordings/vat [--fallback sample] [--port 8902]

`record` runs a recording proxy (`bridge.sims.recording_proxy`): point the service's clients at
the address it prints; each call goes on to the upstream and comes back as it was answered,
and the exchange is saved in the folder, masked (`bridge.sims.recording`). `replay` runs the
service's generated simulator answering from such a folder: a recorded request gets its
recorded reply, any other a Client fault saying it was not recorded (or, with `--fallback
sample`, the simulator's generated answer). To have `bridge serve` answer from recordings,
name the folder in the service's service.yaml (`replay: DIR`).

Both are tools for a developer's machine: they listen on a loopback address only (the proxy
would otherwise relay anyone to the upstream, and the simulator takes no credentials), on
`--port` or on a free port, printed at start. Ctrl-C stops them.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import click
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, make_server

from bridge.cli_common import config_option, settings_or_exit
from bridge.contracts.catalog import Catalog, ImportedService
from bridge.domain.errors import ConfigurationError
from bridge.settings import Settings
from bridge.sims.recording import FALLBACKS, Recording, Replay
from bridge.store.db import make_engine, migrate
from bridge.upstream.transport import SoapTransport, pooled_http

# The simulator and the proxy are imported by the commands that run them: they import
# prometheus-client, which `bridge serve` (this module is loaded with every command) must
# import only after it has set the metrics directory.


@click.group()
def sim() -> None:
    """Simulators of imported services: record real exchanges, serve them back."""


def _refused(detail: str, status: int = 2) -> NoReturn:
    click.echo(f"bridge: {' '.join(detail.split())}", err=True)
    sys.exit(status)


def _service(settings: Settings, name: str) -> ImportedService:
    try:
        catalog = Catalog.load(settings.contracts_dir, settings.mappings_dir)
    except ConfigurationError as exc:
        _refused(exc.detail)
    if name not in catalog:
        known = ", ".join(catalog.names()) or "none"
        _refused(f"no imported service named {name!r} (imported: {known})", 1)
    return catalog[name]


def _loopback(host: str) -> str:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise click.BadParameter(
            f"{host} is not a loopback address: this tool takes no credentials",
            param_hint="'--host'",
        )
    return host


host_option = click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    callback=lambda _ctx, _param, value: _loopback(value),
    help="The loopback address to listen on.",
)
port_option = click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="The port to listen on; 0: a free one, printed at start.",
)


def _serve(server: BaseWSGIServer) -> None:
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _unready(_environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting\n"]


def _listening(host: str, port: int) -> tuple[BaseWSGIServer, str]:
    """A server bound to `host`:`port` (0: a free one) and its address; its app is set once
    the address, which the served WSDL names, is known."""
    server = make_server(host, port, _unready, threaded=True)
    shown = f"[{host}]" if ":" in host else host
    return server, f"http://{shown}:{server.port}/"


@sim.command("record")
@config_option
@click.argument("name")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--upstream", required=True, metavar="URL", help="The real service to forward calls to."
)
@host_option
@port_option
def record(
    config: Path | None, name: str, folder: Path, upstream: str, host: str, port: int
) -> None:
    """Proxy the calls of imported service NAME to the real upstream URL and save each
    exchange, masked, in FOLDER."""
    parts = urlsplit(upstream)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{upstream!r} is not an http(s) URL", param_hint="'--upstream'")
    from bridge.sims.recording_proxy import RecordingProxy

    settings = settings_or_exit(config)
    service = _service(settings, name)
    folder.mkdir(parents=True, exist_ok=True)
    http = pooled_http(pool_size=8, ca_certs=settings.upstream_ca_file)
    transport = SoapTransport(service.name, upstream, http, timeout=service.config.timeout)
    server, address = _listening(host, port)
    server.app = RecordingProxy(service, transport, Recording(folder), address=address)
    click.echo(f"recording {name}: call {address} (WSDL: {address}?wsdl)")
    click.echo(f"forwarded to {upstream}, exchanges saved in {folder}; Ctrl-C stops")
    _serve(server)


@sim.command("replay")
@config_option
@click.argument("name")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--fallback",
    type=click.Choice(FALLBACKS),
    default="fault",
    show_default=True,
    help="The answer to a request nobody recorded: a Client fault, or a generated sample.",
)
@click.option("--seed", type=int, default=None, help="The seed of generated samples.")
@host_option
@port_option
def replay(
    config: Path | None,
    name: str,
    folder: Path,
    fallback: str,
    seed: int | None,
    host: str,
    port: int,
) -> None:
    """Serve the generated simulator of imported service NAME, answering from the exchanges
    recorded in FOLDER (`bridge sim record`)."""
    from bridge.sims.services import MOUNT, ServiceSimulator

    settings = settings_or_exit(config)
    service = _service(settings, name)
    try:
        recorded = Replay.load(folder, service, "sample" if fallback == "sample" else "fault")
    except ConfigurationError as exc:
        _refused(exc.detail)
    engine = make_engine(settings.database_url)
    migrate(engine)
    server, base = _listening(host, port)
    # At the path the bridge serves it at, so a client configured for one works with the other.
    mount = f"{MOUNT}/{service.name}"
    simulator = ServiceSimulator(
        service,
        engine,
        base_url=base.rstrip("/"),
        seed=settings.simulator_seed if seed is None else seed,
        replay=recorded,
    )
    server.app = DispatcherMiddleware(NotFound(), {mount: simulator})
    address = f"{base.rstrip('/')}{mount}"
    click.echo(f"replaying {len(recorded)} exchanges of {name} from {folder}: call {address}")
    click.echo("Ctrl-C stops")
    _serve(server)
