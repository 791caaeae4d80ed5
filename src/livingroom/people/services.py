"""Every state change about people: sign-in, profiles, eligibility, tokens, passes.

Functions are named ``<entity>_<verb>``, take keyword-only arguments, own their transactions and
write an audit event. They raise ``DomainError`` subclasses with stable codes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from pypinyin import Style, lazy_pinyin

from livingroom.core import context, images, ratelimit
from livingroom.core.audit import audit_log
from livingroom.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from livingroom.core.masking import mask_certificate, mask_phone
from livingroom.core.scopes import StaffScope
from livingroom.core.validators import normalize_phone, parse_id_number
from livingroom.people import errors, passes, personal_data
from livingroom.people.models import (
    ERASED_NAME,
    ApiToken,
    Dependant,
    EligibilityVerification,
    ErasureRequest,
    PassUse,
    Resident,
    SmsCode,
    SmsOutbox,
    StaffRole,
    User,
    id_number_index,
    phone_index,
)
from livingroom.people.sms import get_backend
from livingroom.places.models import Center, Community, Device, Organization, Street

CONSENT_VERSION = "2026-11"
CONSENT_PURPOSE = "resident services: bookings, courses, meals, volunteering, eligibility checks"
MAX_CREDENTIAL_PHOTO = 5 * 1024 * 1024

# --- SMS sign-in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsCodeIssued:
    expires_in: int
    resend_in: int


def _code_hash(phone_hash: str, code: str) -> str:
    return salted_hmac("livingroom.people.sms", f"{phone_hash}:{code}").hexdigest()


def sms_code_request(*, phone: str, ip: str | None) -> SmsCodeIssued:
    """Sends a 6-digit sign-in code. Limited per IP, per phone (one a minute, ten a day)."""
    number = normalize_phone(phone)
    h = phone_index(number)
    ratelimit.hit(f"sms-ip:{ip or '-'}", limit=settings.LIVINGROOM_SMS_PER_IP_PER_HOUR, window=3600)
    wait = ratelimit.once_per(f"sms-phone:{h}", seconds=settings.LIVINGROOM_SMS_RESEND_SECONDS)
    if wait:
        raise errors.SmsResendTooSoon(retry_after=wait)
    ratelimit.hit(f"sms-phone-day:{h}", limit=settings.LIVINGROOM_SMS_PER_PHONE_PER_DAY, window=86400)
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    ttl = settings.LIVINGROOM_SMS_CODE_TTL
    with transaction.atomic(durable=True):
        # A new code replaces any earlier one still open for this phone.
        SmsCode.objects.filter(phone_hash=h, consumed_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        SmsCode.objects.create(
            phone_hash=h,
            code_hash=_code_hash(h, code),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=ttl),
        )
        message = str(
            _(
                "[Living Room] Your sign-in code is %(code)s. "
                "It is valid for %(minutes)d minutes. Never share it."
            )
        ) % {"code": code, "minutes": ttl // 60}
        get_backend().send(number, message)
        audit_log("people.sms_code.sent", data={"phone": mask_phone(number)})
    return SmsCodeIssued(expires_in=ttl, resend_in=settings.LIVINGROOM_SMS_RESEND_SECONDS)


def resident_login_with_sms(*, phone: str, code: str) -> User:
    """Checks a code (at most 5 tries, 5 minutes, once) and returns the phone's user, created if new."""
    number = normalize_phone(phone)
    # Chinese input methods often type full-width digits (１２３４５６): NFKC makes them ASCII.
    code = unicodedata.normalize("NFKC", code or "").strip()
    if not re.fullmatch(r"[0-9]{6}", code):
        raise InvalidInput(_("The verification code has 6 digits."), code="sms_code_invalid", field="code")
    h = phone_index(number)
    # Failed codes from one address across many phones are limited too (code guessing at scale).
    ip_bucket = f"sms-fail-ip:{context.current().ip or '-'}"
    ratelimit.refuse_if_spent(ip_bucket, limit=settings.LIVINGROOM_SMS_FAILURES_PER_IP_PER_HOUR, window=3600)
    now = timezone.now()
    with transaction.atomic(durable=True):
        sms = SmsCode.objects.filter(phone_hash=h, consumed_at__isnull=True).order_by("-created_at").first()
        if sms is None:
            raise errors.SmsCodeInvalid(field="code")
        if sms.expires_at <= now:
            raise errors.SmsCodeExpired(field="code")
        # Count the try before comparing, in its own committed transaction: a wrong code uses it up.
        counted = SmsCode.objects.filter(
            pk=sms.pk, attempts__lt=settings.LIVINGROOM_SMS_CODE_MAX_TRIES, consumed_at__isnull=True
        ).update(attempts=F("attempts") + 1)
    if not counted:
        # Either the tries are used up or another request has just used the code.
        if SmsCode.objects.filter(pk=sms.pk, consumed_at__isnull=False).exists():
            raise errors.SmsCodeInvalid(field="code")
        raise errors.SmsCodeTooManyTries(field="code")
    if not constant_time_compare(sms.code_hash, _code_hash(h, code)):
        ratelimit.count_failure(ip_bucket, window=3600)
        audit_log("people.sms_login.failed", data={"phone": mask_phone(number)}, result="failed")
        raise errors.SmsCodeInvalid(field="code")
    with transaction.atomic(durable=True):
        if not SmsCode.objects.filter(pk=sms.pk, consumed_at__isnull=True).update(consumed_at=now):
            raise errors.SmsCodeInvalid(field="code")
        user = User.objects.filter(phone_hash=h).first()
        if user is None:
            user = User(password=make_password(None))
            user.set_phone(number)
            user.save()
            audit_log("people.user.created", actor=user, obj=user, data={"via": "sms"})
        if not user.is_active:
            raise errors.InvalidCredentials()
        audit_log("people.sms_login.succeeded", actor=user, obj=user)
    return user


