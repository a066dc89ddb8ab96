from django.contrib import admin

from core.models import AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the admin may read, never add, change or delete (their services write them)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Append-only: entries are read here, never added, changed or deleted."""

    list_display = ("created_at", "actor_label", "action", "target", "ip")
    list_filter = ("action",)
    search_fields = ("actor_label", "action", "target")
    date_hierarchy = "created_at"
