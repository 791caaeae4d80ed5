"""Every change to bookings. Each function owns its transaction and writes an audit event.

The scarce thing is time on a unit. The services check overlaps for a clear answer, and the
database has the last word: on PostgreSQL an exclusion constraint refuses an overlapping
insert (mapped to ``slot_taken``); on SQLite the check and the insert run inside one
``BEGIN IMMEDIATE`` transaction, so no other writer can slip between them. Per-resident limits
are counted after locking the resident's row, so two tabs cannot both pass a limit of one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from livingroom.booking import errors
from livingroom.booking.calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    SpaceCalendar,
    active_or_held,
    active_suspension,
    at,
    check_day,
    day_bounds,
    eligible,
    free_units,
    local_day,
    rules_of,
    week_bounds,
    when_label,
)
from livingroom.booking.models import (
    Booking,
    BookingRules,
    BookingSeries,
    BookingSuspension,
    Closure,
    RehabNote,
    Resource,
    SpaceHours,
)
from livingroom.core.audit import audit_log
from livingroom.core.errors import InvalidInput, NotFound, PermissionDenied
from livingroom.core.scopes import StaffScope
from livingroom.notices.services import notice_send
from livingroom.people import errors as people_errors
from livingroom.people import passes
from livingroom.people.models import Resident, User
from livingroom.people.services import resident_pass_verify
from livingroom.places.models import Center, Device, Organization, Space

logger = logging.getLogger(__name__)

QR_SALT = "livingroom.booking.space-qr"
EXCLUSION_VIOLATION = "23P01"  # PostgreSQL: an overlapping booking (migration 0002)
DEADLOCK_DETECTED = "40P01"
MAX_CLOSURE_DAYS = 366


# --- helpers ------------------------------------------------------------------------------------


def _resident_of(user: User) -> Resident:
    resident = Resident.objects.select_related("home_community").filter(user=user).first()
    if resident is None:
        raise people_errors.ProfileIncomplete()
    return resident


def _unit(resource_id: int) -> Resource:
    unit = (
        Resource.objects.select_related("space__center__community", "space__booking_rules")
        .filter(pk=resource_id, is_active=True)
        .first()
    )
    if unit is None:
        raise NotFound(code="unit_not_found", field="resource_id")
    return unit


def _rules(space: Space) -> BookingRules:
    rules = getattr(space, "booking_rules", None)
    if not space.bookable or rules is None:
        raise errors.SpaceNotBookable(field="resource_id")
    return rules


def _params(booking: Booking, **extra: str) -> dict[str, str]:
    return {
        "space": booking.space.name,
        "center": booking.space.center.name,
        "unit": f"#{booking.resource.label}"
        if booking.resource.kind == Resource.Kind.SEAT
        else booking.resource.label,
        "when": when_label(booking.starts_at, booking.ends_at),
        **extra,
    }


def _notify(booking: Booking, kind: str, *, sms: bool = True, **extra: str) -> None:
    if booking.resident_id is None:
        return
    notice_send(
        user=booking.resident.user,  # type: ignore[union-attr]
        kind=kind,
        params=_params(booking, **extra),
        link="/me/bookings/",
        sms=sms,
    )


def _overlapping(space_id: int, starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> Q:
    return Q(space_id=space_id, starts_at__lt=ends_at, ends_at__gt=starts_at) & active_or_held(now)


def _conflicts(unit: Resource, starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> bool:
    """A unit is taken by a booking of itself, a whole-room booking taking a part, or, for the
    whole room, any booking of any of its parts."""
    qs = Booking.objects.filter(_overlapping(unit.space_id, starts_at, ends_at, now))
    if not unit.whole_space:
        qs = qs.filter(Q(resource_id=unit.pk) | Q(whole_space=True))
    return qs.exists()


def _release_due_in_space(
    space_id: int, starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime
) -> list[int]:
    """Marks unused bookings in this space and time as no-shows, so their time can be taken.
    Returns the ones this call released (not those another clock released meanwhile)."""
    due = Booking.objects.filter(
        space_id=space_id,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
        status=Booking.Status.CONFIRMED,
        kind=Booking.Kind.RESIDENT,
        checkin_closes_at__lt=now,
    ).values_list("pk", flat=True)
    return [pk for pk in list(due) if _release(pk, now)]


def _release(booking_id: int, now: dt.datetime) -> bool:
    """One conditional UPDATE: true only for the caller that actually released the booking."""
    return bool(
        Booking.objects.filter(
            pk=booking_id, status=Booking.Status.CONFIRMED, checkin_closes_at__lt=now
        ).update(status=Booking.Status.NO_SHOW)
    )


def _validate_times(
    cal: SpaceCalendar, starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime
) -> None:
    if ends_at <= starts_at:
        raise errors.TimesInvalid(field="ends_at")
    if starts_at.year < FIRST_YEAR or starts_at < now:
        raise errors.InThePast(field="starts_at")
    if starts_at.year > LAST_YEAR:
        raise errors.TooFarAhead(field="starts_at")
    if ends_at.year > LAST_YEAR:
        raise errors.TooLong(field="ends_at")
    day = local_day(starts_at)
    if day > cal.last_bookable_day(now):
        raise errors.TooFarAhead(field="starts_at", opens_at=cal.opens_for_booking_at(day).isoformat())
    closure = cal.closure_on(day)
    if closure is not None:
        raise errors.SpaceClosed(field="starts_at", reason=closure.reason)
    period = cal.period_containing(starts_at, ends_at)
    if period is None:
        raise errors.OutsideOpeningHours(field="starts_at")
    if not cal.aligned(period, starts_at, ends_at):
        raise errors.NotAligned(field="starts_at")
    minutes = (ends_at - starts_at).total_seconds() / 60
    if minutes < cal.rules.min_minutes:
        raise errors.TooShort(field="ends_at")
    if minutes > cal.rules.max_minutes:
        raise errors.TooLong(field="ends_at")


def _check_limits(
    rules: BookingRules,
    resident: Resident,
    space: Space,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    now: dt.datetime,
) -> None:
    mine = Booking.objects.filter(active_or_held(now), resident=resident, space=space)
    if rules.max_per_day is not None:
        day_start, day_end = day_bounds(local_day(starts_at))
        if mine.filter(starts_at__gte=day_start, starts_at__lt=day_end).count() >= rules.max_per_day:
            raise errors.LimitReached(limit=rules.max_per_day, period="day")
    if rules.max_minutes_per_week is not None:
        week_start, week_end = week_bounds(local_day(starts_at))
        booked = sum(
            (e - s).total_seconds() / 60
            for s, e in mine.filter(starts_at__gte=week_start, starts_at__lt=week_end).values_list(
                "starts_at", "ends_at"
            )
        )
        if booked + (ends_at - starts_at).total_seconds() / 60 > rules.max_minutes_per_week:
            raise errors.LimitReached(limit=rules.max_minutes_per_week, period="week")


def _sqlstate(exc: Exception) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None)


def _insert(booking: Booking, *, attempts: int = 3) -> Booking:
    """Inserts an active booking; an overlap the database refuses becomes ``slot_taken``.

    Two transactions inserting overlapping rows at the same moment can each wait for the other's
    exclusion check; PostgreSQL then aborts one with a deadlock (documented behaviour of exclusion
    constraints). That insert is rolled back to its savepoint and tried again: by then the other
    has committed (an overlap: ``slot_taken``) or rolled back (the insert succeeds).
    """
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                booking.save(force_insert=True)
            return booking
        except IntegrityError as exc:
            if _sqlstate(exc) == EXCLUSION_VIOLATION:
                raise errors.SlotTaken() from None
            raise
        except OperationalError as exc:
            if _sqlstate(exc) != DEADLOCK_DETECTED:
                raise
            booking.pk = None
            booking._state.adding = True
            if attempt == attempts:
                raise errors.SlotTaken() from None
    raise errors.SlotTaken()  # pragma: no cover - the loop always returns or raises


# --- residents ----------------------------------------------------------------------------------


def booking_create(
    *,
    user: User,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    resource_id: int | None = None,
    space_id: int | None = None,
    purpose: str = "",
    desk_staff: User | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    """A resident books a unit (or a member of staff at the desk books for them).

    With ``resource_id`` that unit; with only ``space_id`` any unit of the space that is free for
    the whole time (the first free seat), so a rush on a study room does not end in retries.
    """
    now = now or timezone.now()
    resident = _resident_of(user)
    if resource_id is not None:
        chosen = _unit(resource_id)
        if space_id is not None and chosen.space_id != space_id:
            raise NotFound(code="unit_not_found", field="resource_id")
        if not chosen.residents_may_book:
            raise errors.UnitNotBookable(field="resource_id")
        unit: Resource | None = chosen
        space = chosen.space
    elif space_id is not None:
        unit = None
        found = Space.objects.select_related("center__community", "booking_rules").filter(pk=space_id).first()
        if found is None:
            raise NotFound(code="space_not_found", field="space_id")
        space = found
    else:
        raise InvalidInput(code="unit_required", field="resource_id")
    rules = _rules(space)
    cal = SpaceCalendar.load(space, rules)
    _validate_times(cal, starts_at, ends_at, now)
    if not eligible(rules, space, resident, on=local_day(starts_at)):
        raise errors.NotEligible(audience=rules.audience)
    pending = rules.requires_approval and desk_staff is None
    with transaction.atomic(durable=True):
        # Taken late and once: every booking of this resident waits here for the previous one.
        Resident.objects.select_for_update(of=("self",)).filter(pk=resident.pk).first()
        suspension = active_suspension(resident, now)
        if suspension is not None:
            raise errors.Suspended(until=suspension.ends_at.isoformat())
        _check_limits(rules, resident, space, starts_at, ends_at, now)
        released = _release_due_in_space(space.pk, starts_at, ends_at, now)
        candidates = [unit] if unit is not None else free_units(space, starts_at, ends_at, now)
        booking = None
        for candidate in candidates:
            if unit is not None and _conflicts(candidate, starts_at, ends_at, now):
                break
            try:
                booking = _insert(
                    Booking(
                        resource=candidate,
                        space=space,
                        whole_space=candidate.whole_space,
                        kind=Booking.Kind.RESIDENT,
                        status=Booking.Status.PENDING if pending else Booking.Status.CONFIRMED,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        resident=resident,
                        purpose=purpose[:200],
                        booked_by=desk_staff or user,
                        created_at=now,
                        checkin_closes_at=starts_at + dt.timedelta(minutes=rules.checkin_window_minutes),
                    )
                )
                break
            except errors.SlotTaken:
                continue  # someone took this seat a moment ago: try the next free one
        if booking is None:
            raise errors.SlotTaken()
        booking.resident = resident
        audit_log(
            "booking.booking.created",
            actor=desk_staff or user,
            obj=booking,
            data={"resource": booking.resource_id, "status": booking.status, "desk": desk_staff is not None},
        )
        _notify(booking, "booking.pending" if pending else "booking.confirmed")
    if released:
        transaction.on_commit(lambda: no_shows_follow_up.enqueue(released))
    return booking


def booking_cancel(
    *, user: User, booking_id: int, reason: str = "", now: dt.datetime | None = None
) -> Booking:
    """A resident cancels their own booking before the cut-off; someone else's is not found."""
    now = now or timezone.now()
    resident = _resident_of(user)
    with transaction.atomic(durable=True):
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("space__booking_rules", "space__center", "resource")
            .filter(pk=booking_id, resident=resident)
            .first()
        )
        if booking is None:
            raise errors.BookingNotFound()
        if (
            booking.status not in (Booking.Status.PENDING, Booking.Status.CONFIRMED)
            or booking.starts_at <= now
        ):
            raise errors.NotCancellable()
        cutoff = booking.starts_at - dt.timedelta(minutes=rules_of(booking.space).cancel_cutoff_minutes)
        if booking.status == Booking.Status.CONFIRMED and now > cutoff:
            raise errors.CancelCutoffPassed(cutoff=cutoff.isoformat())
        _set_cancelled(booking, by=user, reason=reason, now=now)
        audit_log("booking.booking.cancelled", actor=user, obj=booking, data={"by": "resident"})
    return booking


