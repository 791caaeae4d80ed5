"""Reads of courses, already limited to what the caller may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, F, Max, Min, Q, QuerySet, Sum, When
from django.utils import timezone

from livingroom.booking.calendar import day_bounds
from livingroom.core.scopes import StaffScope
from livingroom.people.models import Resident, User
from livingroom.places.models import Center, Organization, Space
from livingroom.programs import errors
from livingroom.programs.models import (
    Attendance,
    Draw,
    Enrollment,
    Payment,
    Program,
    ProgramSession,
    Talent,
)

LIST_LIMIT = 200


def _with_dates(qs: QuerySet[Program]) -> QuerySet[Program]:
    live = Q(sessions__status=ProgramSession.Status.SCHEDULED)
    return qs.annotate(
        first_starts_at=Min("sessions__starts_at", filter=live),
        last_ends_at=Max("sessions__ends_at", filter=live),
        session_count=Count("sessions", filter=live, distinct=True),
    )


@dataclass(frozen=True)
class ProgramFilters:
    center_id: int | None = None
    category: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    max_price_fen: int | None = None
    free_seats: bool = False
    q: str = ""


def public_programs(filters: ProgramFilters, *, now: dt.datetime | None = None) -> QuerySet[Program]:
    """Published courses that still have a session to come, soonest first."""
    now = now or timezone.now()
    qs = _with_dates(Program.objects.select_related("center", "organization", "talent__resident")).filter(
        status=Program.Status.PUBLISHED
    )
    qs = qs.filter(last_ends_at__gt=now)  # type: ignore[misc]  # annotations
    if filters.center_id is not None:
        qs = qs.filter(center_id=filters.center_id)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.date_from is not None:
        qs = qs.filter(last_ends_at__gte=day_bounds(filters.date_from)[0])  # type: ignore[misc]  # annotations
    if filters.date_to is not None:
        qs = qs.filter(first_starts_at__lt=day_bounds(filters.date_to)[1])  # type: ignore[misc]  # annotations
    if filters.max_price_fen is not None:
        qs = qs.filter(price_fen__lte=filters.max_price_fen)
    if filters.free_seats:
        qs = qs.filter(seats_taken__lt=F("capacity"))
    if filters.q:
        qs = qs.filter(Q(title__icontains=filters.q) | Q(description__icontains=filters.q))
    return qs.order_by("first_starts_at", "id")


def public_program(program_id: int) -> Program:
    """A published course (or a cancelled one, so that those signed up see what happened)."""
    program = (
        _with_dates(Program.objects.select_related("center", "organization", "talent__resident"))
        .filter(pk=program_id, status__in=(Program.Status.PUBLISHED, Program.Status.CANCELLED))
        .first()
    )
    if program is None:
        raise errors.ProgramNotFound()
    return program


def proposed_program(user: User, program_id: int) -> Program:
    """A course this user proposed (a talent reads their own proposals in any state)."""
    program = (
        _with_dates(Program.objects.select_related("center", "organization", "talent__resident"))
        .filter(pk=program_id, proposed_by=user)
        .first()
    )
    if program is None:
        raise errors.ProgramNotFound()
    return program


def proposed_programs(user: User) -> QuerySet[Program]:
    return (
        _with_dates(Program.objects.select_related("center")).filter(proposed_by=user).order_by("-created_at")
    )


def sessions_of(program: Program) -> QuerySet[ProgramSession]:
    return program.sessions.select_related("space").order_by("starts_at")


def enrollments_of(resident: Resident) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(resident=resident)
        .select_related("program__center", "dependant")
        .annotate(
            first_starts_at=Min(
                "program__sessions__starts_at",
                filter=Q(program__sessions__status=ProgramSession.Status.SCHEDULED),
            ),
            last_ends_at=Max(
                "program__sessions__ends_at",
                filter=Q(program__sessions__status=ProgramSession.Status.SCHEDULED),
            ),
            attended=Count("attendances", filter=Q(attendances__present=True), distinct=True),
        )
        .order_by("-requested_at", "id")
    )


def my_enrollments_in(resident: Resident, program: Program) -> list[Enrollment]:
    return list(
        Enrollment.objects.filter(resident=resident, program=program)
        .select_related("dependant")
        .order_by("-requested_at", "id")
    )


def community_talents(community_id: int) -> QuerySet[Talent]:
    return (
        Talent.objects.filter(community_id=community_id, status=Talent.Status.APPROVED)
        .select_related("resident", "community")
        .order_by("-decided_at")
    )


def my_talent(resident: Resident) -> Talent | None:
    return Talent.objects.filter(resident=resident).order_by("-applied_at").first()


# --- staff ---------------------------------------------------------------------------------------


def staff_programs(scope: StaffScope) -> QuerySet[Program]:
    return _with_dates(
        scope.filter(
            Program.objects.select_related("center__community", "organization", "talent__resident"),
            community="center__community",
            center="center",
        )
    )


def staff_program(scope: StaffScope, program_id: int) -> Program:
    program = staff_programs(scope).filter(pk=program_id).first()
    if program is None:
        raise errors.ProgramNotFound()
    return program


def staff_session(scope: StaffScope, session_id: int) -> ProgramSession:
    session = (
        ProgramSession.objects.select_related("program__center", "space")
        .filter(pk=session_id, program__in=staff_programs(scope).values("pk"))
        .first()
    )
    if session is None:
        raise errors.SessionNotFound()
    return session


@dataclass(frozen=True)
class RosterRow:
    enrollment: Enrollment
    present: bool | None  # None: not marked


def roster(scope: StaffScope, session: ProgramSession) -> list[RosterRow]:
    """Who is enrolled for a session and whether they came. Only staff who see residents."""
    if not scope.can_see_residents:
        return []
    marks = dict(Attendance.objects.filter(session=session).values_list("enrollment_id", "present"))
    rows = (
        Enrollment.objects.filter(program_id=session.program_id, status=Enrollment.Status.CONFIRMED)
        .select_related("resident__user", "dependant")
        .order_by("confirmed_at", "id")
    )
    return [RosterRow(enrollment=e, present=marks.get(e.pk)) for e in rows]


def waiting_list(scope: StaffScope, program: Program) -> QuerySet[Enrollment]:
    if not scope.can_see_residents:
        return Enrollment.objects.none()
    return (
        Enrollment.objects.filter(program=program, status=Enrollment.Status.WAITLISTED)
        .select_related("resident", "dependant")
        .order_by("position")
    )


def staff_enrollments(scope: StaffScope, program: Program) -> QuerySet[Enrollment]:
    if not scope.can_see_residents:
        return Enrollment.objects.none()
    return (
        Enrollment.objects.filter(program=program)
        .select_related("resident__user", "dependant")
        .order_by("requested_at", "id")
    )


@dataclass(frozen=True)
class ProgramFigures:
    confirmed: int
    offered: int
    waitlisted: int
    requested: int
    sessions_held: int
    attendance_marks: int
    present: int
    attendance_rate: float | None
    no_shows: int
    ratings: int
    rating_average: float | None
    discount_fen: int
    paid_fen: int


def program_figures(program: Program, *, now: dt.datetime | None = None) -> ProgramFigures:
    now = now or timezone.now()
    counts = dict(
        Enrollment.objects.filter(program=program)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    held = program.sessions.filter(status=ProgramSession.Status.SCHEDULED, starts_at__lte=now)
    held_ids = list(held.values_list("pk", flat=True))
    confirmed = counts.get(Enrollment.Status.CONFIRMED, 0)
    marks = Attendance.objects.filter(session_id__in=held_ids, enrollment__status=Enrollment.Status.CONFIRMED)
    present = marks.filter(present=True).count()
    expected = confirmed * len(held_ids)
    ratings = Enrollment.objects.filter(program=program, rating__isnull=False).aggregate(
        n=Count("id"), total=Sum("rating")
    )
    money = Enrollment.objects.filter(program=program, status__in=Enrollment.HOLDS_SEAT).aggregate(
        paid=Sum("paid_fen")
    )
    return ProgramFigures(
        confirmed=confirmed,
        offered=counts.get(Enrollment.Status.OFFERED, 0),
        waitlisted=counts.get(Enrollment.Status.WAITLISTED, 0),
        requested=counts.get(Enrollment.Status.REQUESTED, 0),
        sessions_held=len(held_ids),
        attendance_marks=marks.count(),
        present=present,
        attendance_rate=present / expected if expected else None,
        no_shows=max(expected - present, 0),
        ratings=ratings["n"] or 0,
        rating_average=(ratings["total"] / ratings["n"]) if ratings["n"] else None,
        discount_fen=confirmed * program.discount_fen,
        paid_fen=money["paid"] or 0,
    )


def no_show_list(
    scope: StaffScope, program: Program, *, now: dt.datetime | None = None
) -> list[tuple[Enrollment, int]]:
    """Enrolled people with sessions held that they did not attend, most missed first."""
    if not scope.can_see_residents:
        return []
    now = now or timezone.now()
    held = list(
        program.sessions.filter(status=ProgramSession.Status.SCHEDULED, starts_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    if not held:
        return []
    rows = (
        Enrollment.objects.filter(program=program, status=Enrollment.Status.CONFIRMED)
        .select_related("resident", "dependant")
        .annotate(
            came=Count("attendances", filter=Q(attendances__present=True, attendances__session_id__in=held))
        )
    )
    out = [(e, len(held) - e.came) for e in rows if e.came < len(held)]  # type: ignore[attr-defined]
    return sorted(out, key=lambda row: (-row[1], row[0].pk))


def program_draw(program: Program) -> Draw | None:
    return Draw.objects.filter(program=program).first()


def staff_talents(scope: StaffScope) -> QuerySet[Talent]:
    return scope.filter(
        Talent.objects.select_related("resident", "community"), community="community", residents=True
    ).order_by(
        Case(When(status=Talent.Status.PENDING, then=0), default=1), "status", "-applied_at"
    )  # waiting for vetting first


# --- totals for the district and sub-districts --------------------------------------------------


@dataclass(frozen=True)
class CenterTotals:
    center: Center
    programs: int
    seats_offered: int
    seats_taken: int
    fill_rate: float | None
    attendance_rate: float | None
    discount_fen: int
    charged_fen: int
    present: int  # attendance marks "present" in sessions held
    expected: int  # confirmed enrolments × sessions held


def totals(
    scope: StaffScope, *, date_from: dt.date, date_to: dt.date, now: dt.datetime | None = None
) -> list[CenterTotals]:
    """Per center: courses run (with a session in the range), seats offered and taken, fill rate,
    attendance rate over sessions held, and the discount given (market minus charged, per seat)."""
    now = now or timezone.now()
    start, _ = day_bounds(date_from)
    _, end = day_bounds(date_to)
    programs = list(
        staff_programs(scope)
        .filter(
            status=Program.Status.PUBLISHED,
            sessions__status=ProgramSession.Status.SCHEDULED,
            sessions__starts_at__gte=start,
            sessions__starts_at__lt=end,
        )
        .distinct()
    )
    ids = [p.pk for p in programs]
    confirmed = dict(
        Enrollment.objects.filter(program_id__in=ids, status=Enrollment.Status.CONFIRMED)
        .values_list("program_id")
        .annotate(n=Count("id"))
        .values_list("program_id", "n")
    )
    held = dict(
        ProgramSession.objects.filter(
            program_id__in=ids,
            status=ProgramSession.Status.SCHEDULED,
            starts_at__gte=start,
            starts_at__lt=min(end, now),
        )
        .values_list("program_id")
        .annotate(n=Count("id"))
        .values_list("program_id", "n")
    )
    present = dict(
        Attendance.objects.filter(
            session__program_id__in=ids,
            present=True,
            enrollment__status=Enrollment.Status.CONFIRMED,
            session__status=ProgramSession.Status.SCHEDULED,
            session__starts_at__gte=start,
            session__starts_at__lt=min(end, now),
        )
        .values_list("session__program_id")
        .annotate(n=Count("id"))
        .values_list("session__program_id", "n")
    )
    by_center: dict[int, dict[str, int]] = {}
    centers: dict[int, Center] = {}
    for p in programs:
        row = by_center.setdefault(
            p.center_id,
            {
                "programs": 0,
                "offered": 0,
                "taken": 0,
                "expected": 0,
                "present": 0,
                "discount": 0,
                "charged": 0,
            },
        )
        centers[p.center_id] = p.center
        n = confirmed.get(p.pk, 0)
        row["programs"] += 1
        row["offered"] += p.capacity
        row["taken"] += n
        row["expected"] += n * held.get(p.pk, 0)
        row["present"] += present.get(p.pk, 0)
        row["discount"] += n * p.discount_fen
        row["charged"] += n * p.price_fen
    out = [
        CenterTotals(
            center=centers[cid],
            programs=r["programs"],
            seats_offered=r["offered"],
            seats_taken=r["taken"],
            fill_rate=r["taken"] / r["offered"] if r["offered"] else None,
            attendance_rate=r["present"] / r["expected"] if r["expected"] else None,
            discount_fen=r["discount"],
            charged_fen=r["charged"],
            present=r["present"],
            expected=r["expected"],
        )
        for cid, r in by_center.items()
    ]
    return sorted(out, key=lambda t: (t.center.community.street_id, t.center.name))


# --- resident pages ------------------------------------------------------------------------------


def enrollment_of(user: User, enrollment_id: int) -> Enrollment:
    """One of the caller's own enrolments; someone else's is not found."""
    enrollment = (
        Enrollment.objects.select_related("program", "dependant")
        .filter(pk=enrollment_id, resident__user=user)
        .first()
    )
    if enrollment is None:
        raise errors.EnrollmentNotFound()
    return enrollment


def centers_with_programs(*, now: dt.datetime | None = None) -> QuerySet[Center]:
    """Centers with a published course still to come: the choices of the course list's filter."""
    now = now or timezone.now()
    upcoming = Program.objects.filter(
        status=Program.Status.PUBLISHED,
        sessions__status=ProgramSession.Status.SCHEDULED,
        sessions__ends_at__gt=now,
    )
    return (
        Center.objects.filter(pk__in=upcoming.values("center_id"))
        .select_related("community__street")
        .order_by("community__street__code", "community__code", "name")
    )


