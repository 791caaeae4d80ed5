"""Volunteering API: browse activities, register, sign up, check in and out at a kiosk, hours and
certificates for volunteers (and a public check of a certificate); activities, rosters, hours
confirmation, corrections and reports for organisers."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime

from livingroom.core.errors import InvalidInput
from livingroom.core.masking import mask_name
from livingroom.core.permissions import staff_scope_of
from livingroom.core.schemas import DbId, ErrorOut
from livingroom.people.auth import acting_user
from livingroom.people.selectors import resident_of
from livingroom.places.devices import device_of
from livingroom.points import selectors as points_selectors
from livingroom.points.api import BalanceOut, EntryOut, balance_out, entry_out
from livingroom.volunteering import pdf, selectors, services
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
    next_star_hours,
)

public_router = Router(tags=["volunteering"])
resident_router = Router(tags=["volunteering"])
device_router = Router(tags=["devices: volunteering"])
staff_router = Router(tags=["staff: volunteering"])

REPORT_MAX_DAYS = 366

# --- schemas ------------------------------------------------------------------------------------


class ShiftOut(Schema):
    id: int
    role: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    minutes: int
    needed: int
    taken: int
    places_left: int
    status: str


class ActivityOut(Schema):
    id: int
    title: str
    description: str
    requirements: str
    status: str
    center_id: int
    center: str
    organizer: str
    audience: str
    min_age: int | None
    points_per_hour: int
    bonus_points: int
    shifts: list[ShiftOut]


def shift_out(s: Shift) -> ShiftOut:
    return ShiftOut(
        id=s.pk,
        role=s.role,
        place=s.place,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        minutes=s.minutes,
        needed=s.needed,
        taken=s.taken,
        places_left=s.places_left,
        status=s.status,
    )


def activity_out(a: Activity, shifts: list[Shift] | None = None) -> ActivityOut:
    return ActivityOut(
        id=a.pk,
        title=a.title,
        description=a.description,
        requirements=a.requirements,
        status=a.status,
        center_id=a.center_id,
        center=a.center.name,
        organizer=a.organizer_name,
        audience=a.audience,
        min_age=a.min_age,
        points_per_hour=a.points_per_hour,
        bonus_points=a.bonus_points,
        shifts=[shift_out(s) for s in (shifts if shifts is not None else a.shifts.all())],
    )


class VolunteerOut(Schema):
    number: str
    status: str
    skills: str
    hours: float
    stars: int
    registered_at: dt.datetime


def volunteer_out(v: Volunteer) -> VolunteerOut:
    return VolunteerOut(
        number=v.number,
        status=v.status,
        skills=v.skills,
        hours=v.hours_total,
        stars=v.stars,
        registered_at=v.registered_at,
    )


class SignupOut(Schema):
    id: int
    shift_id: int
    activity_id: int
    activity: str
    role: str
    place: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    record_minutes: int | None


def signup_out(s: Signup) -> SignupOut:
    record = getattr(s, "record", None) if hasattr(s, "record") else None
    return SignupOut(
        id=s.pk,
        shift_id=s.shift_id,
        activity_id=s.shift.activity_id,
        activity=s.shift.activity.title,
        role=s.shift.role,
        place=s.shift.place,
        starts_at=s.shift.starts_at,
        ends_at=s.shift.ends_at,
        status=s.status,
        checked_in_at=s.checked_in_at,
        checked_out_at=s.checked_out_at,
        record_minutes=record.minutes if record else None,
    )


class RecordOut(Schema):
    id: int
    signup_id: int
    served_on: dt.date
    content: str
    organizer: str
    minutes: int
    hours: float
    points_awarded: int
    adjustment_reason: str
    confirmed_at: dt.datetime


def record_out(r: ServiceRecord) -> RecordOut:
    return RecordOut(
        id=r.pk,
        signup_id=r.signup_id,
        served_on=r.served_on,
        content=r.content,
        organizer=r.organizer,
        minutes=r.minutes,
        hours=r.hours,
        points_awarded=r.points_awarded,
        adjustment_reason=r.adjustment_reason,
        confirmed_at=r.confirmed_at,
    )


class CorrectionOut(Schema):
    id: int
    signup_id: int
    activity: str
    minutes_before: int
    minutes_requested: int
    reason: str
    status: str
    decision_note: str
    created_at: dt.datetime
    decided_at: dt.datetime | None


def correction_out(c: Correction) -> CorrectionOut:
    return CorrectionOut(
        id=c.pk,
        signup_id=c.signup_id,
        activity=c.signup.shift.activity.title,
        minutes_before=c.minutes_before,
        minutes_requested=c.minutes_requested,
        reason=c.reason,
        status=c.status,
        decision_note=c.decision_note,
        created_at=c.created_at,
        decided_at=c.decided_at,
    )


class CertificateOut(Schema):
    id: int
    number: str
    code: str
    name: str
    id_type: str
    id_number: str
    volunteer_number: str
    hours: float
    minutes: int
    records: int
    period_start: dt.date
    period_end: dt.date
    content: str
    issuer: str
    person_in_charge: str
    issued_at: dt.datetime
    pdf_url: str
    verify_url: str


def certificate_out(c: Certificate) -> CertificateOut:
    return CertificateOut(
        id=c.pk,
        number=c.number,
        code=c.code,
        name=c.name,
        id_type=c.id_type_label,
        id_number=c.id_number_masked,
        volunteer_number=c.volunteer_number,
        hours=c.hours,
        minutes=c.minutes,
        records=c.records,
        period_start=c.period_start,
        period_end=c.period_end,
        content=c.content,
        issuer=c.issuer,
        person_in_charge=c.person_in_charge,
        issued_at=c.issued_at,
        pdf_url=f"/api/v1/me/certificates/{c.pk}.pdf",
        verify_url=pdf.verify_url(c),
    )


class VerifiedOut(Schema):
    """What anyone holding the paper may check: the facts, with the name and ID masked."""

    valid: bool
    number: str
    name: str
    id_type: str
    id_number: str
    volunteer_number: str
    hours: float
    records: int
    period_start: dt.date
    period_end: dt.date
    content: str
    issuer: str
    person_in_charge: str
    issued_at: dt.datetime


# --- public -------------------------------------------------------------------------------------


@public_router.get(
    "/volunteer/activities",
    response={200: list[ActivityOut], 400: ErrorOut},
    summary="Open volunteer activities with their shifts still to come",
)
def activities(request: HttpRequest, center: DbId | None = None) -> list[ActivityOut]:
    return [activity_out(a, a.upcoming_shifts) for a in selectors.activities_open(center_id=center)[:200]]  # type: ignore[attr-defined]


@public_router.get(
    "/volunteer/activities/{activity_id}",
    response={200: ActivityOut, 400: ErrorOut, 404: ErrorOut},
    summary="One volunteer activity with all its shifts",
)
def activity(request: HttpRequest, activity_id: DbId) -> ActivityOut:
    return activity_out(selectors.activity_public(activity_id))


@public_router.get(
    "/certificates/verify/{code}",
    response={200: VerifiedOut, 400: ErrorOut, 404: ErrorOut},
    summary="Check a certificate of volunteer service by its verification code",
)
def verify(request: HttpRequest, code: str) -> VerifiedOut:
    c = selectors.certificate_by_code(code[:40])
    return VerifiedOut(
        valid=True,
        number=c.number,
        name=mask_name(c.name),
        id_type=c.id_type_label,
        id_number=c.id_number_masked,
        volunteer_number=c.volunteer_number,
        hours=c.hours,
        records=c.records,
        period_start=c.period_start,
        period_end=c.period_end,
        content=c.content,
        issuer=c.issuer,
        person_in_charge=c.person_in_charge,
        issued_at=c.issued_at,
    )


# --- volunteers ---------------------------------------------------------------------------------


class RegisterIn(Schema):
    consent: bool
    skills: str = Field("", max_length=200)


@resident_router.post(
    "/me/volunteer",
    response={201: VolunteerOut, 400: ErrorOut, 409: ErrorOut},
    summary="Register as a volunteer (consent to the terms and data use is required)",
)
def register(request: HttpRequest, payload: RegisterIn) -> Status[VolunteerOut]:
    v = services.volunteer_register(user=acting_user(request), consent=payload.consent, skills=payload.skills)
    return Status(201, volunteer_out(v))


class MyVolunteeringOut(Schema):
    volunteer: VolunteerOut | None
    next_star_hours: int | None
    points_total: int
    balances: list[BalanceOut]
    entries: list[EntryOut]
    signups: list[SignupOut]
    records: list[RecordOut]
    corrections: list[CorrectionOut]
    certificates: list[CertificateOut]


@resident_router.get(
    "/me/volunteering",
    response={200: MyVolunteeringOut},
    summary="My hours, star level, points balance and history, sign-ups, records and certificates",
)
def my_volunteering(request: HttpRequest) -> MyVolunteeringOut:
    user = acting_user(request)
    volunteer = selectors.volunteer_of(user)
    resident = resident_of(user)
    accounts = list(points_selectors.accounts_of(resident)) if resident else []
    entries = list(points_selectors.entries_of(resident)[:50]) if resident else []
    return MyVolunteeringOut(
        volunteer=volunteer_out(volunteer) if volunteer else None,
        next_star_hours=next_star_hours(volunteer.minutes_total) if volunteer else None,
        points_total=sum(a.balance for a in accounts),
        balances=[balance_out(a) for a in accounts],
        entries=[entry_out(e) for e in entries],
        signups=[signup_out(s) for s in selectors.signups_of(volunteer)[:100]] if volunteer else [],
        records=[record_out(r) for r in selectors.records_of(volunteer)[:200]] if volunteer else [],
        corrections=[correction_out(c) for c in selectors.corrections_of(volunteer)[:50]]
        if volunteer
        else [],
        certificates=[certificate_out(c) for c in selectors.certificates_of(volunteer)[:50]]
        if volunteer
        else [],
    )


@resident_router.post(
    "/shifts/{shift_id}/signups",
    response={201: SignupOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Sign up for a shift (no overfilling, no double sign-up, no clash with another shift)",
)
def sign_up(request: HttpRequest, shift_id: DbId) -> Status[SignupOut]:
    signup = services.signup_create(user=acting_user(request), shift_id=shift_id)
    return Status(201, signup_out(signup))


@resident_router.post(
    "/me/signups/{signup_id}/cancel",
    response={200: SignupOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Withdraw from a shift before it starts",
)
def cancel_signup(request: HttpRequest, signup_id: DbId) -> SignupOut:
    return signup_out(services.signup_cancel(user=acting_user(request), signup_id=signup_id))


class CorrectionIn(Schema):
    signup_id: DbId
    minutes: int = Field(..., ge=1, le=MAX_SHIFT_MINUTES)
    reason: str = Field(..., min_length=1, max_length=300)


@resident_router.post(
    "/me/corrections",
    response={201: CorrectionOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Ask for the hours of a shift to be corrected (or recorded)",
)
def ask_correction(request: HttpRequest, payload: CorrectionIn) -> Status[CorrectionOut]:
    c = services.correction_request(
        user=acting_user(request), signup_id=payload.signup_id, minutes=payload.minutes, reason=payload.reason
    )
    return Status(201, correction_out(c))


class CertificateIn(Schema):
    period_start: dt.date | None = None
    period_end: dt.date | None = None


@resident_router.post(
    "/me/certificates",
    response={201: CertificateOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut},
    summary="Issue a certificate of my confirmed service (all of it, or a period)",
)
def issue_certificate(request: HttpRequest, payload: CertificateIn | None = None) -> Status[CertificateOut]:
    payload = payload or CertificateIn()
    c = services.certificate_issue(
        user=acting_user(request), period_start=payload.period_start, period_end=payload.period_end
    )
    return Status(201, certificate_out(c))


@resident_router.get(
    "/me/certificates/{certificate_id}.pdf",
    response={200: bytes, 400: ErrorOut, 404: ErrorOut},
    summary="Download a certificate of volunteer service as PDF",
    openapi_extra={"responses": {200: {"content": {"application/pdf": {}}}}},
)
def certificate_download(
    request: HttpRequest, certificate_id: DbId, lang: Literal["zh-hans", "en"] = "zh-hans"
) -> HttpResponse:
    c = selectors.certificate_of(acting_user(request), certificate_id)
    response = HttpResponse(pdf.certificate_pdf(c, language=lang), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{c.number}.pdf"'
    return response


# --- devices ------------------------------------------------------------------------------------


class CheckIn(Schema):
    token: str = Field(..., max_length=400)
    direction: Literal["in", "out"] = "in"


@device_router.post(
    "/devices/volunteering/shifts/{shift_id}/check",
    response={200: SignupOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="A signed kiosk or scanner checks a volunteer in or out with the resident pass",
)
def device_check(request: HttpRequest, shift_id: DbId, payload: CheckIn) -> SignupOut:
    signup = services.check_at_device(
        device=device_of(request), shift_id=shift_id, token=payload.token, direction=payload.direction
    )
    return signup_out(signup)


# --- staff --------------------------------------------------------------------------------------


class ShiftIn(Schema):
    role: str = Field(..., min_length=1, max_length=60)
    place: str = Field(..., min_length=1, max_length=100)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    needed: int = Field(..., ge=1, le=MAX_NEEDED)


class ActivityIn(Schema):
    center_id: DbId
    organization_id: DbId | None = None
    title: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=5000)
    requirements: str = Field("", max_length=300)
    audience: Literal["all", "community"] = "all"
    min_age: int | None = Field(None, ge=0, le=100)
    points_per_hour: int = Field(1, ge=0, le=MAX_POINTS_PER_HOUR)
    bonus_points: int = Field(0, ge=0, le=MAX_BONUS_POINTS)
    publish: bool = True
    shifts: list[ShiftIn] = Field(..., min_length=1, max_length=services.MAX_SHIFTS)


class StaffActivityOut(ActivityOut):
    organization_id: int | None
    cancel_reason: str
    created_at: dt.datetime
    published_at: dt.datetime | None


def staff_activity_out(a: Activity) -> StaffActivityOut:
    base = activity_out(a)
    return StaffActivityOut(
        **base.model_dump(),
        organization_id=a.organization_id,
        cancel_reason=a.cancel_reason,
        created_at=a.created_at,
        published_at=a.published_at,
    )


@staff_router.get(
    "/volunteer/activities",
    response={200: list[StaffActivityOut], 400: ErrorOut},
    summary="Volunteer activities in my scope",
)
def staff_activities(
    request: HttpRequest,
    center: DbId | None = None,
    status: Literal["draft", "published", "cancelled"] | None = None,
) -> list[StaffActivityOut]:
    scope = staff_scope_of(request)
    qs = selectors.activities_for_staff(scope, center_id=center, status=status).prefetch_related("shifts")[
        :500
    ]
    return [staff_activity_out(a) for a in qs]


@staff_router.post(
    "/volunteer/activities",
    response={201: StaffActivityOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Publish (or draft) a volunteer activity with its shifts and points rule",
)
def staff_create_activity(request: HttpRequest, payload: ActivityIn) -> Status[StaffActivityOut]:
    scope = staff_scope_of(request)
    draft = services.ActivityDraft(
        center_id=payload.center_id,
        organization_id=payload.organization_id,
        title=payload.title,
        description=payload.description,
        requirements=payload.requirements,
        audience=payload.audience,
        min_age=payload.min_age,
        points_per_hour=payload.points_per_hour,
        bonus_points=payload.bonus_points,
        publish=payload.publish,
        shifts=[
            services.ShiftDraft(
                role=s.role, place=s.place, starts_at=s.starts_at, ends_at=s.ends_at, needed=s.needed
            )
            for s in payload.shifts
        ],
    )
    a = services.activity_create(staff=acting_user(request), scope=scope, draft=draft)
    return Status(201, staff_activity_out(selectors.activity_for_staff(scope, a.pk)))


@staff_router.get(
    "/volunteer/activities/{activity_id}",
    response={200: StaffActivityOut, 400: ErrorOut, 404: ErrorOut},
    summary="One activity with its shifts",
)
def staff_activity(request: HttpRequest, activity_id: DbId) -> StaffActivityOut:
    return staff_activity_out(selectors.activity_for_staff(staff_scope_of(request), activity_id))


@staff_router.post(
    "/volunteer/activities/{activity_id}/publish",
    response={200: StaffActivityOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Publish a draft activity",
)
def staff_publish(request: HttpRequest, activity_id: DbId) -> StaffActivityOut:
    scope = staff_scope_of(request)
    services.activity_publish(staff=acting_user(request), scope=scope, activity_id=activity_id)
    return staff_activity_out(selectors.activity_for_staff(scope, activity_id))


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@staff_router.post(
    "/volunteer/activities/{activity_id}/cancel",
    response={200: StaffActivityOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Cancel an activity; its shifts to come are cancelled and volunteers told",
)
def staff_cancel(request: HttpRequest, activity_id: DbId, payload: ReasonIn) -> StaffActivityOut:
    scope = staff_scope_of(request)
    services.activity_cancel(
        staff=acting_user(request), scope=scope, activity_id=activity_id, reason=payload.reason
    )
    return staff_activity_out(selectors.activity_for_staff(scope, activity_id))


class RosterLineOut(Schema):
    signup_id: int
    volunteer_number: str
    name: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    measured_minutes: int | None
    record_minutes: int | None
    points_awarded: int | None


class RosterOut(Schema):
    shift: ShiftOut
    activity_id: int
    activity: str
    confirmed_at: dt.datetime | None
    lines: list[RosterLineOut]


def roster_out(shift: Shift) -> RosterOut:
    lines = []
    for line in selectors.roster(shift):
        s = line.signup
        record = getattr(s, "record", None) if hasattr(s, "record") else None
        lines.append(
            RosterLineOut(
                signup_id=s.pk,
                volunteer_number=s.volunteer.number,
                name=s.volunteer.resident.masked_name,
                checked_in_at=s.checked_in_at,
                checked_out_at=s.checked_out_at,
                measured_minutes=line.measured,
                record_minutes=record.minutes if record else None,
                points_awarded=record.points_awarded if record else None,
            )
        )
    return RosterOut(
        shift=shift_out(shift),
        activity_id=shift.activity_id,
        activity=shift.activity.title,
        confirmed_at=shift.confirmed_at,
        lines=lines,
    )


@staff_router.get(
    "/volunteer/shifts/{shift_id}/roster",
    response={200: RosterOut, 400: ErrorOut, 404: ErrorOut},
    summary="Who signed up for a shift, with check-in and out, measured minutes and records",
)
def staff_roster(request: HttpRequest, shift_id: DbId) -> RosterOut:
    return roster_out(selectors.shift_for_staff(staff_scope_of(request), shift_id))


@staff_router.post(
    "/volunteer/shifts/{shift_id}/check",
    response={200: SignupOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="The organiser scans a volunteer's pass to check them in or out",
)
def staff_check(request: HttpRequest, shift_id: DbId, payload: CheckIn) -> SignupOut:
    signup = services.check_by_staff(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        shift_id=shift_id,
        token=payload.token,
        direction=payload.direction,
    )
    return signup_out(signup)


class HoursLineIn(Schema):
    signup_id: DbId
    minutes: int | None = Field(None, ge=0, le=MAX_SHIFT_MINUTES)
    reason: str = Field("", max_length=200)


class ConfirmIn(Schema):
    lines: list[HoursLineIn] = Field(default_factory=list, max_length=MAX_NEEDED)


@staff_router.post(
    "/volunteer/shifts/{shift_id}/confirm",
    response={200: list[RecordOut], 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Confirm a shift's hours (once), with adjustments and reasons; points are awarded by the rule",
)
def staff_confirm(request: HttpRequest, shift_id: DbId, payload: ConfirmIn | None = None) -> list[RecordOut]:
    payload = payload or ConfirmIn()
    records = services.hours_confirm(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        shift_id=shift_id,
        lines=[
            services.HoursLine(signup_id=x.signup_id, minutes=x.minutes, reason=x.reason)
            for x in payload.lines
        ],
    )
    return [record_out(r) for r in records]


class StaffCorrectionOut(CorrectionOut):
    volunteer_number: str
    name: str
    shift_id: int


@staff_router.get(
    "/volunteer/corrections",
    response={200: list[StaffCorrectionOut], 400: ErrorOut},
    summary="Correction requests about my activities (open ones by default)",
)
def staff_corrections(
    request: HttpRequest, status: Literal["open", "accepted", "rejected"] | None = "open"
) -> list[StaffCorrectionOut]:
    out = []
    for c in selectors.corrections_for_staff(staff_scope_of(request), status=status)[:500]:
        out.append(
            StaffCorrectionOut(
                **correction_out(c).model_dump(),
                volunteer_number=c.volunteer.number,
                name=c.volunteer.resident.masked_name,
                shift_id=c.signup.shift_id,
            )
        )
    return out


class DecideIn(Schema):
    accept: bool
    note: str = Field("", max_length=300)


@staff_router.post(
    "/volunteer/corrections/{correction_id}/decide",
    response={200: CorrectionOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Accept or reject a correction request (a rejection needs a note)",
)
def staff_decide(request: HttpRequest, correction_id: DbId, payload: DecideIn) -> CorrectionOut:
    c = services.correction_decide(
        staff=acting_user(request),
        scope=staff_scope_of(request),
        correction_id=correction_id,
        accept=payload.accept,
        note=payload.note,
    )
    return correction_out(c)


class RosterVolunteerOut(Schema):
    id: int
    number: str
    name: str
    community: str
    status: str
    hours: float
    stars: int
    registered_at: dt.datetime


@staff_router.get(
    "/volunteers",
    response={200: list[RosterVolunteerOut], 400: ErrorOut},
    summary="The volunteer roster of my communities (names masked)",
)
def staff_volunteers(request: HttpRequest, q: str = Query("", max_length=50)) -> list[RosterVolunteerOut]:
    return [
        RosterVolunteerOut(
            id=v.pk,
            number=v.number,
            name=v.resident.masked_name,
            community=v.resident.home_community.name,
            status=v.status,
            hours=v.hours_total,
            stars=v.stars,
            registered_at=v.registered_at,
        )
        for v in selectors.volunteers_for_staff(staff_scope_of(request), query=q.strip())[:1000]
    ]


class HoursRowOut(Schema):
    volunteer_number: str
    name: str
    community: str
    records: int
    minutes: int
    hours: float
    points: int
    stars: int


FROM_REQUIRED = Query(..., alias="from")
TO_REQUIRED = Query(..., alias="to")


@staff_router.get(
    "/volunteer/hours",
    response={200: list[HoursRowOut], 400: ErrorOut},
    summary="Confirmed hours per volunteer in a period (at most a year)",
)
def staff_hours(
    request: HttpRequest,
    start: dt.date = FROM_REQUIRED,
    end: dt.date = TO_REQUIRED,
    center: DbId | None = None,
) -> list[HoursRowOut]:
    if end < start or (end - start).days > REPORT_MAX_DAYS:
        raise InvalidInput(
            _("The period must end after it starts and cover at most a year."),
            code="period_invalid",
            field="to",
        )
    rows = selectors.hours_report(staff_scope_of(request), start=start, end=end, center_id=center)
    return [
        HoursRowOut(
            volunteer_number=r.volunteer.number,
            name=r.volunteer.resident.masked_name,
            community=r.volunteer.resident.home_community.name,
            records=r.records,
            minutes=r.minutes,
            hours=round(r.minutes / 60, 1),
            points=r.points,
            stars=r.stars,
        )
        for r in rows
    ]
