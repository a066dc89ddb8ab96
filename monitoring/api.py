"""Monitoring API: a deployment's metrics, its SLO policy, one prediction, a key's calls, alerts."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanRead, ReadAndDeploy
from accounts.selectors import api_key_get
from core.errors import InvalidInput
from monitoring import selectors, services
from monitoring.figures import event_marks
from serving import selectors as serving_selectors

WINDOW_PARAMS = [
    OpenApiParameter("window", str, description="15m, 1h (default), 24h, 7d or custom"),
    OpenApiParameter("start", str, description="custom window start (ISO 8601)"),
    OpenApiParameter("end", str, description="custom window end (ISO 8601; default now)"),
]


def _window(request):
    params = request.query_params
    return selectors.window_resolve(params.get("window"), params.get("start"), params.get("end"))


class DeploymentMetricsApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        parameters=WINDOW_PARAMS,
        responses=dict,
        summary="Request rate, latency percentiles, errors, batch size and cache hits "
        "per version and variant",
    )
    def get(self, request, model: str, deployment: str):
        obj = serving_selectors.deployment_get(model, deployment)
        window = _window(request)
        data = selectors.deployment_metrics(deployment_id=obj.pk, window=window)
        data["events"] = event_marks(selectors.deployment_events_in(obj, window))
        return Response(data)


class SloOut(serializers.Serializer):
    p95_ms = serializers.FloatField(allow_null=True)
    error_rate_pct = serializers.FloatField(allow_null=True)
    min_requests = serializers.IntegerField()
    auto_rollback = serializers.BooleanField()
    window_minutes = serializers.IntegerField()
    payload_sample_rate = serializers.FloatField()


class SloIn(serializers.Serializer):
    p95_ms = serializers.FloatField(min_value=0.01, allow_null=True, required=False)
    error_rate_pct = serializers.FloatField(
        min_value=0, max_value=100, allow_null=True, required=False
    )
    min_requests = serializers.IntegerField(min_value=1, required=False)
    auto_rollback = serializers.BooleanField(required=False)
    window_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False)
    payload_sample_rate = serializers.FloatField(min_value=0, max_value=1, required=False)


class SloApi(APIView):
    permission_classes = [ReadAndDeploy]

    @extend_schema(responses=SloOut, summary="A deployment's SLO policy")
    def get(self, request, model: str, deployment: str):
        obj = serving_selectors.deployment_get(model, deployment)
        return Response(SloOut(services.slo_policy_get(obj)).data)

    @extend_schema(
        request=SloIn,
        responses=SloOut,
        summary="Change SLOs, automatic rollback or payload sampling",
    )
    def patch(self, request, model: str, deployment: str):
        data = SloIn(data=request.data)
        data.is_valid(raise_exception=True)
        unknown = set(request.data) - set(SloIn().fields)
        if unknown:
            raise InvalidInput(f"unknown SLO setting(s): {', '.join(sorted(unknown))}")
        obj = serving_selectors.deployment_get(model, deployment)
        policy = services.slo_policy_update(
            deployment=obj,
            actor=request.actor,
            changes=dict(data.validated_data),
        )
        return Response(SloOut(policy).data)


class PredictionOut(serializers.Serializer):
    id = serializers.SerializerMethodField()
    request_id = serializers.CharField()
    ts = serializers.DateTimeField()
    model = serializers.CharField()
    deployment = serializers.CharField()
    version = serializers.IntegerField()
    variant = serializers.CharField()
    key_prefix = serializers.CharField()
    protocol = serializers.CharField()
    status = serializers.IntegerField()
    latency_ms = serializers.FloatField()
    rows = serializers.IntegerField()
    batch_size = serializers.IntegerField()
    cache_hit = serializers.BooleanField()
    shadow = serializers.BooleanField()
    error = serializers.CharField()
    inputs = serializers.JSONField(allow_null=True)
    outputs = serializers.JSONField(allow_null=True)

    def get_id(self, obj) -> str:
        return self.context["prediction_id"]


class PredictionApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        responses=PredictionOut,
        summary="One prediction by its id: when, key, version, latency, payloads",
    )
    def get(self, request, prediction_id: str):
        log, _row = selectors.prediction_get(prediction_id)
        return Response(PredictionOut(log, context={"prediction_id": prediction_id}).data)


class KeyMetricsApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        parameters=WINDOW_PARAMS,
        responses=dict,
        summary="An API key's calls by deployment and status (owner or admin)",
    )
    def get(self, request, key_id: int):
        key = api_key_get(user=request.user, key_id=key_id)
        return Response(selectors.key_metrics(key_prefix=key.prefix, window=_window(request)))


class AlertOut(serializers.Serializer):
    id = serializers.IntegerField()
    deployment = serializers.CharField()
    kind = serializers.CharField()
    message = serializers.CharField()
    metrics = serializers.JSONField()
    rollback_event = serializers.IntegerField(source="rollback_event_id", allow_null=True)
    created_at = serializers.DateTimeField()


class AlertListApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(responses=AlertOut(many=True), summary="Open alerts, newest first")
    def get(self, request):
        return Response(AlertOut(selectors.alerts_open()[:200], many=True).data)
