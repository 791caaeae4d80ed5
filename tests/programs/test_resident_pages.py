"""The resident pages of courses, through Django's test client: the list and its filters, a course,
enrolling (alone, with family, on the waiting list), leaving, accepting an offered seat, rating,
the talent pool, my talent application, and the family-member page.

Pages are read in English (the language cookie), so the checks do not depend on translations.
A refusal shows the service's message and changes nothing; someone else's enrolment is a 404.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from livingroom.people import services as people_services
from livingroom.people.models import Dependant
from livingroom.programs import services
from livingroom.programs.models import Attendance, Enrollment, Program, Talent
from tests import factories as f
from tests.programs.conftest import draft, enrol, in_days, publish, unchanged

pytestmark = pytest.mark.django_db


def page_client(resident=None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if resident is not None:
        client.force_login(resident.user)
    return client


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text(response) -> str:
    """The page's visible text, whitespace collapsed (tags dropped)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html(response)).split())


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow_post(client: Client, path: str, data: dict | None = None):
    return client.post(path, data or {}, follow=True)


_slot = itertools.count()


def another(world, **overrides) -> Program:
    """One more published course, in the hall at an hour no other course of the test takes."""
    hour = 8 + next(_slot) % 10
    overrides.setdefault(
        "sessions",
        services.weekly_sessions(
            space_id=world["hall"].pk, first_starts_at=in_days(3, hour), minutes=60, weeks=2
        ),
    )
    return publish(world, **overrides)


def child_of(resident, years: int = 4, name: str = "王小明") -> Dependant:
    today = timezone.localdate()
    return people_services.dependant_add(
        user=resident.user,
        name=name,
        birth_date=today.replace(year=today.year - years) - dt.timedelta(days=10),
        relation="child",
    )


# --- the list -----------------------------------------------------------------------------------


def test_the_list_shows_a_course_with_price_seats_sessions_and_window(course_world, course):
    proposed = services.program_propose(
        actor=course_world["desk"],
        scope=course_world["scope"],
        draft=draft(course_world, title="未批准的课"),
    )
    page = text(page_client().get("/programs/"))
    assert "书法入门" in page and proposed.title not in page
    assert "¥80.00 · market price ¥400.00 20% of market price" in page
    assert "2 seats left of 2" in page
    assert "4 sessions" in page
    first = course.sessions.order_by("starts_at").first().starts_at
    assert timezone.localtime(first).strftime("%Y-%m-%d %H:%M") in page
    assert course_world["center"].name in page
    assert "Enrolment open until" in page
    assert f'href="/programs/{course.pk}/"' in html(page_client().get("/programs/"))


def test_the_filters_narrow_the_list_and_bad_values_are_ignored(course_world, course):
    free = another(
        course_world, title="免费讲座", category="health", market_price_fen=0, price_fen=0, capacity=1
    )
    enrol(course_world["residents"][0], free)  # now full
    client = page_client()

    def titles(**params) -> set[str]:
        page = text(client.get("/programs/", params))
        return {t for t in ("书法入门", "免费讲座") if t in page}

    assert titles() == {"书法入门", "免费讲座"}
    assert titles(category="health") == {"免费讲座"}
    assert titles(category="calligraphy") == {"书法入门"}
    assert titles(max_price="0") == {"免费讲座"}
    assert titles(free="1") == {"书法入门"}
    assert titles(q="书法") == {"书法入门"}
    assert titles(center=str(course_world["center"].pk)) == {"书法入门", "免费讲座"}
    far = (timezone.localdate() + dt.timedelta(days=200)).isoformat()
    assert titles(**{"from": far}) == set()
    # Nonsense is ignored, never a 500.
    assert titles(center="abc", category="nope", max_price="-5", **{"from": "2026-13-45", "to": "x"}) == {
        "书法入门",
        "免费讲座",
    }
    assert "Full" in text(client.get("/programs/", {"category": "health"}))