# --- the staff console (pages under /console/programs/) ------------------------------------------


def proposal_centers(scope: StaffScope) -> QuerySet[Center]:
    """Centers where this member of staff may propose a course: the desk's own, and (partner
    staff) the centers their organisation works in."""
    return (
        Center.objects.select_related("community")
        .filter(Q(community_id__in=scope.desk_community_ids) | Q(pk__in=scope.partner_center_ids))
        .order_by("community__code", "name")
    )


def proposal_organizations(scope: StaffScope, center_ids: list[int]) -> QuerySet[Organization]:
    """Organisations a course may be proposed for: desk staff any organisation working at their
    centers, partner staff their own."""
    desk_centers = Center.objects.filter(pk__in=center_ids, community_id__in=scope.desk_community_ids)
    return (
        Organization.objects.filter(
            Q(centers__in=desk_centers) | Q(pk__in=scope.organization_ids, centers__in=center_ids)
        )
        .distinct()
        .order_by("name")
    )


def session_spaces(center_ids: list[int], *, on: dt.date | None = None) -> list[Space]:
    """Spaces a course can meet in: not offices, in use today."""
    day = on or timezone.localdate()
    qs = (
        Space.objects.select_related("center")
        .filter(center_id__in=center_ids, is_office=False)
        .order_by("center__community__code", "floor", "name")
    )
    return [s for s in qs if s.in_use_on(day)]


