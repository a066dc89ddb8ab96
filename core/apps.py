from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The bottom layer: errors, parsers, schema and chart helpers, the audit log.

    Every app imports it; it imports no app."""

    name = "core"
