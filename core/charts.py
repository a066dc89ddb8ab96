"""Plotly figures (plain dicts, rendered by static/vendor/plotly.min.js) for a key's usage."""

from __future__ import annotations

from datetime import date

_LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 280,
    "showlegend": True,
    "legend": {"orientation": "h"},
}


def daily_usage_figure(days: list[tuple[date, int]], quota: dict | None) -> dict:
    """Requests per day, with the daily quota (or a month's quota spread per day) as a line."""
    x = [d.isoformat() for d, _ in days]
    traces = [{"type": "bar", "name": "requests", "x": x, "y": [count for _, count in days]}]
    if quota is not None:
        per_day = quota["limit"] if quota["unit"] == "d" else None
        if per_day is not None:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"quota {quota['quota']}",
                    "x": x,
                    "y": [per_day] * len(x),
                }
            )
    layout = {
        **_LAYOUT,
        "title": {"text": "Requests per day (UTC)"},
        "yaxis": {"rangemode": "tozero"},
    }
    return {"data": traces, "layout": layout}


def budget_figure(window: dict | None, quota: dict | None) -> dict:
    """Used against limit for the current rate window and quota period, as horizontal bars."""
    names, used, left = [], [], []
    if window is not None:
        names.append(f"rate {window['rate']}")
        used.append(window["used"])
        left.append(max(0, window["limit"] - window["used"]))
    if quota is not None:
        names.append(f"quota {quota['quota']}")
        used.append(quota["used"])
        left.append(max(0, quota["limit"] - quota["used"]))
    traces = [
        {"type": "bar", "orientation": "h", "name": "used", "y": names, "x": used},
        {"type": "bar", "orientation": "h", "name": "left", "y": names, "x": left},
    ]
    layout = {**_LAYOUT, "barmode": "stack", "title": {"text": "Budget now"}, "height": 200}
    return {"data": traces, "layout": layout}
