"""The one clock (`bridge.domain.clock`): now in UTC, and stored times given back their zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.clock import as_utc, utcnow

HANOI = timezone(timedelta(hours=7))


def test_utcnow_is_aware_and_in_utc() -> None:
    assert utcnow().utcoffset() == timedelta(0)


@given(st.datetimes())
def test_a_naive_time_read_back_from_sqlite_is_the_same_wall_time_in_utc(naive: datetime) -> None:
    aware = as_utc(naive)
    assert aware.tzinfo is UTC
    assert aware.replace(tzinfo=None) == naive


@given(st.datetimes(timezones=st.just(HANOI)))
def test_an_aware_time_is_returned_unchanged_not_converted(aware: datetime) -> None:
    assert as_utc(aware) is aware


def test_no_time_stays_none() -> None:
    assert as_utc(None) is None
