"""WSGI plumbing the doors, the simulators and the middlewares share: standard library only,
so every layer may use it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def reply(
    start_response: Callable[..., Any],
    status: str,
    content_type: str,
    body: bytes,
    *,
    length: int | None = None,
    extra: Sequence[tuple[str, str]] = (),
) -> Iterable[bytes]:
    """Answer `body` whole. `length`: the Content-Length to declare when `body` is not the
    whole answer (HEAD declares the length of what GET would send)."""
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body) if length is None else length)),
        *extra,
    ]
    start_response(status, headers)
    return [body]
