"""Forms of the resident pages of residents' voice: answering a survey (fields built from its
questions), submitting a request with photos, rating and reopening it, and the board's filter.

The forms only parse; the services decide (required answers under the skip logic, text lengths,
what a photo really is) and their refusals are put back on the form with
``core.forms.add_domain_error``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from livingroom.places.models import Center
from livingroom.voice.models import (
    MAX_PHOTOS,
    MAX_SHORT_TEXT,
    MAX_SUGGESTION_TEXT,
    MAX_TEXT,
    Question,
    Suggestion,
    Survey,
)

Choices = Sequence[tuple[Any, Any]]
AnswerValue = str | int | list[str] | None


def field_name(question: Question) -> str:
    return f"q{question.pk}"


class SurveyAnswerForm(forms.Form):
    """One field per question, named ``q<question id>``. No field is ``required`` here: whether a
    required question must be answered depends on the skip logic, which the service applies (its
    ``answer_required`` refusal lands on the question's field)."""

    def __init__(self, *args: Any, survey: Survey, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions: list[Question] = list(survey.questions.all())
        for question in self.questions:
            self.fields[field_name(question)] = self._field(question)

    @staticmethod
    def _field(question: Question) -> forms.Field:
        options: dict[str, Any] = {"label": question.text, "required": False, "help_text": question.help_text}
        if question.kind == Question.Kind.SINGLE:
            return forms.ChoiceField(
                choices=[(c["key"], c["label"]) for c in question.choices],
                widget=forms.RadioSelect,
                **options,
            )
        if question.kind == Question.Kind.MULTIPLE:
            return forms.MultipleChoiceField(
                choices=[(c["key"], c["label"]) for c in question.choices],
                widget=forms.CheckboxSelectMultiple,
                **options,
            )
        if question.kind == Question.Kind.RATING:
            return forms.ChoiceField(
                choices=[(str(n), str(n)) for n in range(1, question.scale_max + 1)],
                widget=forms.RadioSelect,
                **options,
            )
        if question.kind == Question.Kind.SHORT_TEXT:
            return forms.CharField(max_length=MAX_SHORT_TEXT, **options)
        return forms.CharField(max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4}), **options)

    def answers(self) -> dict[int, AnswerValue]:
        """``{question id: value}`` for the service: a key, a list of keys, a number or a text."""
        values: dict[int, AnswerValue] = {}
        for question in self.questions:
            value = self.cleaned_data.get(field_name(question))
            if value in (None, "", []):
                continue
            if question.kind == Question.Kind.RATING:
                values[question.pk] = int(value)
            elif question.kind == Question.Kind.MULTIPLE:
                values[question.pk] = [str(v) for v in value]
            else:
                values[question.pk] = str(value)
        return values

    def error_positions(self) -> list[int]:
        """The positions of the questions with an error, for the summary above the form."""
        return [q.position for q in self.questions if self.errors.get(field_name(q))]

    def blocks(self) -> list[QuestionBlock]:
        """Each question with its bound field and, under skip logic, the choice it depends on."""
        by_position = {q.position: q for q in self.questions}
        blocks = []
        for question in self.questions:
            condition = ""
            earlier = by_position.get(question.show_if_position or 0)
            if earlier is not None:
                condition = earlier.choice_label(question.show_if_choice)
            blocks.append(QuestionBlock(question, self[field_name(question)], condition))
        return blocks


@dataclass(frozen=True)
class QuestionBlock:
    question: Question
    field: forms.BoundField
    condition: str  # the label of the earlier choice this question depends on, or ""


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to ``MAX_PHOTOS`` files; what they are is checked by the service, from their content."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No ``capture``: it makes phones open the camera only, hiding the photos already taken;
        # ``accept="image/*"`` offers the camera as well.
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:  # type: ignore[override]
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("At most %(limit)s photos per request."),
                code="too_many_photos",
                params={"limit": MAX_PHOTOS},
            )
        single = super().clean
        return [cast(UploadedFile, single(f, initial)) for f in files]


def center_choices(centers: Iterable[Center]) -> list[tuple[Any, Any]]:
    """Centers grouped by sub-district (the order of ``centers`` is kept)."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for center in centers:
        groups.setdefault(center.community.street.name, []).append((center.pk, center.name))
    return [("", _("Choose a center")), *groups.items()]


class SuggestionForm(forms.Form):
    center = forms.TypedChoiceField(label=_("Which center is it about?"), coerce=int)
    kind = forms.ChoiceField(
        label=_("What kind of request is it?"), choices=Suggestion.Kind.choices, widget=forms.RadioSelect
    )
    category = forms.ChoiceField(
        label=_("What is it about?"), choices=Suggestion.Category.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("Your request"),
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": MAX_SUGGESTION_TEXT}),
        help_text=_("What happened or what you would like, where and when: 5 to 2,000 characters."),
    )
    photos = PhotosField(
        label=_("Photos (optional)"),
        required=False,
        help_text=_("Up to 4 photos (JPEG, PNG or WebP, at most 5 MB each). Their location data is removed."),
    )

    def __init__(self, *args: Any, centers: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["center"])
        field.choices = list(centers)


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with how your request was handled?"),
        coerce=int,
        choices=list(Suggestion.Rating.choices),
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose one of the five answers.")},
    )
    comment = forms.CharField(
        label=_("Anything to add? (optional)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("What is still not solved?"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The request goes back to the people handling it, with a new deadline."),
    )


class BoardFilterForm(forms.Form):
    center = forms.TypedChoiceField(label=_("Center"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, centers: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["center"])
        field.choices = [("", _("All centers")), *centers]
