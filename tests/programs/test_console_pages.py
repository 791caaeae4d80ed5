"""The courses console, through Django's test client: every page renders for the desk, officials
read without acting, another community's worker finds nothing, partner staff see counts and never
names; the proposal form (staff and talents) and every action change exactly what they say, and
a refusal re-renders the form with the service's message and changes nothing. Excel exports open
with openpyxl and hold masked names only.

Pages are read in English (the language cookie), so the checks do not depend on translations.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from livingroom.people.models import StaffRole
from livingroom.programs import services
from livingroom.programs.models import Attendance, Enrollment, Payment, Program, ProgramSession, Talent
from tests.conftest import console_client
from tests.programs.conftest import draft, enrol, in_days, local, publish, today_program, unchanged

pytestmark = pytest.mark.django_db

BASE = "/console/programs/"
NAMES = ["李晓梅", "王建国", "陈美玲", "赵志强"]
MASKED = ["李**", "王**", "陈**", "赵**"]


_clients: dict[int, Client] = {}


@pytest.fixture(autouse=True)
def _fresh_clients():
    _clients.clear()
    yield
    _clients.clear()


def console(user) -> Client:
    """One signed-in client per member of staff and test (a TOTP code is accepted once)."""
    if user.pk not in _clients:
        client = console_client(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        _clients[user.pk] = client
    return _clients[user.pk]


def text(response) -> str:
    """The page's visible text, whitespace collapsed (tags dropped)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


def cells(rows: list[tuple]) -> str:
    return " ".join(str(c) for row in rows for c in row if c is not None)


@pytest.fixture
def named(course_world):
    """The four residents of 固戍 get distinct names, so a page can be searched for them."""
    for resident, name in zip(course_world["residents"], NAMES, strict=True):
        resident.real_name = name
        resident.save(update_fields=["real_name"])
    return course_world


@pytest.fixture
def busy(named):
    """A published course (2 seats, 3 waiting places) with two enrolled and two waiting, and a
    proposal waiting for approval."""
    course = publish(named, title="书法入门")
    for resident in named["residents"]:
        enrol(resident, course)
    pending = services.program_propose(
        actor=named["desk"],
        scope=named["scope"],
        draft=draft(
            named,
            title="剪纸工作坊",
            sessions=services.weekly_sessions(
                space_id=named["hall"].pk, first_starts_at=in_days(4), minutes=90, weeks=2
            ),
        ),
    )
    return {**named, "course": course, "pending": pending}


def _partner(world, roles):
    """The partner organisation of ``roles`` also works in the course's center."""
    org = StaffRole.objects.get(user=roles["partner"]).organization
    org.centers.add(world["center"])
    return roles["partner"]


# --- pages and scopes -----------------------------------------------------------------------------


def test_every_page_renders_for_the_desk(busy):
    course, pending = busy["course"], busy["pending"]
    session = course.sessions.first()
    desk = console(busy["desk"])
    for path in [
        BASE,
        f"{BASE}?status=pending",
        f"{BASE}?status=nonsense",
        f"{BASE}?center={busy['center'].pk}",
        f"{BASE}new/",
        f"{BASE}{course.pk}/",
        f"{BASE}{pending.pk}/",
        f"{BASE}sessions/{session.pk}/",
        f"{BASE}talents/",
        f"{BASE}totals/",
        f"{BASE}totals/?from=2026-01-01&to=2026-12-31",
    ]:
        response = desk.get(path)
        assert response.status_code == 200, path
    listing = desk.get(BASE)
    assert [r["p"].pk for r in listing.context["rows"]] == [pending.pk, course.pk]  # waiting first
    assert {t["key"]: t["count"] for t in listing.context["tabs"]} == {
        "": 2,
        "pending": 1,
        "published": 1,
        "rejected": 0,
        "cancelled": 0,
    }
    page = text(listing)
    assert "书法入门" in page and "2 / 2" in page and "2 / 3" in page and "¥80.00 / ¥400.00" in page
    only_pending = desk.get(f"{BASE}?status=pending")
    assert [r["p"].pk for r in only_pending.context["rows"]] == [pending.pk]
    detail = text(desk.get(f"{BASE}{course.pk}/"))
    assert "Approve and publish" not in detail and "Cancel the course" in detail
    assert "Approve and publish" in text(desk.get(f"{BASE}{pending.pk}/"))
    # Names are masked everywhere: the waiting list, enrolments, the roster.
    for path in (f"{BASE}{course.pk}/", f"{BASE}sessions/{session.pk}/"):
        body = desk.get(path).content.decode()
        assert not any(name in body for name in NAMES), path
    detail_page = desk.get(f"{BASE}{course.pk}/")
    assert [e.participant_masked for e in detail_page.context["waiting"]] == MASKED[2:]
    assert "李**" in text(desk.get(f"{BASE}sessions/{session.pk}/"))


