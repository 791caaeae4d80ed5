"""Residents' voice: needs surveys, suggestions answered one by one (接诉即办), forums and home
visits, and the three rates (response, resolution, satisfaction).

Surveys
    A survey targets an area (a community, a sub-district or the district) and an audience; its
    questions are single or multiple choice, a rating scale, short or long text, with simple skip
    logic (a question shown only when an earlier choice question got a given choice). One
    response per person: a ``Participation`` row (unique per survey and user) records *that* a
    user answered. In an anonymous survey the ``Response`` carries no link to the user: a random
    key, no user, only the day it was given, and the audit event names the survey, never the
    response. A visitor who is not signed in may answer an anonymous survey open to everyone;
    a signed cookie then stands for the person.

Suggestions
    Every request (consultation, help, complaint, report, suggestion) concerns a center and has
    one owner from the moment it is received (首接负责): the center, until it is handed to a
    partner organisation or a department. Deadlines to respond and to resolve are counted in
    working days (``places.workdays``) by ``DeadlineRule``; every hand-over and step is a
    ``SuggestionEvent``. The status moves received → assigned → in progress → resolved → closed,
    each step a conditional UPDATE from the states it may leave, so two people acting at once
    cannot both move it.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from livingroom.core.scopes import StaffScope
from livingroom.people.models import EligibilityVerification, Resident, StaffRole
from livingroom.places.models import Center, Community, Organization, Space, Street

MAX_QUESTIONS = 60
MAX_CHOICES = 20
MAX_TEXT = 2000
MAX_SHORT_TEXT = 200
MAX_SUGGESTION_TEXT = 2000
MAX_PHOTOS = 4
MAX_PHOTO_BYTES = 5 * 1024 * 1024
SATISFIED = (5, 4)  # very satisfied, satisfied
FOLLOW_UP = (2, 1)  # dissatisfied, very dissatisfied: a follow-up within 15 working days


def is_supervisor(scope: StaffScope, community_id: int) -> bool:
    """Extensions are decided by the district, or by the sub-district over its communities."""
    if scope.district:
        return True
    return StaffRole.Role.STREET_OFFICIAL in scope.roles and scope.covers_community(community_id)


def streets_covered(scope: StaffScope) -> set[int]:
    """The sub-districts all of whose communities the staff member covers (every one for the
    district): the only sub-districts they may survey or compare."""
    communities: dict[int, set[int]] = {}
    for community_id, street_id in Community.objects.values_list("id", "street_id"):
        communities.setdefault(street_id, set()).add(community_id)
    return {
        street_id for street_id, ids in communities.items() if scope.district or ids <= scope.community_ids
    }


def surveys_visible_to(scope: StaffScope) -> models.QuerySet[Survey]:
    """The surveys a member of staff sees and manages: their communities' and sub-districts'."""
    if scope.district:
        return Survey.objects.all()
    return Survey.objects.filter(
        Q(area=Survey.Area.COMMUNITY, community_id__in=scope.community_ids)
        | Q(area=Survey.Area.STREET, street_id__in=streets_covered(scope))
    )


def suggestions_visible_to(scope: StaffScope) -> models.QuerySet[Suggestion]:
    """The requests a member of staff sees and acts on: their communities' centers', and for
    partner staff those their organisation owns at the centers it works in."""
    return scope.filter(
        Suggestion.objects.all(),
        community="center__community",
        center="center",
        organization="owner_organization",
    )


class Audience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone")
    RIDERS = "riders", _("Delivery riders and couriers")
    PARK_WORKERS = "park_workers", _("Industrial-park workers")
    ELDERLY = "elderly", _("Residents aged 60 and over")
    DISABLED = "disabled", _("Disabled residents")
    FAMILIES = "families", _("Families with children")


class Survey(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", pgettext_lazy("survey", "Open")
        CLOSED = "closed", pgettext_lazy("survey", "Closed")

    class Area(models.TextChoices):
        COMMUNITY = "community", _("A community")
        STREET = "street", _("A sub-district")
        DISTRICT = "district", _("The whole district")

    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("introduction"), blank=True)
    area = models.CharField(_("area"), max_length=10, choices=Area.choices, default=Area.COMMUNITY)
    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, null=True, blank=True, related_name="surveys"
    )
    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, null=True, blank=True, related_name="surveys"
    )
    audience = models.CharField(
        _("audience"), max_length=20, choices=Audience.choices, default=Audience.EVERYONE
    )
    anonymous = models.BooleanField(
        _("anonymous"), default=False, help_text=_("Answers are never linked to the person who gave them.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True)
    responses_count = models.PositiveIntegerField(_("responses"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(area="community", community__isnull=False, street__isnull=True)
                    | Q(area="street", street__isnull=False, community__isnull=True)
                    | Q(area="district", street__isnull=True, community__isnull=True)
                ),
                name="voice_survey_area_matches",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def area_name(self) -> str:
        if self.area == self.Area.COMMUNITY and self.community:
            return self.community.name
        if self.area == self.Area.STREET and self.street:
            return self.street.name
        return str(_("The whole district"))

    def reaches_area(self, resident: Resident | None) -> bool:
        """Whether the resident lives in the survey's area (anyone does for the district)."""
        if self.area == self.Area.DISTRICT:
            return True
        if resident is None:
            return False
        if self.area == self.Area.COMMUNITY:
            return resident.home_community_id == self.community_id
        return resident.home_community.street_id == self.street_id

    def reaches_audience(self, resident: Resident, today: dt.date) -> bool:
        """Whether the resident is in the survey's audience: by age, by a dependant, or by a
        verification that is neither revoked nor expired."""
        audience = self.audience
        if audience == Audience.EVERYONE:
            return True
        if audience == Audience.ELDERLY:
            born = resident.birth_date
            return today.year - born.year - ((today.month, today.day) < (born.month, born.day)) >= 60
        if audience == Audience.FAMILIES:
            return resident.dependants.filter(removed_at__isnull=True).exists()
        kind = {
            Audience.RIDERS: EligibilityVerification.Kind.RIDER,
            Audience.PARK_WORKERS: EligibilityVerification.Kind.PARK_WORKER,
            Audience.DISABLED: EligibilityVerification.Kind.DISABLED,
        }[Audience(audience)]
        return (
            EligibilityVerification.objects.filter(resident=resident, kind=kind, revoked_at__isnull=True)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
            .exists()
        )

    def accepts_answers(self, now: dt.datetime) -> bool:
        """Published and not past its closing time (the clock closes it soon after)."""
        return self.status == self.Status.PUBLISHED and (self.closes_at is None or self.closes_at > now)

    @property
    def open_to_visitors(self) -> bool:
        """Visitors who are not signed in may answer: anonymous and open to everyone."""
        return self.anonymous and self.audience == Audience.EVERYONE


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        RATING = "rating", _("Rating scale")
        SHORT_TEXT = "short_text", _("Short text")
        LONG_TEXT = "long_text", _("Long text")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("hint"), max_length=200, blank=True)
    required = models.BooleanField(_("required"), default=False)
    # [{"key": "a", "label": "..."}, ...] for choice questions
    choices = models.JSONField(_("choices"), default=list, blank=True)
    scale_max = models.PositiveSmallIntegerField(_("scale"), default=5)
    # Skip logic: shown only when the question at ``show_if_position`` got ``show_if_choice``.
    show_if_position = models.PositiveSmallIntegerField(_("shown if question"), null=True, blank=True)
    show_if_choice = models.CharField(_("got the choice"), max_length=20, blank=True)

    class Meta:
        ordering = ["survey", "position"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.UniqueConstraint(fields=["survey", "position"], name="voice_question_position_unique"),
            models.CheckConstraint(
                condition=Q(scale_max__gte=2, scale_max__lte=10), name="voice_scale_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.text}"

    @property
    def is_choice(self) -> bool:
        return self.kind in (self.Kind.SINGLE, self.Kind.MULTIPLE)

    def choice_label(self, key: str) -> str:
        for choice in self.choices:
            if choice.get("key") == key:
                return str(choice.get("label", key))
        return key


class Participation(models.Model):
    """That a user answered a survey (one per person); in an anonymous survey, nothing more."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(fields=["survey", "user"], name="voice_one_response_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}:{self.user_id}"


class Response(models.Model):
    """One person's answers. ``respondent`` stays empty in an anonymous survey; the key is random
    and only the day is kept, so neither order nor time ties it to a participation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # For a visitor who is not signed in: a keyed hash of the browser's random token (one per person).
    visitor_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    given_on = models.DateField(_("given on"))

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "respondent"],
                condition=Q(respondent__isnull=False),
                name="voice_response_unique_user",
            ),
            models.UniqueConstraint(
                fields=["survey", "visitor_hash"],
                condition=Q(visitor_hash__isnull=False),
                name="voice_response_unique_visitor",
            ),
        ]

    def __str__(self) -> str:
        return str(self.pk)


