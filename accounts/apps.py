from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        # Registers the OpenAPI description of API-key authentication with drf-spectacular.
        from accounts import openapi  # noqa: F401
        from accounts.key_format import looks_like_key
        from core.audit import register_secret_detector

        # The audit log (core) redacts any string shaped like one of our keys.
        register_secret_detector(looks_like_key)