def test_console_nav_links_to_courses(busy):
    page = console(busy["desk"]).get("/console/").content.decode()
    assert 'href="/console/programs/"' in page


def test_officials_read_without_acting(busy, roles):
    course, pending = busy["course"], busy["pending"]
    session = course.sessions.first()
    for who in ("district", "street"):
        official = console(roles[who])
        for path in (
            BASE,
            f"{BASE}{course.pk}/",
            f"{BASE}{pending.pk}/",
            f"{BASE}sessions/{session.pk}/",
            f"{BASE}talents/",
            f"{BASE}totals/",
        ):
            assert official.get(path).status_code == 200, (who, path)
        page = text(official.get(f"{BASE}{pending.pk}/"))
        assert "Read only" in page and "Approve and publish" not in page
        assert 'name="action"' not in official.get(f"{BASE}{course.pk}/").content.decode()
        assert "李**" in text(official.get(f"{BASE}sessions/{session.pk}/"))  # officials see masked names
        with unchanged():
            refused = official.post(f"{BASE}{pending.pk}/", {"action": "approve"})
        assert refused.status_code == 403
        assert "Only the community's desk staff can do this." in text(refused)
    # An official proposes nothing: the form is not offered.
    assert console(roles["district"]).get(f"{BASE}new/").context["form"] is None


def test_another_community_finds_nothing(busy, roles):
    course, pending = busy["course"], busy["pending"]
    session = course.sessions.first()
    other = console(roles["other_community"])
    assert other.get(BASE).context["rows"] == []
    assert other.get(f"{BASE}?center={busy['center'].pk}").status_code == 404
    for path in (f"{BASE}{course.pk}/", f"{BASE}{pending.pk}/", f"{BASE}sessions/{session.pk}/"):
        assert other.get(path).status_code == 404, path
    with unchanged():
        assert other.post(f"{BASE}{pending.pk}/", {"action": "approve"}).status_code == 404
        response = other.post(f"{BASE}{course.pk}/", {"action": "cancel", "cancel-reason": "不办了"})
        assert response.status_code == 404
        assert other.post(f"{BASE}sessions/{session.pk}/", {"action": "all_present"}).status_code == 404
    # The center staff of 龙珠 does not see 固戍's courses either.
    assert console(roles["center"]).get(f"{BASE}{course.pk}/").status_code == 404


def test_partner_staff_see_counts_and_never_names(busy, roles):
    course = busy["course"]
    session = course.sessions.first()
    partner = console(_partner(busy, roles))
    for path in (f"{BASE}{course.pk}/", f"{BASE}sessions/{session.pk}/", f"{BASE}talents/", BASE):
        response = partner.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert not any(name in body for name in NAMES + MASKED), path
    detail = text(partner.get(f"{BASE}{course.pk}/"))
    assert "2 enrolled, 0 offered a seat, 2 waiting" in detail
    assert "Export to Excel" not in detail
    roster = partner.get(f"{BASE}sessions/{session.pk}/")
    assert roster.context["rows"] == [] and roster.context["enrolled"] == 2
    assert sheet_rows(partner.get(f"{BASE}sessions/{session.pk}/?format=xlsx"))[1:] == []
    assert sheet_rows(partner.get(f"{BASE}{course.pk}/?format=xlsx"))[1:] == []
    with unchanged():
        assert partner.post(f"{BASE}{course.pk}/", {"action": "approve"}).status_code == 403


