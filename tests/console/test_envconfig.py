"""The strict environment readers: a value that does not parse stops start-up, naming the
variable and the value; nothing reads a typo as a default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from console import envconfig

ROOT = Path(__file__).resolve().parents[2]
NAME = "MODELGATE_TEST_ENVCONFIG_VALUE"


@pytest.mark.parametrize("raw", ["ture", "2", "enabled"])
def test_a_bad_boolean_is_refused_with_its_name_and_value(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured, match=rf"{NAME} must be a boolean .*not '{raw}'"):
        envconfig.envbool(NAME, True)


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("Yes", True), (" on ", True), ("0", False), ("OFF", False)]
)
def test_every_spelling_of_a_boolean_reads(monkeypatch, raw, expected):
    monkeypatch.setenv(NAME, raw)
    assert envconfig.envbool(NAME, not expected) is expected


@pytest.mark.parametrize("raw", ["ten", "1.5", "1e3"])
def test_a_bad_whole_number_is_refused_with_its_name_and_value(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured, match=rf"{NAME} must be a whole number, not '{raw}'"):
        envconfig.envint(NAME, 3)


@pytest.mark.parametrize("raw", ["fast", "nan", "inf", "0,5"])
def test_a_bad_number_is_refused_with_its_name_and_value(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(ImproperlyConfigured, match=rf"{NAME} must be a number, not '{raw}'"):
        envconfig.envfloat(NAME, 0.5)


def test_a_number_out_of_its_range_is_refused(monkeypatch):
    monkeypatch.setenv(NAME, "1.5")
    with pytest.raises(ImproperlyConfigured, match=rf"{NAME} must be at most 1.0, not '1.5'"):
        envconfig.envfloat(NAME, 0.5, minimum=0.0, maximum=1.0)
    monkeypatch.setenv(NAME, "-1")
    with pytest.raises(ImproperlyConfigured, match=rf"{NAME} must be at least 0, not '-1'"):
        envconfig.envint(NAME, 2, minimum=0)


def test_a_value_outside_its_choices_is_refused(monkeypatch):
    monkeypatch.setenv(NAME, "xml")
    with pytest.raises(ImproperlyConfigured, match=rf"{NAME} must be one of 'plain', 'json'"):
        envconfig.envchoice(NAME, "plain", ("plain", "json"))


def test_unset_or_empty_numbers_take_the_default_and_empty_strings_stay_empty(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    assert envconfig.envint(NAME, 7) == 7
    monkeypatch.setenv(NAME, " ")
    assert envconfig.envfloat(NAME, 0.25) == 0.25
    assert envconfig.envbool(NAME, True) is True
    monkeypatch.setenv(NAME, "")
    assert envconfig.envstr(NAME, "default") == ""  # e.g. MODELGATE_CSP="" sends no policy


def test_every_read_is_recorded_with_its_default(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    envconfig.envfloat(NAME, 0.125)
    assert envconfig.DECLARED[NAME] == 0.125


def test_a_secret_comes_from_the_file_its_name_file_points_to(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-the-file\n")
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))
    assert envconfig.envsecret(NAME) == "from-the-file"
    monkeypatch.setenv(f"{NAME}_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match=rf"{NAME}_FILE names .*missing"):
        envconfig.envsecret(NAME)


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("MODELGATE_XLA", "ture", "MODELGATE_XLA must be a boolean"),
        ("MODELGATE_TF_INTRA_OP", "many", "MODELGATE_TF_INTRA_OP must be a whole number"),
        ("MODELGATE_PAYLOAD_SAMPLE_RATE", "5%", "MODELGATE_PAYLOAD_SAMPLE_RATE must be a number"),
        ("MODELGATE_LOG_FORMAT", "xml", "MODELGATE_LOG_FORMAT must be one of"),
    ],
)
def test_start_up_fails_on_a_mistyped_setting(name, raw, message):
    """The whole chain: a typo in a real variable stops the settings import with its name."""
    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "example.com",
        "MODELGATE_DEV_ENV": "",
        name: raw,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import console.settings"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr
    assert f"not {raw!r}" in result.stderr
