"""Plotly figures of drift reports and prediction quality, built server-side as JSON."""

from __future__ import annotations

import plotly.graph_objects as go

from monitoring.figures import _event_marks, _json, _layout


def _group_label(report) -> str:
    return f"v{report.version} {report.variant}"


def drift_figures(reports: list, events: list[dict], window: dict) -> list[tuple[str, str, str]]:
    """[(id, title, figure JSON)]: share of drifted features per version x variant, then the
    per-feature score of each version x variant over time, with deployment events marked."""
    charts = []
    share = go.Figure(layout=_layout("Share of drifted features", "share", window))
    groups: dict[str, list] = {}
    for report in reports:
        if report.share_drifted is not None:
            groups.setdefault(_group_label(report), []).append(report)
    for label, items in groups.items():
        share.add_trace(
            go.Scatter(
                x=[r.created_at.isoformat() for r in items],
                y=[r.share_drifted for r in items],
                name=label,
                mode="lines+markers",
            )
        )
    if groups:
        threshold = next(iter(groups.values()))[-1].share_threshold
        share.add_hline(y=threshold, line={"dash": "dash", "color": "#b91c1c"})
    _event_marks(share, events)
    charts.append(("drift-share", "Share of drifted features", _json(share)))
    for index, (label, items) in enumerate(groups.items()):
        test = items[-1].features[0]["test"] if items[-1].features else ""
        fig = go.Figure(
            layout=_layout(f"Per-feature drift score, {label} ({test})", "score", window)
        )
        scores = [
            (r.created_at.isoformat(), {f["name"]: f["score"] for f in r.features}) for r in items
        ]
        for name in (f["name"] for f in items[-1].features):
            points = [(at, by_name[name]) for at, by_name in scores if name in by_name]
            fig.add_trace(
                go.Scatter(
                    x=[p[0] for p in points],
                    y=[p[1] for p in points],
                    name=name,
                    mode="lines+markers",
                    marker={"size": 4},
                )
            )
        if items[-1].features:
            fig.add_hline(
                y=items[-1].features[0]["threshold"], line={"dash": "dash", "color": "#b91c1c"}
            )
        _event_marks(fig, events)
        charts.append((f"drift-features-{index}", f"Feature scores {label}", _json(fig)))
    return charts


def histogram_figure(feature: dict) -> str:
    """Reference vs current distribution of one feature of one report (shares per bin)."""
    hist = feature["hist"]
    edges = hist["edges"]
    centers = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
    width = edges[1] - edges[0] if len(edges) > 1 else 1.0
    fig = go.Figure(
        layout={
            "title": {"text": f"{feature['name']}: reference vs current", "font": {"size": 14}},
            "height": 300,
            "barmode": "overlay",
            "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
            "yaxis": {"title": {"text": "share of rows"}},
            "legend": {"orientation": "h", "y": -0.2},
        }
    )
    for name, values, color in (
        ("reference", hist["reference"], "#2563eb"),
        ("current", hist["current"], "#dc2626"),
    ):
        fig.add_trace(
            go.Bar(x=centers, y=values, width=width, name=name, opacity=0.55, marker_color=color)
        )
    return _json(fig)


QUALITY_CHARTS = {
    "classification": (("accuracy", "Accuracy"), ("precision", "Precision"), ("recall", "Recall")),
    "regression": (("mae", "MAE"), ("rmse", "RMSE")),
}


def quality_figures(quality: dict, events: list[dict]) -> list[tuple[str, str, str]]:
    """A chart per quality metric and one of the labelled count, a line per version x variant."""
    kind = "classification" if quality["task"] == "classification" else "regression"
    charts = []
    for field, title in (*QUALITY_CHARTS[kind], ("n", "Labelled predictions")):
        fig = go.Figure(layout=_layout(title, "rows" if field == "n" else field, quality["window"]))
        for series in quality["series"]:
            fig.add_trace(
                go.Scatter(
                    x=[p["t"] for p in series["points"]],
                    y=[p.get(field) for p in series["points"]],
                    name=series["label"],
                    mode="lines+markers",
                )
            )
        _event_marks(fig, events)
        charts.append((f"quality-{field}", title, _json(fig)))
    return charts
