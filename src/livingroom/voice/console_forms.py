"""Forms of the residents' voice console. They parse and label (local dates and times in
Asia/Shanghai, blank rows skipped); the services decide, and their refusals are put back on the
field they name (``show_error``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from livingroom.core.errors import DomainError
from livingroom.core.forms import ActionForm, date_field  # noqa: F401 - the console's forms
from livingroom.places.models import CalendarDay
from livingroom.voice.models import (
    MAX_CHOICES,
    MAX_PHOTOS,
    MAX_QUESTIONS,
    MAX_SUGGESTION_TEXT,
    MAX_TEXT,
    Audience,
    Engagement,
    Photo,
    Question,
    Suggestion,
    Survey,
)
from livingroom.voice.services import (
    MIN_SUGGESTION_TEXT,
    QuestionDraft,
    RaisedPoint,
    SurveyDraft,
)

Choices = Sequence[tuple[Any, Any]]
RAISED_ROWS = 10
QUESTION_ROWS = 3  # rows of a new survey
QUESTION_PARTS = ("kind", "text", "required", "choices", "scale", "show_if", "show_choice", "help")
PHOTO_TYPES = "image/jpeg,image/png,image/webp"


def show_error(form: forms.BaseForm, exc: DomainError, aliases: dict[str, str] | None = None) -> int:
    """Puts a service's refusal on the field it names (under the form's names), else on top;
    returns the status the page answers with (400 where the service said 404 about a field)."""
    field = (aliases or {}).get(exc.field or "", exc.field or "")
    form.add_error(field if field in form.fields else None, exc.message)
    return 400 if exc.status == 404 else exc.status


def _one_line(value: str, limit: int) -> str:
    return " ".join((value or "").split())[:limit]


def choice_lines(raw: str) -> list[str]:
    """Choices typed one per line, as the survey service reads them (blank lines dropped)."""
    return [line for line in (_one_line(part, 100) for part in (raw or "").splitlines()) if line]


def _set_choices(form: forms.Form, name: str, choices: Choices) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = list(choices)


def _center_choices(form: forms.Form, centers: Choices) -> None:
    """One center: chosen already; several: the member of staff picks one (no silent default)."""
    if len(centers) == 1:
        _set_choices(form, "center", list(centers))
        form.fields["center"].initial = centers[0][0]
    else:
        _set_choices(form, "center", [("", _("Choose the center")), *centers])


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Up to four photos in one file input (the service checks their content)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": PHOTO_TYPES}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, (list, tuple)):
            files = [single(item, initial) for item in data if item]
        else:
            files = [single(data, initial)] if data else []
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("At most %(limit)s photos per request.") % {"limit": MAX_PHOTOS}, code="too_many"
            )
        return files


def read_upload(upload: Any, limit: int) -> bytes:
    """The bytes of an uploaded file, at most ``limit + 1`` of them (so "too large" is still seen)."""
    upload.seek(0)
    return bytes(upload.read(limit + 1))


# --- the request queue --------------------------------------------------------------------------

STATUS_TABS: list[tuple[str, Any]] = [
    ("open", pgettext_lazy("requests", "Open")),
    *Suggestion.Status.choices,
    ("all", pgettext_lazy("filter", "All")),
]


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_TABS, required=False)
    center = forms.TypedChoiceField(label=_("Center"), coerce=int, required=False, empty_value=None)
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", _("All types")), *Suggestion.Kind.choices], required=False
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    q = forms.CharField(label=_("Search"), max_length=40, required=False)

    def __init__(self, *args: Any, centers: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "center", [("", _("All centers")), *centers])

    def filters(self) -> dict[str, Any]:
        """The selector's arguments; the default list is the open requests."""
        d = self.cleaned_data if self.is_bound and self.is_valid() else {}
        status = d.get("status") or "open"
        return {
            "status": "" if status == "all" else status,
            "center_id": d.get("center"),
            "kind": d.get("kind") or "",
            "overdue": bool(d.get("overdue")),
            "q": " ".join((d.get("q") or "").split()),
        }


# --- record a request ---------------------------------------------------------------------------


