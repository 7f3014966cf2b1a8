"""Schedule expressions: a crontab (UTC), or ``every <n>s`` / ``every <n>m`` / ``every <n>h``.

A crontab is as fine as a minute; a period in seconds is for a busy queue and for tests that
watch several schedule periods go by. A period runs on a grid counted from the Unix epoch, not
from when a scheduler started: every node that takes over the schedules fires on the same
instants ("every 5s" at :00, :05, :10, ...), so a new leader's first run falls in the next
period, never again in the period its predecessor already fired in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bridge.settings import check_schedule, schedule_period

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def schedule_trigger(expression: str) -> BaseTrigger:
    """The APScheduler trigger of a schedule expression; `ValueError` if it is neither form
    (the settings check every schedule they read the same way, `check_schedule`)."""
    every = schedule_period(expression)
    if every is not None:
        return IntervalTrigger(seconds=int(every.total_seconds()), start_date=EPOCH, timezone=UTC)
    check_schedule(expression)
    return CronTrigger.from_crontab(expression, timezone=UTC)