def session_attendance(program: Program) -> dict[int, tuple[int, int]]:
    """Per session of a program: (present, marked) among confirmed enrolments."""
    rows = (
        Attendance.objects.filter(session__program=program, enrollment__status=Enrollment.Status.CONFIRMED)
        .values_list("session_id")
        .annotate(present=Count("id", filter=Q(present=True)), marked=Count("id"))
        .values_list("session_id", "present", "marked")
    )
    return {sid: (present, marked) for sid, present, marked in rows}


def staff_sessions_on(scope: StaffScope, day: dt.date) -> QuerySet[ProgramSession]:
    """Sessions of published courses in scope on one day, earliest first."""
    start, end = day_bounds(day)
    return (
        ProgramSession.objects.select_related("program__center", "space")
        .filter(
            program__in=staff_programs(scope).filter(status=Program.Status.PUBLISHED).values("pk"),
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .order_by("starts_at", "id")
    )


def program_payments(scope: StaffScope, program: Program) -> QuerySet[Payment]:
    """The payment ledger of a program (staff who see residents)."""
    if not scope.can_see_residents:
        return Payment.objects.none()
    return (
        Payment.objects.filter(enrollment__program=program)
        .select_related("enrollment__resident", "enrollment__dependant", "recorded_by")
        .order_by("-created_at", "-id")
    )


def program_ratings(program: Program) -> QuerySet[Enrollment]:
    """The ratings and comments given to a program, newest first."""
    return (
        Enrollment.objects.filter(program=program, rating__isnull=False)
        .select_related("resident", "dependant")
        .order_by("-rated_at", "-id")
    )
