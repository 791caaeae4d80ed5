"""Residents' voice API: answer surveys; submit, follow, rate and reopen requests; the public
board; for staff, surveys and their results, the request workflow (assign, respond, extend,
resolve, publish), forums and visits, deadline rules, and the rates."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field as NinjaField
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from pydantic import AwareDatetime, StrictInt, StrictStr

from livingroom.core.errors import NotFound
from livingroom.core.excel import xlsx_response
from livingroom.core.masking import mask_name
from livingroom.core.permissions import staff_scope_of
from livingroom.core.schemas import DbId, ErrorOut
from livingroom.people.auth import ResidentSession, TokenAuth, acting_user
from livingroom.people.models import User
from livingroom.voice import errors, selectors, services
from livingroom.voice.models import (
    MAX_PHOTO_BYTES,
    MAX_SUGGESTION_TEXT,
    Engagement,
    Extension,
    Question,
    Suggestion,
    SuggestionEvent,
    Survey,
)

ANONYMOUS = "anonymous"


def _anyone(request: HttpRequest) -> str:
    """The last of the optional authenticators: a visitor who is not signed in."""
    return ANONYMOUS


optional_auth = [TokenAuth(), ResidentSession(), _anyone]

public_router = Router(tags=["voice"])
survey_router = Router(tags=["voice"])
resident_router = Router(tags=["voice"])
staff_router = Router(tags=["staff: voice"])

RATES_MAX_DAYS = selectors.MAX_PERIOD_DAYS


def _user_or_none(request: HttpRequest) -> User | None:
    user = getattr(request, "auth", None)
    return user if isinstance(user, User) else None


# --- schemas ------------------------------------------------------------------------------------


class ChoiceOut(Schema):
    key: str
    label: str


class QuestionOut(Schema):
    id: int
    position: int
    kind: str
    text: str
    help_text: str
    required: bool
    choices: list[ChoiceOut]
    scale_max: int
    show_if_position: int | None
    show_if_choice: str


class SurveyOut(Schema):
    id: int
    title: str
    description: str
    area: str
    area_name: str
    audience: str
    anonymous: bool
    open_to_visitors: bool
    status: str
    closes_at: dt.datetime | None
    responses: int
    answered: bool
    questions: list[QuestionOut]


def question_out(q: Question) -> QuestionOut:
    return QuestionOut(
        id=q.pk,
        position=q.position,
        kind=q.kind,
        text=q.text,
        help_text=q.help_text,
        required=q.required,
        choices=[ChoiceOut(key=c["key"], label=c["label"]) for c in q.choices],
        scale_max=q.scale_max,
        show_if_position=q.show_if_position,
        show_if_choice=q.show_if_choice,
    )


def survey_out(s: Survey, *, answered: bool = False) -> SurveyOut:
    return SurveyOut(
        id=s.pk,
        title=s.title,
        description=s.description,
        area=s.area,
        area_name=s.area_name,
        audience=s.audience,
        anonymous=s.anonymous,
        open_to_visitors=s.open_to_visitors,
        status=s.status,
        closes_at=s.closes_at,
        responses=s.responses_count,
        answered=answered,
        questions=[question_out(q) for q in s.questions.all()],
    )


AnswerValue = StrictInt | StrictStr | list[StrictStr] | None


class ResponseIn(Schema):
    # {"<question id>": "a" | ["a", "c"] | 4 | "text"}
    answers: dict[int, AnswerValue]
    visitor_token: str | None = NinjaField(None, max_length=80)


class ResponseOut(Schema):
    survey_id: int
    given_on: dt.date
    anonymous: bool


class PhotoOut(Schema):
    id: int
    kind: str
    url: str
    width: int
    height: int


class EventOut(Schema):
    kind: str
    at: dt.datetime
    note: str
    from_owner: str
    to_owner: str


class SuggestionOut(Schema):
    id: int
    tracking_no: str
    kind: str
    category: str
    text: str
    center_id: int
    center: str
    owner: str
    channel: str
    status: str
    received_at: dt.datetime
    respond_by: dt.datetime
    resolve_by: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    reply: str
    rating: int | None
    reopen_count: int
    follow_up: bool
    overdue: bool
    can_rate: bool
    can_reopen: bool
    photos: list[PhotoOut]
    events: list[EventOut]


class PublicSuggestionOut(Schema):
    """What the public board shows: no text of the resident, no name, only the staff summary."""

    tracking_no: str
    kind: str
    category: str
    center_id: int
    center: str
    summary: str
    status: str
    received_at: dt.date
    resolved_at: dt.date | None
    reply: str
    done: str
    photos: list[PhotoOut]


def photo_out(photo: Any) -> PhotoOut:
    return PhotoOut(
        id=photo.pk,
        kind=photo.kind,
        url=f"/voice/photos/{photo.pk}.jpg",
        width=photo.width,
        height=photo.height,
    )


def suggestion_out(s: Suggestion, *, events: list[SuggestionEvent] | None = None) -> SuggestionOut:
    return SuggestionOut(
        id=s.pk,
        tracking_no=s.tracking_no,
        kind=s.kind,
        category=s.category,
        text=s.text,
        center_id=s.center_id,
        center=s.center.name,
        owner=s.owner_name,
        channel=s.channel,
        status=s.status,
        received_at=s.received_at,
        respond_by=s.respond_by,
        resolve_by=s.resolve_by,
        first_response_at=s.first_response_at,
        resolved_at=s.resolved_at,
        reply=s.reply,
        rating=s.rating,
        reopen_count=s.reopen_count,
        follow_up=s.follow_up,
        overdue=s.overdue,
        can_rate=s.status == Suggestion.Status.RESOLVED,
        can_reopen=s.can_reopen(timezone.now()),
        photos=[photo_out(p) for p in s.photos.all()],
        events=[
            EventOut(kind=e.kind, at=e.at, note=e.note, from_owner=e.from_owner, to_owner=e.to_owner)
            for e in (events if events is not None else [])
        ],
    )


def public_out(s: Suggestion) -> PublicSuggestionOut:
    return PublicSuggestionOut(
        tracking_no=s.tracking_no,
        kind=s.kind,
        category=s.category,
        center_id=s.center_id,
        center=s.center.name,
        summary=s.public_summary,
        status=s.status,
        received_at=s.received_at.date(),
        resolved_at=s.resolved_at.date() if s.resolved_at else None,
        reply=s.reply,
        done=s.done_note,
        photos=[photo_out(p) for p in s.photos.all()],
    )


class SuggestionIn(Schema):
    center_id: DbId
    kind: Literal["consultation", "help", "complaint", "report", "suggestion"]
    category: Literal["facilities", "services", "activities", "environment", "staff", "other"]
    text: str = NinjaField(max_length=MAX_SUGGESTION_TEXT * 10)
    space_id: DbId | None = None


class RatingIn(Schema):
    rating: StrictInt = NinjaField(ge=1, le=5)
    comment: str = NinjaField("", max_length=300)


class ReopenIn(Schema):
    reason: str = NinjaField(max_length=4000)


# --- surveys: anyone ----------------------------------------------------------------------------


@survey_router.get(
    "/surveys/{survey_id}",
    response={200: SurveyOut, 400: ErrorOut, 404: ErrorOut},
    summary="A published survey with its questions (signed in or not)",
)
def survey(request: HttpRequest, survey_id: DbId) -> SurveyOut:
    found = selectors.survey_for_answer(survey_id)
    if found is None:
        raise errors.SurveyNotFound()
    return survey_out(found, answered=selectors.has_answered(found, _user_or_none(request)))


@survey_router.post(
    "/surveys/{survey_id}/responses",
    response={201: ResponseOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Answer a survey once; an anonymous survey keeps no link to you",
)
def respond(request: HttpRequest, survey_id: DbId, payload: ResponseIn) -> Status[ResponseOut]:
    user = _user_or_none(request)
    response = services.response_submit(
        survey_id=survey_id,
        user=user,
        answers=dict(payload.answers),
        visitor_token=None if user else payload.visitor_token,
    )
    return Status(
        201,
        ResponseOut(
            survey_id=survey_id, given_on=response.given_on, anonymous=response.respondent_id is None
        ),
    )


# --- suggestions: public and residents ----------------------------------------------------------


@public_router.get(
    "/suggestions/board",
    response={200: list[PublicSuggestionOut], 400: ErrorOut},
    summary="The public board: requests made public, their replies and what was carried out",
)
def board(request: HttpRequest, center: DbId | None = None) -> list[PublicSuggestionOut]:
    qs = selectors.public_board_items()
    if center is not None:
        qs = qs.filter(center_id=center)
    return [public_out(s) for s in qs[:200]]


@survey_router.get(
    "/suggestions/{tracking_no}",
    response={200: SuggestionOut | PublicSuggestionOut, 400: ErrorOut, 404: ErrorOut},
    summary="A request by its tracking number: all of it for its resident, the public view for others",
)
def suggestion(request: HttpRequest, tracking_no: str) -> SuggestionOut | PublicSuggestionOut:
    tracking_no = tracking_no[:20].upper()
    user = _user_or_none(request)
    if user is not None:
        own = selectors.suggestion_of_resident(user, tracking_no)
        if own is not None:
            return suggestion_out(own, events=list(own.events.all()))
    public = selectors.suggestion_public(tracking_no)
    if public is None:
        raise errors.SuggestionNotFound()
    return public_out(public)


def _photos(files: list[UploadedFile] | None) -> list[bytes]:
    photos: list[bytes] = []
    for upload in files or []:
        if upload.size is not None and upload.size > MAX_PHOTO_BYTES:
            raise errors.PhotoTooLarge(limit=MAX_PHOTO_BYTES // (1024 * 1024), field="photos")
        photos.append(upload.read(MAX_PHOTO_BYTES + 1))
    return photos


@resident_router.post(
    "/suggestions",
    response={201: SuggestionOut, 400: ErrorOut, 404: ErrorOut, 413: ErrorOut},
    summary="Submit a request (multipart; up to 4 'photos'); its tracking number comes back at once",
)
def submit(
    request: HttpRequest,
    payload: Form[SuggestionIn],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Status[SuggestionOut]:
    if photos and len(photos) > 4:
        raise errors.TooManyPhotos(limit=4, field="photos")
    created = services.suggestion_submit(
        user=acting_user(request),
        draft=services.SuggestionDraft(
            center_id=payload.center_id,
            kind=payload.kind,
            category=payload.category,
            text=payload.text,
            space_id=payload.space_id,
            photos=_photos(photos),
        ),
    )
    own = selectors.suggestion_of_resident(acting_user(request), created.tracking_no)
    assert own is not None
    return Status(201, suggestion_out(own, events=list(own.events.all())))


@resident_router.get("/me/suggestions", response=list[SuggestionOut], summary="My requests, newest first")
def my_suggestions(request: HttpRequest) -> list[SuggestionOut]:
    qs = selectors.suggestions_of_resident(acting_user(request)).prefetch_related("photos")
    return [suggestion_out(s) for s in qs[:200]]


@resident_router.post(
    "/suggestions/{suggestion_id}/rating",
    response={200: SuggestionOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Rate a resolved request (5 very satisfied … 1 very dissatisfied); 1–2 open a follow-up",
)
def rate(request: HttpRequest, suggestion_id: DbId, payload: RatingIn) -> SuggestionOut:
    user = acting_user(request)
    done = services.suggestion_rate(
        user=user, suggestion_id=suggestion_id, rating=payload.rating, comment=payload.comment
    )
    own = selectors.suggestion_of_resident(user, done.tracking_no)
    assert own is not None
    return suggestion_out(own, events=list(own.events.all()))


@resident_router.post(
    "/suggestions/{suggestion_id}/reopen",
    response={200: SuggestionOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Reopen a resolved request within the window, saying why",
)
def reopen(request: HttpRequest, suggestion_id: DbId, payload: ReopenIn) -> SuggestionOut:
    user = acting_user(request)
    done = services.suggestion_reopen(user=user, suggestion_id=suggestion_id, reason=payload.reason)
    own = selectors.suggestion_of_resident(user, done.tracking_no)
    assert own is not None
    return suggestion_out(own, events=list(own.events.all()))


# --- staff: surveys -----------------------------------------------------------------------------


class QuestionIn(Schema):
    kind: Literal["single", "multiple", "rating", "short_text", "long_text"]
    text: str = NinjaField(max_length=300)
    help_text: str = NinjaField("", max_length=200)
    required: bool = False
    choices: list[str] = NinjaField(default_factory=list, max_length=20)
    scale_max: int = NinjaField(5, ge=2, le=10)
    show_if_position: int | None = NinjaField(None, ge=1, le=60)
    show_if_choice: str = NinjaField("", max_length=20)


class SurveyIn(Schema):
    title: str = NinjaField(max_length=120)
    description: str = NinjaField("", max_length=4000)
    area: Literal["community", "street", "district"] = "community"
    community_id: DbId | None = None
    street_id: DbId | None = None
    audience: Literal["everyone", "riders", "park_workers", "elderly", "disabled", "families"] = "everyone"
    anonymous: bool = False
    closes_at: AwareDatetime | None = None
    questions: list[QuestionIn] = NinjaField(max_length=60)


class StaffSurveyOut(Schema):
    id: int
    title: str
    status: str
    area: str
    area_name: str
    audience: str
    anonymous: bool
    responses: int
    created_at: dt.datetime
    closes_at: dt.datetime | None
    link: str


class ChoiceCountOut(Schema):
    key: str
    label: str
    count: int
    percent: float


class QuestionResultOut(Schema):
    id: int
    position: int
    kind: str
    text: str
    answered: int
    choices: list[ChoiceCountOut]
    scale: list[ChoiceCountOut]
    average: float | None
    texts: list[str]


class ResultsOut(Schema):
    survey: StaffSurveyOut
    questions: list[QuestionResultOut]


def staff_survey_out(s: Survey) -> StaffSurveyOut:
    return StaffSurveyOut(
        id=s.pk,
        title=s.title,
        status=s.status,
        area=s.area,
        area_name=s.area_name,
        audience=s.audience,
        anonymous=s.anonymous,
        responses=s.responses_count,
        created_at=s.created_at,
        closes_at=s.closes_at,
        link=f"/surveys/{s.pk}/",
    )


def _draft(payload: SurveyIn) -> services.SurveyDraft:
    return services.SurveyDraft(
        title=payload.title,
        description=payload.description,
        area=payload.area,
        community_id=payload.community_id,
        street_id=payload.street_id,
        audience=payload.audience,
        anonymous=payload.anonymous,
        closes_at=payload.closes_at,
        questions=[
            services.QuestionDraft(
                kind=q.kind,
                text=q.text,
                required=q.required,
                help_text=q.help_text,
                choices=list(q.choices),
                scale_max=q.scale_max,
                show_if_position=q.show_if_position,
                show_if_choice=q.show_if_choice,
            )
            for q in payload.questions
        ],
    )


@staff_router.get("/voice/surveys", response=list[StaffSurveyOut], summary="Surveys in my area")
def staff_surveys(request: HttpRequest) -> list[StaffSurveyOut]:
    return [staff_survey_out(s) for s in selectors.surveys_for_staff(staff_scope_of(request))[:500]]


@staff_router.post(
    "/voice/surveys",
    response={201: StaffSurveyOut, 400: ErrorOut, 404: ErrorOut},
    summary="Create a survey (a draft) with its questions",
)
def survey_create(request: HttpRequest, payload: SurveyIn) -> Status[StaffSurveyOut]:
    created = services.survey_create(
        staff=acting_user(request), scope=staff_scope_of(request), draft=_draft(payload)
    )
    return Status(201, staff_survey_out(created))


@staff_router.put(
    "/voice/surveys/{survey_id}",
    response={200: StaffSurveyOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Replace a draft survey and its questions",
)
def survey_update(request: HttpRequest, survey_id: DbId, payload: SurveyIn) -> StaffSurveyOut:
    return staff_survey_out(
        services.survey_update(
            staff=acting_user(request),
            scope=staff_scope_of(request),
            survey_id=survey_id,
            draft=_draft(payload),
        )
    )


@staff_router.post(
    "/voice/surveys/{survey_id}/publish",
    response={200: StaffSurveyOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Publish a draft survey (its link and QR code then work)",
)
def survey_publish(request: HttpRequest, survey_id: DbId) -> StaffSurveyOut:
    return staff_survey_out(
        services.survey_publish(
            staff=acting_user(request), scope=staff_scope_of(request), survey_id=survey_id
        )
    )


@staff_router.post(
    "/voice/surveys/{survey_id}/close",
    response={200: StaffSurveyOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Close a survey to further answers",
)
def survey_close(request: HttpRequest, survey_id: DbId) -> StaffSurveyOut:
    return staff_survey_out(
        services.survey_close(staff=acting_user(request), scope=staff_scope_of(request), survey_id=survey_id)
    )


def _staff_survey(request: HttpRequest, survey_id: int) -> Survey:
    found = selectors.survey_for_staff(staff_scope_of(request), survey_id)
    if found is None:
        raise errors.SurveyNotFound()
    return found


@staff_router.get(
    "/voice/surveys/{survey_id}/results",
    response={200: ResultsOut, 400: ErrorOut, 404: ErrorOut},
    summary="Live results: counts and percentages per choice, rating averages, free-text answers",
)
def survey_results(request: HttpRequest, survey_id: DbId) -> ResultsOut:
    found = _staff_survey(request, survey_id)
    return ResultsOut(
        survey=staff_survey_out(found),
        questions=[
            QuestionResultOut(
                id=r.question.pk,
                position=r.question.position,
                kind=r.question.kind,
                text=r.question.text,
                answered=r.answered,
                choices=[ChoiceCountOut(**c.__dict__) for c in r.choices],
                scale=[ChoiceCountOut(**c.__dict__) for c in r.scale],
                average=r.average,
                texts=r.texts,
            )
            for r in selectors.survey_results(found)
        ],
    )


@staff_router.get(
    "/voice/surveys/{survey_id}/export.xlsx",
    response={200: None, 400: ErrorOut, 404: ErrorOut},
    summary="Every response as a row, in Excel",
)
def survey_export(request: HttpRequest, survey_id: DbId) -> HttpResponse:
    found = _staff_survey(request, survey_id)
    header, rows = selectors.survey_answer_rows(found)
    return xlsx_response(f"survey-{found.pk}.xlsx", found.title[:31], header, rows)


# --- staff: suggestions -------------------------------------------------------------------------


class StaffSuggestionOut(SuggestionOut):
    resident: str
    owner_organization_id: int | None
    escalation_level: int
    is_public: bool
    public_summary: str
    done_note: str
    extensions: list[ExtensionOut]


class ExtensionOut(Schema):
    id: int
    suggestion_id: int
    tracking_no: str
    days: int
    reason: str
    status: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str


StaffSuggestionOut.model_rebuild()


def extension_out(e: Extension) -> ExtensionOut:
    return ExtensionOut(
        id=e.pk,
        suggestion_id=e.suggestion_id,
        tracking_no=e.suggestion.tracking_no,
        days=e.days,
        reason=e.reason,
        status=e.status,
        requested_at=e.requested_at,
        decided_at=e.decided_at,
        decision_note=e.decision_note,
    )


def staff_out(s: Suggestion) -> StaffSuggestionOut:
    base = suggestion_out(s, events=list(s.events.all()))
    return StaffSuggestionOut(
        **base.model_dump(exclude={"photos", "events"}),
        photos=base.photos,
        events=base.events,
        resident=mask_name(s.resident.real_name) if s.resident_id and s.resident else "",
        owner_organization_id=s.owner_organization_id,
        escalation_level=s.escalation_level,
        is_public=s.is_public,
        public_summary=s.public_summary,
        done_note=s.done_note,
        extensions=[extension_out(e) for e in s.extensions.all()],
    )


class StaffSuggestionIn(SuggestionIn):
    channel: Literal["desk", "phone"] = "desk"
    resident_id: DbId | None = None


class StaffFilter(Schema):
    status: Literal["", "open", "received", "assigned", "in_progress", "resolved", "closed"] = ""
    center: DbId | None = None
    kind: str = NinjaField("", max_length=20)
    overdue: bool = False
    q: str = NinjaField("", max_length=40)


class SuggestionRowOut(Schema):
    id: int
    tracking_no: str
    kind: str
    category: str
    center: str
    owner: str
    status: str
    channel: str
    received_at: dt.datetime
    respond_by: dt.datetime
    resolve_by: dt.datetime
    overdue: bool
    rating: int | None


class AssignIn(Schema):
    organization_id: DbId | None = None
    note: str = NinjaField("", max_length=300)


class MessageIn(Schema):
    message: str = NinjaField(max_length=4000)


class ResolveIn(Schema):
    reply: str = NinjaField(max_length=4000)
    done_note: str = NinjaField("", max_length=300)


class ExtensionIn(Schema):
    days: int = NinjaField(ge=1, le=30)
    reason: str = NinjaField(max_length=300)


class DecisionIn(Schema):
    approve: bool
    note: str = NinjaField("", max_length=300)


class PublishIn(Schema):
    public: bool = True
    summary: str = NinjaField("", max_length=600)
    done_note: str = NinjaField("", max_length=300)


def _after(request: HttpRequest, done: Suggestion) -> StaffSuggestionOut:
    """The request as it stands after an action; a hand-over may have taken it out of the actor's
    sight (a partner handing it back to the center), and the answer is still the result."""
    found = selectors.staff_suggestion(staff_scope_of(request), done.pk)
    return staff_out(found if found is not None else done)


def _staff_suggestion(request: HttpRequest, suggestion_id: int) -> StaffSuggestionOut:
    found = selectors.staff_suggestion(staff_scope_of(request), suggestion_id)
    if found is None:
        raise errors.SuggestionNotFound()
    return staff_out(found)


@staff_router.get(
    "/voice/suggestions", response={200: list[SuggestionRowOut], 400: ErrorOut}, summary="Requests I may see"
)
def staff_list(request: HttpRequest, filters: Query[StaffFilter]) -> list[SuggestionRowOut]:
    qs = selectors.staff_suggestions_filtered(
        staff_scope_of(request),
        status=filters.status,
        center_id=filters.center,
        kind=filters.kind,
        overdue=filters.overdue,
        q=filters.q.strip(),
    )
    return [
        SuggestionRowOut(
            id=s.pk,
            tracking_no=s.tracking_no,
            kind=s.kind,
            category=s.category,
            center=s.center.name,
            owner=s.owner_name,
            status=s.status,
            channel=s.channel,
            received_at=s.received_at,
            respond_by=s.respond_by,
            resolve_by=s.resolve_by,
            overdue=s.overdue,
            rating=s.rating,
        )
        for s in qs[:500]
    ]


@staff_router.post(
    "/voice/suggestions",
    response={201: StaffSuggestionOut, 400: ErrorOut, 404: ErrorOut, 413: ErrorOut},
    summary="Record a request heard at the desk or on the phone (for a resident, or for nobody)",
)
def staff_record(request: HttpRequest, payload: StaffSuggestionIn) -> Status[StaffSuggestionOut]:
    created = services.suggestion_record(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        draft=services.SuggestionDraft(
            center_id=payload.center_id,
            kind=payload.kind,
            category=payload.category,
            text=payload.text,
            space_id=payload.space_id,
        ),
        channel=payload.channel,
        resident_id=payload.resident_id,
    )
    return Status(201, _after(request, created))


@staff_router.get(
    "/voice/suggestions/{suggestion_id}",
    response={200: StaffSuggestionOut, 400: ErrorOut, 404: ErrorOut},
    summary="One request with every step",
)
def staff_detail(request: HttpRequest, suggestion_id: DbId) -> StaffSuggestionOut:
    return _staff_suggestion(request, suggestion_id)


@staff_router.post(
    "/voice/suggestions/{suggestion_id}/assign",
    response={200: StaffSuggestionOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Hand a request to one owner: a partner or department at its center, or back to the center",
)
def assign(request: HttpRequest, suggestion_id: DbId, payload: AssignIn) -> StaffSuggestionOut:
    done = services.suggestion_assign(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        suggestion_id=suggestion_id,
        organization_id=payload.organization_id,
        note=payload.note,
    )
    return _after(request, done)


@staff_router.post(
    "/voice/suggestions/{suggestion_id}/respond",
    response={200: StaffSuggestionOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Answer the resident (the first answer counts for the response rate) and start work",
)
def respond_staff(request: HttpRequest, suggestion_id: DbId, payload: MessageIn) -> StaffSuggestionOut:
    done = services.suggestion_respond(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        suggestion_id=suggestion_id,
        message=payload.message,
    )
    return _after(request, done)


@staff_router.post(
    "/voice/suggestions/{suggestion_id}/extensions",
    response={201: ExtensionOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Ask the supervisor for more working days",
)
def extend(request: HttpRequest, suggestion_id: DbId, payload: ExtensionIn) -> Status[ExtensionOut]:
    created = services.extension_request(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        suggestion_id=suggestion_id,
        days=payload.days,
        reason=payload.reason,
    )
    return Status(201, extension_out(created))


@staff_router.get(
    "/voice/extensions", response=list[ExtensionOut], summary="Extension requests waiting for a decision"
)
def extensions(request: HttpRequest) -> list[ExtensionOut]:
    return [extension_out(e) for e in selectors.pending_extensions(staff_scope_of(request))[:200]]


@staff_router.post(
    "/voice/extensions/{extension_id}/decision",
    response={200: ExtensionOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Approve or refuse an extension (sub-district or district officials)",
)
def decide(request: HttpRequest, extension_id: DbId, payload: DecisionIn) -> ExtensionOut:
    return extension_out(
        services.extension_decide(
            staff=acting_user(request),
            scope=staff_scope_of(request),
            extension_id=extension_id,
            approve=payload.approve,
            note=payload.note,
        )
    )


@staff_router.post(
    "/voice/suggestions/{suggestion_id}/resolve",
    response={200: StaffSuggestionOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Resolve with the public reply the resident reads",
)
def resolve(request: HttpRequest, suggestion_id: DbId, payload: ResolveIn) -> StaffSuggestionOut:
    done = services.suggestion_resolve(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        suggestion_id=suggestion_id,
        reply=payload.reply,
        done_note=payload.done_note,
    )
    return _after(request, done)


@staff_router.post(
    "/voice/suggestions/{suggestion_id}/publish",
    response={200: StaffSuggestionOut, 400: ErrorOut, 404: ErrorOut},
    summary="Put a request on its center's public board with a summary free of personal details",
)
def publish(request: HttpRequest, suggestion_id: DbId, payload: PublishIn) -> StaffSuggestionOut:
    done = services.suggestion_publish(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        suggestion_id=suggestion_id,
        public=payload.public,
        summary=payload.summary,
        done_note=payload.done_note,
    )
    return _after(request, done)


@staff_router.post(
    "/voice/suggestions/{suggestion_id}/photos",
    response={201: PhotoOut, 400: ErrorOut, 404: ErrorOut, 413: ErrorOut},
    summary="Add a before or after photo (multipart: kind, photo)",
)
def add_photo(
    request: HttpRequest,
    suggestion_id: DbId,
    kind: Form[Literal["before", "after"]],
    photo: File[UploadedFile],
) -> Status[PhotoOut]:
    data = _photos([photo])[0]
    created = services.photo_add(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        suggestion_id=suggestion_id,
        kind=kind,
        data=data,
    )
    return Status(201, photo_out(created))


# --- staff: forums and visits -------------------------------------------------------------------


class RaisedIn(Schema):
    kind: Literal["consultation", "help", "complaint", "report", "suggestion"] = "suggestion"
    category: Literal["facilities", "services", "activities", "environment", "staff", "other"] = "other"
    text: str = NinjaField(max_length=MAX_SUGGESTION_TEXT * 10)


class EngagementIn(Schema):
    center_id: DbId
    kind: Literal["forum", "visit", "questionnaire"]
    held_on: dt.date
    place: str = NinjaField(max_length=120)
    participants: int = NinjaField(ge=1, le=10000)
    topics: str = NinjaField(max_length=300)
    notes: str = NinjaField("", max_length=4000)
    raised: list[RaisedIn] = NinjaField(default_factory=list, max_length=50)


class EngagementOut(Schema):
    id: int
    center_id: int
    center: str
    kind: str
    held_on: dt.date
    place: str
    participants: int
    topics: str
    notes: str
    suggestions: list[str]


def engagement_out(e: Engagement) -> EngagementOut:
    return EngagementOut(
        id=e.pk,
        center_id=e.center_id,
        center=e.center.name,
        kind=e.kind,
        held_on=e.held_on,
        place=e.place,
        participants=e.participants,
        topics=e.topics,
        notes=e.notes,
        suggestions=[s.tracking_no for s in e.suggestions.all()],
    )


@staff_router.post(
    "/voice/engagements",
    response={201: EngagementOut, 400: ErrorOut, 404: ErrorOut},
    summary="Record a forum or a home visit; what residents raised becomes tracked requests in the same step",
)
def engagement_create(request: HttpRequest, payload: EngagementIn) -> Status[EngagementOut]:
    scope = staff_scope_of(request)
    created = services.engagement_record(
        staff=acting_user(request),
        scope=scope,
        center_id=payload.center_id,
        kind=payload.kind,
        held_on=payload.held_on,
        place=payload.place,
        participants=payload.participants,
        topics=payload.topics,
        notes=payload.notes,
        raised=[services.RaisedPoint(kind=r.kind, category=r.category, text=r.text) for r in payload.raised],
    )
    found = selectors.engagement_for_staff(scope, created.pk)
    assert found is not None
    return Status(201, engagement_out(found))


@staff_router.get("/voice/engagements", response=list[EngagementOut], summary="Forums and visits in my area")
def engagements(request: HttpRequest) -> list[EngagementOut]:
    qs = selectors.engagements_for_staff(staff_scope_of(request)).prefetch_related("suggestions")
    return [engagement_out(e) for e in qs[:300]]


# --- staff: the rates ---------------------------------------------------------------------------


class RatesOut(Schema):
    scope: str
    name: str
    start: dt.date
    end: dt.date
    received: int
    responded: int
    responded_on_time: int
    resolved: int
    resolved_on_time: int
    rated: int
    satisfied: int
    reopened: int
    overdue_open: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    on_time_rate: float | None
    reopen_rate: float | None
    average_response_hours: float | None


class RatesQuery(Schema):
    scope: str = NinjaField("", max_length=40)
    start: dt.date | None = NinjaField(None, alias="from")
    end: dt.date | None = NinjaField(None, alias="to")


def parse_period(start: dt.date | None, end: dt.date | None, *, today: dt.date) -> tuple[dt.date, dt.date]:
    end = end or today
    start = start or end.replace(day=1)
    if start > end or (end - start).days > RATES_MAX_DAYS:
        raise errors.PeriodInvalid(field="from")
    return start, end


@staff_router.get(
    "/voice/rates",
    response={200: RatesOut, 400: ErrorOut, 404: ErrorOut},
    summary="Response, resolution, satisfaction, on-time and reopen rates for a scope and period",
)
def voice_rates(request: HttpRequest, params: Query[RatesQuery]) -> RatesOut:
    staff = staff_scope_of(request)
    scope = params.scope.strip()
    if not scope:  # the widest scope the caller has: the district, their sub-district, their center
        choices = selectors.rate_scopes_for(staff)
        if not choices:
            raise NotFound(field="scope")
        scope = choices[0].kind if choices[0].kind == "district" else f"{choices[0].kind}:{choices[0].id}"
    try:
        target = selectors.rate_scope(staff, scope)
    except ValueError as exc:
        raise errors.ScopeInvalid(field="scope") from exc
    if target is None:
        raise NotFound(field="scope")
    first, last = parse_period(params.start, params.end, today=timezone.localdate())
    numbers = selectors.rates(staff, target, first, last)
    return RatesOut(
        scope=scope,
        name=target.name or str(_("The whole district")),
        start=first,
        end=last,
        **numbers.as_dict(),
    )
