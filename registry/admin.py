"""Read-mostly admin views of the registry; writes go through the services."""

from django.contrib import admin

from registry.models import Artifact, Dataset, EnvironmentSpec, ModelVersion, RegisteredModel


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Registrations must run the service (signature, artifact store, audit), so no add/edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RegisteredModel)
class RegisteredModelAdmin(_ReadOnlyAdmin):
    list_display = ("name", "task", "owner", "created_at")
    search_fields = ("name", "description")


@admin.register(ModelVersion)
class ModelVersionAdmin(_ReadOnlyAdmin):
    list_display = ("model", "number", "state", "format", "created_by", "created_at")
    list_filter = ("state", "format")
    search_fields = ("model__name", "source_commit")


@admin.register(Artifact)
class ArtifactAdmin(_ReadOnlyAdmin):
    list_display = ("sha256", "format", "size", "created_at")
    search_fields = ("sha256",)


@admin.register(EnvironmentSpec)
class EnvironmentSpecAdmin(_ReadOnlyAdmin):
    list_display = ("name", "python", "tensorflow", "cuda", "gpu_count", "created_at")
    search_fields = ("name",)


@admin.register(Dataset)
class DatasetAdmin(_ReadOnlyAdmin):
    list_display = ("name", "format", "row_count", "size", "created_at")
    search_fields = ("name", "sha256")
