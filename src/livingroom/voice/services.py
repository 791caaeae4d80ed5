"""Every change in residents' voice: surveys and their answers, suggestions through their
workflow, extensions, photos, forums and visits, deadline rules, and the clock.

A suggestion's status moves by one conditional UPDATE from the states it may leave
(``_move``): two members of staff acting at once, or a resident rating while staff reopen, cannot
both succeed; the loser gets ``suggestion_wrong_state`` and nothing is written. Every step appends
a ``SuggestionEvent`` in the same transaction, and the hand-overs keep who had it and who has it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livingroom.core.audit import audit_log
from livingroom.core.errors import NotFound
from livingroom.core.masking import mask_text
from livingroom.core.scopes import StaffScope
from livingroom.notices.services import notice_send, notices_send_many
from livingroom.people.models import Resident, StaffRole, User
from livingroom.places.models import Center, Community, Organization, Space, Street
from livingroom.places.workdays import WorkCalendar
from livingroom.voice import errors
from livingroom.voice.models import (
    FOLLOW_UP,
    MAX_CHOICES,
    MAX_PHOTOS,
    MAX_QUESTIONS,
    MAX_SHORT_TEXT,
    MAX_SUGGESTION_TEXT,
    MAX_TEXT,
    Answer,
    Audience,
    DeadlineRule,
    Engagement,
    Extension,
    Participation,
    Photo,
    Question,
    Response,
    Suggestion,
    SuggestionEvent,
    Survey,
    is_supervisor,
    streets_covered,
    suggestions_visible_to,
    surveys_visible_to,
)
from livingroom.voice.photos import clean_photo

# Used when no DeadlineRule matches a request's type: (working days to respond, to resolve).
DEFAULT_DEADLINES: dict[str, tuple[int, int]] = {
    Suggestion.Kind.CONSULTATION: (1, 3),
    Suggestion.Kind.HELP: (1, 5),
    Suggestion.Kind.COMPLAINT: (1, 5),
    Suggestion.Kind.REPORT: (1, 10),
    Suggestion.Kind.SUGGESTION: (2, 15),
}
SUPERVISOR_ROLES = {StaffRole.Role.DISTRICT_OFFICIAL, StaffRole.Role.STREET_OFFICIAL, "superuser"}
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MIN_SUGGESTION_TEXT = 5


def _text(value: str | None, limit: int) -> str:
    return " ".join((value or "").split())[:limit]


def _long_text(value: str | None) -> str:
    return "\n".join(" ".join(line.split()) for line in (value or "").strip().splitlines()).strip()


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _resident_of(user: User | None) -> Resident | None:
    if user is None or not user.is_authenticated:
        return None
    return Resident.objects.select_related("home_community", "user").filter(user=user).first()


# --- surveys ------------------------------------------------------------------------------------


@dataclass
class QuestionDraft:
    kind: str
    text: str
    required: bool = False
    help_text: str = ""
    choices: list[str] = field(default_factory=list)
    scale_max: int = 5
    show_if_position: int | None = None
    show_if_choice: str = ""


@dataclass
class SurveyDraft:
    title: str
    description: str = ""
    area: str = Survey.Area.COMMUNITY
    community_id: int | None = None
    street_id: int | None = None
    audience: str = Audience.EVERYONE
    anonymous: bool = False
    closes_at: dt.datetime | None = None
    questions: list[QuestionDraft] = field(default_factory=list)


def _survey_problem(problem: str) -> errors.SurveyInvalid:
    return errors.SurveyInvalid(problem=problem)


def _check_area(scope: StaffScope, draft: SurveyDraft) -> tuple[Community | None, Street | None]:
    if draft.area == Survey.Area.COMMUNITY:
        community = Community.objects.filter(pk=draft.community_id).first() if draft.community_id else None
        if community is None or not scope.covers_community(community.pk):
            raise NotFound(field="community")
        return community, None
    if draft.area == Survey.Area.STREET:
        street = Street.objects.filter(pk=draft.street_id).first() if draft.street_id else None
        if street is None:
            raise NotFound(field="street")
        if street.pk not in streets_covered(scope):
            raise NotFound(field="street")
        return None, street
    if draft.area == Survey.Area.DISTRICT:
        if not scope.district:
            raise errors.SurveyInvalid(
                problem=str(_("only district officials publish district-wide surveys")), field="area"
            )
        return None, None
    raise _survey_problem(str(_("unknown area")))


def _clean_questions(drafts: Sequence[QuestionDraft]) -> list[Question]:
    if not drafts:
        raise _survey_problem(str(_("add at least one question")))
    if len(drafts) > MAX_QUESTIONS:
        raise _survey_problem(str(_("at most %(n)s questions") % {"n": MAX_QUESTIONS}))
    questions: list[Question] = []
    for position, draft in enumerate(drafts, start=1):
        text = _text(draft.text, 300)
        if not text:
            raise _survey_problem(str(_("question %(n)s has no text") % {"n": position}))
        if draft.kind not in Question.Kind.values:
            raise _survey_problem(str(_("question %(n)s has an unknown kind") % {"n": position}))
        choices: list[dict[str, str]] = []
        if draft.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            labels = [_text(label, 100) for label in draft.choices if _text(label, 100)]
            if len(labels) < 2 or len(labels) > MAX_CHOICES or len(set(labels)) != len(labels):
                raise _survey_problem(
                    str(
                        _("question %(n)s needs 2 to %(max)s different choices")
                        % {"n": position, "max": MAX_CHOICES}
                    )
                )
            choices = [{"key": chr(ord("a") + i), "label": label} for i, label in enumerate(labels)]
        scale = draft.scale_max if draft.kind == Question.Kind.RATING else 5
        if not 2 <= scale <= 10:
            raise _survey_problem(str(_("question %(n)s: a scale has 2 to 10 points") % {"n": position}))
        show_if_position, show_if_choice = None, ""
        if draft.show_if_position:
            earlier = questions[draft.show_if_position - 1] if 0 < draft.show_if_position < position else None
            if (
                earlier is None
                or not earlier.is_choice
                or draft.show_if_choice not in {c["key"] for c in earlier.choices}
            ):
                raise _survey_problem(
                    str(
                        _("question %(n)s: a condition must name an earlier choice question and its choice")
                        % {"n": position}
                    )
                )
            show_if_position, show_if_choice = draft.show_if_position, draft.show_if_choice
        questions.append(
            Question(
                position=position,
                kind=draft.kind,
                text=text,
                help_text=_text(draft.help_text, 200),
                required=bool(draft.required),
                choices=choices,
                scale_max=scale,
                show_if_position=show_if_position,
                show_if_choice=show_if_choice,
            )
        )
    return questions


def _check_survey_fields(draft: SurveyDraft, now: dt.datetime) -> None:
    if not _text(draft.title, 120):
        raise errors.SurveyInvalid(problem=str(_("the title is empty")), field="title")
    if draft.audience not in Audience.values:
        raise errors.SurveyInvalid(problem=str(_("unknown audience")), field="audience")
    if draft.closes_at is not None and draft.closes_at <= now:
        raise errors.SurveyInvalid(problem=str(_("the closing time has passed")), field="closes_at")


def survey_create(
    *, staff: User, scope: StaffScope, draft: SurveyDraft, now: dt.datetime | None = None
) -> Survey:
    now = now or timezone.now()
    _check_survey_fields(draft, now)
    community, street = _check_area(scope, draft)
    questions = _clean_questions(draft.questions)
    with transaction.atomic(durable=True):
        survey = Survey.objects.create(
            title=_text(draft.title, 120),
            description=_long_text(draft.description)[:MAX_TEXT],
            area=draft.area,
            community=community,
            street=street,
            audience=draft.audience,
            anonymous=draft.anonymous,
            closes_at=draft.closes_at,
            created_by=staff,
            created_at=now,
        )
        for question in questions:
            question.survey = survey
        Question.objects.bulk_create(questions)
        audit_log("voice.survey.created", actor=staff, obj=survey, data={"questions": len(questions)})
    return survey


def _staff_survey(scope: StaffScope, survey_id: int, *, lock: bool = False) -> Survey:
    qs = surveys_visible_to(scope)
    if lock:
        qs = qs.select_for_update()
    survey = qs.filter(pk=survey_id).first()
    if survey is None:
        raise errors.SurveyNotFound()
    return survey


def survey_update(
    *, staff: User, scope: StaffScope, survey_id: int, draft: SurveyDraft, now: dt.datetime | None = None
) -> Survey:
    now = now or timezone.now()
    _staff_survey(scope, survey_id)  # one out of sight is survey_not_found, whatever the draft says
    _check_survey_fields(draft, now)
    community, street = _check_area(scope, draft)
    questions = _clean_questions(draft.questions)
    with transaction.atomic(durable=True):
        survey = _staff_survey(scope, survey_id, lock=True)
        if survey.status != Survey.Status.DRAFT:
            raise errors.SurveyNotEditable()
        survey.title = _text(draft.title, 120)
        survey.description = _long_text(draft.description)[:MAX_TEXT]
        survey.area, survey.community, survey.street = draft.area, community, street
        survey.audience, survey.anonymous, survey.closes_at = draft.audience, draft.anonymous, draft.closes_at
        survey.save()
        survey.questions.all().delete()
        for question in questions:
            question.survey = survey
        Question.objects.bulk_create(questions)
        audit_log("voice.survey.updated", actor=staff, obj=survey, data={"questions": len(questions)})
    return survey


def survey_publish(
    *, staff: User, scope: StaffScope, survey_id: int, now: dt.datetime | None = None
) -> Survey:
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        survey = _staff_survey(scope, survey_id, lock=True)
        if survey.status != Survey.Status.DRAFT:
            raise errors.SurveyNotEditable()
        if survey.closes_at is not None and survey.closes_at <= now:
            raise errors.SurveyInvalid(problem=str(_("the closing time has passed")), field="closes_at")
        survey.status, survey.published_at = Survey.Status.PUBLISHED, now
        survey.save(update_fields=["status", "published_at"])
        audit_log("voice.survey.published", actor=staff, obj=survey)
    return survey


def survey_close(*, staff: User, scope: StaffScope, survey_id: int, now: dt.datetime | None = None) -> Survey:
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        survey = _staff_survey(scope, survey_id, lock=True)
        if survey.status != Survey.Status.PUBLISHED:
            raise errors.SurveyClosed()
        survey.status, survey.closed_at = Survey.Status.CLOSED, now
        survey.save(update_fields=["status", "closed_at"])
        audit_log("voice.survey.closed", actor=staff, obj=survey, data={"responses": survey.responses_count})
    return survey


def visitor_hash(survey_id: int, token: str) -> str:
    """A keyed hash of a visitor's random browser token: one answer per browser, no identity."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"voice.visitor:{survey_id}:{token}".encode(), hashlib.sha256).hexdigest()