# --- Staff sign-in ----------------------------------------------------------------------------

_DUMMY_PASSWORD = make_password("not-a-real-password-" + secrets.token_hex(8))


def _totp_step(user: User, code: str) -> int | None:
    """The time step the code belongs to (±1 step of drift), or None."""
    code = unicodedata.normalize("NFKC", code or "").strip()
    if not user.totp_secret or not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(user.totp_secret)
    now = int(time.time())
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if constant_time_compare(totp.at(at), code):
            return at // totp.interval
    return None


def staff_authenticate(*, username: str, password: str, totp: str) -> User:
    """Password (argon2) + TOTP. Five failures lock the account for 30 minutes; failures from one
    address across accounts (password spraying) are limited per hour."""
    ip_bucket = f"staff-fail-ip:{context.current().ip or '-'}"
    limit = settings.LIVINGROOM_STAFF_FAILURES_PER_IP_PER_HOUR
    ratelimit.refuse_if_spent(ip_bucket, limit=limit, window=3600)
    user = User.objects.filter(username=(username or "").strip()).first()
    now = timezone.now()
    if user is None:
        ratelimit.count_failure(ip_bucket, window=3600)
        # Spend the same time as a real check, so usernames cannot be probed by timing.
        check_password(password or "", _DUMMY_PASSWORD)
        audit_log("people.staff_login.failed", data={"username": (username or "")[:40]}, result="failed")
        raise errors.InvalidCredentials()
    if user.locked_until and user.locked_until > now:
        audit_log("people.staff_login.locked", actor=None, obj=user, result="refused")
        raise errors.AccountLocked(until=timezone.localtime(user.locked_until).strftime("%Y-%m-%d %H:%M"))
    step = _totp_step(user, totp)
    ok = (
        user.is_active
        and user.check_password(password or "")
        and step is not None
        and (user.totp_last_step is None or step > user.totp_last_step)
    )
    if not ok:
        ratelimit.count_failure(ip_bucket, window=3600)
        with transaction.atomic(durable=True):
            User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
            failures = User.objects.values_list("failed_logins", flat=True).get(pk=user.pk)
            locked = failures >= settings.LIVINGROOM_STAFF_MAX_FAILURES
            if locked:
                until = now + dt.timedelta(seconds=settings.LIVINGROOM_STAFF_LOCKOUT_SECONDS)
                User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=until)
            audit_log(
                "people.staff_login.failed",
                obj=user,
                data={"failures": failures, "locked": locked},
                result="failed",
            )
        if locked:
            raise errors.AccountLocked(until=timezone.localtime(until).strftime("%Y-%m-%d %H:%M"))
        raise errors.InvalidCredentials()
    with transaction.atomic(durable=True):
        # The step only moves forward: a code cannot be used twice (conditional update).
        updated = (
            User.objects.filter(pk=user.pk)
            .exclude(totp_last_step__gte=step)
            .update(failed_logins=0, locked_until=None, totp_last_step=step, last_login=now)
        )
        if not updated:
            raise errors.InvalidCredentials()
        audit_log("people.staff_login.succeeded", actor=user, obj=user)
    user.refresh_from_db()
    return user


