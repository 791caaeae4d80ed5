"""Users, residents, staff roles, eligibility verifications, sign-in codes, tokens and passes.

Personal data is encrypted at rest (``EncryptedTextField``); each encrypted value that must be
found or kept unique has a blind index beside it (``*_hash``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livingroom.core import masking, pii
from livingroom.places.models import Center, Community, Organization, Street

# What an erased resident is called everywhere (the stored name is this label in Chinese).
ERASED_LABEL = _("Erased user")
ERASED_NAME = "已注销用户"


def phone_index(phone: str) -> str:
    return pii.blind_index(phone, purpose="phone")


def id_number_index(number: str) -> str:
    return pii.blind_index(number, purpose="id_number")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, password, **extra)

    def get_by_phone(self, phone: str) -> User:
        return self.get(phone_hash=phone_index(phone))


class User(AbstractBaseUser, PermissionsMixin):
    """One account model. Residents sign in by phone + SMS code; staff by username + password + TOTP.

    ``is_staff`` keeps Django's meaning (may open the Django admin: superusers only); a member of
    community staff is a user with at least one active ``StaffRole``.
    """

    username = models.CharField(_("username"), max_length=150, unique=True, null=True, blank=True)
    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    phone = pii.EncryptedTextField(_("mobile number"), blank=True)
    phone_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    phone_tail = models.CharField(max_length=4, blank=True, editable=False, db_index=True)
    totp_secret = pii.EncryptedTextField(_("TOTP secret"), blank=True)
    totp_last_step = models.BigIntegerField(null=True, blank=True, editable=False)
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)  # type: ignore[misc]
    is_staff = models.BooleanField(_("may use the Django admin"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.username or masking.mask_phone(self.phone) or f"user {self.pk}"

    def set_phone(self, phone: str) -> None:
        self.phone = phone
        self.phone_hash = phone_index(phone)
        self.phone_tail = phone[-4:]

    @property
    def masked_phone(self) -> str:
        return masking.mask_phone(self.phone)

    def audit_label(self) -> str:
        return self.username or f"resident:{self.pk}"


class Resident(models.Model):
    """A resident's real-name profile. The ID number is encrypted; birth date and sex come from it."""

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="resident")
    real_name = models.CharField(_("real name"), max_length=50)
    name_pinyin = models.CharField(max_length=200, blank=True, editable=False)
    name_initials = models.CharField(max_length=50, blank=True, editable=False, db_index=True)
    id_number = pii.EncryptedTextField(_("ID number"))
    id_number_hash = models.CharField(max_length=64, unique=True, editable=False)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    home_community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="residents", verbose_name=_("home community")
    )
    consent_purpose = models.CharField(_("consent purpose"), max_length=100)
    consent_version = models.CharField(max_length=20)
    consent_at = models.DateTimeField(_("consent given at"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when the resident's personal data was erased at their request (the row stays, anonymised,
    # for the ledgers and records that point at it).
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("resident")
        verbose_name_plural = _("residents")

    def __str__(self) -> str:
        return self.masked_name

    @property
    def masked_name(self) -> str:
        if self.erased_at is not None:
            return str(ERASED_LABEL)
        return masking.mask_name(self.real_name)

    @property
    def masked_id_number(self) -> str:
        return masking.mask_id_number(self.id_number)

    def age_on(self, day: dt.date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


class Dependant(models.Model):
    """Someone a resident signs up for: a child for a childcare class, a parent for an elderly
    class. Only what enrolment needs: a name, a birth date (age bands) and the relation."""

    class Relation(models.TextChoices):
        CHILD = "child", _("Child")
        GRANDCHILD = "grandchild", _("Grandchild")
        PARENT = "parent", _("Parent")
        SPOUSE = "spouse", _("Spouse")
        OTHER = "other", _("Other family member")

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="dependants")
    name = models.CharField(_("name"), max_length=50)
    birth_date = models.DateField(_("birth date"))
    relation = models.CharField(_("relation"), max_length=12, choices=Relation.choices)
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["birth_date", "id"]
        verbose_name = _("dependant")
        verbose_name_plural = _("dependants")

    def __str__(self) -> str:
        return self.masked_name

    @property
    def masked_name(self) -> str:
        if self.name == ERASED_NAME:
            return str(ERASED_LABEL)
        return masking.mask_name(self.name)

    def age_on(self, day: dt.date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


class EligibilityVerification(models.Model):
    """A staff-verified eligibility (rider/courier, disabled, low income). Elderly comes from age.

    At most one active verification per resident and kind (a partial unique constraint);
    re-verifying revokes the old one in the same transaction.
    """

    class Kind(models.TextChoices):
        RIDER = "rider", _("Delivery rider / courier")
        DISABLED = "disabled", _("Disabled")
        LOW_INCOME = "low_income", _("Low income / special hardship")
        PARK_WORKER = "park_worker", _("Industrial-park worker")

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="verifications")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    platform = models.CharField(_("platform or issuer"), max_length=60, blank=True)
    credential_number = pii.EncryptedTextField(_("credential or certificate number"), blank=True)
    # What staff saw (may describe a disability or an illness): encrypted at rest like the number.
    evidence_note = pii.EncryptedTextField(_("evidence note"), blank=True)
    # A photo of the credential (JPEG, re-encoded without metadata), base64, encrypted at rest.
    credential_photo = pii.EncryptedTextField(_("photo of the credential"), blank=True, editable=False)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    verified_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoke_reason = models.CharField(max_length=200, blank=True)
    expiry_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-verified_at"]
        verbose_name = _("eligibility verification")
        verbose_name_plural = _("eligibility verifications")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "kind"],
                condition=Q(revoked_at__isnull=True),
                name="verification_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.resident}"

    def is_valid_on(self, day: dt.date) -> bool:
        return self.revoked_at is None and (self.valid_until is None or day <= self.valid_until)


class StaffRole(models.Model):
    """A role held by a member of staff, with the place it covers."""

    class Role(models.TextChoices):
        DISTRICT_OFFICIAL = "district_official", _("District official")
        STREET_OFFICIAL = "street_official", _("Sub-district official")
        COMMUNITY_WORKER = "community_worker", _("Community worker")
        CENTER_STAFF = "center_staff", _("Center staff")
        PARTNER_STAFF = "partner_staff", _("Partner organisation staff")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    street = models.ForeignKey(Street, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    center = models.ForeignKey(Center, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            # Each role names exactly the place it covers, and nothing else.
            models.CheckConstraint(
                condition=(
                    Q(
                        role="district_official",
                        street__isnull=True,
                        community__isnull=True,
                        center__isnull=True,
                        organization__isnull=True,
                    )
                    | Q(
                        role="street_official",
                        street__isnull=False,
                        community__isnull=True,
                        center__isnull=True,
                        organization__isnull=True,
                    )
                    | Q(
                        role="community_worker",
                        street__isnull=True,
                        community__isnull=False,
                        center__isnull=True,
                        organization__isnull=True,
                    )
                    | Q(
                        role="center_staff",
                        street__isnull=True,
                        community__isnull=True,
                        center__isnull=False,
                        organization__isnull=True,
                    )
                    | Q(
                        role="partner_staff",
                        street__isnull=True,
                        community__isnull=True,
                        center__isnull=True,
                        organization__isnull=False,
                    )
                ),
                name="staffrole_scope_matches_role",
            )
        ]

    def __str__(self) -> str:
        place = self.street or self.community or self.center or self.organization or _("the whole district")
        return f"{self.get_role_display()} · {place}"


class SmsCode(models.Model):
    """A sign-in code sent by SMS: stored hashed, 5-minute expiry, at most 5 tries, used once."""

    phone_hash = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(attempts__lte=5), name="smscode_attempts_max_5")]

    def __str__(self) -> str:
        return f"sms code {self.pk}"


