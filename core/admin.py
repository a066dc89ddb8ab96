from django.contrib import admin

from core.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Append-only: the admin may read entries, never add, change or delete them."""

    list_display = ("created_at", "actor_label", "action", "target", "ip")
    list_filter = ("action",)
    search_fields = ("actor_label", "action", "target")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
