"""Console forms of drift, feedback and experiments."""

from django import forms

from monitoring.models import DRIFT_POLICY_FIELDS, DriftPolicy, Experiment


class DriftPolicyForm(forms.ModelForm):
    class Meta:
        model = DriftPolicy
        fields = list(DRIFT_POLICY_FIELDS)


class ExperimentForm(forms.ModelForm):
    """Control and treatment are picked from the versions serving in the deployment."""

    control_version = forms.TypedChoiceField(coerce=int)
    treatment_version = forms.TypedChoiceField(coerce=int)

    def __init__(self, *args, deployment, **kwargs):
        serving = [v for v in deployment.variants.select_related("version") if v.role != "shadow"]
        choices = [
            (v.version.number, f"v{v.version.number} ({v.weight}% {v.role})") for v in serving
        ]
        initial = kwargs.setdefault("initial", {})
        for field, role in (("control_version", "primary"), ("treatment_version", "candidate")):
            initial.setdefault(
                field, next((v.version.number for v in serving if v.role == role), None)
            )
        super().__init__(*args, **kwargs)
        for field in ("control_version", "treatment_version"):
            self.fields[field].choices = choices
            self.fields[field].help_text = "A version serving in this deployment's split."

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