def test_the_list_tells_when_enrolment_opens_and_when_the_draw_runs(course_world):
    opens = timezone.now() + dt.timedelta(days=1)
    another(course_world, title="明天开放", enroll_opens_at=opens, fair_seconds=60)
    another(
        course_world,
        title="正在抽签",
        enroll_opens_at=timezone.now() - dt.timedelta(seconds=5),
        fair_seconds=600,
    )
    page = text(page_client().get("/programs/"))
    assert f"Enrolment opens {timezone.localtime(opens):%Y-%m-%d %H:%M}" in page
    assert "Sign-ups in the first 60 seconds are drawn by lot" in page
    assert "Opening draw until" in page


# --- one course ---------------------------------------------------------------------------------


def test_anonymous_visitors_see_the_course_and_a_sign_in_link(course_world, course):
    response = page_client().get(f"/programs/{course.pk}/")
    page = text(response)
    assert "书法入门" in page and "毛笔字基础" in page
    assert page.count(course_world["classroom"].name) == 4  # the four sessions and their room
    assert f"/login/?next=/programs/{course.pk}/" in html(response)
    assert f"programs/{course.pk}/enrol/" not in html(response)
    assert "Everyone is welcome." in page


def test_an_unpublished_or_unknown_course_is_404(course_world):
    pending = services.program_propose(
        actor=course_world["desk"], scope=course_world["scope"], draft=draft(course_world)
    )
    client = page_client(course_world["residents"][0])
    assert client.get(f"/programs/{pending.pk}/").status_code == 404
    assert client.get("/programs/999999/").status_code == 404


def test_a_resident_enrols_and_sees_it(course_world, course):
    resident = course_world["residents"][0]
    client = page_client(resident)
    assert f'action="/programs/{course.pk}/enrol/"' in html(client.get(f"/programs/{course.pk}/"))
    response = client.post(f"/programs/{course.pk}/enrol/", {"who": "self"})
    assert response.status_code == 302 and response["Location"] == f"/programs/{course.pk}/#mine"
    (e,) = Enrollment.objects.filter(program=course)
    assert (e.resident_id, e.dependant_id, e.status) == (resident.pk, None, "confirmed")
    page = client.get(f"/programs/{course.pk}/")
    assert flashes(page) == ["You: enrolled."]
    assert "enrolment--confirmed" in html(page)
    assert "You can cancel until" in text(page)
    assert f'action="/programs/{course.pk}/enrol/"' not in html(page)  # nobody left to sign up


def test_on_a_full_course_the_resident_joins_the_waiting_list_and_sees_the_position(course_world, course):
    r = course_world["residents"]
    enrol(r[0], course)
    enrol(r[1], course)
    client = page_client(r[2])
    before = text(client.get(f"/programs/{course.pk}/"))
    assert "You can join the waiting list as No. 1" in before
    page = follow_post(client, f"/programs/{course.pk}/enrol/", {"who": "self"})
    assert flashes(page) == ["You: the course is full — No. 1 on the waiting list."]
    assert "No. 1 on the waiting list" in text(page)
    e = Enrollment.objects.get(resident=r[2], program=course)
    assert (e.status, e.position) == ("waitlisted", 1)


def test_a_resident_signs_up_themself_and_a_child(course_world, course):
    resident = course_world["residents"][0]
    child = child_of(resident)
    client = page_client(resident)
    form = html(client.get(f"/programs/{course.pk}/"))
    assert f'value="{child.pk}"' in form and 'value="self"' in form
    page = follow_post(client, f"/programs/{course.pk}/enrol/", {"who": ["self", str(child.pk)]})
    assert flashes(page) == ["You: enrolled.", "王小明: enrolled."]
    got = set(Enrollment.objects.filter(program=course).values_list("dependant_id", "status"))
    assert got == {(None, "confirmed"), (child.pk, "confirmed")}


