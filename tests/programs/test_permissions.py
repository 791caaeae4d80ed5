"""Who may call which courses endpoint, for every role, across communities.

The world: sub-district 1 holds communities c1 and c2, sub-district 2 holds c3; each community's
center ``i`` has a classroom and three courses: ``open[i]`` (published, in three days; the
resident holds a seat in it, ``mine[i]``, and their child is offered a seat, ``offered[i]``),
``pending[i]`` (waiting for approval) and ``today[i]`` (held yesterday and again today; the
resident came yesterday, ``present[i]``, and may rate it). ``talents[i]`` is a pending talent
application of a neighbour in community ``i``. The resident ``resident`` lives in c1 and is an
approved talent there; ``other_resident`` lives in c3. The kiosk (``device``) stands in c1's
center; ``other_device``, a kiosk of c3's center (another sub-district), plays the kiosk's row and
two rows it has no business with.

Staff see (404 otherwise): district all; the street official c1 and c2; the community worker c1;
the other community's worker c3; the center staff c2 (their center's community); the partner
c3's center (their organisation works there) and no residents. Only desk staff (community
worker, center staff) act; the others who see an object get 403.

Every refusal runs inside ``unchanged()``: no row written, no row changed. A guard test fails
when the OpenAPI schema gains a courses operation this table does not cover.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from livingroom.booking.models import Booking
from livingroom.people.models import Dependant, PassUse, Resident, StaffRole
from livingroom.people.services import resident_pass_issue
from livingroom.places.models import Space
from livingroom.programs.models import (
    Attendance,
    Draw,
    Enrollment,
    Payment,
    Program,
    ProgramSession,
    Talent,
)
from tests import factories as f
from tests.booking.conftest import DeviceApi
from tests.conftest import Api, resident_api, staff_api
from tests.openapi import (
    OTHER_DEVICE,
    Matrix,
    Moved,
    Page,
    assert_table_covers,
    cells,
    console,
    mentioning,
    open_page,
    page_browser,
    page_key,
    page_row,
    param_cells,
    play_cell,
    play_pages,
    resident_page,
    seen,
)
from tests.programs.conftest import local, unchanged

STAFF = ("district", "street", "community", "other_community", "center", "partner")
RESIDENTS = ("resident", "other_resident")
ROLES = ("anonymous", *RESIDENTS, "device", *STAFF)
# A device of another center than c1's (tests/test_matrix_coverage.py wants it on every device
# operation): played on these rows only, to keep the table fast.
DEVICES = ("device", OTHER_DEVICE)
OTHER_DEVICE_ROWS = {
    ("POST", "/sessions/{session_id}/attendance"),
    ("POST", "/programs/{program_id}/enrollments"),
    ("POST", "/staff/sessions/{session_id}/attendance"),
}
SEEN = {
    "district": {0, 1, 2},
    "street": {0, 1},
    "community": {0},
    "other_community": {2},
    "center": {1},
    "partner": {2},
}
RESIDENTS_SEEN = {**SEEN, "partner": set()}
DESK = {"community": {0}, "other_community": {2}, "center": {1}}
TARGETS = (0, 1, 2, None)  # None: an id that does not exist
MISSING_PK = 987654


@dataclass
class Px:
    roles: dict
    residents: list[Resident]  # residents[0] is "resident" (c1), residents[2] is "other_resident" (c3)
    kid: Dependant
    rooms: list[Space]
    open: list[Program]
    pending: list[Program]
    today: list[Program]
    mine: list[Enrollment]
    offered: list[Enrollment]
    present: list[Enrollment]
    today_sessions: list[ProgramSession]
    open_sessions: list[ProgramSession]
    talents: list[Talent]
    device: DeviceApi
    other_device: DeviceApi  # a kiosk of c3's center

    def user(self, role: str):
        if role == "resident":
            return self.residents[0].user
        if role == "other_resident":
            return self.residents[2].user
        return self.roles[role]


def _program(center, proposer, title: str, status: str = "published", **extra) -> Program:
    now = timezone.now()
    values: dict[str, Any] = dict(
        center=center,
        provider="center",
        title=title,
        category="calligraphy",
        capacity=5,
        waitlist_size=5,
        market_price_fen=40000,
        price_fen=8000,
        enroll_opens_at=now - dt.timedelta(days=2),
        enroll_closes_at=now + dt.timedelta(days=2),
        fair_seconds=0,
        promotion="offer",
        status=status,
        proposed_by=proposer,
    )
    values.update(extra)
    return Program.objects.create(**values)


def _session(program: Program, room: Space, starts_at: dt.datetime, minutes: int = 90) -> ProgramSession:
    return ProgramSession.objects.create(
        program=program, space=room, starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=minutes)
    )


@pytest.fixture
def px(place, roles) -> Px:
    """Built with the ORM (not the services) to keep the table fast; the services' own writes are
    covered by the flow tests."""
    today = timezone.localdate()
    desk = roles["district"]
    residents = [f.ResidentFactory(home_community=c) for c in place["communities"]]
    me = residents[0]
    kid = Dependant.objects.create(
        resident=me, name="张小明", birth_date=dt.date(2018, 5, 1), relation="child"
    )
    Talent.objects.create(
        resident=me,
        community=me.home_community,
        kind="arts",
        skills="书法",
        bio="退休教师",
        status="approved",
        decided_at=timezone.now(),
    )
    now = timezone.now()
    rooms, opens, pendings, todays, mine, offered, present, today_sessions, open_sessions, talents = (
        [] for _ in range(10)
    )
    for i, center in enumerate(place["centers"]):
        room = f.SpaceFactory(center=center, name=f"书画室{i + 1}", kind=Space.Kind.ACTIVITY)
        rooms.append(room)
        o = _program(center, desk, f"书法{i + 1}", seats_taken=2)
        open_sessions.append(_session(o, room, local(today + dt.timedelta(days=3), 19)))
        mine.append(
            Enrollment.objects.create(
                program=o, resident=me, party=f"m{i}", status="confirmed", confirmed_at=now, price_fen=8000
            )
        )
        offered.append(
            Enrollment.objects.create(
                program=o,
                resident=me,
                dependant=kid,
                party=f"o{i}",
                status="offered",
                offer_expires_at=now + dt.timedelta(days=1),
                price_fen=8000,
            )
        )
        Draw.objects.create(
            program=o,
            seed="ab" * 16,
            entrants=[],
            order=[],
            outcome={"confirmed": [], "waitlisted": [], "unsuccessful": []},
        )
        opens.append(o)
        p = _program(center, desk, f"国画{i + 1}", status="pending")
        _session(p, room, local(today + dt.timedelta(days=4), 19))
        pendings.append(p)
        t = _program(center, desk, f"太极{i + 1}", seats_taken=1, enroll_opens_at=now - dt.timedelta(days=3))
        held = _session(t, room, local(today - dt.timedelta(days=1), 19))
        today_sessions.append(_session(t, room, local(today, 0, 30)))
        _session(t, room, local(today + dt.timedelta(days=7), 19))
        e = Enrollment.objects.create(
            program=t, resident=me, party=f"t{i}", status="confirmed", confirmed_at=now, price_fen=8000
        )
        Attendance.objects.create(session=held, enrollment=e, present=True, via="staff")
        present.append(e)
        todays.append(t)
        applicant = f.ResidentFactory(home_community=center.community)
        talents.append(
            Talent.objects.create(
                resident=applicant,
                community=center.community,
                kind="professional",
                skills="育婴",
                bio="育婴师",
            )
        )
    device, secret = f.device_for(place["centers"][0])
    other, other_secret = f.device_for(place["centers"][2])
    return Px(
        roles=roles,
        residents=residents,
        kid=kid,
        rooms=rooms,
        open=opens,
        pending=pendings,
        today=todays,
        mine=mine,
        offered=offered,
        present=present,
        today_sessions=today_sessions,
        open_sessions=open_sessions,
        talents=talents,
        device=DeviceApi(device.key_id, secret),
        other_device=DeviceApi(other.key_id, other_secret),
    )


# --- expected answers ---------------------------------------------------------------------------------

Expect = tuple[int, str | None]  # (status, code); code None for a success


def signed_in(role: str) -> Expect | None:
    """Refusals before any rule of the endpoint: who has no bearer token at all."""
    return (401, "not_authenticated") if role == "anonymous" or role in DEVICES else None


def public(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    return lambda role, t: (ok, None) if t is not None else (404, missing)


def resident_only(ok: int, missing: str, already: str | None = None) -> Callable[[str, int | None], Expect]:
    """Signing up: staff have no resident profile; the resident holds a seat already (``already``)."""

    def expect(role: str, t: int | None) -> Expect:
        if (early := signed_in(role)) is not None:
            return early
        if role in STAFF:
            return 409, "profile_incomplete"
        if t is None:
            return 404, missing
        if role == "resident" and already:
            return 409, already
        return ok, None

    return expect


def mine_only(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    """The resident's own objects: anyone else (staff included) finds nothing."""

    def expect(role: str, t: int | None) -> Expect:
        if (early := signed_in(role)) is not None:
            return early
        return (ok, None) if role == "resident" and t is not None else (404, missing)

    return expect


