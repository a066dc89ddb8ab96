"""Fixtures for monitoring: the serving fixtures, synthetic traffic, a controlled clock."""

from __future__ import annotations

import pytest

from tests.serving.conftest import (  # noqa: F401 - fixtures re-exported for these tests
    churn,
    deploy_key,
    deployed,
    make_key,
    pool,
    predict_key,
)
from tests.support.traffic_fixtures import (  # noqa: F401 - fixtures re-exported for these tests
    log_rows,
    make_event,
    production,
    split,
)


@pytest.fixture(autouse=True)
def _controlled_clock(clock):
    """Windows (minute rollups, SLO spans, drift windows) never straddle a real boundary."""
    return clock


def login(client, user):
    client.force_login(user)
    return client
