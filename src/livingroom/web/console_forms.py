"""The audit log's filter (``?from=&to=&action=&actor=&result=``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from livingroom.core.forms import date_field


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Event starts with"), max_length=100, required=False)
    actor = forms.CharField(label=_("Who starts with"), max_length=150, required=False)
    result = forms.ChoiceField(
        label=_("Result"),
        required=False,
        choices=[("", _("Any")), ("ok", _("Done")), ("failed", _("Failed")), ("refused", _("Refused"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = date_field(_("From"), required=False)
        self.fields["to"] = date_field(_("Until"), required=False)
        self.order_fields(["from", "to", "action", "actor", "result"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("from"), data.get("to")
        if start and end and end < start:
            self.add_error("to", _("The end date is before the start date."))
        return data
