"""TF Serving v1 and Open Inference Protocol v2 routes: one entry, the gateway routes inside."""

from django.urls import re_path

from serving import protocol_views

urlpatterns = [
    re_path(r"^v1/models(?:/.*)?$", protocol_views.serve, name="tfserving"),
    re_path(r"^v2(?:/.*)?$", protocol_views.serve, name="oip"),
]
