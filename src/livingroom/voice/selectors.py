"""Reads of residents' voice, already limited to what the caller may see, and the rates.

The rates (docs/voice.md gives the same definitions, and the console page shows them), over the
requests *received* in a period, in a scope (a center, a community, a sub-district, the district):

* response rate   = requests first responded to by their respond-by time / requests received
* resolution rate = requests resolved (resolved or closed now) / requests received
* satisfaction    = rated "very satisfied" or "satisfied" / requests rated
* on-time rate    = resolved requests resolved by their resolve-by time / requests resolved
* reopen rate     = requests reopened at least once / requests ever resolved
* average time to first response, in hours, over the requests responded to

A rate with nothing to divide by is ``None`` (shown as "—"), never 0 % or 100 %.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Prefetch, Q, QuerySet
from django.utils import timezone

from livingroom.core.scopes import StaffScope
from livingroom.people.models import Resident, User
from livingroom.places.models import Center, Community, Street
from livingroom.voice.models import (
    SATISFIED,
    Audience,
    DeadlineRule,
    Engagement,
    Extension,
    Photo,
    Question,
    Response,
    Suggestion,
    SuggestionEvent,
    Survey,
    streets_covered,
    suggestions_visible_to,
    surveys_visible_to,
)

MAX_PERIOD_DAYS = 731


# --- surveys ------------------------------------------------------------------------------------


def survey_for_answer(survey_id: int) -> Survey | None:
    """A survey as a respondent sees it (never a draft), with its questions in order."""
    return (
        Survey.objects.exclude(status=Survey.Status.DRAFT)
        .select_related("community", "street")
        .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position")))
        .filter(pk=survey_id)
        .first()
    )


def surveys_open_for(user: User | None, *, now: dt.datetime | None = None) -> list[Survey]:
    """Open surveys whose area covers the resident's home (all district-wide ones for others)."""
    now = now or timezone.now()
    qs = Survey.objects.filter(status=Survey.Status.PUBLISHED).filter(
        Q(closes_at__isnull=True) | Q(closes_at__gt=now)
    )
    resident = Resident.objects.select_related("home_community").filter(user=user).first() if user else None
    area = Q(area=Survey.Area.DISTRICT)
    if resident is not None:
        area |= Q(area=Survey.Area.COMMUNITY, community_id=resident.home_community_id)
        area |= Q(area=Survey.Area.STREET, street_id=resident.home_community.street_id)
    surveys = list(qs.filter(area).select_related("community", "street").order_by("-published_at"))
    if resident is None:
        return [s for s in surveys if s.audience == Audience.EVERYONE]
    today = timezone.localdate(now)
    return [s for s in surveys if s.reaches_audience(resident, today)]


