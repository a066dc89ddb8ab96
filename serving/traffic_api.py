"""Management API of traffic splits: weights between versions, A/B and shadow (under /api/v1/)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanDeploy
from serving import deploy
from serving.api import EventOut
from serving.constants import VariantRole
from serving.governance import MIN_OVERRIDE_REASON


class TrafficApi(APIView):
    permission_classes = [CanDeploy]

    class VariantIn(serializers.Serializer):
        version = serializers.IntegerField(min_value=1)
        weight = serializers.IntegerField(min_value=0, max_value=100)
        role = serializers.ChoiceField(choices=VariantRole.choices)

    class TrafficIn(serializers.Serializer):
        variants = serializers.ListField(child=serializers.DictField(), allow_empty=False)
        reason = serializers.CharField()
        override = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        request=TrafficIn,
        responses={201: EventOut},
        summary="Split traffic between versions by weight (one primary; optional shadow at 0)",
        description=(
            "Every version in the split needs a passed validation run. `override: true` bypasses "
            "that gate: admin scope only (403), with a written `reason` of at least "
            f"{MIN_OVERRIDE_REASON} characters (400); audited."
        ),
    )
    def post(self, request, model: str, deployment: str):
        data = self.TrafficIn(data=request.data)
        data.is_valid(raise_exception=True)
        variants = self.VariantIn(data=data.validated_data["variants"], many=True)
        variants.is_valid(raise_exception=True)
        event = deploy.deployment_set_traffic(
            model_name=model,
            deployment_name=deployment,
            variants=[dict(v) for v in variants.validated_data],
            actor=request.actor,
            reason=data.validated_data["reason"],
            override=data.validated_data["override"],
        )
        return Response(EventOut(event).data, status=status.HTTP_201_CREATED)
