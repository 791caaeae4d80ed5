"""Forms of the volunteering console. They parse and label (local dates and times in
Asia/Shanghai, blank shift rows skipped); the services decide, and their refusals are put back on
the field they name (``show_error``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from livingroom.core.errors import DomainError
from livingroom.core.forms import ActionForm, ReasonForm, date_field, reason_field  # noqa: F401 - the console's forms
from livingroom.volunteering.models import (
    MAX_BONUS_POINTS,
    MAX_NEEDED,
    MAX_POINTS_PER_HOUR,
    MAX_SHIFT_MINUTES,
    Activity,
)
from livingroom.volunteering.services import ActivityDraft, HoursLine, ShiftDraft

Choices = Sequence[tuple[Any, Any]]
SHIFT_ROWS = 6
SHIFT_PARTS = ("role", "place", "date", "start", "end", "needed")


def time_field(label: Any, **kwargs: Any) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        input_formats=["%H:%M", "%H:%M:%S"],
        **kwargs,
    )


def local_datetime(day: dt.date, time: dt.time) -> dt.datetime:
    """A wall-clock date and time in the site's time zone (Asia/Shanghai), made aware."""
    return timezone.make_aware(dt.datetime.combine(day, time), timezone.get_default_timezone())


def show_error(
    form: forms.BaseForm,
    exc: DomainError,
    aliases: dict[str, str] | None = None,
) -> int:
    """Puts a service's refusal on the field it names (under the form's names), else on top;
    returns the status the page answers with (400 where the service said 404 about a field)."""
    field = (aliases or {}).get(exc.field or "", exc.field or "")
    form.add_error(field if field in form.fields else None, exc.message)
    return 400 if exc.status == 404 else exc.status


# --- a new activity -----------------------------------------------------------------------------


