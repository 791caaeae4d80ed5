"""Forms of the resident meal pages: the center filter, the day shown, an order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livingroom.meals import errors

DAYS_AROUND = 366  # a day further than this from today has no menu (as the API says)


class CenterFilterForm(forms.Form):
    """``?center=``: only the canteens of one center."""

    center = forms.TypedChoiceField(label=_("Center"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, centers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["center"].choices = [("", _("All centers")), *centers]  # type: ignore[attr-defined]

    @property
    def center_id(self) -> int | None:
        if self.is_bound and self.is_valid():
            return self.cleaned_data["center"]
        return None


class DayForm(forms.Form):
    """``?date=2026-11-27``: the day whose menus are shown (today when absent)."""

    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

    def day(self) -> dt.date:
        today = timezone.localdate()
        if not self.is_valid():
            raise errors.DateInvalid(field="date")
        day = self.cleaned_data["date"] or today
        if abs((day - today).days) > DAYS_AROUND:
            raise errors.DateOutOfRange(field="date")
        return day


class OrderForm(forms.Form):
    """The Order button of one set meal on a menu; ``full_price`` after a refused subsidy."""

    menu_item = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    full_price = forms.BooleanField(required=False, widget=forms.HiddenInput)
