"""Form pieces every console uses: a DomainError on a form (on its field when the form has it,
else on top), a reason field and form, and an empty form that carries a refusal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import DomainError


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def date_field(label: Any, **kwargs: Any) -> forms.DateField:
    """A date typed or picked as YYYY-MM-DD (the browser's date input)."""
    return forms.DateField(
        label=label,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
        **kwargs,
    )


def reason_field(label: Any = None, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        **kwargs,
    )


class ReasonForm(forms.Form):
    """Refuse or cancel with a reason; ``label`` and ``help_text`` say who reads it."""

    reason = reason_field()
    wide_fields = ("reason",)

    def __init__(self, *args: Any, label: Any = None, help_text: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label is not None:
            self.fields["reason"].label = label
        if help_text is not None:
            self.fields["reason"].help_text = help_text


class ActionForm(forms.Form):
    """An action without fields (approve): bound and empty, it carries the service's refusal."""

    def __init__(self) -> None:
        super().__init__({})
        self.full_clean()
