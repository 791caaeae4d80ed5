"""Residents' voice end to end in Debian's Chromium: a resident on a phone answers a survey (its
skip logic shows a question only after the choice it depends on) and submits a request with a
photo; staff at a desk hand it over, respond and resolve it in the console; the resident rates
it; staff publish it with before/after photos and the public board shows it to anyone. axe-core
runs on every resident page at 375 px (standard and elderly-friendly mode); screenshots go to
test-artifacts/. Selectors use ids, hrefs and names: labels are being translated."""

from __future__ import annotations

import pytest

from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.voice import services
from livingroom.voice.models import Photo, Response, Suggestion
from tests import factories as f
from tests.browser.test_booking import sign_in
from tests.browser.test_browser import PHONE, assert_accessible, at, staff_sign_in
from tests.voice.conftest import jpeg_bytes, standard_questions

PHONE_NUMBER = "13712345555"
WIDE = {"width": 1280, "height": 900}
REQUEST_TEXT = "自习室的台灯有两盏不亮了，晚上看书很暗。"


@pytest.fixture
def voice_browser(ledger_emptied_after, tmp_path):
    street = f.StreetFactory(code="440306001", name="西乡街道")
    gushu = f.CommunityFactory(street=street, code="440306001001", name="固戍社区")
    center = f.CenterFactory(community=gushu, name="固戍社区党群服务中心")
    desk = f.staff_with_role(StaffRole.Role.COMMUNITY_WORKER, community=gushu)
    org = f.OrganizationFactory(name="固戍物业服务中心")
    org.centers.add(center)
    survey = services.survey_create(
        staff=desk,
        scope=staff_scope(desk),
        draft=services.SurveyDraft(
            title="百姓客厅需求调查", community_id=gushu.pk, questions=standard_questions()
        ),
    )
    services.survey_publish(staff=desk, scope=staff_scope(desk), survey_id=survey.pk)
    resident = f.ResidentFactory(user__phone=PHONE_NUMBER, real_name="李晓梅", home_community=gushu)
    photos = {}
    for name, color in (("report", "orange"), ("before", "gray"), ("after", "green")):
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(jpeg_bytes(640, 480, color))
        photos[name] = path
    return {
        "center": center,
        "desk": desk,
        "org": org,
        "survey": survey,
        "resident": resident,
        "photos": photos,
    }


def image_loaded(page, selector: str) -> bool:
    """The image is decoded and has a size (lazy images are scrolled to first)."""
    page.locator(selector).scroll_into_view_if_needed()
    page.wait_for_function(
        "sel => { const img = document.querySelector(sel); return img && img.complete && img.naturalWidth; }",
        arg=selector,
    )
    return True


