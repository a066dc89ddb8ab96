"""A controlled clock for windowed logic (minute rollups, SLO checks, drift windows, heartbeats,
key expiry): `time.time()`, `datetime.now()` and `timezone.now()` read a fixed instant that moves
only when a test says `clock.shift(seconds)`, so no test depends on where a real minute boundary
falls. Monotonic clocks are left alone: timeouts and thread waits still run in real time.

Only for code in the test's own process: servers and workers started as subprocesses keep the
real clock, so tests that talk to them must not use this fixture.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

# In the middle of a 10-second tick, a minute, an hour and a day, so a window edge never falls on
# a bucket edge; and later than any real clock these tests meet, so rows written before the clock
# was set never look newer than the test's own.
START = datetime(2030, 6, 12, 12, 30, 25, 500_000, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    """Freeze the clock at START; `clock.shift(s)` and `clock.move_to(dt)` move it."""
    time_machine.move_to(START, tick=False)
    return time_machine
