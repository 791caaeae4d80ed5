"""Bookable spaces: the rules of a space, its bookable units, bookings, series, closures, suspensions.

A space (``places.Space``) that is bookable has one ``BookingRules`` row and units
(``Resource``): always one ``room`` unit (the whole space), and optionally ``seat`` units (a
study room's seats) or ``therapist`` units (a rehabilitation room's therapists). Residents book
a unit for a time range on the space's slot grid.

The database guarantees that active bookings never overlap:

* on PostgreSQL, two exclusion constraints (migration 0002): one unit is never booked twice at
  the same time; and a whole-room booking never overlaps a booking of one of its seats or
  therapists (``whole_space`` differs);
* on SQLite, every write transaction starts ``BEGIN IMMEDIATE``, so the services' overlap check
  and insert run one at a time.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livingroom.core.pii import EncryptedTextField
from livingroom.people.models import Resident
from livingroom.places.models import Center, Organization, Space


class BookingRules(models.Model):
    """How one space is booked. Defaults are those of a typical community room."""

    class Audience(models.TextChoices):
        EVERYONE = "everyone", _("Every resident with a real-name profile")
        COMMUNITY = "community", _("Residents of this community")
        DISABLED = "disabled", _("Residents with a verified disability")
        PARK_WORKERS = "park_workers", _("Partner organisations and verified industrial-park workers")

    space = models.OneToOneField(Space, on_delete=models.CASCADE, related_name="booking_rules")
    audience = models.CharField(
        _("who may book"), max_length=20, choices=Audience.choices, default="everyone"
    )
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length (minutes)"), default=60, validators=[MinValueValidator(15), MaxValueValidator(240)]
    )
    min_minutes = models.PositiveSmallIntegerField(_("shortest booking (minutes)"), default=60)
    max_minutes = models.PositiveSmallIntegerField(_("longest booking (minutes)"), default=120)
    horizon_days = models.PositiveSmallIntegerField(
        _("days ahead one may book"), default=7, validators=[MaxValueValidator(90)]
    )
    release_time = models.TimeField(
        _("time of day the last day opens"),
        null=True,
        blank=True,
        help_text=_("Empty: the last bookable day opens at midnight."),
    )
    max_per_day = models.PositiveSmallIntegerField(
        _("active bookings per resident per day"), null=True, blank=True
    )
    max_minutes_per_week = models.PositiveIntegerField(
        _("booked minutes per resident per week"), null=True, blank=True
    )
    requires_approval = models.BooleanField(_("staff approve each booking"), default=False)
    checkin_opens_minutes = models.PositiveSmallIntegerField(
        _("check-in opens before start (minutes)"), default=15
    )
    checkin_window_minutes = models.PositiveSmallIntegerField(
        _("check-in closes after start (minutes)"), default=15
    )
    cancel_cutoff_minutes = models.PositiveSmallIntegerField(
        _("cancel at the latest before start (minutes)"), default=60
    )

    class Meta:
        verbose_name = _("booking rules")
        verbose_name_plural = _("booking rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=15, slot_minutes__lte=240), name="rules_slot_range"
            ),
            models.CheckConstraint(
                condition=Q(min_minutes__gte=models.F("slot_minutes")), name="rules_min_slot"
            ),
            models.CheckConstraint(
                condition=Q(max_minutes__gte=models.F("min_minutes")), name="rules_max_min"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.space}"

    def clean(self) -> None:
        """Lengths are whole slots, so that every length a resident may pick can be booked."""
        for name in ("min_minutes", "max_minutes"):
            if self.slot_minutes and getattr(self, name) % self.slot_minutes:
                raise ValidationError({name: _("Use a multiple of the slot length.")})


class SpaceHours(models.Model):
    """Opening hours of one space when they differ from its center's (0 = Monday)."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="own_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("space opening hours")
        verbose_name_plural = _("space opening hours")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="spacehours_weekday"),
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="spacehours_order"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Closure(models.Model):
    """A holiday or other closure of a whole center, or of one space, on whole days (inclusive)."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="closures")
    space = models.ForeignKey(Space, null=True, blank=True, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["starts_on"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="closure_order")
        ]

    def __str__(self) -> str:
        return f"{self.starts_on}–{self.ends_on} {self.reason}"


class Resource(models.Model):
    """A bookable unit of a space: the whole room, one seat, or one therapist's time."""

    class Kind(models.TextChoices):
        ROOM = "room", _("Whole room")
        SEAT = "seat", _("Seat")
        THERAPIST = "therapist", _("Therapist")

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="resources")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    label = models.CharField(_("label"), max_length=60)
    position = models.PositiveSmallIntegerField(default=0)
    residents_may_book = models.BooleanField(_("residents may book it"), default=True)
    is_active = models.BooleanField(_("in use"), default=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="therapist_units",
        help_text=_("For a therapist: their staff account (they read and write session notes)."),
    )

    class Meta:
        ordering = ["space", "kind", "position", "id"]
        verbose_name = _("bookable unit")
        verbose_name_plural = _("bookable units")
        constraints = [
            models.UniqueConstraint(
                fields=["space"], condition=Q(kind="room"), name="resource_one_room_per_space"
            ),
            models.UniqueConstraint(fields=["space", "label"], name="resource_label_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.space.name} · {self.label}"

    @property
    def whole_space(self) -> bool:
        return self.kind == self.Kind.ROOM


class BookingSeries(models.Model):
    """A recurring booking of an organisation (every Tuesday 19:00–21:00 for 10 weeks)."""

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="series")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="booking_series"
    )
    purpose = models.CharField(_("purpose"), max_length=200)
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))
    first_date = models.DateField(_("first date"))
    weeks = models.PositiveSmallIntegerField(
        _("weeks"), validators=[MinValueValidator(1), MaxValueValidator(52)]
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("booking series")
        verbose_name_plural = _("booking series")
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=models.F("starts")), name="series_order"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="series_weekday"),
        ]

    def __str__(self) -> str:
        return self.purpose