def any_signed_in(ok: int) -> Callable[[str, int | None], Expect]:
    return lambda role, t: signed_in(role) or (ok, None)


def staff_only(ok: int) -> Callable[[str, int | None], Expect]:
    return lambda role, t: (ok, None) if role in STAFF else (401, "not_authenticated")


def staff_read(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        return (ok, None) if t in SEEN[role] else (404, missing)

    return expect


def staff_act(
    ok: int, missing: str, seen: dict[str, set[int]] = SEEN, refusal: str = "desk_staff_only"
) -> Callable[[str, int | None], Expect]:
    """404 outside the scope, 403 where the role may only look, else ``ok``."""

    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        if t is None or t not in seen[role]:
            return 404, missing
        return (ok, None) if t in DESK.get(role, set()) else (403, refusal)

    return expect


def device_only(role: str, t: int | None) -> Expect:
    """A kiosk takes attendance at its own center only: c1's for ``device``, c3's for
    ``other_device``; another center's session is not found."""
    if role not in DEVICES:
        return 401, "signature_missing"
    here = 0 if role == "device" else 2
    return (200, None) if t == here else (404, "session_not_found")


def talent_proposes(role: str, t: int | None) -> Expect:
    """Only an approved talent, at their own community's center (c1)."""
    if (early := signed_in(role)) is not None:
        return early
    if t is None:
        return 404, "center_not_found"
    if role in STAFF:
        return 409, "profile_incomplete"
    if role == "other_resident":
        return 403, "not_an_approved_talent"
    return (201, None) if t == 0 else (404, "center_not_found")


def talent_applies(role: str, t: int | None) -> Expect:
    if (early := signed_in(role)) is not None:
        return early
    if role in STAFF:
        return 409, "profile_incomplete"
    return (409, "talent_application_open") if role == "resident" else (201, None)


# --- checks of what a success did ---------------------------------------------------------------------


def _pk(objs: list, t: int | None) -> int:
    return MISSING_PK if t is None else objs[t].pk


def _listed(m: Px, role: str, t: int | None, response) -> None:
    assert {p["id"] for p in response.json()} == {p.pk for p in (*m.open, *m.today)}


def _shown(m: Px, role: str, t: int, response) -> None:
    assert response.json()["id"] == m.open[t].pk and response.json()["title"] == f"书法{t + 1}"


def _enrolled(m: Px, role: str, t: int, response) -> None:
    [row] = response.json()
    e = Enrollment.objects.get(pk=row["id"])
    assert (e.resident, e.program, e.status) == (m.residents[2], m.open[t], "confirmed")


def _my_enrollments(m: Px, role: str, t: int | None, response) -> None:
    expected = {e.pk for e in (*m.mine, *m.offered, *m.present)} if role == "resident" else set()
    assert {e["id"] for e in response.json()} == expected


def _status(objs: str, status: str) -> Callable[[Px, str, int, Any], None]:
    def check(m: Px, role: str, t: int, response) -> None:
        obj = getattr(m, objs)[t]
        obj.refresh_from_db()
        assert obj.status == status and response.json()["status"] == status

    return check


def _rated(m: Px, role: str, t: int, response) -> None:
    e = m.present[t]
    e.refresh_from_db()
    assert e.rating == 4 and response.json()["rating"] == 4


def _talents_listed(m: Px, role: str, t: int | None, response) -> None:
    mine = Talent.objects.get(resident=m.residents[0])
    assert [x["id"] for x in response.json()] == ([mine.pk] if role == "resident" else [])


def _my_talent(m: Px, role: str, t: int | None, response) -> None:
    assert response.json()["status"] == "approved" and response.json()["name"] == m.residents[0].masked_name


def _applied(m: Px, role: str, t: int | None, response) -> None:
    assert Talent.objects.get(pk=response.json()["id"]).resident == m.residents[2]


def _withdrawn(m: Px, role: str, t: int | None, response) -> None:
    assert Talent.objects.get(resident=m.residents[0]).status == "withdrawn"


def _talent_program(m: Px, role: str, t: int, response) -> None:
    p = Program.objects.get(pk=response.json()["id"])
    assert (p.provider, p.talent.resident, p.status, p.center) == (
        "talent",
        m.residents[0],
        "pending",
        m.open[t].center,
    )


def _checked_in(m: Px, role: str, t: int, response) -> None:
    a = Attendance.objects.get(session=m.today_sessions[t], enrollment=m.present[t])
    assert (a.present, a.via) == (True, "device")
    kiosk = m.device if role == "device" else m.other_device
    assert PassUse.objects.get(purpose="programs.attendance").device.key_id == kiosk.key_id


def _staff_listed(m: Px, role: str, t: int | None, response) -> None:
    seen = {p.pk for i in SEEN[role] for p in (m.open[i], m.pending[i], m.today[i])}
    assert {p["id"] for p in response.json()} == seen


def _proposed(m: Px, role: str, t: int, response) -> None:
    p = Program.objects.get(pk=response.json()["id"])
    assert (p.center, p.provider, p.proposed_by, p.status) == (
        m.open[t].center,
        "center",
        m.user(role),
        "pending",
    )


def _staff_shown(m: Px, role: str, t: int, response) -> None:
    body = response.json()
    assert (body["id"], body["confirmed"], body["offered"]) == (m.open[t].pk, 1, 1)


def _approved(m: Px, role: str, t: int, response) -> None:
    p = m.pending[t]
    p.refresh_from_db()
    assert p.status == "published" and p.decided_by == m.user(role)
    [session] = p.sessions.all()
    assert Booking.objects.get(pk=session.booking_id).kind == "program"


def _rejected(m: Px, role: str, t: int, response) -> None:
    p = m.pending[t]
    p.refresh_from_db()
    assert (p.status, p.decision_reason) == ("rejected", "重复开课")


def _cancelled(m: Px, role: str, t: int, response) -> None:
    p = m.open[t]
    p.refresh_from_db()
    assert p.status == "cancelled"
    assert set(p.enrollments.values_list("status", flat=True)) == {"cancelled"}


def _limits(m: Px, role: str, t: int, response) -> None:
    assert Program.objects.get(pk=m.open[t].pk).capacity == 6


def _draw(m: Px, role: str, t: int, response) -> None:
    assert response.json()["order_matches"] and response.json()["outcome_matches"]


def _roster(m: Px, role: str, t: int, response) -> None:
    rows = [(r["enrollment_id"], r["present"]) for r in response.json()]
    assert rows == ([] if role == "partner" else [(m.present[t].pk, None)])


def _marked(m: Px, role: str, t: int, response) -> None:
    a = Attendance.objects.get(session=m.today_sessions[t], enrollment=m.present[t])
    assert (a.present, a.via, a.marked_by) == (False, "staff", m.user(role))


def _session_cancelled(m: Px, role: str, t: int, response) -> None:
    s = m.open_sessions[t]
    s.refresh_from_db()
    assert s.status == "cancelled" and s.cancel_reason == "停电"


def _paid(m: Px, role: str, t: int, response) -> None:
    payment = Payment.objects.get(pk=response.json()["id"])
    assert (payment.enrollment, payment.amount_fen, payment.recorded_by) == (m.mine[t], 1000, m.user(role))
    assert Enrollment.objects.get(pk=m.mine[t].pk).paid_fen == 1000


def _staff_talents(m: Px, role: str, t: int | None, response) -> None:
    expected = {m.talents[i].pk for i in RESIDENTS_SEEN[role]}
    if 0 in RESIDENTS_SEEN[role]:
        expected.add(Talent.objects.get(resident=m.residents[0]).pk)
    assert {x["id"] for x in response.json()} == expected


def _decided(m: Px, role: str, t: int, response) -> None:
    talent = m.talents[t]
    talent.refresh_from_db()
    assert (talent.status, talent.decided_by) == ("approved", m.user(role))


def _totals(m: Px, role: str, t: int | None, response) -> None:
    rows = {r["center_id"]: r for r in response.json()}
    assert set(rows) == {m.open[i].center_id for i in SEEN[role]}
    for row in rows.values():  # open (5 seats, 1 confirmed) and today (5 seats, 1 confirmed)
        assert (row["programs"], row["seats_offered"], row["seats_taken"]) == (2, 10, 2)


# --- the table ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    method: str
    template: str  # as in the OpenAPI schema, without /api/v1
    expect: Callable[[str, int | None], Expect]
    path: Callable[[Px, int | None], str]
    body: Callable[[Px, int | None], dict] | None = None
    query: Callable[[Px], dict] | None = None
    check: Callable[[Px, str, Any, Any], None] | None = None
    targeted: bool = True

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def _proposal(m: Px, t: int | None, days: int) -> dict:
    start = local(timezone.localdate() + dt.timedelta(days=days), 10)
    room = MISSING_PK if t is None else m.rooms[t].pk
    return {
        "center_id": MISSING_PK if t is None else m.open[t].center_id,
        "title": "剪纸",
        "category": "heritage",
        "capacity": 10,
        "market_price_fen": 10000,
        "price_fen": 2000,
        "enroll_opens_at": timezone.now().isoformat(),
        "fair_seconds": 0,
        "sessions": [
            {
                "space_id": room,
                "starts_at": start.isoformat(),
                "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            }
        ],
    }


def _range(m: Px) -> dict:
    today = timezone.localdate()
    return {"from": str(today - dt.timedelta(days=1)), "to": str(today + dt.timedelta(days=6))}


OPS: list[Op] = [
    Op(
        "GET",
        "/programs",
        lambda role, t: (200, None),
        lambda m, t: "/programs",
        check=_listed,
        targeted=False,
    ),
    Op(
        "GET",
        "/programs/{program_id}",
        public(200, "program_not_found"),
        lambda m, t: f"/programs/{_pk(m.open, t)}",
        check=_shown,
    ),
    Op(
        "POST",
        "/programs/{program_id}/enrollments",
        resident_only(201, "program_not_found", already="already_enrolled"),
        lambda m, t: f"/programs/{_pk(m.open, t)}/enrollments",
        check=_enrolled,
    ),
    Op(
        "GET",
        "/me/enrollments",
        any_signed_in(200),
        lambda m, t: "/me/enrollments",
        check=_my_enrollments,
        targeted=False,
    ),
    Op(
        "DELETE",
        "/me/enrollments/{enrollment_id}",
        mine_only(200, "enrollment_not_found"),
        lambda m, t: f"/me/enrollments/{_pk(m.mine, t)}",
        check=_status("mine", "cancelled"),
    ),
    Op(
        "POST",
        "/me/enrollments/{enrollment_id}/accept",
        mine_only(200, "enrollment_not_found"),
        lambda m, t: f"/me/enrollments/{_pk(m.offered, t)}/accept",
        check=_status("offered", "confirmed"),
    ),
    Op(
        "POST",
        "/me/enrollments/{enrollment_id}/rating",
        mine_only(200, "enrollment_not_found"),
        lambda m, t: f"/me/enrollments/{_pk(m.present, t)}/rating",
        body=lambda m, t: {"rating": 4},
        check=_rated,
    ),
    Op("GET", "/talents", any_signed_in(200), lambda m, t: "/talents", check=_talents_listed, targeted=False),
    Op(
        "GET",
        "/me/talent",
        lambda role, t: signed_in(role) or ((200, None) if role == "resident" else (404, "talent_not_found")),
        lambda m, t: "/me/talent",
        check=_my_talent,
        targeted=False,
    ),
    Op(
        "POST",
        "/me/talent",
        talent_applies,
        lambda m, t: "/me/talent",
        body=lambda m, t: {"kind": "arts", "skills": "剪纸", "bio": "非遗传承人"},
        check=_applied,
        targeted=False,
    ),
    Op(
        "DELETE",
        "/me/talent",
        lambda role, t: signed_in(role) or ((200, None) if role == "resident" else (404, "talent_not_found")),
        lambda m, t: "/me/talent",
        check=_withdrawn,
        targeted=False,
    ),
    Op(
        "POST",
        "/me/talent/programs",
        talent_proposes,
        lambda m, t: "/me/talent/programs",
        body=lambda m, t: _proposal(m, t, 5),
        check=_talent_program,
    ),
    Op(
        "POST",
        "/sessions/{session_id}/attendance",
        device_only,
        lambda m, t: f"/sessions/{_pk(m.today_sessions, t)}/attendance",
        body=lambda m, t: {"token": resident_pass_issue(user=m.residents[0].user).token},
        check=_checked_in,
    ),
    Op(
        "GET",
        "/staff/programs",
        staff_only(200),
        lambda m, t: "/staff/programs",
        check=_staff_listed,
        targeted=False,
    ),
    Op(
        "POST",
        "/staff/programs",
        staff_act(201, "center_not_found", refusal="not_a_provider_here"),
        lambda m, t: "/staff/programs",
        body=lambda m, t: _proposal(m, t, 6),
        check=_proposed,
    ),
    Op(
        "GET",
        "/staff/programs/{program_id}",
        staff_read(200, "program_not_found"),
        lambda m, t: f"/staff/programs/{_pk(m.open, t)}",
        check=_staff_shown,
    ),
    Op(
        "POST",
        "/staff/programs/{program_id}/approve",
        staff_act(200, "program_not_found"),
        lambda m, t: f"/staff/programs/{_pk(m.pending, t)}/approve",
        check=_approved,
    ),
    Op(
        "POST",
        "/staff/programs/{program_id}/reject",
        staff_act(200, "program_not_found"),
        lambda m, t: f"/staff/programs/{_pk(m.pending, t)}/reject",
        body=lambda m, t: {"reason": "重复开课"},
        check=_rejected,
    ),
    Op(
        "POST",
        "/staff/programs/{program_id}/cancel",
        staff_act(200, "program_not_found"),
        lambda m, t: f"/staff/programs/{_pk(m.open, t)}/cancel",
        body=lambda m, t: {"reason": "老师生病"},
        check=_cancelled,
    ),
    Op(
        "PATCH",
        "/staff/programs/{program_id}",
        staff_act(200, "program_not_found"),
        lambda m, t: f"/staff/programs/{_pk(m.open, t)}",
        body=lambda m, t: {"capacity": 6},
        check=_limits,
    ),
    Op(
        "GET",
        "/staff/programs/{program_id}/draw",
        staff_read(200, "program_not_found"),
        lambda m, t: f"/staff/programs/{_pk(m.open, t)}/draw",
        check=_draw,
    ),
    Op(
        "GET",
        "/staff/sessions/{session_id}/roster",
        staff_read(200, "session_not_found"),
        lambda m, t: f"/staff/sessions/{_pk(m.today_sessions, t)}/roster",
        check=_roster,
    ),
    Op(
        "POST",
        "/staff/sessions/{session_id}/attendance",
        staff_act(200, "session_not_found"),
        lambda m, t: f"/staff/sessions/{_pk(m.today_sessions, t)}/attendance",
        body=lambda m, t: {"marks": [{"enrollment_id": _pk(m.present, t), "present": False}]},
        check=_marked,
    ),
    Op(
        "POST",
        "/staff/sessions/{session_id}/cancel",
        staff_act(200, "session_not_found"),
        lambda m, t: f"/staff/sessions/{_pk(m.open_sessions, t)}/cancel",
        body=lambda m, t: {"reason": "停电"},
        check=_session_cancelled,
    ),
    Op(
        "POST",
        "/staff/enrollments/{enrollment_id}/payments",
        staff_act(201, "enrollment_not_found", seen=RESIDENTS_SEEN),
        lambda m, t: f"/staff/enrollments/{_pk(m.mine, t)}/payments",
        body=lambda m, t: {"method": "cash", "amount_fen": 1000},
        check=_paid,
    ),
    Op(
        "GET",
        "/staff/talents",
        staff_only(200),
        lambda m, t: "/staff/talents",
        check=_staff_talents,
        targeted=False,
    ),
    Op(
        "POST",
        "/staff/talents/{talent_id}/decision",
        staff_act(200, "talent_not_found", seen=RESIDENTS_SEEN),
        lambda m, t: f"/staff/talents/{_pk(m.talents, t)}/decision",
        body=lambda m, t: {"approve": True},
        check=_decided,
    ),
    Op(
        "GET",
        "/staff/programs-totals",
        staff_only(200),
        lambda m, t: "/staff/programs-totals",
        query=_range,
        check=_totals,
        targeted=False,
    ),
]

CASES = [pytest.param(role, op, id=f"{role}:{op}") for op in OPS for role in ROLES] + [
    pytest.param(OTHER_DEVICE, op, id=f"{OTHER_DEVICE}:{op}")
    for op in OPS
    if (op.method, op.template) in OTHER_DEVICE_ROWS
]


def client_for(role: str, m: Px) -> Api:
    if role == "anonymous":
        return Api()
    if role == "device":
        return m.device
    if role == OTHER_DEVICE:
        return m.other_device
    return resident_api(m.user(role)) if role in RESIDENTS else staff_api(m.user(role))


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "op"), CASES)
def test_programs_api_permissions(px, role, op):
    client = client_for(role, px)
    targets = TARGETS if op.targeted else (0,)
    if op.expect(role, 0)[0] == 401:
        targets = (0,)  # refused before any object is looked up: one target says it all
    for target in targets:
        status, code = op.expect(role, target)
        path = op.path(px, target)
        body = op.body(px, target) if op.body else None

        def call(path=path, body=body):
            if op.method == "GET":
                return client.get(path, **(op.query(px) if op.query else {}))
            return client.send(op.method, path, body)

        play_cell(
            call,
            status,
            code,
            where=target,
            guard=lambda: unchanged(ignore=("RequestNonce",) if role in DEVICES else ()),
            check=(lambda response, t=target: op.check(px, role, t, response)) if op.check else None,
        )


