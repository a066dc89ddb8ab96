"""A resolved alert and a landed deploy leave no stale part on the pages that show them: the
overview's refresh carries the open alerts and the models table out of band beside the
deployments table; the monitoring page's JSON refresh carries the open alerts beside the charts."""

from __future__ import annotations

import json

import pytest

from tests.serving.conftest import churn  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerted(churn, alice):  # noqa: F811 - the imported fixture
    from monitoring.models import Alert
    from serving.deploy import deployment_deploy

    event = deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="first",
    )
    return Alert.objects.create(
        deployment_id=event.deployment_id, kind="slo_breach", message="p95 above 5 ms"
    )


def _oob(html: str, element_id: str) -> str:
    start = html.index(f'<div id="{element_id}" hx-swap-oob="true">')
    return html[start : html.index("</div>\n", start)]


def test_the_overview_refresh_carries_alerts_and_models(client, alice, alerted):
    from monitoring.services import alert_resolve
    from serving.deploy import deployment_deploy

    client.force_login(alice)
    before = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert "p95 above 5 ms" in _oob(before, "alerts")
    assert "v1 in production" in before[before.index('<div id="overview-models"') :]

    alert_resolve(alert_id=alerted.pk, actor=alice)
    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=2,
        actor=alice,
        reason="retrained",
    )
    after = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert "p95 above 5 ms" not in after and 'class="card alerts"' not in after
    assert '<div id="alerts" hx-swap-oob="true">' in after  # emptied, not left as it was
    assert "v2 in production" in after[after.index('<div id="overview-models"') :]
    row = after[after.index('data-deployment="churn/production"') :]
    assert ">v2</a> 100%" in row and '<span class="muted">none</span>' in row


def test_the_monitoring_refresh_carries_the_open_alerts(client, alice, alerted):
    from monitoring.services import alert_resolve

    client.force_login(alice)
    page = client.get("/monitoring/churn/production/?window=15m").content.decode()
    assert '<div id="alerts">' in page and "p95 above 5 ms" in page
    url = "/monitoring/churn/production/charts?window=15m"
    body = json.loads(client.get(url).content)
    assert "p95 above 5 ms" in body["replace"]["alerts"]
    # A resolve from the refreshed list returns to the page, not to the JSON.
    assert (
        'name="next" value="/monitoring/churn/production/?window=15m"'
        in (body["replace"]["alerts"])
    )
    alert_resolve(alert_id=alerted.pk, actor=alice)
    body = json.loads(client.get(url).content)
    assert body["replace"]["alerts"].strip() == '<div id="alerts">\n\n</div>'