class Answer(models.Model):
    """One answer: a choice (one row per choice of a multiple-choice question), a rating or a text.
    Its key is random too: a sequence would follow the order people answered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    choice = models.CharField(max_length=20, blank=True)
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [models.Index(fields=["question", "choice"], name="voice_answer_choice_idx")]

    def __str__(self) -> str:
        return f"{self.question_id}:{self.choice or self.number or self.text[:20]}"


class Engagement(models.Model):
    """A forum (座谈) or a home visit (走访) that staff held, with what residents raised."""

    class Kind(models.TextChoices):
        FORUM = "forum", _("Forum")
        VISIT = "visit", _("Home visit")
        QUESTIONNAIRE = "questionnaire", _("Paper questionnaire round")

    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="engagements")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=120)
    participants = models.PositiveIntegerField(_("participants"))
    topics = models.CharField(_("topics"), max_length=300)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("forum or visit")
        verbose_name_plural = _("forums and visits")
        constraints = [
            models.CheckConstraint(
                condition=Q(participants__gte=1, participants__lte=10000), name="voice_participants_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.held_on:%Y-%m-%d} {self.place}"


class Suggestion(models.Model):
    class Kind(models.TextChoices):
        CONSULTATION = "consultation", _("Consultation")
        HELP = "help", _("Request for help")
        COMPLAINT = "complaint", _("Complaint")
        REPORT = "report", _("Report a problem")
        SUGGESTION = "suggestion", _("Suggestion")

    class Category(models.TextChoices):
        FACILITIES = "facilities", _("Facilities")
        SERVICES = "services", _("Services")
        ACTIVITIES = "activities", _("Activities")
        ENVIRONMENT = "environment", _("Environment")
        STAFF = "staff", _("Staff")
        OTHER = "other", pgettext_lazy("category", "Other")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        DESK = "desk", _("At the desk")
        PHONE = "phone", _("Phone call")
        FORUM = "forum", _("Forum")
        VISIT = "visit", _("Home visit")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ASSIGNED = "assigned", _("Assigned")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", pgettext_lazy("suggestion", "Closed")

    class Rating(models.IntegerChoices):
        VERY_SATISFIED = 5, _("Very satisfied")
        SATISFIED = 4, _("Satisfied")
        NEUTRAL = 3, _("Neutral")
        DISSATISFIED = 2, _("Dissatisfied")
        VERY_DISSATISFIED = 1, _("Very dissatisfied")

    OPEN = (Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS)

    tracking_no = models.CharField(_("tracking number"), max_length=20, unique=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    text = models.TextField(_("what it is about"))
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="suggestions")
    space = models.ForeignKey(Space, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, null=True, blank=True, related_name="suggestions"
    )
    engagement = models.ForeignKey(
        Engagement, on_delete=models.SET_NULL, null=True, blank=True, related_name="suggestions"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The owner: the center (first receiver) until handed to a partner organisation or department.
    owner_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="suggestions"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(_("received at"))
    respond_by = models.DateTimeField(_("respond by"))
    resolve_by = models.DateTimeField(_("resolve by"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    first_resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reply = models.TextField(_("reply"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), choices=Rating.choices, null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=300, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0)
    follow_up = models.BooleanField(_("follow-up"), default=False)
    overdue = models.BooleanField(_("overdue"), default=False)
    escalation_level = models.PositiveSmallIntegerField(_("escalated"), default=0)
    # The public board: a summary without personal details, and what was carried out.
    is_public = models.BooleanField(_("on the public board"), default=False)
    public_summary = models.CharField(_("public summary"), max_length=300, blank=True)
    done_note = models.CharField(_("what was carried out"), max_length=300, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        indexes = [
            models.Index(fields=["center", "received_at"], name="voice_sugg_center_recv_idx"),
            models.Index(fields=["status", "resolve_by"], name="voice_sugg_status_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="voice_rating_range"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed"])
                | Q(resolved_at__isnull=False)
                | Q(status="closed"),
                name="voice_resolved_has_time",
            ),
            models.CheckConstraint(
                condition=Q(respond_by__lte=models.F("resolve_by")), name="voice_respond_before_resolve"
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_no

    @property
    def owner_name(self) -> str:
        if self.owner_organization_id and self.owner_organization:
            return self.owner_organization.name
        return self.center.name

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def reopen_until(self) -> dt.datetime | None:
        """A resolved request may be reopened by its resident until then."""
        if self.status != self.Status.RESOLVED or self.resolved_at is None:
            return None
        return self.resolved_at + dt.timedelta(days=settings.LIVINGROOM_VOICE_REOPEN_DAYS)

    def can_reopen(self, now: dt.datetime) -> bool:
        until = self.reopen_until()
        return until is not None and now <= until


class DeadlineRule(models.Model):
    """Working days to respond and to resolve, per request type and (optionally) category."""

    kind = models.CharField(_("type"), max_length=20, choices=Suggestion.Kind.choices)
    category = models.CharField(
        _("category"),
        max_length=20,
        blank=True,
        choices=Suggestion.Category.choices,
        help_text=_("Empty: any category."),
    )
    respond_days = models.PositiveSmallIntegerField(_("working days to respond"))
    resolve_days = models.PositiveSmallIntegerField(_("working days to resolve"))

    class Meta:
        ordering = ["kind", "category"]
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        constraints = [
            models.UniqueConstraint(fields=["kind", "category"], name="voice_deadline_rule_unique"),
            models.CheckConstraint(
                condition=Q(
                    respond_days__gte=1, resolve_days__gte=1, respond_days__lte=60, resolve_days__lte=120
                )
                & Q(resolve_days__gte=models.F("respond_days")),
                name="voice_deadline_rule_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.category or '*'}: {self.respond_days}/{self.resolve_days}"


class SuggestionEvent(models.Model):
    """Every step of a suggestion: received, assigned (hand-over), responded, extension asked and
    decided, resolved, rated, reopened, follow-up, escalated, closed, published."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        ASSIGNED = "assigned", _("Handed over")
        RESPONDED = "responded", _("Responded")
        EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
        EXTENSION_APPROVED = "extension_approved", _("Extension approved")
        EXTENSION_REFUSED = "extension_refused", _("Extension refused")
        RESOLVED = "resolved", _("Resolved")
        RATED = "rated", _("Rated")
        REOPENED = "reopened", _("Reopened")
        FOLLOW_UP = "follow_up", _("Follow-up opened")
        OVERDUE = "overdue", _("Overdue")
        ESCALATED = "escalated", _("Escalated")
        CLOSED = "closed", pgettext_lazy("suggestion", "Closed")
        PUBLISHED = "published", _("Published on the board")

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # For a hand-over: from and to (names at the time), and a note for the resident or the file.
    from_owner = models.CharField(max_length=120, blank=True)
    to_owner = models.CharField(max_length=120, blank=True)
    note = models.TextField(blank=True)
    public = models.BooleanField(default=False, help_text="shown to the resident")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("suggestion step")
        verbose_name_plural = _("suggestion steps")

    def __str__(self) -> str:
        return f"{self.suggestion_id} {self.kind}"


class Extension(models.Model):
    """An owner's request for more working days, decided by a supervisor (sub-district or district)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField(_("extra working days"))
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=30), name="voice_extension_days_range"),
            models.UniqueConstraint(
                fields=["suggestion"], condition=Q(status="pending"), name="voice_one_pending_extension"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.suggestion_id} +{self.days}"


class Photo(models.Model):
    """A photo, checked and re-encoded as JPEG (metadata such as GPS position removed), kept in the
    database so that backups hold it and only permitted viewers are served it."""

    class Kind(models.TextChoices):
        REPORT = "report", _("Photo with the request")
        BEFORE = "before", _("Before")
        AFTER = "after", _("After")

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    content = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["report", "before", "after"]), name="voice_photo_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.suggestion_id} {self.kind} {self.pk}"
