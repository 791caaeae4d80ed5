"""Every change to volunteers, activities, shifts, sign-ups, service records, corrections and
certificates.

A sign-up takes a place with one conditional UPDATE of the shift row (``taken < needed``), which
also serialises every change of that shift's places. Confirming a shift's hours flips its status
with a conditional UPDATE (once), writes the service records, and awards the points by the
activity's rule through ``points.services.points_award`` in the same transaction, keyed by the
record, so points are awarded exactly once.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livingroom.booking.calendar import local_day, when_label
from livingroom.core.audit import audit_log
from livingroom.core.errors import NotFound
from livingroom.core.masking import mask_id_number
from livingroom.core.scopes import StaffScope
from livingroom.notices.services import notice_send, notices_send_many
from livingroom.people import errors as people_errors
from livingroom.people.models import Resident, User
from livingroom.people.services import resident_pass_verify
from livingroom.places.models import Center, Device, Organization
from livingroom.points.models import Account
from livingroom.points.services import account_for, points_adjust_within, points_award
from livingroom.volunteering import errors
from livingroom.volunteering.models import (
    MAX_BONUS_POINTS,
    MAX_NEEDED,
    MAX_POINTS_PER_HOUR,
    MAX_SHIFT_MINUTES,
    Activity,
    Certificate,
    Correction,
    ServiceRecord,
    Shift,
    Signup,
    Volunteer,
)

MAX_SHIFTS = 60
CHECK_IN_EARLY = dt.timedelta(minutes=30)
CHECK_OUT_LATE = dt.timedelta(hours=6)
ID_TYPE = _("Resident identity card")


# --- helpers ------------------------------------------------------------------------------------


def _resident_of(user: User) -> Resident:
    resident = Resident.objects.select_related("home_community", "user").filter(user=user).first()
    if resident is None:
        raise people_errors.ProfileIncomplete()
    return resident


def _volunteer_of(user: User, *, active: bool = True) -> Volunteer:
    volunteer = (
        Volunteer.objects.select_related("resident", "resident__user").filter(resident__user=user).first()
    )
    if volunteer is None:
        raise errors.NotVolunteer()
    if active and volunteer.status != Volunteer.Status.ACTIVE:
        raise errors.VolunteerSuspended()
    return volunteer


def _text(value: str, limit: int) -> str:
    return " ".join((value or "").split())[:limit]


def _shift_params(shift: Shift) -> dict[str, str]:
    return {
        "activity": shift.activity.title,
        "role": shift.role,
        "when": when_label(shift.starts_at, shift.ends_at),
        "place": shift.place,
    }


# --- volunteers ---------------------------------------------------------------------------------


def volunteer_register(
    *, user: User, consent: bool, skills: str = "", now: dt.datetime | None = None
) -> Volunteer:
    """A resident registers as a volunteer; consent to the terms and data use is recorded."""
    if consent is not True:
        raise errors.ConsentRequired(field="consent")
    resident = _resident_of(user)
    now = now or timezone.now()
    if Volunteer.objects.filter(resident=resident).exists():
        raise errors.AlreadyVolunteer()
    try:
        with transaction.atomic(durable=True):
            volunteer = Volunteer.objects.create(
                resident=resident,
                number=f"T{secrets.token_hex(6)}",
                skills=_text(skills, 200),
                consent_version=settings.LIVINGROOM_VOLUNTEER_CONSENT_VERSION,
                consent_at=now,
                registered_at=now,
            )
            # The volunteer number: the year of registration and a serial (V2026000123).
            volunteer.number = f"V{local_day(now).year}{volunteer.pk:06d}"
            volunteer.save(update_fields=["number"])
            audit_log(
                "volunteering.volunteer.registered",
                actor=user,
                obj=volunteer,
                data={"consent_version": volunteer.consent_version},
            )
    except IntegrityError:
        raise errors.AlreadyVolunteer() from None
    return volunteer


def volunteer_set_status(
    *, staff: User, scope: StaffScope, volunteer_id: int, active: bool, reason: str
) -> Volunteer:
    reason = _text(reason, 200)
    if not reason:
        raise errors.ReasonRequired(field="reason")
    with transaction.atomic(durable=True):
        volunteer = (
            scope.filter(
                Volunteer.objects.select_for_update(of=("self",)), community="resident__home_community"
            )
            .filter(pk=volunteer_id)
            .first()
        )
        if volunteer is None or not scope.works_at(volunteer.resident.home_community_id):
            raise errors.NotVolunteer(code="volunteer_not_found", status=404)
        volunteer.status = Volunteer.Status.ACTIVE if active else Volunteer.Status.SUSPENDED
        volunteer.save(update_fields=["status"])
        audit_log(
            "volunteering.volunteer.status_set",
            actor=staff,
            obj=volunteer,
            data={"status": volunteer.status, "reason": reason},
        )
    return volunteer


# --- activities and shifts ----------------------------------------------------------------------


@dataclass(frozen=True)
class ShiftDraft:
    role: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    needed: int


@dataclass
class ActivityDraft:
    center_id: int
    title: str
    shifts: list[ShiftDraft]
    description: str = ""
    requirements: str = ""
    audience: str = Activity.Audience.ALL
    min_age: int | None = None
    points_per_hour: int = 1
    bonus_points: int = 0
    organization_id: int | None = None
    publish: bool = True
    extra: dict[str, str] = field(default_factory=dict)


def _organizer(
    scope: StaffScope, center_id: int, organization_id: int | None
) -> tuple[Center, Organization | None]:
    """Desk staff organise at their center; partner staff (an organisation or a department) at
    the centers their organisation works in. Other centers are 404."""
    center = (
        scope.filter(Center.objects.select_related("community"), community="community", center="")
        .filter(pk=center_id)
        .first()
    )
    if center is None:
        raise errors.ActivityNotFound(code="center_not_found", field="center_id")
    if organization_id is not None:
        org = Organization.objects.filter(pk=organization_id, centers=center).first()
        if org is None or (org.pk not in scope.organization_ids and not scope.works_at(center.community_id)):
            raise errors.ActivityNotFound(code="organization_not_found", field="organization_id")
        return center, org
    if not scope.works_at(center.community_id):
        raise errors.NotOrganizerHere()
    return center, None


def _check_shift(draft: ShiftDraft, index: int, now: dt.datetime) -> ShiftDraft:
    where = f"shifts.{index}"
    role, place = _text(draft.role, 60), _text(draft.place, 100)
    if not role:
        raise errors.ShiftInvalid(field=f"{where}.role", why=_("give the role"))
    if not place:
        raise errors.ShiftInvalid(field=f"{where}.place", why=_("give the place"))
    if draft.starts_at.tzinfo is None or draft.ends_at.tzinfo is None:
        raise errors.ShiftInvalid(field=f"{where}.starts_at", why=_("times need a time zone"))
    if draft.ends_at <= draft.starts_at:
        raise errors.ShiftInvalid(field=f"{where}.ends_at", why=_("it must end after it starts"))
    if draft.ends_at - draft.starts_at > dt.timedelta(minutes=MAX_SHIFT_MINUTES):
        raise errors.ShiftInvalid(field=f"{where}.ends_at", why=_("a shift lasts at most 12 hours"))
    if draft.starts_at <= now:
        raise errors.ShiftInvalid(field=f"{where}.starts_at", why=_("it must start in the future"))
    if draft.starts_at > now + dt.timedelta(days=366):
        raise errors.ShiftInvalid(field=f"{where}.starts_at", why=_("at most a year ahead"))
    if not isinstance(draft.needed, int) or not 1 <= draft.needed <= MAX_NEEDED:
        raise errors.ShiftInvalid(
            field=f"{where}.needed", why=_("from 1 to %(n)s volunteers") % {"n": MAX_NEEDED}
        )
    return ShiftDraft(
        role=role, place=place, starts_at=draft.starts_at, ends_at=draft.ends_at, needed=draft.needed
    )


def activity_create(
    *, staff: User, scope: StaffScope, draft: ActivityDraft, now: dt.datetime | None = None
) -> Activity:
    """An organiser publishes (or drafts) an activity with its shifts and points rule."""
    now = now or timezone.now()
    center, org = _organizer(scope, draft.center_id, draft.organization_id)
    title = _text(draft.title, 100)
    if not title:
        raise errors.ActivityInvalid(field="title", why=_("give it a title"))
    if draft.audience not in Activity.Audience.values:
        raise errors.ActivityInvalid(field="audience", why=_("unknown audience"))
    if draft.min_age is not None and not 0 <= draft.min_age <= 100:
        raise errors.ActivityInvalid(field="min_age", why=_("age from 0 to 100"))
    if not 0 <= draft.points_per_hour <= MAX_POINTS_PER_HOUR:
        raise errors.ActivityInvalid(
            field="points_per_hour", why=_("from 0 to %(n)s points an hour") % {"n": MAX_POINTS_PER_HOUR}
        )
    if not 0 <= draft.bonus_points <= MAX_BONUS_POINTS:
        raise errors.ActivityInvalid(
            field="bonus_points", why=_("from 0 to %(n)s points") % {"n": MAX_BONUS_POINTS}
        )
    if not draft.shifts or len(draft.shifts) > MAX_SHIFTS:
        raise errors.ActivityInvalid(field="shifts", why=_("from 1 to %(n)s shifts") % {"n": MAX_SHIFTS})
    shifts = [_check_shift(s, i, now) for i, s in enumerate(draft.shifts)]
    with transaction.atomic(durable=True):
        activity = Activity.objects.create(
            center=center,
            organization=org,
            title=title,
            description=(draft.description or "").strip()[:5000],
            requirements=_text(draft.requirements, 300),
            audience=draft.audience,
            min_age=draft.min_age,
            points_per_hour=draft.points_per_hour,
            bonus_points=draft.bonus_points,
            status=Activity.Status.PUBLISHED if draft.publish else Activity.Status.DRAFT,
            created_by=staff,
            created_at=now,
            published_at=now if draft.publish else None,
        )
        Shift.objects.bulk_create(
            Shift(
                activity=activity,
                role=s.role,
                place=s.place,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                needed=s.needed,
            )
            for s in shifts
        )
        audit_log(
            "volunteering.activity.created",
            actor=staff,
            obj=activity,
            data={"shifts": len(shifts), "published": draft.publish, "organization": org.pk if org else None},
        )
    return activity


def _staff_activity(
    scope: StaffScope, activity_id: int, *, lock: bool = False, missing: type[NotFound] | None = None
) -> Activity:
    """An activity the member of staff may organise. Out of their scope — another community, or
    another organisation's activity for partner staff — it does not exist (``missing``, by default
    ``activity_not_found``, so that a shift or correction lookup answers with its own code)."""
    qs = Activity.objects.select_related("center", "organization")
    if lock:
        qs = qs.select_for_update(of=("self",))
    activity = (
        scope.filter(qs, community="center__community", center="center", organization="organization")
        .filter(pk=activity_id)
        .first()
    )
    if activity is None:
        raise (missing or errors.ActivityNotFound)()
    if not (
        scope.works_at(activity.center.community_id) or activity.organization_id in scope.organization_ids
    ):
        raise errors.NotOrganizerHere()
    return activity


def activity_publish(
    *, staff: User, scope: StaffScope, activity_id: int, now: dt.datetime | None = None
) -> Activity:
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        activity = _staff_activity(scope, activity_id, lock=True)
        if activity.status != Activity.Status.DRAFT:
            raise errors.ActivityNotOpen(_("Only a draft can be published."), code="activity_not_draft")
        activity.status, activity.published_at = Activity.Status.PUBLISHED, now
        activity.save(update_fields=["status", "published_at"])
        audit_log("volunteering.activity.published", actor=staff, obj=activity)
    return activity


def activity_cancel(
    *, staff: User, scope: StaffScope, activity_id: int, reason: str, now: dt.datetime | None = None
) -> Activity:
    """Cancels the activity and its shifts still to come; signed-up volunteers are told."""
    reason = _text(reason, 200)
    if not reason:
        raise errors.ReasonRequired(field="reason")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        activity = _staff_activity(scope, activity_id, lock=True)
        if activity.status == Activity.Status.CANCELLED:
            raise errors.ActivityNotOpen(_("This activity is already cancelled."), code="activity_cancelled")
        activity.status, activity.cancel_reason = Activity.Status.CANCELLED, reason
        activity.save(update_fields=["status", "cancel_reason"])
        upcoming = list(
            Shift.objects.filter(activity=activity, status=Shift.Status.SCHEDULED, starts_at__gt=now)
        )
        Shift.objects.filter(pk__in=[s.pk for s in upcoming]).update(status=Shift.Status.CANCELLED)
        signups = list(
            Signup.objects.filter(shift__in=upcoming, status=Signup.Status.SIGNED_UP).select_related(
                "shift", "volunteer__resident__user"
            )
        )
        Signup.objects.filter(pk__in=[s.pk for s in signups]).update(
            status=Signup.Status.CANCELLED, cancelled_at=now
        )
        Shift.objects.filter(pk__in=[s.pk for s in upcoming]).update(taken=0)
        notices_send_many(
            [
                (
                    s.volunteer.resident.user,
                    "volunteering.shift_cancelled",
                    {**_shift_params(s.shift), "reason": reason},
                    "/me/volunteering/",
                    True,
                )
                for s in signups
            ]
        )
        audit_log(
            "volunteering.activity.cancelled",
            actor=staff,
            obj=activity,
            data={"reason": reason, "shifts": len(upcoming), "signups": len(signups)},
        )
    return activity


# --- sign-ups -----------------------------------------------------------------------------------


def audience_problem(activity: Activity, resident: Resident, *, on: dt.date) -> str | None:
    if activity.min_age is not None and resident.age_on(on) < activity.min_age:
        return str(_("from age %(n)s") % {"n": activity.min_age})
    if (
        activity.audience == Activity.Audience.COMMUNITY
        and resident.home_community_id != activity.center.community_id
    ):
        return str(_("residents of %(name)s") % {"name": activity.center.community.name})
    return None


TAKE_PLACE = (
    "UPDATE volunteering_shift SET taken = taken + 1 WHERE id = %s AND taken < needed AND status = %s"
)
FREE_PLACE = "UPDATE volunteering_shift SET taken = taken - 1 WHERE id = %s AND taken > 0"


def signup_create(*, user: User, shift_id: int, now: dt.datetime | None = None) -> Signup:
    """A volunteer signs up for a shift: no overfilling, no double sign-up, no clash with another
    of their shifts."""
    now = now or timezone.now()
    volunteer = _volunteer_of(user)
    shift = (
        Shift.objects.select_related("activity", "activity__center", "activity__center__community")
        .filter(pk=shift_id)
        .first()
    )
    if shift is None or shift.activity.status == Activity.Status.DRAFT:
        raise errors.ShiftNotFound(field="shift_id")
    if shift.activity.status != Activity.Status.PUBLISHED or shift.status == Shift.Status.CANCELLED:
        raise errors.ShiftCancelled()
    if shift.status != Shift.Status.SCHEDULED or shift.starts_at <= now:
        raise errors.ShiftStarted()
    why = audience_problem(shift.activity, volunteer.resident, on=local_day(shift.starts_at))
    if why:
        raise errors.NotInAudience(why=why)
    try:
        with transaction.atomic(durable=True):
            # One sign-up at a time per volunteer (the volunteer row, then the shift row), so two
            # requests for overlapping shifts cannot both pass the check below.
            Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()
            mine = Signup.objects.filter(volunteer=volunteer, status=Signup.Status.SIGNED_UP)
            if mine.filter(shift=shift).exists():
                raise errors.AlreadySignedUp()
            clash = (
                mine.filter(shift__starts_at__lt=shift.ends_at, shift__ends_at__gt=shift.starts_at)
                .select_related("shift__activity")
                .first()
            )
            if clash is not None:
                raise errors.AlreadySignedUp(
                    _("You are signed up for “%(other)s” at that time."),
                    code="shift_overlaps",
                    other=clash.shift.activity.title,
                )
            with connection.cursor() as cursor:
                cursor.execute(TAKE_PLACE, [shift.pk, Shift.Status.SCHEDULED])
                if cursor.rowcount != 1:
                    status = Shift.objects.filter(pk=shift.pk).values_list("status", flat=True).first()
                    if status == Shift.Status.CANCELLED:
                        raise errors.ShiftCancelled()
                    raise errors.ShiftFull()
            signup = Signup.objects.create(shift=shift, volunteer=volunteer, created_at=now)
            audit_log("volunteering.signup.created", actor=user, obj=signup, data={"shift": shift.pk})
            notice_send(
                user=user,
                kind="volunteering.signed_up",
                params=_shift_params(shift),
                link="/me/volunteering/",
            )
    except IntegrityError:
        raise errors.AlreadySignedUp() from None
    return signup


def signup_cancel(*, user: User, signup_id: int, now: dt.datetime | None = None) -> Signup:
    """A volunteer withdraws before the shift starts; the place is free again."""
    now = now or timezone.now()
    volunteer = _volunteer_of(user, active=False)
    with transaction.atomic(durable=True):
        shift_id = (
            Signup.objects.filter(pk=signup_id, volunteer=volunteer)
            .values_list("shift_id", flat=True)
            .first()
        )
        if shift_id is None:
            raise errors.SignupNotFound()
        # The shift row before the sign-up row, in the order cancelling an activity takes them.
        Shift.objects.select_for_update().filter(pk=shift_id).first()
        signup = Signup.objects.select_for_update(of=("self",)).select_related("shift").get(pk=signup_id)
        if signup.status != Signup.Status.SIGNED_UP:
            raise errors.NotSignedUp(_("This sign-up is already cancelled."), code="signup_cancelled")
        if signup.shift.starts_at <= now:
            raise errors.ShiftStarted()
        signup.status, signup.cancelled_at = Signup.Status.CANCELLED, now
        signup.save(update_fields=["status", "cancelled_at"])
        with connection.cursor() as cursor:
            cursor.execute(FREE_PLACE, [signup.shift_id])
        audit_log("volunteering.signup.cancelled", actor=user, obj=signup)
    return signup


# --- check-in and out ---------------------------------------------------------------------------


def _check(
    *,
    shift_id: int,
    token: str,
    direction: str,
    device: Device | None,
    staff: User | None,
    scope: StaffScope | None,
    now: dt.datetime,
) -> Signup:
    shift = Shift.objects.select_related("activity", "activity__center").filter(pk=shift_id).first()
    if shift is None:
        raise errors.ShiftNotFound(field="shift_id")
    if device is not None:
        if device.center_id != shift.activity.center_id:
            raise errors.ShiftNotFound(field="shift_id")
        if device.kind not in (Device.Kind.KIOSK, Device.Kind.SCANNER):
            raise errors.NotOrganizerHere(
                _("This device cannot check volunteers in."), code="device_not_allowed"
            )
    if scope is not None:
        _staff_activity(scope, shift.activity_id, missing=errors.ShiftNotFound)
    if shift.status == Shift.Status.CANCELLED:
        raise errors.ShiftCancelled()
    if shift.status == Shift.Status.CONFIRMED:
        raise errors.HoursAlreadyConfirmed()
    if direction not in ("in", "out"):
        raise errors.ShiftInvalid(field="direction", why=_("check “in” or “out”"))
    if direction == "in" and not shift.starts_at - CHECK_IN_EARLY <= now <= shift.ends_at:
        raise errors.CheckInClosed()
    if direction == "out" and now > shift.ends_at + CHECK_OUT_LATE:
        raise errors.CheckInClosed(
            _("Check-out closed 6 hours after the shift; the organiser confirms the hours.")
        )
    label = device.audit_label() if device is not None else f"staff:{staff.pk if staff else ''}"
    with transaction.atomic(durable=True):
        resident = resident_pass_verify(
            token=token, device=device, staff=staff, purpose=f"volunteer:{direction}"
        )
        signup = (
            Signup.objects.select_for_update(of=("self",))
            .filter(shift=shift, volunteer__resident=resident, status=Signup.Status.SIGNED_UP)
            .first()
        )
        if signup is None:
            raise errors.NotSignedUp()
        signup.shift = shift
        if direction == "in":
            if signup.checked_in_at is None:
                signup.checked_in_at, signup.check_in_by = now, label[:60]
                signup.save(update_fields=["checked_in_at", "check_in_by"])
        else:
            if signup.checked_in_at is None:
                raise errors.NotCheckedIn()
            if signup.checked_out_at is not None:
                raise errors.AlreadyCheckedOut()
            signup.checked_out_at = now
            signup.save(update_fields=["checked_out_at"])
        audit_log(
            f"volunteering.signup.checked_{direction}",
            actor=staff,
            device=device,
            obj=signup,
            data={"shift": shift.pk},
        )
    return signup


def check_at_device(
    *, device: Device, shift_id: int, token: str, direction: str, now: dt.datetime | None = None
) -> Signup:
    """A kiosk or scanner of the activity's center checks a volunteer in or out by the pass."""
    return _check(
        shift_id=shift_id,
        token=token,
        direction=direction,
        device=device,
        staff=None,
        scope=None,
        now=now or timezone.now(),
    )