@pytest.mark.django_db
def test_the_table_covers_every_programs_operation(api):
    assert_table_covers(api, mentioning("programs"), [(op.method, op.template) for op in OPS], "programs")
    assert OTHER_DEVICE_ROWS - {(op.method, op.template) for op in OPS} == set(), (
        "other_device rows that are gone"
    )


# --- beyond the table ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_partner_staff_propose_in_their_organisations_name_only(px, roles):
    partner = staff_api(roles["partner"])
    org = StaffRole.objects.get(user=roles["partner"]).organization
    body = {**_proposal(px, 2, 6), "organization_id": org.pk}
    response = partner.post("/staff/programs", body)
    assert response.status_code == 201, response.content
    made = Program.objects.get(pk=response.json()["id"])
    assert (made.provider, made.organization, made.center) == ("organization", org, px.open[2].center)
    assert response.json()["provider_name"] == org.name
    # Another organisation's name, or one that does not work at this center: not found.
    for other in (f.OrganizationFactory(), org):
        center = 2 if other != org else 0
        with unchanged():
            response = partner.post(
                "/staff/programs", {**_proposal(px, center, 7), "organization_id": other.pk}
            )
        assert response.status_code == 404, response.content
        assert response.json()["code"] == ("organization_not_found" if center == 2 else "center_not_found")
    # Partners cannot approve what they proposed.
    with unchanged():
        response = partner.post(f"/staff/programs/{made.pk}/approve")
    assert response.status_code == 403 and response.json()["code"] == "desk_staff_only"


