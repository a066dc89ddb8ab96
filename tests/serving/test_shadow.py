"""Shadow vs primary: answers to the same logged input are paired and compared."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from monitoring.shadow_compare import shadow_compare

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _controlled_clock(clock):
    """Windows (minute rollups, drift windows) never straddle a real boundary."""
    return clock


def test_it_pairs_shadow_answers_with_the_primary_and_measures_agreement(
    production, log_rows, client, alice
):
    production.model.task = "classification"
    production.model.save(update_fields=["task"])
    rows = [[float(i), 0.0, 0.0, 0.0] for i in range(4)]
    now = time.time()
    log_rows(production, rows, outputs=[0.9, 0.2, 0.7, 0.4], at=now - 1)
    # The shadow (v2) disagrees on the last row's class; differences 0.1, 0.1, 0.1, 0.2.
    log_rows(
        production,
        rows,
        version=2,
        variant="shadow",
        shadow=True,
        outputs=[0.8, 0.1, 0.6, 0.6],
        at=now - 0.5,
    )
    # A shadow answer to an input the primary never logged stays unpaired.
    log_rows(production, [[9.0, 9.0, 9.0, 9.0]], version=2, variant="shadow", shadow=True, at=now)
    result = shadow_compare(
        deployment_id=production.pk,
        task="classification",
        since=timezone.now() - timezone.timedelta(minutes=5),
        until=timezone.now() + timezone.timedelta(minutes=1),
    )
    (shadow,) = result["shadows"]
    assert shadow["shadow_version"] == 2 and shadow["primary_versions"] == [1]
    assert (shadow["shadow_logs"], shadow["pairs"], shadow["rows"]) == (5, 4, 4)
    assert shadow["agreement_rate"] == pytest.approx(0.75)
    assert shadow["mean_abs_diff"] == pytest.approx(0.125)
    client.force_login(alice)
    page = client.get("/monitoring/churn/production/shadow/?window=15m")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<td>v2</td><td>v1 </td>" in html and "75%" in html
