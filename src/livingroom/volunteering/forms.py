"""Forms of the resident volunteering pages: registering (with consent), asking for a correction
of a record, issuing a certificate. The activity list's center filter is the rewards page's.

The forms only parse; the services decide (consent, minutes within the shift, the period) and
their refusals are put back on the form with ``core.forms.add_domain_error``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from livingroom.core.forms import date_field
from livingroom.points.forms import CenterFilterForm
from livingroom.volunteering.models import MAX_SHIFT_MINUTES

__all__ = ["CenterFilterForm", "CertificateForm", "CorrectionForm", "RegisterForm"]

Choices = Sequence[tuple[Any, Any]]


class RegisterForm(forms.Form):
    """Registering as a volunteer. Consent is not ``required`` here: the service refuses without
    it (``consent_required``) and the page shows that refusal on the box."""

    skills = forms.CharField(
        label=_("Skills (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. first aid, photography")}),
        help_text=_("Organisers may ask you for an activity that needs them."),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree to volunteer under the center's rules and to my data being used as explained above."
        ),
        required=False,
    )


class CorrectionForm(forms.Form):
    """Asking for the hours of a shift served to be corrected (or recorded)."""

    signup = forms.TypedChoiceField(label=_("Shift"), coerce=int)
    minutes = forms.IntegerField(
        label=_("Minutes actually served"),
        min_value=1,
        max_value=MAX_SHIFT_MINUTES,
        help_text=_("For example 150 for two and a half hours; at most the length of the shift."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label=_("Why the record should change"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What happened, and who can confirm it (the organiser, another volunteer)."),
    )

    def __init__(self, *args: Any, signups: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["signup"])
        field.choices = [("", _("Choose a shift you served")), *signups]


class CertificateForm(forms.Form):
    """A certificate of the confirmed hours in a period (all of them when both dates are empty)."""

    period_start = date_field(_("From (optional)"), required=False)
    period_end = date_field(_("To (optional)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: dt.date | None = data.get("period_start")
        end: dt.date | None = data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        return data