def has_answered(survey: Survey, user: User | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return survey.participations.filter(user=user).exists()


def surveys_for_staff(scope: StaffScope) -> QuerySet[Survey]:
    return surveys_visible_to(scope).select_related("community", "street", "created_by")


def survey_for_staff(scope: StaffScope, survey_id: int) -> Survey | None:
    return (
        surveys_for_staff(scope)
        .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position")))
        .filter(pk=survey_id)
        .first()
    )


@dataclass
class ChoiceCount:
    key: str
    label: str
    count: int
    percent: float


@dataclass
class QuestionResult:
    question: Question
    answered: int
    choices: list[ChoiceCount] = field(default_factory=list)
    scale: list[ChoiceCount] = field(default_factory=list)
    average: float | None = None
    texts: list[str] = field(default_factory=list)

    def chart(self) -> dict[str, Any]:
        rows = self.choices or self.scale
        return {"labels": [r.label for r in rows], "values": [r.count for r in rows]}


def survey_results(survey: Survey, *, texts_limit: int = 200) -> list[QuestionResult]:
    """Counts and percentages per choice (of the people who answered the question), the rating
    distribution and average, and the free-text answers (newest first, up to ``texts_limit``)."""
    questions = list(survey.questions.order_by("position"))
    answered = dict(
        Response.objects.filter(survey=survey, answers__question__survey=survey)
        .values_list("answers__question")
        .annotate(n=Count("id", distinct=True))
        .values_list("answers__question", "n")
    )
    choice_counts: dict[tuple[int, str], int] = {
        (qid, choice): n
        for qid, choice, n in (
            survey.questions.filter(kind__in=[Question.Kind.SINGLE, Question.Kind.MULTIPLE])
            .values_list("answers__question", "answers__choice")
            .annotate(n=Count("answers"))
            .values_list("answers__question", "answers__choice", "n")
        )
        if qid is not None
    }
    numbers: dict[int, Counter[int]] = defaultdict(Counter)
    for qid, number, n in (
        survey.questions.filter(kind=Question.Kind.RATING)
        .values_list("answers__question", "answers__number")
        .annotate(n=Count("answers"))
        .values_list("answers__question", "answers__number", "n")
    ):
        if qid is not None and number is not None:
            numbers[qid][number] = n
    results: list[QuestionResult] = []
    for question in questions:
        total = answered.get(question.pk, 0)
        result = QuestionResult(question=question, answered=total)
        if question.is_choice:
            for choice in question.choices:
                count = choice_counts.get((question.pk, choice["key"]), 0)
                result.choices.append(
                    ChoiceCount(
                        choice["key"], choice["label"], count, round(100 * count / total, 1) if total else 0.0
                    )
                )
        elif question.kind == Question.Kind.RATING:
            counter = numbers.get(question.pk, Counter())
            for value in range(1, question.scale_max + 1):
                count = counter.get(value, 0)
                result.scale.append(
                    ChoiceCount(
                        str(value), str(value), count, round(100 * count / total, 1) if total else 0.0
                    )
                )
            votes = sum(counter.values())
            result.average = round(sum(k * v for k, v in counter.items()) / votes, 2) if votes else None
        else:
            # Newest day first; within a day, an anonymous survey's texts come in the order of
            # their random response keys, never in the order people answered (which the audit
            # log's "answered" events would tie to names).
            within_day = ("response_id", "id") if survey.anonymous else ("-id",)
            result.texts = list(
                question.answers.exclude(text="")
                .order_by("-response__given_on", *within_day)
                .values_list("text", flat=True)[:texts_limit]
            )
        results.append(result)
    return results


def survey_answer_rows(survey: Survey) -> tuple[list[str], list[list[Any]]]:
    """One row per response for the Excel export: its day and every answer (choices by label).
    Rows come in a random order (the response key), never in the order people answered."""
    questions = list(survey.questions.order_by("position"))
    header = ["#", "given_on"] + [f"{q.position}. {q.text}" for q in questions]
    rows: list[list[Any]] = []
    responses = Response.objects.filter(survey=survey).order_by("id").prefetch_related("answers")
    by_question = {q.pk: q for q in questions}
    for index, response in enumerate(responses.iterator(chunk_size=500), start=1):
        cells: dict[int, list[str]] = defaultdict(list)
        for answer in response.answers.all():
            question = by_question.get(answer.question_id)
            if question is None:
                continue
            if question.is_choice:
                cells[answer.question_id].append(question.choice_label(answer.choice))
            elif question.kind == Question.Kind.RATING:
                cells[answer.question_id].append(str(answer.number))
            else:
                cells[answer.question_id].append(answer.text)
        rows.append(
            [index, f"{response.given_on:%Y-%m-%d}"] + ["; ".join(cells.get(q.pk, [])) for q in questions]
        )
    return header, rows


# --- suggestions --------------------------------------------------------------------------------


def suggestions_of_resident(user: User) -> QuerySet[Suggestion]:
    return Suggestion.objects.filter(resident__user=user).select_related("center", "owner_organization")


def suggestion_of_resident(user: User, tracking_no: str) -> Suggestion | None:
    return (
        suggestions_of_resident(user)
        .prefetch_related(Prefetch("events", queryset=SuggestionEvent.objects.filter(public=True)))
        .filter(tracking_no=tracking_no)
        .first()
    )


def suggestion_public(tracking_no: str) -> Suggestion | None:
    """A request as anyone may see it: only when on the board (summary, reply, what was done)."""
    return public_board_items().filter(tracking_no=tracking_no).first()


def public_board_items(center: Center | None = None) -> QuerySet[Suggestion]:
    qs = (
        Suggestion.objects.filter(is_public=True)
        .select_related("center")
        .prefetch_related(
            Prefetch(
                "photos",
                queryset=Photo.objects.filter(kind__in=[Photo.Kind.BEFORE, Photo.Kind.AFTER]).defer(
                    "content"
                ),
            )
        )
    )
    if center is not None:
        qs = qs.filter(center=center)
    return qs.order_by("-published_at", "-id")


def centers_with_board() -> QuerySet[Center]:
    return Center.objects.filter(suggestions__is_public=True).distinct().order_by("name")


def staff_suggestions(scope: StaffScope) -> QuerySet[Suggestion]:
    return suggestions_visible_to(scope).select_related("center", "owner_organization", "engagement")


def staff_suggestions_filtered(
    scope: StaffScope,
    *,
    status: str = "",
    center_id: int | None = None,
    kind: str = "",
    overdue: bool = False,
    q: str = "",
) -> QuerySet[Suggestion]:
    qs = staff_suggestions(scope)
    if status == "open":
        qs = qs.filter(status__in=Suggestion.OPEN)
    elif status:
        qs = qs.filter(status=status)
    if center_id:
        qs = qs.filter(center_id=center_id)
    if kind:
        qs = qs.filter(kind=kind)
    if overdue:
        qs = qs.filter(overdue=True, status__in=Suggestion.OPEN)
    if q:
        qs = qs.filter(Q(tracking_no__icontains=q) | Q(text__icontains=q))
    return qs


def staff_suggestion(scope: StaffScope, suggestion_id: int) -> Suggestion | None:
    return (
        staff_suggestions(scope)
        .select_related("resident", "resident__user", "space", "recorded_by")
        .prefetch_related(
            "events__actor", "extensions", Prefetch("photos", queryset=Photo.objects.defer("content"))
        )
        .filter(pk=suggestion_id)
        .first()
    )


def staff_suggestion_by_tracking(scope: StaffScope, tracking_no: str) -> Suggestion | None:
    return staff_suggestions(scope).filter(tracking_no=tracking_no).first()


def pending_extensions(scope: StaffScope) -> QuerySet[Extension]:
    return (
        Extension.objects.filter(status=Extension.Status.PENDING, suggestion__in=staff_suggestions(scope))
        .select_related("suggestion", "suggestion__center", "requested_by")
        .order_by("requested_at")
    )


def photo_for(user: User | None, scope: StaffScope | None, photo_id: int) -> Photo | None:
    """A photo for whoever may see it: staff who see the request, its resident, or anyone when it
    is a before/after photo of a request on the public board."""
    photo = Photo.objects.select_related("suggestion", "suggestion__resident").filter(pk=photo_id).first()
    if photo is None:
        return None
    suggestion = photo.suggestion
    if suggestion.is_public and photo.kind in (Photo.Kind.BEFORE, Photo.Kind.AFTER):
        return photo
    if (
        user is not None
        and user.is_authenticated
        and suggestion.resident
        and suggestion.resident.user_id == user.pk
    ):
        return photo
    if scope is not None and staff_suggestions(scope).filter(pk=suggestion.pk).exists():
        return photo
    return None


def owner_choices(suggestion: Suggestion) -> QuerySet[Any]:
    """The organisations a request may be handed to: those working at its center."""
    return suggestion.center.organizations.order_by("name")


def deadline_rules() -> QuerySet[DeadlineRule]:
    return DeadlineRule.objects.all()


def engagements_for_staff(scope: StaffScope) -> QuerySet[Engagement]:
    return scope.filter(
        Engagement.objects.select_related("center", "recorded_by").annotate(raised=Count("suggestions")),
        community="center__community",
        center="center",
    )


def engagement_for_staff(scope: StaffScope, engagement_id: int) -> Engagement | None:
    return engagements_for_staff(scope).prefetch_related("suggestions").filter(pk=engagement_id).first()


def staff_centers(scope: StaffScope) -> QuerySet[Center]:
    return scope.filter(Center.objects.select_related("community"), community="community", center="")


# --- the rates ----------------------------------------------------------------------------------


@dataclass
class Rates:
    received: int
    responded_on_time: int
    responded: int
    resolved: int
    resolved_on_time: int
    ever_resolved: int
    reopened: int
    rated: int
    satisfied: int
    overdue_open: int
    average_response_hours: float | None

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def response_rate(self) -> float | None:
        return self._rate(self.responded_on_time, self.received)

    @property
    def resolution_rate(self) -> float | None:
        return self._rate(self.resolved, self.received)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.rated)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.resolved_on_time, self.resolved)

    @property
    def reopen_rate(self) -> float | None:
        return self._rate(self.reopened, self.ever_resolved)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "responded": self.responded,
            "responded_on_time": self.responded_on_time,
            "resolved": self.resolved,
            "resolved_on_time": self.resolved_on_time,
            "rated": self.rated,
            "satisfied": self.satisfied,
            "reopened": self.reopened,
            "overdue_open": self.overdue_open,
            "response_rate": self.response_rate,
            "resolution_rate": self.resolution_rate,
            "satisfaction_rate": self.satisfaction_rate,
            "on_time_rate": self.on_time_rate,
            "reopen_rate": self.reopen_rate,
            "average_response_hours": self.average_response_hours,
        }