def staff_totp_setup(*, user: User) -> str:
    """Gives a staff user a new TOTP secret and returns its provisioning URI."""
    secret = pyotp.random_base32()
    with transaction.atomic(durable=True):
        user.totp_secret = secret
        user.totp_last_step = None
        user.save(update_fields=["totp_secret", "totp_last_step"])
        audit_log("people.staff.totp_reset", obj=user)
    return pyotp.TOTP(secret).provisioning_uri(name=user.username or str(user.pk), issuer_name="百姓客厅")


def staff_create(
    *,
    username: str,
    password: str,
    role: str,
    place: str = "",
    display_name: str = "",
    actor: User | None = None,
) -> tuple[User, str]:
    """Creates a member of staff with one role and a fresh TOTP secret; returns the enrolment URI."""
    username = (username or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{3,150}", username):
        raise InvalidInput(
            _("Usernames use 3–150 letters, digits, dots, dashes or underscores."),
            code="invalid_username",
            field="username",
        )
    if User.objects.filter(username=username).exists():
        raise Conflict(_("This username is taken."), code="username_taken", field="username")
    if role not in StaffRole.Role.values:
        raise InvalidInput(code="invalid_role", field="role")
    try:
        validate_password(password, User(username=username))
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="weak_password", field="password") from None
    scope_fields: dict[str, object] = {}
    lookups: dict[str, tuple[str, Any]] = {
        StaffRole.Role.STREET_OFFICIAL: ("street", Street.objects.filter(code=place)),
        StaffRole.Role.COMMUNITY_WORKER: ("community", Community.objects.filter(code=place)),
        StaffRole.Role.CENTER_STAFF: ("center", Center.objects.filter(community__code=place)),
        StaffRole.Role.PARTNER_STAFF: ("organization", Organization.objects.filter(name=place)),
    }
    if role in lookups:
        field, queryset = lookups[role]
        found = queryset.first()
        if found is None:
            raise InvalidInput(_("No place matches for this role."), code="place_not_found", field="place")
        scope_fields[field] = found
    with transaction.atomic(durable=True):
        user = User.objects.create_user(username, password, display_name=display_name[:60])
        StaffRole.objects.create(user=user, role=role, **scope_fields)
        audit_log("people.staff.created", actor=actor, obj=user, data={"role": role, "place": place[:60]})
    return user, staff_totp_setup(user=user)


# --- API tokens -------------------------------------------------------------------------------


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_issue(*, user: User, kind: str) -> tuple[str, ApiToken]:
    raw = "lr_" + secrets.token_urlsafe(32)
    ttl = (
        settings.LIVINGROOM_STAFF_API_TOKEN_TTL
        if kind == ApiToken.Kind.STAFF
        else settings.LIVINGROOM_API_TOKEN_TTL
    )
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            kind=kind,
            token_hash=_token_hash(raw),
            prefix=raw[:10],
            expires_at=timezone.now() + dt.timedelta(seconds=ttl),
        )
        audit_log("people.api_token.issued", actor=user, obj=token, data={"kind": kind})
    return raw, token


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    if not raw or len(raw) > 100:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(
            token_hash=_token_hash(raw), revoked_at__isnull=True, expires_at__gt=now, user__is_active=True
        )
        .first()
    )
    if token is not None and (
        token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5)
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_revoke(*, token: ApiToken, actor: User) -> None:
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        audit_log("people.api_token.revoked", actor=actor, obj=token)


# --- Residents --------------------------------------------------------------------------------