AnswerValue = str | int | list[str] | None


def _shown(question: Question, given: dict[int, set[str]]) -> bool:
    if not question.show_if_position:
        return True
    return question.show_if_choice in given.get(question.show_if_position, set())


def _answers(survey: Survey, values: dict[int, AnswerValue]) -> list[Answer]:
    """Checks every answer against its question and builds the rows (without a response yet)."""
    questions = list(survey.questions.order_by("position"))
    by_id = {q.pk: q for q in questions}
    unknown = [key for key in values if key not in by_id]
    if unknown:
        raise errors.AnswerInvalid(question=str(unknown[0]), field=f"q{unknown[0]}")
    rows: list[Answer] = []
    given: dict[int, set[str]] = {}
    for question in questions:
        if not _shown(question, given):
            continue  # skipped by the survey's logic: an answer sent anyway is not kept
        value = values.get(question.pk)
        field_name = f"q{question.pk}"
        if question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            keys = {c["key"] for c in question.choices}
            if value in (None, "", []):
                chosen: list[str] = []
            elif question.kind == Question.Kind.SINGLE and isinstance(value, str):
                chosen = [value]
            elif (
                question.kind == Question.Kind.MULTIPLE
                and isinstance(value, list)
                and all(isinstance(key, str) for key in value)
            ):
                chosen = list(dict.fromkeys(value))
            else:
                raise errors.AnswerInvalid(question=question.text, field=field_name)
            if any(not isinstance(key, str) or key not in keys for key in chosen):
                raise errors.AnswerInvalid(question=question.text, field=field_name)
            if not chosen:
                if question.required:
                    raise errors.AnswerMissing(question=question.text, field=field_name)
                continue
            given[question.position] = set(chosen)
            rows.extend(Answer(question=question, choice=key) for key in chosen)
        elif question.kind == Question.Kind.RATING:
            if value in (None, ""):
                if question.required:
                    raise errors.AnswerMissing(question=question.text, field=field_name)
                continue
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise errors.AnswerInvalid(question=question.text, field=field_name)
            try:
                number = int(value)
            except ValueError as exc:
                raise errors.AnswerInvalid(question=question.text, field=field_name) from exc
            if not 1 <= number <= question.scale_max:
                raise errors.AnswerInvalid(question=question.text, field=field_name)
            rows.append(Answer(question=question, number=number))
        else:
            if value is not None and not isinstance(value, str):
                raise errors.AnswerInvalid(question=question.text, field=field_name)
            limit = MAX_SHORT_TEXT if question.kind == Question.Kind.SHORT_TEXT else MAX_TEXT
            text = _long_text(value) if question.kind == Question.Kind.LONG_TEXT else _text(value, limit + 1)
            if len(text) > limit:
                raise errors.AnswerInvalid(question=question.text, field=field_name)
            if not text:
                if question.required:
                    raise errors.AnswerMissing(question=question.text, field=field_name)
                continue
            rows.append(Answer(question=question, text=text))
    return rows