@dataclass(frozen=True)
class RateScope:
    kind: str  # district | street | community | center
    id: int  # 0 for the district
    name: str


def rate_scope(scope: StaffScope, spec: str) -> RateScope | None:
    """Parses ``district``, ``street:<id>``, ``community:<id>`` or ``center:<id>``; None when the
    caller may not see that scope (the API answers 404) or it does not exist."""
    spec = (spec or "").strip()
    if spec == "district":
        return RateScope("district", 0, "") if scope.district else None
    kind, _sep, raw = spec.partition(":")
    if kind not in ("street", "community", "center") or not raw.isdigit() or len(raw) > 12:
        raise ValueError(spec)
    pk = int(raw)
    if kind == "street":
        street = Street.objects.filter(pk=pk).first()
        if street is None or pk not in streets_covered(scope):
            return None
        return RateScope("street", pk, street.name)
    if kind == "community":
        community = Community.objects.filter(pk=pk).first()
        if community is None or not scope.covers_community(pk):
            return None
        return RateScope("community", pk, community.name)
    center = Center.objects.filter(pk=pk).first()
    if center is None or not (scope.covers_community(center.community_id) or pk in scope.partner_center_ids):
        return None
    return RateScope("center", pk, center.name)


def _in_scope(qs: QuerySet[Suggestion], target: RateScope) -> QuerySet[Suggestion]:
    if target.kind == "street":
        return qs.filter(center__community__street_id=target.id)
    if target.kind == "community":
        return qs.filter(center__community_id=target.id)
    if target.kind == "center":
        return qs.filter(center_id=target.id)
    return qs


