"""The prediction protocols' routes, read from the protocol table (serving/protocols/table.py):
one entry for every path a protocol owns; the gateway routes inside."""

from django.urls import re_path

from serving import protocol_views
from serving.protocols.table import REST

urlpatterns = [
    re_path(f"^{protocol.paths}$", protocol_views.serve, name=protocol.name) for protocol in REST
]
