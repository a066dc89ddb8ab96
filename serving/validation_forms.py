"""Console forms of validation policies and batch jobs."""

from __future__ import annotations

from django import forms

from accounts.errors import InvalidInput
from serving.validation.policy import SETTINGS, clean_value


class BatchJobForm(forms.Form):
    model = forms.SlugField(max_length=100)
    version = forms.IntegerField(min_value=1)
    dataset = forms.IntegerField(min_value=1, help_text="Dataset id (see Datasets)")
    batch_size = forms.IntegerField(min_value=1, max_value=65536, initial=4096)


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
