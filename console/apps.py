from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Modelgate console"

    def ready(self) -> None:
        # The directories the embedded default writes to must exist before the first upload.
        for path in (settings.VAR_DIR, settings.FILE_UPLOAD_TEMP_DIR, settings.STATIC_ROOT):
            Path(path).mkdir(parents=True, exist_ok=True)
        from console.celery import _configure_embedded_broker

        _configure_embedded_broker()
