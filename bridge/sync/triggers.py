"""Schedule expressions: a crontab (UTC), or ``every <n>s`` / ``every <n>m`` / ``every <n>h``.

A crontab is as fine as a minute; a period in seconds is for a busy queue and for tests that
watch several schedule periods go by. A period runs on a grid counted from the Unix epoch, not
from when a scheduler started: every node that takes over the schedules fires on the same
instants ("every 5s" at :00, :05, :10, ...), so a new leader's first run falls in the next
period, never again in the period its predecessor already fired in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EVERY = re.compile(r"every\s+([1-9][0-9]{0,6})\s*([smh])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}


def period(expression: str) -> timedelta | None:
    """The fixed period of an ``every ...`` expression; None for a crontab."""
    match = _EVERY.fullmatch(expression.strip())
    if match is None:
        return None
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def schedule_trigger(expression: str) -> BaseTrigger:
    """The APScheduler trigger of a schedule expression; `ValueError` if it is neither form."""
    every = period(expression)
    if every is not None:
        return IntervalTrigger(seconds=int(every.total_seconds()), start_date=EPOCH, timezone=UTC)
    try:
        return CronTrigger.from_crontab(expression, timezone=UTC)
    except ValueError as exc:
        raise ValueError(f"neither a crontab expression nor 'every <n>s|m|h' ({exc})") from None