def response_submit(
    *,
    survey_id: int,
    user: User | None,
    answers: dict[int, AnswerValue],
    visitor_token: str | None = None,
    now: dt.datetime | None = None,
) -> Response:
    """One person's answers. Signed in: one response per user (``Participation``, unique); in an
    anonymous survey the response row gets no user. Not signed in: only an anonymous survey open
    to everyone, once per browser token."""
    now = now or timezone.now()
    survey = Survey.objects.select_related("community", "street").filter(pk=survey_id).first()
    if survey is None or survey.status == Survey.Status.DRAFT:
        raise errors.SurveyNotFound()
    if not survey.accepts_answers(now):
        raise errors.SurveyClosed()
    signed_in = user is not None and user.is_authenticated
    resident = _resident_of(user) if signed_in else None
    if not signed_in:
        if not survey.open_to_visitors or not visitor_token or len(visitor_token) < 16:
            raise errors.SignInToAnswer()
    else:
        needs_resident = survey.audience != Audience.EVERYONE or survey.area != Survey.Area.DISTRICT
        if needs_resident and (resident is None or not survey.reaches_area(resident)):
            raise errors.SurveyNotForYou(audience=survey.area_name)
        if resident is not None and not survey.reaches_audience(resident, timezone.localdate(now)):
            raise errors.SurveyNotForYou(audience=Audience(survey.audience).label)
    rows = _answers(survey, answers)
    try:
        with transaction.atomic(durable=True):
            if signed_in:
                assert user is not None
                Participation.objects.create(survey=survey, user=user)
            response = Response.objects.create(
                survey=survey,
                respondent=user if signed_in and not survey.anonymous else None,
                visitor_hash=None if signed_in else visitor_hash(survey.pk, visitor_token or ""),
                given_on=timezone.localdate(now),
            )
            for row in rows:
                row.response = response
            Answer.objects.bulk_create(rows)
            Survey.objects.filter(pk=survey.pk).update(responses_count=F("responses_count") + 1)
            # The audit event names the survey only: never the response, never the answers.
            audit_log("voice.survey.answered", actor=user if signed_in else None, obj=survey)
    except IntegrityError as exc:
        raise errors.AlreadyAnswered() from exc
    return response


# --- suggestions --------------------------------------------------------------------------------


def deadline_days(kind: str, category: str) -> tuple[int, int]:
    rules = {
        (r.kind, r.category): r for r in DeadlineRule.objects.filter(kind=kind, category__in=[category, ""])
    }
    rule = rules.get((kind, category)) or rules.get((kind, ""))
    if rule is not None:
        return rule.respond_days, rule.resolve_days
    return DEFAULT_DEADLINES.get(kind, (2, 15))


def _tracking_no(now: dt.datetime) -> str:
    tail = "".join(secrets.choice(TRACKING_ALPHABET) for _i in range(5))
    return f"JY{timezone.localtime(now):%Y%m%d}{tail}"


def _event(
    suggestion: Suggestion,
    kind: str,
    now: dt.datetime,
    *,
    actor: User | None = None,
    note: str = "",
    public: bool = False,
    from_owner: str = "",
    to_owner: str = "",
) -> SuggestionEvent:
    return SuggestionEvent.objects.create(
        suggestion=suggestion,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        note=note,
        public=public,
        from_owner=from_owner,
        to_owner=to_owner,
        at=now,
    )


def _check_kind_category(kind: str, category: str) -> None:
    if kind not in Suggestion.Kind.values:
        raise errors.SuggestionKindInvalid(field="kind")
    if category not in Suggestion.Category.values:
        raise errors.SuggestionCategoryInvalid(field="category")