def test_a_course_for_small_children_offers_only_the_child(course_world):
    program = another(course_world, title="亲子阅读", category="childcare", min_age=3, max_age=6)
    resident = course_world["residents"][0]
    child = child_of(resident, years=4)
    client = page_client(resident)
    form = html(client.get(f"/programs/{program.pk}/"))
    assert re.search(r'id="who-self"[^>]*disabled', form)
    assert "Not for this course: up to age 6" in text(client.get(f"/programs/{program.pk}/"))
    assert "Ages 3 to 6" in text(client.get(f"/programs/{program.pk}/"))
    with unchanged():
        page = follow_post(client, f"/programs/{program.pk}/enrol/", {"who": "self"})
    assert flashes(page) == ["This course is for another audience: up to age 6."]
    follow_post(client, f"/programs/{program.pk}/enrol/", {"who": str(child.pk)})
    assert list(Enrollment.objects.filter(program=program).values_list("dependant_id", "status")) == [
        (child.pk, "confirmed")
    ]


def test_refused_enrolments_show_the_message_and_change_nothing(course_world, course):
    r = course_world["residents"]
    enrol(r[0], course)
    client = page_client(r[0])
    stranger_child = child_of(r[1], name="李小红")
    later = another(course_world, title="下周开放", enroll_opens_at=timezone.now() + dt.timedelta(days=2))
    cases = [
        (course, {"who": "self"}, "Already signed up for this course."),
        (course, {}, "Tick who takes part."),
        (course, {"who": "abc"}, "Tick who takes part."),
        (course, {"who": str(stranger_child.pk)}, "No such family member."),
        (
            later,
            {"who": "self"},
            f"Enrolment opens at {timezone.localtime(later.enroll_opens_at):%Y-%m-%d %H:%M}.",
        ),
    ]
    for program, data, message in cases:
        with unchanged():
            page = follow_post(client, f"/programs/{program.pk}/enrol/", data)
        assert page.status_code == 200
        assert flashes(page) == [message], data


def test_the_course_page_tells_when_enrolment_is_not_open_closed_or_the_course_cancelled(course_world):
    client = page_client(course_world["residents"][0])
    later = another(course_world, title="下周开放", enroll_opens_at=timezone.now() + dt.timedelta(days=2))
    page = client.get(f"/programs/{later.pk}/")
    assert "Enrolment opens at" in text(page) and f"/programs/{later.pk}/enrol/" not in html(page)

    closed = another(course_world, title="已截止", enroll_opens_at=timezone.now() - dt.timedelta(days=2))
    Program.objects.filter(pk=closed.pk).update(enroll_closes_at=timezone.now() - dt.timedelta(hours=1))
    page = client.get(f"/programs/{closed.pk}/")
    assert "Enrolment for this course has closed." in text(page) and "/enrol/" not in html(page)

    gone = another(course_world, title="取消的课")
    enrol(course_world["residents"][0], gone)
    services.program_cancel(
        scope=course_world["scope"], staff=course_world["desk"], program_id=gone.pk, reason="老师生病"
    )
    page = text(client.get(f"/programs/{gone.pk}/"))
    assert "This course has been cancelled." in page and "老师生病" in page
    assert "Cancelled" in page
    with unchanged():
        refused = follow_post(client, f"/programs/{gone.pk}/enrol/", {"who": "self"})
    assert flashes(refused) == ["This course has been cancelled."]


def test_enrolling_needs_a_signed_in_resident_and_a_post(course_world, course):
    anonymous = page_client()
    response = anonymous.post(f"/programs/{course.pk}/enrol/", {"who": "self"})
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    assert not Enrollment.objects.exists()
    client = page_client(course_world["residents"][0])
    assert client.get(f"/programs/{course.pk}/enrol/").status_code == 405
    no_profile = Client()
    no_profile.force_login(f.UserFactory())
    no_profile.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Complete your real-name profile to sign up" in text(no_profile.get(f"/programs/{course.pk}/"))
    with unchanged():
        page = follow_post(no_profile, f"/programs/{course.pk}/enrol/", {"who": "self"})
    assert flashes(page) == ["Please complete your real-name profile first."]


# --- leaving, accepting, rating -------------------------------------------------------------------


