"""Progress over time: the weeks of achieved and booked interviews, and the SVG chart's geometry.

Pure arrangement of the per-day counts of `queries.dashboard_rows`; no query runs here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldwork.coverage.services import Dashboard

#: Weeks of bookings shown ahead of today at most.
MAX_WEEKS_AHEAD = 26


@dataclass(frozen=True)
class Week:
    """One week (Monday to Sunday, by UTC day) of the progress chart and table."""

    starts_on: dt.date
    #: People whose first interview that counts was held this week.
    held: int
    #: Achieved by the end of this week (past and current weeks).
    cumulative: int
    #: Appointments booked for this week, from today on.
    booked: int
    #: Achieved so far plus everything booked up to the end of this week.
    projected: int
    is_future: bool


def _as_date(value) -> dt.date:
    """SQLite answers `date()` as text, PostgreSQL as a date."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def weeks_of(rows: list, now: dt.datetime) -> list[Week]:
    """Fold the per-day counts of `queries.dashboard_rows` into consecutive Monday weeks."""
    held: dict[dt.date, int] = {}
    booked: dict[dt.date, int] = {}
    today = now.date()
    this_week = today - dt.timedelta(days=today.weekday())
    for kind, day, count in rows:
        if day is None:
            continue
        day = _as_date(day)
        monday = day - dt.timedelta(days=day.weekday())
        target = held if kind == "held" else booked
        target[monday] = target.get(monday, 0) + count
    if not held and not booked:
        return []
    first = min([*held, *booked, this_week])
    last = min(max([*held, *booked, this_week]), this_week + dt.timedelta(weeks=MAX_WEEKS_AHEAD))
    weeks: list[Week] = []
    cumulative = 0
    booked_so_far = 0
    monday = first
    while monday <= last:
        cumulative += held.get(monday, 0)
        booked_so_far += booked.get(monday, 0)
        is_future = monday > this_week
        weeks.append(
            Week(
                starts_on=monday,
                held=held.get(monday, 0),
                cumulative=cumulative,
                booked=booked.get(monday, 0),
                projected=cumulative + booked_so_far,
                is_future=is_future,
            )
        )
        monday += dt.timedelta(weeks=1)
    return weeks


@dataclass(frozen=True)
class ChartBar:
    x: float
    width: float
    achieved_y: float
    achieved_height: float
    booked_y: float
    booked_height: float
    label: str
    show_label: bool
    week: Week


@dataclass(frozen=True)
class Chart:
    """Geometry of the inline SVG: cumulative achieved (solid) and booked ahead (hatched) per
    week, against the total target (a line). The table beside it holds the same numbers."""

    width: int
    height: int
    plot_left: int
    plot_bottom: int
    plot_top: int
    bars: list[ChartBar]
    target_y: float | None
    target: int
    top_value: int


def progress_chart(board: Dashboard, width: int = 640, height: int = 260) -> Chart | None:
    """Lay the weeks out as bars; None when there is nothing to draw yet."""
    if not board.weeks:
        return None
    left, right, top, bottom = 44, 12, 12, height - 34
    plot_width = width - left - right
    plot_height = bottom - top
    highest = max([board.total_target, *(w.projected for w in board.weeks), 1])
    slot = plot_width / len(board.weeks)
    every = max(1, round(len(board.weeks) / 8))

    def y_of(value: int) -> float:
        return round(bottom - plot_height * value / highest, 1)

    bars = []
    for index, week in enumerate(board.weeks):
        achieved_top = y_of(week.cumulative)
        projected_top = y_of(week.projected)
        bars.append(
            ChartBar(
                x=round(left + slot * index + slot * 0.15, 1),
                width=round(slot * 0.7, 1),
                achieved_y=achieved_top,
                achieved_height=round(bottom - achieved_top, 1),
                booked_y=projected_top,
                booked_height=round(achieved_top - projected_top, 1),
                label=week.starts_on.strftime("%-d %b"),
                show_label=index % every == 0,
                week=week,
            )
        )
    return Chart(
        width=width,
        height=height,
        plot_left=left,
        plot_bottom=bottom,
        plot_top=top,
        bars=bars,
        target_y=y_of(board.total_target) if board.total_target else None,
        target=board.total_target,
        top_value=highest,
    )