@pytest.mark.django_db
def test_staff_filters_cannot_widen_the_scope(px, roles):
    worker = staff_api(roles["community"])
    for center in (px.open[1].center_id, px.open[2].center_id):
        assert worker.get("/staff/programs", center=center).json() == []
    listed = worker.get("/staff/programs", center=px.open[0].center_id, status="pending").json()
    assert [p["id"] for p in listed] == [px.pending[0].pk]


@pytest.mark.django_db
def test_a_resident_token_never_reaches_the_staff_api_even_for_staff(px, roles):
    from livingroom.people.models import ApiToken
    from livingroom.people.services import api_token_issue

    raw, _ = api_token_issue(user=roles["community"], kind=ApiToken.Kind.RESIDENT)
    with unchanged():
        response = Api(raw).post(f"/staff/programs/{px.pending[0].pk}/approve")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_the_kiosk_needs_a_valid_signature(px):
    path = f"/sessions/{px.today_sessions[0].pk}/attendance"
    body = {"token": resident_pass_issue(user=px.residents[0].user).token}
    wrong = DeviceApi(px.device.key_id, "not-the-secret")
    unknown = DeviceApi("dk_unknown", px.device.secret)
    with unchanged():
        assert wrong.post(path, body).json()["code"] == "signature_invalid"
        assert unknown.post(path, body).json()["code"] == "device_unknown"
    assert not Attendance.objects.filter(session=px.today_sessions[0]).exists()