def test_leaving_the_waiting_list_and_cancelling_a_seat(course_world, course):
    r = course_world["residents"]
    (seat,) = enrol(r[0], course)
    enrol(r[1], course)
    (wait1,) = enrol(r[2], course)
    (wait2,) = enrol(r[3], course)
    client = page_client(r[2])
    page = follow_post(client, f"/me/programs/{wait1.pk}/cancel/", {"next": f"/programs/{course.pk}/"})
    assert page.redirect_chain[-1][0] == f"/programs/{course.pk}/"
    assert flashes(page) == ["You: left the waiting list."]
    wait1.refresh_from_db()
    wait2.refresh_from_db()
    assert (wait1.status, wait2.position) == ("cancelled", 1)

    page = follow_post(page_client(r[0]), f"/me/programs/{seat.pk}/cancel/")
    assert page.redirect_chain[-1][0] == "/me/programs/"
    assert flashes(page) == ["You: enrolment cancelled. Any fee paid is refunded."]
    seat.refresh_from_db()
    wait2.refresh_from_db()
    assert (seat.status, wait2.status) == ("cancelled", "confirmed")


def test_a_seat_cannot_be_given_back_after_the_cut_off(course_world):
    program = another(course_world, cancel_cutoff_hours=100)  # first session in 3 days
    (e,) = enrol(course_world["residents"][0], program)
    client = page_client(course_world["residents"][0])
    page = client.get(f"/programs/{program.pk}/")
    assert f"/me/programs/{e.pk}/cancel/" not in html(page)
    assert "The time to cancel has passed" in text(page)
    with unchanged():
        refused = follow_post(client, f"/me/programs/{e.pk}/cancel/")
    assert flashes(refused) == ["The time to cancel has passed; please tell the center's staff."]


def test_an_offered_seat_is_accepted_from_my_courses(course_world):
    program = another(course_world, promotion="offer", offer_hours=12)
    r = course_world["residents"]
    (first,) = enrol(r[0], program)
    enrol(r[1], program)
    (waiting,) = enrol(r[2], program)
    services.enrollment_cancel(user=r[0].user, enrollment_id=first.pk)
    waiting.refresh_from_db()
    assert waiting.status == "offered"
    client = page_client(r[2])
    page = client.get("/me/programs/")
    deadline = timezone.localtime(waiting.offer_expires_at).strftime("%Y-%m-%d %H:%M")
    assert f"A seat is free: accept it by {deadline}" in text(page)
    assert f'action="/me/programs/{waiting.pk}/accept/"' in html(page)
    accepted = follow_post(client, f"/me/programs/{waiting.pk}/accept/", {"next": "/me/programs/"})
    assert flashes(accepted) == ["You: enrolled."]
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"
    with unchanged():
        again = follow_post(client, f"/me/programs/{waiting.pk}/accept/")
    assert flashes(again) == ["There is no seat offered to accept, or the offer has lapsed."]


def test_someone_elses_enrolment_is_404(course_world, course):
    r = course_world["residents"]
    (e,) = enrol(r[0], course)
    Attendance.objects.create(session=course.sessions.first(), enrollment=e, via="staff")
    other = page_client(r[1])
    with unchanged():
        for action, data in (("cancel", {}), ("accept", {}), ("rate", {"rating": "5"})):
            assert other.post(f"/me/programs/{e.pk}/{action}/", data).status_code == 404, action
        assert other.post("/me/programs/999999/cancel/").status_code == 404


