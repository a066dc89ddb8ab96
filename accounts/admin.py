"""Django admin for roles, keys and the (read-only) audit log."""

from django.contrib import admin

from accounts.models import ApiKey, Profile
from core.admin import ReadOnlyAdmin


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "role")
    list_filter = ("role",)
    search_fields = ("user__username",)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are issued and revoked through the console or API (audited), so here they only read."""

    list_display = ("name", "owner", "prefix", "scopes", "created_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "owner__username")
    exclude = ("hashed_secret",)
