"""A resident on a phone finds a volunteer activity, registers as a volunteer (ticking the
consent), signs up for a shift, sees it on "my volunteering", and looks at points and rewards; a
volunteer with confirmed hours issues a certificate and anyone checks it by its code. In Debian's
Chromium, with axe-core on every page at 375 px (standard and elderly-friendly mode). Selectors
use ids, hrefs and classes: labels are being translated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.points import services as points
from livingroom.points.models import Reward
from livingroom.volunteering import services
from livingroom.volunteering.models import Certificate, Signup, Volunteer
from tests import factories as f
from tests.browser.test_booking import sign_in
from tests.browser.test_browser import PHONE, assert_accessible, at

PHONE_NUMBER = "13712347777"
VETERAN_PHONE = "13712346666"


def local_at(days: int, hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def volunteering(ledger_emptied_after):
    street = f.StreetFactory(code="440306001", name="西乡街道")
    gushu = f.CommunityFactory(street=street, code="440306001001", name="固戍社区")
    center = f.CenterFactory(community=gushu, name="固戍社区党群服务中心")
    desk = f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=gushu)
    scope = staff_scope(desk)
    cleaning = services.activity_create(
        staff=desk,
        scope=scope,
        draft=services.ActivityDraft(
            center_id=center.pk,
            title="社区环境清洁日",
            description="清理公共区域的垃圾和小广告。",
            requirements="穿运动鞋",
            points_per_hour=1,
            bonus_points=2,
            shifts=[
                services.ShiftDraft("清洁员", "固戍客厅门口", local_at(2, 9), local_at(2, 12), 6),
                services.ShiftDraft("物资登记", "固戍客厅前台", local_at(2, 8, 30), local_at(2, 12), 1),
            ],
        ),
    )
    # A volunteer with a served, confirmed shift (the organiser vouched for 150 minutes).
    veteran = f.ResidentFactory(user__phone=VETERAN_PHONE, real_name="王建国", home_community=gushu)
    services.volunteer_register(user=veteran.user, consent=True, skills="摄影")
    past = services.activity_create(
        staff=desk,
        scope=scope,
        now=local_at(-4, 9),
        draft=services.ActivityDraft(
            center_id=center.pk,
            title="敬老院探访",
            points_per_hour=1,
            bonus_points=2,
            shifts=[services.ShiftDraft("陪伴员", "固戍敬老院", local_at(-3, 9), local_at(-3, 12), 4)],
        ),
    )
    shift = past.shifts.get()
    signup = services.signup_create(user=veteran.user, shift_id=shift.pk, now=local_at(-4, 10))
    services.hours_confirm(
        staff=desk,
        scope=scope,
        shift_id=shift.pk,
        lines=[services.HoursLine(signup_id=signup.pk, minutes=150, reason="扫码机故障，按签到表")],
        now=local_at(-3, 13),
    )
    for kind, name, price, stock, vending in (
        (Reward.Kind.DRINK, "矿泉水", 3, 20, True),
        (Reward.Kind.GOODS, "环保购物袋", 8, 0, False),
    ):
        points.reward_create(
            staff=desk,
            scope=scope,
            draft=points.RewardDraft(
                center_id=center.pk,
                kind=kind,
                name=name,
                price_points=price,
                stock=stock,
                at_vending=vending,
                at_desk=not vending,
            ),
        )
    resident = f.ResidentFactory(user__phone=PHONE_NUMBER, real_name="李晓梅", home_community=gushu)
    return {"cleaning": cleaning, "resident": resident, "veteran": veteran}


@pytest.mark.browser
def test_a_resident_registers_signs_up_and_sees_their_volunteering(new_page, volunteering, artifacts):
    cleaning, resident = volunteering["cleaning"], volunteering["resident"]
    cleaner, desk_shift = cleaning.shifts.get(role="清洁员"), cleaning.shifts.get(role="物资登记")
    page = new_page(PHONE)
    sign_in(page, PHONE_NUMBER)

    # From the home page to the activity list.
    page.click("main a[href='/volunteer/']")
    page.wait_for_url(at("/volunteer/"))
    assert page.locator(".vol-activity").count() == 1
    assert page.locator(".vol-activity .shift").count() == 2
    assert_accessible(page, "volunteer activities")
    page.screenshot(path=artifacts / "volunteering-list.png", full_page=True)

    # The activity: not a volunteer yet, so a link to register (and back).
    page.click(f".vol-activity a[href='/volunteer/activities/{cleaning.pk}/']")
    page.wait_for_url(at(f"/volunteer/activities/{cleaning.pk}/"))
    assert page.locator("form[action*='/signup/']").count() == 0
    assert_accessible(page, "volunteer activity (not a volunteer)")
    page.click("#shifts a[href^='/me/volunteering/?next=']")
    page.wait_for_url(at("/me/volunteering/"))
    assert_accessible(page, "volunteer registration")
    page.screenshot(path=artifacts / "volunteering-register.png", full_page=True)

    # Without the consent ticked, the registration is refused on the form.
    page.fill("#id_skills", "急救证")
    page.click("form[action='/me/volunteering/register/'] button[type=submit]")
    page.wait_for_selector("#consent-error")
    assert not Volunteer.objects.filter(resident=resident).exists()
    assert_accessible(page, "volunteer registration refused")
    page.check("#id_consent")
    page.click("form[action='/me/volunteering/register/'] button[type=submit]")
    page.wait_for_url(at(f"/volunteer/activities/{cleaning.pk}/"))
    volunteer = Volunteer.objects.get(resident=resident)
    assert volunteer.skills == "急救证"

    # Sign up for the cleaning shift: the page says so and the place is taken.
    page.click(f"form[action='/volunteer/shifts/{cleaner.pk}/signup/'] button[type=submit]")
    page.wait_for_url(at(f"/volunteer/activities/{cleaning.pk}/"))
    assert page.locator(".flash__item--success").count() == 1
    assert page.locator(f"#shift-{cleaner.pk}.shift--mine").count() == 1
    assert_accessible(page, "volunteer activity (signed up)")
    page.screenshot(path=artifacts / "volunteering-signed-up.png", full_page=True)
    (signup,) = Signup.objects.filter(volunteer=volunteer)
    assert signup.shift_id == cleaner.pk

    # The desk shift overlaps: refused, with the reason on the page, and nothing written.
    page.click(f"form[action='/volunteer/shifts/{desk_shift.pk}/signup/'] button[type=submit]")
    page.wait_for_url(at(f"/volunteer/activities/{cleaning.pk}/"))
    assert page.locator(".flash__item--error").count() == 1
    assert "社区环境清洁日" in page.locator(".flash__item--error").inner_text()
    assert Signup.objects.filter(volunteer=volunteer).count() == 1

    # My volunteering: the number, the upcoming shift with its cancel button.
    page.goto("/me/volunteering/")
    assert page.locator("#volunteer-number").inner_text().strip() == volunteer.number
    assert page.locator(f"form[action='/me/volunteering/signups/{signup.pk}/cancel/']").count() == 1
    assert_accessible(page, "my volunteering")
    page.screenshot(path=artifacts / "volunteering-mine.png", full_page=True)

    # Points and rewards.
    page.goto("/me/points/")
    assert page.locator("#points-total").inner_text().strip() == "0"
    assert_accessible(page, "my points")
    page.goto("/rewards/")
    assert page.locator(".reward").count() == 2
    assert page.locator(".reward--out").count() == 1
    assert page.locator("a[href='/me/pass/']").count() >= 1
    assert_accessible(page, "rewards")
    page.screenshot(path=artifacts / "points-rewards.png", full_page=True)


@pytest.mark.browser
def test_a_volunteer_issues_a_certificate_and_anyone_checks_it(new_page, volunteering, artifacts):
    veteran = volunteering["veteran"]
    page = new_page(PHONE)
    sign_in(page, VETERAN_PHONE)
    page.goto("/me/volunteering/")
    assert page.locator("#hours-total").inner_text().strip() == "2.5"
    page.click("form[action='/me/volunteering/certificates/'] button[type=submit]")
    page.wait_for_url(lambda url: "/me/volunteering/" in url)
    certificate = Certificate.objects.get(volunteer__resident=veteran)
    link = page.locator(f"a[href='/me/certificates/{certificate.pk}.pdf']")
    assert link.count() == 1
    assert_accessible(page, "my volunteering (with a certificate)")
    page.screenshot(path=artifacts / "volunteering-certificate.png", full_page=True)
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"certificate-{certificate.number}.pdf"

    page.goto("/me/points/")
    assert page.locator("#points-total").inner_text().strip() == "4"  # 2 h 30 min + 2 per shift
    assert page.locator(".pts-entry").count() == 1
    assert_accessible(page, "my points (an award)")
    page.screenshot(path=artifacts / "points-mine.png", full_page=True)

    # Anyone, signed out, in the elderly-friendly mode, types the code.
    other = new_page(PHONE)
    other.goto("/certificates/verify/")
    other.click("form[action='/settings/elderly/'] button")
    other.wait_for_function("document.body.classList.contains('elderly')")
    other.fill("#f-code", certificate.code.lower())
    other.click("form[role=search] button[type=submit]")
    other.wait_for_url(at(f"/certificates/verify/{certificate.code}/"))
    assert other.locator("#v-name").inner_text().strip() == "王**"
    assert veteran.id_number not in other.content()
    assert_accessible(other, "certificate check (elderly)")
    other.screenshot(path=artifacts / "volunteering-verify-elderly.png", full_page=True)
    other.goto("/certificates/verify/ABCDEFGHJKLM/")
    assert other.locator(".verify-none").count() == 1
    assert_accessible(other, "certificate check, no such code (elderly)")


@pytest.mark.browser
def test_the_volunteering_pages_pass_axe_in_the_elderly_mode(new_page, volunteering, artifacts):
    page = new_page(PHONE)
    sign_in(page, VETERAN_PHONE)
    page.click("form[action='/settings/elderly/'] button")
    page.wait_for_function("document.body.classList.contains('elderly')")
    for label, path in (
        ("volunteer activities", "/volunteer/"),
        ("volunteer activity", f"/volunteer/activities/{volunteering['cleaning'].pk}/"),
        ("my volunteering", "/me/volunteering/"),
        ("my points", "/me/points/"),
        ("rewards", "/rewards/"),
        ("home", "/"),
    ):
        page.goto(path)
        assert_accessible(page, f"{label} (elderly)")
        page.screenshot(
            path=artifacts / f"volunteering-elderly-{label.replace(' ', '-')}.png", full_page=True
        )
    box = page.locator("main a[href='/volunteer/']").first.bounding_box()
    assert box and box["height"] >= 60
