"""The outbox depth chart: its numbers, worked out from a known set of outbox rows
(tests/data/ui/depth_rows.yaml), on SQLite and PostgreSQL, and as the overview draws them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, insert
from werkzeug.test import Client

from bridge.app import Bridge
from bridge.store.db import make_engine, migrate
from bridge.store.tables import outbox
from bridge.ui.chart import line_chart, nice_ceiling
from bridge.ui.depth import WINDOWS, outbox_depth
from tests.common.ui import get, sign_in
from tests.credentials import grant

SPEC = yaml.safe_load((Path(__file__).parents[1] / "data" / "ui" / "depth_rows.yaml").read_text())
START = datetime(2030, 5, 17, 9, 0, tzinfo=UTC)


def insert_rows(engine: Engine, base: datetime, topics: dict[str, str]) -> None:
    """The spec's rows, minute m at `base + m minutes`, topics renamed through `topics`."""

    def at(minutes: float | None) -> datetime | None:
        return None if minutes is None else base + timedelta(minutes=minutes)

    rows: list[dict[str, Any]] = []
    for row in SPEC["rows"]:
        created, left = at(row["created"]), at(row.get("left"))
        rows.append(
            {
                "topic": topics[row.get("topic", "payroll")],
                "key": row["key"],
                "payload": "{}",
                "status": row["status"],
                "attempts": 1,
                "available_at": created,
                "created_at": created,
                "updated_at": left or created,
                "delivered_at": left if row["status"] == "delivered" else None,
            }
        )
    with engine.begin() as connection:
        connection.execute(insert(outbox), rows)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Engine]:
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


def test_depth_at_each_time_counts_the_rows_created_and_not_yet_gone(engine: Engine) -> None:
    # Topics of this test's own: the PostgreSQL database is shared by the session.
    topics = {name: f"{name[:8]}-{uuid.uuid4().hex[:8]}" for name in ("payroll", "shipments")}
    insert_rows(engine, START, topics)
    minutes = sorted(SPEC["expected"])

    depths = outbox_depth(
        engine, topics["payroll"], [START + timedelta(minutes=m) for m in minutes]
    )

    assert dict(zip(minutes, depths, strict=True)) == SPEC["expected"]


def test_a_topic_without_rows_is_flat_at_zero(engine: Engine) -> None:
    times = WINDOWS["1h"].times(START)

    assert outbox_depth(engine, f"none-{uuid.uuid4().hex[:8]}", times) == [0] * 61


def test_the_overview_draws_each_minute_of_the_last_hour(fresh_bridge: Bridge) -> None:
    # Every row half a minute after its spec minute: the page samples whole minutes back from
    # the moment it is drawn, so point k shows the spec's depth at minute k - 1.
    base = datetime.now(UTC) - timedelta(hours=1) + timedelta(seconds=30)
    insert_rows(fresh_bridge.engine, base, {"payroll": "payroll", "shipments": "shipments"})
    operator = grant(fresh_bridge.engine, tier="private", scopes={"sync:admin"})
    browser = Client(fresh_bridge)
    sign_in(browser, operator.client.id, operator.secret)

    page = get(browser, "/")
    depths = [int(d) for d in page.tree.xpath("//*[@id='job-payroll']//*[@data-depth]/@data-depth")]

    assert len(depths) == 61
    shown = {k: depths[k + 1] for k in SPEC["expected"] if 0 <= k + 1 < len(depths)}
    assert shown == {k: v for k, v in SPEC["expected"].items() if k in shown}
    assert len(shown) >= 8
    assert page.text("//*[@id='job-payroll']//*[@class='queue']/span[1]/strong") == ["1"]


def test_the_y_axis_ends_at_a_round_number() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 2, 3, 7, 10, 11, 40, 51, 999)] == [
        1,
        1,
        2,
        5,
        10,
        10,
        20,
        50,
        100,
        1000,
    ]


def test_points_are_placed_by_time_along_x_and_by_depth_up_y() -> None:
    times = [START + timedelta(minutes=m) for m in range(5)]

    chart = line_chart(times, [0, 5, 10, 5, 0], width=100, height=60)

    # Plot box: x from 48 to 88, y from 36 (depth 0) up to 10 (depth 10).
    assert [(p.x, p.y) for p in chart.points] == [
        (48.0, 36.0),
        (58.0, 23.0),
        (68.0, 10.0),
        (78.0, 23.0),
        (88.0, 36.0),
    ]
    assert (chart.y_max, chart.peak, chart.latest) == (10, 10, 0)
    assert [t.label for t in chart.y_ticks] == ["0", "5", "10"]
    assert [t.label for t in chart.x_ticks] == ["09:00", "09:02", "09:04"]
    assert chart.line == "48,36 58,23 68,10 78,23 88,36"
