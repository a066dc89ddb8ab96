"""The project's URLs plus monitoring's, until console/urls.py includes them itself."""

from django.urls import NoReverseMatch, include, path, reverse

from console.urls import urlpatterns as project_urlpatterns
from monitoring import metrics_endpoint


def _wired(name: str, *args) -> bool:
    try:
        reverse(name, urlconf="console.urls", args=args)
        return True
    except NoReverseMatch:
        return False


urlpatterns = list(project_urlpatterns)
if not _wired("monitoring:prediction"):
    urlpatterns.insert(0, path("monitoring/", include("monitoring.urls")))
if not _wired("prediction-detail", "x"):
    urlpatterns.insert(0, path("api/v1/", include("monitoring.api_urls")))
if not _wired("metrics"):
    urlpatterns.insert(0, path("metrics", metrics_endpoint.metrics, name="metrics"))