def check_by_staff(
    *,
    staff: User,
    scope: StaffScope,
    shift_id: int,
    token: str,
    direction: str,
    now: dt.datetime | None = None,
) -> Signup:
    """The organiser scans a volunteer's pass with the console."""
    return _check(
        shift_id=shift_id,
        token=token,
        direction=direction,
        device=None,
        staff=staff,
        scope=scope,
        now=now or timezone.now(),
    )


# --- confirming hours ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HoursLine:
    signup_id: int
    minutes: int | None = None  # None: as measured (check-in to check-out, or to the shift's end)
    reason: str = ""


def _award(record: ServiceRecord, activity: Activity, staff: User, now: dt.datetime) -> int:
    points = activity.points_for(record.minutes)
    if points > 0:
        points_award(
            resident=record.volunteer.resident,
            community=activity.center.community_id,
            center=activity.center,
            amount=points,
            reason=f"{activity.title} · {record.shift.role} · {record.minutes} min",
            key=f"volunteering.record:{record.pk}",
            actor=staff,
            now=now,
        )
    return points


def hours_confirm(
    *,
    staff: User,
    scope: StaffScope,
    shift_id: int,
    lines: list[HoursLine] | None = None,
    now: dt.datetime | None = None,
) -> list[ServiceRecord]:
    """The organiser confirms a shift's hours, once. Each line may adjust a volunteer's minutes
    (with a reason) or vouch for one who did not check in; the rest count as measured. Confirmed
    hours award points by the activity's rule in the same transaction."""
    now = now or timezone.now()
    lines = lines or []
    with transaction.atomic(durable=True):
        shift = (
            Shift.objects.select_for_update(of=("self",))
            .select_related("activity", "activity__center", "activity__organization")
            .filter(pk=shift_id)
            .first()
        )
        if shift is None:
            raise errors.ShiftNotFound(field="shift_id")
        activity = _staff_activity(scope, shift.activity_id, missing=errors.ShiftNotFound)
        if shift.status == Shift.Status.CONFIRMED:
            raise errors.HoursAlreadyConfirmed()
        if shift.status == Shift.Status.CANCELLED:
            raise errors.ShiftCancelled()
        if now < shift.ends_at:
            raise errors.ShiftNotEnded()
        signups = {
            s.pk: s
            for s in Signup.objects.filter(shift=shift, status=Signup.Status.SIGNED_UP).select_related(
                "volunteer__resident__user"
            )
        }
        chosen: dict[int, tuple[int, str]] = {}
        for index, line in enumerate(lines):
            signup = signups.get(line.signup_id)
            if signup is None:
                raise errors.SignupNotFound(field=f"lines.{index}.signup_id")
            signup.shift = shift
            measured = signup.default_minutes
            minutes = measured if line.minutes is None else line.minutes
            if minutes is None:
                raise errors.HoursInvalid(field=f"lines.{index}.minutes")
            if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
                raise errors.HoursInvalid(field=f"lines.{index}.minutes")
            if minutes > shift.minutes:
                raise errors.HoursTooLong(
                    field=f"lines.{index}.minutes", minutes=minutes, shift=shift.minutes
                )
            reason = _text(line.reason, 200)
            if minutes != measured and not reason:
                raise errors.ReasonRequired(field=f"lines.{index}.reason")
            chosen[signup.pk] = (minutes, reason)
        for signup in signups.values():
            signup.shift = shift
            if signup.pk not in chosen:
                measured = signup.default_minutes
                if measured:
                    chosen[signup.pk] = (measured, "")
        updated = Shift.objects.filter(pk=shift.pk, status=Shift.Status.SCHEDULED).update(
            status=Shift.Status.CONFIRMED, confirmed_by=staff, confirmed_at=now
        )
        if updated != 1:  # pragma: no cover - we hold the row lock
            raise errors.HoursAlreadyConfirmed()
        content = f"{activity.title} · {shift.role}"[:200]
        records = []
        for signup_id, (minutes, reason) in chosen.items():
            if minutes == 0:
                continue
            signup = signups[signup_id]
            record = ServiceRecord.objects.create(
                signup=signup,
                volunteer=signup.volunteer,
                shift=shift,
                minutes=minutes,
                content=content,
                organizer=activity.organizer_name[:120],
                adjustment_reason=reason,
                confirmed_by=staff,
                confirmed_at=now,
                served_on=local_day(shift.starts_at),
            )
            record.points_awarded = _award(record, activity, staff, now)
            record.save(update_fields=["points_awarded"])
            Volunteer.objects.filter(pk=signup.volunteer_id).update(
                minutes_total=F("minutes_total") + minutes
            )
            records.append(record)
        notices_send_many(
            [
                (
                    r.volunteer.resident.user,
                    "volunteering.hours_confirmed",
                    {
                        **_shift_params(shift),
                        "hours": f"{r.minutes / 60:.1f}",
                        "points": str(r.points_awarded),
                    },
                    "/me/volunteering/",
                    False,
                )
                for r in records
            ]
        )
        audit_log(
            "volunteering.hours.confirmed",
            actor=staff,
            obj=shift,
            data={
                "records": len(records),
                "minutes": sum(r.minutes for r in records),
                "adjusted": sum(1 for r in records if r.adjustment_reason),
            },
        )
    return records