@pytest.mark.django_db
def test_partner_staff_see_no_residents_of_a_course(px, roles):
    partner = staff_api(roles["partner"])
    assert partner.get(f"/staff/sessions/{px.today_sessions[2].pk}/roster").json() == []
    assert partner.get("/staff/talents").json() == []
    # They still see the course's figures, which name nobody.
    body = partner.get(f"/staff/programs/{px.open[2].pk}").json()
    assert (body["confirmed"], body["offered"]) == (1, 1)


# --- pages ---------------------------------------------------------------------------------------------

PAGE_ROLES = ("anonymous", *RESIDENTS, *STAFF)


PAGES: list[Page] = [
    page_row(
        "GET",
        "programs/propose/new/",
        resident_page(200, staff=200),
        lambda m, t: "/programs/propose/new/",
    ),
    page_row("GET", "programs/", open_page(200), lambda m, t: "/programs/"),
    page_row(
        "GET", "programs/<id:program_id>/", open_page(200), lambda m, t: f"/programs/{m.open[t].pk}/", True
    ),
    page_row(
        "POST",
        "programs/<id:program_id>/enrol/",
        resident_page(
            Moved("/programs/", refused=True),
            other=Moved("/programs/"),
            staff=Moved("/programs/", refused=True),
        ),
        lambda m, t: f"/programs/{m.open[t].pk}/enrol/",
        True,
    ),
    page_row("GET", "me/programs/", resident_page(200), lambda m, t: "/me/programs/"),
    page_row(
        "POST",
        "me/programs/<id:enrollment_id>/cancel/",
        resident_page(Moved("/me/programs/"), other=404, staff=404),
        lambda m, t: f"/me/programs/{m.mine[t].pk}/cancel/",
        True,
    ),
    page_row(
        "POST",
        "me/programs/<id:enrollment_id>/accept/",
        resident_page(Moved("/me/programs/"), other=404, staff=404),
        lambda m, t: f"/me/programs/{m.offered[t].pk}/accept/",
        True,
    ),
    page_row(
        "POST",
        "me/programs/<id:enrollment_id>/rate/",
        resident_page(Moved("/me/programs/"), other=404, staff=404),
        lambda m, t: f"/me/programs/{m.present[t].pk}/rate/",
        True,
        body=lambda m, t: {"rating": "4"},
    ),
    page_row("GET", "talents/", resident_page(200), lambda m, t: "/talents/"),
    page_row("GET", "me/talent/", resident_page(200), lambda m, t: "/me/talent/"),
    page_row(
        "POST",
        "me/talent/withdraw/",
        resident_page(
            Moved("/me/talent/"),
            other=Moved("/me/talent/", refused=True),
            staff=Moved("/me/talent/", refused=True),
        ),
        lambda m, t: "/me/talent/withdraw/",
    ),
    page_row("GET", "console/programs/", console(), lambda m, t: "/console/programs/"),
    page_row("GET", "console/programs/new/", console(), lambda m, t: "/console/programs/new/"),
    page_row(
        "GET",
        "console/programs/<id:program_id>/",
        console(seen(SEEN)),
        lambda m, t: f"/console/programs/{m.open[t].pk}/",
        True,
    ),
    page_row(
        "GET",
        "console/programs/sessions/<id:session_id>/",
        console(seen(SEEN)),
        lambda m, t: f"/console/programs/sessions/{m.today_sessions[t].pk}/",
        True,
    ),
    page_row("GET", "console/programs/talents/", console(), lambda m, t: "/console/programs/talents/"),
    page_row("GET", "console/programs/totals/", console(), lambda m, t: "/console/programs/totals/"),
]


@pytest.mark.django_db
def test_programs_pages_for_every_role(px):
    play_pages(px, PAGES, PAGE_ROLES, lambda role: page_browser(role, px.user, RESIDENTS), guard=unchanged)


MATRIX = Matrix(
    api_roles=ROLES,
    api_cells=param_cells(CASES, lambda op: (op.method, op.template)),
    page_roles=PAGE_ROLES,
    page_cells=cells(PAGES, PAGE_ROLES, page_key),
    devices_elsewhere=(OTHER_DEVICE,),
)
