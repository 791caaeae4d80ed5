"""A resident books a study seat on a phone, sees it, checks in at the door; staff see it on the
calendar. In Debian's Chromium, with axe-core on the resident's booking pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.booking import services
from livingroom.booking.models import Booking, Resource
from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Space
from tests import factories as f
from tests.browser.test_browser import DESKTOP, PHONE, assert_accessible, at, sms_code, staff_sign_in

PHONE_NUMBER = "13712349999"


@pytest.fixture
def booking_world(transactional_db):
    street = f.StreetFactory(code="440306001", name="西乡街道")
    gushu = f.CommunityFactory(street=street, code="440306001001", name="固戍社区")
    center = f.CenterFactory(community=gushu, name="固戍社区党群服务中心")
    for weekday in range(7):
        f.HoursFactory(center=center, weekday=weekday, opens=dt.time(0, 0), closes=dt.time(23, 59))
    study = f.SpaceFactory(
        center=center, name="三楼自习室", kind=Space.Kind.STUDY, area_m2=120, capacity=6, bookable=True
    )
    worker = f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=gushu)
    scope = staff_scope(worker)
    services.booking_rules_set(
        scope=scope, staff=worker, space_id=study.pk, max_per_day=2, slot_minutes=60, max_minutes=240
    )
    services.space_units_set(scope=scope, staff=worker, space_id=study.pk, seats=6)
    resident = f.ResidentFactory(user__phone=PHONE_NUMBER, real_name="李晓梅", home_community=gushu)
    return {"center": center, "study": study, "worker": worker, "resident": resident}


def sign_in(page, phone: str) -> None:
    page.goto("/login/")
    page.fill("#id_phone", phone)
    page.click("main form button[type=submit]")
    page.wait_for_url(at("/login/code/"))
    page.fill("#id_code", sms_code(phone))
    page.click("main form button[type=submit]")
    page.wait_for_url(at("/"))


@pytest.mark.browser
def test_resident_books_sees_and_checks_in_and_staff_see_it(new_page, booking_world, artifacts):
    world = booking_world
    study = world["study"]
    page = new_page(PHONE)
    sign_in(page, PHONE_NUMBER)

    # From the center page to the study room, tomorrow.
    page.goto(f"/centers/{world['center'].pk}/")
    page.click(f"a[href='/spaces/{study.pk}/']")
    page.wait_for_url(at(f"/spaces/{study.pk}/"))
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page.click(f"nav.day-tabs a[href='?day={tomorrow:%Y-%m-%d}']")
    page.wait_for_url(lambda url: f"day={tomorrow:%Y-%m-%d}" in url)
    assert page.locator(".slot").count() == 23  # 00:00–23:00, hourly, 23:59 close
    assert_accessible(page, "space")
    page.screenshot(path=artifacts / "booking-space.png", full_page=True)

    page.locator("#f-start").select_option(index=10)  # 10:00
    page.select_option("#f-len", "120")
    page.click("form[action$='/book/'] button[type=submit]")
    page.wait_for_url(at("/me/bookings/"))
    item = page.locator(".booking-list .booking").first
    text = item.inner_text()
    assert "三楼自习室" in text and f"{tomorrow:%Y-%m-%d} 10:00–12:00" in text, text
    assert "booking--confirmed" in item.get_attribute("class")
    assert_accessible(page, "my bookings")
    page.screenshot(path=artifacts / "booking-mine.png", full_page=True)
    booked = Booking.objects.get(resident=world["resident"])
    assert (booked.starts_at, booked.status) == (
        dt.datetime.combine(tomorrow, dt.time(10), tzinfo=timezone.get_default_timezone()),
        "confirmed",
    )

    # A booking starting in a few minutes; the resident scans the code at the door.
    soon = timezone.now() + dt.timedelta(minutes=5)
    now_booking = Booking.objects.create(
        resource=Resource.objects.filter(space=study, kind="seat").last(),
        space=study,
        resident=world["resident"],
        starts_at=soon,
        ends_at=soon + dt.timedelta(hours=1),
        checkin_closes_at=soon + dt.timedelta(minutes=15),
    )
    page.goto(f"/spaces/{study.pk}/check-in/?k={services.space_qr_value(study)}")
    page.click("main form button[type=submit]")
    page.wait_for_url(at("/me/bookings/"))
    now_booking.refresh_from_db()
    assert now_booking.status == "checked_in" and now_booking.checked_in_via == "qr"
    assert page.locator(".booking--checked_in").count() == 1

    # Staff see both bookings on the center's calendar, with the resident's name masked.
    staff = new_page(DESKTOP)
    staff_sign_in(staff, world["worker"])
    staff.goto(f"/console/bookings/calendar/{world['center'].pk}/?day={tomorrow:%Y-%m-%d}")
    table = staff.locator("main").inner_text()
    assert "三楼自习室" in table
    assert "李晓梅" not in staff.content()
    staff.screenshot(path=artifacts / "booking-calendar.png", full_page=True)