def _set_cancelled(booking: Booking, *, by: User | None, reason: str, now: dt.datetime) -> None:
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by = by
    booking.cancel_reason = reason[:200]
    booking.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])


# --- check-in -----------------------------------------------------------------------------------


def _check_in(booking: Booking, *, via: str, now: dt.datetime) -> Booking:
    if booking.status == Booking.Status.CHECKED_IN:
        return booking  # showing the pass twice is harmless
    if booking.status != Booking.Status.CONFIRMED:
        if booking.status == Booking.Status.NO_SHOW:
            raise errors.CheckinClosed()
        raise errors.NotConfirmed()
    rules = rules_of(booking.space)
    opens = booking.starts_at - dt.timedelta(minutes=rules.checkin_opens_minutes)
    if now < opens:
        raise errors.CheckinNotOpen(opens_at=opens.isoformat())
    if booking.checkin_closes_at is not None and now > booking.checkin_closes_at:
        raise errors.CheckinClosed()
    done = Booking.objects.filter(pk=booking.pk, status=Booking.Status.CONFIRMED).update(
        status=Booking.Status.CHECKED_IN, checked_in_at=now, checked_in_via=via
    )
    if not done:
        raise errors.CheckinClosed()
    booking.status, booking.checked_in_at, booking.checked_in_via = Booking.Status.CHECKED_IN, now, via
    return booking


