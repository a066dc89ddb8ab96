"""Every script and stylesheet a console page links to exists among the static files (a wrong
path only shows in the browser: htmx silently missing means no live refresh)."""

import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

PAGES = [
    "/",
    "/models/",
    "/deployments/",
    "/accounts/keys/",
    "/accounts/audit/",
    "/deployments/batch-jobs/",
    "/deployments/workers/",
]


def _static_paths(html: str) -> set[str]:
    prefix = re.escape(settings.STATIC_URL)
    return set(re.findall(rf'(?:src|href)="{prefix}([^"?#]+)', html))


@pytest.mark.django_db
def test_every_linked_static_file_exists(client, charlie):
    client.force_login(charlie)
    seen: set[str] = set()
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        seen |= _static_paths(response.content.decode())
    assert "django_htmx/htmx-2.min.js" in seen and "css/modelgate.css" in seen
    missing = sorted(path for path in seen if finders.find(path) is None)
    assert missing == []
