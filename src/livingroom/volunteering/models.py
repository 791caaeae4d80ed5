"""Volunteering: volunteers, activities and their shifts, sign-ups, check-in and out, confirmed
service hours, corrections and certificates.

Service hours are a legal record (the national measures on volunteer service records and
certificates): the organiser records and certifies them, they are true, complete and timely, a
volunteer may ask for a correction, and a certificate carries name, ID type and number,
volunteer number, hours, content, issuer, person in charge, certificate number and date. Points
are another matter and live in ``points``: confirming hours awards points by the activity's rule,
once.

The database keeps the rules:

* ``Shift.taken`` counts active sign-ups and never exceeds ``needed`` (a CHECK); a sign-up takes
  a place with one conditional ``UPDATE ... WHERE taken < needed``;
* a volunteer holds at most one active sign-up per shift (a partial unique constraint);
* a sign-up has at most one service record (one-to-one), and a shift's hours are confirmed once
  (a conditional ``UPDATE`` of its status);
* minutes on a record are positive (a CHECK); services keep them within the shift's length.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from livingroom.people.models import Resident
from livingroom.places.models import Center, Organization

MAX_NEEDED = 500
MAX_SHIFT_MINUTES = 12 * 60
MAX_POINTS_PER_HOUR = 100
MAX_BONUS_POINTS = 1000


def star_level(minutes: int) -> int:
    """Stars by total confirmed hours (defaults 100 / 300 / 600 / 1000 h, configurable)."""
    hours = minutes / 60
    return sum(1 for threshold in settings.LIVINGROOM_VOLUNTEER_STAR_HOURS if hours >= threshold)


def next_star_hours(minutes: int) -> int | None:
    """The total hours that earn the next star; None at the top level."""
    for threshold in sorted(settings.LIVINGROOM_VOLUNTEER_STAR_HOURS):
        if minutes < threshold * 60:
            return int(threshold)
    return None


class Volunteer(models.Model):
    """A resident registered as a volunteer, with consent recorded."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    resident = models.OneToOneField(Resident, on_delete=models.PROTECT, related_name="volunteer")
    number = models.CharField(_("volunteer number"), max_length=20, unique=True)
    skills = models.CharField(_("skills"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    consent_version = models.CharField(max_length=20)
    consent_at = models.DateTimeField(_("consent given at"))
    # Confirmed service minutes, kept in the same transaction as the records (star levels, lists).
    minutes_total = models.PositiveIntegerField(_("confirmed minutes"), default=0)
    registered_at = models.DateTimeField(_("registered at"))

    class Meta:
        ordering = ["number"]
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")

    def __str__(self) -> str:
        return f"{self.number} {self.resident}"

    @property
    def hours_total(self) -> float:
        return round(self.minutes_total / 60, 1)

    @property
    def stars(self) -> int:
        return star_level(self.minutes_total)


class Activity(models.Model):
    """A volunteer activity published by a center, a partner organisation or a department."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CANCELLED = "cancelled", _("Cancelled")

    class Audience(models.TextChoices):
        ALL = "all", _("Any registered volunteer")
        COMMUNITY = "community", _("Volunteers living in this community")

    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="volunteer_activities")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="volunteer_activities"
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    requirements = models.CharField(_("requirements"), max_length=300, blank=True)
    audience = models.CharField(
        _("who may join"), max_length=10, choices=Audience.choices, default=Audience.ALL
    )
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    points_per_hour = models.PositiveSmallIntegerField(_("points per hour"), default=1)
    bonus_points = models.PositiveIntegerField(_("points per shift served"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    cancel_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("volunteer activity")
        verbose_name_plural = _("volunteer activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(points_per_hour__lte=MAX_POINTS_PER_HOUR, bonus_points__lte=MAX_BONUS_POINTS),
                name="volunteering_points_rule_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def organizer_name(self) -> str:
        return self.organization.name if self.organization_id and self.organization else self.center.name

    def points_for(self, minutes: int) -> int:
        """The points rule: ``points_per_hour`` for each whole hour served (pro rata, rounded
        down) plus ``bonus_points`` for a shift served."""
        return minutes * self.points_per_hour // 60 + self.bonus_points


class Shift(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CONFIRMED = "confirmed", _("Hours confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="shifts")
    role = models.CharField(pgettext_lazy("shift", "role"), max_length=60)
    place = models.CharField(_("place"), max_length=100)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    needed = models.PositiveSmallIntegerField(_("volunteers needed"))
    taken = models.PositiveSmallIntegerField(_("signed up"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        indexes = [models.Index(fields=["starts_at"], name="volunteering_shift_starts")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="volunteering_shift_order"),
            models.CheckConstraint(
                condition=Q(needed__gte=1, needed__lte=MAX_NEEDED), name="volunteering_shift_needed_range"
            ),
            models.CheckConstraint(
                condition=Q(taken__lte=F("needed")), name="volunteering_shift_not_overfilled"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity} · {self.role}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at) / dt.timedelta(minutes=1))

    @property
    def places_left(self) -> int:
        return max(0, self.needed - self.taken)


class Signup(models.Model):
    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", _("Signed up")
        CANCELLED = "cancelled", _("Cancelled")

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="signups")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="signups")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SIGNED_UP)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    check_in_by = models.CharField(max_length=60, blank=True)  # "device:dev_…" or "staff:12"
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shift", "created_at", "id"]
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "volunteer"],
                condition=Q(status="signed_up"),
                name="volunteering_one_active_signup",
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_in_at__isnull=False),
                name="volunteering_out_after_in",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} → {self.shift}"

    @property
    def default_minutes(self) -> int | None:
        """What the check-in and check-out say, within the shift; a volunteer who checked in but
        not out counts to the shift's end. None for someone who never checked in."""
        if self.checked_in_at is None:
            return None
        shift = self.shift
        start = max(self.checked_in_at, shift.starts_at)
        end = min(self.checked_out_at or shift.ends_at, shift.ends_at)
        return max(0, int((end - start) / dt.timedelta(minutes=1)))


class ServiceRecord(models.Model):
    """Confirmed service hours: the legal record (志愿服务记录)."""

    signup = models.OneToOneField(Signup, on_delete=models.PROTECT, related_name="record")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="records")
    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="records")
    minutes = models.PositiveIntegerField(_("minutes"))
    content = models.CharField(_("service content"), max_length=200)
    organizer = models.CharField(_("organiser"), max_length=120)
    adjustment_reason = models.CharField(_("reason for the adjustment"), max_length=200, blank=True)
    points_awarded = models.PositiveIntegerField(_("points awarded"), default=0)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed at"))
    served_on = models.DateField(_("date of service"))

    class Meta:
        ordering = ["-served_on", "-id"]
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=1, minutes__lte=MAX_SHIFT_MINUTES),
                name="volunteering_record_minutes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.minutes} min"

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


