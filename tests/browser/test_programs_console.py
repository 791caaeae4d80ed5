"""Staff open today's session from the courses list, tick who came and save, then mark everyone
present; in Debian's Chromium at 1280 px, with axe-core on the list and the roster."""

from __future__ import annotations

import pytest

from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Space
from livingroom.programs.models import Attendance
from tests import factories as f
from tests.browser.test_browser import assert_accessible, at, staff_sign_in
from tests.programs.conftest import enrol, today_program

WIDE = {"width": 1280, "height": 900}
NAMES = ["李晓梅", "王建国", "陈美玲"]


@pytest.fixture
def course_today(transactional_db):
    street = f.StreetFactory(code="440306001", name="西乡街道")
    gushu = f.CommunityFactory(street=street, code="440306001001", name="固戍社区")
    center = f.CenterFactory(community=gushu, name="固戍社区党群服务中心")
    classroom = f.SpaceFactory(
        center=center, name="书画室", kind=Space.Kind.ACTIVITY, area_m2=60, capacity=20
    )
    worker = f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=gushu)
    residents = [f.ResidentFactory(home_community=gushu, real_name=name) for name in NAMES]
    world = {"center": center, "classroom": classroom, "desk": worker, "scope": staff_scope(worker)}
    program, after = today_program(world, title="书法入门")
    enrollments = [enrol(r, program, now=after)[0] for r in residents]
    session = program.sessions.order_by("starts_at").first()
    return {"worker": worker, "program": program, "session": session, "enrollments": enrollments}


@pytest.mark.browser
def test_staff_take_attendance_for_todays_session(new_page, course_today, artifacts):
    world = course_today
    session = world["session"]
    first, second, third = world["enrollments"]
    page = new_page(WIDE)
    staff_sign_in(page, world["worker"])

    page.click("nav.console-nav a[href='/console/programs/']")
    page.wait_for_url(at("/console/programs/"))
    assert "书法入门" in page.locator("#programs").inner_text()
    assert_accessible(page, "courses list")
    page.screenshot(path=artifacts / "programs-console-list.png", full_page=True)

    page.click(f".pg-today a[href='/console/programs/sessions/{session.pk}/']")
    page.wait_for_url(at(f"/console/programs/sessions/{session.pk}/"))
    roster = page.locator("table.pg-roster tbody")
    assert roster.locator("tr").count() == 3
    assert "李**" in roster.inner_text()
    assert not any(name in page.content() for name in NAMES)
    assert_accessible(page, "roster")

    page.check(f"#present-{first.pk}")
    page.check(f"#present-{third.pk}")
    page.click("button[name=action][value=mark]")
    page.wait_for_url(at(f"/console/programs/sessions/{session.pk}/"))
    assert page.locator("#k-present").inner_text() == "2"
    assert page.locator(f"#present-{first.pk}").is_checked()
    assert not page.locator(f"#present-{second.pk}").is_checked()
    marks = dict(Attendance.objects.filter(session=session).values_list("enrollment_id", "present"))
    assert marks == {first.pk: True, second.pk: False, third.pk: True}
    page.screenshot(path=artifacts / "programs-console-roster.png", full_page=True)

    page.click("button[name=action][value=all_present]")
    page.wait_for_url(at(f"/console/programs/sessions/{session.pk}/"))
    assert page.locator("#k-present").inner_text() == "3"
    assert page.locator("#k-rate").inner_text() == "100.0%"
    assert Attendance.objects.filter(session=session, present=True).count() == 3
    assert_accessible(page, "roster after marking")
