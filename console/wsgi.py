"""WSGI entry point (`granian --interface wsgi console.wsgi:application`, or gunicorn).

Prediction protocols are served by the lean front before Django's handler; everything else is
the Django application."""

import os

from django.core.wsgi import get_wsgi_application

from console import devenv

devenv.load()  # `make run`'s var/dev.env (absent in production)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

django_application = get_wsgi_application()

from serving.wsgi_front import ServingFront  # noqa: E402  (needs Django set up first)

application = ServingFront(django_application)
