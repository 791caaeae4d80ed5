"""Booking API: free slots, book, my bookings, cancel, check in; staff calendar and decisions."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime

from livingroom.booking import selectors, services
from livingroom.booking.calendar import active_suspension
from livingroom.booking.models import Booking, BookingRules
from livingroom.core.permissions import staff_scope_of
from livingroom.core.schemas import DbId, ErrorOut, LocalTime
from livingroom.people import errors as people_errors
from livingroom.people.auth import acting_user
from livingroom.people.models import Resident
from livingroom.people.selectors import resident_of
from livingroom.places.devices import device_of

public_router = Router(tags=["bookings"])
resident_router = Router(tags=["bookings"])
device_router = Router(tags=["devices: bookings"])
staff_router = Router(tags=["staff: bookings"])

Text200 = Field("", max_length=200)


# ``?from=2026-11-28&to=2026-11-30`` (``from`` is a Python keyword, hence the aliases).
FROM = Query(None, alias="from")
TO = Query(None, alias="to")
FROM_REQUIRED = Query(..., alias="from")
TO_REQUIRED = Query(..., alias="to")


# --- schemas ------------------------------------------------------------------------------------


class UnitOut(Schema):
    id: int
    kind: str
    label: str


class SlotOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    bookable: bool
    free_unit_ids: list[int]


class DayOut(Schema):
    date: dt.date
    closed_reason: str
    opens_for_booking_at: dt.datetime | None
    slots: list[SlotOut]


class RulesOut(Schema):
    audience: str
    slot_minutes: int
    min_minutes: int
    max_minutes: int
    horizon_days: int
    release_time: LocalTime | None
    max_per_day: int | None
    max_minutes_per_week: int | None
    requires_approval: bool
    checkin_opens_minutes: int
    checkin_window_minutes: int
    cancel_cutoff_minutes: int


class AvailabilityOut(Schema):
    space_id: int
    space: str
    center_id: int
    center: str
    rules: RulesOut
    units: list[UnitOut]
    days: list[DayOut]


class BookingIn(Schema):
    """Book ``resource_id`` (a seat, a room, a therapist), or, with only ``space_id``, the first
    unit of that space that is free for the whole time."""

    resource_id: DbId | None = None
    space_id: DbId | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    purpose: str = Text200


class BookingOut(Schema):
    id: int
    kind: str
    status: str
    space_id: int
    space: str
    center_id: int
    center: str
    resource_id: int
    unit: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    checkin_opens_at: dt.datetime | None
    checkin_closes_at: dt.datetime | None
    cancel_until: dt.datetime | None
    checked_in_at: dt.datetime | None
    purpose: str
    decision_reason: str
    cancel_reason: str


class CancelIn(Schema):
    reason: str = Text200


class PassIn(Schema):
    token: str = Field(..., max_length=400)


class MyBookingsOut(Schema):
    suspended_until: dt.datetime | None
    upcoming: list[BookingOut]
    past: list[BookingOut]


def booking_out(b: Booking) -> BookingOut:
    rules: BookingRules | None = getattr(b.space, "booking_rules", None)
    opens = cancel_until = None
    if b.kind == Booking.Kind.RESIDENT and rules is not None:
        opens = b.starts_at - dt.timedelta(minutes=rules.checkin_opens_minutes)
        cancel_until = b.starts_at - dt.timedelta(minutes=rules.cancel_cutoff_minutes)
    return BookingOut(
        id=b.pk,
        kind=b.kind,
        status=b.status,
        space_id=b.space_id,
        space=b.space.name,
        center_id=b.space.center_id,
        center=b.space.center.name,
        resource_id=b.resource_id,
        unit=b.resource.label,
        starts_at=b.starts_at,
        ends_at=b.ends_at,
        checkin_opens_at=opens,
        checkin_closes_at=b.checkin_closes_at,
        cancel_until=cancel_until,
        checked_in_at=b.checked_in_at,
        purpose=b.purpose,
        decision_reason=b.decision_reason,
        cancel_reason=b.cancel_reason,
    )


def _resident(request: HttpRequest) -> Resident:
    resident = resident_of(acting_user(request))
    if resident is None:
        raise people_errors.ProfileIncomplete()
    return resident


# --- public -------------------------------------------------------------------------------------


@public_router.get(
    "/spaces/{space_id}/availability",
    response={200: AvailabilityOut, 400: ErrorOut, 404: ErrorOut},
    summary="Free slots of a bookable space (per seat for study rooms), up to 14 days",
)
def availability(
    request: HttpRequest,
    space_id: DbId,
    date_from: dt.date | None = FROM,  # type: ignore[assignment]
    date_to: dt.date | None = TO,  # type: ignore[assignment]
) -> AvailabilityOut:
    space = selectors.bookable_space(space_id)
    a = selectors.space_availability(space, date_from, date_to)
    return AvailabilityOut(
        space_id=space.pk,
        space=space.name,
        center_id=space.center_id,
        center=space.center.name,
        rules=RulesOut.model_validate(a.rules, from_attributes=True),
        units=[UnitOut(id=u.pk, kind=u.kind, label=u.label) for u in a.units],
        days=[
            DayOut(
                date=d.date,
                closed_reason=d.closed_reason,
                opens_for_booking_at=d.opens_for_booking_at,
                slots=[
                    SlotOut(
                        starts_at=s.starts_at,
                        ends_at=s.ends_at,
                        bookable=s.bookable,
                        free_unit_ids=s.free_unit_ids,
                    )
                    for s in d.slots
                ],
            )
            for d in a.days
        ],
    )


# --- residents ----------------------------------------------------------------------------------


@resident_router.post(
    "/bookings",
    response={201: BookingOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Book a unit (a seat, a room, a therapist's slot)",
)
def create_booking(request: HttpRequest, payload: BookingIn) -> Status[BookingOut]:
    booking = services.booking_create(
        user=acting_user(request),
        resource_id=payload.resource_id,
        space_id=payload.space_id,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        purpose=payload.purpose,
    )
    return Status(201, booking_out(booking))


@resident_router.get("/me/bookings", response={200: MyBookingsOut, 409: ErrorOut}, summary="My bookings")
def my_bookings(request: HttpRequest) -> MyBookingsOut:
    resident = _resident(request)
    suspension = active_suspension(resident)
    return MyBookingsOut(
        suspended_until=suspension.ends_at if suspension else None,
        upcoming=[booking_out(b) for b in selectors.upcoming_bookings(resident)],
        past=[booking_out(b) for b in selectors.past_bookings(resident)],
    )


@resident_router.post(
    "/bookings/{booking_id}/cancel",
    response={200: BookingOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Cancel my booking before the cut-off",
)
def cancel_booking(request: HttpRequest, booking_id: DbId, payload: CancelIn | None = None) -> BookingOut:
    booking = services.booking_cancel(
        user=acting_user(request), booking_id=booking_id, reason=payload.reason if payload else ""
    )
    return booking_out(booking)


# --- devices ------------------------------------------------------------------------------------


@device_router.post(
    "/bookings/{booking_id}/check-in",
    response={200: BookingOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="A signed kiosk or scanner checks a resident in with their pass",
)
def device_check_in(request: HttpRequest, booking_id: DbId, payload: PassIn) -> BookingOut:
    booking = services.booking_check_in_with_pass_at_device(
        device=device_of(request), booking_id=booking_id, token=payload.token
    )
    return booking_out(booking)


# --- staff --------------------------------------------------------------------------------------


class StaffBookingOut(BookingOut):
    resident_name_masked: str | None
    organization: str | None
    series_id: int | None


def staff_booking_out(b: Booking, request: HttpRequest) -> StaffBookingOut:
    """Partner staff (who see no residents) get no name, not even masked."""
    names = staff_scope_of(request).can_see_residents
    out = booking_out(b).model_dump()
    if not names and b.kind == Booking.Kind.RESIDENT:  # a resident's purpose may be health data
        out.update(purpose="", decision_reason="", cancel_reason="")
    return StaffBookingOut(
        **out,
        resident_name_masked=b.resident.masked_name if b.resident_id and names else None,  # type: ignore[union-attr]
        organization=b.organization.name if b.organization_id else None,  # type: ignore[union-attr]
        series_id=b.series_id,
    )


@staff_router.get(
    "/bookings",
    response={200: list[StaffBookingOut], 400: ErrorOut},
    summary="Bookings at the centers in my scope, by day range and status",
)
def staff_list(
    request: HttpRequest,
    center: DbId | None = None,
    date_from: dt.date | None = FROM,  # type: ignore[assignment]
    date_to: dt.date | None = TO,  # type: ignore[assignment]
    status: Literal["pending", "confirmed", "checked_in", "cancelled", "refused", "no_show"] | None = None,
) -> list[StaffBookingOut]:
    start, end = selectors.parse_range(date_from, date_to)
    qs = selectors.staff_bookings(staff_scope_of(request)).filter(
        starts_at__date__gte=start, starts_at__date__lte=end
    )
    if center is not None:
        qs = qs.filter(space__center_id=center)
    if status is not None:
        qs = qs.filter(status=status)
    return [
        staff_booking_out(b, request)
        for b in qs.select_related("space__booking_rules").order_by("starts_at")[:500]
    ]


class DeskBookingIn(BookingIn):
    resource_id: DbId  # type: ignore[assignment]  # at the desk, staff pick the unit
    resident_id: DbId | None = None
    pass_token: str | None = Field(None, max_length=400)


@staff_router.post(
    "/bookings",
    response={201: StaffBookingOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Book for a resident at the desk (found by id or by their pass)",
)
def staff_create(request: HttpRequest, payload: DeskBookingIn) -> Status[StaffBookingOut]:
    booking = services.booking_create_at_desk(
        scope=staff_scope_of(request),
        staff=acting_user(request),
        resource_id=payload.resource_id,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        resident_id=payload.resident_id,
        pass_token=payload.pass_token,
    )
    return Status(201, staff_booking_out(booking, request))


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@staff_router.post(
    "/bookings/{booking_id}/approve",
    response={200: StaffBookingOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Approve a booking request",
)
def staff_approve(request: HttpRequest, booking_id: DbId) -> StaffBookingOut:
    booking = services.booking_approve(
        scope=staff_scope_of(request), staff=acting_user(request), booking_id=booking_id
    )
    return staff_booking_out(booking, request)


@staff_router.post(
    "/bookings/{booking_id}/refuse",
    response={200: StaffBookingOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Refuse a booking request, with a reason the resident sees",
)
def staff_refuse(request: HttpRequest, booking_id: DbId, payload: ReasonIn) -> StaffBookingOut:
    booking = services.booking_refuse(
        scope=staff_scope_of(request),
        staff=acting_user(request),
        booking_id=booking_id,
        reason=payload.reason,
    )
    return staff_booking_out(booking, request)


@staff_router.post(
    "/bookings/{booking_id}/cancel",
    response={200: StaffBookingOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Cancel a booking (or one occurrence of a series), with a reason",
)
def staff_cancel(request: HttpRequest, booking_id: DbId, payload: ReasonIn) -> StaffBookingOut:
    booking = services.booking_cancel_by_staff(
        scope=staff_scope_of(request),
        staff=acting_user(request),
        booking_id=booking_id,
        reason=payload.reason,
    )
    return staff_booking_out(booking, request)


@staff_router.post(
    "/bookings/check-in",
    response={200: StaffBookingOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Check a resident in by scanning their pass at the desk",
)
def staff_check_in(request: HttpRequest, payload: PassIn) -> StaffBookingOut:
    booking = services.booking_check_in_with_pass_at_desk(
        scope=staff_scope_of(request), staff=acting_user(request), token=payload.token
    )
    return staff_booking_out(booking, request)


class BlockIn(Schema):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field(..., min_length=1, max_length=200)
    resource_id: DbId | None = None


class BlockOut(Schema):
    block: StaffBookingOut
    moved: list[StaffBookingOut]
    cancelled: list[StaffBookingOut]


@staff_router.post(
    "/spaces/{space_id}/blocks",
    response={201: BlockOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Block a space or one unit; bookings in the way move to a free unit or are cancelled",
)
def staff_block(request: HttpRequest, space_id: DbId, payload: BlockIn) -> Status[BlockOut]:
    outcome = services.space_block(
        scope=staff_scope_of(request),
        staff=acting_user(request),
        space_id=space_id,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        reason=payload.reason,
        resource_id=payload.resource_id,
    )
    return Status(
        201,
        BlockOut(
            block=staff_booking_out(outcome.block, request),
            moved=[staff_booking_out(b, request) for b in outcome.moved],
            cancelled=[staff_booking_out(b, request) for b in outcome.cancelled],
        ),
    )


class RulesIn(Schema):
    audience: Literal["everyone", "community", "disabled", "park_workers"] = "everyone"
    slot_minutes: int = Field(60, ge=15, le=240)
    min_minutes: int = Field(60, ge=15, le=1440)
    max_minutes: int = Field(120, ge=15, le=1440)
    horizon_days: int = Field(7, ge=0, le=90)
    release_time: LocalTime | None = None
    max_per_day: int | None = Field(None, ge=1, le=100)
    max_minutes_per_week: int | None = Field(None, ge=15, le=10080)
    requires_approval: bool = False
    checkin_opens_minutes: int = Field(15, ge=0, le=240)
    checkin_window_minutes: int = Field(15, ge=0, le=240)
    cancel_cutoff_minutes: int = Field(60, ge=0, le=10080)


@staff_router.put(
    "/spaces/{space_id}/rules",
    response={200: RulesOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Set how a space is booked",
)
def staff_rules(request: HttpRequest, space_id: DbId, payload: RulesIn) -> RulesOut:
    rules = services.booking_rules_set(
        scope=staff_scope_of(request),
        staff=acting_user(request),
        space_id=space_id,
        **payload.model_dump(exclude_unset=True),
    )
    return RulesOut.model_validate(rules, from_attributes=True)


class PeriodIn(Schema):
    weekday: int = Field(..., ge=0, le=6, description="0 = Monday")
    opens: LocalTime
    closes: LocalTime


class HoursIn(Schema):
    periods: list[PeriodIn] = Field(..., max_length=50)


@staff_router.put(
    "/spaces/{space_id}/hours",
    response={200: list[PeriodIn], 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Set a space's own weekly opening hours (empty: the center's hours)",
)
def staff_hours(request: HttpRequest, space_id: DbId, payload: HoursIn) -> list[PeriodIn]:
    rows = services.space_hours_set(
        scope=staff_scope_of(request),
        staff=acting_user(request),
        space_id=space_id,
        periods=[(p.weekday, p.opens, p.closes) for p in payload.periods],
    )
    return [PeriodIn(weekday=r.weekday, opens=r.opens, closes=r.closes) for r in rows]


class ClosureIn(Schema):
    center_id: DbId
    space_id: DbId | None = None
    starts_on: dt.date
    ends_on: dt.date
    reason: str = Field(..., min_length=1, max_length=200)


class ClosureOut(Schema):
    id: int
    cancelled_bookings: int


@staff_router.post(
    "/closures",
    response={201: ClosureOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Close a center or a space on whole days (holidays); bookings then are cancelled",
)
def staff_closure(request: HttpRequest, payload: ClosureIn) -> Status[ClosureOut]:
    closure, cancelled = services.closure_add(
        scope=staff_scope_of(request),
        staff=acting_user(request),
        center_id=payload.center_id,
        space_id=payload.space_id,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        reason=payload.reason,
    )
    return Status(201, ClosureOut(id=closure.pk, cancelled_bookings=cancelled))


class SeriesIn(Schema):
    resource_id: DbId
    organization_id: DbId | None = None
    purpose: str = Field(..., min_length=1, max_length=200)
    weekday: int = Field(..., ge=0, le=6)
    starts: LocalTime
    ends: LocalTime
    first_date: dt.date
    weeks: int = Field(..., ge=1, le=52)
    skip_conflicts: bool = False


class OccurrenceOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    problem: str


class SeriesOut(Schema):
    id: int
    occurrences: list[OccurrenceOut]


@staff_router.post(
    "/series/preview",
    response={200: list[OccurrenceOut], 400: ErrorOut, 404: ErrorOut},
    summary="Every date of a weekly series and what stands in its way, before creating it",
)
def staff_series_preview(request: HttpRequest, payload: SeriesIn) -> list[OccurrenceOut]:
    unit = selectors.staff_unit(staff_scope_of(request), payload.resource_id)
    occurrences = services.series_occurrences(
        unit=unit,
        weekday=payload.weekday,
        starts=payload.starts,
        ends=payload.ends,
        first_date=payload.first_date,
        weeks=payload.weeks,
    )
    return [OccurrenceOut(starts_at=o.starts_at, ends_at=o.ends_at, problem=o.problem) for o in occurrences]


@staff_router.post(
    "/series",
    response={201: SeriesOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Create a weekly series for an organisation (refused with the conflicts listed)",
)
def staff_series_create(request: HttpRequest, payload: SeriesIn) -> Status[SeriesOut]:
    series, occurrences = services.series_create(
        scope=staff_scope_of(request),
        staff=acting_user(request),
        resource_id=payload.resource_id,
        organization_id=payload.organization_id,
        purpose=payload.purpose,
        weekday=payload.weekday,
        starts=payload.starts,
        ends=payload.ends,
        first_date=payload.first_date,
        weeks=payload.weeks,
        skip_conflicts=payload.skip_conflicts,
    )
    return Status(
        201,
        SeriesOut(
            id=series.pk,
            occurrences=[
                OccurrenceOut(starts_at=o.starts_at, ends_at=o.ends_at, problem=o.problem)
                for o in occurrences
            ],
        ),
    )


class CountOut(Schema):
    cancelled: int


@staff_router.post(
    "/series/{series_id}/cancel",
    response={200: CountOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Cancel every future occurrence of a series",
)
def staff_series_cancel(request: HttpRequest, series_id: DbId, payload: ReasonIn) -> CountOut:
    count = services.series_cancel(
        scope=staff_scope_of(request), staff=acting_user(request), series_id=series_id, reason=payload.reason
    )
    return CountOut(cancelled=count)


class UtilisationOut(Schema):
    space_id: int
    space: str
    center: str
    units: int
    open_hours: float
    booked_hours: float
    utilisation: float | None
    bookings: int
    checked_in: int
    no_shows: int
    checkin_rate: float | None
    no_show_rate: float | None


@staff_router.get(
    "/utilisation",
    response={200: list[UtilisationOut], 400: ErrorOut},
    summary="Per space: booked hours / open hours, check-in rate, no-show rate",
)
def staff_utilisation(
    request: HttpRequest,
    date_from: dt.date = FROM_REQUIRED,  # type: ignore[assignment]
    date_to: dt.date = TO_REQUIRED,  # type: ignore[assignment]
    center: DbId | None = None,
) -> list[UtilisationOut]:
    rows = selectors.utilisation(staff_scope_of(request), date_from, date_to, center_id=center)
    return [
        UtilisationOut(
            space_id=r.space.pk,
            space=r.space.name,
            center=r.space.center.name,
            units=r.units,
            open_hours=round(r.open_hours, 2),
            booked_hours=round(r.booked_hours, 2),
            utilisation=r.utilisation,
            bookings=r.bookings,
            checked_in=r.checked_in,
            no_shows=r.no_shows,
            checkin_rate=r.checkin_rate,
            no_show_rate=r.no_show_rate,
        )
        for r in rows
    ]


class NoteIn(Schema):
    text: str = Field(..., min_length=1, max_length=4000)


class NoteOut(Schema):
    id: int
    author: str
    text: str
    created_at: dt.datetime


@staff_router.get(
    "/bookings/{booking_id}/rehab-notes",
    response={200: list[NoteOut], 400: ErrorOut, 404: ErrorOut},
    summary="Session notes of a rehabilitation appointment (therapists of the room only; audited)",
)
def rehab_notes(request: HttpRequest, booking_id: DbId) -> list[NoteOut]:
    notes = services.rehab_notes_read(actor=acting_user(request), booking_id=booking_id)
    return [
        NoteOut(id=n.pk, author=n.author.audit_label(), text=n.text, created_at=n.created_at) for n in notes
    ]


@staff_router.post(
    "/bookings/{booking_id}/rehab-notes",
    response={201: NoteOut, 400: ErrorOut, 404: ErrorOut},
    summary="Write a session note (encrypted at rest)",
)
def rehab_note_add(request: HttpRequest, booking_id: DbId, payload: NoteIn) -> Status[NoteOut]:
    note = services.rehab_note_add(actor=acting_user(request), booking_id=booking_id, text=payload.text)
    return Status(
        201, NoteOut(id=note.pk, author=note.author.audit_label(), text=note.text, created_at=note.created_at)
    )


@staff_router.post(
    "/suspensions/{suspension_id}/lift",
    response={200: dict, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Lift a resident's booking suspension",
)
def lift_suspension(request: HttpRequest, suspension_id: DbId) -> dict:
    services.suspension_lift(
        scope=staff_scope_of(request), staff=acting_user(request), suspension_id=suspension_id
    )
    return {"lifted": True}
