"""The operators' dashboard, mounted at /ui: upstream health and circuit breakers, the outbox
depth of each sync job over time, recent job runs, dead letters to replay, and the audit log.

Server-rendered HTML (Jinja templates and one stylesheet shipped in this package, charts as
inline SVG, no script, nothing from a CDN), for private API clients holding `sync:admin`, who
sign in with their client id and secret. `create_ui(bridge)` builds it; `bridge.app` mounts it.
"""

from __future__ import annotations

from bridge.ui.app import create_ui

__all__ = ["create_ui"]
