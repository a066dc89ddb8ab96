"""The request path docs/architecture.md lists is the one a native predict walks, and it does not
grow; the docs' protocol table is the code's."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

from serving.protocols.table import REST
from serving.wsgi_front import ServingFront

from .conftest import auth

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
# Project modules a native predict enters from the WSGI entry to the model call. Lower it when
# the path gets shorter; a change that lengthens the path has to say why here and in the docs.
MAX_MODULES = 8


def _section() -> str:
    text = DOC.read_text()
    start = text.index("\n## Request path")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def _documented_modules() -> list[str]:
    return re.findall(r"^\d+\. `([\w/]+\.py)`", _section(), re.MULTILINE)


def _walk(front, environ) -> list[str]:
    """Project modules entered on this thread, in order, until the runtime's predict."""
    modules: list[str] = []
    done = False
    root = f"{ROOT}/"

    def profile(frame, event, _arg):
        nonlocal done
        if event != "call" or done:
            return
        filename = frame.f_code.co_filename
        if not filename.startswith(root) or "/.venv/" in filename or "/tests/" in filename:
            return
        module = filename[len(root) :]
        if module not in modules:
            modules.append(module)
        done = module == "serving/runtime.py" and frame.f_code.co_name == "predict"

    sys.setprofile(profile)
    try:
        front(environ, lambda status, headers, exc_info=None: None)
    finally:
        sys.setprofile(None)
    assert done, "the walk never reached the model call"
    return modules


@pytest.mark.django_db
def test_a_native_predict_walks_the_documented_modules_and_no_more(settings, deployed, predict_key):
    settings.MODELGATE_POOL_AUTOSTART = False
    front = ServingFront(lambda environ, start_response: [b""])
    body = b'{"instances": [[0.1, 0.2, 0.3, 0.4]]}'

    def environ():
        return {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/models/churn/deployments/production/predict",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "REMOTE_ADDR": "127.0.0.1",
            **auth(predict_key),
        }

    front(environ(), lambda status, headers, exc_info=None: None)  # warm: key cache, imports
    walked = _walk(front, environ())
    # On a mismatch, make docs/architecture.md's numbered list the walk (and say why it changed).
    assert walked == _documented_modules(), walked
    assert len(walked) <= MAX_MODULES, f"{len(walked)} modules: {walked}"


def test_the_docs_protocol_table_is_the_codes():
    from serving.grpc import oip_service, tfserving_service

    section = _section()
    for protocol in (*REST, oip_service.PROTOCOL, tfserving_service.PROTOCOL):
        row = f"| `{protocol.name}` | `{protocol.predict}` |"
        assert row in section, row