# --- corrections --------------------------------------------------------------------------------


def correction_request(
    *, user: User, signup_id: int, minutes: int, reason: str, now: dt.datetime | None = None
) -> Correction:
    """A volunteer asks for the hours of a shift they served to be corrected (or recorded)."""
    now = now or timezone.now()
    volunteer = _volunteer_of(user, active=False)
    reason = _text(reason, 300)
    if not reason:
        raise errors.ReasonRequired(field="reason")
    signup = Signup.objects.select_related("shift").filter(pk=signup_id, volunteer=volunteer).first()
    if signup is None or signup.status != Signup.Status.SIGNED_UP:
        raise errors.SignupNotFound(field="signup_id")
    if now < signup.shift.ends_at:
        raise errors.ShiftNotEnded(_("You can ask for a correction once the shift has ended."))
    if signup.shift.status != Shift.Status.CONFIRMED:
        # Until the organiser confirms the shift, its hours are theirs to set: a record written by
        # an accepted correction would stop the confirmation.
        raise errors.ShiftNotEnded(
            _("You can ask for a correction once the organiser has confirmed the hours."),
            code="hours_not_confirmed",
        )
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
        raise errors.HoursInvalid(field="minutes")
    if minutes > signup.shift.minutes:
        raise errors.HoursTooLong(field="minutes", minutes=minutes, shift=signup.shift.minutes)
    record = ServiceRecord.objects.filter(signup=signup).first()
    before = record.minutes if record else 0
    if minutes == before:
        raise errors.HoursInvalid(
            _("That is what the record already says."), code="correction_no_change", field="minutes"
        )
    try:
        with transaction.atomic(durable=True):
            correction = Correction.objects.create(
                volunteer=volunteer,
                signup=signup,
                minutes_before=before,
                minutes_requested=minutes,
                reason=reason,
                created_at=now,
            )
            audit_log(
                "volunteering.correction.requested",
                actor=user,
                obj=correction,
                data={"before": before, "requested": minutes},
            )
    except IntegrityError:
        raise errors.CorrectionOpen() from None
    return correction


