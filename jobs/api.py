"""Management API of validation runs, validation policies, batch jobs and workers."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanRead, ReadAndDeploy
from core.errors import InvalidInput
from jobs import batch_jobs, workers
from jobs.validation import policy as validation_policy
from jobs.validation import runs
from registry import selectors as registry_selectors


class ValidationRunOut(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.CharField(source="version.model.name")
    version = serializers.IntegerField(source="version.number")
    status = serializers.CharField()
    progress = serializers.FloatField()
    current_check = serializers.CharField()
    checks = serializers.JSONField()
    log = serializers.CharField()
    error = serializers.CharField()
    worker_host = serializers.CharField()
    attempts = serializers.IntegerField()
    policy = serializers.JSONField()
    environment = serializers.CharField(source="environment.name", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class VersionValidationsApi(APIView):
    permission_classes = [ReadAndDeploy]

    @extend_schema(responses=ValidationRunOut(many=True), summary="A version's validation runs")
    def get(self, request, model: str, number: int):
        version = registry_selectors.version_get(model, number)
        return Response(ValidationRunOut(runs.validation_runs_of(version)[:50], many=True).data)

    @extend_schema(
        request=None,
        responses={202: ValidationRunOut},
        summary="Start a validation run (queued on the gpu workers)",
    )
    def post(self, request, model: str, number: int):
        version = registry_selectors.version_get(model, number)
        run = runs.validation_start(version=version, actor=request.actor)
        return Response(ValidationRunOut(run).data, status=status.HTTP_202_ACCEPTED)


class ValidationRunApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(responses=ValidationRunOut, summary="A validation run: status, progress, checks")
    def get(self, request, run_id: int):
        return Response(ValidationRunOut(runs.validation_get(run_id)).data)


class ValidationPolicyApi(APIView):
    permission_classes = [ReadAndDeploy]

    @extend_schema(
        responses=OpenApiResponse(description="{setting: value} with defaults filled in"),
        summary="A model's validation policy",
    )
    def get(self, request, model: str):
        obj = registry_selectors.model_get(model)
        return Response(validation_policy.policy_effective(obj))

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        description="Send {setting: value} pairs to change; the answer is the effective policy.",
        responses=OpenApiResponse(description="the effective policy"),
        summary="Change some thresholds of a model's validation policy",
    )
    def patch(self, request, model: str):
        if not isinstance(request.data, dict):
            raise InvalidInput("send a JSON object of {setting: value}")
        obj = registry_selectors.model_get(model)
        effective = validation_policy.policy_update(
            model=obj,
            changes=dict(request.data),
            actor=request.actor,
        )
        return Response(effective)


class BatchJobOut(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.CharField(source="version.model.name")
    version = serializers.IntegerField(source="version.number")
    dataset = serializers.IntegerField(source="dataset_id")
    status = serializers.CharField()
    batch_size = serializers.IntegerField()
    rows_total = serializers.IntegerField()
    rows_done = serializers.IntegerField()
    rows_per_second = serializers.FloatField()
    eta_seconds = serializers.FloatField(allow_null=True)
    cancel_requested = serializers.BooleanField()
    error = serializers.CharField()
    worker_host = serializers.CharField()
    downloads = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_downloads(self, obj) -> dict:
        if obj.status != "succeeded":
            return {}
        base = f"/api/v1/batch-jobs/{obj.pk}/predictions"
        return {fmt: f"{base}.{fmt}" for fmt in batch_jobs.RESULT_FORMATS}


class BatchJobListApi(APIView):
    permission_classes = [CanRead]

    class BatchJobInput(serializers.Serializer):
        model = serializers.CharField()
        version = serializers.IntegerField(min_value=1)
        dataset = serializers.IntegerField(min_value=1)
        batch_size = serializers.IntegerField(min_value=1, max_value=65536, required=False)

    @extend_schema(responses=BatchJobOut(many=True), summary="Batch inference jobs")
    def get(self, request):
        return Response(BatchJobOut(batch_jobs.batch_job_list()[:100], many=True).data)

    @extend_schema(request=BatchJobInput, responses={202: BatchJobOut}, summary="Start a batch job")
    def post(self, request):
        data = self.BatchJobInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        # No model in the URL: the service checks deploy on the version's model (deploy:<model>).
        request.actor.require("deploy", model=values["model"], what="start a batch job")
        job = batch_jobs.batch_job_create(
            version=registry_selectors.version_get(values["model"], values["version"]),
            dataset=registry_selectors.dataset_get(values["dataset"]),
            batch_size=values.get("batch_size"),
            actor=request.actor,
        )
        return Response(BatchJobOut(job).data, status=status.HTTP_202_ACCEPTED)


class BatchJobApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(responses=BatchJobOut, summary="A batch job: progress, rate, ETA, downloads")
    def get(self, request, job_id: int):
        return Response(BatchJobOut(batch_jobs.batch_job_get(job_id)).data)


class BatchJobCancelApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(request=None, responses=BatchJobOut, summary="Cancel a batch job")
    def post(self, request, job_id: int):
        job = batch_jobs.batch_job_get(job_id)
        job = batch_jobs.batch_job_cancel(job=job, actor=request.actor)
        return Response(BatchJobOut(batch_jobs.batch_job_get(job.pk)).data)


class BatchJobPredictionsApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(description="the file")},
        summary="Download a batch job's predictions (.npz or .csv)",
    )
    def get(self, request, job_id: int, fmt: str):
        job = batch_jobs.batch_job_get(job_id)
        path = batch_jobs.batch_job_result_path(job, fmt)
        return FileResponse(
            open(path, "rb"), as_attachment=True, filename=f"batch-job-{job.pk}-predictions.{fmt}"
        )


class WorkerOut(serializers.Serializer):
    hostname = serializers.CharField()
    pid = serializers.IntegerField()
    queues = serializers.JSONField()
    device = serializers.CharField()
    gpu = serializers.JSONField(allow_null=True)
    cpu_percent = serializers.FloatField(allow_null=True)
    memory = serializers.JSONField()
    current_task = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    last_seen = serializers.DateTimeField()
    stale = serializers.BooleanField()


class WorkerListApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(responses=WorkerOut(many=True), summary="Celery workers and their heartbeats")
    def get(self, request):
        return Response(WorkerOut(workers.worker_list(), many=True).data)