class SmsOutbox(models.Model):
    """Messages written by the outbox SMS backend (development and tests read them here)."""

    phone = pii.EncryptedTextField()
    phone_hash = models.CharField(max_length=64, db_index=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("SMS outbox message")
        verbose_name_plural = _("SMS outbox")

    def __str__(self) -> str:
        return f"{masking.mask_phone(self.phone)}: {self.body[:20]}"


class ApiToken(models.Model):
    """A bearer token for API clients: random, stored as a SHA-256 hash, expiring, revocable."""

    class Kind(models.TextChoices):
        RESIDENT = "resident", _("Resident")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}…"


class PassUse(models.Model):
    """A resident pass that has been accepted once; its nonce can never be accepted again."""

    nonce = models.CharField(max_length=32, unique=True)
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="pass_uses")
    used_at = models.DateTimeField(default=timezone.now)
    device = models.ForeignKey(
        "places.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    staff = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    purpose = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-used_at"]

    def __str__(self) -> str:
        return f"pass {self.nonce}"


class ErasureRequest(models.Model):
    """A resident's request to erase their personal data (PIPL art. 47).

    It waits a cooling-off period (``due_at``), during which the resident may cancel it; then the
    clock carries it out (``services.resident_erase``). At most one request is pending per user.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting (can still be cancelled)")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Carried out")

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="erasure_requests")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(_("requested at"))
    due_at = models.DateTimeField(_("carried out from"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    done_at = models.DateTimeField(_("carried out at"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        indexes = [models.Index(fields=["status", "due_at"], name="erasure_status_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="pending"), name="erasure_one_pending_per_user"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "cancelled", "done"]), name="erasure_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"erasure {self.pk} ({self.status})"