def _clean_text(text: str) -> str:
    cleaned = _long_text(text)
    if len(cleaned) < MIN_SUGGESTION_TEXT or len(cleaned) > MAX_SUGGESTION_TEXT:
        raise errors.SuggestionText(limit=MAX_SUGGESTION_TEXT, field="text")
    return cleaned


def _clean_photos(photos: Sequence[bytes]) -> list[Any]:
    if len(photos) > MAX_PHOTOS:
        raise errors.TooManyPhotos(limit=MAX_PHOTOS, field="photos")
    cleaned = []
    for data in photos:
        try:
            cleaned.append(clean_photo(data))
        except errors.VoiceError as exc:
            exc.field = exc.field or "photos"
            raise
    return cleaned


@dataclass
class SuggestionDraft:
    center_id: int
    kind: str
    category: str
    text: str
    space_id: int | None = None
    photos: list[bytes] = field(default_factory=list)


def _create_suggestion(
    draft: SuggestionDraft,
    *,
    center: Center,
    now: dt.datetime,
    channel: str,
    resident: Resident | None,
    recorded_by: User | None,
    uploader: User,
    engagement: Engagement | None = None,
    calendar: WorkCalendar | None = None,
    owner: Organization | None = None,
) -> Suggestion:
    """Inside the caller's transaction: the row, its deadlines, photos and the first event."""
    calendar = calendar or WorkCalendar()
    respond_days, resolve_days = deadline_days(draft.kind, draft.category)
    space = None
    if draft.space_id is not None:
        space = Space.objects.filter(pk=draft.space_id, center=center).first()
        if space is None:
            raise NotFound(field="space")
    text = _clean_text(draft.text)
    photos = _clean_photos(draft.photos)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                suggestion = Suggestion.objects.create(
                    tracking_no=_tracking_no(now),
                    kind=draft.kind,
                    category=draft.category,
                    text=text,
                    center=center,
                    space=space,
                    channel=channel,
                    resident=resident,
                    engagement=engagement,
                    recorded_by=recorded_by,
                    owner_organization=owner,
                    received_at=now,
                    respond_by=calendar.deadline(now, respond_days),
                    resolve_by=calendar.deadline(now, resolve_days),
                )
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - 32^5 numbers a day: five draws taken in a row cannot happen
        raise RuntimeError("no free tracking number after five draws")
    Photo.objects.bulk_create(
        Photo(
            suggestion=suggestion,
            kind=Photo.Kind.REPORT,
            content=photo.content,
            width=photo.width,
            height=photo.height,
            size=len(photo.content),
            uploaded_by=uploader,
            created_at=now,
        )
        for photo in photos
    )
    _event(
        suggestion, SuggestionEvent.Kind.RECEIVED, now, actor=recorded_by or uploader, to_owner=center.name
    )
    if resident is not None:
        notice_send(
            user=resident.user,
            kind="voice.received",
            params={
                "no": suggestion.tracking_no,
                "owner": center.name,
                "respond_by": _local(suggestion.respond_by),
            },
            link=f"/suggestions/{suggestion.tracking_no}/",
        )
    return suggestion


def suggestion_submit(*, user: User, draft: SuggestionDraft, now: dt.datetime | None = None) -> Suggestion:
    """A resident's own request, with up to four photos; the center is its first owner."""
    now = now or timezone.now()
    resident = _resident_of(user)
    if resident is None:
        from livingroom.people import errors as people_errors

        raise people_errors.ProfileIncomplete()
    _check_kind_category(draft.kind, draft.category)
    center = Center.objects.filter(pk=draft.center_id).first()
    if center is None:
        raise errors.CenterNotFound(field="center")
    with transaction.atomic(durable=True):
        suggestion = _create_suggestion(
            draft,
            center=center,
            now=now,
            channel=Suggestion.Channel.ONLINE,
            resident=resident,
            recorded_by=None,
            uploader=user,
        )
        audit_log(
            "voice.suggestion.submitted",
            actor=user,
            obj=suggestion,
            data={"kind": draft.kind, "category": draft.category, "photos": len(draft.photos)},
        )
    return suggestion


def _staff_center(scope: StaffScope, center_id: int) -> Center:
    center = Center.objects.select_related("community").filter(pk=center_id).first()
    if center is None or not (
        scope.covers_community(center.community_id) or center.pk in scope.partner_center_ids
    ):
        raise errors.CenterNotFound(field="center")
    return center


def _first_owner(scope: StaffScope, center: Center) -> Organization | None:
    """Who receives first owns it (首接负责): partner staff recording a request at a center own it
    through their organisation working there; the center's own staff leave it with the center."""
    if scope.covers_community(center.community_id):
        return None
    return Organization.objects.filter(pk__in=scope.organization_ids, centers=center).order_by("pk").first()


def suggestion_record(
    *,
    staff: User,
    scope: StaffScope,
    draft: SuggestionDraft,
    channel: str,
    resident_id: int | None = None,
    now: dt.datetime | None = None,
) -> Suggestion:
    """Staff record a request heard at the desk or on the phone, for a resident or for nobody."""
    now = now or timezone.now()
    _check_kind_category(draft.kind, draft.category)
    if channel not in (Suggestion.Channel.DESK, Suggestion.Channel.PHONE):
        raise errors.ChannelInvalid(field="channel")
    center = _staff_center(scope, draft.center_id)
    resident = None
    if resident_id is not None:
        resident = Resident.objects.select_related("user").filter(pk=resident_id).first()
        if (
            resident is None
            or not scope.can_see_residents
            or not scope.covers_community(resident.home_community_id)
        ):
            raise NotFound(field="resident")
    with transaction.atomic(durable=True):
        suggestion = _create_suggestion(
            draft,
            center=center,
            now=now,
            channel=channel,
            resident=resident,
            recorded_by=staff,
            uploader=staff,
            owner=_first_owner(scope, center),
        )
        audit_log("voice.suggestion.recorded", actor=staff, obj=suggestion, data={"channel": channel})
    return suggestion


