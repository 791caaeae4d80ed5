"""Where things happen: sub-districts, communities, their service centers, spaces and facilities.

Floor areas are typed once, on spaces. A center's service area, office area and office share
are sums over its spaces that are open on a given day (``selectors.center_areas``), so the
before/after of a renovation (固戍: office share 50% → 22%) is derived, never entered twice.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from livingroom.core.pii import EncryptedTextField

street_code_validator = RegexValidator(r"^[0-9]{9}$", _("A sub-district code has 9 digits."))
community_code_validator = RegexValidator(r"^[0-9]{12}$", _("A community code has 12 digits."))


class Street(models.Model):
    """A sub-district (街道)."""

    code = models.CharField(
        _("statistical code"), max_length=9, unique=True, validators=[street_code_validator]
    )
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    code_is_official = models.BooleanField(_("official code"), default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("sub-district")
        verbose_name_plural = _("sub-districts")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{9}$"), name="street_code_9_digits")
        ]

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    """A community (社区); each has one service center."""

    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="communities", verbose_name=_("sub-district")
    )
    code = models.CharField(_("code"), max_length=12, unique=True, validators=[community_code_validator])
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    name_is_real = models.BooleanField(_("real name"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{12}$"), name="community_code_12_digits")
        ]

    def __str__(self) -> str:
        return self.name


class Center(models.Model):
    """A community's Party-mass service center, re-made as a "people's living room"."""

    class Theme(models.TextChoices):
        NEW_EMPLOYMENT = "new_employment", _("Friendly to new-employment workers")
        WORKERS = "workers", _("Friendly to workers")
        WOMEN_CHILDREN = "women_children", _("Friendly to women and children")
        YOUTH = "youth", _("Youth")
        ELDERLY = "elderly", _("Elderly care")

    community = models.OneToOneField(
        Community, on_delete=models.PROTECT, related_name="center", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("service phone"), max_length=30, blank=True)
    description = models.TextField(_("description"), blank=True)
    themes = models.JSONField(_("themes"), default=list, blank=True)
    renovated_on = models.DateField(_("renovated on"), null=True, blank=True)
    is_pilot = models.BooleanField(
        _("pilot of the government + public welfare + commerce model"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["community__code"]
        verbose_name = _("service center")
        verbose_name_plural = _("service centers")

    def __str__(self) -> str:
        return self.name

    def theme_labels(self) -> list[str]:
        labels = dict(self.Theme.choices)
        return [str(labels[t]) for t in self.themes if t in labels]


class OpeningHours(models.Model):
    """One opening period of a center on a weekday (0 = Monday). Several periods per day allowed."""

    center = models.ForeignKey(Center, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), validators=[MinValueValidator(0)])
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="hours_weekday_range"),
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="hours_close_after_open"),
            models.UniqueConstraint(fields=["center", "weekday", "opens"], name="hours_unique_period"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Space(models.Model):
    class Kind(models.TextChoices):
        STUDY = "study", _("Study room")
        READING = "reading", _("Reading room")
        ACTIVITY = "activity", _("Activity room")
        DANCE = "dance", _("Dance room")
        GYM = "gym", _("Gym")
        REHAB = "rehab", _("Rehabilitation room")
        LIVESTREAM = "livestream", _("Live-streaming room")
        CANTEEN = "canteen", _("Canteen")
        MEETING = "meeting", _("Meeting room")
        CHILDCARE = "childcare", _("Childcare room")
        ELDERLY = "elderly", _("Elderly day care")
        REST = "rest", _("Rest spot")
        SERVICE_HALL = "service_hall", _("Service hall")
        OFFICE = "office", _("Office")
        STORAGE = "storage", _("Storage")

    OFFICE_KINDS = frozenset({Kind.OFFICE, Kind.STORAGE})

    center = models.ForeignKey(
        Center, on_delete=models.CASCADE, related_name="spaces", verbose_name=_("center")
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    floor = models.SmallIntegerField(_("floor"), default=1)
    area_m2 = models.DecimalField(_("floor area (m²)"), max_digits=8, decimal_places=1)
    is_office = models.BooleanField(_("counts as office area"), default=False)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    bookable = models.BooleanField(_("bookable"), default=False)
    opened_on = models.DateField(_("in use from"), null=True, blank=True)
    closed_on = models.DateField(_("in use until"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["center", "floor", "name"]
        verbose_name = _("space")
        verbose_name_plural = _("spaces")
        constraints = [
            models.CheckConstraint(condition=Q(area_m2__gt=0), name="space_area_positive"),
            models.CheckConstraint(
                condition=Q(opened_on__isnull=True)
                | Q(closed_on__isnull=True)
                | Q(closed_on__gt=models.F("opened_on")),
                name="space_closed_after_opened",
            ),
            models.CheckConstraint(
                condition=~Q(is_office=True, bookable=True), name="space_office_not_bookable"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.center} · {self.name}"

    def in_use_on(self, day: dt.date) -> bool:
        return (self.opened_on is None or self.opened_on <= day) and (
            self.closed_on is None or day < self.closed_on
        )


class Facility(models.Model):
    """A convenience facility (便民设施) of a center."""

    class Kind(models.TextChoices):
        FITNESS = "fitness", _("Fitness equipment")
        CHILDREN_PLAY = "children_play", _("Children's play area")
        WATER = "water", _("Water dispenser")
        BLOOD_PRESSURE = "blood_pressure", _("Blood-pressure meter")
        MEDICINE_BOX = "medicine_box", _("Medicine box")
        RIDER_REST = "rider_rest", _("Rider rest spot")
        HISTORY_WALL = "history_wall", _("Community history wall")
        MURAL = "mural", _("Mural")
        CHARGING = "charging", _("Phone charging")
        UMBRELLA = "umbrella", _("Umbrella sharing")
        MICROWAVE = "microwave", _("Microwave oven")
        AED = "aed", _("AED defibrillator")
        BOOKSHELF = "bookshelf", _("Book exchange shelf")
        COFFEE = "coffee", _("Coffee corner")

    class Status(models.TextChoices):
        IN_SERVICE = "in_service", _("In service")
        UNDER_REPAIR = "under_repair", _("Under repair")
        RETIRED = "retired", _("Retired")

    center = models.ForeignKey(
        Center, on_delete=models.CASCADE, related_name="facilities", verbose_name=_("center")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.IN_SERVICE)
    location = models.CharField(_("location"), max_length=100, blank=True)

    class Meta:
        ordering = ["center", "kind"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="facility_quantity_positive")
        ]

    def __str__(self) -> str:
        return self.name or str(self.get_kind_display())


class Organization(models.Model):
    """A partner: social organisation, social enterprise, start-up team, company or department (合伙人)."""

    class Kind(models.TextChoices):
        SOCIAL_ORG = "social_org", _("Social organisation")
        SOCIAL_ENTERPRISE = "social_enterprise", _("Social enterprise")
        STARTUP = "startup", _("Start-up team")
        DEPARTMENT = "department", _("Partner department")
        COMPANY = "company", _("Company")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, null=True, blank=True, unique=True
    )
    centers = models.ManyToManyField(
        Center, related_name="organizations", blank=True, verbose_name=_("centers")
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")

    def __str__(self) -> str:
        return self.name


def new_device_key() -> str:
    return "dev_" + secrets.token_hex(8)


class Device(models.Model):
    """A registered device bound to a center; it signs its requests with its own secret."""

    class Kind(models.TextChoices):
        VENDING_MACHINE = "vending_machine", _("Vending machine")
        PEOPLE_COUNTER = "people_counter", _("People counter")
        KIOSK = "kiosk", _("Check-in kiosk")
        CANTEEN_TERMINAL = "canteen_terminal", _("Canteen terminal")
        SCANNER = "scanner", _("Staff scanner")

    center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="devices", verbose_name=_("center")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    key_id = models.CharField(_("key id"), max_length=40, unique=True, default=new_device_key)
    secret = EncryptedTextField(_("secret"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["center", "kind", "name"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"

    def audit_label(self) -> str:
        return f"device:{self.key_id}"


class CalendarDay(models.Model):
    """The district's working-day calendar: a public holiday on a weekday, or a make-up working day
    (调休) on a weekend. Every other Monday–Friday is a working day; every other Saturday and Sunday
    is not. Deadlines counted in working days (``places.workdays``) and meal subsidies read it.
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday")
        WORKDAY = "workday", _("Make-up working day")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["holiday", "workday"]), name="calendarday_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}".strip()