def _period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz),
        timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz),
    )


def _rate_aggregates(now: dt.datetime) -> dict[str, Any]:
    resolved_states = [Suggestion.Status.RESOLVED, Suggestion.Status.CLOSED]
    return {
        "received": Count("id"),
        "responded": Count("id", filter=Q(first_response_at__isnull=False)),
        "responded_on_time": Count(
            "id", filter=Q(first_response_at__isnull=False, first_response_at__lte=F("respond_by"))
        ),
        "resolved": Count("id", filter=Q(status__in=resolved_states)),
        "resolved_on_time": Count(
            "id", filter=Q(status__in=resolved_states, resolved_at__lte=F("resolve_by"))
        ),
        "ever_resolved": Count("id", filter=Q(first_resolved_at__isnull=False)),
        "reopened": Count("id", filter=Q(reopen_count__gt=0)),
        "rated": Count("id", filter=Q(rating__isnull=False)),
        "satisfied": Count("id", filter=Q(rating__in=SATISFIED)),
        "overdue_open": Count("id", filter=Q(status__in=Suggestion.OPEN, resolve_by__lt=now)),
        # NULL when not yet answered, and AVG skips NULLs: the mean over requests answered.
        "waited": Avg(
            ExpressionWrapper(F("first_response_at") - F("received_at"), output_field=DurationField())
        ),
    }