class RecordForm(forms.Form):
    wide_fields = ("text", "photos")

    center = forms.TypedChoiceField(label=_("Center"), coerce=int)
    channel = forms.ChoiceField(
        label=_("Heard"),
        choices=[
            (Suggestion.Channel.DESK, Suggestion.Channel.DESK.label),
            (Suggestion.Channel.PHONE, Suggestion.Channel.PHONE.label),
        ],
        initial=Suggestion.Channel.DESK,
        widget=forms.RadioSelect,
    )
    kind = forms.ChoiceField(label=_("Type"), choices=[("", "—"), *Suggestion.Kind.choices])
    category = forms.ChoiceField(label=_("Category"), choices=[("", "—"), *Suggestion.Category.choices])
    text = forms.CharField(
        label=_("What it is about"),
        max_length=MAX_SUGGESTION_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("In the resident's words; 5 to 2000 characters."),
    )
    phone = forms.CharField(
        label=_("Resident's mobile number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_(
            "Optional. A registered resident then finds the request in their list and is told of every step."
        ),
    )
    photos = MultiplePhotoField(
        label=_("Photos"), required=False, help_text=_("Up to 4 photos (JPEG, PNG or WebP, 5 MB each).")
    )

    def __init__(self, *args: Any, centers: Choices = (), residents: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _center_choices(self, centers)
        if not residents:
            del self.fields["phone"]

    def aliases(self) -> dict[str, str]:
        return {"center_id": "center", "resident": "phone", "space": "center"}


# --- a request's actions ------------------------------------------------------------------------


class AssignForm(forms.Form):
    organization = forms.TypedChoiceField(
        label=_("Hand over to"), coerce=int, required=False, empty_value=None
    )
    note = forms.CharField(
        label=_("Note for the file"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, organizations: Choices = (), center_name: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        back = _("Back to the center (%(center)s)") % {"center": center_name}
        _set_choices(self, "organization", [("", back), *organizations])


class RespondForm(forms.Form):
    message = forms.CharField(
        label=_("Message to the resident"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The resident reads it; the first message counts for the response rate."),
    )


class ExtensionForm(forms.Form):
    days = forms.IntegerField(label=_("Extra working days"), min_value=1, max_value=30)
    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


class ResolveForm(forms.Form):
    reply = forms.CharField(
        label=_("Reply to the resident"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was done or decided; the resident then rates it."),
    )
    done_note = forms.CharField(
        label=_("What was carried out"),
        max_length=300,
        required=False,
        help_text=_("For the public board: “you said, we did”."),
    )


class PublishForm(forms.Form):
    summary = forms.CharField(
        label=_("Public summary"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Without names, phone numbers or addresses; ID and phone numbers are masked anyway."),
    )
    done_note = forms.CharField(label=_("What was carried out"), max_length=300, required=False)


class PhotoForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Photo"),
        choices=[(Photo.Kind.BEFORE, Photo.Kind.BEFORE.label), (Photo.Kind.AFTER, Photo.Kind.AFTER.label)],
        initial=Photo.Kind.BEFORE,
        widget=forms.RadioSelect,
    )
    photo = forms.FileField(
        label=_("Image file"),
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_TYPES}),
        help_text=_("JPEG, PNG or WebP, up to 5 MB."),
    )


# --- extensions ---------------------------------------------------------------------------------


class DecisionForm(forms.Form):
    extension = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        label=_("Note to the owner"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


# --- surveys ------------------------------------------------------------------------------------


class SurveyForm(forms.Form):
    """A survey and its questions: ``rows`` numbered groups of question fields. A row left blank is
    ignored; "shown only if question N got choice X" names a row number and a choice (its text
    or its number)."""

    wide_fields = ("title", "description")

    title = forms.CharField(label=pgettext_lazy("survey", "Title"), max_length=120)
    description = forms.CharField(
        label=_("Introduction"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you ask and what you will do with the answers."),
    )
    area = forms.ChoiceField(label=_("Area"), widget=forms.RadioSelect)
    community = forms.TypedChoiceField(
        label=_("Community"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("For the area “a community”."),
    )
    street = forms.TypedChoiceField(
        label=_("Sub-district"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("For the area “a sub-district”."),
    )
    audience = forms.ChoiceField(label=_("Audience"), choices=Audience.choices, initial=Audience.EVERYONE)
    closes_at = forms.DateTimeField(
        label=_("Closes at"),
        required=False,
        widget=forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("Empty: open until you close it."),
    )
    anonymous = forms.BooleanField(
        label=_("Anonymous"),
        required=False,
        help_text=_(
            "Answers are never linked to the person. Open to everyone and anonymous: visitors who are "
            "not signed in may answer too."
        ),
    )
    rows = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_QUESTIONS)

    def __init__(
        self,
        *args: Any,
        communities: Choices = (),
        streets: Choices = (),
        district: bool = False,
        rows: int = QUESTION_ROWS,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        areas = []
        if communities:
            areas.append((Survey.Area.COMMUNITY, Survey.Area.COMMUNITY.label))
        if streets:
            areas.append((Survey.Area.STREET, Survey.Area.STREET.label))
        if district:
            areas.append((Survey.Area.DISTRICT, Survey.Area.DISTRICT.label))
        _set_choices(self, "area", areas)
        if areas:
            self.fields["area"].initial = areas[0][0]
        _set_choices(self, "community", [("", "—"), *communities])
        _set_choices(self, "street", [("", "—"), *streets])
        if len(communities) == 1:
            self.fields["community"].initial = communities[0][0]
        if len(streets) == 1:
            self.fields["street"].initial = streets[0][0]
        if not communities:
            del self.fields["community"]
        if not streets:
            del self.fields["street"]
        self.row_count = max(1, min(rows, MAX_QUESTIONS))
        self.fields["rows"].initial = self.row_count
        kinds = [("", "—"), *Question.Kind.choices]
        for i in range(self.row_count):
            self.fields[f"q{i}_kind"] = forms.ChoiceField(label=_("Kind"), choices=kinds, required=False)
            self.fields[f"q{i}_text"] = forms.CharField(label=_("Question"), max_length=300, required=False)
            self.fields[f"q{i}_required"] = forms.BooleanField(label=_("Required"), required=False)
            self.fields[f"q{i}_choices"] = forms.CharField(
                label=_("Choices, one per line"),
                max_length=MAX_CHOICES * 101,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.fields[f"q{i}_scale"] = forms.IntegerField(
                label=_("Scale points"), min_value=2, max_value=10, required=False
            )
            self.fields[f"q{i}_show_if"] = forms.IntegerField(
                label=_("Only if question no."), min_value=1, max_value=MAX_QUESTIONS, required=False
            )
            self.fields[f"q{i}_show_choice"] = forms.CharField(
                label=_("got the choice"), max_length=100, required=False
            )
            self.fields[f"q{i}_help"] = forms.CharField(label=_("Hint"), max_length=200, required=False)
        self.kept: list[int] = []
        self.question_drafts: list[QuestionDraft] = []

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("title", "description", "audience", "closes_at", "anonymous")]

    def question_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "n": i + 1,
                "i": i,
                "f": {part: self[f"q{i}_{part}"] for part in QUESTION_PARTS},
                "errors": [e for part in QUESTION_PARTS for e in self.errors.get(f"q{i}_{part}", [])]
                if self.is_bound
                else [],
            }
            for i in range(self.row_count)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.kept, self.question_drafts = [], []
        position_of: dict[int, int] = {}  # row number (1-based) -> position among kept rows
        labels_of: dict[int, list[str]] = {}
        for i in range(self.row_count):
            text = data.get(f"q{i}_text") or ""
            kind = data.get(f"q{i}_kind") or ""
            raw_choices = data.get(f"q{i}_choices") or ""
            if not text.strip() and not raw_choices.strip():
                continue  # a blank row
            if not kind:
                self.add_error(f"q{i}_kind", _("Choose the kind of question."))
                continue
            if not text.strip():
                self.add_error(f"q{i}_text", _("Write the question."))
                continue
            labels = (
                choice_lines(raw_choices) if kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE) else []
            )
            if kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE) and len(labels) < 2:
                self.add_error(f"q{i}_choices", _("Give at least two choices, one per line."))
                continue
            show_if, show_choice = data.get(f"q{i}_show_if"), ""
            if show_if:
                earlier = labels_of.get(show_if)
                wanted = (data.get(f"q{i}_show_choice") or "").strip()
                if show_if > i or show_if not in position_of or not earlier:
                    self.add_error(f"q{i}_show_if", _("Name an earlier choice question by its number."))
                    continue
                if wanted.isdigit() and 1 <= int(wanted) <= len(earlier):
                    index = int(wanted) - 1
                elif _one_line(wanted, 100) in earlier:
                    index = earlier.index(_one_line(wanted, 100))
                else:
                    self.add_error(
                        f"q{i}_show_choice",
                        _("Write one of the choices of question %(n)s, or its number.") % {"n": show_if},
                    )
                    continue
                show_if, show_choice = position_of[show_if], chr(ord("a") + index)
            self.kept.append(i)
            position_of[i + 1] = len(self.kept)
            labels_of[i + 1] = labels
            self.question_drafts.append(
                QuestionDraft(
                    kind=kind,
                    text=text,
                    required=bool(data.get(f"q{i}_required")),
                    help_text=data.get(f"q{i}_help") or "",
                    choices=labels,
                    scale_max=data.get(f"q{i}_scale") or 5,
                    show_if_position=show_if or None,
                    show_if_choice=show_choice,
                )
            )
        area = data.get("area")
        if area == Survey.Area.COMMUNITY and not data.get("community"):
            self.add_error("community", _("Choose the community."))
        if area == Survey.Area.STREET and not data.get("street"):
            self.add_error("street", _("Choose the sub-district."))
        if not self.question_drafts and not any(name.startswith("q") for name in self.errors):
            self.add_error("q0_text", _("Add at least one question."))
        return data

    def draft(self) -> SurveyDraft:
        d = self.cleaned_data
        area = d["area"]
        return SurveyDraft(
            title=d["title"],
            description=d.get("description") or "",
            area=area,
            community_id=d.get("community") if area == Survey.Area.COMMUNITY else None,
            street_id=d.get("street") if area == Survey.Area.STREET else None,
            audience=d["audience"],
            anonymous=bool(d.get("anonymous")),
            closes_at=d.get("closes_at"),
            questions=self.question_drafts,
        )


def survey_initial(survey: Survey) -> dict[str, Any]:
    """The builder's values of a saved survey (choices back as lines, conditions as texts)."""
    questions = list(survey.questions.all())
    initial: dict[str, Any] = {
        "title": survey.title,
        "description": survey.description,
        "area": survey.area,
        "community": survey.community_id,
        "street": survey.street_id,
        "audience": survey.audience,
        "anonymous": survey.anonymous,
        "closes_at": survey.closes_at,
        "rows": max(len(questions), 1),
    }
    by_position = {q.position: q for q in questions}
    for i, q in enumerate(questions):
        earlier = by_position.get(q.show_if_position or 0)
        initial.update(
            {
                f"q{i}_kind": q.kind,
                f"q{i}_text": q.text,
                f"q{i}_required": q.required,
                f"q{i}_choices": "\n".join(c["label"] for c in q.choices),
                f"q{i}_scale": q.scale_max if q.kind == Question.Kind.RATING else None,
                f"q{i}_show_if": q.show_if_position,
                f"q{i}_show_choice": earlier.choice_label(q.show_if_choice) if earlier else "",
                f"q{i}_help": q.help_text,
            }
        )
    return initial


def builder_initial(data: Any, *, remove: int | None = None, add: bool = False) -> tuple[dict[str, Any], int]:
    """What the builder sent, as the initial values of the page shown again: one row more
    (``add``) or one row less (``remove``, the rows after it move up)."""
    try:
        rows = int(data.get("rows") or QUESTION_ROWS)
    except ValueError:
        rows = QUESTION_ROWS
    rows = max(1, min(rows, MAX_QUESTIONS))
    initial: dict[str, Any] = {
        name: data.get(name)
        for name in ("title", "description", "area", "community", "street", "audience", "closes_at")
    }
    initial["anonymous"] = bool(data.get("anonymous"))
    target = 0
    for i in range(rows):
        if i == remove:
            continue
        for part in QUESTION_PARTS:
            value = data.get(f"q{i}_{part}")
            initial[f"q{target}_{part}"] = bool(value) if part == "required" else value
        target += 1
    if add and target < MAX_QUESTIONS:
        target += 1
    target = max(target, 1)
    initial["rows"] = target
    return initial, target


# --- forums and visits --------------------------------------------------------------------------

RAISED_PARTS = ("kind", "category", "text")


class EngagementForm(forms.Form):
    wide_fields = ("topics", "notes")

    center = forms.TypedChoiceField(label=_("Center"), coerce=int)
    kind = forms.ChoiceField(label=_("Kind"), choices=Engagement.Kind.choices, initial=Engagement.Kind.FORUM)
    held_on = date_field(_("Date"))
    place = forms.CharField(label=_("Place"), max_length=120)
    participants = forms.IntegerField(label=_("Participants"), min_value=1, max_value=10000)
    topics = forms.CharField(label=_("Topics"), max_length=300)
    notes = forms.CharField(
        label=_("Notes"), max_length=MAX_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, centers: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _center_choices(self, centers)
        for i in range(RAISED_ROWS):
            self.fields[f"p{i}_kind"] = forms.ChoiceField(
                label=_("Type"), choices=[("", "—"), *Suggestion.Kind.choices], required=False
            )
            self.fields[f"p{i}_category"] = forms.ChoiceField(
                label=_("Category"), choices=[("", "—"), *Suggestion.Category.choices], required=False
            )
            self.fields[f"p{i}_text"] = forms.CharField(
                label=_("What was raised"), max_length=MAX_SUGGESTION_TEXT, required=False
            )
        self.kept: list[int] = []

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not re.match(r"p\d+_", name)]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "n": i + 1,
                "fields": [self[f"p{i}_{part}"] for part in RAISED_PARTS],
                "errors": [e for part in RAISED_PARTS for e in self.errors.get(f"p{i}_{part}", [])],
            }
            for i in range(RAISED_ROWS)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.kept = []
        for i in range(RAISED_ROWS):
            text = (data.get(f"p{i}_text") or "").strip()
            if not text:
                continue  # a blank row (a type chosen without text is ignored too)
            problem = False
            for part in ("kind", "category"):
                if not data.get(f"p{i}_{part}"):
                    self.add_error(f"p{i}_{part}", _("Choose one."))
                    problem = True
            if len(" ".join(text.split())) < MIN_SUGGESTION_TEXT:
                self.add_error(f"p{i}_text", _("Write at least 5 characters."))
                problem = True
            if not problem:
                self.kept.append(i)
        return data

    def raised(self) -> list[RaisedPoint]:
        d = self.cleaned_data
        return [
            RaisedPoint(kind=d[f"p{i}_kind"], category=d[f"p{i}_category"], text=d[f"p{i}_text"])
            for i in self.kept
        ]


# --- the rates ----------------------------------------------------------------------------------


class RatesForm(forms.Form):
    scope = forms.ChoiceField(label=_("Scope"))

    def __init__(self, *args: Any, scopes: Choices = (), max_days: int = 731, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "scope", list(scopes))
        self.fields["from"] = date_field(_("From"), required=False)
        self.fields["to"] = date_field(_("Until"), required=False)
        self.order_fields(["scope", "from", "to"])
        self.max_days = max_days

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("from"), data.get("to")
        if start and end and end < start:
            self.add_error("to", _("The end date is before the start date."))
        elif start and end and (end - start).days > self.max_days:
            self.add_error("to", _("Choose at most two years."))
        return data


# --- settings -----------------------------------------------------------------------------------


class DeadlineRuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=Suggestion.Kind.choices)
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", _("Any category")), *Suggestion.Category.choices], required=False
    )
    respond_days = forms.IntegerField(label=_("Working days to respond"), min_value=1, max_value=60)
    resolve_days = forms.IntegerField(label=_("Working days to resolve"), min_value=1, max_value=120)


class CalendarDayForm(forms.Form):
    day = date_field(_("Date"))
    kind = forms.ChoiceField(label=_("Kind"), choices=CalendarDay.Kind.choices)
    name = forms.CharField(
        label=pgettext_lazy("holiday", "Name"),
        max_length=60,
        required=False,
        help_text=_("For example 国庆节."),
    )


class DayRemoveForm(forms.Form):
    day = date_field(_("Date"))


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """This month so far."""
    return today.replace(day=1), today