NAME_RE = re.compile(r"^[\u3400-\u9fff·•A-Za-z][\u3400-\u9fff·• A-Za-z]{0,28}[\u3400-\u9fff·A-Za-z]$")


def _pinyin(name: str) -> tuple[str, str]:
    full = "".join(lazy_pinyin(name, errors="ignore")).lower()
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
    return full[:200], initials[:50]


def resident_profile_update(
    *, user: User, real_name: str, id_number: str, home_community_id: int, consent: bool
) -> Resident:
    """Creates or updates the caller's real-name profile. A first profile needs consent."""
    name = re.sub(r"\s+", " ", (real_name or "").strip())
    if not NAME_RE.match(name):
        raise InvalidInput(
            _("Enter your real name as on your ID card."), code="invalid_name", field="real_name"
        )
    parsed = parse_id_number(id_number)
    community = Community.objects.filter(pk=home_community_id).first()
    if community is None:
        raise InvalidInput(
            _("Choose your home community."), code="community_not_found", field="home_community_id"
        )
    resident = Resident.objects.filter(user=user).first()
    if resident is None and not consent:
        raise errors.ConsentRequired(field="consent")
    full, initials = _pinyin(name)
    now = timezone.now()
    try:
        with transaction.atomic(durable=True):
            is_new = resident is None
            if resident is None:
                resident = Resident(
                    user=user,
                    consent_at=now,
                    consent_purpose=CONSENT_PURPOSE,
                    consent_version=CONSENT_VERSION,
                )
            changed = [
                f
                for f, new in (
                    ("real_name", name),
                    ("id_number", parsed.number),
                    ("home_community", community.pk),
                )
                if is_new or getattr(resident, f if f != "home_community" else "home_community_id") != new
            ]
            resident.real_name = name
            resident.name_pinyin, resident.name_initials = full, initials
            resident.id_number = parsed.number
            resident.id_number_hash = id_number_index(parsed.number)
            resident.birth_date, resident.sex = parsed.birth_date, parsed.sex
            resident.home_community = community
            if consent:
                resident.consent_at = now
                resident.consent_version = CONSENT_VERSION
            resident.save()
            if not user.display_name:
                User.objects.filter(pk=user.pk).update(display_name=name[:60])
            audit_log(
                "people.resident.created" if is_new else "people.resident.updated",
                actor=user,
                obj=resident,
                data={"fields": changed, "consent_version": CONSENT_VERSION if consent else None},
            )
    except IntegrityError as exc:
        if (
            "id_number_hash" in str(exc)
            or Resident.objects.filter(id_number_hash=id_number_index(parsed.number))
            .exclude(user=user)
            .exists()
        ):
            raise errors.IdNumberTaken(field="id_number") from None
        raise
    return resident


def resident_reveal_id_number(*, scope: StaffScope, actor: User, resident: Resident, reason: str) -> str:
    """Shows a resident's full ID number to desk staff of their community; always audited."""
    if not scope.works_at(resident.home_community_id):
        raise PermissionDenied(_("Only staff of the resident's community may see the full ID number."))
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= 200:
        raise InvalidInput(
            _("Give a reason for viewing the full ID number."), code="reason_required", field="reason"
        )
    with transaction.atomic(durable=True):
        audit_log(
            "people.resident.pii_viewed",
            actor=actor,
            obj=resident,
            data={"field": "id_number", "reason": reason},
        )
    return resident.id_number


def credential_photo_view(
    *, scope: StaffScope, actor: User, resident: Resident, verification_id: int
) -> bytes:
    """The JPEG of a verification's credential photo, for staff who may see the resident (the
    caller found ``resident`` through ``selectors.resident_for_staff``); always audited."""
    if not scope.can_see_residents:
        raise NotFound()
    verification = EligibilityVerification.objects.filter(pk=verification_id, resident=resident).first()
    if verification is None or not verification.credential_photo:
        raise errors.CredentialPhotoNotFound()
    photo = base64.b64decode(verification.credential_photo)
    with transaction.atomic(durable=True):
        audit_log(
            "people.resident.pii_viewed",
            actor=actor,
            obj=resident,
            data={"field": "credential_photo", "verification": verification.pk},
        )
    return photo


