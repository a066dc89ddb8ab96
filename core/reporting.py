"""Error reports (DEBUG pages, admin mails) that never show an API key or a session cookie."""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter misses `Authorization` (Bearer keys ride there): hide it too."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CSRF|SESSION", flags=re.I
    )
