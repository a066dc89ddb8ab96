"""Management API of deployments: list, inspect, deploy, roll back, reconfigure, time travel."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanDeploy, CanRead, ReadAndDeploy
from core.errors import InvalidInput, PermissionDenied
from serving import deploy, selectors
from serving.governance import MIN_OVERRIDE_REASON
from serving.history import rollback_preview
from serving.rollout_api import WAIT_DESCRIPTION, WAITED_RESPONSES, WaitInput, rollout_answer


class EventOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    reason = serializers.CharField()
    before = serializers.JSONField()
    after = serializers.JSONField()
    config = serializers.JSONField()
    override = serializers.BooleanField()
    restored_event = serializers.IntegerField(source="restored_event_id", allow_null=True)
    metrics = serializers.JSONField()
    created_at = serializers.DateTimeField()


class VariantOut(serializers.Serializer):
    version = serializers.IntegerField(source="version.number")
    weight = serializers.IntegerField()
    role = serializers.CharField()


class DeploymentOut(serializers.Serializer):
    model = serializers.CharField(source="model.name")
    name = serializers.CharField()
    variants = VariantOut(many=True, source="variants.all")
    max_batch_size = serializers.IntegerField()
    max_delay_ms = serializers.FloatField()
    max_queue_rows = serializers.IntegerField()
    max_request_rows = serializers.IntegerField()
    cache_ttl_seconds = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RollbackTargetOut(serializers.Serializer):
    event = serializers.IntegerField(source="restored.pk", help_text="the state of this event")
    created_at = serializers.DateTimeField(source="restored.created_at")
    variants = serializers.JSONField(source="state")
    undoes = serializers.IntegerField(source="undone.pk", allow_null=True)


class DeploymentDetailOut(DeploymentOut):
    events = serializers.SerializerMethodField()
    rollback_to = serializers.SerializerMethodField(
        help_text="Where POST .../rollback without `to_event` goes now (null: nowhere earlier)."
    )

    def get_events(self, obj) -> list[dict]:
        return EventOut(selectors.deployment_events(obj)[:100], many=True).data

    @extend_schema_field(RollbackTargetOut(allow_null=True))
    def get_rollback_to(self, obj) -> dict | None:
        target = rollback_preview(obj)
        return RollbackTargetOut(target).data if target else None


class DeploymentListApi(APIView):
    permission_classes = [ReadAndDeploy]

    class CreateIn(serializers.Serializer):
        name = serializers.SlugField(max_length=63)

    @extend_schema(responses=DeploymentOut(many=True), summary="List deployments (not archived)")
    def get(self, request, model: str | None = None):
        return Response(DeploymentOut(selectors.deployment_list(model_name=model), many=True).data)

    @extend_schema(
        request=CreateIn,
        responses={201: DeploymentOut},
        summary="Create an empty deployment (or revive an archived one); it serves nothing yet",
    )
    def post(self, request, model: str | None = None):
        if model is None:
            raise PermissionDenied("creating a deployment needs the deploy scope on its model")
        data = self.CreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        created = deploy.deployment_create(
            model_name=model, deployment_name=data.validated_data["name"], actor=request.actor
        )
        return Response(DeploymentOut(created).data, status=status.HTTP_201_CREATED)


class DeploymentDetailApi(APIView):
    permission_classes = [ReadAndDeploy]

    class DeploymentConfigInput(serializers.Serializer):
        max_batch_size = serializers.IntegerField(min_value=1, max_value=1024, required=False)
        max_delay_ms = serializers.FloatField(min_value=0, max_value=100, required=False)
        max_queue_rows = serializers.IntegerField(min_value=1, required=False)
        max_request_rows = serializers.IntegerField(min_value=1, required=False)
        cache_ttl_seconds = serializers.IntegerField(min_value=0, required=False)

    @extend_schema(responses=DeploymentDetailOut, summary="A deployment with its history")
    def get(self, request, model: str, deployment: str):
        return Response(DeploymentDetailOut(selectors.deployment_get(model, deployment)).data)

    @extend_schema(
        request=DeploymentConfigInput,
        responses=DeploymentDetailOut,
        summary="Change batching and cache settings",
    )
    def patch(self, request, model: str, deployment: str):
        data = self.DeploymentConfigInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data:
            raise InvalidInput("nothing to change")
        obj = selectors.deployment_get(model, deployment)
        deploy.deployment_configure(
            deployment=obj, actor=request.actor, changes=dict(data.validated_data)
        )
        return Response(DeploymentDetailOut(selectors.deployment_get(model, deployment)).data)


class DeployApi(APIView):
    permission_classes = [CanDeploy]

    class DeployInput(WaitInput):
        version = serializers.IntegerField(min_value=1)
        reason = serializers.CharField(required=False, allow_blank=True, default="")
        override = serializers.BooleanField(required=False, default=False)
        create = serializers.BooleanField(
            required=False,
            default=True,
            help_text="Create the deployment when missing; false refuses an unknown name (404).",
        )

    @extend_schema(
        request=DeployInput,
        responses={201: EventOut, **WAITED_RESPONSES},
        summary="Deploy a version (100% of traffic)",
        description=(
            "The version needs a passed validation run. `override: true` bypasses that gate: it "
            "needs the admin scope (403 otherwise) and a written `reason` of at least "
            f"{MIN_OVERRIDE_REASON} characters (400 otherwise); the event and the audit log "
            "record it." + WAIT_DESCRIPTION
        ),
    )
    def post(self, request, model: str, deployment: str):
        data = self.DeployInput(data=request.data)
        data.is_valid(raise_exception=True)
        # The service enforces the override terms (admin, written reason) for every caller.
        event = deploy.deployment_deploy(
            model_name=model,
            deployment_name=deployment,
            version_number=data.validated_data["version"],
            actor=request.actor,
            reason=data.validated_data["reason"],
            override=data.validated_data["override"],
            create=data.validated_data["create"],
        )
        return rollout_answer(
            EventOut(event).data, deployment=event.deployment, waiting=data.validated_data
        )


class RollbackApi(APIView):
    permission_classes = [CanDeploy]

    class RollbackInput(WaitInput):
        reason = serializers.CharField()
        to_event = serializers.IntegerField(required=False, allow_null=True, default=None)

    @extend_schema(
        request=RollbackInput,
        responses={201: EventOut, **WAITED_RESPONSES},
        summary="Step back to the previous state, or restore the state an event left",
        description=(
            "Without `to_event`: the state before the event that produced the current one, "
            "skipping rollbacks' own events, so a second rollback goes one step further back and "
            "never forward (the deployment's `rollback_to` shows where it goes). With `to_event`: "
            "the state that event left. The new event's `restored_event` is the event that first "
            "put the restored state in place. 409 when there is no earlier state."
            + WAIT_DESCRIPTION
        ),
    )
    def post(self, request, model: str, deployment: str):
        data = self.RollbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        event = deploy.deployment_rollback(
            model_name=model,
            deployment_name=deployment,
            actor=request.actor,
            reason=data.validated_data["reason"],
            to_event_id=data.validated_data["to_event"],
        )
        return rollout_answer(
            EventOut(event).data, deployment=event.deployment, waiting=data.validated_data
        )


class StateAtApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        parameters=[OpenApiParameter("at", str, required=True, description="ISO 8601 time")],
        responses=inline_serializer(
            "StateAt",
            {
                "at": serializers.DateTimeField(),
                "variants": serializers.JSONField(),
                "event": EventOut(allow_null=True),
            },
        ),
        summary="What was serving at time T",
    )
    def get(self, request, model: str, deployment: str):
        raw = request.query_params.get("at", "")
        when = parse_datetime(raw) if raw else None
        if when is None:
            raise InvalidInput("'at' must be an ISO 8601 date-time, e.g. 2026-11-25T20:00:00Z")
        obj = selectors.deployment_get(model, deployment)
        event = deploy.deployment_state_at(obj, when)
        return Response(
            {
                "at": when,
                "variants": event.after if event else [],
                "event": EventOut(event).data if event else None,
            }
        )
