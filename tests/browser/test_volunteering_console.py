"""Staff in the volunteering and points consoles, in Debian's Chromium at 1280 px: publish a new
activity with two shifts, confirm yesterday's hours (a change without a reason is refused, then
given one), redeem a voucher at the desk by the resident's pass and refund it; axe-core on every
page visited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.places.models import Device
from livingroom.points import services as points
from livingroom.points.models import Account, Redemption, Reward
from livingroom.volunteering import services
from livingroom.volunteering.models import Activity, ServiceRecord, Shift
from tests import factories as f
from tests.browser.test_browser import assert_accessible, at, staff_sign_in
from tests.volunteering.conftest import pass_of

WIDE = {"width": 1280, "height": 900}
NAMES = ["李晓梅", "王建国", "陈美玲"]


def local(days: int, hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def volunteering_world(ledger_emptied_after):
    street = f.StreetFactory(code="440306001", name="西乡街道")
    gushu = f.CommunityFactory(street=street, code="440306001001", name="固戍社区")
    center = f.CenterFactory(community=gushu, name="固戍社区党群服务中心")
    worker = f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=gushu)
    scope = staff_scope(worker)
    residents = [f.ResidentFactory(home_community=gushu, real_name=name) for name in NAMES]
    volunteers = [services.volunteer_register(user=r.user, consent=True) for r in residents[:2]]
    activity = services.activity_create(
        staff=worker,
        scope=scope,
        now=local(-3, 9),
        draft=services.ActivityDraft(
            center_id=center.pk,
            title="敬老院探访",
            points_per_hour=1,
            bonus_points=2,
            shifts=[
                services.ShiftDraft(
                    role="陪伴员", place="固戍敬老院", starts_at=local(-1, 9), ends_at=local(-1, 12), needed=3
                )
            ],
        ),
    )
    shift = activity.shifts.get()
    signups = [
        services.signup_create(user=v.resident.user, shift_id=shift.pk, now=local(-2, 9)) for v in volunteers
    ]
    kiosk, _secret = f.device_for(center, Device.Kind.KIOSK)
    first = volunteers[0].resident
    services.check_at_device(
        device=kiosk, shift_id=shift.pk, token=pass_of(first), direction="in", now=local(-1, 8, 55)
    )
    services.check_at_device(
        device=kiosk, shift_id=shift.pk, token=pass_of(first), direction="out", now=local(-1, 11, 30)
    )
    voucher = points.reward_create(
        staff=worker,
        scope=scope,
        draft=points.RewardDraft(
            center_id=center.pk, kind=Reward.Kind.VOUCHER, name="理发券", price_points=5, stock=4
        ),
    )
    return {
        "worker": worker,
        "center": center,
        "residents": residents,
        "activity": activity,
        "shift": shift,
        "signups": signups,
        "voucher": voucher,
    }


@pytest.mark.browser
def test_staff_publish_an_activity_and_confirm_hours(new_page, volunteering_world, artifacts):
    world = volunteering_world
    page = new_page(WIDE)
    staff_sign_in(page, world["worker"])

    page.click("nav.console-nav a[href='/console/volunteering/']")
    page.wait_for_url(at("/console/volunteering/"))
    assert "敬老院探访" in page.locator("#activities").inner_text()
    assert_accessible(page, "volunteer activities")
    page.screenshot(path=artifacts / "volunteering-console-list.png", full_page=True)

    # A new activity with two shifts (rows 1 and 3; row 2 left blank).
    page.click("main a[href='/console/volunteering/new/'].weui-btn")
    page.wait_for_url(at("/console/volunteering/new/"))
    assert_accessible(page, "new activity")
    day = (timezone.localdate() + dt.timedelta(days=4)).isoformat()
    page.fill("#id_title", "河道巡查")
    page.fill("#id_points_per_hour", "2")
    page.fill("#id_role_0", "巡查员")
    page.fill("#id_place_0", "固戍河入口")
    page.fill("#id_date_0", day)
    page.fill("#id_start_0", "09:00")
    page.fill("#id_end_0", "11:00")
    page.fill("#id_needed_0", "4")
    page.fill("#id_role_2", "记录员")
    page.fill("#id_place_2", "固戍客厅")
    page.fill("#id_date_2", day)
    page.fill("#id_start_2", "14:00")
    page.fill("#id_end_2", "16:00")
    page.fill("#id_needed_2", "1")
    page.screenshot(path=artifacts / "volunteering-console-new.png", full_page=True)
    page.click("main form button[type=submit]")
    created = Activity.objects.get(title="河道巡查")
    page.wait_for_url(at(f"/console/volunteering/{created.pk}/"))
    assert created.status == Activity.Status.PUBLISHED and created.points_per_hour == 2
    assert [(s.role, s.needed) for s in created.shifts.order_by("starts_at")] == [
        ("巡查员", 4),
        ("记录员", 1),
    ]
    assert page.locator("#shift-list tbody tr").count() == 2
    assert_accessible(page, "activity")

    # Yesterday's shift: confirm the hours.
    shift = world["shift"]
    first, second = world["signups"]
    page.goto(f"/console/volunteering/{world['activity'].pk}/")
    page.click(f"#shift-list a[href='/console/volunteering/shifts/{shift.pk}/']")
    page.wait_for_url(at(f"/console/volunteering/shifts/{shift.pk}/"))
    assert page.locator(f"#id_hours-minutes_{first.pk}").input_value() == "150"
    assert page.locator(f"#id_hours-minutes_{second.pk}").input_value() == ""
    assert "李**" in page.locator("table.vc-roster").inner_text()
    assert not any(name in page.content() for name in NAMES)
    assert_accessible(page, "roster")
    page.fill(f"#id_hours-minutes_{first.pk}", "120")
    page.click("#confirm button[type=submit]")
    assert page.locator(f"#signup-{first.pk} .field__error").is_visible()
    assert not ServiceRecord.objects.exists()
    page.screenshot(path=artifacts / "volunteering-console-confirm-refused.png", full_page=True)
    page.fill(f"#id_hours-reason_{first.pk}", "提前离开")
    page.click("#confirm button[type=submit]")
    page.wait_for_selector("#k-points")
    assert page.locator("#k-records").inner_text() == "1"
    assert page.locator("#k-points").inner_text() == "4"
    record = ServiceRecord.objects.get()
    assert (record.signup_id, record.minutes, record.adjustment_reason) == (first.pk, 120, "提前离开")
    assert Shift.objects.get(pk=shift.pk).status == Shift.Status.CONFIRMED
    assert_accessible(page, "roster after confirming")
    page.screenshot(path=artifacts / "volunteering-console-confirmed.png", full_page=True)


@pytest.mark.browser
def test_staff_redeem_at_the_desk_and_refund(new_page, volunteering_world, artifacts):
    world = volunteering_world
    resident = world["residents"][0]
    points.points_award(
        resident=resident,
        community=world["center"].community_id,
        center=world["center"],
        amount=12,
        reason="测试发放",
        key="browser:1",
    )
    page = new_page(WIDE)
    staff_sign_in(page, world["worker"])
    page.click("nav.console-nav a[href='/console/points/']")
    page.wait_for_url(at("/console/points/"))
    assert page.locator("#k-issued").inner_text() == "12"
    assert_accessible(page, "points ledger")

    page.click(".bk-subnav a:has-text('Redeem at the desk'), .bk-subnav a[href^='/console/points/desk/']")
    page.wait_for_url(at("/console/points/desk/"))
    page.fill("#id_token", pass_of(resident))
    page.select_option("#id_reward", str(world["voucher"].pk))
    page.fill("#id_quantity", "2")
    page.click("#redeem button[type=submit]")
    page.wait_for_selector("#result")
    assert "李** · 理发券 × 2" in page.locator("#result").inner_text()
    redemption = Redemption.objects.get()
    assert redemption.points == 10 and Account.objects.get(resident=resident).balance == 2
    assert_accessible(page, "desk after redeeming")
    page.screenshot(path=artifacts / "points-console-desk.png", full_page=True)

    page.fill(f"#refund-{redemption.pk}", "券未使用")
    page.click(f"#redemption-{redemption.pk} button")
    page.wait_for_selector(".flash__item--success, .flash__item")
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.REFUNDED
    assert Account.objects.get(resident=resident).balance == 12

    page.goto(f"/console/points/reconciliation/?center={world['center'].pk}")
    assert "✓" in page.locator("#verdict").inner_text()
    assert_accessible(page, "reconciliation")
    page.screenshot(path=artifacts / "points-console-reconciliation.png", full_page=True)
