"""Console forms of drift, feedback and experiments."""

from django import forms

from monitoring.models import DRIFT_POLICY_FIELDS, DriftPolicy, Experiment


class DriftPolicyForm(forms.ModelForm):
    class Meta:
        model = DriftPolicy
        fields = list(DRIFT_POLICY_FIELDS)


class ExperimentForm(forms.ModelForm):
    class Meta:
        model = Experiment
        fields = [
            "name",
            "control_version",
            "treatment_version",
            "metric",
            "alpha",
            "power",
            "mde",
            "baseline",
        ]


class FeedbackBulkForm(forms.Form):
    labels = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="One `prediction_id,label` per line (a `prediction_id,label` header is fine).",
    )
