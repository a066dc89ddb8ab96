"""API of feedback, drift, quality and shadow comparison (under /api/v1/)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanDeploy, CanRead
from monitoring import drift_service, feedback, quality, shadow_compare
from monitoring.api import WINDOW_PARAMS, _window
from monitoring.models import DriftReport
from serving import selectors as serving_selectors


class FeedbackOut(serializers.Serializer):
    prediction_id = serializers.CharField()
    version = serializers.IntegerField()
    variant = serializers.CharField()
    predicted_at = serializers.DateTimeField()
    predicted = serializers.FloatField(allow_null=True)
    label = serializers.FloatField()
    updated_at = serializers.DateTimeField()


class FeedbackApi(APIView):
    class FeedbackIn(serializers.Serializer):
        label = serializers.FloatField(help_text="Ground truth (class index) or outcome value")

    @extend_schema(
        request=FeedbackIn,
        responses={201: FeedbackOut},
        summary="Record the ground truth or outcome of one prediction (replaces an earlier one)",
    )
    def post(self, request, prediction_id: str):
        data = self.FeedbackIn(data=request.data)
        data.is_valid(raise_exception=True)
        saved = feedback.feedback_record(
            prediction_id=prediction_id, label=data.validated_data["label"], actor=request.actor
        )
        return Response(FeedbackOut(saved).data, status=status.HTTP_201_CREATED)


class FeedbackBulkApi(APIView):
    class Item(serializers.Serializer):
        prediction_id = serializers.CharField(max_length=80)
        label = serializers.FloatField()

    class BulkIn(serializers.Serializer):
        items = serializers.ListField(allow_empty=False, max_length=feedback.MAX_BULK)

    @extend_schema(
        request=BulkIn,
        responses={201: dict},
        summary="Record many labels at once (all or nothing)",
    )
    def post(self, request):
        data = self.BulkIn(data=request.data)
        data.is_valid(raise_exception=True)
        items = self.Item(data=data.validated_data["items"], many=True)
        items.is_valid(raise_exception=True)
        # The service checks the scopes on every model named, then reports unknown ids at once.
        done = feedback.feedback_record_bulk(
            items=[(i["prediction_id"], i["label"]) for i in items.validated_data],
            actor=request.actor,
        )
        return Response({"recorded": len(done)}, status=status.HTTP_201_CREATED)


class DriftReportOut(serializers.ModelSerializer):
    class Meta:
        model = DriftReport
        exclude = ["deployment"]


class DriftApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        parameters=WINDOW_PARAMS,
        responses=DriftReportOut(many=True),
        summary="Drift reports of a deployment in a window",
    )
    def get(self, request, model: str, deployment: str):
        obj = serving_selectors.deployment_get(model, deployment)
        window = _window(request)
        reports = DriftReport.objects.filter(
            deployment=obj, created_at__gte=window.start, created_at__lte=window.end
        ).order_by("-created_at", "-id")[:500]
        return Response(DriftReportOut(reports, many=True).data)


class DriftRunApi(APIView):
    permission_classes = [CanDeploy]

    @extend_schema(
        request=None,
        responses={201: DriftReportOut(many=True)},
        summary="Run the drift check now",
    )
    def post(self, request, model: str, deployment: str):
        obj = serving_selectors.deployment_get(model, deployment)
        reports = drift_service.drift_run(deployment=obj, actor=request.actor)
        return Response(DriftReportOut(reports, many=True).data, status=status.HTTP_201_CREATED)


class QualityApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        parameters=WINDOW_PARAMS,
        responses=dict,
        summary="Accuracy/precision/recall or MAE/RMSE over time per version and variant",
    )
    def get(self, request, model: str, deployment: str):
        obj = serving_selectors.deployment_get(model, deployment)
        data = quality.quality_series(
            deployment_id=obj.pk, task=obj.model.task, window=_window(request)
        )
        return Response(data)


class ShadowApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        parameters=WINDOW_PARAMS,
        responses=dict,
        summary="Shadow vs primary: agreement rate and mean absolute difference",
    )
    def get(self, request, model: str, deployment: str):
        obj = serving_selectors.deployment_get(model, deployment)
        window = _window(request)
        return Response(
            shadow_compare.shadow_compare(
                deployment_id=obj.pk, task=obj.model.task, since=window.start, until=window.end
            )
        )
