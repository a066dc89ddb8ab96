"""Console forms for API keys and the audit filters."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from accounts.constants import MODEL_PREDICT_SCOPE_RE, ROLE_SCOPES, Role, Scope

EXPIRY_CHOICES = [
    ("", "Never"),
    ("7", "In 7 days"),
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
]


class KeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, required=False
    )
    models = forms.CharField(
        required=False,
        max_length=500,
        label="Predict on these models only",
        help_text="Comma-separated model names; each adds a predict:<model> scope.",
    )
    expires_in_days = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label="Expires")
    rate_limit = forms.CharField(
        required=False, max_length=20, help_text="e.g. 100/m; empty: your role's ceiling."
    )
    burst_limit = forms.CharField(
        required=False, max_length=20, label="Burst", help_text="A short window, e.g. 20/s."
    )
    quota = forms.CharField(
        required=False, max_length=20, help_text="e.g. 10000/d or 300000/mo; empty: none."
    )

    def __init__(self, *args, role: str, **kwargs):
        super().__init__(*args, **kwargs)
        # Offer only what the role may hold, so the form cannot even ask for more.
        allowed = ROLE_SCOPES[role]
        self.fields["scopes"].choices = [(s.value, s.label) for s in Scope if s in allowed]

    def clean(self):
        data = super().clean()
        scopes = list(data.get("scopes") or [])
        for name in filter(None, (m.strip() for m in data.get("models", "").split(","))):
            scope = f"predict:{name}"
            if not MODEL_PREDICT_SCOPE_RE.match(scope):
                self.add_error("models", f"'{name}' is not a model name.")
            scopes.append(scope)
        if not scopes:
            raise forms.ValidationError("Pick at least one scope or model.")
        data["all_scopes"] = scopes
        days = data.get("expires_in_days")
        data["expires_at"] = timezone.now() + timedelta(days=int(days)) if days else None
        return data


class KeyLimitsForm(forms.Form):
    name = forms.CharField(max_length=100)
    rate_limit = forms.CharField(required=False, max_length=20, help_text="e.g. 100/m")
    burst_limit = forms.CharField(
        required=False, max_length=20, label="Burst", help_text="e.g. 20/s"
    )
    quota = forms.CharField(required=False, max_length=20, help_text="e.g. 10000/d, 300000/mo")


OVERLAP_CHOICES = [
    ("0", "None: the old secret stops now"),
    ("1", "1 hour"),
    ("24", "24 hours"),
    ("72", "3 days"),
    ("168", "7 days"),
]


class KeyRotateForm(forms.Form):
    overlap_hours = forms.TypedChoiceField(
        choices=OVERLAP_CHOICES,
        coerce=float,
        initial="24",
        label="Keep the old secret working for",
    )


class RoleLimitsForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, widget=forms.HiddenInput)
    max_rate = forms.CharField(required=False, max_length=20, label="Max rate")
    max_burst = forms.CharField(required=False, max_length=20, label="Max burst")
    max_quota = forms.CharField(required=False, max_length=20, label="Max quota")


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=160)
    action = forms.CharField(required=False, max_length=100)
    target = forms.CharField(required=False, max_length=255)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Inclusive.",
    )

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The start date must not be after the end date.")
        return data

    def selector_kwargs(self) -> dict:
        """The audit_list arguments: whole days, the end date included."""
        data = self.cleaned_data
        tz = timezone.get_current_timezone()
        since = data.get("since")
        until = data.get("until")
        return {
            "actor": data.get("actor") or None,
            "action": data.get("action") or None,
            "target_contains": data.get("target") or None,
            "since": datetime.combine(since, time.min, tzinfo=tz) if since else None,
            "until": datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz)
            if until
            else None,
        }
