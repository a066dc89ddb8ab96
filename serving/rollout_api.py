"""Rollout status API, and the `"wait": true` answer of deploy and rollback."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanRead
from serving import selectors
from serving.rollout import deployment_rollout_status, deployment_rollout_wait


class _StateOut(serializers.Serializer):
    version = serializers.IntegerField()
    weight = serializers.IntegerField()
    role = serializers.CharField()


class _FailureOut(serializers.Serializer):
    version = serializers.IntegerField()
    cause = serializers.CharField(help_text="Exception type and the first line of its message.")


class _LoadedOut(serializers.Serializer):
    version = serializers.IntegerField()
    xla = serializers.BooleanField(allow_null=True)
    xla_error = serializers.CharField(allow_null=True, help_text="Why XLA is off, when it is.")


class _ReplicaOut(serializers.Serializer):
    replica = serializers.CharField(help_text="host-pid-suffix of one serving process")
    host = serializers.CharField()
    epoch = serializers.CharField(help_text="The deployment epoch its route table was built at.")
    reported_at = serializers.FloatField(help_text="Unix time of its latest report.")
    serving = _StateOut(many=True, help_text="The traffic it routes for this deployment.")
    loaded = _LoadedOut(many=True, help_text="Versions of this model warm in its memory.")
    failures = _FailureOut(many=True, help_text="Wanted versions that failed to load there.")
    up_to_date = serializers.BooleanField()


class _SummaryOut(serializers.Serializer):
    version = serializers.IntegerField()
    cause = serializers.CharField()
    replicas = serializers.IntegerField()
    message = serializers.CharField(help_text='"vN failed to load on K replicas: <cause>"')


class RolloutStatusOut(serializers.Serializer):
    model = serializers.CharField()
    deployment = serializers.CharField()
    desired = _StateOut(many=True, help_text="The variants in the database (shadows aside).")
    converged = serializers.BooleanField(help_text="Every live replica serves `desired`.")
    replicas = _ReplicaOut(many=True, help_text="Replicas that reported within the TTL.")
    lagging = serializers.ListField(child=serializers.CharField())
    load_failures = _SummaryOut(many=True)
    message = serializers.CharField()


class RolloutStatusApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        responses=RolloutStatusOut,
        summary="Which live serving replicas serve the deployment's current state",
        description=(
            "Every serving replica that reported within `MODELGATE_REPLICA_TTL_SECONDS`, with the "
            "epoch its route table was built at, the traffic it routes for this deployment, the "
            "versions it holds warm (and whether XLA compiled them) and the versions that failed "
            "to load there. A replica keeps serving the previous state while a new one fails."
        ),
    )
    def get(self, request, model: str, deployment: str):
        found = selectors.deployment_get(model, deployment)
        return Response(deployment_rollout_status(deployment=found))


class WaitInput(serializers.Serializer):
    """Fields deploy and rollback share to wait until the change has landed."""

    wait = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Answer only once every live replica serves the new state (or time out).",
    )
    wait_timeout = serializers.FloatField(
        required=False,
        min_value=0.1,
        max_value=600,
        allow_null=True,
        default=None,
        help_text="Seconds to wait; default MODELGATE_ROLLOUT_WAIT_SECONDS.",
    )


_NOT_LANDED = inline_serializer(
    "RolloutNotLanded",
    {
        "error": serializers.CharField(),
        "code": serializers.CharField(help_text="rollout_failed | rollout_timeout"),
        "event": serializers.DictField(help_text="The recorded event, as the 201 body."),
        "rollout": RolloutStatusOut(),
    },
)
WAITED_RESPONSES = {502: _NOT_LANDED, 504: _NOT_LANDED}
WAIT_DESCRIPTION = (
    ' With `"wait": true` the answer comes once every live serving replica serves the new state '
    "(201, with `rollout`); 502 `rollout_failed` when every lagging replica failed to load it "
    "(the event stands, the old state keeps serving: roll back); 504 `rollout_timeout` listing "
    "the replicas that lag."
)


def rollout_answer(event_data: dict, *, deployment, waiting: dict) -> Response:
    """201 with the event; with `wait`, only once landed, else 502/504 naming who lags and why."""
    if not waiting.get("wait"):
        return Response(event_data, status=201)
    timeout = waiting.get("wait_timeout") or settings.MODELGATE_ROLLOUT_WAIT_SECONDS
    status = deployment_rollout_wait(deployment=deployment, timeout=timeout)
    if status["converged"]:
        return Response({**event_data, "rollout": status}, status=201)
    if not status["replicas"]:
        error = f"the change is recorded, but no serving replica reported within {timeout:g}s"
        code, http = "rollout_timeout", 504
    elif status["timed_out"]:
        error = (
            f"the change is recorded, but after {timeout:g}s {len(status['lagging'])} "
            f"replica(s) still lag: {', '.join(status['lagging'])}"
        )
        code, http = "rollout_timeout", 504
    else:
        error = f"the change is recorded, but {status['message']}"
        code, http = "rollout_failed", 502
    return Response(
        {"error": error, "code": code, "event": event_data, "rollout": status}, status=http
    )