def booking_check_in_with_pass_at_device(
    *, device: Device, booking_id: int, token: str, now: dt.datetime | None = None
) -> Booking:
    """A kiosk or scanner of the booking's center reads the resident's pass."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        resident = resident_pass_verify(token=token, device=device, purpose="booking.checkin")
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("space__booking_rules", "resource")
            .filter(pk=booking_id, resident=resident, space__center_id=device.center_id)
            .first()
        )
        if booking is None:
            raise errors.BookingNotFound()
        _check_in(booking, via="device", now=now)
        audit_log("booking.booking.checked_in", device=device, obj=booking, data={"via": "device"})
    return booking


def booking_check_in_with_pass_at_desk(
    *, scope: StaffScope, staff: User, token: str, now: dt.datetime | None = None
) -> Booking:
    """Staff scan a pass: the resident's booking at one of their centers whose window is open."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        resident = resident_pass_verify(token=token, staff=staff, purpose="booking.checkin")
        booking = (
            _desk_bookings(scope)
            .select_for_update(of=("self",))
            .filter(
                resident=resident,
                status=Booking.Status.CONFIRMED,
                checkin_closes_at__gte=now,
                starts_at__lte=now + dt.timedelta(hours=2),
            )
            .order_by("starts_at")
            .first()
        )
        if booking is None:
            raise errors.NothingToCheckIn()
        _check_in(booking, via="staff", now=now)
        audit_log("booking.booking.checked_in", actor=staff, obj=booking, data={"via": "staff"})
    return booking


def space_qr_value(space: Space) -> str:
    """What the poster at the door of a space encodes (signed, so it cannot be guessed)."""
    return signing.Signer(salt=QR_SALT).sign(str(space.pk))


def booking_check_in_by_space_qr(
    *, user: User, space_id: int, key: str, now: dt.datetime | None = None
) -> Booking:
    """A signed-in resident scans the code at the door of the space."""
    now = now or timezone.now()
    try:
        signed_id = signing.Signer(salt=QR_SALT).unsign(key or "")
    except signing.BadSignature:
        raise InvalidInput(code="space_code_invalid", field="k") from None
    if signed_id != str(space_id):
        raise InvalidInput(code="space_code_invalid", field="k")
    resident = _resident_of(user)
    with transaction.atomic(durable=True):
        found = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("space__booking_rules", "resource")
            .filter(
                resident=resident,
                space_id=space_id,
                status__in=(Booking.Status.CONFIRMED, Booking.Status.CHECKED_IN),
                starts_at__lte=now + dt.timedelta(hours=2),
                ends_at__gt=now,
            )
            .order_by("starts_at")
        )
        # A confirmed booking whose window is open comes first; an already checked-in one only
        # answers "welcome" when there is nothing else to check in.
        candidates = list(found)

        def window_open(b: Booking) -> bool:
            opens = b.starts_at - dt.timedelta(minutes=rules_of(b.space).checkin_opens_minutes)
            return b.status == Booking.Status.CONFIRMED and opens <= now

        booking = (
            next((b for b in candidates if window_open(b)), None)
            or next((b for b in candidates if b.status == Booking.Status.CHECKED_IN), None)
            or next(iter(candidates), None)
        )
        if booking is None:
            raise errors.NothingToCheckIn()
        _check_in(booking, via="qr", now=now)
        audit_log("booking.booking.checked_in", actor=user, obj=booking, data={"via": "qr"})
    return booking


# --- staff --------------------------------------------------------------------------------------


def _desk_bookings(scope: StaffScope):  # type: ignore[no-untyped-def]
    """Bookings at centers where this member of staff works at the desk."""
    return Booking.objects.filter(space__center__community_id__in=scope.desk_community_ids)


