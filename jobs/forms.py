"""Console forms of validation policies and batch jobs."""

from __future__ import annotations

from django import forms

from core.errors import InvalidInput
from jobs.validation.policy import SETTINGS, clean_value
from registry.models import ModelVersion
from registry.selectors import dataset_list


class BatchJobForm(forms.Form):
    """A version and a dataset picked from lists; cleaned into model, version and dataset id."""

    version = forms.ChoiceField(label="Model version")
    dataset = forms.TypedChoiceField(coerce=int, help_text="From Datasets (name, rows, id)")
    batch_size = forms.IntegerField(min_value=1, max_value=65536, initial=4096)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        versions = (
            ModelVersion.objects.exclude(state="archived")
            .select_related("model")
            .order_by("model__name", "-number")
        )
        self.fields["version"].choices = [("", "choose…")] + [
            (f"{v.model.name}:{v.number}", f"{v.model.name} v{v.number} ({v.state})")
            for v in versions
        ]
        self.fields["dataset"].choices = [("", "choose…")] + [
            (d.pk, f"{d.name} · {d.row_count} rows · #{d.pk}") for d in dataset_list()
        ]

    def clean(self):
        cleaned = super().clean()
        picked = cleaned.get("version")
        if picked:
            cleaned["model"], number = picked.rsplit(":", 1)
            cleaned["version"] = int(number)
        return cleaned


def _field(name, setting) -> forms.Field:
    common = {"required": False, "help_text": setting.help, "label": name.replace("_", " ")}
    if setting.kind == "bool":
        return forms.BooleanField(**common)
    if setting.kind == "choice":
        return forms.ChoiceField(choices=[(c, c) for c in setting.choices], **common)
    if setting.kind == "field_list":
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in setting.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    return forms.CharField(**common)


class PolicyForm(forms.Form):
    """One field per policy setting; every value goes through the policy's own checks."""

    def __init__(self, *args, initial=None, **kwargs):
        initial = {
            k: " ".join(map(str, v)) if SETTINGS[k].kind == "int_list" else v
            for k, v in (initial or {}).items()
        }
        super().__init__(*args, initial=initial, **kwargs)
        for name, setting in SETTINGS.items():
            self.fields[name] = _field(name, setting)

    def clean(self):
        cleaned = super().clean()
        for name in SETTINGS:
            try:
                cleaned[name] = clean_value(name, cleaned.get(name))
            except InvalidInput as exc:
                self.add_error(name, exc.message)
        return cleaned


def policy_form(data=None, *, initial=None) -> PolicyForm:
    return PolicyForm(data, initial=initial)