# --- Eligibility ------------------------------------------------------------------------------


def eligibility_verify(
    *,
    scope: StaffScope,
    actor: User,
    resident: Resident,
    kind: str,
    platform: str = "",
    credential_number: str = "",
    evidence_note: str = "",
    valid_until: dt.date | None = None,
    credential_photo: bytes | None = None,
) -> EligibilityVerification:
    """Records a staff verification; replaces an earlier active one of the same kind.

    A photo of the credential is re-encoded without metadata and kept encrypted."""
    if not scope.works_at(resident.home_community_id):
        raise PermissionDenied(_("Only staff of the resident's community may verify eligibility."))
    if kind not in EligibilityVerification.Kind.values:
        raise InvalidInput(_("Unknown eligibility kind."), code="invalid_kind", field="kind")
    today = timezone.localdate()
    if valid_until is not None and valid_until <= today:
        raise InvalidInput(
            _("The valid-until date must be in the future."), code="invalid_valid_until", field="valid_until"
        )
    credential_number = (credential_number or "").strip()
    platform = (platform or "").strip()
    if kind == EligibilityVerification.Kind.RIDER and (
        not platform or not credential_number or valid_until is None
    ):
        raise InvalidInput(
            _("A rider verification needs the platform, the rider number and a valid-until date."),
            code="rider_credential_required",
            field="credential_number",
        )
    if kind == EligibilityVerification.Kind.DISABLED and not re.fullmatch(
        r"[0-9A-Za-z]{8,30}", credential_number
    ):
        raise InvalidInput(
            _("Enter the disability certificate number."),
            code="certificate_required",
            field="credential_number",
        )
    if len(credential_number) > 60 or len(platform) > 60 or len(evidence_note) > 1000:
        raise InvalidInput(code="too_long")
    photo = ""
    if credential_photo:
        cleaned = images.clean_image(
            credential_photo, max_bytes=MAX_CREDENTIAL_PHOTO, field="credential_photo"
        )
        photo = base64.b64encode(cleaned.content).decode()
    now = timezone.now()
    with transaction.atomic(durable=True):
        Resident.objects.select_for_update().filter(pk=resident.pk).first()
        EligibilityVerification.objects.filter(resident=resident, kind=kind, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor, revoke_reason="replaced by a new verification"
        )
        verification = EligibilityVerification.objects.create(
            resident=resident,
            kind=kind,
            platform=platform,
            credential_number=credential_number,
            evidence_note=evidence_note.strip(),
            valid_until=valid_until,
            credential_photo=photo,
            verified_by=actor,
            verified_at=now,
        )
        audit_log(
            "people.eligibility.verified",
            actor=actor,
            obj=verification,
            data={
                "resident": resident.pk,
                "kind": kind,
                "credential": mask_certificate(credential_number),
                "valid_until": valid_until.isoformat() if valid_until else None,
                "photo": bool(photo),
            },
        )
    return verification


def eligibility_revoke(
    *, scope: StaffScope, actor: User, verification: EligibilityVerification, reason: str
) -> None:
    if not scope.works_at(verification.resident.home_community_id):
        raise NotFound()
    with transaction.atomic(durable=True):
        EligibilityVerification.objects.filter(pk=verification.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor, revoke_reason=(reason or "")[:200]
        )
        audit_log("people.eligibility.revoked", actor=actor, obj=verification, data={"reason": reason[:200]})


# --- Resident pass ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedPass:
    token: str
    issued_at: dt.datetime
    expires_at: dt.datetime


def resident_pass_issue(*, user: User) -> IssuedPass:
    resident = Resident.objects.filter(user=user).first()
    if resident is None:
        raise errors.ProfileIncomplete()
    now = int(time.time())
    token = passes.encode(resident.pk, now)
    issued = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    return IssuedPass(
        token=token, issued_at=issued, expires_at=issued + dt.timedelta(seconds=settings.LIVINGROOM_PASS_TTL)
    )