def correction_decide(
    *,
    staff: User,
    scope: StaffScope,
    correction_id: int,
    accept: bool,
    note: str = "",
    now: dt.datetime | None = None,
) -> Correction:
    """The organiser answers. Accepting sets the record to the minutes asked for (creating it
    if there was none) and moves the points by the rule: an award for more, a debit for less
    (never below zero)."""
    now = now or timezone.now()
    note = _text(note, 300)
    if not accept and not note:
        raise errors.ReasonRequired(field="note")
    with transaction.atomic(durable=True):
        correction = (
            Correction.objects.select_for_update(of=("self",))
            .select_related("signup__shift", "volunteer__resident__user")
            .filter(pk=correction_id)
            .first()
        )
        if correction is None:
            raise errors.CorrectionNotFound()
        activity = _staff_activity(
            scope, correction.signup.shift.activity_id, missing=errors.CorrectionNotFound
        )
        if correction.status != Correction.Status.OPEN:
            raise errors.CorrectionDecided()
        shift = correction.signup.shift
        correction.status = Correction.Status.ACCEPTED if accept else Correction.Status.REJECTED
        correction.decided_by, correction.decided_at, correction.decision_note = staff, now, note
        correction.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if accept:
            _apply_correction(correction, activity, shift, staff, now)
        notice_send(
            user=correction.volunteer.resident.user,
            kind="volunteering.correction_accepted" if accept else "volunteering.correction_rejected",
            params={
                **_shift_params(shift),
                "hours": f"{correction.minutes_requested / 60:.1f}",
                "note": note,
            },
            link="/me/volunteering/",
        )
        audit_log(
            "volunteering.correction.decided",
            actor=staff,
            obj=correction,
            data={"accepted": accept, "minutes": correction.minutes_requested},
        )
    return correction


