"""A resident on a phone finds a course in the list, enrols and sees it; on a full course joins the
waiting list and sees their place. In Debian's Chromium, with axe-core on the course pages at
375 px (standard and elderly-friendly mode). Selectors use ids, hrefs and classes: labels are
being translated."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Space
from livingroom.programs import services
from livingroom.programs.models import Enrollment
from tests import factories as f
from tests.browser.test_booking import sign_in
from tests.browser.test_browser import PHONE, assert_accessible, at
from tests.programs.conftest import in_days, publish

PHONE_NUMBER = "13712348888"


@pytest.fixture
def courses(transactional_db):
    street = f.StreetFactory(code="440306001", name="西乡街道")
    gushu = f.CommunityFactory(street=street, code="440306001001", name="固戍社区")
    center = f.CenterFactory(community=gushu, name="固戍社区党群服务中心")
    classroom = f.SpaceFactory(
        center=center, name="书画室", kind=Space.Kind.ACTIVITY, area_m2=60, capacity=20
    )
    hall = f.SpaceFactory(center=center, name="舞蹈室", kind=Space.Kind.DANCE, area_m2=120, capacity=60)
    desk = f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=gushu)
    world = {"center": center, "desk": desk, "scope": staff_scope(desk), "classroom": classroom}
    calligraphy = publish(world, title="书法入门", capacity=2)
    painting = publish(
        world,
        title="国画入门",
        category="arts",
        capacity=1,
        waitlist_size=5,
        market_price_fen=50000,
        price_fen=10000,
        sessions=services.weekly_sessions(
            space_id=hall.pk, first_starts_at=in_days(4, 9), minutes=90, weeks=3
        ),
    )
    neighbour = f.ResidentFactory(home_community=gushu)
    services.enrollment_create(user=neighbour.user, program_id=painting.pk)  # the only seat
    resident = f.ResidentFactory(user__phone=PHONE_NUMBER, real_name="李晓梅", home_community=gushu)
    return {"calligraphy": calligraphy, "painting": painting, "resident": resident}


@pytest.mark.browser
def test_a_resident_finds_a_course_enrols_and_joins_a_waiting_list(new_page, courses, artifacts):
    calligraphy, painting = courses["calligraphy"], courses["painting"]
    page = new_page(PHONE)
    sign_in(page, PHONE_NUMBER)

    # The home page leads to the course list; both courses are there, with their prices.
    page.click("main a[href='/programs/']")
    page.wait_for_url(at("/programs/"))
    cards = page.locator(".course-list .course")
    assert cards.count() == 2
    assert "¥80.00" in cards.nth(0).inner_text() and "¥400.00" in cards.nth(0).inner_text()
    assert_accessible(page, "course list")
    page.screenshot(path=artifacts / "programs-list.png", full_page=True)

    # Filter by category, then open the course.
    page.select_option("#f-category", "calligraphy")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url(lambda url: "category=calligraphy" in url)
    assert page.locator(".course-list .course").count() == 1
    page.click(f".course-list a[href='/programs/{calligraphy.pk}/']")
    page.wait_for_url(at(f"/programs/{calligraphy.pk}/"))
    assert page.locator("#sessions .session").count() == 4
    assert_accessible(page, "course")

    # Enrol: the page shows the enrolment, and it is in the database.
    page.click(f"form[action='/programs/{calligraphy.pk}/enrol/'] button[type=submit]")
    page.wait_for_url(at(f"/programs/{calligraphy.pk}/"))
    assert page.locator("#mine .enrolment--confirmed").count() == 1
    assert page.locator(".flash__item--success").count() == 1
    assert_accessible(page, "course, enrolled")
    page.screenshot(path=artifacts / "programs-enrolled.png", full_page=True)
    (e,) = Enrollment.objects.filter(program=calligraphy)
    assert (e.resident_id, e.status) == (courses["resident"].pk, "confirmed")

    # The full course: the resident joins the waiting list and sees their place.
    page.goto("/programs/")
    page.click(f".course-list a[href='/programs/{painting.pk}/']")
    page.wait_for_url(at(f"/programs/{painting.pk}/"))
    page.click(f"form[action='/programs/{painting.pk}/enrol/'] button[type=submit]")
    page.wait_for_url(at(f"/programs/{painting.pk}/"))
    position = page.locator("#mine .enrolment--waitlisted .enrolment__position")
    assert re.search(r"(?<!\d)1(?!\d)", position.inner_text()), position.inner_text()
    assert_accessible(page, "course, waiting list")
    page.screenshot(path=artifacts / "programs-waitlisted.png", full_page=True)
    waiting = Enrollment.objects.get(program=painting, resident=courses["resident"])
    assert (waiting.status, waiting.position) == ("waitlisted", 1)

    # My courses lists both; the list page marks them.
    page.goto("/me/programs/")
    assert page.locator(".enrolment--confirmed").count() == 1
    assert page.locator(".enrolment--waitlisted").count() == 1
    assert_accessible(page, "my courses")
    page.goto("/programs/")
    assert page.locator(".course__mine .enrolment--confirmed").count() == 1
    assert page.locator(".course__mine .enrolment--waitlisted").count() == 1

    # Leaving the waiting list from the course page.
    page.goto(f"/programs/{painting.pk}/")
    page.click(f"form[action='/me/programs/{waiting.pk}/cancel/'] button[type=submit]")
    page.wait_for_url(at(f"/programs/{painting.pk}/"))
    waiting.refresh_from_db()
    assert waiting.status == "cancelled"


@pytest.mark.browser
def test_the_course_pages_pass_axe_in_the_elderly_mode(new_page, courses, artifacts):
    page = new_page(PHONE)
    page.goto("/programs/")
    page.click("form[action='/settings/elderly/'] button")
    page.wait_for_function("document.body.classList.contains('elderly')")
    page.click("details.course-filter__more summary")  # the dates and price fields too
    assert_accessible(page, "course list (elderly)")
    page.screenshot(path=artifacts / "programs-list-elderly.png", full_page=True)
    page.goto(f"/programs/{courses['painting'].pk}/")
    assert page.locator("a[href^='/login/?next=']").count() >= 1  # anonymous: a sign-in link
    assert_accessible(page, "course (elderly)")
    box = page.locator("#enrol a.weui-btn").bounding_box()
    assert box and box["height"] >= 60
    page.screenshot(path=artifacts / "programs-course-elderly.png", full_page=True)
    opens = timezone.localtime(courses["calligraphy"].enroll_opens_at)
    assert opens < timezone.localtime() + dt.timedelta(minutes=1)
