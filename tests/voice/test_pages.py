"""The resident and public pages of residents' voice, through Django's test client: the open
surveys and answering one (signed in, and as a visitor with the ``lr_visitor`` cookie), every
refusal shown on the form with no row written; submitting a request with photos and its bad input;
my requests; one request for its resident (deadlines, reply, timeline, rating, reopening) and for
others (the public view, or 404); the public board; who may see which photo.

Pages are read in English (the language cookie), so the checks do not depend on translations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from livingroom.people.scopes import staff_scope
from livingroom.voice import services, views
from livingroom.voice.models import (
    Answer,
    Participation,
    Photo,
    Response,
    Suggestion,
    SuggestionEvent,
)
from livingroom.voice.services import QuestionDraft, SurveyDraft
from tests import factories as f
from tests.conftest import console_client
from tests.voice.conftest import at, jpeg_bytes, standard_questions

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
    assert response.status_code == status, (response.status_code, response.content[:400])
    return response.content.decode()


def text(response, status: int = 200) -> str:
    """The page's visible text, whitespace collapsed (tags dropped)."""
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html(response, status), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def flashes(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def field_errors(response, name: str) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


def ids(survey) -> list[int]:
    """The question ids of a survey, by position (1-based list index + 1)."""
    return list(survey.questions.order_by("position").values_list("pk", flat=True))


def good_answers(survey, **extra) -> dict:
    q = ids(survey)
    data = {f"q{q[0]}": "a", f"q{q[1]}": ["a", "c"], f"q{q[2]}": "4", f"q{q[4]}": "希望多开放晚上"}
    data.update(extra)
    return data


def visitor_token(client: Client) -> str:
    """The visitor's token in the browser's signed cookie, read as the site reads it."""
    request = HttpRequest()
    request.COOKIES[views.VISITOR_COOKIE] = client.cookies[views.VISITOR_COOKIE].value
    return request.get_signed_cookie(views.VISITOR_COOKIE, salt=views.VISITOR_SALT)


def staff_steps(world, suggestion, *, resolve: bool = True, now=None, publish: bool = False):
    """The desk assigns the request to the partner, responds, resolves (and publishes it)."""
    desk, scope = world["desk"], world["scope"]
    kw = {"now": now} if now is not None else {}
    services.suggestion_assign(
        staff=desk,
        scope=scope,
        suggestion_id=suggestion.pk,
        organization_id=world["org"].pk,
        note="内部备注：请物业处理",
        **kw,
    )
    services.suggestion_respond(
        staff=desk, scope=scope, suggestion_id=suggestion.pk, message="已收到，正在安排。", **kw
    )
    if resolve:
        services.suggestion_resolve(
            staff=desk,
            scope=scope,
            suggestion_id=suggestion.pk,
            reply="二楼已放置便民药箱。",
            done_note="二楼配药箱",
            **kw,
        )
    if publish:
        services.suggestion_publish(
            staff=desk,
            scope=scope,
            suggestion_id=suggestion.pk,
            public=True,
            summary="居民希望二楼有药箱",
            done_note="二楼配药箱，每周检查",
            **kw,
        )
    suggestion.refresh_from_db()
    return suggestion


def post_suggestion(client: Client, at_center, *, photos=(), **fields):
    data = {
        "center": str(at_center.pk),
        "kind": "suggestion",
        "category": "facilities",
        "text": "希望二楼增设药箱",
    }
    data.update(fields)
    if photos:
        data["photos"] = list(photos)
    return client.post("/suggestions/new/", data)


def upload(name: str = "photo.jpg", content: bytes | None = None, content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, jpeg_bytes() if content is None else content, content_type=content_type)


# --- surveys: the list --------------------------------------------------------------------------


def test_the_survey_list_shows_my_communitys_open_surveys(voice_world, roles):
    mine = voice_world["survey"]()
    draft = voice_world["survey"](publish=False)
    draft.title = "草稿调查"
    draft.save()
    staff = roles["other_community"]
    elsewhere = services.survey_create(
        staff=staff,
        scope=staff_scope(staff),
        draft=SurveyDraft(
            title="宝民调查",
            community_id=voice_world["place"]["communities"][2].pk,
            questions=standard_questions(),
        ),
    )
    services.survey_publish(staff=staff, scope=staff_scope(staff), survey_id=elsewhere.pk)
    resident = voice_world["residents"][0]
    body = html(page_client(resident).get("/surveys/"))
    assert f'href="/surveys/{mine.pk}/"' in body
    assert f'href="/surveys/{draft.pk}/"' not in body
    assert f'href="/surveys/{elsewhere.pk}/"' not in body
    assert "Answered" not in text(page_client(resident).get("/surveys/"))

    services.response_submit(
        survey_id=mine.pk, user=resident.user, answers={ids(mine)[0]: "a", ids(mine)[2]: 3}
    )
    page = text(page_client(resident).get("/surveys/"))
    assert "百姓客厅需求调查 Answered" in page

    anonymous = text(page_client().get("/surveys/"))
    assert "百姓客厅需求调查" not in anonymous  # a community survey: not listed for visitors
    assert "No survey is open for you at the moment." in anonymous
    assert "Sign in to see the surveys of your own community as well." in anonymous


def test_a_district_survey_is_listed_for_visitors(voice_world, roles):
    district = voice_world["survey"](by=roles["district"], area="district")
    body = html(page_client().get("/surveys/"))
    assert f'href="/surveys/{district.pk}/"' in body


# --- surveys: answering -------------------------------------------------------------------------


def test_the_survey_form_has_a_field_per_question_and_marks_required_and_conditions(voice_world):
    survey = voice_world["survey"]()
    q = ids(survey)
    response = page_client(voice_world["residents"][0]).get(f"/surveys/{survey.pk}/")
    body = html(response)
    assert body.count(f'type="radio" name="q{q[0]}"') == 3
    assert body.count(f'type="checkbox" name="q{q[1]}"') == 4
    assert body.count(f'type="radio" name="q{q[2]}"') == 5  # a 1..5 scale
    assert f'<input type="text" name="q{q[3]}"' in body
    assert f'<textarea name="q{q[4]}"' in body
    assert 'data-show-if-position="1" data-show-if-choice="b"' in body
    assert "voice/survey.js" in body
    page = text(response)
    assert page.count("(required)") == 3  # questions 1 and 3, and the hint above them
    assert "Only if you chose “每周” in question 1." in page
    assert "5 questions" in page


def test_a_resident_answers_a_survey_and_sees_the_thank_you(voice_world):
    survey = voice_world["survey"]()
    resident = voice_world["residents"][0]
    client = page_client(resident)
    q = ids(survey)
    response = client.post(f"/surveys/{survey.pk}/", good_answers(survey), follow=True)
    assert response.redirect_chain == [(f"/surveys/{survey.pk}/", 302)]
    assert flashes(response) == ["Thank you! Your answers are saved."]
    page = text(response)
    assert "You have answered this survey." in page
    assert "Send my answers" not in page
    (row,) = Response.objects.filter(survey=survey)
    assert row.respondent_id == resident.user_id and row.visitor_hash is None
    answers = sorted((a.question_id, a.choice, a.number, a.text) for a in Answer.objects.filter(response=row))
    assert answers == [
        (q[0], "a", None, ""),
        (q[1], "a", None, ""),
        (q[1], "c", None, ""),
        (q[2], "", 4, ""),
        (q[4], "", None, "希望多开放晚上"),
    ]
    survey.refresh_from_db()
    assert survey.responses_count == 1


def test_a_hidden_question_is_not_kept_and_a_shown_one_is(voice_world):
    survey = voice_world["survey"]()
    q = ids(survey)
    first, second = voice_world["residents"][0], voice_world["residents"][1]
    # Question 4 is shown only when question 1 got "b": sent with "a", its answer is dropped.
    page_client(first).post(f"/surveys/{survey.pk}/", good_answers(survey, **{f"q{q[3]}": "看书"}))
    page_client(second).post(
        f"/surveys/{survey.pk}/", good_answers(survey, **{f"q{q[0]}": "b", f"q{q[3]}": "看书"})
    )
    texts = dict(Answer.objects.filter(question_id=q[3]).values_list("response__respondent_id", "text"))
    assert texts == {second.user_id: "看书"}


def test_a_missing_required_answer_is_shown_on_its_question_and_nothing_is_written(voice_world):
    survey = voice_world["survey"]()
    q = ids(survey)
    data = good_answers(survey)
    del data[f"q{q[2]}"]
    response = page_client(voice_world["residents"][0]).post(f"/surveys/{survey.pk}/", data)
    assert response.status_code == 400
    assert field_errors(response, f"q{q[2]}") == ["Please answer this question: 您对客厅的满意度"]
    assert 'id="question-3"' in html(response, 400)
    assert "Please look again at the questions marked in red: question 3" in text(response, 400)
    assert '<a href="#question-3">' in html(response, 400)
    # The answers given are kept on the form.
    assert f'name="q{q[4]}" cols="40" rows="4" maxlength="2000"' in html(response, 400)
    assert "希望多开放晚上</textarea>" in html(response, 400)
    assert (
        Response.objects.count() == 0 and Participation.objects.count() == 0 and Answer.objects.count() == 0
    )


def test_sending_nothing_names_the_required_questions(voice_world):
    survey = voice_world["survey"]()
    q = ids(survey)
    response = page_client(voice_world["residents"][0]).post(f"/surveys/{survey.pk}/", {})
    assert response.status_code == 400
    assert field_errors(response, f"q{q[0]}") == ["Please answer this question: 您多久来一次客厅？"]
    assert Response.objects.count() == 0


@pytest.mark.parametrize(
    ("position", "value"),
    [(0, "z"), (1, ["a", "z"]), (2, "6"), (2, "zero"), (3, "长" * 201)],
)
def test_an_answer_that_does_not_fit_its_question_is_refused_on_the_form(voice_world, position, value):
    survey = voice_world["survey"]()
    q = ids(survey)
    data = good_answers(survey, **{f"q{q[0]}": "b"})  # question 4 shown
    data[f"q{q[position]}"] = value
    response = page_client(voice_world["residents"][0]).post(f"/surveys/{survey.pk}/", data)
    assert response.status_code == 400
    assert field_errors(response, f"q{q[position]}")
    assert Response.objects.count() == 0 and Participation.objects.count() == 0


def test_answering_twice_is_refused_with_a_message(voice_world):
    survey = voice_world["survey"]()
    client = page_client(voice_world["residents"][0])
    client.post(f"/surveys/{survey.pk}/", good_answers(survey), follow=True)
    response = client.post(
        f"/surveys/{survey.pk}/", good_answers(survey, **{f"q{ids(survey)[0]}": "c"}), follow=True
    )
    assert flashes(response) == ["You have already answered this survey. Thank you!"]
    assert "You have answered this survey." in text(response)
    assert Response.objects.count() == 1
    assert list(Answer.objects.filter(question_id=ids(survey)[0]).values_list("choice", flat=True)) == ["a"]


def test_a_closed_survey_takes_no_answers(voice_world):
    survey = voice_world["survey"]()
    services.survey_close(staff=voice_world["desk"], scope=voice_world["scope"], survey_id=survey.pk)
    client = page_client(voice_world["residents"][0])
    page = text(client.get(f"/surveys/{survey.pk}/"))
    assert "This survey is closed: it no longer takes answers." in page
    assert "Send my answers" not in page
    response = client.post(f"/surveys/{survey.pk}/", good_answers(survey), follow=True)
    assert flashes(response) == ["This survey is not open for answers."]
    assert Response.objects.count() == 0


def test_a_resident_of_another_community_is_told_on_the_form(voice_world):
    survey = voice_world["survey"]()
    response = page_client(voice_world["outsider"]).post(f"/surveys/{survey.pk}/", good_answers(survey))
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [f"This survey is for {survey.community.name}."]
    assert Response.objects.count() == 0 and Participation.objects.count() == 0


def test_a_resident_outside_the_audience_is_told_on_the_form(voice_world):
    survey = voice_world["survey"](audience="riders")
    response = page_client(voice_world["residents"][0]).post(f"/surveys/{survey.pk}/", good_answers(survey))
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["This survey is for Delivery riders and couriers."]
    assert Response.objects.count() == 0
    ok = page_client(voice_world["rider"]).post(f"/surveys/{survey.pk}/", good_answers(survey))
    assert ok.status_code == 302 and Response.objects.count() == 1


def test_a_draft_or_unknown_survey_is_404(voice_world):
    draft = voice_world["survey"](publish=False)
    client = page_client(voice_world["residents"][0])
    assert client.get(f"/surveys/{draft.pk}/").status_code == 404
    assert client.post(f"/surveys/{draft.pk}/", good_answers(draft)).status_code == 404
    assert client.get("/surveys/999999/").status_code == 404
    assert Response.objects.count() == 0


def test_a_visitor_is_sent_to_sign_in_for_a_survey_not_open_to_visitors(voice_world):
    named = voice_world["survey"]()  # not anonymous
    riders = voice_world["survey"](anonymous=True, audience="riders")  # anonymous, not for everyone
    client = page_client()
    for survey in (named, riders):
        response = client.get(f"/surveys/{survey.pk}/")
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next=/surveys/{survey.pk}/"
        assert client.post(f"/surveys/{survey.pk}/", good_answers(survey)).status_code == 302
        assert views.VISITOR_COOKIE not in client.cookies
    assert Response.objects.count() == 0


def test_a_visitor_answers_an_anonymous_survey_once_per_browser(voice_world):
    survey = voice_world["survey"](anonymous=True)
    client = page_client()
    response = client.get(f"/surveys/{survey.pk}/")
    page = text(response)
    assert "This survey is anonymous" in page and "You can answer without signing in." in page
    cookie = response.cookies[views.VISITOR_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    token = visitor_token(client)
    assert len(token) >= 16

    response = client.post(f"/surveys/{survey.pk}/", good_answers(survey), follow=True)
    assert flashes(response) == ["Thank you! Your answers are saved."]
    assert "You have answered this survey." in text(response)
    (row,) = Response.objects.filter(survey=survey)
    assert row.respondent_id is None
    assert row.visitor_hash == services.visitor_hash(survey.pk, token)
    assert token not in row.visitor_hash
    assert Participation.objects.count() == 0
    assert visitor_token(client) == token  # the same browser keeps its token

    again = client.post(f"/surveys/{survey.pk}/", good_answers(survey), follow=True)
    assert flashes(again) == ["You have already answered this survey. Thank you!"]
    assert Response.objects.count() == 1

    # Another browser (another token) is another person.
    other = page_client()
    other.get(f"/surveys/{survey.pk}/")
    assert visitor_token(other) != token
    assert other.post(f"/surveys/{survey.pk}/", good_answers(survey)).status_code == 302
    assert Response.objects.filter(survey=survey).count() == 2


def test_a_tampered_visitor_cookie_is_replaced(voice_world):
    survey = voice_world["survey"](anonymous=True)
    client = page_client()
    client.cookies[views.VISITOR_COOKIE] = "x" * 20 + ":forged:signature"
    response = client.get(f"/surveys/{survey.pk}/")
    assert views.VISITOR_COOKIE in response.cookies
    token = visitor_token(client)
    client.post(f"/surveys/{survey.pk}/", good_answers(survey))
    assert Response.objects.get().visitor_hash == services.visitor_hash(survey.pk, token)


def test_a_visitor_posting_without_the_cookie_still_gets_one_answer(voice_world):
    survey = voice_world["survey"](anonymous=True)
    client = page_client()
    response = client.post(f"/surveys/{survey.pk}/", good_answers(survey))
    assert response.status_code == 302
    token = visitor_token(client)
    assert Response.objects.get().visitor_hash == services.visitor_hash(survey.pk, token)


def test_a_signed_in_answer_to_an_anonymous_survey_keeps_no_link(voice_world):
    survey = voice_world["survey"](anonymous=True)
    resident = voice_world["residents"][0]
    client = page_client(resident)
    assert views.VISITOR_COOKIE not in client.get(f"/surveys/{survey.pk}/").cookies
    client.post(f"/surveys/{survey.pk}/", good_answers(survey))
    row = Response.objects.get()
    assert (row.respondent_id, row.visitor_hash) == (None, None)
    assert Participation.objects.filter(survey=survey, user=resident.user).exists()
    assert "You have answered this survey." in text(client.get(f"/surveys/{survey.pk}/"))


def test_a_rating_scale_gets_one_option_per_point(voice_world):
    survey = voice_world["survey"](
        questions=[QuestionDraft(kind="rating", text="打几分", required=True, scale_max=10)]
    )
    (qid,) = ids(survey)
    body = html(page_client(voice_world["residents"][0]).get(f"/surveys/{survey.pk}/"))
    assert body.count(f'type="radio" name="q{qid}"') == 10
    assert "10 = highest" in body


# --- suggestions: submitting --------------------------------------------------------------------


def test_the_new_request_form_preselects_my_center_or_the_one_asked_for(voice_world):
    client = page_client(voice_world["residents"][0])
    home, other = voice_world["center"], voice_world["other_center"]
    assert client.get("/suggestions/new/").context["form"]["center"].value() == home.pk
    assert client.get(f"/suggestions/new/?center={other.pk}").context["form"]["center"].value() == other.pk
    assert client.get("/suggestions/new/?center=999999").context["form"]["center"].value() == home.pk
    body = html(client.get("/suggestions/new/"))
    assert 'enctype="multipart/form-data"' in body
    assert 'type="file" name="photos" accept="image/*" multiple' in body
    assert f'<optgroup label="{home.community.street.name}">' in body


def test_a_resident_submits_a_request_with_photos_and_sees_its_number(voice_world):
    resident = voice_world["residents"][0]
    client = page_client(resident)
    response = post_suggestion(
        client,
        voice_world["center"],
        photos=[upload("a.jpg"), upload("b.png", jpeg_bytes(fmt="PNG"), "image/png")],
        kind="report",
        category="environment",
        text="  楼道灯坏了\n\n  晚上很黑  ",
    )
    made = Suggestion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/suggestions/{made.tracking_no}/"
    assert (made.resident_id, made.center_id, made.kind, made.category, made.channel, made.status) == (
        resident.pk,
        voice_world["center"].pk,
        "report",
        "environment",
        "online",
        "received",
    )
    assert made.text == "楼道灯坏了\n\n晚上很黑"
    photos = list(Photo.objects.filter(suggestion=made).order_by("id"))
    assert [(p.kind, p.width, p.height) for p in photos] == [("report", 64, 48), ("report", 64, 48)]
    assert all(bytes(p.content[:3]) == b"\xff\xd8\xff" for p in photos)  # re-encoded as JPEG

    page = client.get(response["Location"])
    assert flashes(page) == [f"Your request is received. Its tracking number is {made.tracking_no}."]
    body = text(page)
    assert made.tracking_no in body and "Received" in body
    for photo in photos:
        assert f'src="/voice/photos/{photo.pk}.jpg"' in html(page)


@pytest.mark.parametrize(
    ("fields", "photos", "field", "message"),
    [
        ({"text": ""}, (), "text", "This field is required."),
        ({"text": "abc"}, (), "text", "Please describe your request in 5 to 2000 characters."),
        ({"text": "长" * 2001}, (), "text", "Please describe your request in 5 to 2000 characters."),
        (
            {"kind": "praise"},
            (),
            "kind",
            "Select a valid choice. praise is not one of the available choices.",
        ),
        ({"category": ""}, (), "category", "This field is required."),
        (
            {"center": "999999"},
            (),
            "center",
            "Select a valid choice. 999999 is not one of the available choices.",
        ),
        ({}, ("fake",), "photos", "Photos must be JPEG, PNG or WebP images."),
        ({}, ("gif",), "photos", "Photos must be JPEG, PNG or WebP images."),
        ({}, ("big",), "photos", "A photo may be at most 5 MB."),
        ({}, ("ok",) * 5, "photos", "At most 4 photos per request."),
    ],
)
def test_bad_input_on_a_request_is_shown_on_the_form_and_nothing_is_written(
    voice_world, fields, photos, field, message
):
    files = {
        "fake": lambda: upload("evil.jpg", b"<?php echo 1; ?>" * 10),
        "gif": lambda: upload("a.jpg", jpeg_bytes(fmt="GIF"), "image/jpeg"),
        "big": lambda: upload("big.jpg", b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024)),
        "ok": lambda: upload(),
    }
    client = page_client(voice_world["residents"][0])
    response = post_suggestion(client, voice_world["center"], photos=[files[p]() for p in photos], **fields)
    assert response.status_code == 400
    assert field_errors(response, field) == [message]
    if photos:
        assert "Please choose your photos again" in text(response, 400)
    assert Suggestion.objects.count() == 0 and Photo.objects.count() == 0
    assert SuggestionEvent.objects.count() == 0


def test_the_request_form_keeps_what_was_typed_after_a_refusal(voice_world):
    client = page_client(voice_world["residents"][0])
    response = post_suggestion(client, voice_world["center"], text="abc", kind="complaint")
    body = html(response, 400)
    assert "abc</textarea>" in body
    assert 'value="complaint" id="id_kind_2" required checked' in body


def test_a_user_without_a_profile_is_sent_to_complete_it(voice_world):
    user = f.UserFactory()
    client = page_client(user=user)
    response = client.get("/suggestions/new/", follow=True)
    assert response.redirect_chain == [("/me/profile/", 302)]
    assert flashes(response) == ["Please complete your real-name profile first."]
    assert post_suggestion(client, voice_world["center"]).status_code == 302
    assert Suggestion.objects.count() == 0


def test_someone_not_signed_in_is_sent_to_sign_in(voice_world):
    client = page_client()
    for path in ("/suggestions/new/", "/me/suggestions/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == "/login/?next=" + path.replace("/", "%2F")
    assert post_suggestion(client, voice_world["center"]).status_code == 302
    assert Suggestion.objects.count() == 0


# --- my requests --------------------------------------------------------------------------------


def test_my_requests_lists_mine_only_with_status_and_deadline(voice_world):
    me, other = voice_world["residents"][0], voice_world["residents"][1]
    first = voice_world["suggestion"](me, now=at(-3))
    second = voice_world["suggestion"](me, text="活动室空调太冷")
    theirs = voice_world["suggestion"](other, text="别人的请求内容")
    staff_steps(voice_world, first)
    page = text(page_client(me).get("/me/suggestions/"))
    assert "2 requests" in page
    assert first.tracking_no in page and second.tracking_no in page
    assert theirs.tracking_no not in page and "别人的请求内容" not in page
    assert f"{second.tracking_no} Received" in page
    assert f"{first.tracking_no} Resolved" in page
    assert f"resolve by {local(second.resolve_by)}" in page
    assert "Resolved: please rate how it was handled" in page
    assert page.index(second.tracking_no) < page.index(first.tracking_no)  # newest first


def test_my_requests_says_when_there_are_none(voice_world):
    page = text(page_client(voice_world["residents"][0]).get("/me/suggestions/"))
    assert "You have not sent any request yet." in page


# --- one request --------------------------------------------------------------------------------


def test_the_owner_sees_the_whole_request_with_deadlines_reply_timeline_and_photos(voice_world):
    me = voice_world["residents"][0]
    made = voice_world["suggestion"](me, photos=[jpeg_bytes()])
    staff_steps(voice_world, made)
    after = services.photo_add(
        staff=voice_world["desk"],
        scope=voice_world["scope"],
        suggestion_id=made.pk,
        kind="after",
        data=jpeg_bytes(color="green"),
    )
    response = page_client(me).get(f"/suggestions/{made.tracking_no}/")
    page = text(response)
    assert made.tracking_no in page
    assert "Status Resolved" in page
    assert "Handled by 物业服务中心" in page
    assert f"Respond by {local(made.respond_by)} · answered {local(made.first_response_at)}" in page
    assert f"Resolve by {local(made.resolve_by)}" in page
    assert f"Resolved {local(made.resolved_at)}" in page
    assert "二楼已放置便民药箱。" in page and "What was done: 二楼配药箱" in page
    assert "希望在二楼增设一个药箱" in page
    # The timeline: received, then the public steps only (the hand-over's internal note is not shown).
    timeline = page[page.index("Steps") :]
    assert "Received" in timeline and "Responded" in timeline and "已收到，正在安排。" in timeline
    assert "Resolved" in timeline
    assert "内部备注" not in page and "Handed over" not in page
    body = html(response)
    report = Photo.objects.get(suggestion=made, kind="report")
    assert f'src="/voice/photos/{report.pk}.jpg"' in body and f'src="/voice/photos/{after.pk}.jpg"' in body
    assert f'action="/suggestions/{made.pk}/rate/"' in body
    assert f'action="/suggestions/{made.pk}/reopen/"' in body
    assert body.count('type="radio" name="rating"') == 5
    assert "Very satisfied" in page and "Very dissatisfied" in page
    reopen_until = made.resolved_at + dt.timedelta(days=settings.LIVINGROOM_VOICE_REOPEN_DAYS)
    assert f"You can reopen this request until {local(reopen_until)}." in page


def test_an_open_request_has_no_rate_or_reopen_form_and_a_lowercase_number_finds_it(voice_world):
    me = voice_world["residents"][0]
    made = voice_world["suggestion"](me)
    body = html(page_client(me).get(f"/suggestions/{made.tracking_no.lower()}/"))
    assert made.tracking_no in body
    assert "/rate/" not in body and "/reopen/" not in body


def test_another_residents_request_is_404_unless_on_the_board(voice_world):
    made = voice_world["suggestion"](voice_world["residents"][0])
    other = page_client(voice_world["residents"][1])
    assert other.get(f"/suggestions/{made.tracking_no}/").status_code == 404
    unknown = made.tracking_no[:-1] + ("2" if made.tracking_no[-1] != "2" else "3")  # well-formed, not issued
    assert other.get(f"/suggestions/{unknown}/").status_code == 404
    staff_steps(voice_world, made, publish=True)
    response = other.get(f"/suggestions/{made.tracking_no}/")
    page = text(response)
    assert "居民希望二楼有药箱" in page and "二楼已放置便民药箱。" in page and "二楼配药箱，每周检查" in page
    assert "希望在二楼增设一个药箱" not in page  # the resident's own words stay private
    assert "/rate/" not in html(response) and "/reopen/" not in html(response)


def test_a_tracking_number_with_odd_characters_is_404_not_an_error(voice_world):
    client = page_client(voice_world["residents"][0])
    for number in ("%E5%9B%BA", "JY'--", "a" * 300):
        assert client.get(f"/suggestions/{number}/").status_code == 404
    for number in ("%00", "JY%00X"):  # a NUL anywhere in a path is refused before any page
        assert client.get(f"/suggestions/{number}/").status_code == 400


def test_someone_not_signed_in_sees_a_public_request_or_is_asked_to_sign_in(voice_world):
    made = voice_world["suggestion"](voice_world["residents"][0])
    client = page_client()
    response = client.get(f"/suggestions/{made.tracking_no}/")
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/suggestions/{made.tracking_no}/"
    staff_steps(voice_world, made, publish=True)
    assert "居民希望二楼有药箱" in text(client.get(f"/suggestions/{made.tracking_no}/"))


# --- rating and reopening -----------------------------------------------------------------------


def test_the_resident_rates_a_resolved_request_and_it_closes(voice_world):
    me = voice_world["residents"][0]
    made = staff_steps(voice_world, voice_world["suggestion"](me))
    client = page_client(me)
    response = client.post(f"/suggestions/{made.pk}/rate/", {"rating": "5", "comment": "很快"}, follow=True)
    assert response.redirect_chain == [(f"/suggestions/{made.tracking_no}/", 302)]
    assert flashes(response) == ["Thank you for your rating."]
    made.refresh_from_db()
    assert (made.status, made.rating, made.rating_comment) == ("closed", 5, "很快")
    page = text(response)
    assert "Your rating Very satisfied · 很快" in page
    assert "/rate/" not in html(response)

    again = client.post(f"/suggestions/{made.pk}/rate/", {"rating": "1"}, follow=True)
    assert flashes(again) == ["This request has already been rated."]
    made.refresh_from_db()
    assert (made.status, made.rating) == ("closed", 5)


def test_a_low_rating_opens_a_follow_up_and_says_by_when(voice_world):
    me = voice_world["residents"][0]
    made = staff_steps(voice_world, voice_world["suggestion"](me))
    response = page_client(me).post(f"/suggestions/{made.pk}/rate/", {"rating": "1"}, follow=True)
    made.refresh_from_db()
    assert (made.status, made.rating, made.follow_up) == ("in_progress", 1, True)
    assert flashes(response) == [
        f"Thank you for telling us. We follow it up and answer you by {local(made.resolve_by)}."
    ]
    assert "Follow-up opened" in text(response)


@pytest.mark.parametrize(
    "data", [{}, {"rating": "6"}, {"rating": "0"}, {"rating": "very"}, {"rating": "5", "comment": "长" * 301}]
)
def test_a_bad_rating_is_shown_on_the_form_and_changes_nothing(voice_world, data):
    me = voice_world["residents"][0]
    made = staff_steps(voice_world, voice_world["suggestion"](me))
    response = page_client(me).post(f"/suggestions/{made.pk}/rate/", data)
    assert response.status_code == 400
    assert response.context["rating_form"].errors
    assert f'action="/suggestions/{made.pk}/rate/"' in html(response, 400)
    made.refresh_from_db()
    assert (made.status, made.rating) == ("resolved", None)
    assert not SuggestionEvent.objects.filter(suggestion=made, kind="rated").exists()


def test_rating_before_resolution_is_refused_with_a_message(voice_world):
    me = voice_world["residents"][0]
    made = voice_world["suggestion"](me)
    response = page_client(me).post(f"/suggestions/{made.pk}/rate/", {"rating": "5"}, follow=True)
    assert flashes(response) == ["This request is Received; that step is not possible now."]
    made.refresh_from_db()
    assert (made.status, made.rating) == ("received", None)


def test_rating_or_reopening_someone_elses_request_is_404(voice_world):
    made = staff_steps(voice_world, voice_world["suggestion"](voice_world["residents"][0]))
    other = page_client(voice_world["residents"][1])
    assert other.post(f"/suggestions/{made.pk}/rate/", {"rating": "5"}).status_code == 404
    assert other.post(f"/suggestions/{made.pk}/reopen/", {"reason": "还没修好呢"}).status_code == 404
    assert other.post("/suggestions/999999/rate/", {"rating": "5"}).status_code == 404
    assert page_client().post(f"/suggestions/{made.pk}/rate/", {"rating": "5"}).status_code == 302
    made.refresh_from_db()
    assert (made.status, made.rating, made.reopen_count) == ("resolved", None, 0)


def test_rate_and_reopen_take_post_only(voice_world):
    made = staff_steps(voice_world, voice_world["suggestion"](voice_world["residents"][0]))
    client = page_client(voice_world["residents"][0])
    assert client.get(f"/suggestions/{made.pk}/rate/").status_code == 405
    assert client.get(f"/suggestions/{made.pk}/reopen/").status_code == 405


def test_the_resident_reopens_within_the_window(voice_world):
    me = voice_world["residents"][0]
    made = staff_steps(voice_world, voice_world["suggestion"](me))
    client = page_client(me)
    short = client.post(f"/suggestions/{made.pk}/reopen/", {"reason": "没"})
    assert short.status_code == 400
    assert short.context["reopen_form"].errors["reason"] == [
        "Please describe your request in 5 to 2000 characters."
    ]
    made.refresh_from_db()
    assert (made.status, made.reopen_count) == ("resolved", 0)

    response = client.post(f"/suggestions/{made.pk}/reopen/", {"reason": "药箱是空的，没有药"}, follow=True)
    made.refresh_from_db()
    assert (made.status, made.reopen_count) == ("in_progress", 1)
    assert flashes(response) == [
        f"Your request is reopened. It is to be resolved by {local(made.resolve_by)}."
    ]
    page = text(response)
    assert "Reopened" in page and "药箱是空的，没有药" in page
    assert "/reopen/" not in html(response)


def test_reopening_after_the_window_is_refused(voice_world):
    me = voice_world["residents"][0]
    made = voice_world["suggestion"](me, now=at(-15))
    staff_steps(voice_world, made, now=at(-10))
    client = page_client(me)
    body = html(client.get(f"/suggestions/{made.tracking_no}/"))
    assert f'action="/suggestions/{made.pk}/reopen/"' not in body
    assert f'action="/suggestions/{made.pk}/rate/"' in body  # still waiting for a rating
    response = client.post(f"/suggestions/{made.pk}/reopen/", {"reason": "药箱是空的，没有药"}, follow=True)
    assert flashes(response) == [
        f"A request can be reopened within {settings.LIVINGROOM_VOICE_REOPEN_DAYS} days of its resolution."
    ]
    made.refresh_from_db()
    assert (made.status, made.reopen_count) == ("resolved", 0)


# --- the public board ---------------------------------------------------------------------------


def test_the_board_shows_published_requests_without_names_or_residents_words(voice_world):
    center = voice_world["center"]
    named = f.ResidentFactory(real_name="李晓梅", home_community=center.community)
    public = staff_steps(voice_world, voice_world["suggestion"](named), publish=True)
    hidden = staff_steps(voice_world, voice_world["suggestion"](named, text="不公开的请求内容"))
    desk, scope = voice_world["desk"], voice_world["scope"]
    before = services.photo_add(
        staff=desk, scope=scope, suggestion_id=public.pk, kind="before", data=jpeg_bytes()
    )
    after = services.photo_add(
        staff=desk, scope=scope, suggestion_id=public.pk, kind="after", data=jpeg_bytes()
    )
    report = Photo.objects.create(
        suggestion=public,
        kind="report",
        content=jpeg_bytes(),
        width=64,
        height=48,
        size=1,
        uploaded_by=named.user,
        created_at=timezone.now(),
    )
    for path in ("/board/", f"/centers/{center.pk}/board/"):
        response = page_client().get(path)
        page, body = text(response), html(response)
        assert "居民希望二楼有药箱" in page
        assert "The reply 二楼已放置便民药箱。" in page
        assert "You said, we did 二楼配药箱，每周检查" in page
        assert public.tracking_no in page and hidden.tracking_no not in page
        assert "不公开的请求内容" not in page and "希望在二楼增设一个药箱" not in page
        assert "李晓梅" not in body and "李*" not in body
        assert (
            f'src="/voice/photos/{before.pk}.jpg"' in body and f'src="/voice/photos/{after.pk}.jpg"' in body
        )
        assert body.index(f"/voice/photos/{before.pk}.jpg") < body.index(f"/voice/photos/{after.pk}.jpg")
        assert f"/voice/photos/{report.pk}.jpg" not in body


def test_the_board_filter_goes_to_a_centers_board(voice_world):
    center, other = voice_world["center"], voice_world["other_center"]
    staff_steps(voice_world, voice_world["suggestion"](), publish=True)
    client = page_client()
    response = client.get("/board/", {"center": str(center.pk)})
    assert response.status_code == 302 and response["Location"] == f"/centers/{center.pk}/board/"
    assert client.get("/board/", {"center": "nonsense"}).status_code == 200
    assert client.get("/board/", {"center": str(other.pk)}).status_code == 200  # no board there: all shown
    empty = text(client.get(f"/centers/{other.pk}/board/"))
    assert "Nothing is published on this center's board yet." in empty
    assert "居民希望二楼有药箱" not in empty
    assert client.get("/centers/999999/board/").status_code == 404


def test_an_empty_board_says_so():
    assert "Nothing is published on the board yet." in text(page_client().get("/board/"))


def test_the_board_pages_by_twenty(voice_world, monkeypatch):
    monkeypatch.setattr(views, "BOARD_PAGE", 2)
    made = [
        staff_steps(voice_world, voice_world["suggestion"](text=f"第{i}条请求内容"), publish=True)
        for i in range(3)
    ]
    client = page_client()
    first, second = text(client.get("/board/")), text(client.get("/board/?page=2"))
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert sum(s.tracking_no in first for s in made) == 2 and sum(s.tracking_no in second for s in made) == 1
    assert client.get("/board/?page=nonsense").status_code == 200


# --- photos -------------------------------------------------------------------------------------


def test_a_request_photo_is_for_its_resident_and_staff_who_see_it(voice_world, roles):
    me = voice_world["residents"][0]
    made = voice_world["suggestion"](me, photos=[jpeg_bytes()])
    photo = Photo.objects.get(suggestion=made)
    url = f"/voice/photos/{photo.pk}.jpg"
    response = page_client(me).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=3600"
    assert response.content == bytes(photo.content)
    assert page_client(voice_world["residents"][1]).get(url).status_code == 404
    assert page_client().get(url).status_code == 404
    assert console_client(voice_world["desk"]).get(url).status_code == 200
    assert console_client(roles["other_community"]).get(url).status_code == 404
    # A member of staff signed in as a resident (no console session) has no staff scope.
    assert page_client(user=voice_world["desk"]).get(url).status_code == 404
    assert page_client(me).get("/voice/photos/999999.jpg").status_code == 404


def test_before_and_after_photos_are_public_once_on_the_board(voice_world):
    made = staff_steps(voice_world, voice_world["suggestion"](photos=[jpeg_bytes()]))
    desk, scope = voice_world["desk"], voice_world["scope"]
    after = services.photo_add(
        staff=desk, scope=scope, suggestion_id=made.pk, kind="after", data=jpeg_bytes()
    )
    report = Photo.objects.get(suggestion=made, kind="report")
    anyone = page_client()
    assert anyone.get(f"/voice/photos/{after.pk}.jpg").status_code == 404  # not published yet
    services.suggestion_publish(
        staff=desk, scope=scope, suggestion_id=made.pk, public=True, summary="居民希望二楼有药箱"
    )
    response = anyone.get(f"/voice/photos/{after.pk}.jpg")
    assert response.status_code == 200 and response.content == bytes(after.content)
    assert anyone.get(f"/voice/photos/{report.pk}.jpg").status_code == 404  # the resident's own photo
    assert page_client(voice_world["residents"][1]).get(f"/voice/photos/{report.pk}.jpg").status_code == 404


# --- the home page ------------------------------------------------------------------------------


def test_the_home_page_links_to_the_voice_pages(voice_world):
    signed_in = html(page_client(voice_world["residents"][0]).get("/"))
    for href in ("/surveys/", "/suggestions/new/", "/me/suggestions/", "/board/"):
        assert f'href="{href}"' in signed_in
    anonymous = html(page_client().get("/"))
    for href in ("/surveys/", "/suggestions/new/", "/board/"):
        assert f'href="{href}"' in anonymous