class ActivityForm(forms.Form):
    """An activity with up to six shifts. A shift row left blank is ignored; a row begun must be
    finished."""

    wide_fields = ("title", "description", "requirements")

    center = forms.TypedChoiceField(label=_("Center"), coerce=int)
    organization = forms.TypedChoiceField(label=_("Organiser"), coerce=int, required=False, empty_value=None)
    title = forms.CharField(label=pgettext_lazy("volunteer activity", "Title"), max_length=100)
    description = forms.CharField(
        label=pgettext_lazy("volunteer activity", "Description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What volunteers do, where to meet, whom to ask."),
    )
    requirements = forms.CharField(
        label=_("Requirements"),
        max_length=300,
        required=False,
        help_text=_("Skills, clothing, anything volunteers should bring."),
    )
    audience = forms.ChoiceField(
        label=_("Who may join"),
        choices=Activity.Audience.choices,
        initial=Activity.Audience.ALL,
        widget=forms.RadioSelect,
    )
    min_age = forms.IntegerField(
        label=_("Minimum age"), min_value=0, max_value=100, required=False, help_text=_("Empty: any age.")
    )
    points_per_hour = forms.IntegerField(
        label=_("Points per hour"),
        min_value=0,
        max_value=MAX_POINTS_PER_HOUR,
        initial=1,
        help_text=_("For each hour served, pro rata, rounded down."),
    )
    bonus_points = forms.IntegerField(
        label=_("Bonus points per shift"),
        min_value=0,
        max_value=MAX_BONUS_POINTS,
        initial=0,
        help_text=_("Added once for each shift served."),
    )
    publish = forms.TypedChoiceField(
        label=_("Publishing"),
        choices=[("1", _("Publish now")), ("0", _("Save as a draft"))],
        coerce=lambda value: value == "1",
        initial="1",
        widget=forms.RadioSelect,
    )

    def __init__(
        self,
        *args: Any,
        centers: Choices = (),
        organizations: Choices = (),
        organization_required: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["center"]).choices = list(centers)
        if len(centers) == 1:
            self.fields["center"].initial = centers[0][0]
        org = cast(forms.TypedChoiceField, self.fields["organization"])
        if organization_required:
            org.required = True
            org.choices = [("", _("Choose your organisation")), *organizations]
            org.help_text = _("The organisation that runs the activity.")
            if len(organizations) == 1:
                org.initial = organizations[0][0]
        elif organizations:
            org.choices = [("", _("None: the center itself")), *organizations]
            org.help_text = _("A partner organisation or department that runs the activity.")
        else:
            del self.fields["organization"]
        for i in range(SHIFT_ROWS):
            self.fields[f"role_{i}"] = forms.CharField(label=_("Role"), max_length=60, required=False)
            self.fields[f"place_{i}"] = forms.CharField(label=_("Place"), max_length=100, required=False)
            self.fields[f"date_{i}"] = date_field(_("Date"), required=False)
            self.fields[f"start_{i}"] = time_field(_("Starts"), required=False)
            self.fields[f"end_{i}"] = time_field(_("Ends"), required=False)
            self.fields[f"needed_{i}"] = forms.IntegerField(
                label=_("Volunteers needed"), min_value=1, max_value=MAX_NEEDED, required=False
            )
        self.shift_rows: list[int] = []  # the form row of each shift sent to the service

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not re.search(r"_\d+$", name)]

    def rows(self) -> list[dict[str, Any]]:
        """The shift rows for the template: the bound fields of each and its errors."""
        return [
            {
                "n": i + 1,
                "fields": [self[f"{part}_{i}"] for part in SHIFT_PARTS],
                "errors": [e for part in SHIFT_PARTS for e in self.errors.get(f"{part}_{i}", [])],
            }
            for i in range(SHIFT_ROWS)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.shift_rows = []
        for i in range(SHIFT_ROWS):
            names = [f"{part}_{i}" for part in SHIFT_PARTS]
            raw = [self.data.get(self.add_prefix(name), "") for name in names]
            if not any(str(value).strip() for value in raw):
                continue  # a blank row
            missing = [name for name in names if data.get(name) in (None, "") and name not in self.errors]
            for name in missing:
                self.add_error(name, _("Fill in the whole row, or leave it blank."))
            if not missing and all(name not in self.errors for name in names):
                self.shift_rows.append(i)
        if not self.shift_rows and not any(re.search(r"_\d+$", name) for name in self.errors):
            self.add_error("role_0", _("Add at least one shift."))
        return data

    def shifts(self) -> list[ShiftDraft]:
        d = self.cleaned_data
        return [
            ShiftDraft(
                role=d[f"role_{i}"],
                place=d[f"place_{i}"],
                starts_at=local_datetime(d[f"date_{i}"], d[f"start_{i}"]),
                ends_at=local_datetime(d[f"date_{i}"], d[f"end_{i}"]),
                needed=d[f"needed_{i}"],
            )
            for i in self.shift_rows
        ]

    def draft(self) -> ActivityDraft:
        d = self.cleaned_data
        return ActivityDraft(
            center_id=d["center"],
            organization_id=d.get("organization"),
            title=d["title"],
            description=d.get("description") or "",
            requirements=d.get("requirements") or "",
            audience=d.get("audience") or Activity.Audience.ALL,
            min_age=d.get("min_age"),
            points_per_hour=d["points_per_hour"],
            bonus_points=d["bonus_points"],
            publish=bool(d.get("publish")),
            shifts=self.shifts(),
        )

    def aliases(self) -> dict[str, str]:
        """The service's field names (``shifts.2.starts_at``) under this form's names."""
        names = {
            "center_id": "center",
            "organization_id": "organization",
            "shifts": "",
        }
        parts = {"role": "role", "place": "place", "starts_at": "start", "ends_at": "end", "needed": "needed"}
        for index, row in enumerate(self.shift_rows):
            for service_name, part in parts.items():
                names[f"shifts.{index}.{service_name}"] = f"{part}_{row}"
        return names


# --- a shift: scan a pass, confirm the hours --------------------------------------------------


class ScanForm(forms.Form):
    token = forms.CharField(
        label=_("Pass code"),
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
        help_text=_("Scan the volunteer's pass, or type the code under it."),
    )
    direction = forms.ChoiceField(
        label=_("Check"),
        choices=[("in", _("In")), ("out", _("Out"))],
        initial="in",
        widget=forms.RadioSelect,
    )


class HoursForm(forms.Form):
    """One row per volunteer signed up: minutes (prefilled with what the check-in and check-out
    measure) and a reason, required when the minutes differ from the measure."""

    def __init__(
        self, *args: Any, lines: Sequence[Any] = (), shift_minutes: int = MAX_SHIFT_MINUTES, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        self.sent: list[int] = []  # the sign-up of each HoursLine sent, in order
        for line in self.lines:
            pk = line.signup.pk
            self.fields[f"minutes_{pk}"] = forms.IntegerField(
                label=_("Minutes"),
                min_value=0,
                max_value=shift_minutes,
                required=False,
                initial=line.measured,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "vc-minutes"}),
            )
            self.fields[f"reason_{pk}"] = reason_field(_("Reason for the change"), required=False)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "line": line,
                "minutes": self[f"minutes_{line.signup.pk}"],
                "reason": self[f"reason_{line.signup.pk}"],
            }
            for line in self.lines
        ]

    def hours_lines(self) -> list[HoursLine]:
        """A line for every row with minutes; a blank row of a volunteer who never checked in
        sends nothing (no record); a blank row of one who did counts as 0 (and needs a reason)."""
        d = self.cleaned_data
        out = []
        self.sent = []
        for line in self.lines:
            pk = line.signup.pk
            minutes = d.get(f"minutes_{pk}")
            reason = d.get(f"reason_{pk}") or ""
            if minutes is None:
                if line.measured is None:
                    continue
                minutes = 0
            out.append(HoursLine(signup_id=pk, minutes=minutes, reason=reason))
            self.sent.append(pk)
        return out

    def aliases(self) -> dict[str, str]:
        names = {}
        for index, pk in enumerate(self.sent):
            names[f"lines.{index}.minutes"] = f"minutes_{pk}"
            names[f"lines.{index}.reason"] = f"reason_{pk}"
            names[f"lines.{index}.signup_id"] = f"minutes_{pk}"
        return names


# --- corrections, volunteers, the hours report -------------------------------------------------


class DecisionForm(forms.Form):
    correction = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        label=_("Answer to the volunteer"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class StatusForm(forms.Form):
    volunteer = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = reason_field()


class PeriodForm(forms.Form):
    """``?from=&to=&center=``: ``from`` is a Python keyword, so the dates are added by name."""

    center = forms.TypedChoiceField(label=_("Center"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, centers: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = date_field(_("From"), required=False)
        self.fields["to"] = date_field(_("Until"), required=False)
        self.order_fields(["from", "to", "center"])
        cast(forms.TypedChoiceField, self.fields["center"]).choices = [("", _("All centers")), *centers]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("from"), data.get("to")
        if start and end and end < start:
            self.add_error("to", _("The end date is before the start date."))
        if start and end and (end - start).days > 366 * 2:
            self.add_error("to", _("Choose at most two years."))
        return data
