"""Presentation helpers of the overview page: the created-vs-closed chart as plain
geometry for an inline SVG (no JavaScript, no chart library), and durations as text.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..reports import Day

WIDTH, HEIGHT = 1100, 250
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 30


def nice_ceiling(value: int) -> int:
    """A readable axis maximum at or above ``value``: four equal whole-number steps."""
    raw = max(value / 4, 1)
    exponent = 10 ** int(math.floor(math.log10(raw)))
    for multiple in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = multiple * exponent
        if step >= raw and step == int(step):
            return 4 * int(step)
    return 40 * exponent  # pragma: no cover


def chart(days: list[Day]) -> dict[str, Any]:
    """Bars, gridlines and labels for ``days``, in SVG user units."""
    top = nice_ceiling(max([d.created for d in days] + [d.closed for d in days] + [1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / max(len(days), 1)
    bar = max(group * 0.36, 1)

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * value / top

    bars = []
    for i, day in enumerate(days):
        x = LEFT + i * group + group * 0.12
        label = date_format(day.date, "M j")
        bars.append({
            "date": day.date,
            "label": label,
            "created": day.created,
            "closed": day.closed,
            "x_created": round(x, 1),
            "x_closed": round(x + bar, 1),
            "y_created": round(y(day.created), 1),
            "y_closed": round(y(day.closed), 1),
            "h_created": round(TOP + plot_h - y(day.created), 1),
            "h_closed": round(TOP + plot_h - y(day.closed), 1),
            "x_label": round(LEFT + i * group + group / 2, 1),
            "show_label": i % 5 == 0 or i == len(days) - 1,
        })
    grid = [{"value": top * k // 4, "y": round(y(top * k // 4), 1)} for k in range(5)]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": TOP + plot_h,
        "label_y": HEIGHT - 10,
        "bar_width": round(bar, 1),
        "bars": bars,
        "grid": grid,
        "total_created": sum(d.created for d in days),
        "total_closed": sum(d.closed for d in days),
    }


def duration_text(value: datetime.timedelta | None) -> str:
    """``3 h 20 min``, ``2 d 4 h``, ``45 min``; an em dash when there is no data."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return _("under a minute")
    days, rest = divmod(minutes, 60 * 24)
    hours, minutes = divmod(rest, 60)
    if days:
        return ngettext("%(d)d day", "%(d)d days", days) % {"d": days} + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


#: The overview's date ranges (``?days=``), in days.
OVERVIEW_DAYS = {"7": 7, "30": 30, "90": 90}


def backlog_line(values: list[int]) -> dict[str, Any]:
    """The open-ticket backlog as an SVG polyline in the chart's coordinates."""
    top = nice_ceiling(max(values + [1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, 120
    step = plot_w / max(len(values) - 1, 1)
    points = " ".join(
        f"{round(LEFT + i * step, 1)},{round(TOP + plot_h - plot_h * v / top, 1)}" for i, v in enumerate(values)
    )
    return {"points": points, "width": WIDTH, "height": TOP + plot_h + 8, "top": top, "left": LEFT,
            "right": WIDTH - RIGHT, "baseline": TOP + plot_h, "first": values[0] if values else 0,
            "last": values[-1] if values else 0}


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %"


def overview_extras(data: Any, days: int) -> dict[str, Any]:
    """The workplace's additions to the overview: ranges, SLA compliance, workload, backlog."""
    return {
        "day_choices": [{"days": n, "selected": n == days} for n in OVERVIEW_DAYS.values()],
        "first_response_compliance": percent_text(data.first_response_compliance),
        "resolution_compliance": percent_text(data.resolution_compliance),
        "max_workload": max([b.count for b in data.workload] or [0]) or 1,
        "backlog": backlog_line(data.backlog),
    }
