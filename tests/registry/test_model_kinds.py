"""Every kind of model a Keras user saves registers with the signature it was built with."""

from __future__ import annotations

import pytest

from tests.support import models


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", models.FORMATS)
@pytest.mark.parametrize("kind", sorted(models.KINDS))
def test_it_reads_the_signature_of_every_model_kind(alice, model_kind_path, kind, fmt):
    from registry.services import version_register

    upload, filename = models.upload_file(model_kind_path(kind, fmt), fmt)
    version = version_register(model_name=kind, upload=upload, filename=filename, actor=alice)

    assert version.format == fmt
    read = {t["name"]: (t["dtype"], t["shape"]) for t in version.signature["inputs"]}
    assert read == models.KINDS[kind].inputs
    assert len(version.signature["outputs"]) == (2 if kind == "multi" else 1)