class Correction(models.Model):
    """A volunteer asks for a record to be corrected (or for a missing one)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="corrections")
    signup = models.ForeignKey(Signup, on_delete=models.PROTECT, related_name="corrections")
    minutes_before = models.PositiveIntegerField(default=0)
    minutes_requested = models.PositiveIntegerField(_("minutes asked for"))
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("answer"), max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        constraints = [
            models.UniqueConstraint(
                fields=["signup"], condition=Q(status="open"), name="volunteering_one_open_correction"
            ),
            models.CheckConstraint(
                condition=Q(minutes_requested__gte=1, minutes_requested__lte=MAX_SHIFT_MINUTES),
                name="volunteering_correction_minutes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer}: {self.minutes_requested} min"


# The kinds of ID a certificate may name, stored as a code and shown in the reader's language.
ID_TYPES = {"cn_ric": _("Resident identity card")}


class Certificate(models.Model):
    """A certificate of volunteer service (志愿服务证明), checkable by its code."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="certificates")
    number = models.CharField(_("certificate number"), max_length=30, unique=True)
    code = models.CharField(_("verification code"), max_length=16, unique=True)
    # What the certificate says, fixed when issued (a later correction does not change a paper).
    name = models.CharField(_("name"), max_length=50)
    id_type = models.CharField(_("ID type"), max_length=30)
    id_number_masked = models.CharField(_("ID number"), max_length=30)
    volunteer_number = models.CharField(_("volunteer number"), max_length=20)
    minutes = models.PositiveIntegerField(_("minutes"))
    records = models.PositiveIntegerField(_("service records"))
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    content = models.CharField(_("service content"), max_length=500)
    issuer = models.CharField(_("issuer"), max_length=120)
    person_in_charge = models.CharField(_("person in charge"), max_length=50)
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")

    def __str__(self) -> str:
        return self.number

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def id_type_label(self) -> str:
        return str(ID_TYPES.get(self.id_type, self.id_type))