@pytest.mark.browser
def test_a_request_from_survey_to_the_public_board(new_page, voice_browser, artifacts):
    world = voice_browser
    survey, resident = world["survey"], world["resident"]
    q = list(survey.questions.order_by("position").values_list("pk", flat=True))
    page = new_page(PHONE)
    sign_in(page, PHONE_NUMBER)

    # Home → surveys → the survey.
    page.click("main a[href='/surveys/']")
    page.wait_for_url(at("/surveys/"))
    assert page.locator("#surveys .survey").count() == 1
    assert_accessible(page, "surveys")
    page.click(f"#surveys a[href='/surveys/{survey.pk}/']")
    page.wait_for_url(at(f"/surveys/{survey.pk}/"))

    # Skip logic: question 4 appears only once question 1 got its second choice.
    assert not page.locator("#question-4").is_visible()
    page.click(f"label[for='id_q{q[0]}_1']")
    assert page.locator("#question-4").is_visible()
    page.click(f"label[for='id_q{q[0]}_0']")
    assert not page.locator("#question-4").is_visible()
    page.click(f"label[for='id_q{q[0]}_1']")
    page.fill(f"#id_q{q[3]}", "上自习")
    page.click(f"label[for='id_q{q[1]}_0']")
    page.click(f"label[for='id_q{q[1]}_2']")
    page.fill(f"#id_q{q[4]}", "希望晚上开到十点")
    assert_accessible(page, "survey")
    page.screenshot(path=artifacts / "voice-survey.png", full_page=True)

    # The required rating is missing: shown on its question, nothing saved.
    page.click("#survey-form button[type=submit]")
    page.wait_for_selector("#question-3 .field__error")
    assert Response.objects.count() == 0
    assert page.locator(f"#id_q{q[4]}").input_value() == "希望晚上开到十点"
    assert_accessible(page, "survey refused")
    page.screenshot(path=artifacts / "voice-survey-refused.png", full_page=True)
    page.click(f"label[for='id_q{q[2]}_3']")  # 4 of 5
    page.click("#survey-form button[type=submit]")
    page.wait_for_selector("#answered")
    assert page.locator(".flash__item--success").count() == 1
    answer = Response.objects.get(survey=survey)
    assert sorted(answer.answers.values_list("question_id", "choice", "number", "text")) == sorted(
        [
            (q[0], "b", None, ""),
            (q[1], "a", None, ""),
            (q[1], "c", None, ""),
            (q[2], "", 4, ""),
            (q[3], "", None, "上自习"),
            (q[4], "", None, "希望晚上开到十点"),
        ]
    )
    assert_accessible(page, "survey answered")
    page.screenshot(path=artifacts / "voice-survey-answered.png", full_page=True)

    # A request with a photo: its tracking number at once.
    page.click("#answered a[href='/suggestions/new/']")
    page.wait_for_url(at("/suggestions/new/"))
    assert page.locator("#id_center").input_value() == str(world["center"].pk)
    page.click("label[for='id_kind_4']")  # suggestion
    page.click("label[for='id_category_0']")  # facilities
    page.fill("#id_text", REQUEST_TEXT)
    page.set_input_files("#id_photos", str(world["photos"]["report"]))
    assert_accessible(page, "new request")
    page.screenshot(path=artifacts / "voice-request-new.png", full_page=True)
    page.click("#suggestion-form button[type=submit]")
    page.wait_for_url(lambda url: "/suggestions/JY" in url)
    made = Suggestion.objects.get(resident=resident)
    assert page.url.endswith(f"/suggestions/{made.tracking_no}/")
    assert page.locator("#tracking-no").inner_text() == made.tracking_no
    assert made.tracking_no in page.locator(".flash__item--success").inner_text()
    report = Photo.objects.get(suggestion=made)
    assert (report.kind, report.width, report.height) == ("report", 640, 480)
    assert image_loaded(page, f"#request-photos img[src='/voice/photos/{report.pk}.jpg']")
    assert_accessible(page, "request received")
    page.screenshot(path=artifacts / "voice-request-received.png", full_page=True)

    # Staff hand it over, respond and resolve it in the console.
    desk_page = new_page(WIDE, locale="en-US")
    staff_sign_in(desk_page, world["desk"])
    desk_page.goto(f"/console/voice/suggestions/{made.pk}/")
    assert REQUEST_TEXT in desk_page.locator("#request-text").inner_text()
    desk_page.select_option("#id_assign-organization", str(world["org"].pk))
    desk_page.fill("#id_assign-note", "请物业更换灯管")
    desk_page.click("#assign button")
    desk_page.wait_for_selector("#owner:has-text('固戍物业服务中心')")
    desk_page.fill("#id_respond-message", "您好，已收到，物业明天上门更换。")
    desk_page.click("#respond button")
    desk_page.wait_for_load_state()
    made.refresh_from_db()
    assert (made.status, made.owner_organization_id) == ("in_progress", world["org"].pk)
    desk_page.fill("#id_resolve-reply", "已更换自习室全部台灯灯管。")
    desk_page.fill("#id_resolve-done_note", "更换自习室台灯灯管")
    desk_page.click("#resolve button")
    desk_page.wait_for_load_state()
    made.refresh_from_db()
    assert made.status == "resolved"
    desk_page.screenshot(path=artifacts / "voice-flow-console-resolved.png", full_page=True)

    # The resident sees the reply and rates it (satisfied), in the elderly-friendly mode.
    page.reload()
    assert page.locator("#request-reply").inner_text() == "已更换自习室全部台灯灯管。"
    assert page.locator("#timeline .event--resolved").count() == 1
    page.click("form[action='/settings/elderly/'] button")
    page.wait_for_function("document.body.classList.contains('elderly')")
    assert_accessible(page, "request resolved (elderly)")
    page.screenshot(path=artifacts / "voice-request-resolved-elderly.png", full_page=True)
    page.click("label[for='id_rating_1']")  # satisfied
    page.click("#rate button[type=submit]")
    page.wait_for_selector("#request-rating")
    made.refresh_from_db()
    assert (made.status, made.rating) == ("closed", 4)
    assert page.locator("#rate").count() == 0
    assert_accessible(page, "request rated (elderly)")
    page.screenshot(path=artifacts / "voice-request-rated-elderly.png", full_page=True)

    # Staff publish it with a summary and before/after photos.
    desk_page.goto(f"/console/voice/suggestions/{made.pk}/")
    desk_page.fill("#id_publish-summary", "居民反映自习室台灯不亮")
    desk_page.fill("#id_publish-done_note", "更换了自习室全部台灯灯管")
    desk_page.click("#publish form:has(input[value=publish]) button")
    desk_page.wait_for_load_state()
    for kind in ("before", "after"):
        desk_page.check(f"#photo input[name='photo-kind'][value='{kind}']")
        desk_page.set_input_files("#id_photo-photo", str(world["photos"][kind]))
        desk_page.click("#photo button")
        desk_page.wait_for_load_state()
    made.refresh_from_db()
    assert made.is_public and made.public_summary == "居民反映自习室台灯不亮"
    assert sorted(made.photos.values_list("kind", flat=True)) == ["after", "before", "report"]

    # Anyone sees it on the public board: summary, reply, what was done, before and after.
    anyone = new_page(PHONE)
    anyone.goto("/board/")
    item = anyone.locator(f"#board-{made.tracking_no}")
    assert item.locator(".vc-card__summary").inner_text() == "居民反映自习室台灯不亮"
    assert item.locator(".board-reply").inner_text() == "已更换自习室全部台灯灯管。"
    assert item.locator(".board-done").inner_text() == "更换了自习室全部台灯灯管"
    before, after = (made.photos.get(kind=k) for k in ("before", "after"))
    assert image_loaded(anyone, f"#board-{made.tracking_no} img[src='/voice/photos/{before.pk}.jpg']")
    assert image_loaded(anyone, f"#board-{made.tracking_no} img[src='/voice/photos/{after.pk}.jpg']")
    assert item.locator(f"img[src='/voice/photos/{report.pk}.jpg']").count() == 0
    body = anyone.locator("body").inner_text()
    assert "李晓梅" not in body and REQUEST_TEXT not in body
    assert_accessible(anyone, "public board")
    anyone.screenshot(path=artifacts / "voice-board.png", full_page=True)
    anyone.click("form[action='/settings/elderly/'] button")
    anyone.wait_for_function("document.body.classList.contains('elderly')")
    assert_accessible(anyone, "public board (elderly)")
    anyone.screenshot(path=artifacts / "voice-board-elderly.png", full_page=True)
    # ... and the center's own board.
    anyone.click(f"#board-{made.tracking_no} a[href='/centers/{world['center'].pk}/board/']")
    anyone.wait_for_url(at(f"/centers/{world['center'].pk}/board/"))
    assert anyone.locator(".board-item").count() == 1


