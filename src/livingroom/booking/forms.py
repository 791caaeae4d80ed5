"""Forms of the booking console. They parse and label; the services decide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from livingroom.booking.models import BookingRules
from livingroom.booking.services import RULE_FIELDS
from livingroom.core.forms import ActionForm, date_field, reason_field  # noqa: F401 - the console's forms
from livingroom.core.forms import ReasonForm as BaseReasonForm
from livingroom.core.validators import MAX_DB_ID

# (group label, [(value, label), ...]) as Django's grouped choices expect
Choices = Sequence[tuple[Any, Any]]


def _weekday_choices() -> list[tuple[int, Any]]:
    return [
        (0, _("Monday")),
        (1, _("Tuesday")),
        (2, _("Wednesday")),
        (3, _("Thursday")),
        (4, _("Friday")),
        (5, _("Saturday")),
        (6, _("Sunday")),
    ]


def time_field(label: Any, **kwargs: Any) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": 300}),
        input_formats=["%H:%M", "%H:%M:%S"],
        **kwargs,
    )


class ReasonForm(BaseReasonForm):
    """Refuse or cancel: the reason is sent to the resident."""

    reason = reason_field(help_text=_("The resident is told this reason."))


class NoteForm(forms.Form):
    wide_fields = ("text",)
    text = forms.CharField(
        label=_("New note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Health data: encrypted, only the room's therapists read it."),
    )


class TimesMixin(forms.Form):
    """A day and a start and end time on it, checked in order."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts"), data.get("ends")
        if isinstance(starts, dt.time) and isinstance(ends, dt.time) and ends <= starts:
            self.add_error("ends", _("The end must be after the start."))
        return data


