"""registry REST API: models, versions (upload), environments, datasets. Thin: parse, check
permission, call one service or selector, serialize."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CanRead, ReadOrDeploy
from core.errors import InvalidInput
from core.schema import error_responses
from registry import selectors, services
from registry.constants import Task


class _ReadWriteApi(APIView):
    """GET needs the read scope; anything else the deploy scope (on the URL's model, if any)."""

    permission_classes = [ReadOrDeploy]
    model_kwarg = "name"


def _required_file(request, field: str):
    upload = request.FILES.get(field)
    if upload is None:
        raise InvalidInput(f"the {field!r} file is required (multipart/form-data)")
    return upload


# --- serializers -------------------------------------------------------------------------------


class TensorSerializer(serializers.Serializer):
    name = serializers.CharField()
    dtype = serializers.CharField()
    shape = serializers.ListField(child=serializers.IntegerField())


class SignatureSerializer(serializers.Serializer):
    method = serializers.CharField()
    inputs = TensorSerializer(many=True)
    outputs = TensorSerializer(many=True)


class ArtifactSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    format = serializers.CharField()


class EnvironmentSerializer(serializers.Serializer):
    name = serializers.CharField()
    python = serializers.CharField()
    tensorflow = serializers.CharField()
    cuda = serializers.CharField()
    cudnn = serializers.CharField()
    base_image = serializers.CharField()
    env_vars = serializers.DictField(child=serializers.CharField())
    cpu_limit = serializers.FloatField(allow_null=True)
    memory_limit = serializers.CharField()
    gpu_count = serializers.IntegerField()
    extra_packages = serializers.ListField(child=serializers.CharField())
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()


class FeatureSerializer(serializers.Serializer):
    name = serializers.CharField()
    dtype = serializers.CharField()


class DatasetSchemaSerializer(serializers.Serializer):
    features = FeatureSerializer(many=True)
    label = serializers.CharField(allow_null=True)


class DatasetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    format = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    row_count = serializers.IntegerField()
    schema = DatasetSchemaSerializer()
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()


class DatasetRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class VersionSerializer(serializers.Serializer):
    model = serializers.CharField(source="model.name")
    number = serializers.IntegerField()
    state = serializers.CharField()
    format = serializers.CharField()
    signature = SignatureSerializer()
    framework = serializers.CharField()
    framework_version = serializers.CharField()
    artifact = ArtifactSerializer()
    training_metrics = serializers.DictField(child=serializers.FloatField())
    tags = serializers.ListField(child=serializers.CharField())
    source_commit = serializers.CharField()
    run_url = serializers.CharField()
    training_dataset = serializers.CharField()
    environment = serializers.CharField(source="environment.name", default=None)
    holdout_dataset = DatasetRefSerializer(allow_null=True)
    reference_dataset = DatasetRefSerializer(allow_null=True)
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()


class LatestVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    state = serializers.CharField()
    created_at = serializers.DateTimeField()


class ModelSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    task = serializers.CharField()
    owner = serializers.CharField(source="owner.username", default=None)
    version_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ModelListSerializer(ModelSerializer):
    latest_version = LatestVersionSerializer(allow_null=True)


class ModelDetailSerializer(ModelSerializer):
    versions = VersionSerializer(many=True, source="versions_list")


# --- views -------------------------------------------------------------------------------------


class ModelListApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="models_list",
        responses={200: ModelListSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        models = selectors.model_list_with_latest()
        return Response(ModelListSerializer(models, many=True).data)


class ModelDetailApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="models_retrieve",
        responses={200: ModelDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, name: str):
        model = selectors.model_get(name)
        model.versions_list = list(selectors.version_list(model))
        return Response(ModelDetailSerializer(model).data)


class VersionListCreateApi(_ReadWriteApi):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "VersionRegisterInput"  # unique across apps in the OpenAPI schema

        artifact = serializers.FileField(help_text=".keras, or a SavedModel as .zip/.tar.gz/.tgz")
        environment = serializers.CharField(required=False, allow_blank=True)
        holdout_dataset = serializers.IntegerField(required=False, allow_null=True)
        reference_dataset = serializers.IntegerField(required=False, allow_null=True)
        source_commit = serializers.CharField(required=False, allow_blank=True, max_length=100)
        run_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
        tags = serializers.ListField(child=serializers.CharField(), required=False)
        training_metrics = serializers.CharField(required=False, allow_blank=True)
        training_dataset = serializers.CharField(required=False, allow_blank=True)
        description = serializers.CharField(required=False, allow_blank=True)
        task = serializers.ChoiceField(choices=Task.choices, required=False)
        approve_host_ops = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Admin only: register a SavedModel whose graph reaches the host anyway",
        )
        approval_reason = serializers.CharField(
            required=False, allow_blank=True, max_length=1000, help_text="Why (audited)"
        )

    @extend_schema(
        operation_id="model_versions_list",
        responses={200: VersionSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, name: str):
        model = selectors.model_get(name)
        return Response(VersionSerializer(selectors.version_list(model), many=True).data)

    @extend_schema(
        operation_id="model_versions_create",
        request={"multipart/form-data": InputSerializer},
        responses={201: VersionSerializer, **error_responses(400, 401, 403, 413)},
        description="Register a new version; the model is created on its first version.",
    )
    def post(self, request, name: str):
        upload = _required_file(request, "artifact")
        data = {k: request.data.get(k) for k in request.data if k not in ("artifact", "tags")}
        # Tags come as repeated fields or one comma-separated field.
        data["tags"] = [t for raw in request.data.getlist("tags") for t in raw.split(",")]
        form = self.InputSerializer(data={**data, "artifact": upload})
        form.is_valid(raise_exception=True)
        fields = {k: v for k, v in form.validated_data.items() if k != "artifact"}
        version = services.version_register(
            model_name=name,
            upload=upload,
            filename=upload.name,
            actor=request.actor,
            **fields,
        )
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)


class VersionDetailApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="model_versions_retrieve",
        responses={200: VersionSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, name: str, number: int):
        return Response(VersionSerializer(selectors.version_get(name, number)).data)


class EnvironmentListCreateApi(_ReadWriteApi):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "EnvironmentCreateInput"  # unique across apps in the OpenAPI schema

        name = serializers.CharField(max_length=100)
        python = serializers.CharField(max_length=20)
        tensorflow = serializers.CharField(max_length=20)
        cuda = serializers.CharField(max_length=20, required=False, allow_blank=True)
        cudnn = serializers.CharField(max_length=20, required=False, allow_blank=True)
        base_image = serializers.CharField(max_length=300)
        env_vars = serializers.DictField(child=serializers.CharField(), required=False)
        cpu_limit = serializers.FloatField(required=False, allow_null=True)
        memory_limit = serializers.CharField(max_length=20, required=False, allow_blank=True)
        gpu_count = serializers.IntegerField(required=False, min_value=0)
        extra_packages = serializers.ListField(child=serializers.CharField(), required=False)

    @extend_schema(
        operation_id="environments_list",
        responses={200: EnvironmentSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        return Response(EnvironmentSerializer(selectors.environment_list(), many=True).data)

    @extend_schema(
        operation_id="environments_create",
        request=InputSerializer,
        responses={201: EnvironmentSerializer, **error_responses(400, 401, 403, 409)},
    )
    def post(self, request):
        form = self.InputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        spec = services.environment_create(
            actor=request.actor,
            **form.validated_data,
        )
        return Response(EnvironmentSerializer(spec).data, status=status.HTTP_201_CREATED)


class EnvironmentDetailApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="environments_retrieve",
        responses={200: EnvironmentSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, name: str):
        return Response(EnvironmentSerializer(selectors.environment_get(name)).data)


class DatasetListCreateApi(_ReadWriteApi):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DatasetCreateInput"  # unique across apps in the OpenAPI schema

        file = serializers.FileField(help_text=".npz, .csv or .parquet")
        name = serializers.CharField(max_length=100, required=False)
        label_column = serializers.CharField(max_length=100, required=False, allow_blank=True)

    @extend_schema(
        operation_id="datasets_list",
        responses={200: DatasetSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        return Response(DatasetSerializer(selectors.dataset_list(), many=True).data)

    @extend_schema(
        operation_id="datasets_create",
        request={"multipart/form-data": InputSerializer},
        responses={201: DatasetSerializer, **error_responses(400, 401, 403, 413)},
        description="Upload a dataset; `name` defaults to the file name.",
    )
    def post(self, request):
        upload = _required_file(request, "file")
        form = self.InputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        dataset = services.dataset_create(
            name=form.validated_data.get("name") or upload.name,
            upload=upload,
            filename=upload.name,
            label_column=form.validated_data.get("label_column") or None,
            actor=request.actor,
        )
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    permission_classes = [CanRead]

    @extend_schema(
        operation_id="datasets_retrieve",
        responses={200: DatasetSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, dataset_id: int):
        return Response(DatasetSerializer(selectors.dataset_get(dataset_id)).data)