def resident_pass_verify(
    *,
    token: str,
    device: Device | None = None,
    staff: User | None = None,
    purpose: str = "",
    shown_at: float | None = None,
) -> Resident:
    """Accepts a genuine, fresh pass once; the caller learns which resident showed it.

    ``shown_at`` (Unix seconds) is when a device that was offline saw the pass: freshness is
    judged then, not on upload (the caller bounds how far back that may be)."""
    claims = passes.fresh_claims(token, shown_at=shown_at)
    resident = Resident.objects.select_related("user", "home_community").filter(pk=claims.resident_id).first()
    if resident is None or not resident.user.is_active:
        raise errors.PassInvalid(field="token")
    try:
        with transaction.atomic():
            PassUse.objects.create(
                nonce=claims.nonce, resident=resident, device=device, staff=staff, purpose=purpose[:40]
            )
            audit_log(
                "people.pass.verified",
                actor=staff,
                device=device,
                obj=resident,
                data={"purpose": purpose[:40]},
            )
    except IntegrityError:
        raise errors.PassReplayed(field="token") from None
    return resident


# --- dependants ---------------------------------------------------------------------------------

MAX_DEPENDANTS = 8


def dependant_add(*, user: User, name: str, birth_date: dt.date, relation: str) -> Dependant:
    """A resident adds a family member they sign up for (a child for a childcare class)."""
    resident = Resident.objects.filter(user=user).first()
    if resident is None:
        raise errors.ProfileIncomplete()
    name = re.sub(r"\s+", " ", (name or "").strip())
    if not NAME_RE.match(name):
        raise InvalidInput(_("Enter the real name."), code="invalid_name", field="name")
    today = timezone.localdate()
    if not (today.year - 120 <= birth_date.year and birth_date <= today):
        raise InvalidInput(_("Enter a real birth date."), code="invalid_birth_date", field="birth_date")
    if relation not in Dependant.Relation.values:
        raise InvalidInput(code="invalid_relation", field="relation")
    with transaction.atomic(durable=True):
        Resident.objects.select_for_update(of=("self",)).filter(pk=resident.pk).first()
        if resident.dependants.filter(removed_at__isnull=True).count() >= MAX_DEPENDANTS:
            raise Conflict(_("You cannot add more family members."), code="too_many_dependants")
        dependant = Dependant.objects.create(
            resident=resident, name=name, birth_date=birth_date, relation=relation
        )
        audit_log("people.dependant.added", actor=user, obj=dependant, data={"relation": relation})
    return dependant


def dependant_remove(*, user: User, dependant_id: int) -> Dependant:
    """Removes a family member from the list; enrolments already made stay as they are."""
    with transaction.atomic(durable=True):
        dependant = (
            Dependant.objects.select_for_update()
            .filter(pk=dependant_id, resident__user=user, removed_at__isnull=True)
            .first()
        )
        if dependant is None:
            raise NotFound(_("No such family member."), code="dependant_not_found")
        dependant.removed_at = timezone.now()
        dependant.save(update_fields=["removed_at"])
        audit_log("people.dependant.removed", actor=user, obj=dependant, data={})
    return dependant


# --- personal data: the resident's download and erasure (PIPL arts. 45 and 47) -------------------

ERASURE_COOLING_OFF = dt.timedelta(days=7)


def _account_export(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "phone": user.phone,
        "display_name": user.display_name,
        "date_joined": user.date_joined.isoformat(),
        "api_tokens": [
            {
                "prefix": t.prefix,
                "kind": t.kind,
                "created_at": t.created_at.isoformat(),
                "expires_at": t.expires_at.isoformat(),
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
            }
            for t in user.api_tokens.order_by("created_at", "id")
        ],
        "erasure_requests": [
            {
                "status": e.status,
                "requested_at": e.requested_at.isoformat(),
                "due_at": e.due_at.isoformat(),
                "cancelled_at": e.cancelled_at.isoformat() if e.cancelled_at else None,
                "done_at": e.done_at.isoformat() if e.done_at else None,
            }
            for e in user.erasure_requests.order_by("requested_at", "id")
        ],
    }


def _profile_export(resident: Resident) -> dict[str, Any]:
    c = resident.home_community
    return {
        "real_name": resident.real_name,
        "id_number": resident.id_number,  # the resident's own data, to the resident
        "birth_date": resident.birth_date.isoformat(),
        "sex": resident.sex,
        "home_community": {"id": c.pk, "code": c.code, "name": c.name},
        "created_at": resident.created_at.isoformat(),
        "updated_at": resident.updated_at.isoformat(),
    }


