"""Where one request's time goes: named functions of the bridge timed at run time, no profiler.

    timer = StageTimer()
    missing = timer.instrument([Stage("claim", ("bridge.store.transfers.TransferStore.claim",))])
    with timer.request():
        ...  # one whole request
    timer.table(total_label="HTTP and Flask")

Each stage is a list of dotted names (a module-level function, or a method of a class), looked
up when `instrument` runs: the composition changes while the bridge is worked on, so a name that
no longer exists is reported back, not fatal. A module-level function is replaced in every loaded
`bridge` module that holds it (a `from x import f` binds its own name); a method on its class.
Functions captured before `instrument` (decorators applied at import, callbacks stored by
`create_app`) keep the original: instrument before building the app, and prefer methods.

Times are exclusive: a stage's time excludes the stages called inside it, so the rows add up to
the whole, and the request's time outside every stage is the first row (`total_label`). Calls
made on other threads (a background writer) are summed apart, as `background`, not in the total.
"""

from __future__ import annotations

import functools
import importlib
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stage:
    label: str
    targets: tuple[str, ...]
    # a stage that runs on its own thread (the audit writer): summed, not part of a request
    background: bool = False


class _Frame:
    __slots__ = ("children", "label", "start")

    def __init__(self, label: str) -> None:
        self.label = label
        self.start = time.perf_counter()
        self.children = 0.0


class StageTimer:
    def __init__(self) -> None:
        self.exclusive: dict[str, float] = defaultdict(float)
        self.background: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.requests = 0
        self.total = 0.0
        self._local = threading.local()
        self._restore: list[tuple[Any, str, Any]] = []

    # -- timing ---------------------------------------------------------------------------------

    def _stack(self) -> list[_Frame]:
        stack: list[_Frame] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    @contextmanager
    def request(self) -> Iterator[None]:
        """One whole request: its time outside every stage goes to the first row."""
        stack = self._stack()
        frame = _Frame("")
        stack.append(frame)
        try:
            yield
        finally:
            stack.pop()
            elapsed = time.perf_counter() - frame.start
            self.exclusive[""] += elapsed - frame.children
            self.total += elapsed
            self.requests += 1

    def timed(self, stage: Stage, function: Callable[..., Any]) -> Callable[..., Any]:
        label = stage.label

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            stack = self._stack()
            if not stack:  # not inside a request: a background thread, or set-up
                start = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    if stage.background:
                        self.background[label] += time.perf_counter() - start
                        self.calls[label] += 1
            frame = _Frame(label)
            stack.append(frame)
            try:
                return function(*args, **kwargs)
            finally:
                stack.pop()
                elapsed = time.perf_counter() - frame.start
                self.exclusive[label] += elapsed - frame.children
                self.calls[label] += 1
                stack[-1].children += elapsed

        return wrapper

    # -- patching -------------------------------------------------------------------------------

    def instrument(self, stages: list[Stage]) -> list[str]:
        """Wrap every target of every stage; the dotted names that no longer resolve."""
        missing = []
        for stage in stages:
            for target in stage.targets:
                if not self._wrap(stage, target):
                    missing.append(target)
        return missing

    def _wrap(self, stage: Stage, target: str) -> bool:
        found = _resolve(target)
        if found is None:
            return False
        owner, name = found
        if isinstance(owner, type):
            raw = owner.__dict__[name]
            if isinstance(raw, staticmethod):
                wrapped: Any = staticmethod(self.timed(stage, raw.__func__))
            elif isinstance(raw, classmethod):
                wrapped = classmethod(self.timed(stage, raw.__func__))
            else:
                wrapped = self.timed(stage, raw)
            self._restore.append((owner, name, raw))
            setattr(owner, name, wrapped)
            return True
        original = getattr(owner, name)
        wrapped = self.timed(stage, original)
        for module in list(sys.modules.values()):
            if not getattr(module, "__name__", "").startswith(("bridge", "bench")):
                continue
            for attribute, value in list(vars(module).items()):
                if value is original:
                    self._restore.append((module, attribute, value))
                    setattr(module, attribute, wrapped)
        return True

    def restore(self) -> None:
        for owner, name, original in reversed(self._restore):
            setattr(owner, name, original)
        self._restore.clear()

    # -- report ---------------------------------------------------------------------------------

    def table(self, stages: list[Stage], *, total_label: str, unit: str = "request") -> str:
        """stage, mean ms per `unit`, share of the whole; then the background rows."""
        n = max(self.requests, 1)
        rows = [(total_label, self.exclusive.get("", 0.0))]
        seen = set()
        for stage in stages:
            if stage.background or stage.label in seen:
                continue
            seen.add(stage.label)
            if stage.label in self.exclusive:
                rows.append((stage.label, self.exclusive[stage.label]))
        width = max(len(label) for label, _ in rows) + 2
        lines = [f"  {'stage':<{width}}{'mean ms':>9}{'share':>8}"]
        for label, seconds in rows:
            share = seconds / self.total if self.total else 0.0
            lines.append(f"  {label:<{width}}{seconds / n * 1000:>9.3f}{share:>8.1%}")
        lines.append(f"  {'total per ' + unit:<{width}}{self.total / n * 1000:>9.3f}{1:>8.0%}")
        for stage in stages:
            if stage.background and stage.label in self.background:
                per = self.background[stage.label] / n * 1000
                lines.append(
                    f"  {stage.label:<{width}}{per:>9.3f}  (another thread, not in the total; "
                    f"{self.calls[stage.label]} calls)"
                )
        return "\n".join(lines)


def _resolve(target: str) -> tuple[Any, str] | None:
    """(the object holding the last name, that name), or None when the name is gone."""
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:-1]:
            owner = getattr(owner, part, None)
            if owner is None:
                return None
        if isinstance(owner, type):
            if parts[-1] not in owner.__dict__:  # inherited: patch where it is defined
                for base in owner.__mro__:
                    if parts[-1] in base.__dict__:
                        return base, parts[-1]
                return None
            return owner, parts[-1]
        return (owner, parts[-1]) if callable(getattr(owner, parts[-1], None)) else None
    return None