def _staff_booking(scope: StaffScope, booking_id: int) -> Booking:
    """A booking the caller may act on: 404 outside their scope, 403 where they may only look."""
    visible = scope.filter(
        Booking.objects.all(), community="space__center__community", center="space__center"
    )
    booking = (
        visible.select_for_update(of=("self",))
        .select_related("space__center", "space__booking_rules", "resource", "resident__user")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise errors.BookingNotFound()
    if not scope.works_at(booking.space.center.community_id):
        raise PermissionDenied(code="desk_staff_only")
    return booking


def _staff_space(scope: StaffScope, space_id: int) -> Space:
    visible = scope.filter(Space.objects.all(), community="center__community", center="center")
    space = visible.select_related("center", "booking_rules").filter(pk=space_id).first()
    if space is None:
        raise NotFound(code="space_not_found")
    return space


def booking_approve(
    *, scope: StaffScope, staff: User, booking_id: int, now: dt.datetime | None = None
) -> Booking:
    return _decide(scope=scope, staff=staff, booking_id=booking_id, approve=True, reason="", now=now)


def booking_refuse(
    *, scope: StaffScope, staff: User, booking_id: int, reason: str, now: dt.datetime | None = None
) -> Booking:
    return _decide(scope=scope, staff=staff, booking_id=booking_id, approve=False, reason=reason, now=now)


def _decide(
    *, scope: StaffScope, staff: User, booking_id: int, approve: bool, reason: str, now: dt.datetime | None
) -> Booking:
    """Approves or refuses a request (a refusal needs a reason the resident reads)."""
    now = now or timezone.now()
    reason = (reason or "").strip()[:200]
    if not approve and not reason:
        raise InvalidInput(code="reason_required", field="reason")
    with transaction.atomic(durable=True):
        booking = _staff_booking(scope, booking_id)
        if booking.status != Booking.Status.PENDING:
            raise errors.NotPending()
        if approve and booking.starts_at <= now:
            raise errors.InThePast(field=None)  # too late to approve; the clock lapses it
        booking.status = Booking.Status.CONFIRMED if approve else Booking.Status.REFUSED
        booking.decided_at, booking.decided_by, booking.decision_reason = now, staff, reason
        booking.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
        if approve:
            audit_log("booking.booking.approved", actor=staff, obj=booking)
            _notify(booking, "booking.approved")
        else:
            audit_log("booking.booking.refused", actor=staff, obj=booking, data={"reason": reason})
            _notify(booking, "booking.refused", reason=reason)
    return booking


def booking_cancel_by_staff(
    *, scope: StaffScope, staff: User, booking_id: int, reason: str, now: dt.datetime | None = None
) -> Booking:
    """Staff cancel one booking (one occurrence of a series, or a resident's booking) with a reason."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(code="reason_required", field="reason")
    with transaction.atomic(durable=True):
        booking = _staff_booking(scope, booking_id)
        if booking.kind == Booking.Kind.PROGRAM:
            raise errors.ProgramReservation()  # cancelled with its session, where residents are told
        if booking.status not in (Booking.Status.PENDING, Booking.Status.CONFIRMED) or booking.ends_at <= now:
            raise errors.NotCancellable()
        _set_cancelled(booking, by=staff, reason=reason, now=now)
        audit_log(
            "booking.booking.cancelled", actor=staff, obj=booking, data={"by": "staff", "reason": reason}
        )
        _notify(booking, "booking.cancelled_by_staff", reason=reason[:200])
    return booking


def booking_create_at_desk(
    *,
    scope: StaffScope,
    staff: User,
    resource_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    resident_id: int | None = None,
    pass_token: str | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    """A resident came to the desk: staff find them (by id in scope, or by their pass) and book."""
    unit = _unit(resource_id)
    if not scope.works_at(unit.space.center.community_id):
        if scope.covers_community(unit.space.center.community_id):
            raise PermissionDenied(code="desk_staff_only")
        raise NotFound(code="unit_not_found", field="resource_id")
    if pass_token:
        claims = passes.decode(pass_token.strip())  # reading the pass here does not use it up
        if claims is None:
            raise people_errors.PassInvalid(field="pass_token")
        age = time.time() - claims.issued_at
        if age > settings.LIVINGROOM_PASS_TTL or age < -5:  # a photo of an old pass is no pass
            raise people_errors.PassExpired(field="pass_token")
        resident = Resident.objects.select_related("user").filter(pk=claims.resident_id).first()
    elif resident_id is not None:
        resident = (
            scope.filter(Resident.objects.select_related("user"), community="home_community", residents=True)
            .filter(pk=resident_id)
            .first()
        )
    else:
        raise InvalidInput(code="resident_required", field="resident_id")
    if resident is None:
        raise NotFound(code="resident_not_found", field="resident_id")
    return booking_create(
        user=resident.user,
        resource_id=unit.pk,
        starts_at=starts_at,
        ends_at=ends_at,
        desk_staff=staff,
        now=now,
    )


@dataclass
class BlockOutcome:
    block: Booking
    moved: list[Booking] = field(default_factory=list)
    cancelled: list[Booking] = field(default_factory=list)


def space_block(
    *,
    scope: StaffScope,
    staff: User,
    space_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    resource_id: int | None = None,
    now: dt.datetime | None = None,
) -> BlockOutcome:
    """Blocks a space (or one unit) for maintenance or an event. Bookings in the way move to a
    free unit of the same kind when there is one, else they are cancelled; residents are told."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(code="reason_required", field="reason")
    check_day(starts_at, "starts_at")
    check_day(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise errors.TimesInvalid(field="ends_at")
    if ends_at <= now:
        raise errors.InThePast(field="ends_at")
    space = _staff_space(scope, space_id)
    if not scope.works_at(space.center.community_id):
        raise PermissionDenied(code="desk_staff_only")
    units = list(Resource.objects.filter(space=space, is_active=True))
    target = next((u for u in units if (u.pk == resource_id if resource_id else u.whole_space)), None)
    if target is None:
        raise NotFound(code="unit_not_found", field="resource_id")
    outcome = BlockOutcome(block=Booking())
    with transaction.atomic(durable=True):
        released = _release_due_in_space(space.pk, starts_at, ends_at, now)
        in_way = Booking.objects.select_for_update(of=("self",)).filter(
            _overlapping(space.pk, starts_at, ends_at, now)
        )
        if not target.whole_space:
            in_way = in_way.filter(Q(resource_id=target.pk) | Q(whole_space=True))
        for booking in in_way.select_related("resource", "resident__user", "space__center").order_by(
            "starts_at"
        ):
            if booking.kind in (Booking.Kind.BLOCK, Booking.Kind.PROGRAM):
                raise errors.SlotTaken(message=errors.SlotTaken.default_message, code="already_blocked")
            spare = None
            if not target.whole_space and not booking.whole_space:
                released += _release_due_in_space(space.pk, booking.starts_at, booking.ends_at, now)
                spare = _spare_unit(booking, units, exclude=target, now=now)
            if spare is not None and _move(booking, spare):
                outcome.moved.append(booking)
                _notify(booking, "booking.moved", reason=reason[:200])
            else:
                _set_cancelled(booking, by=staff, reason=reason, now=now)
                outcome.cancelled.append(booking)
                _notify(booking, "booking.cancelled_by_staff", reason=reason[:200])
        outcome.block = _insert(
            Booking(
                resource=target,
                space=space,
                whole_space=target.whole_space,
                kind=Booking.Kind.BLOCK,
                status=Booking.Status.CONFIRMED,
                starts_at=starts_at,
                ends_at=ends_at,
                purpose=reason[:200],
                booked_by=staff,
                created_at=now,
            )
        )
        audit_log(
            "booking.space.blocked",
            actor=staff,
            obj=outcome.block,
            data={
                "space": space.pk,
                "unit": target.pk,
                "moved": [b.pk for b in outcome.moved],
                "cancelled": [b.pk for b in outcome.cancelled],
            },
        )
    if released:
        transaction.on_commit(lambda: no_shows_follow_up.enqueue(released))
    return outcome


def _move(booking: Booking, unit: Resource) -> bool:
    """Moves a booking to another unit; false if someone took that unit a moment ago."""
    previous = booking.resource
    booking.resource = unit
    try:
        with transaction.atomic():
            booking.save(update_fields=["resource"])
    except (IntegrityError, OperationalError) as exc:
        if _sqlstate(exc) not in (EXCLUSION_VIOLATION, DEADLOCK_DETECTED):
            raise
        booking.resource = previous
        return False
    return True


def _spare_unit(
    booking: Booking, units: list[Resource], *, exclude: Resource, now: dt.datetime
) -> Resource | None:
    for unit in units:
        if unit.kind != booking.resource.kind or unit.pk in (exclude.pk, booking.resource_id):
            continue
        if not _conflicts(unit, booking.starts_at, booking.ends_at, now):
            return unit
    return None


# --- recurring bookings -------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    starts_at: dt.datetime
    ends_at: dt.datetime
    problem: str = ""  # "" | slot_taken | space_closed | outside_opening_hours


def series_occurrences(
    *,
    unit: Resource,
    weekday: int,
    starts: dt.time,
    ends: dt.time,
    first_date: dt.date,
    weeks: int,
    now: dt.datetime | None = None,
) -> list[Occurrence]:
    """Every date of a series with what stands in its way, so conflicts show before creation."""
    now = now or timezone.now()
    check_day(first_date, "first_date")
    if not 0 <= weekday <= 6:
        raise InvalidInput(code="invalid_weekday", field="weekday")
    if ends <= starts:
        raise errors.TimesInvalid(field="ends")
    if not 1 <= weeks <= 52:
        raise InvalidInput(code="invalid_weeks", field="weeks")
    cal = SpaceCalendar.load(unit.space, _rules(unit.space))
    day = first_date + dt.timedelta(days=(weekday - first_date.weekday()) % 7)
    out = []
    for _week in range(weeks):
        s, e = at(day, starts), at(day, ends)
        problem = ""
        if s < now:
            problem = errors.InThePast.code
        elif cal.closure_on(day) is not None:
            problem = errors.SpaceClosed.code
        elif cal.period_containing(s, e) is None:
            problem = errors.OutsideOpeningHours.code
        elif _conflicts(unit, s, e, now):
            problem = errors.SlotTaken.code
        out.append(Occurrence(s, e, problem))
        day += dt.timedelta(days=7)
    return out


def series_create(
    *,
    scope: StaffScope,
    staff: User,
    resource_id: int,
    purpose: str,
    weekday: int,
    starts: dt.time,
    ends: dt.time,
    first_date: dt.date,
    weeks: int,
    organization_id: int | None = None,
    skip_conflicts: bool = False,
    now: dt.datetime | None = None,
) -> tuple[BookingSeries, list[Occurrence]]:
    """Creates a weekly series in one go. With conflicts it creates nothing and lists them,
    unless ``skip_conflicts`` (then the free dates are booked and the others reported)."""
    now = now or timezone.now()
    purpose = (purpose or "").strip()
    if not purpose:
        raise InvalidInput(code="purpose_required", field="purpose")
    unit = _unit(resource_id)
    community_id = unit.space.center.community_id
    organization = None
    if organization_id is not None:
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            raise NotFound(code="organization_not_found", field="organization_id")
    partner = organization_id in scope.organization_ids and unit.space.center_id in scope.partner_center_ids
    if not (scope.works_at(community_id) or partner):
        if scope.covers_community(community_id) or unit.space.center_id in scope.partner_center_ids:
            raise PermissionDenied(code="desk_staff_only")
        raise NotFound(code="unit_not_found", field="resource_id")
    with transaction.atomic(durable=True):
        occurrences = series_occurrences(
            unit=unit, weekday=weekday, starts=starts, ends=ends, first_date=first_date, weeks=weeks, now=now
        )
        problems = [o for o in occurrences if o.problem]
        if problems and not skip_conflicts:
            raise errors.SeriesConflicts(
                conflicts=[{"starts_at": o.starts_at.isoformat(), "problem": o.problem} for o in problems]
            )
        series = BookingSeries.objects.create(
            resource=unit,
            organization=organization,
            purpose=purpose[:200],
            weekday=weekday,
            starts=starts,
            ends=ends,
            first_date=first_date,
            weeks=weeks,
            created_by=staff,
            created_at=now,
        )
        released: list[int] = []
        for o in occurrences:
            if o.problem:
                continue
            released += _release_due_in_space(unit.space_id, o.starts_at, o.ends_at, now)
            _insert(
                Booking(
                    resource=unit,
                    space=unit.space,
                    whole_space=unit.whole_space,
                    kind=Booking.Kind.ORGANIZATION,
                    status=Booking.Status.CONFIRMED,
                    starts_at=o.starts_at,
                    ends_at=o.ends_at,
                    organization=organization,
                    series=series,
                    purpose=purpose[:200],
                    booked_by=staff,
                    created_at=now,
                )
            )
        audit_log(
            "booking.series.created",
            actor=staff,
            obj=series,
            data={"weeks": weeks, "skipped": [o.starts_at.isoformat() for o in problems]},
        )
    if released:
        transaction.on_commit(lambda: no_shows_follow_up.enqueue(released))
    return series, occurrences


def series_cancel(
    *, scope: StaffScope, staff: User, series_id: int, reason: str, now: dt.datetime | None = None
) -> int:
    """Cancels every future occurrence of a series; returns how many."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        series = (
            BookingSeries.objects.select_for_update(of=("self",))
            .select_related("resource__space__center")
            .filter(pk=series_id)
            .first()
        )
        community_id = series.resource.space.center.community_id if series else None
        center_id = series.resource.space.center_id if series else None
        partner = (
            series is not None
            and series.organization_id in scope.organization_ids
            and center_id in scope.partner_center_ids
        )
        if series is None or not (scope.works_at(community_id) or partner):
            if series is not None and (
                scope.covers_community(community_id) or center_id in scope.partner_center_ids
            ):
                raise PermissionDenied(code="desk_staff_only")
            raise NotFound(code="series_not_found")
        count = Booking.objects.filter(series=series, status__in=Booking.ACTIVE, starts_at__gt=now).update(
            status=Booking.Status.CANCELLED, cancelled_at=now, cancelled_by=staff, cancel_reason=reason[:200]
        )
        series.cancelled_at = now
        series.save(update_fields=["cancelled_at"])
        audit_log("booking.series.cancelled", actor=staff, obj=series, data={"occurrences": count})
    return count


# --- rules and closures (staff) -----------------------------------------------------------------

RULE_FIELDS = (
    "audience",
    "slot_minutes",
    "min_minutes",
    "max_minutes",
    "horizon_days",
    "release_time",
    "max_per_day",
    "max_minutes_per_week",
    "requires_approval",
    "checkin_opens_minutes",
    "checkin_window_minutes",
    "cancel_cutoff_minutes",
)


def booking_rules_set(*, scope: StaffScope, staff: User, space_id: int, **values: object) -> BookingRules:
    """Sets how a space is booked; validated by the model's own validators and constraints."""
    space = _staff_space(scope, space_id)
    if not scope.works_at(space.center.community_id) and not scope.district:
        raise PermissionDenied(code="desk_staff_only")
    if space.is_office:
        raise errors.SpaceNotBookable()
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise InvalidInput(code="invalid_input", field=sorted(unknown)[0])
    with transaction.atomic(durable=True):
        rules = BookingRules.objects.select_for_update(of=("self",)).filter(
            space=space
        ).first() or BookingRules(space=space)
        for key, value in values.items():
            setattr(rules, key, value)
        try:
            rules.full_clean()
        except ValidationError as exc:
            name, messages = next(iter(exc.message_dict.items()))
            raise InvalidInput(
                messages[0], code="invalid_rules", field=None if name == "__all__" else name
            ) from None
        rules.save()
        if not space.bookable:
            Space.objects.filter(pk=space.pk).update(bookable=True)
        Resource.objects.get_or_create(
            space=space, kind=Resource.Kind.ROOM, defaults={"label": space.name[:60], "position": 0}
        )
        audit_log("booking.rules.set", actor=staff, obj=rules, data={k: str(v) for k, v in values.items()})
    return rules


def space_units_set(
    *,
    scope: StaffScope,
    staff: User,
    space_id: int,
    seats: int | None = None,
    therapists: list[tuple[str, User | None]] | None = None,
) -> list[Resource]:
    """Sets a space's bookable parts: ``seats`` numbered seats (1…N) and/or named therapists;
    ``None`` leaves that kind as it is. Units no longer listed are retired (kept for history),
    never deleted."""
    if seats is not None and not 0 <= seats <= 500:
        raise InvalidInput(code="invalid_seats", field="seats")
    space = _staff_space(scope, space_id)
    if not scope.works_at(space.center.community_id) and not scope.district:
        raise PermissionDenied(code="desk_staff_only")
    _rules(space)
    with transaction.atomic(durable=True):
        existing = list(
            Resource.objects.select_for_update(of=("self",))
            .filter(space=space)
            .exclude(kind=Resource.Kind.ROOM)
        )
        wanted: list[tuple[str, str, User | None]] = []
        if seats is None:  # keep the seats as they are
            wanted += [
                (u.kind, u.label, None) for u in existing if u.kind == Resource.Kind.SEAT and u.is_active
            ]
        else:
            wanted += [(Resource.Kind.SEAT, str(n), None) for n in range(1, seats + 1)]
        if therapists is None:  # keep the therapists as they are
            wanted += [
                (u.kind, u.label, u.staff_user)
                for u in existing
                if u.kind == Resource.Kind.THERAPIST and u.is_active
            ]
        else:
            wanted += [(Resource.Kind.THERAPIST, label, user) for label, user in therapists]
        by_label = {u.label: u for u in existing}
        keep = []
        for position, (kind, label, user) in enumerate(wanted, start=1):
            unit = by_label.pop(label, None) or Resource(space=space, label=label)
            unit.kind, unit.position, unit.is_active, unit.staff_user = kind, position, True, user
            unit.residents_may_book = True
            unit.save()
            keep.append(unit)
        Resource.objects.filter(pk__in=[u.pk for u in by_label.values()]).update(is_active=False)
        # With parts, residents book a part; the whole room is for staff and organisations.
        Resource.objects.filter(space=space, kind=Resource.Kind.ROOM).update(residents_may_book=not keep)
        audit_log(
            "booking.units.set",
            actor=staff,
            obj=space,
            data={"seats": seats, "therapists": len(therapists or [])},
        )
    return keep


def space_hours_set(
    *, scope: StaffScope, staff: User, space_id: int, periods: list[tuple[int, dt.time, dt.time]]
) -> list[SpaceHours]:
    """Gives a space its own weekly opening hours (several periods a day allowed, e.g. a lunch
    break); an empty list returns it to its center's hours. Bookings already made stay."""
    space = _staff_space(scope, space_id)
    if not scope.works_at(space.center.community_id) and not scope.district:
        raise PermissionDenied(code="desk_staff_only")
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, opens, closes in periods:
        if not 0 <= weekday <= 6:
            raise InvalidInput(code="invalid_weekday", field="periods")
        if closes <= opens:
            raise errors.TimesInvalid(field="periods")
        by_day.setdefault(weekday, []).append((opens, closes))
    for day_periods in by_day.values():
        day_periods.sort()
        if any(a[1] > b[0] for a, b in itertools.pairwise(day_periods)):
            raise InvalidInput(code="hours_overlap", field="periods")
    with transaction.atomic(durable=True):
        SpaceHours.objects.filter(space=space).delete()
        rows = SpaceHours.objects.bulk_create(
            SpaceHours(space=space, weekday=d, opens=o, closes=c)
            for d, ps in sorted(by_day.items())
            for o, c in ps
        )
        audit_log("booking.hours.set", actor=staff, obj=space, data={"periods": len(rows)})
    return rows


def closure_add(
    *,
    scope: StaffScope,
    staff: User,
    center_id: int,
    starts_on: dt.date,
    ends_on: dt.date,
    reason: str,
    space_id: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[Closure, int]:
    """Closes a center (or one space) on whole days; bookings on those days are cancelled and
    residents told. Returns the closure and how many bookings were cancelled."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(code="reason_required", field="reason")
    check_day(starts_on, "starts_on")
    check_day(ends_on, "ends_on")
    if ends_on < starts_on:
        raise errors.TimesInvalid(field="ends_on")
    if ends_on < local_day(now):
        raise errors.InThePast(field="ends_on")  # a closure is for days to come, not history
    if (ends_on - starts_on).days >= MAX_CLOSURE_DAYS:
        raise InvalidInput(code="closure_too_long", field="ends_on", max_days=MAX_CLOSURE_DAYS)
    center = scope.filter(Center.objects.all(), community="community", center="").filter(pk=center_id).first()
    if center is None:
        raise NotFound(code="center_not_found")
    if not (scope.works_at(center.community_id) or scope.district):  # the district declares holidays
        raise PermissionDenied(code="desk_staff_only")
    if space_id is not None and not Space.objects.filter(pk=space_id, center=center).exists():
        raise NotFound(code="space_not_found", field="space_id")
    start, _ = day_bounds(starts_on)
    _, end = day_bounds(ends_on)
    with transaction.atomic(durable=True):
        closure = Closure.objects.create(
            center=center,
            space_id=space_id,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason[:200],
            created_by=staff,
        )
        # Only bookings still to come; checked-in and past ones are history and stay as they were.
        affected = (
            Booking.objects.select_for_update(of=("self",))
            .filter(
                space__center=center,
                status__in=(Booking.Status.PENDING, Booking.Status.CONFIRMED),
                starts_at__lt=end,
                ends_at__gt=max(start, now),
            )
            .exclude(kind=Booking.Kind.PROGRAM)
        )  # sessions are cancelled under Programs, with their residents
        if space_id is not None:
            affected = affected.filter(space_id=space_id)
        cancelled = 0
        for booking in affected.select_related("resource", "resident__user", "space__center"):
            _set_cancelled(booking, by=staff, reason=reason, now=now)
            _notify(booking, "booking.cancelled_by_staff", reason=reason[:200])
            cancelled += 1
        audit_log("booking.closure.added", actor=staff, obj=closure, data={"cancelled": cancelled})
    return closure, cancelled


# --- reservations for courses and activities (called by the programs app) ---------------------


@dataclass(frozen=True)
class ReservationRequest:
    space_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


def program_reservations_make(
    *,
    staff: User,
    requests: list[ReservationRequest],
    purpose: str,
    organization_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[Booking]:
    """Reserves whole spaces for the sessions of a course, inside the caller's transaction.

    The same guard as every booking: an overlap with any active booking of the space (a resident's
    seat, an organisation, a block, another course) is refused with ``slot_taken`` naming the
    session (``field`` = ``sessions.<index>``); a closed day with ``space_closed``. The caller's
    transaction rolls back every reservation it made before the refusal.
    """
    now = now or timezone.now()
    made: list[Booking] = []
    with transaction.atomic():
        for index, req in enumerate(requests):
            where = f"sessions.{index}"
            space = Space.objects.select_related("center").filter(pk=req.space_id).first()
            if space is None:
                raise NotFound(code="space_not_found", field=where)
            unit = Resource.objects.filter(space=space, kind=Resource.Kind.ROOM).first()
            if unit is None:
                unit = Resource.objects.create(
                    space=space, kind=Resource.Kind.ROOM, label=space.name[:60], residents_may_book=False
                )
            day = local_day(req.starts_at)
            if Closure.objects.filter(
                Q(space__isnull=True) | Q(space=space),
                center_id=space.center_id,
                starts_on__lte=day,
                ends_on__gte=day,
            ).exists():
                raise errors.SpaceClosed(field=where)
            _release_due_in_space(space.pk, req.starts_at, req.ends_at, now)
            if _conflicts(unit, req.starts_at, req.ends_at, now):
                raise errors.SlotTaken(field=where)
            made.append(
                _insert(
                    Booking(
                        resource=unit,
                        space=space,
                        whole_space=True,
                        kind=Booking.Kind.PROGRAM,
                        status=Booking.Status.CONFIRMED,
                        starts_at=req.starts_at,
                        ends_at=req.ends_at,
                        organization_id=organization_id,
                        purpose=purpose[:200],
                        booked_by=staff,
                        created_at=now,
                    )
                )
            )
        audit_log(
            "booking.program.reserved",
            actor=staff,
            data={"bookings": [b.pk for b in made], "purpose": purpose[:200]},
        )
    return made


def program_reservations_cancel(
    *, booking_ids: list[int], by: User | None, reason: str, now: dt.datetime | None = None
) -> int:
    """Cancels the reservations of cancelled sessions, inside the caller's transaction."""
    now = now or timezone.now()
    n = 0
    with transaction.atomic():
        for booking in Booking.objects.select_for_update().filter(
            pk__in=booking_ids, kind=Booking.Kind.PROGRAM, status__in=Booking.ACTIVE
        ):
            _set_cancelled(booking, by=by, reason=reason, now=now)
            n += 1
    return n


# --- rehabilitation notes -----------------------------------------------------------------------


def _therapist_booking(actor: User, booking_id: int) -> Booking:
    """A rehab booking in a room where ``actor`` is a therapist; anyone else finds nothing."""
    booking = (
        Booking.objects.select_related("space", "resident")
        .filter(
            pk=booking_id,
            kind=Booking.Kind.RESIDENT,
            space__resources__staff_user=actor,
            space__resources__is_active=True,  # the same unit: one filter() call, one join
        )
        .distinct()
        .first()
    )
    if booking is None:
        raise errors.BookingNotFound()
    return booking


def rehab_note_add(*, actor: User, booking_id: int, text: str) -> RehabNote:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(code="note_required", field="text")
    if len(text) > 4000:
        raise InvalidInput(code="note_too_long", field="text")
    with transaction.atomic(durable=True):
        booking = _therapist_booking(actor, booking_id)
        note = RehabNote.objects.create(booking=booking, author=actor, text=text)
        audit_log("booking.rehab_note.added", actor=actor, obj=booking, data={"note": note.pk})
    return note


def rehab_notes_read(*, actor: User, booking_id: int) -> list[RehabNote]:
    """Health data: only the room's therapists read it, and every reading is audited."""
    with transaction.atomic(durable=True):
        booking = _therapist_booking(actor, booking_id)
        notes = list(booking.rehab_notes.select_related("author").order_by("created_at"))
        audit_log(
            "booking.rehab_note.viewed", actor=actor, obj=booking, data={"notes": [n.pk for n in notes]}
        )
    return notes


# --- the clock: releases, suspensions, reminders ------------------------------------------------


def no_shows_release(*, now: dt.datetime | None = None) -> list[int]:
    """Releases every resident booking whose check-in window has passed unused."""
    now = now or timezone.now()
    due = list(
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED, kind=Booking.Kind.RESIDENT, checkin_closes_at__lt=now
        ).values_list("pk", flat=True)[:1000]
    )
    released = [pk for pk in due if _release(pk, now)]  # each its own autocommit UPDATE
    if released:
        suspensions_apply(booking_ids=released, now=now)
    return released


@task()
def no_shows_follow_up(booking_ids: list[int]) -> None:
    """A background task: messages and suspensions after bookings were released."""
    suspensions_apply(booking_ids=booking_ids)


def suspensions_apply(
    *, booking_ids: Iterable[int], now: dt.datetime | None = None
) -> list[BookingSuspension]:
    """Tells residents their booking was released and suspends those with too many no-shows."""
    now = now or timezone.now()
    threshold = settings.LIVINGROOM_NO_SHOW_LIMIT
    period = dt.timedelta(days=settings.LIVINGROOM_NO_SHOW_PERIOD_DAYS)
    created = []
    released = Booking.objects.select_related("resident__user", "space__center", "resource").filter(
        pk__in=list(booking_ids), status=Booking.Status.NO_SHOW
    )
    for booking in released:
        with transaction.atomic(durable=True):
            resident = Resident.objects.select_for_update(of=("self",)).get(pk=booking.resident_id or 0)
            _notify(booking, "booking.released", sms=False)
            audit_log("booking.booking.released", obj=booking)
            count = Booking.objects.filter(
                resident=resident, status=Booking.Status.NO_SHOW, starts_at__gte=now - period
            ).count()
            if count < threshold or active_suspension(resident, now) is not None:
                continue
            # No-shows already counted by an earlier suspension do not count twice.
            last = BookingSuspension.objects.filter(resident=resident).order_by("-starts_at").first()
            if last is not None:
                count = Booking.objects.filter(
                    resident=resident,
                    status=Booking.Status.NO_SHOW,
                    starts_at__gte=max(now - period, last.starts_at),
                ).count()
                if count < threshold:
                    continue
            suspension = BookingSuspension.objects.create(
                resident=resident,
                starts_at=now,
                ends_at=now + dt.timedelta(days=settings.LIVINGROOM_NO_SHOW_SUSPENSION_DAYS),
                no_shows=count,
            )
            created.append(suspension)
            audit_log(
                "booking.resident.suspended",
                obj=resident,
                data={"no_shows": count, "until": suspension.ends_at.isoformat()},
            )
            notice_send(
                user=resident.user,
                kind="booking.suspended",
                params={
                    "count": str(count),
                    "days": str(settings.LIVINGROOM_NO_SHOW_PERIOD_DAYS),
                    "until": when_label(suspension.ends_at, suspension.ends_at).split("–")[0],
                },
                link="/me/bookings/",
                sms=True,
            )
    return created


def suspension_lift(
    *, scope: StaffScope, staff: User, suspension_id: int, now: dt.datetime | None = None
) -> BookingSuspension:
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        suspension = (
            BookingSuspension.objects.select_for_update(of=("self",))
            .select_related("resident")
            .filter(pk=suspension_id, lifted_at__isnull=True)
            .first()
        )
        if suspension is None or not scope.covers_community(suspension.resident.home_community_id):
            raise NotFound(code="suspension_not_found")
        if not scope.works_at(suspension.resident.home_community_id):
            raise PermissionDenied(code="desk_staff_only")
        suspension.lifted_at, suspension.lifted_by = now, staff
        suspension.save(update_fields=["lifted_at", "lifted_by"])
        audit_log("booking.suspension.lifted", actor=staff, obj=suspension.resident)
    return suspension


def reminders_send(*, now: dt.datetime | None = None, ahead: dt.timedelta = dt.timedelta(hours=2)) -> int:
    """Reminds residents of bookings starting within two hours, once each."""
    now = now or timezone.now()
    due = list(
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED,
            kind=Booking.Kind.RESIDENT,
            reminded_at__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + ahead,
        ).values_list("pk", flat=True)[:1000]
    )
    sent = 0
    for pk in due:
        with transaction.atomic(durable=True):
            claimed = Booking.objects.filter(pk=pk, reminded_at__isnull=True).update(reminded_at=now)
            if not claimed:
                continue  # another worker took it
            booking = Booking.objects.select_related("resident__user", "space__center", "resource").get(pk=pk)
            _notify(booking, "booking.reminder")
            sent += 1
    return sent


def pending_expire(*, now: dt.datetime | None = None) -> int:
    """Requests nobody decided on before their start are refused, and the resident told."""
    now = now or timezone.now()
    count = 0
    for pk in Booking.objects.filter(status=Booking.Status.PENDING, starts_at__lte=now).values_list(
        "pk", flat=True
    )[:1000]:
        with transaction.atomic(durable=True):
            booking = (
                Booking.objects.select_for_update(of=("self",))
                .select_related("resident__user", "space__center", "resource")
                .filter(pk=pk, status=Booking.Status.PENDING)
                .first()
            )
            if booking is None:
                continue
            booking.status, booking.decided_at = Booking.Status.REFUSED, now
            booking.save(update_fields=["status", "decided_at"])
            audit_log("booking.booking.expired", obj=booking)
            _notify(booking, "booking.expired")
            count += 1
    return count


@dataclass(frozen=True)
class TickResult:
    released: int
    reminded: int
    expired: int


def booking_tick(*, now: dt.datetime | None = None) -> TickResult:
    """What the clock does every minute (``livingroom booking_tick``)."""
    now = now or timezone.now()
    return TickResult(
        released=len(no_shows_release(now=now)),
        reminded=reminders_send(now=now),
        expired=pending_expire(now=now),
    )
