"""Console forms of the registry; they only parse, the services check and write."""

from __future__ import annotations

from django import forms

from registry import selectors
from registry.constants import Task


class VersionUploadForm(forms.Form):
    model_name = forms.CharField(
        label="Model name",
        max_length=100,
        help_text="Lowercase letters, digits, '-' and '_'. A new name creates the model.",
    )
    artifact = forms.FileField(
        help_text="A .keras file, or a SavedModel directory packed as .zip, .tar.gz or .tgz."
    )
    environment = forms.ModelChoiceField(
        queryset=None, required=False, to_field_name="name", empty_label="(none)"
    )
    holdout_dataset = forms.ModelChoiceField(queryset=None, required=False, empty_label="(none)")
    reference_dataset = forms.ModelChoiceField(queryset=None, required=False, empty_label="(none)")
    task = forms.ChoiceField(
        choices=[("", "(keep / other)"), *Task.choices],
        required=False,
        help_text="Used when this registration creates the model.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    source_commit = forms.CharField(required=False, max_length=100)
    run_url = forms.URLField(label="Run URL", required=False, max_length=500, assume_scheme="https")
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. baseline,nightly")
    training_metrics = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='JSON object, e.g. {"accuracy": 0.93}',
    )
    approve_host_ops = forms.BooleanField(
        label="Approve host ops (admins only)",
        required=False,
        help_text="Register a SavedModel whose graph reads or writes files, opens sockets or "
        "calls Python anyway.",
    )
    approval_reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why these ops are safe (audited).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].queryset = selectors.environment_list()
        datasets = selectors.dataset_list()
        self.fields["holdout_dataset"].queryset = datasets
        self.fields["reference_dataset"].queryset = datasets


class EnvironmentForm(forms.Form):
    name = forms.CharField(max_length=100)
    python = forms.CharField(max_length=20, initial="3.11")
    tensorflow = forms.CharField(max_length=20, initial="2.21")
    cuda = forms.CharField(max_length=20, required=False)
    cudnn = forms.CharField(max_length=20, required=False)
    base_image = forms.CharField(
        max_length=300, help_text="Pinned by digest: name@sha256:<64 hex digits>"
    )
    env_vars = forms.CharField(
        label="Environment variables",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One NAME=value per line.",
    )
    cpu_limit = forms.FloatField(label="CPU limit (cores)", required=False, min_value=0)
    memory_limit = forms.CharField(max_length=20, required=False, help_text="e.g. 4Gi")
    gpu_count = forms.IntegerField(initial=0, min_value=0, max_value=16)
    extra_packages = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="pip requirements separated by spaces or lines, e.g. numpy==2.1.3",
    )

    def clean_env_vars(self) -> dict[str, str]:
        result = {}
        for number, line in enumerate(self.cleaned_data["env_vars"].splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep:
                raise forms.ValidationError(f"line {number} is not NAME=value")
            result[name.strip()] = value.strip()
        return result

    def clean_extra_packages(self) -> list[str]:
        return self.cleaned_data["extra_packages"].split()


class DatasetForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="Defaults to the file name.")
    file = forms.FileField(help_text=".npz (arrays x/y), .csv (header row) or .parquet")
    label_column = forms.CharField(max_length=100, required=False)
