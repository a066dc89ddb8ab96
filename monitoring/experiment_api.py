"""API of A/B experiments (under /api/v1/)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanDeploy, CanRead, ReadAndDeploy
from core.errors import InvalidInput
from monitoring import experiments
from monitoring.constants import ExperimentMetric
from monitoring.models import Experiment
from serving import selectors as serving_selectors


class ExperimentOut(serializers.ModelSerializer):
    class Meta:
        model = Experiment
        exclude = ["deployment", "created_by"]


class ExperimentIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    control_version = serializers.IntegerField(min_value=1)
    treatment_version = serializers.IntegerField(min_value=1)
    metric = serializers.ChoiceField(choices=ExperimentMetric.choices)
    mde = serializers.FloatField(help_text="Minimum detectable effect (absolute)")
    alpha = serializers.FloatField(min_value=0.0001, max_value=0.5, default=0.05)
    power = serializers.FloatField(min_value=0.5, max_value=0.999, default=0.8)
    baseline = serializers.FloatField(required=False, allow_null=True, default=None)


def _experiment(model: str, deployment: str, experiment_id: int) -> Experiment:
    obj = serving_selectors.deployment_get(model, deployment)
    return experiments.experiment_get(obj, experiment_id)


class ExperimentListApi(APIView):
    permission_classes = [ReadAndDeploy]

    @extend_schema(responses=ExperimentOut(many=True), summary="Experiments of a deployment")
    def get(self, request, model: str, deployment: str):
        obj = serving_selectors.deployment_get(model, deployment)
        return Response(ExperimentOut(obj.experiments.all()[:100], many=True).data)

    @extend_schema(
        request=ExperimentIn,
        responses={201: ExperimentOut},
        summary="Start an A/B test between two serving versions",
    )
    def post(self, request, model: str, deployment: str):
        data = ExperimentIn(data=request.data)
        data.is_valid(raise_exception=True)
        obj = serving_selectors.deployment_get(model, deployment)
        experiment = experiments.experiment_start(
            deployment=obj, actor=request.actor, **data.validated_data
        )
        return Response(ExperimentOut(experiment).data, status=status.HTTP_201_CREATED)


class ExperimentDetailApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(responses=dict, summary="An experiment with its analysis")
    def get(self, request, model: str, deployment: str, experiment_id: int):
        experiment = _experiment(model, deployment, experiment_id)
        return Response(
            {
                **ExperimentOut(experiment).data,
                "analysis": experiments.experiment_analyze(experiment),
            }
        )


class ExperimentEndApi(APIView):
    """POST .../promote deploys the treatment; POST .../stop sends traffic back to control."""

    permission_classes = [CanDeploy]
    end_action = "stop"

    class EndIn(serializers.Serializer):
        force = serializers.BooleanField(default=False)
        override = serializers.BooleanField(default=False)
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        request=EndIn,
        responses={200: ExperimentOut},
        summary="Promote or stop",
        description=(
            "`override: true` (promote only) deploys a treatment without a passed validation run: "
            "admin scope only (403), with the person's own written `reason` (400 when short)."
        ),
    )
    def post(self, request, model: str, deployment: str, experiment_id: int):
        data = self.EndIn(data=request.data)
        data.is_valid(raise_exception=True)
        experiment = _experiment(model, deployment, experiment_id)
        if self.end_action == "promote":
            experiment = experiments.experiment_promote(
                experiment_id=experiment.pk,
                actor=request.actor,
                force=data.validated_data["force"],
                override=data.validated_data["override"],
                reason=data.validated_data["reason"],
            )
        elif data.validated_data["force"] or data.validated_data["override"]:
            raise InvalidInput("force and override only apply to promote")
        else:
            experiment = experiments.experiment_stop(
                experiment_id=experiment.pk, actor=request.actor
            )
        return Response(ExperimentOut(experiment).data)
