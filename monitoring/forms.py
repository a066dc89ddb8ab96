"""Console forms of monitoring."""

from django import forms

from monitoring.models import SLO_FIELDS, SloPolicy


class SloForm(forms.ModelForm):
    class Meta:
        model = SloPolicy
        fields = list(SLO_FIELDS)
