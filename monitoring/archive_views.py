"""Archive a deployment from the console and the API: one service, two faces."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanDeploy, role_required
from core.errors import ServiceError
from monitoring.archiving import deployment_archive_when_idle
from serving.api import EventOut


@require_POST
@role_required("deploy")
def deployment_archive(request, model: str, deployment: str):
    try:
        deployment_archive_when_idle(
            model_name=model,
            deployment_name=deployment,
            actor=request.actor,
            reason=request.POST.get("reason", ""),
        )
    except ServiceError as exc:
        messages.error(request, f"Not archived: {exc.message}")
        return redirect("serving:deployment-detail", model, deployment)
    messages.success(request, f"Archived {model}/{deployment}; its history stays readable.")
    return redirect("serving:deployment-list")


class DeploymentArchiveApi(APIView):
    permission_classes = [CanDeploy]

    class ArchiveIn(serializers.Serializer):
        reason = serializers.CharField()

    @extend_schema(
        request=ArchiveIn,
        responses={201: EventOut},
        summary="Archive a deployment that took no traffic in the last hour (409 otherwise)",
    )
    def post(self, request, model: str, deployment: str):
        data = self.ArchiveIn(data=request.data)
        data.is_valid(raise_exception=True)
        event = deployment_archive_when_idle(
            model_name=model,
            deployment_name=deployment,
            actor=request.actor,
            reason=data.validated_data["reason"],
        )
        return Response(EventOut(event).data, status=status.HTTP_201_CREATED)