def test_anonymous_goes_to_sign_in(busy):
    response = Client().get(f"{BASE}{busy['course'].pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")


# --- proposing ------------------------------------------------------------------------------------


def _form(world, **overrides) -> dict:
    first = in_days(10)
    values = {
        "center": world["center"].pk,
        "title": "国画入门",
        "category": "arts",
        "description": "水墨基础。",
        "min_age": "8",
        "max_age": "80",
        "communities": [world["center"].community_id],
        "eligibility_kinds": ["low_income"],
        "capacity": "12",
        "waitlist_size": "5",
        "market_price": "300.00",
        "price": "60.00",
        "public_welfare": "on",
        "enroll_opens_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "enroll_closes_at": "",
        "fair_seconds": "60",
        "promotion": "offer",
        "offer_hours": "12",
        "cancel_cutoff_hours": "48",
        "space": world["classroom"].pk,
        "first_starts_at": timezone.localtime(first).strftime("%Y-%m-%dT%H:%M"),
        "minutes": "120",
        "weeks": "3",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def test_propose_through_the_form_makes_a_pending_course(course_world):
    desk = console(course_world["desk"])
    response = desk.post(f"{BASE}new/", _form(course_world))
    program = Program.objects.get(title="国画入门")
    assert response.status_code == 302 and response["Location"] == f"{BASE}{program.pk}/"
    assert (program.status, program.provider, program.center, program.proposed_by) == (
        "pending",
        "center",
        course_world["center"],
        course_world["desk"],
    )
    assert (program.capacity, program.waitlist_size, program.market_price_fen, program.price_fen) == (
        12,
        5,
        30000,
        6000,
    )
    assert (program.min_age, program.max_age, program.eligibility_kinds) == (8, 80, ["low_income"])
    assert list(program.communities.values_list("pk", flat=True)) == [course_world["center"].community_id]
    assert (program.fair_seconds, program.promotion, program.offer_hours, program.cancel_cutoff_hours) == (
        60,
        "offer",
        12,
        48,
    )
    first = in_days(10)
    starts = list(program.sessions.values_list("starts_at", "ends_at"))
    assert starts == [
        (first + dt.timedelta(weeks=w), first + dt.timedelta(weeks=w, minutes=120)) for w in range(3)
    ]
    assert timezone.localtime(starts[0][0]).hour == 19  # read as Asia/Shanghai wall-clock time
    assert program.enroll_closes_at == first  # empty: when the first session starts
    assert "is proposed" in flashes(desk.get(response["Location"]))[0]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"market_price": "300.00", "price": "60.01"},
            "price",
            "A public-welfare course may charge at most 20% of the market price (¥60.00).",
        ),
        ({"price": "301.00"}, "price", "The price charged cannot be above the market price."),
        ({"capacity": "0"}, "capacity", "Ensure this value is greater than or equal to 1."),
        ({"price": "-1"}, "price", "Ensure this value is greater than or equal to 0."),
        ({"title": "  "}, "title", "This field is required."),
        (
            {"min_age": "30", "max_age": "20"},
            "max_age",
            "Ages from 0 to 120, the oldest not below the youngest.",
        ),
        ({"enroll_closes_at": "2020-01-01T10:00"}, "enroll_closes_at", "Enrolment must close after it opens"),
        ({"space": "999999"}, "space", "Select a valid choice."),
    ],
)
def test_bad_proposals_rerender_with_the_error_and_create_nothing(course_world, overrides, field, message):
    desk = console(course_world["desk"])
    with unchanged():
        response = desk.post(f"{BASE}new/", _form(course_world, **overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in e for e in errors.get(field, [])), errors
    assert message.split(" (")[0] in text(response)


def test_a_session_in_the_past_is_shown_on_the_first_session(course_world):
    desk = console(course_world["desk"])
    yesterday = timezone.localtime() - dt.timedelta(days=1)
    with unchanged():
        response = desk.post(
            f"{BASE}new/", _form(course_world, first_starts_at=yesterday.strftime("%Y-%m-%dT%H:%M"))
        )
    assert response.status_code == 400
    (error,) = response.context["form"].errors["first_starts_at"]
    assert error.startswith("Session 1 (") and error.endswith("This session starts in the past.")


def test_partner_staff_propose_for_their_organisation(course_world, roles):
    partner_user = _partner(course_world, roles)
    org = StaffRole.objects.get(user=partner_user).organization
    partner = console(partner_user)
    page = partner.get(f"{BASE}new/")
    assert {c for c, _ in page.context["form"].fields["center"].choices} == set(
        org.centers.values_list("pk", flat=True)
    )
    with unchanged():
        missing = partner.post(f"{BASE}new/", _form(course_world, organization=None))
    assert missing.status_code == 400 and "organization" in missing.context["form"].errors
    response = partner.post(f"{BASE}new/", _form(course_world, organization=org.pk))
    assert response.status_code == 302
    program = Program.objects.get(title="国画入门")
    assert (program.provider, program.organization, program.status) == ("organization", org, "pending")


# --- one course: approve, refuse, limits, cancel --------------------------------------------------


def test_approve_publishes_and_reserves(busy):
    pending, desk = busy["pending"], console(busy["desk"])
    response = desk.post(f"{BASE}{pending.pk}/", {"action": "approve"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "published" and pending.decided_by == busy["desk"]
    assert all(pending.sessions.values_list("booking_id", flat=True))


def test_refuse_needs_a_reason(busy):
    pending, desk = busy["pending"], console(busy["desk"])
    with unchanged():
        response = desk.post(f"{BASE}{pending.pk}/", {"action": "reject", "reject-reason": ""})
    assert response.status_code == 400 and response.context["reject_form"].errors["reason"]
    desk.post(f"{BASE}{pending.pk}/", {"action": "reject", "reject-reason": "与已有课程重复"})
    pending.refresh_from_db()
    assert (pending.status, pending.decision_reason) == ("rejected", "与已有课程重复")
    # Refused: nothing more to decide or change.
    page = text(desk.get(f"{BASE}{pending.pk}/"))
    assert "Approve and publish" not in page and "Cancel the course" not in page


def test_limits_never_go_below_what_is_taken(busy):
    course, desk = busy["course"], console(busy["desk"])
    with unchanged():
        response = desk.post(
            f"{BASE}{course.pk}/", {"action": "limits", "limits-capacity": "1", "limits-waitlist_size": "3"}
        )
    assert response.status_code == 409
    assert response.context["limits_form"].errors["capacity"] == [
        "2 seats are already taken; the capacity cannot be lower."
    ]
    with unchanged():
        response = desk.post(
            f"{BASE}{course.pk}/", {"action": "limits", "limits-capacity": "2", "limits-waitlist_size": "1"}
        )
    assert response.context["limits_form"].errors["waitlist_size"] == [
        "2 people are on the waiting list; it cannot be shorter."
    ]
    # Three seats: the head of the waiting list gets the new one at once.
    response = desk.post(
        f"{BASE}{course.pk}/", {"action": "limits", "limits-capacity": "3", "limits-waitlist_size": "4"}
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.capacity, course.waitlist_size, course.seats_taken, course.waitlist_count) == (3, 4, 3, 1)
    third = busy["residents"][2]
    assert Enrollment.objects.get(program=course, resident=third).status == "confirmed"


def test_cancel_the_course(busy):
    course, desk = busy["course"], console(busy["desk"])
    first = Enrollment.objects.get(program=course, resident=busy["residents"][0])
    services.payment_record(
        scope=busy["scope"], staff=busy["desk"], enrollment_id=first.pk, method="cash", amount_fen=8000
    )
    with unchanged():
        response = desk.post(f"{BASE}{course.pk}/", {"action": "cancel", "cancel-reason": ""})
    assert response.status_code == 400
    response = desk.post(f"{BASE}{course.pk}/", {"action": "cancel", "cancel-reason": "老师生病"})
    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.status, course.cancel_reason) == ("cancelled", "老师生病")
    assert set(Enrollment.objects.filter(program=course).values_list("status", flat=True)) == {"cancelled"}
    assert set(course.sessions.values_list("status", flat=True)) == {"cancelled"}
    first.refresh_from_db()
    assert first.paid_fen == 0
    assert Payment.objects.filter(enrollment=first, kind="refund", amount_fen=8000).exists()


def test_cancel_one_session_from_the_course_page(busy):
    course, desk = busy["course"], console(busy["desk"])
    second = course.sessions.order_by("starts_at")[1]
    with unchanged():
        response = desk.post(
            f"{BASE}{course.pk}/", {"action": "cancel_session", "session": second.pk, "session-reason": ""}
        )
    assert response.status_code == 400
    response = desk.post(
        f"{BASE}{course.pk}/",
        {"action": "cancel_session", "session": second.pk, "session-reason": "场地维修"},
    )
    assert response.status_code == 302
    assert list(course.sessions.order_by("starts_at").values_list("status", flat=True)) == [
        "scheduled",
        "cancelled",
        "scheduled",
        "scheduled",
    ]
    # A session of another course is not found from this page.
    other = publish(
        busy,
        title="另一门课",
        sessions=services.weekly_sessions(
            space_id=busy["hall"].pk, first_starts_at=in_days(5), minutes=60, weeks=1
        ),
    )
    foreign = other.sessions.get()
    with unchanged():
        response = desk.post(
            f"{BASE}{course.pk}/", {"action": "cancel_session", "session": foreign.pk, "session-reason": "x"}
        )
    assert response.status_code == 404


# --- payments -------------------------------------------------------------------------------------


def test_record_a_payment(busy):
    course, desk = busy["course"], console(busy["desk"])
    first = Enrollment.objects.get(program=course, resident=busy["residents"][0])
    waiting = Enrollment.objects.get(program=course, resident=busy["residents"][2])
    page = desk.get(f"{BASE}{course.pk}/")
    row = next(r for r in page.context["enrollments"] if r["e"].pk == first.pk)
    assert (row["can_pay"], row["owed_yuan"]) == (True, "80.00")
    assert not next(r for r in page.context["enrollments"] if r["e"].pk == waiting.pk)["can_pay"]

    def pay(enrollment, **kw):
        data = {"action": "pay", "pay-enrollment": enrollment.pk, "pay-method": "cash", "pay-amount": "50.00"}
        data.update({f"pay-{k}": v for k, v in kw.items()})
        return desk.post(f"{BASE}{course.pk}/", data)

    assert pay(first, reference="收据 0012").status_code == 302
    first.refresh_from_db()
    assert first.paid_fen == 5000
    assert list(
        Payment.objects.filter(enrollment=first).values_list("kind", "amount_fen", "method", "reference")
    ) == [("charge", 5000, "cash", "收据 0012")]
    with unchanged():
        too_much = pay(first, amount="30.01")
    assert too_much.status_code == 400
    assert (
        "that is more than the price still owed (¥30.00)" in too_much.context["pay_form"].errors["amount"][0]
    )
    assert next(r for r in too_much.context["enrollments"] if r["e"].pk == first.pk)["failed"]
    with unchanged():
        no_ref = pay(first, method="external", amount="30.00", reference="")
    assert "enter the payment's reference number" in no_ref.context["pay_form"].errors["reference"][0]
    with unchanged():
        not_seated = pay(waiting, amount="10.00")
    assert not_seated.status_code == 400
    assert "only an enrolment with a seat is paid for" in " ".join(
        not_seated.context["pay_form"].non_field_errors()
    )
    assert pay(first, method="external", amount="30.00", reference="WX4200001").status_code == 302
    first.refresh_from_db()
    assert first.paid_fen == 8000
    # Another course's enrolment is not found from this page.
    other = publish(
        busy,
        title="另一门课",
        sessions=services.weekly_sessions(
            space_id=busy["hall"].pk, first_starts_at=in_days(5), minutes=60, weeks=1
        ),
    )
    (foreign,) = enrol(busy["outsider"], other)
    with unchanged():
        assert pay(foreign).status_code == 404


# --- the roster and attendance --------------------------------------------------------------------


@pytest.fixture
def today(named):
    """A course whose first session is today, with three enrolled."""
    program, after = today_program(named)
    enrollments = [enrol(r, program, now=after)[0] for r in named["residents"][:3]]
    session = program.sessions.order_by("starts_at").first()
    return {**named, "program": program, "session": session, "enrollments": enrollments}


def test_mark_attendance_for_todays_session(today):
    session, (a, b, c) = today["session"], today["enrollments"]
    desk = console(today["desk"])
    page = desk.get(f"{BASE}sessions/{session.pk}/")
    assert page.context["can_mark"] and [r.enrollment.pk for r in page.context["rows"]] == [a.pk, b.pk, c.pk]
    listing = desk.get(BASE)
    assert [s.pk for s in listing.context["today_sessions"]] == [session.pk]
    response = desk.post(
        f"{BASE}sessions/{session.pk}/",
        {"action": "mark", "enrollment": [a.pk, b.pk, c.pk], "present": [a.pk, c.pk]},
    )
    assert response.status_code == 302
    marks = dict(Attendance.objects.filter(session=session).values_list("enrollment_id", "present"))
    assert marks == {a.pk: True, b.pk: False, c.pk: True}
    after = desk.get(f"{BASE}sessions/{session.pk}/")
    assert (after.context["present"], after.context["absent"], after.context["rate"]) == (2, 1, "66.7%")
    assert "Attendance saved: 2 present, 1 absent." in flashes(after)
    desk.post(f"{BASE}sessions/{session.pk}/", {"action": "all_present", "enrollment": [a.pk, b.pk, c.pk]})
    marks = dict(Attendance.objects.filter(session=session).values_list("enrollment_id", "present"))
    assert marks == {a.pk: True, b.pk: True, c.pk: True}
    assert Attendance.objects.filter(session=session, via="staff", marked_by=today["desk"]).count() == 3


def test_attendance_refusals_change_nothing(today, roles):
    session, (a, b, _c) = today["session"], today["enrollments"]
    later = today["program"].sessions.order_by("starts_at")[1]
    desk = console(today["desk"])
    not_today = desk.get(f"{BASE}sessions/{later.pk}/")
    assert not not_today.context["can_mark"] and 'value="mark"' not in not_today.content.decode()
    with unchanged():
        response = desk.post(
            f"{BASE}sessions/{later.pk}/", {"action": "mark", "enrollment": [a.pk], "present": [a.pk]}
        )
    assert response.status_code == 409 and "Attendance is taken on the day of the session." in text(response)
    (stranger,) = enrol(today["residents"][3], publish(today, title="别的课"))
    with unchanged():
        response = desk.post(
            f"{BASE}sessions/{session.pk}/",
            {"action": "mark", "enrollment": [a.pk, stranger.pk], "present": [a.pk]},
        )
    assert response.status_code == 400
    assert "This person is not enrolled in this course." in text(response)
    with unchanged():
        response = desk.post(f"{BASE}sessions/{session.pk}/", {"action": "mark"})
    assert response.status_code == 400 and "There is nobody to mark." in text(response)
    official = console(roles["district"])
    with unchanged():
        refused = official.post(
            f"{BASE}sessions/{session.pk}/", {"action": "all_present", "enrollment": [a.pk, b.pk]}
        )
    assert refused.status_code == 403


def test_cancel_a_session_from_its_roster(today):
    program = today["program"]
    later = program.sessions.order_by("starts_at")[1]
    desk = console(today["desk"])
    held = today["session"]  # 00:30–01:30 today: over (unless the test runs just after midnight)
    if held.ends_at <= timezone.now():
        assert not desk.get(f"{BASE}sessions/{held.pk}/").context["cancellable"]
    response = desk.post(f"{BASE}sessions/{later.pk}/", {"action": "cancel", "cancel-reason": "台风停课"})
    assert response.status_code == 302
    later.refresh_from_db()
    assert (later.status, later.cancel_reason) == ("cancelled", "台风停课")


# --- talents --------------------------------------------------------------------------------------


@pytest.fixture
def applicants(named):
    a, b = named["residents"][:2]
    talents = [
        services.talent_apply(user=a.user, kind="arts", skills="剪纸", bio="二十年剪纸经验"),
        services.talent_apply(user=b.user, kind="professional", skills="理财讲座", bio="银行退休"),
    ]
    return {**named, "talents": talents}


def test_decide_on_talents(applicants, roles):
    first, second = applicants["talents"]
    desk = console(applicants["desk"])
    page = desk.get(f"{BASE}talents/")
    assert [r["t"].pk for r in page.context["rows"]] == [second.pk, first.pk]
    assert "李**" in text(page) and "李晓梅" not in page.content.decode()
    assert desk.post(f"{BASE}talents/", {"action": "approve", "talent": first.pk}).status_code == 302
    with unchanged():
        response = desk.post(f"{BASE}talents/", {"action": "refuse", "talent": second.pk, "reason": ""})
    assert response.status_code == 400 and response.context["failed"] == second.pk
    desk.post(f"{BASE}talents/", {"action": "refuse", "talent": second.pk, "reason": "材料不全"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status, second.decision_reason) == ("approved", "rejected", "材料不全")
    with unchanged():
        again = desk.post(f"{BASE}talents/", {"action": "approve", "talent": first.pk})
    assert again.status_code == 409
    # Another community sees nothing and may decide nothing; officials look only.
    other = console(roles["other_community"])
    assert other.get(f"{BASE}talents/").context["rows"] == []
    official = console(roles["district"])
    third = services.talent_apply(
        user=applicants["residents"][2].user, kind="arts", skills="舞蹈", bio="广场舞领队"
    )
    with unchanged():
        assert other.post(f"{BASE}talents/", {"action": "approve", "talent": third.pk}).status_code == 404
        assert official.post(f"{BASE}talents/", {"action": "approve", "talent": third.pk}).status_code == 403
    assert Talent.objects.get(pk=third.pk).status == "pending"


# --- the talent's proposal page -------------------------------------------------------------------


def resident_client(resident) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(resident.user)
    return client


def test_only_an_approved_talent_proposes(applicants):
    first = applicants["talents"][0]
    page = resident_client(first.resident).get("/programs/propose/new/")
    assert page.status_code == 200 and page.context["form"] is None
    assert 'href="/me/talent/"' in page.content.decode()
    stranger = resident_client(applicants["residents"][3])
    page = stranger.get("/programs/propose/new/")
    assert page.context["form"] is None and "Apply as a talent" in text(page)
    with unchanged():
        stranger.post("/programs/propose/new/", _form(applicants))
    assert Client().get("/programs/propose/new/").status_code == 302  # sign in first


def test_a_talent_proposes_at_their_center(applicants):
    first = applicants["talents"][0]
    services.talent_decide(
        scope=applicants["scope"], staff=applicants["desk"], talent_id=first.pk, approve=True
    )
    client = resident_client(first.resident)
    page = client.get("/programs/propose/new/")
    assert page.status_code == 200 and "center" not in page.context["form"].fields
    with unchanged():
        bad = client.post("/programs/propose/new/", _form(applicants, price="100.00"))
    assert (
        bad.status_code == 400 and "at most 20% of the market price" in bad.context["form"].errors["price"][0]
    )
    response = client.post("/programs/propose/new/", _form(applicants, center=applicants["center"].pk + 99))
    assert response.status_code == 302 and response["Location"] == "/programs/propose/new/"
    program = Program.objects.get(title="国画入门")
    assert (program.provider, program.talent, program.center, program.status) == (
        "talent",
        first,
        applicants["center"],
        "pending",
    )
    mine = client.get("/programs/propose/new/")
    assert [p.pk for p in mine.context["proposals"]] == [program.pk]
    # The desk sees it waiting, provided by the talent (masked).
    listing = text(console(applicants["desk"]).get(f"{BASE}?status=pending"))
    assert "国画入门" in listing and "Talent 李**" in listing


# --- totals ---------------------------------------------------------------------------------------


def test_totals_per_center_with_a_totals_row(today, roles):
    program = today["program"]
    a, b, c = today["enrollments"]
    services.attendance_mark(
        scope=today["scope"],
        staff=today["desk"],
        session_id=today["session"].pk,
        marks=[services.Mark(a.pk, True), services.Mark(b.pk, True), services.Mark(c.pk, False)],
    )
    day = timezone.localdate()
    query = f"?from={day:%Y-%m-%d}&to={day:%Y-%m-%d}"
    # The attendance rate counts sessions held by now: read the totals after today's 00:30 session.
    clock = time_machine.travel(today["session"].ends_at + dt.timedelta(minutes=1), tick=True)
    clock.start()
    for who in ("district", "street"):
        page = console(roles[who]).get(f"{BASE}totals/{query}")
        assert page.status_code == 200
        (row,) = page.context["rows"]
        r = row["r"]
        assert (r.center, r.programs, r.seats_offered, r.seats_taken) == (today["center"], 1, 5, 3)
        assert (row["fill_rate"], row["attendance_rate"]) == ("60.0%", "66.7%")
        assert r.discount_fen == 3 * (program.market_price_fen - program.price_fen)
        total = page.context["total"]
        assert (
            total["fill_rate"],
            total["attendance_rate"],
            total["discount_fen"],
            total["charged_fen"],
        ) == (
            "60.0%",
            "66.7%",
            96000,
            24000,
        )
        assert "¥960.00" in text(page)
    rows = sheet_rows(console(roles["district"]).get(f"{BASE}totals/{query}&format=xlsx"))
    assert rows[1] == (today["center"].name, 1, 5, 3, 0.6, 0.6667, 960, 240)
    # Another sub-district's community sees no row; a bad range is refused on the form.
    assert console(roles["other_community"]).get(f"{BASE}totals/{query}").context["rows"] == []
    bad = console(roles["district"]).get(f"{BASE}totals/?from=2026-02-01&to=2026-01-01")
    assert bad.status_code == 400 and bad.context["form"].errors["to"]
    default = console(roles["district"]).get(f"{BASE}totals/")
    assert default.context["date_from"] == day.replace(day=1)
    clock.stop()


# --- Excel ----------------------------------------------------------------------------------------


def test_exports_open_and_hold_masked_names_only(today, applicants):
    program, session = today["program"], today["session"]
    desk = console(today["desk"])
    listing = sheet_rows(desk.get(f"{BASE}?format=xlsx"))
    assert listing[0][:3] == ("Title", "Center", "Provider")
    assert [r[0] for r in listing[1:]] == [program.title]
    assert listing[1][10:12] == (80, 400)
    roster = sheet_rows(desk.get(f"{BASE}sessions/{session.pk}/?format=xlsx"))
    assert roster[0] == ("No.", "Participant", "Family member", "Attendance", "Price (yuan)", "Paid (yuan)")
    assert [r[1] for r in roster[1:]] == MASKED[:3]
    enrolments = sheet_rows(desk.get(f"{BASE}{program.pk}/?format=xlsx"))
    assert [r[0] for r in enrolments[1:]] == MASKED[:3]
    talents = sheet_rows(desk.get(f"{BASE}talents/?format=xlsx"))
    assert sorted(r[0] for r in talents[1:]) == sorted(MASKED[:2])
    for rows in (listing, roster, enrolments, talents):
        assert not any(name in cells(rows) for name in NAMES)


def test_a_draw_and_its_replay_are_shown(named):
    now = timezone.now()
    program = publish(named, fair_seconds=60, enroll_opens_at=now - dt.timedelta(seconds=10))
    for resident in named["residents"]:
        enrol(resident, program, now=now)
    draw = services.draw_run(program_id=program.pk, now=now + dt.timedelta(seconds=60))
    page = console(named["desk"]).get(f"{BASE}{program.pk}/")
    body = text(page)
    assert draw.seed in body and "Replay matches yes" in body
    assert page.context["replay"].entrants == 4


def test_session_times_read_in_shanghai(course_world):
    # 2 sessions across a week boundary keep the local wall-clock time.
    desk = console(course_world["desk"])
    first = local(timezone.localdate() + dt.timedelta(days=20), 9, 30)
    desk.post(
        f"{BASE}new/",
        _form(course_world, first_starts_at=first.strftime("%Y-%m-%dT%H:%M"), weeks="2", minutes="45"),
    )
    program = Program.objects.get(title="国画入门")
    assert list(ProgramSession.objects.filter(program=program).values_list("starts_at", flat=True)) == [
        first,
        first + dt.timedelta(weeks=1),
    ]