def _people_export(resident: Resident) -> dict[str, Any]:
    return {
        "dependants": [
            {
                "id": d.pk,
                "name": d.name,
                "birth_date": d.birth_date.isoformat(),
                "relation": d.relation,
                "created_at": d.created_at.isoformat(),
                "removed_at": d.removed_at.isoformat() if d.removed_at else None,
            }
            for d in resident.dependants.order_by("created_at", "id")
        ],
        "verifications": [
            {
                "kind": v.kind,
                "platform": v.platform,
                "credential_number": v.credential_number,
                "evidence_note": v.evidence_note,
                "has_photo": bool(v.credential_photo),
                "valid_until": v.valid_until.isoformat() if v.valid_until else None,
                "verified_at": v.verified_at.isoformat(),
                "revoked_at": v.revoked_at.isoformat() if v.revoked_at else None,
            }
            for v in resident.verifications.order_by("verified_at", "id")
        ],
        "consents": [
            {
                "purpose": resident.consent_purpose,
                "version": resident.consent_version,
                "given_at": resident.consent_at.isoformat(),
            }
        ],
        "pass_uses": [
            {"used_at": p.used_at.isoformat(), "purpose": p.purpose}
            for p in resident.pass_uses.order_by("used_at", "id")
        ],
    }


def personal_data_export(*, user: User) -> dict[str, Any]:
    """Everything held about the caller, their own data in clear, as one JSON-ready document.
    Each app adds its section through ``people.personal_data``; the reading is audited."""
    resident = (
        Resident.objects.select_related("home_community").filter(user=user, erased_at__isnull=True).first()
    )
    document: dict[str, Any] = {
        "format": "livingroom.personal-data/1",
        "generated_at": timezone.now().isoformat(),
        "account": _account_export(user),
        "profile": _profile_export(resident) if resident else None,
    }
    if resident is not None:
        document["people"] = _people_export(resident)
        document.update(personal_data.export_sections(resident))
    with transaction.atomic(durable=True):
        audit_log(
            "people.personal_data.exported",
            actor=user,
            obj=resident or user,
            data={"sections": sorted(k for k in document if k not in ("format", "generated_at"))},
        )
    return document


def _erasure_allowed(user: User) -> None:
    if user.staff_roles.filter(is_active=True).exists() or user.is_superuser:
        raise errors.ErasureStaffAccount()


def erasure_request(*, user: User, now: dt.datetime | None = None) -> ErasureRequest:
    """The resident asks for their personal data to be erased. It is carried out by the clock
    after a cooling-off period, during which they may cancel it; one request waits at a time."""
    now = now or timezone.now()
    _erasure_allowed(user)
    try:
        with transaction.atomic(durable=True):
            pending = ErasureRequest.objects.filter(user=user, status=ErasureRequest.Status.PENDING).first()
            if pending is not None:
                raise errors.ErasurePending(due=timezone.localtime(pending.due_at).strftime("%Y-%m-%d %H:%M"))
            request = ErasureRequest.objects.create(
                user=user, requested_at=now, due_at=now + ERASURE_COOLING_OFF
            )
            audit_log(
                "people.erasure.requested",
                actor=user,
                obj=request,
                data={"due_at": request.due_at.isoformat()},
            )
    except IntegrityError:  # a second request at the same moment
        pending = ErasureRequest.objects.filter(user=user, status=ErasureRequest.Status.PENDING).first()
        due = timezone.localtime(pending.due_at).strftime("%Y-%m-%d %H:%M") if pending else ""
        raise errors.ErasurePending(due=due) from None
    return request


