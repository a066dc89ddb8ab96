"""Ground truth for logged predictions (one at a time and in bulk) and the quality it yields."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from core.models import AuditEntry
from monitoring.models import Feedback
from monitoring.quality import dropped, quality_series, scores
from monitoring.selectors import window_resolve
from tests.serving.conftest import auth

pytestmark = pytest.mark.django_db


@pytest.fixture
def classifier(production):
    production.model.task = "classification"
    production.model.save(update_fields=["task"])
    return production


def _post(client, prediction_id, body, **headers):
    return client.post(
        f"/api/v1/predictions/{prediction_id}/feedback",
        json.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_it_records_a_label_beside_the_served_class(client, classifier, log_rows, predict_key):
    (rid,) = log_rows(classifier, [[0, 0, 0, 0]], outputs=[0.8])
    response = _post(client, f"{rid}-0", {"label": 1}, **auth(predict_key))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["predicted"], body["label"], body["version"]) == (1.0, 1.0, 1)
    again = _post(client, f"{rid}-0", {"label": 0}, **auth(predict_key))
    assert again.status_code == 201
    assert Feedback.objects.get().label == 0.0  # a later label replaces the earlier one
    assert AuditEntry.objects.filter(action="feedback.record").count() == 2


def test_it_refuses_unknown_ids_bad_labels_and_viewers(client, classifier, log_rows, bob):
    (rid,) = log_rows(classifier, [[0, 0, 0, 0]])
    client.force_login(bob)
    denied = _post(client, f"{rid}-0", {"label": 1})
    assert denied.status_code == 403
    assert denied.json()["error"] == "recording feedback on churn needs the predict or deploy scope"
    client.logout()
    missing = _post(client, "nope-0", {"label": 1})
    assert missing.status_code in (401, 403)
    from accounts.services import api_key_create

    _, raw = api_key_create(user=bob, name="viewer predict", scopes=["read"])
    unknown = _post(client, "feedbeef-0", {"label": 1}, **auth(raw))
    assert unknown.status_code == 404
    bad = _post(client, f"{rid}-0", {"label": "yes"}, **auth(raw))
    assert bad.status_code == 400
    assert not Feedback.objects.exists()


def test_bulk_feedback_is_all_or_nothing(client, classifier, log_rows, deploy_key):
    ids = log_rows(classifier, [[0, 0, 0, 0]] * 3, outputs=[0.1, 0.9, 0.7])
    items = [
        {"prediction_id": f"{rid}-0", "label": label}
        for rid, label in zip(ids, [0, 1, 0], strict=True)
    ]
    broken = client.post(
        "/api/v1/feedback",
        json.dumps({"items": [*items, {"prediction_id": "gone-0", "label": 1}]}),
        content_type="application/json",
        **auth(deploy_key),
    )
    assert broken.status_code == 400
    assert broken.json()["error"] == "unknown prediction id(s): gone-0; nothing was recorded"
    assert not Feedback.objects.exists()
    ok = client.post(
        "/api/v1/feedback",
        json.dumps({"items": items}),
        content_type="application/json",
        **auth(deploy_key),
    )
    assert ok.status_code == 201 and ok.json() == {"recorded": 3}
    assert sorted(Feedback.objects.values_list("predicted", "label")) == [
        (0.0, 0.0),
        (1.0, 0.0),
        (1.0, 1.0),
    ]


def test_the_bulk_form_records_pasted_labels(client, classifier, log_rows, alice):
    ids = log_rows(classifier, [[0, 0, 0, 0]] * 2, outputs=[0.1, 0.9])
    client.force_login(alice)
    text = "prediction_id,label\n" + "\n".join(f"{rid}-0,1" for rid in ids)
    response = client.post("/monitoring/feedback/", {"labels": text}, follow=True)
    assert "2 label(s) recorded." in response.content.decode()
    bad = client.post("/monitoring/feedback/", {"labels": "only-one-column"})
    assert bad.status_code == 400
    assert "line 1: expected" in bad.content.decode()


def test_it_scores_classification_and_regression_like_the_textbook():
    got = scores(np.array([1, 1, 0, 0, 1.0]), np.array([1, 0, 0, 1, 1.0]), "classification")
    assert got == {"n": 5, "accuracy": 0.6, "precision": 2 / 3, "recall": 2 / 3}
    reg = scores(np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0]), "regression")
    assert reg["mae"] == pytest.approx(1.0)
    assert reg["rmse"] == pytest.approx(np.sqrt(5 / 3))


def test_it_flags_a_drop_beyond_the_threshold_only():
    steady = [{"t": str(i), "n": 50, "accuracy": 0.9} for i in range(3)]
    assert dropped([*steady, {"t": "3", "n": 50, "accuracy": 0.87}], "classification") is None
    flag = dropped([*steady, {"t": "3", "n": 50, "accuracy": 0.8}], "classification")
    assert flag == {"metric": "accuracy", "before": 0.9, "latest": 0.8, "t": "3"}
    assert dropped([*steady, {"t": "3", "n": 5, "accuracy": 0.1}], "classification") is None
    mae = [{"t": "0", "n": 30, "mae": 1.0}, {"t": "1", "n": 30, "mae": 1.2}]
    assert dropped(mae, "regression", threshold=0.1)["metric"] == "mae"


def test_the_quality_series_and_page_show_accuracy_per_version(client, classifier, log_rows, alice):
    from monitoring.feedback import feedback_record_bulk

    now = time.time()
    ids = log_rows(classifier, [[0, 0, 0, 0]] * 40, outputs=[0.9] * 40, at=now - 600)
    feedback_record_bulk(
        items=[(f"{r}-0", 1 if i < 36 else 0) for i, r in enumerate(ids)], actor=alice
    )
    data = quality_series(
        deployment_id=classifier.pk, task="classification", window=window_resolve("1h")
    )
    (series,) = data["series"]
    assert series["label"] == "v1 primary"
    assert series["totals"]["accuracy"] == pytest.approx(0.9)
    assert data["labelled"] == 40 and data["scored"] == 40 and data["unscored"] == 0
    client.force_login(alice)
    page = client.get("/monitoring/churn/production/quality/?window=1h")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<strong>40</strong> label(s) received" in html and "<strong>40</strong> scored" in html
    assert (
        "accuracy, precision and recall" in html and 'data-figure="chart-quality-accuracy"' in html
    )
