"""Values that hold for one request or one sync batch: context variables, set for a block.

Each thread (a gunicorn gthread worker's request) and each task sees its own value; the block
restores the value it found, so nested and concurrent blocks do not leak into each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def bound(variable: ContextVar[T], value: T) -> Iterator[None]:
    """`variable` is `value` until the block ends."""
    token = variable.set(value)
    try:
        yield
    finally:
        variable.reset(token)