def _rates_of(numbers: dict[str, Any]) -> Rates:
    waited = numbers.pop("waited", None)
    numbers.pop("center_id", None)
    hours = round(waited.total_seconds() / 3600, 1) if waited is not None else None
    return Rates(average_response_hours=hours, **numbers)


def _received_in(scope: StaffScope, target: RateScope, start: dt.date, end: dt.date) -> QuerySet[Suggestion]:
    begin, finish = _period_bounds(start, end)
    return _in_scope(staff_suggestions(scope), target).filter(received_at__gte=begin, received_at__lt=finish)


def rates(
    scope: StaffScope, target: RateScope, start: dt.date, end: dt.date, *, now: dt.datetime | None = None
) -> Rates:
    """The rates of the requests received from ``start`` to ``end`` (inclusive, local days)."""
    now = now or timezone.now()
    return _rates_of(_received_in(scope, target, start, end).aggregate(**_rate_aggregates(now)))


def rates_by_center(
    scope: StaffScope, target: RateScope, start: dt.date, end: dt.date, *, now: dt.datetime | None = None
) -> list[tuple[Center, Rates]]:
    """The same rates for each center in the scope (for the comparison table), in one grouped query."""
    now = now or timezone.now()
    centers = staff_centers(scope)
    if target.kind == "street":
        centers = centers.filter(community__street_id=target.id)
    elif target.kind == "community":
        centers = centers.filter(community_id=target.id)
    elif target.kind == "center":
        centers = centers.filter(pk=target.id)
    grouped = {
        row["center_id"]: row
        for row in _received_in(scope, target, start, end)
        .order_by()
        .values("center_id")
        .annotate(**_rate_aggregates(now))
    }
    empty = {key: 0 for key in _rate_aggregates(now)} | {"waited": None}
    return [(center, _rates_of(dict(grouped.get(center.pk, empty)))) for center in centers.order_by("name")]


def rate_scopes_for(scope: StaffScope) -> list[RateScope]:
    """The scopes a member of staff may pick on the rates page (district, their sub-districts, centers)."""
    choices: list[RateScope] = []
    if scope.district:
        choices.append(RateScope("district", 0, ""))
    for street in Street.objects.filter(pk__in=streets_covered(scope)).order_by("code"):
        choices.append(RateScope("street", street.pk, street.name))
    for center in staff_centers(scope).order_by("name"):
        choices.append(RateScope("center", center.pk, center.name))
    return choices


def audience_label(value: str) -> str:
    return str(Audience(value).label) if value in Audience.values else value


# --- H2 (console pages): the counts above the request queue -------------------------------------


def staff_queue_counts(scope: StaffScope) -> dict[str, int]:
    """Open requests, those of them flagged overdue, resolved ones waiting for the resident's
    rating, and extensions waiting for a decision, in the caller's scope."""
    numbers = staff_suggestions(scope).aggregate(
        open=Count("id", filter=Q(status__in=Suggestion.OPEN)),
        overdue=Count("id", filter=Q(status__in=Suggestion.OPEN, overdue=True)),
        waiting_rating=Count("id", filter=Q(status=Suggestion.Status.RESOLVED)),
    )
    numbers["extensions"] = pending_extensions(scope).count()
    return numbers


# --- H1 (resident pages): a request by id for its resident, its photos, a visitor's answer ------


def suggestion_of_resident_by_id(user: User, suggestion_id: int) -> Suggestion | None:
    """The resident's own request by its id (the rate and reopen forms post to it), as
    ``suggestion_of_resident`` loads it."""
    return (
        suggestions_of_resident(user)
        .prefetch_related(Prefetch("events", queryset=SuggestionEvent.objects.filter(public=True)))
        .filter(pk=suggestion_id)
        .first()
    )


def suggestion_photos(suggestion: Suggestion) -> list[Photo]:
    """All photos of a request without their content (the page links to them), oldest first."""
    return list(Photo.objects.filter(suggestion=suggestion).defer("content").order_by("created_at", "id"))


def visitor_has_answered(survey: Survey, visitor_hash: str) -> bool:
    """Whether the visitor behind this keyed hash (``services.visitor_hash``) answered the survey."""
    return Response.objects.filter(survey=survey, visitor_hash=visitor_hash).exists()
