from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        # Registers the OpenAPI description of API-key authentication with drf-spectacular.
        from accounts import schema  # noqa: F401
