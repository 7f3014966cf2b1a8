"""`bridge serve`: the composed WSGI app under gunicorn (gthread workers keep connections alive).

Migrations run once in the master before workers fork; each worker builds its own app, and with
it (after the fork) its own simulator server when the simulators are on (bridge.sims.server)."""

from __future__ import annotations

import gc
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from bridge.settings import Settings


class BridgeServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options: dict[str, Any] = {
            "bind": f"{s.host}:{s.port}",
            "workers": s.workers,
            "worker_class": "gthread",
            "threads": s.threads,
            "timeout": 60,
            "graceful_timeout": 20,
            "keepalive": 5,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": s.log_level.lower(),
            # gunicorn 27 opens a control socket under $HOME/.gunicorn; we don't use it.
            "control_socket_disable": True,
            "child_exit": child_exit,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from bridge.app import create_app
        from bridge.observability.logging import configure_logging

        # In the worker, before the app is built: the app's records go out as JSON lines
        # (idempotent; a worker forked from `bridge serve` has the handler already).
        # gunicorn's own `gunicorn.error` lines keep gunicorn's plain format.
        configure_logging(self.settings.log_level)
        app = create_app(self.settings, run_migrations=False)
        settle_garbage_collector()
        return app


def settle_garbage_collector() -> None:
    """Move what the worker built at start-up out of the cyclic collector's sight.

    The app's contracts, schemas, mappings and clients are some 170,000 objects that live as
    long as the worker. A full collection walks them all: about 95 ms on this class of
    machine, during which no thread of the worker runs, and under load one comes every few
    seconds (the REST door's p99 of 80-120 ms beside a p50 of 11, bench/banking.py). Frozen
    (`gc.freeze`), they are skipped, and a full collection walks only what requests made."""
    gc.collect()
    gc.freeze()


METRICS_DIR = Path("var") / "prometheus"


def prepare_metrics_dir(directory: Path = METRICS_DIR) -> None:
    """Workers count in memory-mapped files under `directory` (emptied now), summed by whichever
    worker answers a scrape. prometheus-client reads PROMETHEUS_MULTIPROC_DIR when it is first
    imported, so this runs before anything imports it (before the app is built); if something
    already has, every worker would count in memory and /metrics would serve nothing, so the
    serve command stops instead of starting blind."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError(
            "prometheus_client was imported before the metrics directory was set: "
            "a module imported by `bridge serve` imports it too early"
        )
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory.resolve())


def run(settings: Settings) -> None:
    BridgeServer(settings).run()


def child_exit(server: Any, worker: Any) -> None:
    from bridge.observability import metrics

    metrics.mark_process_dead(worker.pid)
