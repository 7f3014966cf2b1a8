"""The geometry of a server-rendered line chart: SVG coordinates for a series of counts.

Pure: numbers in, numbers and labels out; the template draws them as inline SVG, so a chart
needs no script and no asset from anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 640, 170
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 10, 24  # margins: labels on the left and below


@dataclass(frozen=True, slots=True)
class Point:
    at: datetime
    value: int
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Tick:
    """A labelled position on an axis."""

    position: float
    label: str


@dataclass(frozen=True, slots=True)
class LineChart:
    width: int
    height: int
    points: list[Point]
    y_max: int
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    left: float
    right: float
    top: float
    bottom: float

    @property
    def line(self) -> str:
        """The `points` attribute of the SVG polyline."""
        return " ".join(f"{p.x:g},{p.y:g}" for p in self.points)

    @property
    def area(self) -> str:
        """The `points` of the polygon under the line, down to the x axis."""
        if not self.points:
            return ""
        ends = f"{self.points[-1].x:g},{self.bottom:g} {self.points[0].x:g},{self.bottom:g}"
        return f"{self.line} {ends}"

    @property
    def latest(self) -> int:
        return self.points[-1].value if self.points else 0

    @property
    def peak(self) -> int:
        return max((p.value for p in self.points), default=0)


def nice_ceiling(value: int) -> int:
    """The least of 1, 2, 5, 10, 20, 50, ... at or above `value`: a y axis that reads easily."""
    ceiling = 1
    while True:
        for factor in (1, 2, 5):
            if ceiling * factor >= value:
                return ceiling * factor
        ceiling *= 10


def line_chart(
    times: Sequence[datetime],
    values: Sequence[int],
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
    time_format: str = "%H:%M",
) -> LineChart:
    """Place `values` (one per time, times ascending and evenly spaced) in a `width` x `height`
    box: time along x, count up y from 0 to a round maximum."""
    left, right, top, bottom = LEFT, width - RIGHT, TOP, height - BOTTOM
    y_max = nice_ceiling(max(values, default=0))
    span = max(len(times) - 1, 1)

    def x(index: int) -> float:
        return round(left + (right - left) * index / span, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * value / y_max, 1)

    points = [
        Point(at, value, x(i), y(value))
        for i, (at, value) in enumerate(zip(times, values, strict=True))
    ]
    levels = [0, y_max // 2, y_max] if y_max % 2 == 0 else [0, y_max]
    y_ticks = [Tick(y(level), str(level)) for level in levels]
    marks = sorted({0, len(times) // 2, len(times) - 1}) if times else []
    x_ticks = [Tick(x(i), times[i].strftime(time_format)) for i in marks]
    return LineChart(width, height, points, y_max, y_ticks, x_ticks, left, right, top, bottom)