def _apply_correction(
    correction: Correction, activity: Activity, shift: Shift, staff: User, now: dt.datetime
) -> None:
    record = ServiceRecord.objects.select_for_update().filter(signup=correction.signup).first()
    minutes = correction.minutes_requested
    reason = f"{_('Correction')} #{correction.pk}: {correction.reason}"[:200]
    if record is None:
        record = ServiceRecord.objects.create(
            signup=correction.signup,
            volunteer=correction.volunteer,
            shift=shift,
            minutes=minutes,
            content=f"{activity.title} · {shift.role}"[:200],
            organizer=activity.organizer_name[:120],
            adjustment_reason=reason,
            confirmed_by=staff,
            confirmed_at=now,
            served_on=local_day(shift.starts_at),
        )
        record.points_awarded = _award(record, activity, staff, now)
        record.save(update_fields=["points_awarded"])
        delta_minutes = minutes
    else:
        delta_minutes = minutes - record.minutes
        target = activity.points_for(minutes)
        delta_points = target - record.points_awarded
        record.minutes, record.adjustment_reason = minutes, reason
        if delta_points:
            account = account_for(
                resident=correction.volunteer.resident, community=activity.center.community_id
            )
            Account.objects.select_for_update().filter(pk=account.pk).first()
            entry = points_adjust_within(
                account=account,
                amount=delta_points,
                reason=reason,
                key=f"volunteering.correction:{correction.pk}",
                actor=staff,
                center=activity.center,
                cap_at_balance=True,
                now=now,
            )
            record.points_awarded += entry.amount if entry else 0
        record.save(update_fields=["minutes", "adjustment_reason", "points_awarded"])
    Volunteer.objects.filter(pk=correction.volunteer_id).update(
        minutes_total=F("minutes_total") + delta_minutes
    )


