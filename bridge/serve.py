"""`bridge serve`: the composed WSGI app under gunicorn (gthread workers keep connections alive).

Migrations run once in the master before workers fork; each worker builds its own app."""

from __future__ import annotations

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
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from bridge.app import create_app

        return create_app(self.settings, run_migrations=False)


def run(settings: Settings) -> None:
    BridgeServer(settings).run()
