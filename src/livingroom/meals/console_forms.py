"""Forms of the meals console: set meals, tiers with their price split, a day's menu, refunds,
the counter, budgets and claim periods. Money is typed in yuan with two decimals and handed to the
services in fen; the services decide, and their refusals are put back on the field they name
(``show_error``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from livingroom.core.errors import DomainError
from livingroom.core.formatting import fen_to_yuan, yuan_to_fen
from livingroom.core.forms import date_field, reason_field
from livingroom.meals.models import LAYERS, MAX_PORTIONS, MAX_PRICE_FEN, Group, Layer, Menu, SetMeal, Tier
from livingroom.meals.services import MenuLine, PriceLine, SetMealDraft

Choices = Sequence[tuple[Any, Any]]
PRICE_PARTS = ("eater", "city", "district", "street")
MAX_YUAN = Decimal(MAX_PRICE_FEN) / 100


def show_error(form: forms.BaseForm, exc: DomainError, aliases: dict[str, str] | None = None) -> int:
    """Puts a service's refusal on the field it names (under the form's names), else on top;
    returns the status the page answers with (400 where the service said 404 about a field)."""
    field = (aliases or {}).get(exc.field or "", exc.field or "")
    form.add_error(field if field in form.fields else None, exc.message)
    return 400 if exc.status == 404 else exc.status


def to_fen(value: Decimal | None) -> int:
    return yuan_to_fen(value or Decimal(0))


def yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else fen_to_yuan(fen)


def yuan_field(
    label: Any, *, required: bool = True, maximum: Decimal = MAX_YUAN, **kwargs: Any
) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(0),
        max_value=maximum,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", "class": "mc-money"}),
        **kwargs,
    )


def time_field(label: Any, **kwargs: Any) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        input_formats=["%H:%M", "%H:%M:%S"],
        **kwargs,
    )


# --- set meals ------------------------------------------------------------------------------------


class SetMealForm(forms.Form):
    wide_fields = ("description", "photo")

    name = forms.CharField(label=pgettext_lazy("set meal", "Name"), max_length=60)
    cost = yuan_field(_("Cost price (¥)"))
    list_price = yuan_field(_("List price (¥)"), help_text=_("What a walk-in pays."))
    description = forms.CharField(
        label=pgettext_lazy("set meal", "Description"), max_length=300, required=False
    )
    photo = forms.FileField(
        label=pgettext_lazy("set meal", "Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPEG, PNG or WebP, at most 5 MB."),
    )
    is_active = forms.BooleanField(label=_("On offer"), required=False, initial=True)

    ALIASES = {"cost_fen": "cost", "list_price_fen": "list_price"}

    @classmethod
    def initial_of(cls, meal: SetMeal) -> dict[str, Any]:
        return {
            "name": meal.name,
            "cost": yuan(meal.cost_fen),
            "list_price": yuan(meal.list_price_fen),
            "description": meal.description,
            "is_active": meal.is_active,
        }

    def draft(self) -> SetMealDraft:
        d = self.cleaned_data
        return SetMealDraft(
            name=d["name"],
            cost_fen=to_fen(d["cost"]),
            list_price_fen=to_fen(d["list_price"]),
            description=d.get("description") or "",
            is_active=bool(d.get("is_active")),
        )

    def photo_bytes(self) -> bytes | None:
        upload = self.cleaned_data.get("photo")
        return upload.read() if upload else None


# --- tiers ------------------------------------------------------------------------------------------


class TierForm(forms.Form):
    """A tier's name (and, when created, its group and residency) and one row per set meal: what
    the eater pays and what each funder layer pays, in yuan. A row left empty is not offered."""

    name = forms.CharField(label=pgettext_lazy("tier", "Name"), max_length=60)
    group = forms.ChoiceField(label=_("Group"), choices=Group.choices)
    residency = forms.ChoiceField(
        label=_("Residency condition"), choices=Tier.Residency.choices, initial=Tier.Residency.ANYWHERE
    )

    def __init__(
        self, *args: Any, set_meals: Iterable[SetMeal] = (), creating: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.set_meals = list(set_meals)
        self.lines: list[PriceLine] = []
        if not creating:
            del self.fields["group"]
            del self.fields["residency"]
        labels = {
            "eater": _("Eater pays (¥)"),
            "city": _("City subsidy (¥)"),
            "district": _("District subsidy (¥)"),
            "street": _("Sub-district subsidy (¥)"),
        }
        for meal in self.set_meals:
            for part in PRICE_PARTS:
                field = yuan_field(f"{meal.name} · {labels[part]}", required=False)
                self.fields[self.price_name(meal, part)] = field

    @staticmethod
    def price_name(meal: SetMeal, part: str) -> str:
        return f"m{meal.pk}_{part}"

    @classmethod
    def initial_of(cls, tier: Tier) -> dict[str, Any]:
        initial: dict[str, Any] = {"name": tier.name}
        for price in tier.prices.all():
            for part in PRICE_PARTS:
                initial[f"m{price.set_meal_id}_{part}"] = yuan(getattr(price, f"{part}_fen"))
        return initial

    def identity_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("name", "group", "residency") if name in self.fields]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"meal": meal, "fields": [self[self.price_name(meal, part)] for part in PRICE_PARTS]}
            for meal in self.set_meals
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lines = []
        for meal in self.set_meals:
            values = {part: data.get(self.price_name(meal, part)) for part in PRICE_PARTS}
            if all(v is None for v in values.values()):
                continue
            if values["eater"] is None:
                self.add_error(
                    self.price_name(meal, "eater"), _("Enter what the eater pays, or leave the row empty.")
                )
                continue
            lines.append(
                PriceLine(
                    set_meal_id=meal.pk, **{f"{part}_fen": to_fen(values[part]) for part in PRICE_PARTS}
                )
            )
        if not lines and not self.errors:
            raise forms.ValidationError(_("Give the prices for at least one set meal."))
        self.lines = lines
        return data


# --- menus ------------------------------------------------------------------------------------------


class MenuForm(forms.Form):
    period = forms.ChoiceField(label=_("Meal"), choices=Menu.Period.choices, initial=Menu.Period.LUNCH)
    serves_from = time_field(_("Serving from"))
    serves_until = time_field(_("Serving until"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, set_meals: Iterable[SetMeal] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields = {"day": date_field(_("Date")), **self.fields}  # the date first
        self.set_meals = list(set_meals)
        self.items: list[MenuLine] = []
        for meal in self.set_meals:
            self.fields[f"portions_{meal.pk}"] = forms.IntegerField(
                label=_("Portions of %(meal)s") % {"meal": meal.name},
                min_value=0,
                max_value=MAX_PORTIONS,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "mc-portions"}),
            )

    def head_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("day", "period", "serves_from", "serves_until", "note")]

    def rows(self) -> list[dict[str, Any]]:
        return [{"meal": meal, "field": self[f"portions_{meal.pk}"]} for meal in self.set_meals]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("serves_from"), data.get("serves_until")
        if start and end and end <= start:
            self.add_error("serves_until", _("Serving ends after it starts."))
        self.items = [
            MenuLine(set_meal_id=meal.pk, portions=data[f"portions_{meal.pk}"])
            for meal in self.set_meals
            if data.get(f"portions_{meal.pk}") is not None
        ]
        if not self.items and not self.errors:
            raise forms.ValidationError(_("Give the portions of at least one set meal."))
        return data


class RefundForm(forms.Form):
    meal = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = reason_field()


# --- the counter ------------------------------------------------------------------------------------


class LookupForm(forms.Form):
    wide_fields = ("token",)

    token = forms.CharField(
        label=_("Pass code"),
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}),
        help_text=_("Scan the resident's pass, or type the code under it."),
    )


class ServeForm(forms.Form):
    """The confirm button of the counter: the pass looked up, the set meal (empty: their order),
    the price shown (``full_price``: the eater pays the list price part shown), a one-time key."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=2000, required=False)
    menu_item_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    full_price = forms.BooleanField(widget=forms.HiddenInput, required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=100)


