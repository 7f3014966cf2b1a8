"""The in-process counters behind rate limits and the authentication throttle without Redis
(bridge.security.counters): `limits`' fixed window, exact under threads, and no thread of
their own."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given
from hypothesis import strategies as st

from bridge.security.counters import LocalCounters


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_counts_from_its_first_call_and_starts_again_when_it_ends() -> None:
    clock = Clock()
    counters = LocalCounters(clock=clock)

    assert [counters.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert counters.get("k") == 3
    assert counters.get_expiry("k") == 1_060.0
    clock.now = 1_059.9
    assert counters.incr("k", 60) == 4
    clock.now = 1_060.0
    assert counters.get("k") == 0
    assert counters.get_expiry("k") == 1_060.0  # none open: now
    assert counters.incr("k", 60) == 1
    assert counters.get_expiry("k") == 1_120.0


def test_keys_count_apart() -> None:
    counters = LocalCounters(clock=Clock())
    counters.incr("a", 60)
    counters.incr("a", 60)
    assert (counters.incr("b", 60, amount=5), counters.get("a"), counters.get("c")) == (5, 2, 0)


def test_ended_windows_are_swept_so_memory_follows_the_active_clients() -> None:
    clock = Clock()
    counters = LocalCounters(clock=clock, sweep_every=60)
    for n in range(1_000):
        counters.incr(f"client-{n}", 10)
    assert len(counters) == 1_000
    clock.now += 61
    counters.incr("latest", 10)
    assert len(counters) == 1


def test_threads_lose_no_count() -> None:
    counters = LocalCounters()

    def spend(_: int) -> None:
        for _ in range(1_000):
            counters.incr("shared", 60)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(spend, range(8)))

    assert counters.get("shared") == 8_000


def test_counting_starts_no_thread() -> None:
    """`limits`' MemoryStorage starts a 10 ms expiry timer thread from an `incr` once the last
    has run: counting 20 ms apart shows it."""
    counters = LocalCounters()
    before = set(threading.enumerate())
    for n in range(10):
        counters.incr(f"k{n % 3}", 1)
        time.sleep(0.02)
        assert set(threading.enumerate()) == before


@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(0, 30)), max_size=60))
def test_counts_match_a_plain_model_of_the_fixed_window(calls: list[tuple[str, float]]) -> None:
    clock = Clock()
    counters = LocalCounters(clock=clock, sweep_every=5)
    model: dict[str, tuple[int, float]] = {}
    for key, pause in calls:
        clock.now += pause
        count, ends = model.get(key, (0, 0.0))
        if ends <= clock.now:
            count, ends = 0, clock.now + 20
        model[key] = (count + 1, ends)
        assert counters.incr(key, 20) == count + 1
        assert counters.get_expiry(key) == ends