class BlockForm(TimesMixin):
    wide_fields = ("reason",)
    day = date_field(_("Date"))
    resource = forms.TypedChoiceField(
        label=_("Unit"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Without a unit, the whole space is blocked: every seat and the room."),
    )
    starts = time_field(_("From"))
    ends = time_field(_("Until"))
    reason = reason_field(
        help_text=_("Maintenance, an event, … Residents whose booking moves or ends are told.")
    )

    def __init__(self, *args: Any, units: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if units:
            cast(forms.ChoiceField, self.fields["resource"]).choices = [("", _("Whole space")), *units]
        else:  # a space without seats or therapists is blocked whole
            del self.fields["resource"]

    def unit_id(self) -> int | None:
        return self.cleaned_data.get("resource")


class DeskBookingForm(TimesMixin):
    wide_fields = ("resource",)
    resource = forms.TypedChoiceField(label=_("Space and unit"), coerce=int)
    day = date_field(_("Date"))
    starts = time_field(_("From"))
    ends = time_field(_("Until"))
    pass_token = forms.CharField(
        label=_("Resident pass"),
        required=False,
        max_length=80,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "LR1.…", "class": "mono"}
        ),
        help_text=_("Scan the resident's pass into this box, or choose the resident from the search."),
    )
    resident_id = forms.IntegerField(
        label=_("Resident number"),
        required=False,
        min_value=1,
        max_value=MAX_DB_ID,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("Filled in when you choose a resident from the search."),
    )

    def __init__(self, *args: Any, units: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["resource"]).choices = [
            ("", _("Choose a space and unit")),
            *units,
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("pass_token") and not data.get("resident_id") and "resident_id" not in self.errors:
            self.add_error("resident_id", _("Scan the resident's pass or choose the resident."))
        return data


class RulesForm(forms.ModelForm):
    """How a space is booked, and how many seats it has (not for therapist rooms)."""

    wide_fields = ("seats",)

    seats = forms.IntegerField(
        label=_("Numbered seats"),
        required=False,
        min_value=0,
        max_value=500,
        help_text=_(
            "0: residents book the whole room. With seats, residents book a seat; the room is for staff."
        ),
    )

    class Meta:
        model = BookingRules
        fields = list(RULE_FIELDS)
        widgets = {
            "release_time": forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        }

    def __init__(self, *args: Any, with_seats: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_seats:
            del self.fields["seats"]

    def rule_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in RULE_FIELDS}


class SeriesForm(TimesMixin):
    wide_fields = ("resource", "organization", "purpose")
    resource = forms.TypedChoiceField(label=_("Space and unit"), coerce=int)
    organization = forms.TypedChoiceField(
        label=_("Organisation"), coerce=int, required=False, empty_value=None
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=200)
    first_date = date_field(_("First date"))
    weekday = forms.TypedChoiceField(label=_("Weekday"), coerce=int)
    starts = time_field(_("From"))
    ends = time_field(_("Until"))
    weeks = forms.IntegerField(label=_("Weeks"), min_value=1, max_value=52, initial=10)
    skip_conflicts = forms.BooleanField(
        label=_("Skip dates that are taken or closed, and book the others"), required=False
    )

    def __init__(self, *args: Any, units: Choices, organizations: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["resource"]).choices = [
            ("", _("Choose a space and unit")),
            *units,
        ]
        cast(forms.ChoiceField, self.fields["organization"]).choices = [
            ("", _("No organisation (the center's own)")),
            *organizations,
        ]
        cast(forms.ChoiceField, self.fields["weekday"]).choices = _weekday_choices()


class UtilisationForm(forms.Form):
    """``?from=&to=&center=``: ``from`` is a Python keyword, so the fields are added by name."""

    def __init__(self, *args: Any, centers: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = date_field(_("From"), required=False)
        self.fields["to"] = date_field(_("Until"), required=False)
        self.fields["center"] = forms.TypedChoiceField(
            label=_("Center"),
            coerce=int,
            required=False,
            empty_value=None,
            choices=[("", _("All centers")), *centers],
        )


WEEKDAYS = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]


class HoursForm(forms.Form):
    """A space's own week: up to two periods a day (e.g. a lunch break); empty days are closed."""

    use_center_hours = forms.BooleanField(label=_("Use the center's opening hours"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for d in range(7):
            for n in (1, 2):
                for part in ("opens", "closes"):
                    self.fields[f"d{d}_{n}_{part}"] = forms.TimeField(
                        label=f"{WEEKDAYS[d]} {n} {part}",
                        required=False,
                        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                    )

    def rows(self) -> list[tuple[str, list[tuple[forms.BoundField, forms.BoundField]]]]:
        return [
            (str(WEEKDAYS[d]), [(self[f"d{d}_{n}_opens"], self[f"d{d}_{n}_closes"]) for n in (1, 2)])
            for d in range(7)
        ]

    def periods(self) -> list[tuple[int, dt.time, dt.time]]:
        if self.cleaned_data.get("use_center_hours"):
            return []
        out = []
        for d in range(7):
            for n in (1, 2):
                opens = self.cleaned_data.get(f"d{d}_{n}_opens")
                closes = self.cleaned_data.get(f"d{d}_{n}_closes")
                if opens and closes:
                    out.append((d, opens, closes))
                elif opens or closes:
                    self.add_error(f"d{d}_{n}_opens", _("Give both the opening and the closing time."))
        return out

    @staticmethod
    def initial_for(periods: Sequence[tuple[int, dt.time, dt.time]]) -> dict[str, Any]:
        initial: dict[str, Any] = {"use_center_hours": not periods}
        seen: dict[int, int] = {}
        for d, opens, closes in periods:
            n = seen[d] = seen.get(d, 0) + 1
            if n <= 2:
                initial[f"d{d}_{n}_opens"], initial[f"d{d}_{n}_closes"] = opens, closes
        return initial


class ClosureForm(forms.Form):
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    space = forms.TypedChoiceField(label=_("Space"), coerce=int, required=False, empty_value=None)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Residents whose bookings fall on these days are told this reason."),
    )

    def __init__(self, *args: Any, spaces: Sequence[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["space"]).choices = [
            ("", _("The whole center")),
            *spaces,
        ]
