from django import forms
from django.utils.translation import gettext_lazy as _

from alerts import specs
from alerts.models import Language
from alerts.services.support import RESOLUTION_MAX


class SupportCloseForm(forms.Form):
    resolution = forms.CharField(
        label=_("Resolution"),
        max_length=RESOLUTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("How the request was resolved: the commune's clerk reads it."),
    )


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of my e-mail"), choices=Language.choices)
    email_on = forms.MultipleChoiceField(
        label=_("Send me an e-mail about"),
        choices=specs.RULE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Unticked rules still show under the bell; only their e-mail stops."),
    )

    def email_off(self) -> list[str]:
        return [rule for rule in specs.codes() if rule not in self.cleaned_data["email_on"]]