def test_rating_after_taking_part(course_world, course):
    resident = course_world["residents"][0]
    (e,) = enrol(resident, course)
    client = page_client(resident)
    assert f"/me/programs/{e.pk}/rate/" not in html(client.get("/me/programs/"))
    with unchanged():
        early = follow_post(client, f"/me/programs/{e.pk}/rate/", {"rating": "5"})
    assert flashes(early) == ["You can rate a course after taking part in a session."]

    Attendance.objects.create(session=course.sessions.first(), enrollment=e, via="staff")
    assert f'action="/me/programs/{e.pk}/rate/"' in html(client.get("/me/programs/"))
    for bad, message in (
        ({"rating": "7"}, "Choose from 1 to 5 stars."),
        ({}, "Choose from 1 to 5 stars."),
        ({"rating": "4", "comment": "x" * 501}, "The comment can be at most 500 characters."),
    ):
        with unchanged():
            assert flashes(follow_post(client, f"/me/programs/{e.pk}/rate/", bad)) == [message]
    page = follow_post(client, f"/me/programs/{e.pk}/rate/", {"rating": "4", "comment": " 老师很耐心 "})
    assert flashes(page) == ["Thank you for rating 书法入门."]
    e.refresh_from_db()
    assert (e.rating, e.rating_comment) == (4, "老师很耐心")
    assert "Your rating: 4 of 5" in text(page) and f"/me/programs/{e.pk}/rate/" not in html(page)
    with unchanged():
        again = follow_post(client, f"/me/programs/{e.pk}/rate/", {"rating": "1"})
    assert flashes(again) == ["You have already rated this course."]


def test_my_courses_lists_what_is_coming_and_what_ended(course_world, course):
    resident = course_world["residents"][0]
    (kept,) = enrol(resident, course)
    other = another(course_world, title="舞蹈班", category="fitness")
    (left,) = enrol(resident, other)
    services.enrollment_cancel(user=resident.user, enrollment_id=left.pk)
    page = html(page_client(resident).get("/me/programs/"))
    coming, earlier = page.split('id="earlier-title"')
    assert "书法入门" in coming and "舞蹈班" not in coming
    assert "舞蹈班" in earlier and "enrolment--cancelled" in earlier
    assert f'action="/me/programs/{kept.pk}/cancel/"' in coming


def test_resident_pages_need_sign_in_and_a_profile(course_world):
    anonymous = page_client()
    for path in ("/me/programs/", "/talents/", "/me/talent/", "/me/family/"):
        response = anonymous.get(path)
        assert response.status_code == 302 and response["Location"] == f"/login/?next={quote(path, safe='')}"
    assert anonymous.get("/programs/").status_code == 200
    no_profile = Client()
    no_profile.force_login(f.UserFactory())
    for path in ("/me/programs/", "/talents/", "/me/talent/", "/me/family/"):
        response = no_profile.get(path)
        assert response.status_code == 302 and response["Location"] == "/me/profile/", path


# --- talents --------------------------------------------------------------------------------------


def test_the_talent_pool_shows_approved_talents_of_my_community(course_world):
    r = course_world["residents"]
    approved = services.talent_apply(user=r[1].user, kind="arts", skills="剪纸", bio="剪纸二十年。")
    services.talent_decide(
        scope=course_world["scope"], staff=course_world["desk"], talent_id=approved.pk, approve=True
    )
    services.talent_apply(user=r[2].user, kind="professional", skills="法律咨询", bio="律师。")  # pending
    services.talent_apply(user=course_world["outsider"].user, kind="arts", skills="广场舞", bio="龙珠。")
    page = text(page_client(r[0]).get("/talents/"))
    assert "剪纸" in page and "剪纸二十年。" in page and "Arts talent" in page
    assert r[1].masked_name in page and r[1].real_name + " " not in page
    assert "法律咨询" not in page and "广场舞" not in page


def test_a_resident_applies_as_a_talent_then_withdraws(course_world):
    resident = course_world["residents"][0]
    client = page_client(resident)
    assert 'name="skills"' in html(client.get("/me/talent/"))
    with unchanged():
        bad = client.post("/me/talent/", {"kind": "arts", "skills": "", "bio": "我会剪纸。"})
    assert bad.status_code == 200 and bad.context["form"].errors["skills"]
    page = follow_post(client, "/me/talent/", {"kind": "arts", "skills": "剪纸", "bio": "我会剪纸。"})
    assert flashes(page) == ["Application sent. The center's staff will reply."]
    talent = Talent.objects.get(resident=resident)
    assert (talent.kind, talent.skills, talent.status) == ("arts", "剪纸", "pending")
    assert "Waiting for vetting" in text(page) and 'name="skills"' not in html(page)
    with unchanged():
        again = follow_post(client, "/me/talent/", {"kind": "arts", "skills": "剪纸", "bio": "再来一次。"})
    assert flashes(again) == ["You already have an application or approval as a talent."]
    page = follow_post(client, "/me/talent/withdraw/")
    assert flashes(page) == ["Your talent application is withdrawn."]
    talent.refresh_from_db()
    assert talent.status == "withdrawn"
    with unchanged():
        nothing = follow_post(client, "/me/talent/withdraw/")
    assert flashes(nothing) == ["No such talent application."]