def _staff_suggestion(scope: StaffScope, suggestion_id: int, *, lock: bool = False) -> Suggestion:
    qs = suggestions_visible_to(scope).select_related(
        "center", "center__community", "owner_organization", "resident__user"
    )
    if lock:
        qs = qs.select_for_update(of=("self",))
    suggestion = qs.filter(pk=suggestion_id).first()
    if suggestion is None:
        raise errors.SuggestionNotFound()
    return suggestion


def _move(suggestion: Suggestion, from_states: Sequence[str], **changes: Any) -> None:
    """One conditional UPDATE from the states the step may leave; refuses when another got there first."""
    moved = Suggestion.objects.filter(pk=suggestion.pk, status__in=list(from_states)).update(**changes)
    if moved != 1:
        current = Suggestion.objects.filter(pk=suggestion.pk).values_list("status", flat=True).first()
        raise errors.WrongState(state=Suggestion.Status(current).label if current else "-")
    for name, value in changes.items():
        setattr(suggestion, name, value)


def _partner_staff(organization: Organization) -> list[User]:
    return list(
        User.objects.filter(
            staff_roles__organization=organization, staff_roles__is_active=True, is_active=True
        ).distinct()
    )


def suggestion_assign(
    *,
    staff: User,
    scope: StaffScope,
    suggestion_id: int,
    organization_id: int | None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Suggestion:
    """Hands the request to one owner: a partner organisation or department working at its center,
    or back to the center itself (``organization_id=None``). The hand-over is logged."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        suggestion = _staff_suggestion(scope, suggestion_id, lock=True)
        organization = None
        if organization_id is not None:
            organization = Organization.objects.filter(
                pk=organization_id, centers=suggestion.center_id
            ).first()
            if organization is None:
                raise errors.OwnerNotFound(field="organization")
        previous = suggestion.owner_name
        _move(suggestion, Suggestion.OPEN, status=Suggestion.Status.ASSIGNED, owner_organization=organization)
        suggestion.owner_organization = organization
        _event(
            suggestion,
            SuggestionEvent.Kind.ASSIGNED,
            now,
            actor=staff,
            note=_text(note, 300),
            from_owner=previous,
            to_owner=suggestion.owner_name,
        )
        audit_log(
            "voice.suggestion.assigned",
            actor=staff,
            obj=suggestion,
            data={"from": previous, "to": suggestion.owner_name},
        )
        params = {
            "no": suggestion.tracking_no,
            "kind": str(Suggestion.Kind(suggestion.kind).label),
            "respond_by": _local(suggestion.respond_by),
            "resolve_by": _local(suggestion.resolve_by),
        }
        if organization is not None:
            link = f"/console/voice/suggestions/{suggestion.pk}/"
            notices_send_many(
                [(u, "voice.assigned", params, link, False) for u in _partner_staff(organization)]
            )
    return suggestion


def suggestion_respond(
    *, staff: User, scope: StaffScope, suggestion_id: int, message: str, now: dt.datetime | None = None
) -> Suggestion:
    """The owner answers the resident (first response: the response rate counts it) and starts work."""
    now = now or timezone.now()
    text = _long_text(message)[:MAX_TEXT]
    if not text:
        raise errors.ReplyRequired(field="message")
    with transaction.atomic(durable=True):
        suggestion = _staff_suggestion(scope, suggestion_id, lock=True)
        changes: dict[str, Any] = {"status": Suggestion.Status.IN_PROGRESS}
        if suggestion.first_response_at is None:
            changes["first_response_at"] = now
        _move(suggestion, Suggestion.OPEN, **changes)
        _event(suggestion, SuggestionEvent.Kind.RESPONDED, now, actor=staff, note=text, public=True)
        audit_log("voice.suggestion.responded", actor=staff, obj=suggestion)
        if suggestion.resident is not None:
            notice_send(
                user=suggestion.resident.user,
                kind="voice.responded",
                params={"no": suggestion.tracking_no, "message": text[:200]},
                link=f"/suggestions/{suggestion.tracking_no}/",
            )
    return suggestion


def suggestion_resolve(
    *,
    staff: User,
    scope: StaffScope,
    suggestion_id: int,
    reply: str,
    done_note: str = "",
    now: dt.datetime | None = None,
) -> Suggestion:
    """Resolved, with the public reply the resident reads; rating and reopening open now."""
    now = now or timezone.now()
    text = _long_text(reply)[:MAX_TEXT]
    if not text:
        raise errors.ReplyRequired(field="reply")
    with transaction.atomic(durable=True):
        suggestion = _staff_suggestion(scope, suggestion_id, lock=True)
        changes: dict[str, Any] = {
            "status": Suggestion.Status.RESOLVED,
            "resolved_at": now,
            "reply": text,
        }
        if suggestion.first_response_at is None:
            changes["first_response_at"] = now
        if suggestion.first_resolved_at is None:
            changes["first_resolved_at"] = now
        if done_note.strip():
            changes["done_note"] = _text(done_note, 300)
        _move(suggestion, Suggestion.OPEN, **changes)
        _event(suggestion, SuggestionEvent.Kind.RESOLVED, now, actor=staff, note=text, public=True)
        audit_log(
            "voice.suggestion.resolved",
            actor=staff,
            obj=suggestion,
            data={"on_time": now <= suggestion.resolve_by},
        )
        if suggestion.resident is not None:
            notice_send(
                user=suggestion.resident.user,
                kind="voice.resolved",
                params={"no": suggestion.tracking_no, "reply": text[:200]},
                link=f"/suggestions/{suggestion.tracking_no}/",
                sms=True,
            )
    return suggestion


def _own_suggestion(user: User, suggestion_id: int) -> Suggestion:
    suggestion = (
        Suggestion.objects.select_for_update(of=("self",))
        .select_related("center", "resident__user")
        .filter(pk=suggestion_id, resident__user=user)
        .first()
    )
    if suggestion is None:
        raise errors.SuggestionNotFound()
    return suggestion


def suggestion_rate(
    *, user: User, suggestion_id: int, rating: int, comment: str = "", now: dt.datetime | None = None
) -> Suggestion:
    """The resident rates a resolved request on the five-level scale. Satisfied or neutral closes
    it; one of the two lowest opens a follow-up due within 15 working days (once)."""
    now = now or timezone.now()
    if isinstance(rating, bool) or rating not in Suggestion.Rating.values:
        raise errors.RatingInvalid(field="rating")
    with transaction.atomic(durable=True):
        suggestion = _own_suggestion(user, suggestion_id)
        if suggestion.status == Suggestion.Status.CLOSED and suggestion.rating is not None:
            raise errors.AlreadyRated()
        changes: dict[str, Any] = {"rating": rating, "rated_at": now, "rating_comment": _text(comment, 300)}
        follow = rating in FOLLOW_UP and not suggestion.follow_up
        if follow:
            due = WorkCalendar().deadline(now, settings.LIVINGROOM_VOICE_FOLLOW_UP_DAYS)
            changes.update(
                status=Suggestion.Status.IN_PROGRESS,
                follow_up=True,
                resolve_by=due,
                overdue=False,
                escalation_level=0,
            )
        else:
            changes.update(status=Suggestion.Status.CLOSED, closed_at=now)
        _move(suggestion, [Suggestion.Status.RESOLVED], **changes)
        _event(
            suggestion,
            SuggestionEvent.Kind.RATED,
            now,
            actor=user,
            note=str(Suggestion.Rating(rating).label),
            public=True,
        )
        if follow:
            _event(suggestion, SuggestionEvent.Kind.FOLLOW_UP, now, note=_text(comment, 300), public=True)
            notice_send(
                user=user,
                kind="voice.follow_up",
                params={"no": suggestion.tracking_no, "due": _local(suggestion.resolve_by)},
                link=f"/suggestions/{suggestion.tracking_no}/",
            )
        else:
            _event(suggestion, SuggestionEvent.Kind.CLOSED, now, public=True)
        audit_log(
            "voice.suggestion.rated", actor=user, obj=suggestion, data={"rating": rating, "follow_up": follow}
        )
    return suggestion


def suggestion_reopen(
    *, user: User, suggestion_id: int, reason: str, now: dt.datetime | None = None
) -> Suggestion:
    """The resident reopens a resolved request within the window; a new resolve-by is counted."""
    now = now or timezone.now()
    text = _long_text(reason)[:MAX_TEXT]
    if len(text) < MIN_SUGGESTION_TEXT:
        raise errors.SuggestionText(limit=MAX_SUGGESTION_TEXT, field="reason")
    with transaction.atomic(durable=True):
        suggestion = _own_suggestion(user, suggestion_id)
        if suggestion.status != Suggestion.Status.RESOLVED:
            raise errors.WrongState(state=Suggestion.Status(suggestion.status).label)
        if not suggestion.can_reopen(now):
            raise errors.ReopenWindowPassed(days=settings.LIVINGROOM_VOICE_REOPEN_DAYS)
        _respond_days, resolve_days = deadline_days(suggestion.kind, suggestion.category)
        due = WorkCalendar().deadline(now, resolve_days)
        _move(
            suggestion,
            [Suggestion.Status.RESOLVED],
            status=Suggestion.Status.IN_PROGRESS,
            reopen_count=F("reopen_count") + 1,
            resolve_by=due,
            overdue=False,
            escalation_level=0,
        )
        suggestion.refresh_from_db()
        _event(suggestion, SuggestionEvent.Kind.REOPENED, now, actor=user, note=text, public=True)
        audit_log("voice.suggestion.reopened", actor=user, obj=suggestion)
    return suggestion


def extension_request(
    *,
    staff: User,
    scope: StaffScope,
    suggestion_id: int,
    days: int,
    reason: str,
    now: dt.datetime | None = None,
) -> Extension:
    now = now or timezone.now()
    text = _text(reason, 300)
    if not text or isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 30:
        raise errors.ExtensionInvalid(field="days" if text else "reason")
    with transaction.atomic(durable=True):
        suggestion = _staff_suggestion(scope, suggestion_id, lock=True)
        if not suggestion.is_open:
            raise errors.WrongState(state=Suggestion.Status(suggestion.status).label)
        try:
            with transaction.atomic():
                extension = Extension.objects.create(
                    suggestion=suggestion, days=days, reason=text, requested_by=staff, requested_at=now
                )
        except IntegrityError as exc:
            raise errors.ExtensionPending() from exc
        _event(
            suggestion, SuggestionEvent.Kind.EXTENSION_REQUESTED, now, actor=staff, note=f"+{days} · {text}"
        )
        audit_log("voice.extension.requested", actor=staff, obj=suggestion, data={"days": days})
    return extension


def extension_decide(
    *,
    staff: User,
    scope: StaffScope,
    extension_id: int,
    approve: bool,
    note: str = "",
    now: dt.datetime | None = None,
) -> Extension:
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        extension = (
            Extension.objects.select_for_update(of=("self",))
            .select_related("suggestion", "suggestion__center", "requested_by")
            .filter(pk=extension_id, suggestion__in=suggestions_visible_to(scope))
            .first()
        )
        if extension is None:
            raise errors.ExtensionNotFound()
        suggestion = _staff_suggestion(scope, extension.suggestion_id, lock=True)
        if not is_supervisor(scope, suggestion.center.community_id):
            raise errors.NotSupervisor()
        moved = Extension.objects.filter(pk=extension.pk, status=Extension.Status.PENDING).update(
            status=Extension.Status.APPROVED if approve else Extension.Status.REFUSED,
            decided_by=staff,
            decided_at=now,
            decision_note=_text(note, 300),
        )
        if moved != 1:
            raise errors.ExtensionDecided()
        extension.refresh_from_db()
        if approve:
            if not suggestion.is_open:
                raise errors.WrongState(state=Suggestion.Status(suggestion.status).label)
            calendar = WorkCalendar()
            new_due = calendar.deadline(suggestion.resolve_by, extension.days)
            # A deadline moved past now clears the overdue flag and the escalation with it, so
            # that missing the new deadline is flagged and escalated again.
            still_late = new_due < now
            Suggestion.objects.filter(pk=suggestion.pk).update(
                resolve_by=new_due,
                overdue=still_late and suggestion.overdue,
                escalation_level=suggestion.escalation_level if still_late else 0,
            )
            suggestion.resolve_by = new_due
        kind = SuggestionEvent.Kind.EXTENSION_APPROVED if approve else SuggestionEvent.Kind.EXTENSION_REFUSED
        _event(suggestion, kind, now, actor=staff, note=_text(note, 300))
        audit_log(
            "voice.extension.decided",
            actor=staff,
            obj=suggestion,
            data={"extension": extension.pk, "approved": approve},
        )
        notice_send(
            user=extension.requested_by,
            kind="voice.extension_decided",
            params={
                "no": suggestion.tracking_no,
                "days": extension.days,
                "decision": str(_("approved") if approve else _("refused")),
                "note": _text(note, 200),
            },
            link=f"/console/voice/suggestions/{suggestion.pk}/",
        )
    return extension


def suggestion_publish(
    *,
    staff: User,
    scope: StaffScope,
    suggestion_id: int,
    public: bool,
    summary: str = "",
    done_note: str = "",
    now: dt.datetime | None = None,
) -> Suggestion:
    """Puts a request on the center's public board (or takes it off): staff write a summary
    without personal details; ID and phone numbers left in it are masked anyway."""
    now = now or timezone.now()
    clean_summary = mask_text(_text(summary, 300))
    if public and len(clean_summary) < MIN_SUGGESTION_TEXT:
        raise errors.SummaryRequired(field="summary")
    with transaction.atomic(durable=True):
        suggestion = _staff_suggestion(scope, suggestion_id, lock=True)
        suggestion.is_public = public
        if public:
            suggestion.public_summary = clean_summary
            suggestion.published_at = suggestion.published_at or now
        if done_note.strip():
            suggestion.done_note = mask_text(_text(done_note, 300))
        suggestion.save(update_fields=["is_public", "public_summary", "published_at", "done_note"])
        if public:
            _event(suggestion, SuggestionEvent.Kind.PUBLISHED, now, actor=staff)
        audit_log("voice.suggestion.published", actor=staff, obj=suggestion, data={"public": public})
    return suggestion


def photo_add(
    *,
    staff: User,
    scope: StaffScope,
    suggestion_id: int,
    kind: str,
    data: bytes,
    now: dt.datetime | None = None,
) -> Photo:
    """Staff add a before or after photo (for the board's "you said, we did")."""
    now = now or timezone.now()
    if kind not in (Photo.Kind.BEFORE, Photo.Kind.AFTER):
        raise errors.PhotoKindInvalid(field="kind")
    photo = clean_photo(data)
    with transaction.atomic(durable=True):
        suggestion = _staff_suggestion(scope, suggestion_id, lock=True)
        if suggestion.photos.filter(kind=kind).count() >= MAX_PHOTOS:
            raise errors.TooManyPhotos(limit=MAX_PHOTOS, field="photo")
        row = Photo.objects.create(
            suggestion=suggestion,
            kind=kind,
            content=photo.content,
            width=photo.width,
            height=photo.height,
            size=len(photo.content),
            uploaded_by=staff,
            created_at=now,
        )
        audit_log("voice.photo.added", actor=staff, obj=suggestion, data={"kind": kind})
    return row


# --- forums and visits --------------------------------------------------------------------------


@dataclass
class RaisedPoint:
    kind: str
    category: str
    text: str


def engagement_record(
    *,
    staff: User,
    scope: StaffScope,
    center_id: int,
    kind: str,
    held_on: dt.date,
    place: str,
    participants: int,
    topics: str,
    notes: str = "",
    raised: Sequence[RaisedPoint] = (),
    now: dt.datetime | None = None,
) -> Engagement:
    """A forum or a home visit, and what residents raised there turned into tracked requests in
    the same step (channel forum or visit; the center owns them; deadlines run from now)."""
    now = now or timezone.now()
    if kind not in Engagement.Kind.values:
        raise errors.EngagementInvalid(problem=str(_("unknown kind")), field="kind")
    if held_on > timezone.localdate(now) or held_on < timezone.localdate(now) - dt.timedelta(days=366):
        raise errors.EngagementInvalid(
            problem=str(_("the date must be within the past year")), field="held_on"
        )
    if isinstance(participants, bool) or not isinstance(participants, int) or not 1 <= participants <= 10000:
        raise errors.EngagementInvalid(problem=str(_("participants are 1 to 10,000")), field="participants")
    if not _text(place, 120) or not _text(topics, 300):
        raise errors.EngagementInvalid(problem=str(_("place and topics are needed")), field="topics")
    if len(raised) > 50:
        raise errors.EngagementInvalid(problem=str(_("at most 50 points per record")), field="raised")
    for point in raised:
        _check_kind_category(point.kind, point.category)
        _clean_text(point.text)
    center = _staff_center(scope, center_id)
    channel = Suggestion.Channel.VISIT if kind == Engagement.Kind.VISIT else Suggestion.Channel.FORUM
    with transaction.atomic(durable=True):
        engagement = Engagement.objects.create(
            center=center,
            kind=kind,
            held_on=held_on,
            place=_text(place, 120),
            participants=participants,
            topics=_text(topics, 300),
            notes=_long_text(notes)[:MAX_TEXT],
            recorded_by=staff,
            created_at=now,
        )
        calendar = WorkCalendar()
        owner = _first_owner(scope, center)
        for point in raised:
            _create_suggestion(
                SuggestionDraft(
                    center_id=center.pk, kind=point.kind, category=point.category, text=point.text
                ),
                center=center,
                now=now,
                channel=channel,
                resident=None,
                recorded_by=staff,
                uploader=staff,
                engagement=engagement,
                calendar=calendar,
                owner=owner,
            )
        audit_log("voice.engagement.recorded", actor=staff, obj=engagement, data={"raised": len(raised)})
    return engagement


# --- deadline rules -----------------------------------------------------------------------------


def deadline_rule_set(
    *, staff: User, scope: StaffScope, kind: str, category: str, respond_days: int, resolve_days: int
) -> DeadlineRule:
    """District officials set the deadlines (working days) per type and, optionally, category."""
    if not scope.district:
        raise errors.RulesForbidden()
    if kind not in Suggestion.Kind.values or (category and category not in Suggestion.Category.values):
        raise errors.RulesInvalid(field="kind")
    if not (1 <= respond_days <= 60 and respond_days <= resolve_days <= 120):
        raise errors.RulesInvalid(field="resolve_days")
    with transaction.atomic(durable=True):
        rule, _created = DeadlineRule.objects.update_or_create(
            kind=kind,
            category=category,
            defaults={"respond_days": respond_days, "resolve_days": resolve_days},
        )
        audit_log(
            "voice.deadline_rule.set",
            actor=staff,
            obj=rule,
            data={"kind": kind, "category": category, "respond": respond_days, "resolve": resolve_days},
        )
    return rule


def deadline_rule_delete(*, staff: User, scope: StaffScope, rule_id: int) -> None:
    if not scope.district:
        raise errors.RulesForbidden()
    with transaction.atomic(durable=True):
        rule = DeadlineRule.objects.filter(pk=rule_id).first()
        if rule is None:
            raise NotFound()
        audit_log("voice.deadline_rule.deleted", actor=staff, obj=rule, data={"kind": rule.kind})
        rule.delete()


# --- the clock ----------------------------------------------------------------------------------


@dataclass
class VoiceTick:
    overdue: int = 0
    escalated: int = 0
    closed: int = 0
    surveys_closed: int = 0


def _supervisors(center: Center, level: int) -> list[User]:
    if level >= 2:
        roles = StaffRole.objects.filter(role=StaffRole.Role.DISTRICT_OFFICIAL, is_active=True)
    else:
        roles = StaffRole.objects.filter(
            role=StaffRole.Role.STREET_OFFICIAL, street_id=center.community.street_id, is_active=True
        )
    return list(User.objects.filter(staff_roles__in=roles, is_active=True).distinct())


def voice_tick(*, now: dt.datetime | None = None) -> VoiceTick:
    """Flags overdue requests and escalates them (the sub-district first, the district some
    working days later), closes resolved requests left unrated after the reopen window, and
    closes surveys whose closing time has come."""
    now = now or timezone.now()
    result = VoiceTick()
    calendar = WorkCalendar()
    late = (
        Suggestion.objects.filter(status__in=Suggestion.OPEN, resolve_by__lt=now)
        .filter(Q(overdue=False) | Q(escalation_level__lt=2))
        .select_related("center", "center__community", "owner_organization")
    )
    for suggestion in late[:500]:
        district_after = calendar.deadline(
            suggestion.resolve_by, settings.LIVINGROOM_VOICE_ESCALATE_DISTRICT_DAYS
        )
        level = 2 if now > district_after else 1
        if suggestion.overdue and suggestion.escalation_level >= level:
            continue
        with transaction.atomic(durable=True):
            moved = Suggestion.objects.filter(
                pk=suggestion.pk, status__in=Suggestion.OPEN, escalation_level__lt=level, resolve_by__lt=now
            ).update(overdue=True, escalation_level=level)
            if moved != 1:
                continue
            if not suggestion.overdue:
                _event(suggestion, SuggestionEvent.Kind.OVERDUE, now)
                result.overdue += 1
            target = _("District") if level >= 2 else _("Sub-district")
            _event(
                suggestion,
                SuggestionEvent.Kind.ESCALATED,
                now,
                from_owner=suggestion.owner_name,
                to_owner=str(target),
            )
            result.escalated += 1
            params = {
                "no": suggestion.tracking_no,
                "center": suggestion.center.name,
                "owner": suggestion.owner_name,
                "due": _local(suggestion.resolve_by),
            }
            link = f"/console/voice/suggestions/{suggestion.pk}/"
            notices_send_many(
                [(u, "voice.overdue", params, link, False) for u in _supervisors(suggestion.center, level)]
            )
            audit_log("voice.suggestion.escalated", obj=suggestion, data={"level": level})
    with transaction.atomic(durable=True):
        result.surveys_closed = Survey.objects.filter(
            status=Survey.Status.PUBLISHED, closes_at__isnull=False, closes_at__lte=now
        ).update(status=Survey.Status.CLOSED, closed_at=now)
    window = dt.timedelta(days=settings.LIVINGROOM_VOICE_REOPEN_DAYS)
    stale = Suggestion.objects.filter(status=Suggestion.Status.RESOLVED, resolved_at__lt=now - window)
    for suggestion in stale[:500]:
        with transaction.atomic(durable=True):
            if (
                Suggestion.objects.filter(pk=suggestion.pk, status=Suggestion.Status.RESOLVED).update(
                    status=Suggestion.Status.CLOSED, closed_at=now
                )
                != 1
            ):
                continue
            _event(suggestion, SuggestionEvent.Kind.CLOSED, now, note="auto", public=False)
            result.closed += 1
    return result
