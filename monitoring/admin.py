from django.contrib import admin

from monitoring.models import Alert, SloPolicy


@admin.register(SloPolicy)
class SloPolicyAdmin(admin.ModelAdmin):
    list_display = ("deployment", "p95_ms", "error_rate_pct", "min_requests", "auto_rollback")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("deployment", "kind", "created_at", "resolved_at")
    list_filter = ("kind",)
