"""Courses and activities: programs, their sessions, enrolments, the opening draw, attendance,
payments, ratings, and the talent pool (达人库).

The scarce thing is a seat. The database keeps the rules:

* ``Program.seats_taken`` counts confirmed and offered enrolments and never exceeds
  ``capacity`` (a CHECK); services take a seat with one conditional ``UPDATE ... SET
  seats_taken = seats_taken + 1 WHERE seats_taken < capacity``, which also serialises every
  change of a program's seats and waiting list on that one row;
* ``Program.waitlist_count`` never exceeds ``waitlist_size`` (a CHECK), taken the same way;
* a resident (or one of their dependants) holds at most one active enrolment per program
  (partial unique constraints);
* waiting-list positions are unique per program (a partial unique constraint); services keep them
  gap-free 1..n under the program row's lock;
* a public-welfare program charges at most its share of the market price (a CHECK).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livingroom.people.models import Dependant, Resident
from livingroom.places.models import Center, Community, Organization, Space

MAX_PRICE_FEN = 10_000_000  # ¥100,000: anything above is a typing error
MAX_CAPACITY = 1000
MAX_WAITLIST = 5000


class Talent(models.Model):
    """A resident who offers to teach: an arts talent or a professional (达人)."""

    class Kind(models.TextChoices):
        ARTS = "arts", _("Arts talent")
        PROFESSIONAL = "professional", _("Professional talent")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for vetting")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="talent_applications")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="talents")
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices)
    skills = models.CharField(_("skills"), max_length=200)
    bio = models.TextField(_("short bio"), max_length=1000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    applied_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-applied_at"]
        verbose_name = _("talent")
        verbose_name_plural = _("talents")
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(status__in=["pending", "approved"]),
                name="talent_one_open_per_resident",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident.masked_name} · {self.skills}"


class Program(models.Model):
    class Category(models.TextChoices):
        ARTS = "arts", _("Painting & arts")
        CALLIGRAPHY = "calligraphy", _("Calligraphy")
        HERITAGE = "heritage", _("Intangible heritage")
        FITNESS = "fitness", _("Fitness & dance")
        NIGHT_SCHOOL = "night_school", _("Youth night school")
        CHILDCARE = "childcare", _("Childcare")
        ELDERLY = "elderly", _("For the elderly")
        JOB_SKILLS = "job_skills", _("Job skills")
        HEALTH = "health", _("Health lecture")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Not approved")
        CANCELLED = "cancelled", _("Cancelled")

    class Provider(models.TextChoices):
        CENTER = "center", _("The center")
        ORGANIZATION = "organization", _("Partner organisation or department")
        TALENT = "talent", _("Resident talent")

    class Promotion(models.TextChoices):
        AUTO = "auto", _("The next in line gets the seat at once")
        OFFER = "offer", _("The next in line is offered the seat until a deadline")

    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="programs")
    provider = models.CharField(_("provider"), max_length=15, choices=Provider.choices)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="programs"
    )
    talent = models.ForeignKey(
        Talent, null=True, blank=True, on_delete=models.PROTECT, related_name="programs"
    )
    title = models.CharField(_("title"), max_length=100)
    category = models.CharField(_("category"), max_length=15, choices=Category.choices)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    # Audience: an age band (of the person taking part), communities, eligibility groups.
    min_age = models.PositiveSmallIntegerField(_("youngest age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("oldest age"), null=True, blank=True)
    communities = models.ManyToManyField(
        Community, blank=True, related_name="+", verbose_name=_("only residents of")
    )
    eligibility_kinds = models.JSONField(_("only residents verified as"), default=list, blank=True)
    capacity = models.PositiveIntegerField(_("seats"))
    waitlist_size = models.PositiveIntegerField(_("waiting-list places"), default=0)
    seats_taken = models.PositiveIntegerField(default=0, editable=False)
    waitlist_count = models.PositiveIntegerField(default=0, editable=False)
    market_price_fen = models.PositiveIntegerField(_("market price (fen)"), default=0)
    price_fen = models.PositiveIntegerField(_("price charged (fen)"), default=0)
    public_welfare = models.BooleanField(_("public-welfare pricing"), default=True)
    welfare_share_pct = models.PositiveSmallIntegerField(default=20, editable=False)
    enroll_opens_at = models.DateTimeField(_("enrolment opens"))
    enroll_closes_at = models.DateTimeField(_("enrolment closes"))
    fair_seconds = models.PositiveSmallIntegerField(
        _("opening draw (seconds)"),
        default=60,
        help_text=_(
            "Requests in the first seconds after opening are drawn by lot; 0 = first come first served."
        ),
    )
    draw_done_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The draw's seed is fixed when the course is proposed and kept secret until the draw; its
    # SHA-256 is public from the start, so anyone can check afterwards that it was not re-rolled.
    draw_seed = models.CharField(max_length=64, blank=True, editable=False)
    draw_seed_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    promotion = models.CharField(
        _("when a seat frees"), max_length=10, choices=Promotion.choices, default="auto"
    )
    offer_hours = models.PositiveSmallIntegerField(_("hours to accept an offered seat"), default=24)
    cancel_cutoff_hours = models.PositiveSmallIntegerField(
        _("residents cancel at the latest (hours before the first session)"), default=24
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.CharField(max_length=200, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-enroll_opens_at", "id"]
        verbose_name = _("course or activity")
        verbose_name_plural = _("courses and activities")
        indexes = [models.Index(fields=["status", "center"], name="program_status_center")]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1, capacity__lte=MAX_CAPACITY), name="program_capacity_range"
            ),
            models.CheckConstraint(
                condition=Q(waitlist_size__lte=MAX_WAITLIST), name="program_waitlist_range"
            ),
            models.CheckConstraint(
                condition=Q(seats_taken__lte=F("capacity")), name="program_seats_within_capacity"
            ),
            models.CheckConstraint(
                condition=Q(waitlist_count__lte=F("waitlist_size")), name="program_waitlist_within_size"
            ),
            models.CheckConstraint(
                condition=Q(market_price_fen__lte=MAX_PRICE_FEN, price_fen__lte=F("market_price_fen")),
                name="program_price_within_market",
            ),
            models.CheckConstraint(
                condition=Q(public_welfare=False)
                | Q(price_fen__lte=F("market_price_fen") * F("welfare_share_pct") / 100),
                name="program_welfare_price_cap",
            ),
            models.CheckConstraint(
                condition=Q(enroll_closes_at__gt=F("enroll_opens_at")), name="program_window_order"
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True) | Q(max_age__isnull=True) | Q(max_age__gte=F("min_age")),
                name="program_age_order",
            ),
            models.CheckConstraint(
                condition=Q(provider="center", organization__isnull=True, talent__isnull=True)
                | Q(provider="organization", organization__isnull=False, talent__isnull=True)
                | Q(provider="talent", organization__isnull=True, talent__isnull=False),
                name="program_provider_matches",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def provider_name(self) -> str:
        """Who runs it, as residents see it: the organisation, the talent (masked) or the center."""
        if self.provider == self.Provider.ORGANIZATION and self.organization:
            return self.organization.name
        if self.provider == self.Provider.TALENT and self.talent:
            return self.talent.resident.masked_name
        return self.center.name

    @property
    def discount_fen(self) -> int:
        return self.market_price_fen - self.price_fen

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def fair_until(self) -> dt.datetime:
        """Requests before this moment are drawn by lot (when ``fair_seconds`` > 0)."""
        return self.enroll_opens_at + dt.timedelta(seconds=self.fair_seconds)


class ProgramSession(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="sessions")
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="program_sessions")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    # The space's reservation (booking app) made when the program is approved.
    booking_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        indexes = [models.Index(fields=["status", "starts_at"], name="session_status_start")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="session_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.program} {self.starts_at:%Y-%m-%d %H:%M}"


class Enrollment(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("In the opening draw")
        CONFIRMED = "confirmed", _("Enrolled")
        WAITLISTED = "waitlisted", _("On the waiting list")
        OFFERED = "offered", _("Seat offered")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Offer lapsed")
        UNSUCCESSFUL = "unsuccessful", _("No place left")

    ACTIVE = (Status.REQUESTED, Status.CONFIRMED, Status.WAITLISTED, Status.OFFERED)
    HOLDS_SEAT = (Status.CONFIRMED, Status.OFFERED)

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrollments")
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="enrollments")
    dependant = models.ForeignKey(
        Dependant, null=True, blank=True, on_delete=models.PROTECT, related_name="enrollments"
    )
    # The people signed up in one request share a party: drawn together at the opening.
    party = models.CharField(max_length=32)
    status = models.CharField(max_length=12, choices=Status.choices)
    position = models.IntegerField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    end_reason = models.CharField(max_length=200, blank=True)
    price_fen = models.PositiveIntegerField(default=0)
    paid_fen = models.PositiveIntegerField(default=0)  # charges minus refunds, kept with the ledger
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.CharField(max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        indexes = [
            models.Index(fields=["program", "status"], name="enrollment_program_status"),
            models.Index(fields=["resident", "status"], name="enrollment_resident_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "resident"],
                condition=Q(
                    dependant__isnull=True, status__in=["requested", "confirmed", "waitlisted", "offered"]
                ),
                name="enrollment_one_active_per_resident",
            ),
            models.UniqueConstraint(
                fields=["program", "dependant"],
                condition=Q(
                    dependant__isnull=False, status__in=["requested", "confirmed", "waitlisted", "offered"]
                ),
                name="enrollment_one_active_per_dependant",
            ),
            models.UniqueConstraint(
                fields=["program", "position"],
                condition=Q(status="waitlisted"),
                name="enrollment_waitlist_position_unique",
            ),
            models.CheckConstraint(
                condition=Q(status="waitlisted", position__isnull=False)
                | (~Q(status="waitlisted") & Q(position__isnull=True)),
                name="enrollment_position_iff_waitlisted",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="enrollment_rating_range",
            ),
            models.CheckConstraint(
                condition=Q(paid_fen__lte=F("price_fen")), name="enrollment_paid_within_price"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.participant_masked}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def participant_name(self) -> str:
        return self.dependant.name if self.dependant_id else self.resident.real_name  # type: ignore[union-attr]

    @property
    def participant_masked(self) -> str:
        return self.dependant.masked_name if self.dependant_id else self.resident.masked_name  # type: ignore[union-attr]


class Draw(models.Model):
    """The opening draw of a program: its seed and what it decided, so an auditor can replay it.

    Each party's key is ``sha256("<seed>:<party>")`` in hex; parties are served in ascending key
    order (``docs/programs.md``). ``entrants`` lists ``[enrollment id, party]`` as they were drawn
    from, ``order`` the enrolment ids in the order served, ``outcome`` their statuses after it.
    """

    program = models.OneToOneField(Program, on_delete=models.PROTECT, related_name="draw")
    seed = models.CharField(max_length=64)
    drawn_at = models.DateTimeField(default=timezone.now)
    entrants = models.JSONField(default=list)
    order = models.JSONField(default=list)
    outcome = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("opening draw")
        verbose_name_plural = _("opening draws")

    def __str__(self) -> str:
        return f"draw of {self.program_id}"


class Attendance(models.Model):
    session = models.ForeignKey(ProgramSession, on_delete=models.PROTECT, related_name="attendances")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="attendances")
    present = models.BooleanField(default=True)
    via = models.CharField(max_length=10)  # device | staff
    marked_at = models.DateTimeField(default=timezone.now)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["session", "enrollment"], name="attendance_once_per_session")
        ]

    def __str__(self) -> str:
        return f"{self.session_id}/{self.enrollment_id}: {self.present}"


class Payment(models.Model):
    """The payment ledger of enrolments: append-only charges and refunds (integer fen)."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Payment")
        REFUND = "refund", _("Refund")

    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount_fen = models.PositiveIntegerField()
    method = models.CharField(max_length=20)
    reference = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_fen} fen"
