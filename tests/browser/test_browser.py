"""End to end in Debian's Chromium: what a resident on a phone and a member of staff at a desk see.

Checks what is on the screen (text of the data these tests create), not only status codes; runs
axe-core on the resident pages in the standard and the elderly-friendly mode; saves screenshots to
test-artifacts/ for a person to look at. UI labels are being translated, so selectors use ids,
hrefs, names and roles, and text checks use names of places and people made here.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from livingroom.people.models import StaffRole
from livingroom.people.sms import latest_outbox_message
from livingroom.places.models import Facility, Space
from tests import factories as f
from tests.conftest import totp_now

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "src" / "livingroom" / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 900}

RESIDENT_NAME = "李晓梅"
RESIDENT_MASKED = "李**"
PUBLIC_SPACES = ["自习室", "阅览室", "舞蹈室"]  # floor, then name: the order of the center page
OFFICE_SPACES = ["办公室", "旧办公区"]


def path_of(url: str) -> str:
    return urlsplit(url).path


def at(path: str):
    """A predicate for ``page.wait_for_url``: the page is at ``path`` (any query)."""
    return lambda url: path_of(url) == path


# --- data ---------------------------------------------------------------------------------------


@pytest.fixture
def world(transactional_db):
    """Two sub-districts, three communities with a center each; the first center is renovated, open
    every day, has three public spaces, an office in use, an office closed at the renovation and
    three facilities. Three residents and two members of staff."""
    xixiang = f.StreetFactory(code="440306001", name="西乡街道")
    xinan = f.StreetFactory(code="440306002", name="新安街道")
    gushu = f.CommunityFactory(street=xixiang, code="440306001001", name="固戍社区")
    longzhu = f.CommunityFactory(street=xixiang, code="440306001002", name="龙珠社区")
    baomin = f.CommunityFactory(street=xinan, code="440306002001", name="宝民社区")
    renovated = timezone.localdate() - dt.timedelta(days=400)
    home = f.CenterFactory(
        community=gushu,
        address="宝安区西乡街道固戍一路 1 号",
        phone="0755-27000000",
        renovated_on=renovated,
        is_pilot=True,
    )
    longzhu_center = f.CenterFactory(community=longzhu)
    baomin_center = f.CenterFactory(community=baomin)
    for weekday in range(7):
        f.HoursFactory(center=home, weekday=weekday)
    for weekday in range(5):
        f.HoursFactory(center=longzhu_center, weekday=weekday, opens=dt.time(8, 30), closes=dt.time(18))

    def space(center, name, kind, m2, floor=1, office=False, **kw):
        return f.SpaceFactory(
            center=center, name=name, kind=kind, area_m2=Decimal(m2), floor=floor, is_office=office, **kw
        )

    # 固戍: today 40 office of 300 m² (13.3%); the day before renovation 190 of 310 (61.3%).
    space(home, "自习室", Space.Kind.STUDY, "120", capacity=40, bookable=True)
    space(home, "阅览室", Space.Kind.READING, "80", floor=2, opened_on=renovated)
    space(home, "舞蹈室", Space.Kind.DANCE, "60", floor=3, opened_on=renovated)
    space(home, "办公室", Space.Kind.OFFICE, "40", floor=3, office=True)
    space(home, "旧办公区", Space.Kind.OFFICE, "150", floor=2, office=True, closed_on=renovated)
    space(longzhu_center, "龙珠活动室", Space.Kind.ACTIVITY, "100")  # 50.0% office
    space(longzhu_center, "龙珠办公室", Space.Kind.OFFICE, "100", office=True)
    space(baomin_center, "共享直播间", Space.Kind.LIVESTREAM, "100")  # 20.0% office
    space(baomin_center, "宝民办公室", Space.Kind.OFFICE, "25", office=True)
    f.FacilityFactory(center=home, kind=Facility.Kind.WATER, name="直饮水机")
    f.FacilityFactory(center=home, kind=Facility.Kind.BLOOD_PRESSURE, name="血压计")
    f.FacilityFactory(center=home, kind=Facility.Kind.MEDICINE_BOX, name="便民药箱", quantity=2)

    def resident(name, pinyin, initials, community, phone, id_number):
        return f.ResidentFactory(
            user__phone=phone,
            real_name=name,
            name_pinyin=pinyin,
            name_initials=initials,
            home_community=community,
            id_number=id_number,
        )

    wang_gushu = resident(
        "王建国", "wangjianguo", "wjg", gushu, "13700001111", f.make_id_number(dt.date(1950, 3, 8))
    )
    wang_baomin = resident(
        "王继光", "wangjiguang", "wjg", baomin, "13700002222", f.make_id_number(dt.date(1985, 7, 1))
    )
    resident("张三", "zhangsan", "zs", gushu, "13700003333", f.make_id_number())
    return SimpleNamespace(
        streets=(xixiang, xinan),
        gushu=gushu,
        home=home,
        longzhu_center=longzhu_center,
        baomin_center=baomin_center,
        wang_gushu=wang_gushu,
        wang_baomin=wang_baomin,
        worker=f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=gushu),
        district=f.staff_with_role(StaffRole.Role.DISTRICT_OFFICIAL),
    )


# --- helpers ------------------------------------------------------------------------------------


def sms_code(phone: str) -> str:
    message = latest_outbox_message(phone)
    assert message is not None, f"no SMS sent to {phone}"
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", message.body)
    assert match, message.body
    return match.group(1)


def assert_accessible(page, label: str) -> None:
    """axe-core finds no serious or critical violation, and the page does not scroll sideways."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make static` (scripts/copy_vendor.py)", pytrace=False)
    # From our own static files: the Content-Security-Policy refuses an inline script tag.
    page.add_script_tag(url="/static/vendor/axe-core/" + AXE_JS.name)
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
            }));
        }"""
    )
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    report = "\n".join(
        f"  [{v['impact']}] {v['id']}: {v['help']}\n"
        + "\n".join(f"      {n['target']}: {' '.join((n['summary'] or '').split())}" for n in v["nodes"])
        for v in bad
    )
    assert not bad, f"axe on {label} ({page.url}):\n{report}"
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"{label}: the page is {width}px wide in a {viewport}px viewport"


def resident_journey(page, world, phone: str, check=lambda page, label: None) -> None:
    """A new resident signs in with an SMS code, fills the real-name profile and looks around.

    ``check(page, label)`` runs on every page on the way (axe, screenshots)."""
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "西乡街道" in page.locator("main").inner_text()  # the sub-district list
    check(page, "anonymous home")

    page.locator("main a[href='/login/']").first.click()
    page.wait_for_url(at("/login/"))
    check(page, "sign-in: phone")
    page.fill("#id_phone", phone)
    page.click("main form button[type=submit]")
    page.wait_for_url(at("/login/code/"))
    assert phone[-4:] in page.locator("main").inner_text()  # "sent to 137****5678"
    assert phone not in page.content()
    check(page, "sign-in: code")
    page.fill("#id_code", sms_code(phone))
    page.click("main form button[type=submit]")

    page.wait_for_url(at("/me/profile/"))  # a new user has no profile yet
    assert page.locator("#id_real_name").is_visible()
    check(page, "profile (new)")
    page.fill("#id_real_name", RESIDENT_NAME)
    page.fill("#id_id_number", f.make_id_number(dt.date(1968, 5, 12), sex=2))
    page.select_option("#id_home_community", str(world.gushu.pk))
    page.check("#id_consent")
    page.click("form:has(#id_real_name) button[type=submit]")

    page.wait_for_url(at("/"))
    greeting = page.locator("#greeting").inner_text()
    assert RESIDENT_MASKED in greeting, greeting
    assert RESIDENT_NAME not in page.locator("body").inner_text()
    assert "固戍社区" in page.locator(".hero__sub").inner_text()
    my_center = page.locator("section[aria-labelledby=center-title]")
    assert world.home.name in my_center.inner_text()
    assert "09:00–21:00" in my_center.inner_text()  # open every day
    check(page, "home (signed in)")

    page.click("nav.tabbar a[href='/me/pass/']")
    page.wait_for_url(at("/me/pass/"))
    assert page.locator(".pass-card__name").inner_text().strip() == f"{RESIDENT_MASKED} · 固戍社区"
    qr = page.locator("#pass-qr svg")
    assert qr.count() == 1 and qr.locator("path").count() >= 1  # inline SVG, not an <img>
    assert page.locator("#pass-qr img").count() == 0
    box = qr.bounding_box()
    assert box and box["width"] >= 200 and abs(box["width"] - box["height"]) < 2, box
    check(page, "pass")

    page.click("nav.tabbar a[href='/centers/']")
    page.wait_for_url(at("/centers/"))
    names = page.locator(".center-item__name").all_inner_texts()
    assert set(names) == {world.home.name, world.longzhu_center.name, world.baomin_center.name}, names
    check(page, "centers")

    page.goto("/")
    page.click("section[aria-labelledby=center-title] .card__lead a")
    page.wait_for_url(at(f"/centers/{world.home.pk}/"))
    assert page.locator("h1").inner_text().strip() == world.home.name
    spaces = [s.strip() for s in page.locator(".space__name").all_inner_texts()]
    assert spaces == PUBLIC_SPACES, spaces
    space_text = page.locator(".space-list").inner_text()
    for office in OFFICE_SPACES:
        assert office not in space_text and office not in page.content()
    facilities = page.locator("section[aria-labelledby=fac-title]").inner_text()
    assert "直饮水机" in facilities and "血压计" in facilities and "便民药箱 ×2" in facilities
    assert page.locator("table.hours tbody tr").count() == 7
    check(page, "center detail")

    page.click("nav.tabbar a[href='/me/profile/']")
    page.wait_for_url(at("/me/profile/"))
    facts = page.locator("dl.facts").inner_text()
    assert RESIDENT_NAME in facts and "固戍社区" in facts  # the resident sees her own name
    assert re.search(r"4403\*{10}\d{3}[\dX]", facts), facts  # but her ID number masked
    assert phone not in facts and f"{phone[:3]}****{phone[-4:]}" in facts
    check(page, "profile (saved)")


def staff_sign_in(page, user) -> None:
    page.goto("/console/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", f.STAFF_PASSWORD)
    page.fill("#id_totp", totp_now(user))
    page.click("main form button[type=submit]")
    page.wait_for_url(at("/console/"))
    assert page.locator("nav.console-nav").is_visible()


def center_rows(page) -> list[str]:
    return [n.strip() for n in page.locator("#centers tbody tr td:nth-child(3) a").all_inner_texts()]


def share_cells(page) -> list[str]:
    return [c.strip() for c in page.locator("#centers tbody tr td:nth-child(6)").all_inner_texts()]


def search_residents(page, q: str):
    page.goto("/console/residents/")
    page.fill("main input#q", q)
    page.press("main input#q", "Enter")
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("q") == [q])
    return page.locator("main table tbody tr")


# --- tests --------------------------------------------------------------------------------------


@pytest.mark.browser
def test_resident_signs_in_on_a_phone(new_page, world, artifacts):
    page = new_page(PHONE)

    def screenshot(page, label):
        if label == "home (signed in)":
            page.screenshot(path=artifacts / "resident-home.png", full_page=True)

    resident_journey(page, world, "13712345678", check=screenshot)
    assert (artifacts / "resident-home.png").stat().st_size > 10_000


@pytest.mark.browser
def test_community_worker_sees_only_their_center_and_masked_residents(new_page, world):
    page = new_page(DESKTOP)
    staff_sign_in(page, world.worker)
    page.click("nav.console-nav a[href='/console/centers/']")
    page.wait_for_url(at("/console/centers/"))
    assert center_rows(page) == [world.home.name]
    assert share_cells(page) == ["13.3%"]

    rows = search_residents(page, "wjg")  # pinyin initials of 王建国; 王继光 lives in another community
    assert rows.count() == 1
    row = rows.first.inner_text()
    wang = world.wang_gushu
    masked_id = wang.id_number[:4] + "*" * 10 + wang.id_number[-4:]
    assert "王**" in row and masked_id in row and "137****1111" in row and "固戍社区" in row, row
    html = page.content()
    assert wang.id_number not in html and "13700001111" not in html and "王建国" not in html
    assert world.wang_baomin.id_number not in html and "13700002222" not in html

    rows.first.locator("a").click()
    page.wait_for_url(at(f"/console/residents/{wang.pk}/"))
    facts = page.locator("dl.facts").inner_text()
    assert masked_id in facts and "137****1111" in facts, facts
    assert wang.id_number not in page.content() and "13700001111" not in page.content()


@pytest.mark.browser
def test_district_official_sees_every_center_and_sorts_by_office_share(new_page, world, artifacts):
    page = new_page(DESKTOP)
    staff_sign_in(page, world.district)
    page.goto("/console/centers/")
    home, longzhu, baomin = world.home.name, world.longzhu_center.name, world.baomin_center.name
    assert center_rows(page) == [home, longzhu, baomin]  # by community code
    assert share_cells(page) == ["13.3%", "50.0%", "20.0%"]
    before = [c.strip() for c in page.locator("#centers tbody tr td:nth-child(7)").all_inner_texts()]
    assert before == ["61.3%", "—", "—"]
    page.screenshot(path=artifacts / "console-centers.png", full_page=True)

    share_th = page.locator("#centers thead th").nth(5)
    assert share_th.get_attribute("aria-sort") == "none"
    share_th.locator("a").click()
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("sort") == ["office_share"])
    assert center_rows(page) == [home, baomin, longzhu]
    assert page.locator("#centers thead th").nth(5).get_attribute("aria-sort") == "ascending"
    page.locator("#centers thead th").nth(5).locator("a").click()
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("sort") == ["-office_share"])
    assert center_rows(page) == [longzhu, baomin, home]
    assert share_cells(page) == ["50.0%", "20.0%", "13.3%"]
    assert page.locator("#centers thead th").nth(5).get_attribute("aria-sort") == "descending"

    rows = search_residents(page, "wjg")  # the whole district: both 王
    assert rows.count() == 2
    text = page.locator("main table tbody").inner_text()
    assert "137****1111" in text and "137****2222" in text
    html = page.content()
    for wang in (world.wang_gushu, world.wang_baomin):
        assert wang.id_number not in html and wang.real_name not in html
    assert "13700001111" not in html and "13700002222" not in html


@pytest.mark.browser
def test_anonymous_console_visit_goes_to_staff_sign_in(new_page, world):
    page = new_page(DESKTOP)
    page.goto("/console/")
    assert path_of(page.url) == "/console/login/"
    assert parse_qs(urlsplit(page.url).query) == {"next": ["/console/"]}
    assert page.locator("#id_username").is_visible() and page.locator("#id_totp").is_visible()
    assert page.locator("nav.console-nav").count() == 0


@pytest.mark.browser
def test_language_switch(new_page, world):
    page = new_page(PHONE)
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.click("button[name=language][value=en]")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert path_of(page.url) == "/"
    page.goto("/centers/")  # the choice sticks
    assert page.locator("html").get_attribute("lang") == "en"
    assert world.home.name in page.locator("main").inner_text()
    assert_accessible(page, "centers in English")  # the "中文" button and English labels
    page.click("button[name=language][value=zh-hans]")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    assert path_of(page.url) == "/centers/"


@pytest.mark.browser
def test_elderly_mode_enlarges_text_and_tap_targets(new_page, world):
    page = new_page(PHONE)
    page.goto("/")
    assert "elderly" not in (page.locator("body").get_attribute("class") or "")
    toggle = page.locator("form[action='/settings/elderly/'] button")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    page.wait_for_function("document.body.classList.contains('elderly')")
    assert page.locator("form[action='/settings/elderly/'] button").get_attribute("aria-pressed") == "true"

    for path in ("/", "/login/"):
        page.goto(path)
        assert "elderly" in page.locator("body").get_attribute("class").split()
        size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 18, f"{path}: body font-size {size}px"
        targets = [
            *page.locator("main .weui-btn_primary").all(),
            *page.locator("nav.tabbar a").all(),
            *page.locator("header .tool-btn").all(),
        ]
        assert len(targets) >= 7, path
        for target in targets:
            box = target.bounding_box()
            assert box and box["height"] >= 60, f"{path}: {target.evaluate('e => e.outerHTML')[:120]} {box}"

    page.locator("form[action='/settings/elderly/'] button").click()  # and back
    page.wait_for_function("!document.body.classList.contains('elderly')")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == 16


@pytest.mark.browser
@pytest.mark.parametrize("mode", ["standard", "elderly"])
def test_resident_pages_have_no_serious_accessibility_violations(new_page, world, mode):
    page = new_page(PHONE)
    if mode == "elderly":
        page.goto("/")
        page.click("form[action='/settings/elderly/'] button")
        page.wait_for_function("document.body.classList.contains('elderly')")
    seen = []

    def check(page, label):
        body_class = page.locator("body").get_attribute("class").split()
        assert ("elderly" in body_class) == (mode == "elderly"), (label, body_class)
        assert_accessible(page, f"{label} [{mode}]")
        seen.append(label)

    resident_journey(page, world, "13712340000" if mode == "standard" else "13712340001", check=check)
    assert len(seen) == 9, seen