@pytest.mark.browser
def test_a_visitor_answers_an_anonymous_survey_without_signing_in(new_page, voice_browser, artifacts):
    world = voice_browser
    desk = world["desk"]
    survey = services.survey_create(
        staff=desk,
        scope=staff_scope(desk),
        draft=services.SurveyDraft(
            title="夜间开放时间征求意见",
            community_id=world["center"].community_id,
            anonymous=True,
            questions=standard_questions(),
        ),
    )
    services.survey_publish(staff=desk, scope=staff_scope(desk), survey_id=survey.pk)
    q = list(survey.questions.order_by("position").values_list("pk", flat=True))
    page = new_page(PHONE)
    page.goto(f"/surveys/{survey.pk}/")
    assert page.locator("#anonymous-note").is_visible()
    page.click("form[action='/settings/elderly/'] button")
    page.wait_for_function("document.body.classList.contains('elderly')")
    page.click(f"label[for='id_q{q[0]}_0']")
    page.click(f"label[for='id_q{q[2]}_4']")
    assert_accessible(page, "anonymous survey (elderly)")
    page.screenshot(path=artifacts / "voice-survey-visitor-elderly.png", full_page=True)
    page.click("#survey-form button[type=submit]")
    page.wait_for_selector("#answered")
    row = Response.objects.get(survey=survey)
    assert row.respondent_id is None and row.visitor_hash
    # The same browser comes back: already answered, no form.
    page.goto(f"/surveys/{survey.pk}/")
    assert page.locator("#answered").count() == 1 and page.locator("#survey-form").count() == 0