def erasure_cancel(*, user: User, now: dt.datetime | None = None) -> ErasureRequest:
    """The resident changes their mind while the request still waits."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        request = (
            ErasureRequest.objects.select_for_update()
            .filter(user=user, status=ErasureRequest.Status.PENDING)
            .first()
        )
        if request is None:
            raise errors.ErasureNotFound()
        if request.due_at <= now:
            raise errors.ErasureInProgress()
        request.status, request.cancelled_at = ErasureRequest.Status.CANCELLED, now
        request.save(update_fields=["status", "cancelled_at"])
        audit_log("people.erasure.cancelled", actor=user, obj=request)
    return request


def _erase_person(user: User, resident: Resident | None, now: dt.datetime) -> dict[str, int]:
    """What people holds: the profile anonymised, verifications (and their photos) and family
    members deleted (a family member some enrolment still names is anonymised instead), the
    account made unusable. The caller holds the transaction."""
    counts = {"verifications": 0, "dependants_deleted": 0, "dependants_anonymised": 0}
    if resident is not None:
        counts["verifications"], _ = EligibilityVerification.objects.filter(resident=resident).delete()
        for dependant in Dependant.objects.filter(resident=resident):
            try:
                with transaction.atomic():
                    dependant.delete()
                counts["dependants_deleted"] += 1
            except ProtectedError:
                Dependant.objects.filter(pk=dependant.pk).update(
                    name=ERASED_NAME,
                    birth_date=dependant.birth_date.replace(month=1, day=1),
                    removed_at=dependant.removed_at or now,
                )
                counts["dependants_anonymised"] += 1
        Resident.objects.filter(pk=resident.pk).update(
            real_name=ERASED_NAME,
            name_pinyin="",
            name_initials="",
            id_number="",
            # Unique and not null: a marker no ID number can hash to.
            id_number_hash=f"erased:{resident.pk}",
            # Only the year stays: the age bands of past figures, never a person.
            birth_date=resident.birth_date.replace(month=1, day=1),
            erased_at=now,
        )
    if user.phone_hash:
        SmsCode.objects.filter(phone_hash=user.phone_hash).delete()
        SmsOutbox.objects.filter(phone_hash=user.phone_hash).delete()
    counts["tokens_revoked"] = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=now
    )
    user.phone, user.phone_hash, user.phone_tail = "", None, ""
    user.display_name = ""
    user.is_active = False
    user.totp_secret = ""
    # A new unusable password changes the session hash: every open browser session ends.
    user.set_unusable_password()
    user.save(
        update_fields=[
            "phone",
            "phone_hash",
            "phone_tail",
            "display_name",
            "is_active",
            "totp_secret",
            "password",
        ]
    )
    return counts


def resident_erase(*, request_id: int, now: dt.datetime | None = None) -> ErasureRequest:
    """Carries out a due erasure request: each app's hook first (cancelling future bookings and
    enrolments through its services, removing free text and photos, keeping ledgers and legal
    records, which now point at the anonymised person), then the person and the account. Each
    step owns its transaction and may run again, so a failed pass is simply retried."""
    now = now or timezone.now()
    request = ErasureRequest.objects.select_related("user").get(pk=request_id)
    if request.status != ErasureRequest.Status.PENDING:
        return request
    user = request.user
    resident = Resident.objects.filter(user=user).first()
    hooks: dict[str, dict[str, int]] = {}
    if resident is not None:
        hooks = personal_data.erase_sections(resident)
    with transaction.atomic(durable=True):
        locked = ErasureRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != ErasureRequest.Status.PENDING:
            return locked  # cancelled meanwhile: the apps' cancellations stand, the person stays
        counts = _erase_person(user, resident, now)
        locked.status, locked.done_at = ErasureRequest.Status.DONE, now
        locked.save(update_fields=["status", "done_at"])
        audit_log(
            "people.erasure.done",
            obj=locked,
            data={"user": user.pk, "resident": resident.pk if resident else None, "people": counts, **hooks},
        )
    return locked


@dataclass(frozen=True)
class ErasureTick:
    erased: int


def erasure_tick(*, now: dt.datetime | None = None) -> ErasureTick:
    """The clock: carries out the erasure requests whose cooling-off has passed."""
    now = now or timezone.now()
    due = ErasureRequest.objects.filter(status=ErasureRequest.Status.PENDING, due_at__lte=now)
    erased = 0
    for request_id in list(due.order_by("due_at").values_list("pk", flat=True)[:200]):
        if resident_erase(request_id=request_id, now=now).status == ErasureRequest.Status.DONE:
            erased += 1
    return ErasureTick(erased=erased)
