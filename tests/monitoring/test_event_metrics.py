"""/metrics shows the prediction-event buffer: published, flushed, dropped, waiting."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from serving import events

pytestmark = pytest.mark.django_db


def _values(client) -> dict[tuple, float]:
    text = client.get("/metrics").content.decode()
    return {
        (s.name, s.labels.get("what", "")): s.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("modelgate_events")
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_it_exports_what_the_event_buffer_published_and_dropped(client, monkeypatch, make_event):
    def failing_sink(batch):
        raise ConnectionError("sink down")

    buffer = events.EventBuffer(events.MemorySink(), capacity=3, interval=60)
    buffer._thread = object()  # flushed by hand below
    monkeypatch.setattr(events, "_buffer", buffer)
    for _ in range(5):  # two past the capacity of 3
        buffer.publish(make_event())
    assert _values(client) == {
        ("modelgate_events_published_total", ""): 3.0,
        ("modelgate_events_flushed_total", ""): 0.0,
        ("modelgate_events_dropped_total", "events"): 2.0,
        # Past half the capacity, events keep their counts but lose their sampled payloads.
        ("modelgate_events_dropped_total", "payloads"): 2.0,
        ("modelgate_events_buffered", ""): 3.0,
    }
    buffer.flush()
    buffer.sink = failing_sink
    buffer.publish(make_event())
    buffer.flush()
    after = _values(client)
    assert after[("modelgate_events_flushed_total", "")] == 3.0
    assert after[("modelgate_events_dropped_total", "events")] == 3.0
    assert after[("modelgate_events_buffered", "")] == 0.0