class Booking(models.Model):
    class Kind(models.TextChoices):
        RESIDENT = "resident", _("Resident")
        ORGANIZATION = "organization", _("Organisation")
        BLOCK = "block", _("Blocked by staff")
        PROGRAM = "program", _("Course or activity")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        CONFIRMED = "confirmed", _("Confirmed")
        CHECKED_IN = "checked_in", _("Checked in")
        CANCELLED = "cancelled", _("Cancelled")
        REFUSED = "refused", _("Refused")
        NO_SHOW = "no_show", _("Not checked in (released)")

    ACTIVE = (Status.PENDING, Status.CONFIRMED, Status.CHECKED_IN)

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="bookings")
    # Copied from the resource so that the database can compare a room with its parts.
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="bookings")
    whole_space = models.BooleanField(default=False)
    kind = models.CharField(_("kind"), max_length=15, choices=Kind.choices, default=Kind.RESIDENT)
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.CONFIRMED)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    series = models.ForeignKey(
        BookingSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A resident's booking not checked in by this time is released (no-show).
    checkin_closes_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_via = models.CharField(max_length=10, blank=True)  # device | staff | qr
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.CharField(max_length=200, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        indexes = [
            models.Index(fields=["space", "starts_at"], name="booking_space_start"),
            models.Index(fields=["resource", "starts_at"], name="booking_resource_start"),
            models.Index(fields=["resident", "starts_at"], name="booking_resident_start"),
            models.Index(fields=["status", "checkin_closes_at"], name="booking_status_checkin"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="booking_ends_after_start"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="resident", resident__isnull=False)
                    | Q(kind="organization", resident__isnull=True)
                    | Q(kind="block", resident__isnull=True, organization__isnull=True)
                    | Q(kind="program", resident__isnull=True)
                ),
                name="booking_kind_matches_party",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class BookingSuspension(models.Model):
    """A resident may not book for a while after repeated no-shows. Staff may lift it."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="booking_suspensions")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    no_shows = models.PositiveSmallIntegerField(default=0)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("booking suspension")
        verbose_name_plural = _("booking suspensions")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="suspension_order")
        ]

    def __str__(self) -> str:
        return f"suspension of {self.resident_id} until {self.ends_at:%Y-%m-%d}"


class RehabNote(models.Model):
    """What a therapist wrote after a rehabilitation session: health data, encrypted at rest."""

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="rehab_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("rehabilitation note")
        verbose_name_plural = _("rehabilitation notes")

    def __str__(self) -> str:
        return f"note {self.pk} on booking {self.booking_id}"  # never the text: it is health data
