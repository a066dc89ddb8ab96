"""Ten-second rollups: windows up to an hour chart 10-second points, and the "now" rate is the
last full minute, whatever the window's average says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring import selectors
from monitoring.constants import TEN_SECONDS
from monitoring.ingest import ingest_events
from monitoring.models import MetricRollup
from monitoring.services import retention_purge

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 12, 0, 5, tzinfo=UTC)  # mid-tick: the last full tick ends at 12:00:00


def _burst(make_event, *, start: datetime, seconds: int, per_second: int, **fields):
    base = start.timestamp()
    return [
        make_event(ts=base + s + i / per_second, **fields)
        for s in range(seconds)
        for i in range(per_second)
    ]


def test_it_rolls_up_ten_second_points_and_charts_them_for_an_hour(make_event):
    # 11:59:35 to 12:00:05: three ticks of one minute, three (and a half) of the next.
    ingest_events(_burst(make_event, start=NOW - timedelta(seconds=30), seconds=30, per_second=2))
    ticks = MetricRollup.objects.filter(resolution=TEN_SECONDS)
    assert ticks.count() == 4 and sum(t.count for t in ticks) == 60
    minutes = MetricRollup.objects.filter(resolution=60).order_by("bucket_start")
    assert [m.count for m in minutes] == [50, 10]  # the minute rows still add up
    window = selectors.window_resolve("1h", now=NOW)
    assert (window.resolution, window.step) == (TEN_SECONDS, 10)
    series = selectors.deployment_metrics(deployment_id=1, window=window)["series"][0]
    assert len(series["points"]) == 4 and series["points"][1]["rps"] == pytest.approx(2.0)
    assert selectors.window_resolve("24h", now=NOW).step == 300


def test_rate_now_is_the_last_full_minute_beside_a_quiet_window_average(make_event):
    # Eight requests a second for the last full minute, nothing for the 59 minutes before.
    ingest_events(_burst(make_event, start=NOW - timedelta(seconds=65), seconds=60, per_second=8))
    ingest_events([make_event(ts=NOW.timestamp() - 2, status=500)])  # in the unfinished tick
    now = selectors.deployment_rate_now(deployment_id=1, now=NOW)
    assert now["end"] == "2026-03-02T12:00:00+00:00"
    assert now["requests"] == 480 and now["rps"] == pytest.approx(8.0)
    assert now["error_rate_pct"] == 0.0 and set(now["by_label"]) == {"v1 primary"}
    window = selectors.window_resolve("1h", now=NOW)
    totals = selectors.deployment_metrics(deployment_id=1, window=window)["totals"]
    assert totals["rps"] == pytest.approx(481 / 3600)


def test_ten_second_rollups_are_purged_after_a_day(make_event):
    ingest_events([make_event(ts=(NOW - timedelta(days=2)).timestamp())])
    ingest_events([make_event(ts=NOW.timestamp())])
    purged = retention_purge(now=NOW)
    assert purged["ten_second_rollups"] == 2  # the deployment's and the key's
    assert MetricRollup.objects.filter(resolution=TEN_SECONDS).count() == 1
    assert MetricRollup.objects.filter(resolution=60).count() == 2
