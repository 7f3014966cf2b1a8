"""Exactly one scheduler per cluster: whoever holds the scheduler lock runs it.

On PostgreSQL the lock is a session advisory lock (`pg_try_advisory_lock`) on a connection kept
for that purpose: it is released by the server when the holder's connection dies, so a node
that is killed hands the schedules to the next node that asks. On SQLite (one machine) it is an
exclusive `flock` on a file beside the database, released by the kernel when the process dies.
Processes without the lock ask again every `poll` seconds, and each time let their follower
(`bridge.sync.joining`) join the runs the leader fired: one process fires, all of them drain.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

# An arbitrary constant naming the lock among PostgreSQL advisory locks.
ADVISORY_KEY = 0x42524447  # "BRDG"


class _PostgresLock:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Any = None

    def acquire(self) -> bool:
        connection = self._engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
        if got.scalar():
            connection.commit()
            self._connection = connection
            return True
        connection.rollback()
        connection.close()
        return False

    def still_held(self) -> bool:
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except Exception:  # a lost connection means a lost lock
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._connection.commit()
                self._connection.close()
            except Exception:  # noqa: S110 - the server frees it with the session anyway
                pass
            self._connection = None


class _FileLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def still_held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def scheduler_lock(engine: Engine) -> _PostgresLock | _FileLock:
    if engine.dialect.name == "postgresql":
        return _PostgresLock(engine)
    database = engine.url.database or "bridge"
    return _FileLock(Path(f"{database}.scheduler.lock"))


class Follower(Protocol):
    """What a process that does not lead does each poll (`bridge.sync.joining.Joiner`)."""

    def follow(self) -> None: ...

    def stop(self) -> None: ...


class Leadership:
    """Runs `on_lead` when this process becomes the scheduler and `on_lose` when it stops;
    while another process leads, calls `follower.follow()` every poll."""

    def __init__(
        self,
        engine: Engine,
        on_lead: Callable[[], None],
        on_lose: Callable[[], None],
        *,
        poll: float = 15.0,
        follower: Follower | None = None,
    ) -> None:
        self._lock = scheduler_lock(engine)
        self._on_lead = on_lead
        self._on_lose = on_lose
        self._poll = poll
        self._follower = follower
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler-leader", daemon=True)
        self.leading = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._poll + 5)
        if self.leading:
            self._step_down()
        if self._follower is not None:
            self._follower.stop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.leading and self._lock.acquire():
                    log.info("this process now runs the sync scheduler")
                    self.leading = True
                    self._on_lead()
                elif self.leading and not self._lock.still_held():
                    log.warning("scheduler lock lost; stopping the scheduler here")
                    self._step_down()
            except Exception:
                log.exception("scheduler leadership check failed")
            if not self.leading and self._follower is not None:
                try:
                    self._follower.follow()
                except Exception:
                    log.exception("looking for scheduled runs to join failed")
            self._stop.wait(self._poll)

    def _step_down(self) -> None:
        self.leading = False
        try:
            self._on_lose()
        finally:
            self._lock.release()
