"""Courses API: browse, enrol, leave, accept, rate; kiosk attendance; providers' proposals; staff
approval, limits, rosters, attendance, payments, talents, the draw's replay and the totals."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime

from livingroom.booking.calendar import check_day
from livingroom.core.errors import InvalidInput, NotFound
from livingroom.core.permissions import staff_scope_of
from livingroom.core.schemas import DbId, ErrorOut
from livingroom.people.auth import acting_user
from livingroom.people.selectors import resident_of
from livingroom.places.devices import device_of
from livingroom.programs import errors, selectors, services
from livingroom.programs.models import (
    MAX_CAPACITY,
    MAX_PRICE_FEN,
    MAX_WAITLIST,
    Attendance,
    Enrollment,
    Program,
    Talent,
)

public_router = Router(tags=["programs"])
resident_router = Router(tags=["programs"])
device_router = Router(tags=["devices: programs"])
staff_router = Router(tags=["staff: programs"])

Category = Literal[
    "arts",
    "calligraphy",
    "heritage",
    "fitness",
    "night_school",
    "childcare",
    "elderly",
    "job_skills",
    "health",
    "other",
]
FROM = Query(None, alias="from")
TO = Query(None, alias="to")
FROM_REQUIRED = Query(..., alias="from")
TO_REQUIRED = Query(..., alias="to")
TOTALS_MAX_DAYS = 366  # the district's figures cover up to a year


# --- schemas ------------------------------------------------------------------------------------


class SessionOut(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    space_id: int
    space: str
    status: str


class ProgramOut(Schema):
    id: int
    title: str
    category: str
    category_label: str
    description: str
    status: str
    center_id: int
    center: str
    provider: str
    provider_name: str
    min_age: int | None
    max_age: int | None
    community_ids: list[int]
    eligibility_kinds: list[str]
    capacity: int
    seats_left: int
    waitlist_size: int
    waitlist_count: int
    market_price_fen: int
    price_fen: int
    discount_fen: int
    public_welfare: bool
    enroll_opens_at: dt.datetime
    enroll_closes_at: dt.datetime
    fair_seconds: int
    draw_at: dt.datetime | None
    draw_done_at: dt.datetime | None
    draw_seed_sha256: str
    promotion: str
    cancel_cutoff_hours: int
    first_starts_at: dt.datetime | None
    last_ends_at: dt.datetime | None
    session_count: int


class ProgramDetailOut(ProgramOut):
    sessions: list[SessionOut]


def program_out(p: Program) -> ProgramOut:
    return ProgramOut(
        id=p.pk,
        title=p.title,
        category=p.category,
        category_label=str(p.get_category_display()),
        description=p.description,
        status=p.status,
        center_id=p.center_id,
        center=p.center.name,
        provider=p.provider,
        provider_name=p.provider_name,
        min_age=p.min_age,
        max_age=p.max_age,
        community_ids=[c.pk for c in p.communities.all()],
        eligibility_kinds=list(p.eligibility_kinds or []),
        capacity=p.capacity,
        seats_left=p.seats_left,
        waitlist_size=p.waitlist_size,
        waitlist_count=p.waitlist_count,
        market_price_fen=p.market_price_fen,
        price_fen=p.price_fen,
        discount_fen=p.discount_fen,
        public_welfare=p.public_welfare,
        enroll_opens_at=p.enroll_opens_at,
        enroll_closes_at=p.enroll_closes_at,
        fair_seconds=p.fair_seconds,
        draw_at=p.fair_until if p.fair_seconds else None,
        draw_done_at=p.draw_done_at,
        draw_seed_sha256=p.draw_seed_sha256 if p.fair_seconds else "",
        promotion=p.promotion,
        cancel_cutoff_hours=p.cancel_cutoff_hours,
        first_starts_at=getattr(p, "first_starts_at", None),
        last_ends_at=getattr(p, "last_ends_at", None),
        session_count=getattr(p, "session_count", 0),
    )


def session_out(s) -> SessionOut:  # type: ignore[no-untyped-def]
    return SessionOut(
        id=s.pk,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        space_id=s.space_id,
        space=s.space.name,
        status=s.status,
    )


def program_detail_out(p: Program) -> ProgramDetailOut:
    return ProgramDetailOut(
        **program_out(p).model_dump(), sessions=[session_out(s) for s in selectors.sessions_of(p)]
    )


class EnrollmentOut(Schema):
    id: int
    program_id: int
    program: str
    participant: str
    dependant_id: int | None
    status: str
    position: int | None
    requested_at: dt.datetime
    confirmed_at: dt.datetime | None
    offer_expires_at: dt.datetime | None
    draw_at: dt.datetime | None
    price_fen: int
    paid_fen: int
    rating: int | None


def enrollment_out(e: Enrollment) -> EnrollmentOut:
    p = e.program
    return EnrollmentOut(
        id=e.pk,
        program_id=e.program_id,
        program=p.title,
        participant=e.participant_name,
        dependant_id=e.dependant_id,
        status=e.status,
        position=e.position,
        requested_at=e.requested_at,
        confirmed_at=e.confirmed_at,
        offer_expires_at=e.offer_expires_at,
        draw_at=p.fair_until if e.status == Enrollment.Status.REQUESTED else None,
        price_fen=e.price_fen,
        paid_fen=e.paid_fen,
        rating=e.rating,
    )


# --- public -------------------------------------------------------------------------------------


@public_router.get(
    "/programs",
    response={200: list[ProgramOut], 400: ErrorOut},
    summary="Courses and activities open to residents",
)
def list_programs(
    request: HttpRequest,
    center: DbId | None = None,
    category: Category | None = None,
    date_from: dt.date | None = FROM,  # type: ignore[assignment]
    date_to: dt.date | None = TO,  # type: ignore[assignment]
    max_price_fen: int | None = Query(None, ge=0, le=MAX_PRICE_FEN),  # type: ignore[assignment]
    free_seats: bool = False,
    q: str = Query("", max_length=50),  # type: ignore[assignment]
) -> list[ProgramOut]:
    if date_from is not None:
        check_day(date_from, "from")
    if date_to is not None:
        check_day(date_to, "to")
    filters = selectors.ProgramFilters(
        center_id=center,
        category=category,
        date_from=date_from,
        date_to=date_to,
        max_price_fen=max_price_fen,
        free_seats=free_seats,
        q=q.strip(),
    )
    qs = selectors.public_programs(filters).prefetch_related("communities")[: selectors.LIST_LIMIT]
    return [program_out(p) for p in qs]


@public_router.get(
    "/programs/{program_id}",
    response={200: ProgramDetailOut, 400: ErrorOut, 404: ErrorOut},
    summary="One course with its sessions",
)
def get_program(request: HttpRequest, program_id: DbId) -> ProgramDetailOut:
    return program_detail_out(selectors.public_program(program_id))


# --- residents ----------------------------------------------------------------------------------


class EnrollIn(Schema):
    """Who takes part: the signed-in resident (``include_self``) and/or their family members."""

    include_self: bool = True
    dependant_ids: list[DbId] = Field(default_factory=list, max_length=services.MAX_PARTY)


@resident_router.post(
    "/programs/{program_id}/enrollments",
    response={201: list[EnrollmentOut], 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Enrol (a seat, a waiting-list place, or a place in the opening draw)",
)
def enroll(
    request: HttpRequest, program_id: DbId, payload: EnrollIn | None = None
) -> Status[list[EnrollmentOut]]:
    payload = payload or EnrollIn()
    made = services.enrollment_create(
        user=acting_user(request),
        program_id=program_id,
        include_self=payload.include_self,
        dependant_ids=payload.dependant_ids,
    )
    return Status(201, [enrollment_out(e) for e in made])


@resident_router.get("/me/enrollments", response=list[EnrollmentOut], summary="My enrolments, newest first")
def my_enrollments(request: HttpRequest) -> list[EnrollmentOut]:
    resident = resident_of(acting_user(request))
    if resident is None:
        return []
    return [enrollment_out(e) for e in selectors.enrollments_of(resident)[:200]]


@resident_router.delete(
    "/me/enrollments/{enrollment_id}",
    response={200: EnrollmentOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Cancel an enrolment or leave the waiting list",
)
def cancel_enrollment(request: HttpRequest, enrollment_id: DbId) -> EnrollmentOut:
    return enrollment_out(services.enrollment_cancel(user=acting_user(request), enrollment_id=enrollment_id))


@resident_router.post(
    "/me/enrollments/{enrollment_id}/accept",
    response={200: EnrollmentOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Accept a seat offered from the waiting list",
)
def accept_offer(request: HttpRequest, enrollment_id: DbId) -> EnrollmentOut:
    return enrollment_out(services.offer_accept(user=acting_user(request), enrollment_id=enrollment_id))


class RatingIn(Schema):
    rating: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=500)


@resident_router.post(
    "/me/enrollments/{enrollment_id}/rating",
    response={200: EnrollmentOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Rate a course (1–5) after taking part",
)
def rate(request: HttpRequest, enrollment_id: DbId, payload: RatingIn) -> EnrollmentOut:
    e = services.enrollment_rate(
        user=acting_user(request), enrollment_id=enrollment_id, rating=payload.rating, comment=payload.comment
    )
    return enrollment_out(e)


class TalentOut(Schema):
    id: int
    name: str
    community_id: int
    kind: str
    skills: str
    bio: str
    status: str
    decision_reason: str


def talent_out(t: Talent, *, own: bool = False) -> TalentOut:
    return TalentOut(
        id=t.pk,
        name=t.resident.masked_name,
        community_id=t.community_id,
        kind=t.kind,
        skills=t.skills,
        bio=t.bio,
        status=t.status,
        decision_reason=t.decision_reason if own else "",
    )


@resident_router.get("/talents", response=list[TalentOut], summary="Approved talents of my community")
def list_talents(request: HttpRequest) -> list[TalentOut]:
    resident = resident_of(acting_user(request))
    if resident is None:
        return []
    return [talent_out(t) for t in selectors.community_talents(resident.home_community_id)[:200]]


class TalentIn(Schema):
    kind: Literal["arts", "professional"]
    skills: str = Field(..., min_length=1, max_length=200)
    bio: str = Field(..., min_length=1, max_length=1000)


@resident_router.get("/me/talent", response={200: TalentOut, 404: ErrorOut}, summary="My talent application")
def my_talent(request: HttpRequest) -> TalentOut:
    resident = resident_of(acting_user(request))
    talent = selectors.my_talent(resident) if resident else None
    if talent is None:
        raise errors.TalentNotFound()
    return talent_out(talent, own=True)


@resident_router.post(
    "/me/talent", response={201: TalentOut, 400: ErrorOut, 409: ErrorOut}, summary="Apply to the talent pool"
)
def apply_talent(request: HttpRequest, payload: TalentIn) -> Status[TalentOut]:
    t = services.talent_apply(
        user=acting_user(request), kind=payload.kind, skills=payload.skills, bio=payload.bio
    )
    return Status(201, talent_out(t, own=True))


@resident_router.delete(
    "/me/talent",
    response={200: TalentOut, 404: ErrorOut},
    summary="Withdraw my application or leave the pool",
)
def withdraw_talent(request: HttpRequest) -> TalentOut:
    return talent_out(services.talent_withdraw(user=acting_user(request)), own=True)


class SessionIn(Schema):
    space_id: DbId
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class SeriesIn(Schema):
    space_id: DbId
    first_starts_at: AwareDatetime
    minutes: int = Field(..., ge=15, le=services.MAX_SESSION_MINUTES)
    weeks: int = Field(..., ge=1, le=services.MAX_SESSIONS)


class ProgramIn(Schema):
    """A proposal. Sessions: a list, or a weekly ``series``. Prices in fen (¥1 = 100)."""

    center_id: DbId
    organization_id: DbId | None = None
    title: str = Field(..., min_length=1, max_length=100)
    category: Category
    description: str = Field("", max_length=4000)
    min_age: int | None = Field(None, ge=0, le=120)
    max_age: int | None = Field(None, ge=0, le=120)
    community_ids: list[DbId] = Field(default_factory=list, max_length=200)
    eligibility_kinds: list[Literal["rider", "disabled", "low_income", "park_worker"]] = Field(
        default_factory=list, max_length=4
    )
    capacity: int = Field(..., ge=1, le=MAX_CAPACITY)
    waitlist_size: int = Field(0, ge=0, le=MAX_WAITLIST)
    market_price_fen: int = Field(0, ge=0, le=MAX_PRICE_FEN)
    price_fen: int = Field(0, ge=0, le=MAX_PRICE_FEN)
    public_welfare: bool = True
    enroll_opens_at: AwareDatetime
    enroll_closes_at: AwareDatetime | None = None
    fair_seconds: int = Field(60, ge=0, le=services.MAX_FAIR_SECONDS)
    promotion: Literal["auto", "offer"] = "auto"
    offer_hours: int = Field(24, ge=1, le=72)
    cancel_cutoff_hours: int = Field(24, ge=0, le=336)
    sessions: list[SessionIn] = Field(default_factory=list, max_length=services.MAX_SESSIONS)
    series: SeriesIn | None = None


def draft_of(payload: ProgramIn) -> services.ProgramDraft:
    sessions = [services.SessionDraft(s.space_id, s.starts_at, s.ends_at) for s in payload.sessions]
    if payload.series is not None:
        sessions += services.weekly_sessions(
            space_id=payload.series.space_id,
            first_starts_at=payload.series.first_starts_at,
            minutes=payload.series.minutes,
            weeks=payload.series.weeks,
        )
    data = payload.model_dump(exclude={"sessions", "series"})
    return services.ProgramDraft(sessions=sessions, **data)


@resident_router.post(
    "/me/talent/programs",
    response={201: ProgramDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="An approved talent proposes a course at their community's center",
)
def talent_propose(request: HttpRequest, payload: ProgramIn) -> Status[ProgramDetailOut]:
    program = services.program_propose(actor=acting_user(request), scope=None, draft=draft_of(payload))
    return Status(201, program_detail_out(selectors.proposed_program(acting_user(request), program.pk)))


# --- devices ------------------------------------------------------------------------------------


class PassIn(Schema):
    token: str = Field(..., max_length=400)


class AttendanceOut(Schema):
    session_id: int
    enrollment_id: int
    participant: str
    present: bool
    via: str
    marked_at: dt.datetime


def attendance_out(a: Attendance) -> AttendanceOut:
    return AttendanceOut(
        session_id=a.session_id,
        enrollment_id=a.enrollment_id,
        participant=a.enrollment.participant_masked,
        present=a.present,
        via=a.via,
        marked_at=a.marked_at,
    )


@device_router.post(
    "/sessions/{session_id}/attendance",
    response={200: list[AttendanceOut], 400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="A signed kiosk checks a resident (and their enrolled family) in with the resident pass",
)
def device_attendance(request: HttpRequest, session_id: DbId, payload: PassIn) -> list[AttendanceOut]:
    marked = services.attendance_check_in_at_device(
        device=device_of(request), session_id=session_id, token=payload.token
    )
    return [attendance_out(a) for a in marked]


# --- staff --------------------------------------------------------------------------------------


class StaffProgramOut(ProgramDetailOut):
    decision_reason: str
    cancel_reason: str
    confirmed: int
    offered: int
    waitlisted: int
    requested: int
    attendance_rate: float | None
    rating_average: float | None
    ratings: int


def staff_program_out(p: Program) -> StaffProgramOut:
    f = selectors.program_figures(p)
    return StaffProgramOut(
        **program_detail_out(p).model_dump(),
        decision_reason=p.decision_reason,
        cancel_reason=p.cancel_reason,
        confirmed=f.confirmed,
        offered=f.offered,
        waitlisted=f.waitlisted,
        requested=f.requested,
        attendance_rate=f.attendance_rate,
        rating_average=f.rating_average,
        ratings=f.ratings,
    )


@staff_router.get(
    "/programs", response={200: list[ProgramOut], 400: ErrorOut}, summary="Courses at the centers in my scope"
)
def staff_list(
    request: HttpRequest,
    status: Literal["pending", "published", "rejected", "cancelled"] | None = None,
    center: DbId | None = None,
) -> list[ProgramOut]:
    qs = selectors.staff_programs(staff_scope_of(request))
    if status:
        qs = qs.filter(status=status)
    if center:
        qs = qs.filter(center_id=center)
    return [program_out(p) for p in qs.prefetch_related("communities").order_by("-created_at")[:500]]


@staff_router.post(
    "/programs",
    response={201: StaffProgramOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Propose a course (desk staff for the center, partner staff for their organisation)",
)
def staff_propose(request: HttpRequest, payload: ProgramIn) -> Status[StaffProgramOut]:
    scope = staff_scope_of(request)
    program = services.program_propose(actor=acting_user(request), scope=scope, draft=draft_of(payload))
    return Status(201, staff_program_out(selectors.staff_program(scope, program.pk)))


@staff_router.get(
    "/programs/{program_id}",
    response={200: StaffProgramOut, 400: ErrorOut, 404: ErrorOut},
    summary="One course with its figures",
)
def staff_get(request: HttpRequest, program_id: DbId) -> StaffProgramOut:
    return staff_program_out(selectors.staff_program(staff_scope_of(request), program_id))


@staff_router.post(
    "/programs/{program_id}/approve",
    response={200: StaffProgramOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Approve and publish a proposed course (reserves its spaces)",
)
def staff_approve(request: HttpRequest, program_id: DbId) -> StaffProgramOut:
    scope = staff_scope_of(request)
    services.program_approve(scope=scope, staff=acting_user(request), program_id=program_id)
    return staff_program_out(selectors.staff_program(scope, program_id))


class ReasonIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@staff_router.post(
    "/programs/{program_id}/reject",
    response={200: StaffProgramOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Refuse a proposed course, with a reason the provider sees",
)
def staff_reject(request: HttpRequest, program_id: DbId, payload: ReasonIn) -> StaffProgramOut:
    scope = staff_scope_of(request)
    services.program_reject(
        scope=scope, staff=acting_user(request), program_id=program_id, reason=payload.reason
    )
    return staff_program_out(selectors.staff_program(scope, program_id))


@staff_router.post(
    "/programs/{program_id}/cancel",
    response={200: StaffProgramOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Cancel a course: everyone is told and fees are refunded",
)
def staff_cancel(request: HttpRequest, program_id: DbId, payload: ReasonIn) -> StaffProgramOut:
    scope = staff_scope_of(request)
    services.program_cancel(
        scope=scope, staff=acting_user(request), program_id=program_id, reason=payload.reason
    )
    return staff_program_out(selectors.staff_program(scope, program_id))


class LimitsIn(Schema):
    capacity: int | None = Field(None, ge=1, le=MAX_CAPACITY)
    waitlist_size: int | None = Field(None, ge=0, le=MAX_WAITLIST)


@staff_router.patch(
    "/programs/{program_id}",
    response={200: StaffProgramOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Change seats or waiting-list places (never below what is taken)",
)
def staff_limits(request: HttpRequest, program_id: DbId, payload: LimitsIn) -> StaffProgramOut:
    scope = staff_scope_of(request)
    services.program_limits_set(
        scope=scope,
        staff=acting_user(request),
        program_id=program_id,
        capacity=payload.capacity,
        waitlist_size=payload.waitlist_size,
    )
    return staff_program_out(selectors.staff_program(scope, program_id))


class DrawOut(Schema):
    seed: str
    drawn_at: dt.datetime
    entrants: list[tuple[int, str]]
    order: list[int]
    keys: dict[str, str]
    confirmed: list[int]
    waitlisted: list[int]
    unsuccessful: list[int]
    order_matches: bool
    outcome_matches: bool
    seed_sha256_published: str
    seed_matches_commitment: bool | None


@staff_router.get(
    "/programs/{program_id}/draw",
    response={200: DrawOut, 400: ErrorOut, 404: ErrorOut},
    summary="The opening draw: seed, entrants, order, and its replay by the server",
)
def staff_draw(request: HttpRequest, program_id: DbId) -> DrawOut:
    program = selectors.staff_program(staff_scope_of(request), program_id)
    draw = selectors.program_draw(program)
    if draw is None:
        raise NotFound(code="draw_not_found")
    replay = services.draw_replay(
        draw,
        capacity=program.capacity,
        waitlist_size=program.waitlist_size,
        commitment=program.draw_seed_sha256,
    )
    return DrawOut(
        seed=draw.seed,
        drawn_at=draw.drawn_at,
        entrants=[(int(e), str(p)) for e, p in draw.entrants],
        order=list(draw.order),
        keys=replay.keys,
        confirmed=list(draw.outcome.get("confirmed", [])),
        waitlisted=list(draw.outcome.get("waitlisted", [])),
        unsuccessful=list(draw.outcome.get("unsuccessful", [])),
        order_matches=replay.order_matches,
        outcome_matches=replay.outcome_matches,
        seed_sha256_published=program.draw_seed_sha256,
        seed_matches_commitment=replay.seed_matches_commitment,
    )


class RosterRowOut(Schema):
    enrollment_id: int
    participant_masked: str
    resident_id: int
    dependant: bool
    present: bool | None
    paid_fen: int
    price_fen: int


@staff_router.get(
    "/sessions/{session_id}/roster",
    response={200: list[RosterRowOut], 400: ErrorOut, 404: ErrorOut},
    summary="Who is enrolled for a session and whether they came (names masked)",
)
def staff_roster(request: HttpRequest, session_id: DbId) -> list[RosterRowOut]:
    scope = staff_scope_of(request)
    session = selectors.staff_session(scope, session_id)
    return [
        RosterRowOut(
            enrollment_id=r.enrollment.pk,
            participant_masked=r.enrollment.participant_masked,
            resident_id=r.enrollment.resident_id,
            dependant=r.enrollment.dependant_id is not None,
            present=r.present,
            paid_fen=r.enrollment.paid_fen,
            price_fen=r.enrollment.price_fen,
        )
        for r in selectors.roster(scope, session)
    ]


class MarkIn(Schema):
    enrollment_id: DbId
    present: bool


class MarksIn(Schema):
    marks: list[MarkIn] = Field(..., min_length=1, max_length=MAX_CAPACITY)


@staff_router.post(
    "/sessions/{session_id}/attendance",
    response={200: list[AttendanceOut], 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Mark who came (and who did not), on the day of the session",
)
def staff_mark(request: HttpRequest, session_id: DbId, payload: MarksIn) -> list[AttendanceOut]:
    marked = services.attendance_mark(
        scope=staff_scope_of(request),
        staff=acting_user(request),
        session_id=session_id,
        marks=[services.Mark(m.enrollment_id, m.present) for m in payload.marks],
    )
    return [attendance_out(a) for a in marked]


@staff_router.post(
    "/sessions/{session_id}/cancel",
    response={200: SessionOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Cancel one session: its space is released, enrolled residents are told",
)
def staff_cancel_session(request: HttpRequest, session_id: DbId, payload: ReasonIn) -> SessionOut:
    scope = staff_scope_of(request)
    selectors.staff_session(scope, session_id)
    session = services.session_cancel(
        scope=scope, staff=acting_user(request), session_id=session_id, reason=payload.reason
    )
    return session_out(selectors.staff_session(scope, session.pk))


class PaymentIn(Schema):
    method: str = Field(..., min_length=1, max_length=20)
    amount_fen: int = Field(..., ge=1, le=MAX_PRICE_FEN)
    reference: str = Field("", max_length=100)


class PaymentOut(Schema):
    id: int
    enrollment_id: int
    kind: str
    amount_fen: int
    method: str
    reference: str
    created_at: dt.datetime


@staff_router.post(
    "/enrollments/{enrollment_id}/payments",
    response={201: PaymentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Record a fee paid (cash at the desk, or an external payment's reference)",
)
def staff_payment(request: HttpRequest, enrollment_id: DbId, payload: PaymentIn) -> Status[PaymentOut]:
    p = services.payment_record(
        scope=staff_scope_of(request),
        staff=acting_user(request),
        enrollment_id=enrollment_id,
        method=payload.method,
        amount_fen=payload.amount_fen,
        reference=payload.reference,
    )
    return Status(
        201,
        PaymentOut(
            id=p.pk,
            enrollment_id=p.enrollment_id,
            kind=p.kind,
            amount_fen=p.amount_fen,
            method=p.method,
            reference=p.reference,
            created_at=p.created_at,
        ),
    )


@staff_router.get(
    "/talents",
    response={200: list[TalentOut], 400: ErrorOut},
    summary="Talent applications in my communities (staff who see residents)",
)
def staff_talents(
    request: HttpRequest, status: Literal["pending", "approved", "rejected", "withdrawn"] | None = None
) -> list[TalentOut]:
    qs = selectors.staff_talents(staff_scope_of(request))
    if status:
        qs = qs.filter(status=status)
    return [talent_out(t, own=True) for t in qs[:500]]


class DecisionIn(Schema):
    approve: bool
    reason: str = Field("", max_length=200)


@staff_router.post(
    "/talents/{talent_id}/decision",
    response={200: TalentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Approve or refuse a talent application",
)
def staff_decide_talent(request: HttpRequest, talent_id: DbId, payload: DecisionIn) -> TalentOut:
    t = services.talent_decide(
        scope=staff_scope_of(request),
        staff=acting_user(request),
        talent_id=talent_id,
        approve=payload.approve,
        reason=payload.reason,
    )
    return talent_out(t, own=True)


class TotalsOut(Schema):
    center_id: int
    center: str
    programs: int
    seats_offered: int
    seats_taken: int
    fill_rate: float | None
    attendance_rate: float | None
    discount_fen: int
    charged_fen: int


@staff_router.get(
    "/programs-totals",
    response={200: list[TotalsOut], 400: ErrorOut},
    summary="Per center: courses run, seats, fill and attendance rates, discount given",
)
def staff_totals(
    request: HttpRequest,
    date_from: dt.date = FROM_REQUIRED,  # type: ignore[assignment]
    date_to: dt.date = TO_REQUIRED,  # type: ignore[assignment]
) -> list[TotalsOut]:
    check_day(date_from, "from")
    check_day(date_to, "to")
    if date_to < date_from:
        raise InvalidInput(code="invalid_range", field="to")
    if (date_to - date_from).days >= TOTALS_MAX_DAYS:
        raise InvalidInput(code="range_too_long", field="to", max_days=TOTALS_MAX_DAYS)
    rows = selectors.totals(staff_scope_of(request), date_from=date_from, date_to=date_to)
    return [
        TotalsOut(
            center_id=r.center.pk,
            center=r.center.name,
            programs=r.programs,
            seats_offered=r.seats_offered,
            seats_taken=r.seats_taken,
            fill_rate=r.fill_rate,
            attendance_rate=r.attendance_rate,
            discount_fen=r.discount_fen,
            charged_fen=r.charged_fen,
        )
        for r in rows
    ]
