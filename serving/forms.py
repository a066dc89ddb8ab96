"""Console forms of the serving app."""

from django import forms

from serving.models import Deployment

CONSOLE_WAIT_SECONDS = 20  # the deploy form's "wait" holds a web thread (the API may wait longer)


class DeployForm(forms.Form):
    """Deploy to an existing deployment, picked from a list: a typo cannot create a new one."""

    deployment = forms.ChoiceField(
        help_text="Create a new deployment first if it is not listed.",
        error_messages={
            "invalid_choice": "%(value)s is not a deployment of this model; create it first."
        },
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    override = forms.BooleanField(
        required=False, help_text="Admins only: deploy despite the promotion gate"
    )
    wait = forms.BooleanField(
        required=False,
        label="Wait until every serving replica serves it",
        help_text=f"Up to {CONSOLE_WAIT_SECONDS} s; then the deployment page follows the rollout "
        "live.",
    )


def deploy_form(names: list[str], data=None) -> DeployForm:
    form = DeployForm(data, initial={"deployment": "production" if "production" in names else ""})
    form.fields["deployment"].choices = [(n, n) for n in names]
    return form


class DeploymentCreateForm(forms.Form):
    name = forms.SlugField(
        max_length=63,
        label="New deployment",
        help_text="Lower-case letters, digits, '-' and '_'; it serves nothing until a deploy.",
    )


class RollbackForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    to_event = forms.IntegerField(required=False, widget=forms.HiddenInput)


class StateAtForm(forms.Form):
    at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
        help_text="UTC",
    )


class ConfigForm(forms.ModelForm):
    class Meta:
        model = Deployment
        fields = [
            "max_batch_size",
            "max_delay_ms",
            "max_queue_rows",
            "max_request_rows",
            "cache_ttl_seconds",
        ]
