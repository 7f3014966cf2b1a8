"""Fixed-window counters in this process's memory: the rate limits' and the authentication
throttle's storage when no Redis is configured (`bridge.security.ratelimit`).

They answer the three calls the bridge makes of a `limits` storage (`incr`, `get`,
`get_expiry`), with the same fixed-window meaning as `limits`' MemoryStorage: a key's window
starts with its first count and ends `expiry` seconds later, when the count starts again at
zero. MemoryStorage expires keys from a `threading.Timer` of 10 ms that each counting call
restarts once it has run: a new thread every few requests (444 threads for 1,000 transfers in
one process, bench/breakdown.py). Here an ended window is dropped when its key is next counted
or read, and the whole table is swept of ended windows at most once every `sweep_every`
seconds, by whichever call comes then: no thread, and memory bounded by the clients active in
one sweep period.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Counters(Protocol):
    """What the bridge asks of a counter storage: these counters, or a `limits` storage
    (Redis)."""

    def incr(self, key: str, expiry: int, amount: int = 1) -> int: ...

    def get(self, key: str) -> int: ...

    def get_expiry(self, key: str) -> float: ...


class LocalCounters:
    """`limits`-style fixed-window counters, safe to share between threads."""

    def __init__(
        self, *, sweep_every: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock
        self._sweep_every = sweep_every
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, float]] = {}  # key -> (count, window end)
        self._next_sweep = clock() + sweep_every

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count `amount` under `key`, starting a window of `expiry` seconds if none is open;
        the count in the window."""
        now = self._clock()
        with self._lock:
            count, ends = self._windows.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + expiry
            count += amount
            self._windows[key] = (count, ends)
            if now >= self._next_sweep:
                self._sweep(now)
        return count

    def get(self, key: str) -> int:
        """The count in `key`'s open window (0 when none is open)."""
        count, ends = self._windows.get(key, (0, 0.0))
        return count if ends > self._clock() else 0

    def get_expiry(self, key: str) -> float:
        """When `key`'s open window ends (epoch seconds), or now when none is open."""
        now = self._clock()
        _, ends = self._windows.get(key, (0, 0.0))
        return ends if ends > now else now

    def __len__(self) -> int:
        return len(self._windows)

    def _sweep(self, now: float) -> None:
        self._windows = {key: kept for key, kept in self._windows.items() if kept[1] > now}
        self._next_sweep = now + self._sweep_every