class WalkInForm(forms.Form):
    menu_item_id = forms.TypedChoiceField(label=_("Set meal"), coerce=int)
    key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, items: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["menu_item_id"]).choices = [
            ("", _("Choose a set meal")),
            *items,
        ]


# --- budgets and claims -------------------------------------------------------------------------------


class BudgetForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    layer = forms.ChoiceField(
        label=_("Funder"), choices=[(v, label) for v, label in Layer.choices if v in LAYERS]
    )
    street = forms.TypedChoiceField(
        label=_("Sub-district"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Only for the sub-district subsidy."),
    )
    amount = yuan_field(_("Budget (¥)"), maximum=Decimal(10**11))

    ALIASES = {"amount_fen": "amount", "street_id": "street"}

    def __init__(self, *args: Any, streets: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["street"]).choices = [("", "—"), *streets]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("layer") == Layer.STREET and not data.get("street"):
            self.add_error("street", _("Choose the sub-district."))
        if data.get("layer") in (Layer.CITY, Layer.DISTRICT):
            data["street"] = None
        return data


class PeriodForm(forms.Form):
    period = forms.CharField(
        label=pgettext_lazy("claim", "Period"),
        max_length=7,
        help_text=_("A month (2026-11) or a quarter (2026-Q4)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 9}),
    )
