"""Django views for the prediction protocols: they only hand the request to the front's
`dispatch`, which answers as the front does."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from serving import inference
from serving.pool import get_pool
from serving.replies import JSON
from serving.wsgi_front import REQUEST_ID, dispatch


@csrf_exempt
def serve(request, **_kwargs):
    if settings.MODELGATE_POOL_AUTOSTART:
        get_pool().ensure_started()
    body = request.body
    # Behind the front REQUEST_ID holds this request's id and the front sets X-Request-Id;
    # without it (Django's test client) the id is made and answered here.
    fronted = REQUEST_ID.get()
    request_id = fronted or inference.new_request_id()
    reply = dispatch(request.method, request.path_info, request.META, lambda _n: body, request_id)
    if reply is None:
        return HttpResponse(b'{"error": "not found"}', status=404, content_type=JSON)
    response = HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
    for name, value in reply.headers:
        response[name] = value
    if not fronted:
        response["X-Request-Id"] = request_id
    return response