def test_an_approved_talent_sees_the_proposal_link_and_their_proposals(course_world):
    resident = course_world["residents"][0]
    talent = services.talent_apply(user=resident.user, kind="arts", skills="剪纸", bio="剪纸二十年。")
    services.talent_decide(
        scope=course_world["scope"], staff=course_world["desk"], talent_id=talent.pk, approve=True
    )
    services.program_propose(actor=resident.user, scope=None, draft=draft(course_world, title="剪纸课"))
    page = page_client(resident).get("/me/talent/")
    assert 'href="/programs/propose/new/"' in html(page)
    assert "剪纸课" in text(page) and "Waiting for approval" in text(page)


# --- family members -------------------------------------------------------------------------------


def test_family_members_are_added_and_removed(course_world, course):
    resident = course_world["residents"][0]
    client = page_client(resident)
    assert html(client.get("/me/family/"))
    birth = (timezone.localdate() - dt.timedelta(days=5 * 366)).isoformat()
    response = client.post(
        "/me/family/",
        {"name": "王小明", "birth_date": birth, "relation": "child", "next": f"/programs/{course.pk}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/programs/{course.pk}/"
    child = Dependant.objects.get(resident=resident)
    assert (child.name, child.birth_date.isoformat(), child.relation) == ("王小明", birth, "child")
    assert "王小明" in text(client.get("/me/family/"))

    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    with unchanged():
        bad = client.post("/me/family/", {"name": "王小红", "birth_date": future, "relation": "child"})
        assert "Enter a real birth date." in text(bad)
        bad = client.post("/me/family/", {"name": "", "birth_date": "", "relation": "cousin"})
        assert bad.context["form"].errors.keys() == {"name", "birth_date", "relation"}
        assert client.post("/me/family/", {"next": "https://evil.example/"}).status_code == 200

    stranger = page_client(course_world["residents"][1])
    with unchanged():
        assert stranger.post(f"/me/family/{child.pk}/remove/").status_code == 404
    page = follow_post(client, f"/me/family/{child.pk}/remove/")
    assert flashes(page) == ["王小明 is removed from your family members."]
    child.refresh_from_db()
    assert child.removed_at is not None
    assert "王小明" not in text(client.get("/me/family/"))


def test_the_course_page_links_to_the_family_page_and_back(course_world, course):
    page = html(page_client(course_world["residents"][0]).get(f"/programs/{course.pk}/"))
    assert f'href="/me/family/?next=/programs/{course.pk}/"' in page


def test_home_and_profile_link_to_courses(course_world):
    client = page_client(course_world["residents"][0])
    home = html(client.get("/"))
    assert 'href="/programs/"' in home and 'href="/me/programs/"' in home and 'href="/me/family/"' in home
    profile = html(client.get("/me/profile/"))
    assert 'href="/me/programs/"' in profile and 'href="/me/family/"' in profile
    assert 'href="/programs/"' in html(page_client().get("/"))


def test_the_sessions_are_listed_in_order(course_world):
    program = another(
        course_world,
        sessions=services.weekly_sessions(
            space_id=course_world["hall"].pk, first_starts_at=in_days(5, 9), minutes=60, weeks=2
        ),
    )
    page = text(page_client().get(f"/programs/{program.pk}/"))
    first, second = (timezone.localtime(s.starts_at) for s in program.sessions.order_by("starts_at"))
    assert page.index(f"{first:%Y-%m-%d %H:%M}") < page.index(f"{second:%Y-%m-%d %H:%M}")
    assert Program.objects.get(pk=program.pk).status == "published"
