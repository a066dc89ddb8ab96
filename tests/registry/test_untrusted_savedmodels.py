"""A SavedModel is code: graphs that reach the host are refused at registration, unless an admin
approves them with a reason (audited). The attack models are real SavedModels built here."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from core.models import AuditEntry
from registry.graph_scan import scan_savedmodel
from registry.models import ModelVersion
from tests.registry.conftest import assert_nothing_left, tar_of

URL = "/api/v1/models/evil/versions"
REASON = "reads its vocabulary from a file we ship inside the image"


def _export(directory: Path, serve) -> Path:
    import tensorflow as tf

    module = tf.Module()
    module.serve = tf.function(serve, input_signature=[tf.TensorSpec([None, 4], tf.float32)])
    tf.saved_model.save(module, str(directory), signatures={"serving_default": module.serve})
    return directory


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    """A server file the attacker wants to read, and where the writer would drop its file."""
    root = tmp_path_factory.mktemp("server")
    (root / "secret.txt").write_text("the server's secret")
    return root


@pytest.fixture(scope="module")
def writer_model(tmp_path_factory, planted) -> Path:
    import tensorflow as tf

    target = str(planted / "written-by-model.txt")

    def serve(x):
        tf.io.write_file(target, tf.strings.as_string(x[0, 0]))
        return {"y": x * 2.0}

    return _export(tmp_path_factory.mktemp("models") / "writer", serve)


@pytest.fixture(scope="module")
def reader_model(tmp_path_factory, planted) -> Path:
    import tensorflow as tf

    source = str(planted / "secret.txt")

    def serve(x):
        content = tf.io.read_file(source)
        return {"y": x * 2.0, "leak": tf.fill([tf.shape(x)[0]], content)}

    return _export(tmp_path_factory.mktemp("models") / "reader", serve)


def _post(client, auth, model_dir: Path, **fields):
    upload = SimpleUploadedFile("m.tar.gz", tar_of(model_dir), "application/gzip")
    return client.post(URL, {"artifact": upload, **fields}, **auth)


# --- the scanner, on real graphs ----------------------------------------------------------------


def test_it_finds_write_and_read_file_in_the_signature(writer_model, reader_model):
    assert [f.op for f in scan_savedmodel(writer_model)] == ["WriteFile"]
    assert [f.op for f in scan_savedmodel(reader_model)] == ["ReadFile"]


def test_it_finds_host_ops_nested_in_control_flow_and_python_callbacks(tmp_path, planted):
    import tensorflow as tf

    target = str(planted / "from-a-branch.txt")

    def branch_writes(x):
        def write():
            tf.io.write_file(target, "x")
            return x

        return {"y": tf.cond(tf.reduce_sum(x) > 0, write, lambda: x * 1.0)}

    def python_callback(x):
        return {"y": tf.py_function(lambda t: t * 2, [x], tf.float32)}

    def lists_files(x):
        found = tf.io.matching_files(str(planted / "*"))
        return {"y": x, "n": tf.fill([tf.shape(x)[0]], tf.size(found))}

    assert {f.op for f in scan_savedmodel(_export(tmp_path / "cond", branch_writes))} == {
        "WriteFile"
    }
    assert {f.op for f in scan_savedmodel(_export(tmp_path / "py", python_callback))} == {
        "EagerPyFunc"
    }
    assert {f.op for f in scan_savedmodel(_export(tmp_path / "ls", lists_files))} == {
        "MatchingFiles"
    }


def test_it_refuses_checkpoint_ops_a_signature_can_reach(tmp_path, planted):
    import tensorflow as tf

    prefix = str(planted / "dumped")

    def saves(x):
        tf.raw_ops.SaveV2(prefix=prefix, tensor_names=["x"], shape_and_slices=[""], tensors=[x])
        return {"y": x}

    findings = scan_savedmodel(_export(tmp_path / "saves", saves))
    assert [f.op for f in findings] == ["SaveV2"]
    assert findings[0].where.startswith("function __inference_saves_")


def test_it_passes_an_ordinary_model_with_its_saver(savedmodel_dir):
    # The exported Keras model has SaveV2/RestoreV2 in its saver functions: those are fine.
    assert scan_savedmodel(savedmodel_dir) == []


# --- registration through the API ---------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_a_model_that_writes_a_file(client, deploy_auth, writer_model, planted):
    response = _post(client, deploy_auth, writer_model)
    assert response.status_code == 400
    assert response.json()["code"] == "host_ops"
    assert "WriteFile (in function __inference_serve_" in response.json()["error"]
    assert_nothing_left()
    assert not (planted / "written-by-model.txt").exists()


@pytest.mark.django_db
def test_it_refuses_a_model_that_reads_a_server_file(client, deploy_auth, reader_model):
    response = _post(client, deploy_auth, reader_model)
    assert response.status_code == 400
    assert "ReadFile" in response.json()["error"]
    assert_nothing_left()


@pytest.mark.django_db
def test_it_refuses_a_deployers_approval(client, deploy_auth, reader_model):
    response = _post(
        client, deploy_auth, reader_model, approve_host_ops="true", approval_reason=REASON
    )
    assert response.status_code == 403
    assert response.json()["code"] == "host_ops_approval_not_allowed"
    assert_nothing_left()


@pytest.mark.django_db
def test_it_refuses_an_admins_key_without_the_admin_scope(client, charlie, make_key, reader_model):
    auth = make_key(charlie, ["read", "deploy"])
    response = _post(client, auth, reader_model, approve_host_ops="true", approval_reason=REASON)
    assert response.status_code == 403
    assert_nothing_left()


@pytest.mark.django_db
def test_it_needs_a_written_reason(client, charlie, make_key, reader_model):
    auth = make_key(charlie, ["read", "deploy", "admin"])
    response = _post(client, auth, reader_model, approve_host_ops="true", approval_reason="ok")
    assert response.status_code == 400
    assert response.json()["code"] == "host_ops_reason_required"
    assert_nothing_left()


@pytest.mark.django_db
def test_it_registers_an_admins_approved_model_and_audits_it(
    client, charlie, make_key, reader_model
):
    auth = make_key(charlie, ["read", "deploy", "admin"])
    response = _post(client, auth, reader_model, approve_host_ops="true", approval_reason=REASON)
    assert response.status_code == 201, response.content
    version = ModelVersion.objects.get()
    entry = AuditEntry.objects.get(action="model_version.host_ops_approved")
    assert entry.actor == charlie and entry.target == str(version)
    assert entry.after["reason"] == REASON
    assert entry.after["artifact_sha256"] == version.artifact.sha256
    assert [op.split(" ")[0] for op in entry.after["ops"]] == ["ReadFile"]


@pytest.mark.django_db
def test_it_audits_nothing_extra_for_a_clean_model(client, charlie, make_key, savedmodel_dir):
    auth = make_key(charlie, ["read", "deploy", "admin"])
    response = _post(client, auth, savedmodel_dir, approve_host_ops="true", approval_reason=REASON)
    assert response.status_code == 201
    assert not AuditEntry.objects.filter(action="model_version.host_ops_approved").exists()


# --- the console and the CLI --------------------------------------------------------------------


def _console_post(client, model_dir: Path, **fields):
    upload = SimpleUploadedFile("m.tar.gz", tar_of(model_dir), "application/gzip")
    return client.post("/models/register/", {"model_name": "evil", "artifact": upload, **fields})


@pytest.mark.django_db
def test_it_shows_the_refusal_in_the_console_and_hides_approval_from_deployers(
    client, alice, writer_model
):
    client.force_login(alice)
    assert b"approve_host_ops" not in client.get("/models/register/").content
    response = _console_post(client, writer_model, approve_host_ops="on", approval_reason=REASON)
    assert response.status_code == 400
    assert b"WriteFile" in response.content
    assert_nothing_left()


@pytest.mark.django_db
def test_it_lets_an_admin_approve_in_the_console(client, charlie, reader_model):
    client.force_login(charlie)
    assert b"approve_host_ops" in client.get("/models/register/").content
    response = _console_post(client, reader_model, approve_host_ops="on", approval_reason=REASON)
    assert response.status_code == 302
    assert AuditEntry.objects.get(action="model_version.host_ops_approved").actor == charlie


@pytest.mark.django_db
def test_it_refuses_and_approves_on_the_command_line(alice, charlie, writer_model):
    with pytest.raises(CommandError, match="WriteFile"):
        call_command("register_model", str(writer_model), "--name", "evil", stdout=StringIO())
    with pytest.raises(CommandError, match="only an admin"):
        call_command(
            "register_model", str(writer_model), "--name", "evil", "--user", "alice",
            "--approve-host-ops", REASON, stdout=StringIO(),
        )  # fmt: skip
    assert_nothing_left()
    call_command(
        "register_model", str(writer_model), "--name", "evil", "--user", "charlie",
        "--approve-host-ops", REASON, stdout=StringIO(),
    )  # fmt: skip
    assert ModelVersion.objects.get().created_by == charlie
    entry = AuditEntry.objects.get(action="model_version.host_ops_approved")
    assert entry.after["reason"] == REASON


# --- loading: versions registered before the scan ------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_to_load_an_unapproved_version_registered_before_the_scan(
    client, charlie, make_key, writer_model, planted
):
    from core.errors import Unavailable
    from registry import artifacts

    auth = make_key(charlie, ["read", "deploy", "admin"])
    response = _post(client, auth, writer_model, approve_host_ops="true", approval_reason=REASON)
    assert response.status_code == 201
    version = ModelVersion.objects.get()
    artifacts._scanned.clear()
    assert (artifacts.artifact_local_path(version.artifact) / "saved_model.pb").is_file()

    # As if registered before registration scanned: no approval names these bytes.
    AuditEntry.objects.filter(action="model_version.host_ops_approved").delete()
    artifacts._scanned.clear()
    with pytest.raises(Unavailable, match="WriteFile"):
        artifacts.artifact_local_path(version.artifact)
    assert not (planted / "written-by-model.txt").exists()
