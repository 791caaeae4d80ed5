"""The resident and public pages of volunteering and points, through Django's test client: the
activity list and its filter, an activity with its shifts and the sign-up (and every refusal shown
as a message, with no row written), my volunteering (registration with consent, sign-ups and their
cancelling, records, corrections, certificates), the certificate PDF (its owner only), the public
check of a certificate (masked facts only), my points (paginated) and the rewards catalogue.

Pages are read in English (the language cookie), so the checks do not depend on translations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from livingroom.core.masking import mask_id_number
from livingroom.people.scopes import staff_scope
from livingroom.points import services as points
from livingroom.points.models import Entry, Reward
from livingroom.volunteering import services
from livingroom.volunteering.models import Activity, Certificate, Correction, Signup, Volunteer
from tests import factories as f
from tests.volunteering.conftest import activity, at, give_points, pass_of

pytestmark = pytest.mark.django_db


# --- helpers ------------------------------------------------------------------------------------


def page_client(resident=None, user=None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if resident is not None:
        client.force_login(resident.user)
    elif user is not None:
        client.force_login(user)
    return client


def html(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.content[:300])
    return response.content.decode()


def text(response, status: int = 200) -> str:
    """The page's visible text, whitespace collapsed (tags dropped)."""
    body = re.sub(r"<style>.*?</style>", " ", html(response, status), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def when(shift) -> str:
    """How a shift's time reads on a page (its start in a no-wrap span)."""
    return f"{local(shift.starts_at)} –{timezone.localtime(shift.ends_at):%H:%M}"


def served(world, volunteer, *, days_ago: int = 2, title: str = "老人探访", confirm: bool = True):
    """A shift ``days_ago`` days ago, 09:00–12:00, that the volunteer signed up for, checked in
    at 08:50 and out at 11:30 (150 minutes), its hours confirmed by the desk unless told not to."""
    made = services.activity_create(
        staff=world["desk"],
        scope=world["scope"],
        draft=services.ActivityDraft(
            center_id=world["center"].pk,
            title=title,
            points_per_hour=1,
            bonus_points=2,
            shifts=[
                services.ShiftDraft(
                    role="陪伴员",
                    place="活动室",
                    starts_at=at(-days_ago, 9),
                    ends_at=at(-days_ago, 12),
                    needed=3,
                )
            ],
        ),
        now=at(-days_ago - 1, 9),
    )
    shift = made.shifts.get()
    user = volunteer.resident.user
    signup = services.signup_create(user=user, shift_id=shift.pk, now=at(-days_ago - 1, 10))
    kiosk = world["kiosk"][0]
    for direction, when in (("in", at(-days_ago, 8, 50)), ("out", at(-days_ago, 11, 30))):
        services.check_at_device(
            device=kiosk, shift_id=shift.pk, token=pass_of(volunteer.resident), direction=direction, now=when
        )
    if confirm:
        services.hours_confirm(
            staff=world["desk"], scope=world["scope"], shift_id=shift.pk, now=at(-days_ago, 13)
        )
    signup.refresh_from_db()
    return signup


# --- the list -----------------------------------------------------------------------------------


def test_the_list_shows_open_activities_with_their_shifts(vworld):
    a = activity(vworld)
    shift = a.shifts.get()
    draft = activity(vworld, title="草稿活动", publish=False)
    page = text(page_client().get("/volunteer/"))
    assert "社区环境清洁" in page and draft.title not in page
    assert "清洁员" in page and "固戍客厅门口" in page
    assert when(shift) in page
    assert "2 places left of 2" in page
    assert "1 point per hour + 2 points per shift served" in page
    assert vworld["center"].name in page
    assert f'href="/volunteer/activities/{a.pk}/"' in html(page_client().get("/volunteer/"))


def test_the_list_marks_my_shift_and_a_full_one(vworld):
    a = activity(vworld, shifts=[services.ShiftDraft("门岗", "南门", at(2, 9), at(2, 10), 1)])
    v0 = vworld["volunteers"][0]
    services.signup_create(user=v0.resident.user, shift_id=a.shifts.get().pk)
    assert "You are signed up" in text(page_client(v0.resident).get("/volunteer/"))
    other = text(page_client(vworld["volunteers"][1].resident).get("/volunteer/"))
    assert "Full (1 volunteers)" in other and "You are signed up" not in other


def test_the_center_filter_narrows_the_list_and_ignores_bad_values(vworld, roles, place):
    activity(vworld)
    other_center = place["centers"][1]
    services.activity_create(
        staff=roles["center"],
        scope=staff_scope(roles["center"]),
        draft=services.ActivityDraft(
            center_id=other_center.pk,
            title="龙珠读书会",
            shifts=[services.ShiftDraft("领读", "阅览室", at(3, 14), at(3, 16), 4)],
        ),
    )
    client = page_client()

    def titles(**params) -> set[str]:
        page = text(client.get("/volunteer/", params))
        return {t for t in ("社区环境清洁", "龙珠读书会") if t in page}

    assert titles() == {"社区环境清洁", "龙珠读书会"}
    assert titles(center=str(vworld["center"].pk)) == {"社区环境清洁"}
    assert titles(center=str(other_center.pk)) == {"龙珠读书会"}
    assert titles(center="nonsense") == {"社区环境清洁", "龙珠读书会"}
    assert titles(center="999999") == {"社区环境清洁", "龙珠读书会"}


def test_an_empty_list_says_so():
    assert "No volunteer activities are open" in text(page_client().get("/volunteer/"))


# --- an activity --------------------------------------------------------------------------------


def test_the_activity_page_shows_what_who_points_and_shifts(vworld):
    a = activity(vworld, min_age=18)
    page = text(page_client().get(f"/volunteer/activities/{a.pk}/"))
    assert "清理公共区域。" in page and "穿运动鞋" in page
    assert f"Organiser {vworld['center'].name}" in page
    assert "1 point per hour + 2 points per shift served" in page
    assert "Any registered volunteer; Aged 18 or over" in page
    assert "清洁员" in page and "2 places left of 2" in page
    assert "Sign in to sign up" in page


def test_a_draft_or_unknown_activity_is_404(vworld):
    draft = activity(vworld, publish=False)
    assert page_client().get(f"/volunteer/activities/{draft.pk}/").status_code == 404
    assert page_client().get("/volunteer/activities/999999/").status_code == 404


def test_a_resident_who_is_not_a_volunteer_is_asked_to_register(vworld):
    a = activity(vworld)
    body = html(page_client(vworld["residents"][2]).get(f"/volunteer/activities/{a.pk}/"))
    assert f'href="/me/volunteering/?next=/volunteer/activities/{a.pk}/"' in body
    assert "/volunteer/shifts/" not in body  # no sign-up button


def test_a_volunteer_signs_up_and_sees_it(vworld):
    a = activity(vworld)
    shift = a.shifts.get()
    v = vworld["volunteers"][0]
    client = page_client(v.resident)
    detail = f"/volunteer/activities/{a.pk}/"
    assert f'action="/volunteer/shifts/{shift.pk}/signup/"' in html(client.get(detail))
    response = client.post(f"/volunteer/shifts/{shift.pk}/signup/", {"next": detail}, follow=True)
    assert response.redirect_chain[-1][0] == detail
    assert any(m.startswith("Signed up: 清洁员") for m in flashes(response))
    page = text(response)
    assert "You are signed up" in page and "1 place left of 2" in page
    (signup,) = Signup.objects.filter(shift=shift)
    assert (signup.volunteer_id, signup.status) == (v.pk, "signed_up")
    assert f'action="/me/volunteering/signups/{signup.pk}/cancel/"' in html(response)


def test_signing_up_for_a_full_shift_is_refused_with_a_message(vworld):
    a = activity(vworld, shifts=[services.ShiftDraft("门岗", "南门", at(2, 9), at(2, 10), 1)])
    shift = a.shifts.get()
    services.signup_create(user=vworld["volunteers"][0].resident.user, shift_id=shift.pk)
    client = page_client(vworld["volunteers"][1].resident)
    detail = f"/volunteer/activities/{a.pk}/"
    assert "/volunteer/shifts/" not in html(client.get(detail))  # a full shift has no button
    response = client.post(f"/volunteer/shifts/{shift.pk}/signup/", {"next": detail}, follow=True)
    assert flashes(response) == ["This shift already has all the volunteers it needs."]
    assert Signup.objects.filter(shift=shift).count() == 1


def test_signing_up_twice_is_refused_with_a_message(vworld):
    shift = activity(vworld).shifts.get()
    client = page_client(vworld["volunteers"][0].resident)
    client.post(f"/volunteer/shifts/{shift.pk}/signup/", follow=True)
    response = client.post(f"/volunteer/shifts/{shift.pk}/signup/", follow=True)
    assert flashes(response) == ["You have already signed up for this shift."]
    assert Signup.objects.filter(shift=shift).count() == 1


def test_an_overlapping_shift_is_refused_with_a_message(vworld):
    first = activity(vworld).shifts.get()
    second = activity(
        vworld,
        title="敬老院义诊",
        shifts=[services.ShiftDraft("引导员", "敬老院", at(1, 11), at(1, 13), 3)],
    ).shifts.get()
    client = page_client(vworld["volunteers"][0].resident)
    client.post(f"/volunteer/shifts/{first.pk}/signup/", follow=True)
    response = client.post(f"/volunteer/shifts/{second.pk}/signup/", follow=True)
    assert flashes(response) == ["You are signed up for “社区环境清洁” at that time."]
    assert not Signup.objects.filter(shift=second).exists()


def test_a_volunteer_of_another_community_sees_why_and_is_refused(vworld):
    a = activity(vworld, audience=Activity.Audience.COMMUNITY)
    shift = a.shifts.get()
    outsider = vworld["outsider"]
    services.volunteer_register(user=outsider.user, consent=True)
    client = page_client(outsider)
    detail = f"/volunteer/activities/{a.pk}/"
    page = text(client.get(detail))
    assert f"This activity is for other volunteers: residents of {vworld['community'].name}." in page
    response = client.post(f"/volunteer/shifts/{shift.pk}/signup/", {"next": detail}, follow=True)
    assert flashes(response) == [
        f"This activity is for other volunteers: residents of {vworld['community'].name}."
    ]
    assert not Signup.objects.filter(shift=shift).exists()


def test_a_resident_of_another_community_is_told_before_registering(vworld):
    a = activity(vworld, audience=Activity.Audience.COMMUNITY)
    page = text(page_client(vworld["outsider"]).get(f"/volunteer/activities/{a.pk}/"))
    assert f"This activity is for other volunteers: residents of {vworld['community'].name}." in page
    assert "Register as a volunteer" in page


def test_a_resident_who_is_not_a_volunteer_cannot_sign_up(vworld):
    shift = activity(vworld).shifts.get()
    response = page_client(vworld["residents"][2]).post(f"/volunteer/shifts/{shift.pk}/signup/", follow=True)
    assert flashes(response) == ["Please register as a volunteer first."]
    assert not Signup.objects.filter(shift=shift).exists()


def test_signing_up_for_an_unknown_shift_is_404_and_an_outside_next_is_ignored(vworld):
    client = page_client(vworld["volunteers"][0].resident)
    assert client.post("/volunteer/shifts/999999/signup/").status_code == 404
    shift = activity(vworld).shifts.get()
    response = client.post(f"/volunteer/shifts/{shift.pk}/signup/", {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/volunteer/"


def test_anonymous_visitors_are_sent_to_sign_in(vworld):
    shift = activity(vworld).shifts.get()
    client = page_client()
    for method, path in [
        ("post", f"/volunteer/shifts/{shift.pk}/signup/"),
        ("get", "/me/volunteering/"),
        ("post", "/me/volunteering/register/"),
        ("post", "/me/volunteering/corrections/"),
        ("post", "/me/volunteering/certificates/"),
        ("get", "/me/certificates/1.pdf"),
        ("get", "/me/points/"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/?next="), path
    assert not Signup.objects.exists()


def test_signing_up_is_post_only(vworld):
    shift = activity(vworld).shifts.get()
    client = page_client(vworld["volunteers"][0].resident)
    assert client.get(f"/volunteer/shifts/{shift.pk}/signup/").status_code == 405
    assert not Signup.objects.exists()


# --- registering --------------------------------------------------------------------------------


def test_a_resident_registers_with_consent_and_goes_back_to_the_activity(vworld):
    a = activity(vworld)
    resident = vworld["residents"][2]
    client = page_client(resident)
    page = text(client.get(f"/me/volunteering/?next=/volunteer/activities/{a.pk}/"))
    assert "What we keep, and why" in page and "ID number" in page
    assert "I agree to volunteer" in page
    response = client.post(
        "/me/volunteering/register/",
        {"consent": "on", "skills": "急救", "next": f"/volunteer/activities/{a.pk}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/volunteer/activities/{a.pk}/"
    volunteer = Volunteer.objects.get(resident=resident)
    assert volunteer.skills == "急救"
    assert volunteer.consent_version == settings.LIVINGROOM_VOLUNTEER_CONSENT_VERSION
    assert f'action="/volunteer/shifts/{a.shifts.get().pk}/signup/"' in html(
        client.get(f"/volunteer/activities/{a.pk}/")
    )


def test_registering_without_consent_is_refused_on_the_form(vworld):
    resident = vworld["residents"][2]
    response = page_client(resident).post("/me/volunteering/register/", {"skills": "摄影"})
    page = text(response, 400)
    assert "Please agree to the volunteer service terms and how your data is used." in page
    assert 'value="摄影"' in html(response, 400)
    assert not Volunteer.objects.filter(resident=resident).exists()


def test_registering_twice_says_so(vworld):
    response = page_client(vworld["volunteers"][0].resident).post(
        "/me/volunteering/register/", {"consent": "on"}, follow=True
    )
    assert flashes(response) == ["You are already registered as a volunteer."]
    assert Volunteer.objects.count() == 2


def test_a_user_without_a_profile_is_sent_to_the_profile(db):
    user = f.UserFactory()
    client = page_client(user=user)
    for path in ("/me/volunteering/", "/me/points/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/me/profile/", path


# --- my volunteering ----------------------------------------------------------------------------


def test_my_volunteering_shows_number_hours_stars_points_and_shifts(vworld):
    v = vworld["volunteers"][0]
    past = served(vworld, v)
    upcoming_shift = activity(vworld).shifts.get()
    upcoming = services.signup_create(user=v.resident.user, shift_id=upcoming_shift.pk)
    give_points(vworld, v.resident, 10)
    v.refresh_from_db()
    response = page_client(v.resident).get("/me/volunteering/")
    page = text(response)
    body = html(response)
    assert v.number in page
    assert "Hours served 2.5" in page
    assert "0 stars" in page and "97.5 more hours to 1 star (100 hours in all)." in page
    assert "My points: 14" in page  # 2 h 30 min: 2 points + 2 per shift; and 10 given
    assert 'href="/me/points/"' in body
    # coming up, with a cancel button
    assert f'action="/me/volunteering/signups/{upcoming.pk}/cancel/"' in body
    assert when(upcoming_shift) in page
    # served: check-in and out, and the record
    assert f"Check-in: {local(past.checked_in_at)} · Check-out: {local(past.checked_out_at)}" in page
    assert "Record: 150 minutes (2.5 h), 4 points" in page
    assert f'href="?signup={past.pk}#correction"' in body
    # the service record
    assert "老人探访 · 陪伴员" in page and "2.5 h" in page


def test_the_star_level_shows_stars_and_the_next_threshold(vworld, settings):
    settings.LIVINGROOM_VOLUNTEER_STAR_HOURS = [1, 3]
    v = vworld["volunteers"][0]
    served(vworld, v)  # 2.5 h
    page = text(page_client(v.resident).get("/me/volunteering/"))
    assert "1 star" in page and "0.5 more hours to 2 stars (3 hours in all)." in page
    assert '★<span class="stars-shown__off">☆</span>' in html(
        page_client(v.resident).get("/me/volunteering/")
    )
    served(vworld, v, days_ago=3, title="再次探访")  # 5 h in all
    page = text(page_client(v.resident).get("/me/volunteering/"))
    assert "2 stars" in page and "highest star level" in page


def test_a_volunteer_cancels_a_sign_up_and_the_place_is_free(vworld):
    a = activity(vworld)
    shift = a.shifts.get()
    v = vworld["volunteers"][0]
    signup = services.signup_create(user=v.resident.user, shift_id=shift.pk)
    response = page_client(v.resident).post(
        f"/me/volunteering/signups/{signup.pk}/cancel/", {"next": "/me/volunteering/"}, follow=True
    )
    assert flashes(response) == ["Your sign-up is cancelled; the place is free for someone else."]
    signup.refresh_from_db()
    shift.refresh_from_db()
    assert (signup.status, shift.taken) == ("cancelled", 0)
    assert f"/me/volunteering/signups/{signup.pk}/cancel/" not in html(response)


def test_cancelling_twice_or_someone_elses_sign_up_is_refused(vworld):
    shift = activity(vworld).shifts.get()
    v0, v1 = vworld["volunteers"]
    signup = services.signup_create(user=v0.resident.user, shift_id=shift.pk)
    assert page_client(v1.resident).post(f"/me/volunteering/signups/{signup.pk}/cancel/").status_code == 404
    signup.refresh_from_db()
    assert signup.status == "signed_up"
    client = page_client(v0.resident)
    client.post(f"/me/volunteering/signups/{signup.pk}/cancel/", follow=True)
    response = client.post(f"/me/volunteering/signups/{signup.pk}/cancel/", follow=True)
    assert flashes(response) == ["This sign-up is already cancelled."]


def test_a_volunteer_asks_for_a_correction_and_sees_the_answer(vworld):
    v = vworld["volunteers"][0]
    past = served(vworld, v)
    client = page_client(v.resident)
    body = html(client.get(f"/me/volunteering/?signup={past.pk}"))
    assert f'<option value="{past.pk}" selected>' in body
    response = client.post(
        "/me/volunteering/corrections/",
        {"signup": str(past.pk), "minutes": "180", "reason": "签退时扫码机故障"},
        follow=True,
    )
    assert flashes(response) == ["Your request is sent. The organiser will answer it here."]
    correction = Correction.objects.get(signup=past)
    assert (correction.minutes_before, correction.minutes_requested, correction.status) == (150, 180, "open")
    page = text(response)
    assert "150 → 180 minutes" in page and "签退时扫码机故障" in page and "Waiting" in page
    services.correction_decide(
        staff=vworld["desk"], scope=vworld["scope"], correction_id=correction.pk, accept=True, note="已核实"
    )
    page = text(client.get("/me/volunteering/"))
    assert "Accepted" in page and "已核实" in page
    assert "Record: 180 minutes (3.0 h), 5 points" in page


def test_a_correction_the_service_refuses_is_shown_on_the_form(vworld):
    v = vworld["volunteers"][0]
    past = served(vworld, v)
    client = page_client(v.resident)
    too_long = client.post(
        "/me/volunteering/corrections/", {"signup": str(past.pk), "minutes": "200", "reason": "多算"}
    )
    assert "200 minutes is longer than the shift (180 minutes)." in text(too_long, 400)
    same = client.post(
        "/me/volunteering/corrections/", {"signup": str(past.pk), "minutes": "150", "reason": "一样"}
    )
    assert "That is what the record already says." in text(same, 400)
    no_reason = client.post("/me/volunteering/corrections/", {"signup": str(past.pk), "minutes": "160"})
    assert no_reason.status_code == 400
    assert not Correction.objects.exists()


def test_a_correction_for_someone_elses_or_an_upcoming_shift_is_not_offered(vworld):
    v0, v1 = vworld["volunteers"]
    theirs = served(vworld, v1)
    upcoming = services.signup_create(user=v0.resident.user, shift_id=activity(vworld).shifts.get().pk)
    served(vworld, v0, title="我的活动", days_ago=3)
    client = page_client(v0.resident)
    for signup in (theirs, upcoming):
        response = client.post(
            "/me/volunteering/corrections/", {"signup": str(signup.pk), "minutes": "60", "reason": "x"}
        )
        assert "Select a valid choice" in text(response, 400)
    assert not Correction.objects.exists()


def test_a_shift_whose_hours_are_not_confirmed_waits_and_is_not_offered_for_correction(vworld):
    v = vworld["volunteers"][0]
    waiting = served(vworld, v, confirm=False)
    client = page_client(v.resident)
    response = client.get("/me/volunteering/")
    page = text(response)
    assert "Waiting for confirmation" in page
    assert f'href="?signup={waiting.pk}#correction"' not in html(response)
    assert "Once the organiser has confirmed the hours of a shift you served" in page
    refused = client.post(
        "/me/volunteering/corrections/", {"signup": str(waiting.pk), "minutes": "60", "reason": "x"}
    )
    assert "Select a valid choice" in text(refused, 400)
    assert not Correction.objects.exists()


def test_a_confirmed_shift_without_hours_can_be_corrected(vworld):
    v0, v1 = vworld["volunteers"]
    missed = served(vworld, v1, confirm=False)  # v1 checked in and out
    other = services.signup_create(user=v0.resident.user, shift_id=missed.shift_id, now=at(-3, 11))
    services.hours_confirm(
        staff=vworld["desk"], scope=vworld["scope"], shift_id=missed.shift_id, now=at(-2, 13)
    )
    client = page_client(v0.resident)  # no check-in: no record
    response = client.get("/me/volunteering/")
    assert "No hours recorded" in text(response)
    assert f'href="?signup={other.pk}#correction"' in html(response)
    client.post(
        "/me/volunteering/corrections/", {"signup": str(other.pk), "minutes": "120", "reason": "忘记签到"}
    )
    correction = Correction.objects.get(signup=other)
    assert (correction.minutes_before, correction.minutes_requested) == (0, 120)


def test_a_volunteer_issues_a_certificate_and_downloads_it(vworld):
    v = vworld["volunteers"][0]
    served(vworld, v)
    client = page_client(v.resident)
    response = client.post(
        "/me/volunteering/certificates/", {"period_start": "", "period_end": ""}, follow=True
    )
    certificate = Certificate.objects.get(volunteer=v)
    assert flashes(response) == [f"Certificate {certificate.number} is issued. Download it below."]
    body = html(response)
    assert f'href="/me/certificates/{certificate.pk}.pdf"' in body
    assert f'href="/certificates/verify/{certificate.code}/"' in body
    assert certificate.minutes == 150
    pdf = client.get(f"/me/certificates/{certificate.pk}.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="certificate-{certificate.number}.pdf"'
    assert pdf.content.startswith(b"%PDF")
    # Someone else (a volunteer or not) gets a 404, and nothing of it.
    for other in (vworld["volunteers"][1].resident, vworld["residents"][2]):
        assert page_client(other).get(f"/me/certificates/{certificate.pk}.pdf").status_code == 404


def test_a_certificate_the_service_refuses_is_shown_on_the_form(vworld):
    v = vworld["volunteers"][0]
    client = page_client(v.resident)
    nothing = client.post("/me/volunteering/certificates/", {})
    assert "There are no confirmed service hours in this period." in text(nothing, 400)
    backwards = client.post(
        "/me/volunteering/certificates/", {"period_start": "2026-05-02", "period_end": "2026-05-01"}
    )
    assert "The period ends before it starts." in text(backwards, 400)
    assert not Certificate.objects.exists()


def test_a_certificate_for_a_period_counts_only_that_period(vworld):
    v = vworld["volunteers"][0]
    served(vworld, v, days_ago=2)
    served(vworld, v, days_ago=5, title="更早的活动")
    day = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    page_client(v.resident).post("/me/volunteering/certificates/", {"period_start": day, "period_end": day})
    certificate = Certificate.objects.get(volunteer=v)
    assert (certificate.minutes, certificate.records) == (150, 1)


def test_a_resident_who_is_not_a_volunteer_cannot_post_the_volunteer_forms(vworld):
    client = page_client(vworld["residents"][2])
    assert client.post("/me/volunteering/certificates/", {}).status_code == 403
    assert client.post("/me/volunteering/corrections/", {}).status_code == 403


# --- checking a certificate ---------------------------------------------------------------------


def test_the_verify_page_shows_masked_facts_and_never_the_id_number(vworld):
    v = vworld["volunteers"][0]
    served(vworld, v)
    certificate = services.certificate_issue(user=v.resident.user)
    client = page_client()  # anyone
    assert "Verification code" in text(client.get("/certificates/verify/"))
    response = client.get("/certificates/verify/", {"code": certificate.code.lower()})
    assert response.status_code == 302 and response["Location"] == f"/certificates/verify/{certificate.code}/"
    response = client.get(f"/certificates/verify/{certificate.code}/")
    page = text(response)
    assert "This certificate is genuine" in page
    assert "Name 张*" in page and "张三" not in page
    full_id = v.resident.id_number
    assert full_id not in html(response)
    assert mask_id_number(full_id) in page
    for fact in (v.number, certificate.number, "2.5 h", certificate.issuer, certificate.person_in_charge):
        assert fact in page
    assert timezone.localtime(certificate.issued_at).strftime("%Y-%m-%d") in page
    assert f"{certificate.period_start:%Y-%m-%d} – {certificate.period_end:%Y-%m-%d}" in page
    spaced = certificate.code[:4] + " " + certificate.code[4:].lower()
    assert client.get("/certificates/verify/", {"code": spaced})["Location"].endswith(f"/{certificate.code}/")


def test_the_verify_page_says_when_no_certificate_has_the_code(db):
    response = page_client().get("/certificates/verify/ABCDEFGHJKLM/")
    page = text(response, 404)
    assert "No certificate has this code" in page and "ABCDEFGHJKLM" in page


# --- points -------------------------------------------------------------------------------------


def test_my_points_shows_balances_and_the_history(vworld):
    v = vworld["volunteers"][0]
    served(vworld, v)
    give_points(vworld, v.resident, 10)
    client = page_client(v.resident)
    page = text(client.get("/me/points/"))
    assert re.search(r"14 points in all", page)
    assert f"{vworld['community'].name} 14" in page
    assert "Award 测试发放 Points: +10" in page and "balance 14" in page
    assert "+4" in page and "balance 4" in page and "老人探访 · 陪伴员 · 150 min" in page
    assert vworld["center"].name in page
    entry = Entry.objects.filter(account__resident=v.resident).order_by("-created_at", "-id").first()
    assert local(entry.created_at) in page


def test_a_redemption_shows_as_a_debit(vworld):
    v = vworld["volunteers"][0]
    give_points(vworld, v.resident, 10)
    points.redemption_at_vending(
        device=vworld["vending"][0],
        key="k1",
        token=pass_of(v.resident),
        reward_id=vworld["drink"].pk,
        quantity=1,
    )
    page = text(page_client(v.resident).get("/me/points/"))
    assert "Redemption" in page and "-3" in page and "balance 7" in page
    assert "7 points in all" in page


def test_my_points_is_paginated_by_30(vworld):
    resident = vworld["residents"][0]
    for i in range(35):
        give_points(vworld, resident, 1, key=f"page-test:{i}")
    client = page_client(resident)
    first = client.get("/me/points/")
    assert len(first.context["page"].object_list) == 30
    assert "Page 1 of 2" in text(first) and 'href="?page=2#history"' in html(first)
    second = client.get("/me/points/", {"page": "2"})
    assert len(second.context["page"].object_list) == 5
    assert len(client.get("/me/points/", {"page": "zzz"}).context["page"].object_list) == 30


def test_someone_without_points_sees_an_empty_history(vworld):
    page = text(page_client(vworld["residents"][2]).get("/me/points/"))
    assert "0 points in all" in page and "No movements yet." in page


# --- rewards ------------------------------------------------------------------------------------


def test_the_rewards_page_shows_the_catalogue_and_how_to_redeem(vworld):
    points.reward_create(
        staff=vworld["desk"],
        scope=vworld["scope"],
        draft=points.RewardDraft(
            center_id=vworld["center"].pk, kind=Reward.Kind.GOODS, name="环保袋", price_points=5, stock=0
        ),
    )
    response = page_client().get("/rewards/")
    page = text(response)
    assert "矿泉水 3 points Drink" in page
    assert "in the vending machine" in page and "at the desk" in page
    assert "理发券 20 points" in page
    assert re.search(r"环保袋 5 points .*? Out of stock", page)
    assert "In stock" in page
    assert 'href="/me/pass/"' in html(response)
    assert "Your points in" not in page and "Sign in" in page


def test_a_signed_in_resident_sees_their_balance_on_the_rewards_page(vworld):
    resident = vworld["residents"][0]
    give_points(vworld, resident, 12)
    page = text(page_client(resident).get("/rewards/"))
    assert "12 points in all" in page
    assert f"Your points in {vworld['community'].name}: 12" in page


def test_the_rewards_page_filters_by_center(vworld, roles, place):
    other = place["centers"][1]
    points.reward_create(
        staff=roles["center"],
        scope=staff_scope(roles["center"]),
        draft=points.RewardDraft(
            center_id=other.pk, kind=Reward.Kind.GOODS, name="毛巾", price_points=8, stock=3
        ),
    )
    client = page_client()
    assert {"矿泉水", "毛巾"} <= set(re.findall("矿泉水|毛巾", text(client.get("/rewards/"))))
    only_other = text(client.get("/rewards/", {"center": other.pk}))
    assert "毛巾" in only_other and "矿泉水" not in only_other
    assert "矿泉水" in text(client.get("/rewards/", {"center": "x"}))


# --- the home page ------------------------------------------------------------------------------


def test_the_home_page_links_to_volunteering_points_and_rewards(vworld):
    signed_in = html(page_client(vworld["residents"][0]).get("/"))
    for href in ("/volunteer/", "/me/volunteering/", "/me/points/", "/rewards/"):
        assert f'href="{href}"' in signed_in, href
    anonymous = html(page_client().get("/"))
    for href in ("/volunteer/", "/rewards/", "/certificates/verify/"):
        assert f'href="{href}"' in anonymous, href