# --- certificates -------------------------------------------------------------------------------


def _certificate_number(now: dt.datetime) -> str:
    return f"LRVC{local_day(now):%Y%m%d}{secrets.randbelow(10**6):06d}"


def _certificate_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
    return "".join(secrets.choice(alphabet) for _ in range(12))


def certificate_issue(
    *,
    user: User,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Certificate:
    """A volunteer downloads a certificate of their confirmed service in a period (all of it by
    default). What it says is fixed when issued; anyone can check it by its code."""
    now = now or timezone.now()
    volunteer = _volunteer_of(user, active=False)
    if period_start and period_end and period_end < period_start:
        raise errors.HoursInvalid(
            _("The period ends before it starts."), code="period_invalid", field="period_end"
        )
    records = ServiceRecord.objects.filter(volunteer=volunteer)
    if period_start:
        records = records.filter(served_on__gte=period_start)
    if period_end:
        records = records.filter(served_on__lte=period_end)
    summary = records.aggregate(minutes=Sum("minutes"))
    minutes = summary["minutes"] or 0
    if not minutes:
        raise errors.NothingToCertify()
    days = list(records.order_by("served_on").values_list("served_on", flat=True))
    contents: dict[str, int] = {}
    for content, mins in records.values_list("content", "minutes"):
        title = content.split(" · ")[0]
        contents[title] = contents.get(title, 0) + mins
    top = sorted(contents.items(), key=lambda kv: -kv[1])
    content = "、".join(t for t, _m in top[:6]) + (
        str(_(" and %(n)s more") % {"n": len(top) - 6}) if len(top) > 6 else ""
    )
    resident = volunteer.resident
    for _attempt in range(5):
        try:
            with transaction.atomic(durable=True):
                certificate = Certificate.objects.create(
                    volunteer=volunteer,
                    number=_certificate_number(now),
                    code=_certificate_code(),
                    name=resident.real_name,
                    id_type=str(ID_TYPE),
                    id_number_masked=mask_id_number(resident.id_number),
                    volunteer_number=volunteer.number,
                    minutes=minutes,
                    records=len(days),
                    period_start=period_start or days[0],
                    period_end=period_end or days[-1],
                    content=content[:500],
                    issuer=settings.LIVINGROOM_CERTIFICATE_ISSUER[:120],
                    person_in_charge=settings.LIVINGROOM_CERTIFICATE_SIGNER[:50],
                    issued_at=now,
                )
                audit_log(
                    "volunteering.certificate.issued",
                    actor=user,
                    obj=certificate,
                    data={"minutes": minutes, "records": len(days)},
                )
                return certificate
        except IntegrityError:
            continue
    raise errors.NothingToCertify(_("Please try again."), code="certificate_number_clash", status=409)


# --- the clock ----------------------------------------------------------------------------------


@dataclass
class TickResult:
    reminders: int = 0


def volunteering_tick(
    *, now: dt.datetime | None = None, ahead: dt.timedelta = dt.timedelta(hours=24)
) -> TickResult:
    """Reminds volunteers of a shift starting within ``ahead`` (once per sign-up)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        due = list(
            Signup.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(
                status=Signup.Status.SIGNED_UP,
                reminded_at__isnull=True,
                shift__status=Shift.Status.SCHEDULED,
                shift__starts_at__gt=now,
                shift__starts_at__lte=now + ahead,
            )
            .select_related("shift__activity", "volunteer__resident__user")[:500]
        )
        if not due:
            return TickResult()
        Signup.objects.filter(pk__in=[s.pk for s in due]).update(reminded_at=now)
        notices_send_many(
            [
                (
                    s.volunteer.resident.user,
                    "volunteering.reminder",
                    _shift_params(s.shift),
                    "/me/volunteering/",
                    True,
                )
                for s in due
            ]
        )
    return TickResult(reminders=len(due))
