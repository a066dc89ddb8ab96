"""Plotly figures of a deployment's or a key's metrics, built server-side as JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import plotly.graph_objects as go
import plotly.io as pio

CHARTS = (
    ("rate", "Request rate", "req/s"),
    ("latency", "Latency p50 / p95 / p99", "ms"),
    ("errors", "Error rate", "%"),
    ("batch", "Batch size: rows in the batcher's batch, mean per request", "rows"),
    ("cache", "Cache hit rate", "%"),
)
PERCENTILE_DASH = {"p50": "solid", "p95": "dash", "p99": "dot"}


def _json(fig: go.Figure) -> str:
    """Figure JSON safe inside a <script type="application/json"> block: `<`, `>` and `&` only
    occur inside JSON strings, where their \\u escapes mean the same."""
    text = pio.to_json(fig, validate=False, engine="orjson")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _layout(title: str, unit: str, window: dict) -> dict:
    return {
        "title": {"text": title, "font": {"size": 14}},
        "height": 300,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 60},
        # Plotly draws ISO times at the wall time written, so UTC strings stay UTC.
        "xaxis": {
            "type": "date",
            "range": [window["start"], window["end"]],
            "title": {"text": "time (UTC)"},
        },
        "yaxis": {"title": {"text": unit}, "rangemode": "tozero"},
        # A hidden 0..1 axis carries the deployment-event markers at the top of every chart.
        "yaxis2": {"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True},
        "legend": {"orientation": "h", "y": -0.35},
        "hovermode": "x unified",
        # Plotly.react keeps what the user changed (zoom, hidden traces) while this stays equal.
        "uirevision": window["name"],
    }


def _event_marks(fig: go.Figure, events: list[dict]) -> None:
    if not events:
        return
    for event in events:
        fig.add_shape(
            type="line",
            x0=event["t"],
            x1=event["t"],
            y0=0,
            y1=1,
            yref="paper",
            line={"color": "#b45309", "width": 1, "dash": "dot"},
        )
    fig.add_trace(
        go.Scatter(
            x=[e["t"] for e in events],
            y=[0.97] * len(events),
            yaxis="y2",
            mode="markers",
            marker={"symbol": "triangle-down", "size": 10, "color": "#b45309"},
            name="deployment events",
            hovertext=[e["text"] for e in events],
            hoverinfo="text",
        )
    )


def _line(series: dict, field: str, name: str, dash: str = "solid") -> go.Scatter:
    points = series["points"]
    return go.Scatter(
        x=[p["t"] for p in points],
        y=[p.get(field) for p in points],
        name=name,
        mode="lines+markers",
        line={"dash": dash},
        marker={"size": 4},
        legendgroup=series["label"],
    )


def deployment_figures(metrics: dict, events: list[dict]) -> dict[str, str]:
    """{chart name: figure JSON} for the five charts of a deployment's monitoring page."""
    figures = {}
    for name, title, unit in CHARTS:
        fig = go.Figure(layout=_layout(title, unit, metrics["window"]))
        for series in metrics["series"]:
            label = series["label"]
            if name == "rate":
                fig.add_trace(_line(series, "rps", label))
            elif name == "latency":
                for q, dash in PERCENTILE_DASH.items():
                    fig.add_trace(_line(series, q, f"{label} {q}", dash))
            elif name == "errors":
                fig.add_trace(_line(series, "error_rate_pct", label))
            elif name == "batch":
                fig.add_trace(_line(series, "avg_batch_size", label))
            else:
                fig.add_trace(_line(series, "cache_hit_pct", label))
        _event_marks(fig, events)
        figures[name] = _json(fig)
    return figures


def key_figures(metrics: dict) -> dict[str, str]:
    """Calls per second and p95 latency of one API key, a line per deployment and status."""
    calls = go.Figure(layout=_layout("Calls by deployment and status", "req/s", metrics["window"]))
    latency = go.Figure(layout=_layout("Latency p95", "ms", metrics["window"]))
    for series in metrics["series"]:
        calls.add_trace(_line(series, "rps", series["label"]))
        latency.add_trace(_line(series, "p95", series["label"]))
    return {
        "calls": _json(calls),
        "latency": _json(latency),
    }


def event_marks(events) -> list[dict]:
    """Deployment events as {t, text} for the charts' markers."""
    marks = []
    for event in events:
        versions = ", ".join(f"v{v['version']} {v['weight']}%" for v in event.after) or "empty"
        text = f"{event.get_kind_display()} by {event.actor_label}: {versions}"
        if event.reason:
            text += f"<br>{event.reason[:120]}"
        marks.append({"t": event.created_at.isoformat(), "text": text, "kind": event.kind})
    return marks


def live_payload(
    figure_json: dict[str, str],
    *,
    summary: str,
    updated: datetime,
    replace: dict[str, str] | None = None,
) -> bytes:
    """`{"figures": {element id: figure}, "summary": html, "replace": {element id: html},
    "updated": iso}` built around the figures' JSON text as it is (no second parse and dump).
    `replace` carries other parts of the page that the same refresh brings up to date."""
    parts = [
        orjson.dumps(chart_id) + b":" + text.encode() for chart_id, text in figure_json.items()
    ]
    return (
        b'{"figures":{'
        + b",".join(parts)
        + b'},"summary":'
        + orjson.dumps(summary)
        + b',"replace":'
        + orjson.dumps(replace or {})
        + b',"updated":'
        + orjson.dumps(updated.astimezone(UTC).strftime("%H:%M:%S UTC"))
        + b"}"
    )


def error_payload(message: str) -> bytes:
    return orjson.dumps({"error": message})
