"""Console forms of the serving app."""

from django import forms

from serving.models import Deployment


class DeployForm(forms.Form):
    deployment = forms.SlugField(
        initial="production", max_length=63, help_text="production, staging, or any name"
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    override = forms.BooleanField(
        required=False, help_text="Admins only: deploy despite the promotion gate"
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
