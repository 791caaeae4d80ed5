"""Forms of the points console: a center and a period, the catalogue and its stock, redeeming at
the desk, refunds and adjustments. They parse and label; the services decide, and their refusals
are put back on the field they name (``show_error``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from livingroom.core.errors import DomainError
from livingroom.core.forms import date_field, reason_field
from livingroom.points.models import MAX_POINTS, MAX_QUANTITY, MAX_STOCK, Reward
from livingroom.points.services import RewardDraft

Choices = Sequence[tuple[Any, Any]]


def points_field(label: Any, *, minimum: int = 1, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=minimum,
        max_value=MAX_POINTS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        **kwargs,
    )


def show_error(form: forms.BaseForm, exc: DomainError, aliases: dict[str, str] | None = None) -> int:
    """Puts a service's refusal on the field it names (under the form's names), else on top;
    returns the status the page answers with (400 where the service said 404 about a field)."""
    field = (aliases or {}).get(exc.field or "", exc.field or "")
    form.add_error(field if field in form.fields else None, exc.message)
    return 400 if exc.status == 404 else exc.status


def _choices(field: forms.Field, choices: Choices) -> None:
    cast(forms.ChoiceField, field).choices = list(choices)


# --- a center and a period ----------------------------------------------------------------------


class PeriodForm(forms.Form):
    """``?center=&from=&to=``: ``from`` is a Python keyword, so the dates are added by name."""

    center = forms.TypedChoiceField(label=_("Center"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, centers: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = date_field(_("From"), required=False)
        self.fields["to"] = date_field(_("Until"), required=False)
        _choices(self.fields["center"], centers)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("from"), data.get("to")
        if start and end and end < start:
            self.add_error("to", _("The end date is before the start date."))
        if start and end and (end - start).days > 366 * 2:
            self.add_error("to", _("Choose at most two years."))
        return data


# --- the catalogue ------------------------------------------------------------------------------


class RewardForm(forms.Form):
    wide_fields = ("description",)

    kind = forms.ChoiceField(label=_("Kind"), choices=Reward.Kind.choices)
    name = forms.CharField(label=pgettext_lazy("reward", "Name"), max_length=80)
    price_points = points_field(_("Price in points"))
    stock = forms.IntegerField(
        label=_("Opening stock"),
        min_value=0,
        max_value=MAX_STOCK,
        initial=0,
        help_text=_("Vouchers too: how many may be handed out."),
    )
    description = forms.CharField(
        label=pgettext_lazy("reward", "Description"), max_length=300, required=False
    )
    at_desk = forms.BooleanField(label=_("At the desk"), required=False, initial=True)
    at_vending = forms.BooleanField(
        label=_("In the vending machines"), required=False, help_text=_("Drinks only.")
    )

    def draft(self, center_id: int) -> RewardDraft:
        d = self.cleaned_data
        return RewardDraft(
            center_id=center_id,
            kind=d["kind"],
            name=d["name"],
            price_points=d["price_points"],
            description=d.get("description") or "",
            at_desk=bool(d.get("at_desk")),
            at_vending=bool(d.get("at_vending")),
            stock=d["stock"] if d.get("stock") is not None else 0,
        )


class RewardEditForm(forms.Form):
    price_points = points_field(_("Price in points"), help_text=_("Earlier redemptions keep their price."))
    description = forms.CharField(
        label=pgettext_lazy("reward", "Description"), max_length=300, required=False
    )
    is_active = forms.BooleanField(label=_("On offer"), required=False)


class RestockForm(forms.Form):
    quantity = forms.IntegerField(label=_("Units added"), min_value=1, max_value=MAX_STOCK)
    reason = reason_field(_("Note"), required=False, help_text=_("A delivery note number, a supplier."))


class CountForm(forms.Form):
    counted = forms.IntegerField(
        label=_("Units counted"),
        min_value=0,
        max_value=MAX_STOCK,
        help_text=_("The difference to the books is recorded as a stock count correction."),
    )
    reason = reason_field(_("Reason for the difference"))


# --- the desk -----------------------------------------------------------------------------------


class DeskForm(forms.Form):
    wide_fields = ("token",)

    token = forms.CharField(
        label=_("Pass code"),
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
        help_text=_("Scan the resident's pass, or type the code under it."),
    )
    reward = forms.TypedChoiceField(label=_("Reward"), coerce=int)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1)

    def __init__(self, *args: Any, rewards: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["reward"], [("", _("Choose a reward")), *rewards])


class RefundForm(forms.Form):
    redemption = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = reason_field()


class AdjustForm(forms.Form):
    resident = forms.IntegerField(
        label=_("Resident No."),
        min_value=1,
        help_text=_("The number shown in the ledger next to the resident."),
    )
    center = forms.TypedChoiceField(label=_("Center"), coerce=int)
    amount = forms.IntegerField(
        label=_("Points (+ to add, − to take)"),
        min_value=-MAX_POINTS,
        max_value=MAX_POINTS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    reason = reason_field(help_text=_("Kept in the ledger and shown to the resident."))

    def __init__(self, *args: Any, centers: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["center"], centers)
        if len(centers) == 1:
            self.fields["center"].initial = centers[0][0]

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("Give a number of points other than 0."))
        return int(amount)
