"""Every bad input the residents' voice issue lists, through the HTTP API: the exact status and
stable code, and inside ``unchanged()`` the proof that nothing moved (no response, answer or
participation, no request, step, photo or extension written; surveys, requests and extensions as
they were; no audit event, no notice).

Answering twice, missing required answers, choices not in the question, a closed or
out-of-audience survey, a visitor on a survey that is not open to visitors; a request with empty
or oversized text, a photo of a disallowed type (by its content, not its name) or size, too many
photos; rating someone else's request, rating twice, rating before resolution; acting on another
community's request as staff; illegal steps; malformed JSON and unknown values; the rates' scope
and period; extensions of 0 or 31 days; deadline rules set by anyone but the district. No 500.
"""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from django.utils import timezone
from PIL import Image

from livingroom.core.errors import DomainError
from livingroom.people.models import StaffRole
from livingroom.people.scopes import staff_scope
from livingroom.voice import services
from livingroom.voice.models import (
    DeadlineRule,
    Extension,
    Participation,
    Photo,
    Response,
    Suggestion,
    Survey,
)
from livingroom.voice.services import QuestionDraft
from tests import factories as f
from tests.conftest import Api, resident_api, staff_api
from tests.invariants import assert_error
from tests.voice.conftest import at, jpeg_bytes
from tests.voice.test_api_permissions import multipart, unchanged, upload

pytestmark = pytest.mark.django_db

HUGE_ID = 10**20
MB = 1024 * 1024


def refused(call, status: int, code: str, field: str | None = "-") -> dict:
    """``call()`` is refused with this status and code, and nothing changes."""
    with unchanged():
        response = call()
    return assert_error(response, status, code, field)


def qids(survey: Survey) -> list[str]:
    return [str(q.pk) for q in survey.questions.order_by("position")]


def good_answers(survey: Survey) -> dict:
    q1, _q2, q3, _q4, _q5 = qids(survey)
    return {"answers": {q1: "a", q3: 4}}


def request_form(center, **extra) -> dict:
    return {
        "center_id": center.pk,
        "kind": "suggestion",
        "category": "facilities",
        "text": "希望增设一个药箱",
        **extra,
    }


def desk_of(world) -> Api:
    return staff_api(world["desk"])


def me_of(world, n: int = 0) -> Api:
    return resident_api(world["residents"][n].user)


def resolved(world, **kw) -> Suggestion:
    made = world["suggestion"](**kw)
    return services.suggestion_resolve(
        staff=world["desk"], scope=world["scope"], suggestion_id=made.pk, reply="已处理", now=kw.get("now")
    )


# --- answering surveys -------------------------------------------------------------------------------


def test_answering_twice(voice_world):
    survey = voice_world["survey"]()
    me = me_of(voice_world)
    assert me.post(f"/surveys/{survey.pk}/responses", good_answers(survey)).status_code == 201
    refused(lambda: me.post(f"/surveys/{survey.pk}/responses", good_answers(survey)), 409, "already_answered")
    assert Survey.objects.get(pk=survey.pk).responses_count == 1


def test_answering_an_anonymous_survey_twice_signed_in_or_as_the_same_visitor(voice_world, api):
    survey = voice_world["survey"](anonymous=True)
    me = me_of(voice_world)
    assert me.post(f"/surveys/{survey.pk}/responses", good_answers(survey)).status_code == 201
    refused(lambda: me.post(f"/surveys/{survey.pk}/responses", good_answers(survey)), 409, "already_answered")
    token = {"visitor_token": "t" * 24}
    assert api.post(f"/surveys/{survey.pk}/responses", {**good_answers(survey), **token}).status_code == 201
    refused(
        lambda: api.post(f"/surveys/{survey.pk}/responses", {**good_answers(survey), **token}),
        409,
        "already_answered",
    )
    assert (Response.objects.count(), Participation.objects.count()) == (2, 1)


def test_missing_required_answers(voice_world):
    survey = voice_world["survey"]()
    q1, q2, q3, _q4, _q5 = qids(survey)
    me = me_of(voice_world)
    path = f"/surveys/{survey.pk}/responses"
    refused(lambda: me.post(path, {"answers": {}}), 400, "answer_required", f"q{q1}")
    refused(lambda: me.post(path, {"answers": {q1: "a", q2: ["a"]}}), 400, "answer_required", f"q{q3}")
    refused(lambda: me.post(path, {"answers": {q1: "", q3: 4}}), 400, "answer_required", f"q{q1}")
    refused(lambda: me.post(path, {"answers": {q1: "a", q3: None}}), 400, "answer_required", f"q{q3}")
    refused(lambda: me.post(path, {"answers": {q1: "a", q3: ""}}), 400, "answer_required", f"q{q3}")
    refused(lambda: me.post(path, {}), 400, "invalid_input", "answers")


def test_a_required_text_question_answered_with_blanks(voice_world):
    questions = [QuestionDraft(kind="short_text", text="您的建议", required=True)]
    survey = voice_world["survey"](questions=questions)
    [q] = qids(survey)
    me = me_of(voice_world)
    refused(
        lambda: me.post(f"/surveys/{survey.pk}/responses", {"answers": {q: "   "}}),
        400,
        "answer_required",
        f"q{q}",
    )


@pytest.mark.parametrize(
    ("values", "position"),
    [
        ({1: "z", 3: 4}, 1),  # not a choice of the question
        ({1: "A", 3: 4}, 1),  # keys are exact
        ({1: ["a"], 3: 4}, 1),  # a list for a single choice
        ({1: 1, 3: 4}, 1),  # a number for a choice
        ({1: "a", 2: ["a", "z"], 3: 4}, 2),  # one of several not a choice
        ({1: "a", 2: "a", 3: 4}, 2),  # a string for a multiple choice
        ({1: "a", 3: 6}, 3),  # above the scale
        ({1: "a", 3: 0}, 3),  # below the scale
        ({1: "a", 3: -1}, 3),
        ({1: "a", 3: "很好"}, 3),  # not a number
        ({1: "a", 3: ["4"]}, 3),
        ({1: "a", 3: 10**30}, 3),
        ({1: "b", 3: 4, 4: "长" * 201}, 4),  # a short text of more than 200 characters
        ({1: "a", 3: 4, 5: ["a"]}, 5),  # a list for a text
    ],
)
def test_answers_that_do_not_fit_their_question(voice_world, values, position):
    survey = voice_world["survey"]()
    ids = qids(survey)
    body = {"answers": {ids[p - 1]: v for p, v in values.items()}}
    me = me_of(voice_world)
    refused(
        lambda: me.post(f"/surveys/{survey.pk}/responses", body),
        400,
        "answer_invalid",
        f"q{ids[position - 1]}",
    )


def _names_the_answer(body: dict, question: str) -> None:
    """The schema's refusal of an answer names ``answers.<question id>`` (pydantic may add the
    union member it tried last: see test_a_refused_answer_names_only_its_question)."""
    assert body["field"].split(".")[:2] == ["answers", question], body


@pytest.mark.parametrize(
    ("values", "position"),
    [
        ({1: "a", 3: True}, 3),  # a rating
        ({1: "a", 3: False}, 3),
        ({1: True, 3: 4}, 1),  # a single choice
        ({1: "a", 2: [True], 3: 4}, 2),  # one of a multiple choice
        ({1: "a", 3: 4, 5: False}, 5),  # a text
    ],
    ids=["rating-true", "rating-false", "single-true", "multiple-true", "text-false"],
)
def test_true_is_not_a_number_nor_a_text(voice_world, values, position):
    """JSON booleans are refused by the schema (strict integers and strings): true never counts as 1."""
    survey = voice_world["survey"]()
    ids = qids(survey)
    body = {"answers": {ids[p - 1]: v for p, v in values.items()}}
    me = me_of(voice_world)
    refused_body = refused(lambda: me.post(f"/surveys/{survey.pk}/responses", body), 400, "invalid_input")
    _names_the_answer(refused_body, ids[position - 1])
    assert Survey.objects.get(pk=survey.pk).responses_count == 0


@pytest.mark.parametrize("rating", [True, False, 4.0, "4"], ids=["true", "false", "float", "string"])
def test_a_rating_must_be_a_whole_number(voice_world, rating):
    done = resolved(voice_world)
    me = me_of(voice_world)
    refused(
        lambda: me.post(f"/suggestions/{done.pk}/rating", {"rating": rating}), 400, "invalid_input", "rating"
    )
    row = Suggestion.objects.get(pk=done.pk)
    assert (row.status, row.rating, row.rated_at) == ("resolved", None, None)


def test_a_refused_answer_names_only_its_question(voice_world):
    survey = voice_world["survey"]()
    q1, _q2, q3, _q4, q5 = qids(survey)
    me = me_of(voice_world)
    path = f"/surveys/{survey.pk}/responses"
    refused(lambda: me.post(path, {"answers": {q1: "a", q3: True}}), 400, "invalid_input", f"answers.{q3}")
    refused(
        lambda: me.post(path, {"answers": {q1: "a", q3: 4, q5: False}}), 400, "invalid_input", f"answers.{q5}"
    )


def test_answers_to_questions_of_another_survey_or_none(voice_world):
    survey = voice_world["survey"]()
    other = voice_world["survey"]()
    q1, _q2, q3, *_ = qids(survey)
    foreign = qids(other)[0]
    me = me_of(voice_world)
    path = f"/surveys/{survey.pk}/responses"
    refused(
        lambda: me.post(path, {"answers": {q1: "a", q3: 4, foreign: "a"}}),
        400,
        "answer_invalid",
        f"q{foreign}",
    )
    refused(
        lambda: me.post(path, {"answers": {q1: "a", q3: 4, str(HUGE_ID): "a"}}),
        400,
        "answer_invalid",
        f"q{HUGE_ID}",
    )
    refused(lambda: me.post(path, {"answers": {"第一题": "a"}}), 400, "invalid_input")
    refused(lambda: me.post(path, {"answers": {q1: {"key": "a"}, q3: 4}}), 400, "invalid_input")
    refused(lambda: me.post(path, {"answers": {q1: "a", q3: 4.5}}), 400, "invalid_input")
    refused(lambda: me.post(path, {"answers": [q1, "a"]}), 400, "invalid_input", "answers")


def test_answering_a_closed_a_draft_or_a_missing_survey(voice_world):
    me = me_of(voice_world)
    closed = voice_world["survey"]()
    services.survey_close(staff=voice_world["desk"], scope=voice_world["scope"], survey_id=closed.pk)
    refused(lambda: me.post(f"/surveys/{closed.pk}/responses", good_answers(closed)), 409, "survey_closed")
    # Its closing time passed while it was published.
    expired = voice_world["survey"]()
    Survey.objects.filter(pk=expired.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
    refused(lambda: me.post(f"/surveys/{expired.pk}/responses", good_answers(expired)), 409, "survey_closed")
    draft = voice_world["survey"](publish=False)
    refused(lambda: me.post(f"/surveys/{draft.pk}/responses", good_answers(draft)), 404, "survey_not_found")
    refused(lambda: me.get(f"/surveys/{draft.pk}"), 404, "survey_not_found")
    refused(lambda: me.post("/surveys/987654/responses", good_answers(draft)), 404, "survey_not_found")
    refused(lambda: me.post(f"/surveys/{HUGE_ID}/responses", good_answers(draft)), 400, "invalid_input")
    refused(lambda: me.get("/surveys/0"), 400, "invalid_input")
    refused(lambda: me.get("/surveys/abc"), 400, "invalid_input")


def test_answering_a_survey_outside_ones_audience_or_area(voice_world):
    first, second, rider = (me_of(voice_world, n) for n in range(3))
    outsider, far = resident_api(voice_world["outsider"].user), resident_api(voice_world["far"].user)
    desk = desk_of(voice_world)
    riders = voice_world["survey"](audience="riders")
    refused(
        lambda: first.post(f"/surveys/{riders.pk}/responses", good_answers(riders)), 403, "survey_not_for_you"
    )
    elderly = voice_world["survey"](audience="elderly")  # residents of the factories are born in 1990
    refused(
        lambda: rider.post(f"/surveys/{elderly.pk}/responses", good_answers(elderly)),
        403,
        "survey_not_for_you",
    )
    families = voice_world["survey"](audience="families")
    refused(
        lambda: second.post(f"/surveys/{families.pk}/responses", good_answers(families)),
        403,
        "survey_not_for_you",
    )
    # 固戍's survey: not for a resident of 龙珠 or of 宝民, nor for staff (who have no home).
    gushu = voice_world["survey"]()
    for client in (outsider, far, desk):
        refused(
            lambda c=client: c.post(f"/surveys/{gushu.pk}/responses", good_answers(gushu)),
            403,
            "survey_not_for_you",
        )
    # The sub-district's survey is not for 宝民 (another sub-district) either.
    street = voice_world["survey"](area="street", by=voice_world["roles"]["street"])
    refused(
        lambda: far.post(f"/surveys/{street.pk}/responses", good_answers(street)), 403, "survey_not_for_you"
    )
    # The rider answers the riders' survey, 龙珠's resident the sub-district's.
    assert rider.post(f"/surveys/{riders.pk}/responses", good_answers(riders)).status_code == 201
    assert outsider.post(f"/surveys/{street.pk}/responses", good_answers(street)).status_code == 201


def test_a_visitor_on_a_survey_not_open_to_visitors(voice_world, api):
    named = voice_world["survey"]()
    token = {"visitor_token": "v" * 32}
    body = refused(
        lambda: api.post(f"/surveys/{named.pk}/responses", {**good_answers(named), **token}),
        401,
        "not_authenticated",
    )
    assert body["message"]
    # Anonymous, but for riders only: a visitor cannot be checked against the audience.
    riders = voice_world["survey"](anonymous=True, audience="riders")
    refused(
        lambda: api.post(f"/surveys/{riders.pk}/responses", {**good_answers(riders), **token}),
        401,
        "not_authenticated",
    )
    # Open to visitors, but without a browser token, or a token too short to be random.
    open_survey = voice_world["survey"](anonymous=True)
    path = f"/surveys/{open_survey.pk}/responses"
    refused(lambda: api.post(path, good_answers(open_survey)), 401, "not_authenticated")
    refused(
        lambda: api.post(path, {**good_answers(open_survey), "visitor_token": "short"}),
        401,
        "not_authenticated",
    )
    refused(
        lambda: api.post(path, {**good_answers(open_survey), "visitor_token": "x" * 81}),
        400,
        "invalid_input",
        "visitor_token",
    )
    # A bearer token that is not valid is no sign-in: the caller is a visitor.
    refused(
        lambda: Api("lr_not_a_token").post(f"/surveys/{named.pk}/responses", good_answers(named)),
        401,
        "not_authenticated",
    )


# --- submitting requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status", "code"),
    [
        ("", 400, "suggestion_text_invalid"),
        ("    \n  ", 400, "suggestion_text_invalid"),
        ("药箱坏了", 400, "suggestion_text_invalid"),  # 4 characters: less than 5
        ("药" * 2001, 400, "suggestion_text_invalid"),
        ("药" * 4001, 400, "suggestion_text_invalid"),  # the service says why, not the schema
        ("药" * 20000, 400, "suggestion_text_invalid"),
        ("药" * 20001, 400, "invalid_input"),  # refused by the schema before the service
    ],
    ids=["empty", "blank", "too-short", "over-2000", "over-4000", "20000", "over-20000"],
)
def test_a_request_with_empty_or_oversized_text(voice_world, text, status, code):
    me = me_of(voice_world)
    refused(
        lambda: multipart(me, "/suggestions", request_form(voice_world["center"], text=text)),
        status,
        code,
        "text",
    )


@pytest.mark.parametrize(("length", "code"), [(2001, "suggestion_text_invalid"), (20001, "invalid_input")])
def test_staff_records_with_oversized_text(voice_world, length, code):
    """A desk record and a forum's raised point are held to the same 2,000 characters."""
    desk = desk_of(voice_world)
    center = voice_world["center"].pk
    record = {"center_id": center, "kind": "help", "category": "other", "text": "药" * length}
    refused(lambda: desk.post("/staff/voice/suggestions", record), 400, code, "text")
    forum = {
        "center_id": center,
        "kind": "visit",
        "held_on": str(timezone.localdate()),
        "place": "独居老人家中",
        "participants": 2,
        "topics": "助餐",
        "raised": [{"text": "药" * length}],
    }
    field = "text" if code == "suggestion_text_invalid" else "raised.0.text"
    refused(lambda: desk.post("/staff/voice/engagements", forum), 400, code, field)


def test_a_request_of_2000_characters_is_accepted(voice_world):
    response = multipart(
        me_of(voice_world), "/suggestions", request_form(voice_world["center"], text="药" * 2000)
    )
    assert response.status_code == 201 and len(response.json()["text"]) == 2000


def test_a_request_with_a_nul_character_is_refused(voice_world):
    """PostgreSQL cannot store NUL: a form field holding one is bad input, not a server error; the
    field is named, in its value or in its name, multipart or urlencoded."""
    me = me_of(voice_world)
    center = voice_world["center"]
    refused(
        lambda: multipart(me, "/suggestions", request_form(center, text="药箱\x00坏了很久")),
        400,
        "invalid_input",
        "text",
    )
    refused(
        lambda: multipart(
            me,
            "/suggestions",
            request_form(center, text="药箱坏了很久", photos=[upload(jpeg_bytes())], kind="help\x00"),
        ),
        400,
        "invalid_input",
        "kind",
    )
    refused(
        lambda: multipart(me, "/suggestions", {**request_form(center), "no\x00te": "x"}),
        400,
        "invalid_input",
        "note",
    )
    urlencoded = (
        f"center_id={center.pk}&kind=help&category=other&text=%E8%8D%AF%E7%AE%B1%00%E5%9D%8F%E4%BA%86"
    )
    refused(
        lambda: me.client.post(
            "/api/v1/suggestions",
            data=urlencoded,
            content_type="application/x-www-form-urlencoded",
            headers={"Authorization": f"Bearer {me.token}"},
        ),
        400,
        "invalid_input",
        "text",
    )
    made = voice_world["suggestion"]()
    desk = desk_of(voice_world)
    refused(
        lambda: multipart(
            desk,
            f"/staff/voice/suggestions/{made.pk}/photos",
            {"kind": "after\x00", "photo": upload(jpeg_bytes())},
        ),
        400,
        "invalid_input",
        "kind",
    )
    # A photo is binary and holds NUL bytes: it is not a text field and passes.
    assert b"\x00" in jpeg_bytes()
    assert (
        multipart(me, "/suggestions", request_form(center, photos=[upload(jpeg_bytes())])).status_code == 201
    )


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(out, format="GIF")
    return out.getvalue()


def _bomb() -> bytes:
    """A small PNG of 8000 x 8000 pixels (64 megapixels: more than the 40 allowed)."""
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("photo", "status", "code"),
    [
        (lambda: upload(b"this is a text file, not a photo\n" * 20, "photo.jpg"), 400, "photo_type"),
        (lambda: upload(_gif(), "photo.jpg"), 400, "photo_type"),  # a GIF, whatever its name
        (lambda: upload(_gif(), "photo.gif", "image/gif"), 400, "photo_type"),
        (lambda: upload(jpeg_bytes()[:200], "photo.jpg"), 400, "photo_type"),  # cut short
        (lambda: upload(b"%PDF-1.4\n" + b"0" * 500, "photo.jpg"), 400, "photo_type"),
        (lambda: upload(b"", "photo.jpg"), 400, "photo_invalid"),
        (lambda: upload(_bomb(), "photo.png", "image/png"), 400, "photo_invalid"),
        (lambda: upload(b"\xff\xd8\xff\xe0" + os.urandom(5 * MB), "big.jpg"), 413, "photo_too_large"),
    ],
    ids=["text-as-jpg", "gif-as-jpg", "gif", "truncated-jpeg", "pdf", "empty", "64-megapixels", "over-5-mb"],
)
def test_a_photo_of_a_disallowed_type_or_size(voice_world, photo, status, code):
    me = me_of(voice_world)
    form = request_form(voice_world["center"], photos=[upload(jpeg_bytes()), photo()])
    refused(lambda: multipart(me, "/suggestions", form), status, code)


def test_staff_photos_are_checked_the_same_way(voice_world):
    made = voice_world["suggestion"]()
    desk = desk_of(voice_world)
    path = f"/staff/voice/suggestions/{made.pk}/photos"
    refused(
        lambda: multipart(desk, path, {"kind": "after", "photo": upload(_gif(), "after.jpg")}),
        400,
        "photo_type",
    )
    big = upload(b"\xff\xd8\xff\xe0" + os.urandom(5 * MB), "big.jpg")
    refused(lambda: multipart(desk, path, {"kind": "after", "photo": big}), 413, "photo_too_large", "photos")
    refused(
        lambda: multipart(desk, path, {"kind": "report", "photo": upload(jpeg_bytes())}), 400, "invalid_input"
    )
    refused(lambda: multipart(desk, path, {"kind": "after"}), 400, "invalid_input")
    for _ in range(4):
        assert multipart(desk, path, {"kind": "after", "photo": upload(jpeg_bytes())}).status_code == 201
    refused(
        lambda: multipart(desk, path, {"kind": "after", "photo": upload(jpeg_bytes())}),
        400,
        "too_many_photos",
    )
    assert multipart(desk, path, {"kind": "before", "photo": upload(jpeg_bytes())}).status_code == 201


def test_more_than_four_photos(voice_world):
    me = me_of(voice_world)
    form = request_form(voice_world["center"], photos=[upload(jpeg_bytes()) for _ in range(5)])
    refused(lambda: multipart(me, "/suggestions", form), 400, "too_many_photos", "photos")
    four = request_form(voice_world["center"], photos=[upload(jpeg_bytes()) for _ in range(4)])
    assert len(multipart(me, "/suggestions", four).json()["photos"]) == 4


def test_a_request_with_unknown_values_or_places(voice_world, place):
    me = me_of(voice_world)
    center = voice_world["center"]
    refused(lambda: multipart(me, "/suggestions", request_form(center, kind="praise")), 400, "invalid_input")
    refused(
        lambda: multipart(me, "/suggestions", request_form(center, category="noise")), 400, "invalid_input"
    )
    form = request_form(center)
    del form["kind"]
    refused(lambda: multipart(me, "/suggestions", form), 400, "invalid_input")
    refused(
        lambda: multipart(me, "/suggestions", {**form, "kind": "help", "center_id": 987654}),
        404,
        "center_not_found",
    )
    refused(
        lambda: multipart(me, "/suggestions", {**form, "kind": "help", "center_id": "固戍"}),
        400,
        "invalid_input",
    )
    refused(
        lambda: multipart(me, "/suggestions", {**form, "kind": "help", "center_id": HUGE_ID}),
        400,
        "invalid_input",
    )
    # A space of another center.
    elsewhere = f.SpaceFactory(center=voice_world["other_center"])
    refused(
        lambda: multipart(me, "/suggestions", request_form(center, space_id=elsewhere.pk)),
        404,
        "not_found",
        "space",
    )
    # As JSON instead of a form: the form fields are missing.
    refused(lambda: me.post("/suggestions", request_form(center)), 400, "invalid_input")


def test_form_fields_are_named_plainly(voice_world):
    """A refused form field is named as the client sent it ("kind"), as JSON fields are."""
    me, desk = me_of(voice_world), desk_of(voice_world)
    center = voice_world["center"]
    refused(
        lambda: multipart(me, "/suggestions", request_form(center, kind="praise")),
        400,
        "invalid_input",
        "kind",
    )
    refused(
        lambda: multipart(me, "/suggestions", request_form(center, text="药" * 20001)),
        400,
        "invalid_input",
        "text",
    )
    refused(
        lambda: multipart(me, "/suggestions", request_form(center, center_id="固戍")),
        400,
        "invalid_input",
        "center_id",
    )
    made = voice_world["suggestion"]()
    path = f"/staff/voice/suggestions/{made.pk}/photos"
    refused(
        lambda: multipart(desk, path, {"kind": "report", "photo": upload(jpeg_bytes())}),
        400,
        "invalid_input",
        "kind",
    )
    refused(lambda: multipart(desk, path, {"kind": "after"}), 400, "invalid_input", "photo")


def test_unknown_fields_are_ignored_never_applied(voice_world):
    """A field the schema does not have cannot set the state, the owner or the resident."""
    me = me_of(voice_world)
    other = voice_world["residents"][1]
    form = request_form(
        voice_world["center"], status="closed", resident_id=other.pk, is_public="true", rating=5
    )
    made = multipart(me, "/suggestions", form)
    assert made.status_code == 201
    row = Suggestion.objects.get(pk=made.json()["id"])
    assert (row.status, row.resident, row.is_public, row.rating) == (
        "received",
        voice_world["residents"][0],
        False,
        None,
    )
    done = resolved(voice_world)
    rated = me.post(f"/suggestions/{done.pk}/rating", {"rating": 3, "status": "resolved", "follow_up": True})
    assert (rated.status_code, rated.json()["status"], rated.json()["follow_up"]) == (200, "closed", False)


# --- rating and reopening --------------------------------------------------------------------------------


def test_rating_someone_elses_request(voice_world):
    done = resolved(voice_world)
    for client in (me_of(voice_world, 1), resident_api(voice_world["outsider"].user), desk_of(voice_world)):
        refused(
            lambda c=client: c.post(f"/suggestions/{done.pk}/rating", {"rating": 5}),
            404,
            "suggestion_not_found",
        )
        refused(
            lambda c=client: c.post(f"/suggestions/{done.pk}/reopen", {"reason": "问题没有解决"}),
            404,
            "suggestion_not_found",
        )
    refused(lambda: Api().post(f"/suggestions/{done.pk}/rating", {"rating": 5}), 401, "not_authenticated")
    me = me_of(voice_world)
    refused(lambda: me.post("/suggestions/987654/rating", {"rating": 5}), 404, "suggestion_not_found")


def test_rating_twice(voice_world):
    done = resolved(voice_world)
    me = me_of(voice_world)
    assert me.post(f"/suggestions/{done.pk}/rating", {"rating": 4}).status_code == 200
    refused(lambda: me.post(f"/suggestions/{done.pk}/rating", {"rating": 5}), 409, "already_rated")
    assert Suggestion.objects.get(pk=done.pk).rating == 4


def test_rating_again_while_the_follow_up_is_open(voice_world):
    done = resolved(voice_world)
    me = me_of(voice_world)
    assert me.post(f"/suggestions/{done.pk}/rating", {"rating": 1}).json()["status"] == "in_progress"
    refused(lambda: me.post(f"/suggestions/{done.pk}/rating", {"rating": 5}), 409, "suggestion_wrong_state")


def test_rating_before_resolution(voice_world):
    made = voice_world["suggestion"]()
    me = me_of(voice_world)
    refused(lambda: me.post(f"/suggestions/{made.pk}/rating", {"rating": 5}), 409, "suggestion_wrong_state")
    services.suggestion_respond(
        staff=voice_world["desk"], scope=voice_world["scope"], suggestion_id=made.pk, message="处理中"
    )
    refused(lambda: me.post(f"/suggestions/{made.pk}/rating", {"rating": 5}), 409, "suggestion_wrong_state")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "很满意"}, "rating"),
        ({"rating": 4.5}, "rating"),
        ({}, "rating"),
        ({"rating": 5, "comment": "好" * 301}, "comment"),
    ],
)
def test_ratings_off_the_scale(voice_world, body, field):
    done = resolved(voice_world)
    me = me_of(voice_world)
    refused(lambda: me.post(f"/suggestions/{done.pk}/rating", body), 400, "invalid_input", field)


def test_illegal_reopening(voice_world):
    me = me_of(voice_world)
    still_open = voice_world["suggestion"]()
    refused(
        lambda: me.post(f"/suggestions/{still_open.pk}/reopen", {"reason": "还没有处理"}),
        409,
        "suggestion_wrong_state",
    )
    closed = resolved(voice_world)
    assert me.post(f"/suggestions/{closed.pk}/rating", {"rating": 5}).status_code == 200
    refused(
        lambda: me.post(f"/suggestions/{closed.pk}/reopen", {"reason": "又坏了一次"}),
        409,
        "suggestion_wrong_state",
    )
    # Resolved eight days ago: the seven-day window has passed.
    late = resolved(voice_world, now=at(-8))
    refused(
        lambda: me.post(f"/suggestions/{late.pk}/reopen", {"reason": "又坏了一次"}),
        409,
        "reopen_window_passed",
    )
    fresh = resolved(voice_world)
    refused(
        lambda: me.post(f"/suggestions/{fresh.pk}/reopen", {"reason": "坏了"}),
        400,
        "suggestion_text_invalid",
        "reason",
    )
    refused(lambda: me.post(f"/suggestions/{fresh.pk}/reopen", {}), 400, "invalid_input", "reason")


# --- staff ---------------------------------------------------------------------------------------------


def test_acting_on_another_communitys_request(voice_world):
    """宝民's worker, 龙珠's center staff and a partner it was not handed to find nothing to act on."""
    made = voice_world["suggestion"]()
    services.extension_request(
        staff=voice_world["desk"], scope=voice_world["scope"], suggestion_id=made.pk, days=2, reason="采购"
    )
    extension = Extension.objects.get(suggestion=made)
    base = f"/staff/voice/suggestions/{made.pk}"
    roles = voice_world["roles"]
    for user in (roles["other_community"], roles["center"], roles["partner"], voice_world["partner"]):
        staff = staff_api(user)
        refused(lambda s=staff: s.get(base), 404, "suggestion_not_found")
        refused(
            lambda s=staff: s.post(f"{base}/assign", {"organization_id": None}), 404, "suggestion_not_found"
        )
        refused(lambda s=staff: s.post(f"{base}/respond", {"message": "收到"}), 404, "suggestion_not_found")
        refused(
            lambda s=staff: s.post(f"{base}/extensions", {"days": 3, "reason": "采购"}),
            404,
            "suggestion_not_found",
        )
        refused(lambda s=staff: s.post(f"{base}/resolve", {"reply": "已处理"}), 404, "suggestion_not_found")
        refused(
            lambda s=staff: s.post(f"{base}/publish", {"summary": "居民建议增设药箱"}),
            404,
            "suggestion_not_found",
        )
        refused(
            lambda s=staff: multipart(s, f"{base}/photos", {"kind": "after", "photo": upload(jpeg_bytes())}),
            404,
            "suggestion_not_found",
        )
        refused(
            lambda s=staff: s.post(f"/staff/voice/extensions/{extension.pk}/decision", {"approve": True}),
            404,
            "extension_not_found",
        )
        assert made.tracking_no not in str(staff.get("/staff/voice/suggestions").json())


def test_illegal_steps_of_staff(voice_world, place):
    desk = desk_of(voice_world)
    me = me_of(voice_world)
    closed = resolved(voice_world)
    assert me.post(f"/suggestions/{closed.pk}/rating", {"rating": 5}).status_code == 200
    base = f"/staff/voice/suggestions/{closed.pk}"
    refused(lambda: desk.post(f"{base}/resolve", {"reply": "再处理一次"}), 409, "suggestion_wrong_state")
    refused(lambda: desk.post(f"{base}/respond", {"message": "收到"}), 409, "suggestion_wrong_state")
    refused(
        lambda: desk.post(f"{base}/assign", {"organization_id": voice_world["org"].pk}),
        409,
        "suggestion_wrong_state",
    )
    refused(
        lambda: desk.post(f"{base}/extensions", {"days": 3, "reason": "采购"}), 409, "suggestion_wrong_state"
    )
    done = resolved(voice_world)
    base = f"/staff/voice/suggestions/{done.pk}"
    refused(lambda: desk.post(f"{base}/resolve", {"reply": "再处理一次"}), 409, "suggestion_wrong_state")
    refused(lambda: desk.post(f"{base}/respond", {"message": "收到"}), 409, "suggestion_wrong_state")
    # Empty words and an owner that does not work at the center.
    fresh = voice_world["suggestion"]()
    base = f"/staff/voice/suggestions/{fresh.pk}"
    refused(lambda: desk.post(f"{base}/resolve", {"reply": "  \n "}), 400, "reply_required", "reply")
    refused(lambda: desk.post(f"{base}/respond", {"message": ""}), 400, "reply_required", "message")
    refused(lambda: desk.post(f"{base}/publish", {"summary": "药箱"}), 400, "summary_required", "summary")
    refused(lambda: desk.post(f"{base}/publish", {}), 400, "summary_required", "summary")
    stranger = f.OrganizationFactory()
    refused(
        lambda: desk.post(f"{base}/assign", {"organization_id": stranger.pk}),
        404,
        "owner_not_found",
        "organization",
    )
    refused(
        lambda: desk.post(f"{base}/assign", {"organization_id": 987654}),
        404,
        "owner_not_found",
        "organization",
    )


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"days": 0, "reason": "采购"}, "invalid_input", "days"),
        ({"days": 31, "reason": "采购"}, "invalid_input", "days"),
        ({"days": -3, "reason": "采购"}, "invalid_input", "days"),
        ({"days": "三", "reason": "采购"}, "invalid_input", "days"),
        ({"days": 3}, "invalid_input", "reason"),
        ({"days": 3, "reason": "   "}, "extension_invalid", "reason"),
        ({"days": 3, "reason": "长" * 301}, "invalid_input", "reason"),
    ],
    ids=["0-days", "31-days", "negative", "not-a-number", "no-reason", "blank-reason", "long-reason"],
)
def test_extensions_out_of_range(voice_world, body, code, field):
    made = voice_world["suggestion"]()
    desk = desk_of(voice_world)
    refused(lambda: desk.post(f"/staff/voice/suggestions/{made.pk}/extensions", body), 400, code, field)


def test_extension_steps_out_of_turn(voice_world):
    desk, street = desk_of(voice_world), staff_api(voice_world["roles"]["street"])
    made = voice_world["suggestion"]()
    asked = desk.post(f"/staff/voice/suggestions/{made.pk}/extensions", {"days": 3, "reason": "采购"})
    assert asked.status_code == 201
    ext = asked.json()["id"]
    refused(
        lambda: desk.post(f"/staff/voice/suggestions/{made.pk}/extensions", {"days": 2, "reason": "再等等"}),
        409,
        "extension_pending",
    )
    # Not a supervisor: the desk itself.
    refused(
        lambda: desk.post(f"/staff/voice/extensions/{ext}/decision", {"approve": True}), 403, "not_supervisor"
    )
    refused(
        lambda: street.post(f"/staff/voice/extensions/{ext}/decision", {"approve": "也许"}),
        400,
        "invalid_input",
        "approve",
    )
    # Resolved meanwhile: the extension can no longer be approved (it may still be refused).
    services.suggestion_resolve(
        staff=voice_world["desk"], scope=voice_world["scope"], suggestion_id=made.pk, reply="已处理"
    )
    refused(
        lambda: street.post(f"/staff/voice/extensions/{ext}/decision", {"approve": True}),
        409,
        "suggestion_wrong_state",
    )
    assert street.post(f"/staff/voice/extensions/{ext}/decision", {"approve": False}).status_code == 200
    # Decided once is decided: a second decision, either way, is a conflict and changes nothing.
    for approve in (True, False):
        refused(
            lambda a=approve: street.post(f"/staff/voice/extensions/{ext}/decision", {"approve": a}),
            409,
            "extension_decided",
            None,
        )
    assert Extension.objects.get(pk=ext).status == "refused"
    # An approved one too, and by the district as well.
    again = voice_world["suggestion"]()
    approved = services.extension_request(
        staff=voice_world["desk"], scope=voice_world["scope"], suggestion_id=again.pk, days=2, reason="采购"
    )
    assert (
        street.post(f"/staff/voice/extensions/{approved.pk}/decision", {"approve": True}).status_code == 200
    )
    resolve_by = Suggestion.objects.get(pk=again.pk).resolve_by
    district = staff_api(voice_world["roles"]["district"])
    refused(
        lambda: district.post(f"/staff/voice/extensions/{approved.pk}/decision", {"approve": True}),
        409,
        "extension_decided",
        None,
    )
    assert Suggestion.objects.get(pk=again.pk).resolve_by == resolve_by
    refused(
        lambda: street.post("/staff/voice/extensions/987654/decision", {"approve": True}),
        404,
        "extension_not_found",
    )


def test_surveys_staff_may_not_build_or_change(voice_world, place):
    desk = desk_of(voice_world)
    c1, _c2, c3 = place["communities"]
    good = {
        "title": "需求调查",
        "area": "community",
        "community_id": c1.pk,
        "questions": [{"kind": "single", "text": "您多久来一次？", "choices": ["每天", "每周"]}],
    }
    q = good["questions"][0]
    bad = [
        ({**good, "questions": []}, 400, "survey_invalid", None),
        ({**good, "questions": [{**q, "choices": ["每天"]}]}, 400, "survey_invalid", None),
        ({**good, "questions": [{**q, "choices": ["每天", "每天"]}]}, 400, "survey_invalid", None),
        ({**good, "questions": [{**q, "text": "   "}]}, 400, "survey_invalid", None),
        (
            {**good, "questions": [q, {**q, "show_if_position": 3, "show_if_choice": "a"}]},
            400,
            "survey_invalid",
            None,
        ),
        (
            {**good, "questions": [q, {**q, "show_if_position": 1, "show_if_choice": "z"}]},
            400,
            "survey_invalid",
            None,
        ),
        ({**good, "questions": [{**q, "kind": "ranking"}]}, 400, "invalid_input", "questions.0.kind"),
        (
            {**good, "questions": [{**q, "kind": "rating", "scale_max": 11}]},
            400,
            "invalid_input",
            "questions.0.scale_max",
        ),
        ({**good, "title": " "}, 400, "survey_invalid", "title"),
        ({**good, "area": "planet"}, 400, "invalid_input", "area"),
        ({**good, "audience": "aliens"}, 400, "invalid_input", "audience"),
        ({**good, "area": "district", "community_id": None}, 400, "survey_invalid", "area"),
        (
            {**good, "closes_at": (timezone.now() - dt.timedelta(hours=1)).isoformat()},
            400,
            "survey_invalid",
            "closes_at",
        ),
        ({**good, "closes_at": "2030-01-01T10:00:00"}, 400, "invalid_input", "closes_at"),  # no time zone
        ({**good, "community_id": c3.pk}, 404, "not_found", "community"),
        ({**good, "community_id": None}, 404, "not_found", "community"),
        (
            {**good, "area": "street", "community_id": None, "street_id": place["streets"][0].pk},
            404,
            "not_found",
            "street",
        ),
        ({**good, "questions": [q] * 61}, 400, "invalid_input", "questions"),
    ]
    for body, status, code, field in bad:
        refused(lambda b=body: desk.post("/staff/voice/surveys", b), status, code, field)
    published = voice_world["survey"]()
    refused(lambda: desk.post(f"/staff/voice/surveys/{published.pk}/publish"), 409, "survey_not_editable")
    refused(lambda: desk.put(f"/staff/voice/surveys/{published.pk}", good), 409, "survey_not_editable")
    draft = voice_world["survey"](publish=False)
    refused(lambda: desk.post(f"/staff/voice/surveys/{draft.pk}/close"), 409, "survey_closed")
    services.survey_close(staff=voice_world["desk"], scope=voice_world["scope"], survey_id=published.pk)
    refused(lambda: desk.post(f"/staff/voice/surveys/{published.pk}/close"), 409, "survey_closed")
    # A draft whose closing time passed cannot be published.
    stale = voice_world["survey"](publish=False)
    Survey.objects.filter(pk=stale.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=5))
    refused(lambda: desk.post(f"/staff/voice/surveys/{stale.pk}/publish"), 400, "survey_invalid", "closes_at")


def test_forums_and_visits_that_cannot_be_recorded(voice_world):
    desk = desk_of(voice_world)
    today = timezone.localdate()
    good = {
        "center_id": voice_world["center"].pk,
        "kind": "visit",
        "held_on": str(today),
        "place": "独居老人家中",
        "participants": 2,
        "topics": "助餐",
    }
    bad = [
        ({**good, "held_on": str(today + dt.timedelta(days=1))}, 400, "engagement_invalid", "held_on"),
        ({**good, "held_on": str(today - dt.timedelta(days=400))}, 400, "engagement_invalid", "held_on"),
        ({**good, "held_on": "昨天"}, 400, "invalid_input", "held_on"),
        ({**good, "participants": 0}, 400, "invalid_input", "participants"),
        ({**good, "kind": "party"}, 400, "invalid_input", "kind"),
        ({**good, "topics": "  "}, 400, "engagement_invalid", "topics"),
        ({**good, "raised": [{"text": "短"}]}, 400, "suggestion_text_invalid", "text"),
        (
            {**good, "raised": [{"kind": "praise", "text": "希望有歇脚的地方"}]},
            400,
            "invalid_input",
            "raised.0.kind",
        ),
        ({**good, "center_id": voice_world["other_center"].pk}, 404, "center_not_found", "center"),
    ]
    for body, status, code, field in bad:
        refused(lambda b=body: desk.post("/staff/voice/engagements", b), status, code, field)


def test_a_desk_request_for_a_resident_out_of_sight(voice_world):
    desk = desk_of(voice_world)
    body = {
        "center_id": voice_world["center"].pk,
        "kind": "help",
        "category": "services",
        "text": "来电希望上门理发",
    }
    refused(
        lambda: desk.post("/staff/voice/suggestions", {**body, "resident_id": voice_world["far"].pk}),
        404,
        "not_found",
        "resident",
    )
    refused(
        lambda: desk.post("/staff/voice/suggestions", {**body, "channel": "online"}),
        400,
        "invalid_input",
        "channel",
    )
    refused(
        lambda: desk.post("/staff/voice/suggestions", {**body, "text": "短"}),
        400,
        "suggestion_text_invalid",
        "text",
    )


# --- the rates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [
        "planet",
        "center",
        "center:",
        "center:abc",
        "center:-1",
        "center:1234567890123",
        "city:1",
        "center:1:2",
    ],
)
def test_rates_with_an_invalid_scope(voice_world, scope):
    district = staff_api(voice_world["roles"]["district"])
    refused(lambda: district.get("/staff/voice/rates", scope=scope), 400, "scope_invalid", "scope")


def test_rates_with_an_invalid_period(voice_world):
    desk = desk_of(voice_world)
    scope = f"center:{voice_world['center'].pk}"
    today = timezone.localdate()
    for period, code, field in (
        ({"from": str(today), "to": str(today - dt.timedelta(days=1))}, "period_invalid", "from"),
        ({"from": str(today - dt.timedelta(days=732)), "to": str(today)}, "period_invalid", "from"),
        (
            {"from": str(today + dt.timedelta(days=1))},
            "period_invalid",
            "from",
        ),  # after today, the default end
        ({"from": "2026-13-01"}, "invalid_input", "from"),
        ({"to": "下个月"}, "invalid_input", "to"),
    ):
        refused(lambda p=period: desk.get("/staff/voice/rates", scope=scope, **p), 400, code, field)
    ok = desk.get(
        "/staff/voice/rates", scope=scope, **{"from": str(today - dt.timedelta(days=731)), "to": str(today)}
    )
    assert ok.status_code == 200


def test_rates_of_a_scope_outside_ones_area(voice_world, place):
    desk = desk_of(voice_world)
    s1, s2 = place["streets"]
    _c1, c2, c3 = place["communities"]
    for scope in (
        "district",
        f"street:{s1.pk}",  # 固戍's worker does not cover all of 西乡 (龙珠 too)
        f"street:{s2.pk}",
        f"community:{c2.pk}",
        f"community:{c3.pk}",
        f"center:{voice_world['other_center'].pk}",
        "center:987654",
        "street:987654",
    ):
        refused(lambda s=scope: desk.get("/staff/voice/rates", scope=s), 404, "not_found", "scope")
    partner = staff_api(voice_world["partner"])
    refused(
        lambda: partner.get("/staff/voice/rates", scope=f"community:{place['communities'][0].pk}"),
        404,
        "not_found",
        "scope",
    )
    refused(lambda: partner.get("/staff/voice/rates", scope="district"), 404, "not_found", "scope")


def test_rates_without_a_scope_for_staff_who_have_none(voice_world):
    """With no scope asked, the caller's widest is used; staff of an organisation that works at no
    center have none: 404 naming the scope."""
    lonely = f.staff_with_role(StaffRole.Role.PARTNER_STAFF, organization=f.OrganizationFactory())
    client = staff_api(lonely)
    refused(lambda: client.get("/staff/voice/rates"), 404, "not_found", "scope")
    refused(lambda: client.get("/staff/voice/rates", scope="  "), 404, "not_found", "scope")


# --- deadline rules -------------------------------------------------------------------------------------


def test_deadline_rules_are_set_by_the_district_only(voice_world):
    """There is no API for deadline rules (the console's settings page sets them): the service
    itself refuses anyone but district officials with 403, and writes nothing."""
    roles = voice_world["roles"]
    for user in (roles["street"], roles["community"], roles["center"], voice_world["partner"]):
        with unchanged(), pytest.raises(DomainError) as caught:
            services.deadline_rule_set(
                staff=user,
                scope=staff_scope(user),
                kind="complaint",
                category="",
                respond_days=1,
                resolve_days=3,
            )
        assert (caught.value.status, caught.value.code) == (403, "forbidden")
    boss = roles["district"]
    services.deadline_rule_set(
        staff=boss, scope=staff_scope(boss), kind="complaint", category="", respond_days=1, resolve_days=3
    )
    assert DeadlineRule.objects.filter(kind="complaint", category="").values_list(
        "respond_days", "resolve_days"
    ).get() == (1, 3)


# --- malformed requests and no 500 ---------------------------------------------------------------------


JSON_POSTS = [
    ("POST", "/surveys/{survey}/responses", "resident"),
    ("POST", "/suggestions/{done}/rating", "resident"),
    ("POST", "/suggestions/{done}/reopen", "resident"),
    ("POST", "/staff/voice/surveys", "desk"),
    ("PUT", "/staff/voice/surveys/{draft}", "desk"),
    ("POST", "/staff/voice/suggestions", "desk"),
    ("POST", "/staff/voice/suggestions/{open}/assign", "desk"),
    ("POST", "/staff/voice/suggestions/{open}/respond", "desk"),
    ("POST", "/staff/voice/suggestions/{open}/extensions", "desk"),
    ("POST", "/staff/voice/extensions/{extension}/decision", "street"),
    ("POST", "/staff/voice/suggestions/{open}/resolve", "desk"),
    ("POST", "/staff/voice/suggestions/{open}/publish", "desk"),
    ("POST", "/staff/voice/engagements", "desk"),
]


@pytest.fixture
def targets(voice_world) -> dict:
    open_one = voice_world["suggestion"]()
    waiting = voice_world["suggestion"]()
    extension = services.extension_request(
        staff=voice_world["desk"], scope=voice_world["scope"], suggestion_id=waiting.pk, days=2, reason="采购"
    )
    return {
        "survey": voice_world["survey"]().pk,
        "draft": voice_world["survey"](publish=False).pk,
        "done": resolved(voice_world).pk,
        "open": open_one.pk,
        "extension": extension.pk,
    }


def _client(world, who: str) -> Api:
    if who == "resident":
        return me_of(world)
    return staff_api(world["roles"]["street"] if who == "street" else world["desk"])


@pytest.mark.parametrize(
    ("method", "template", "who"), JSON_POSTS, ids=[f"{m} {t}" for m, t, _ in JSON_POSTS]
)
def test_malformed_json(voice_world, targets, method, template, who):
    client = _client(voice_world, who)
    path = template.format(**targets)
    for raw in (b"{not json", b'{"rating": 5', b"\xff\xfe"):
        refused(lambda r=raw: client.send(method, path, raw=r), 400, "invalid_json")


@pytest.mark.parametrize(
    ("method", "template", "who"), JSON_POSTS, ids=[f"{m} {t}" for m, t, _ in JSON_POSTS]
)
def test_a_body_that_is_not_an_object(voice_world, targets, method, template, who):
    """Every body is a JSON object: anything else is invalid_json, even where every field has a
    default (assign would otherwise hand the request back to the center, publish would answer
    summary_required)."""
    client = _client(voice_world, who)
    path = template.format(**targets)
    for raw in (b"[]", b"null", b'"text"', b"42", b"true", b" \n [1, 2]", b'[{"approve": true}]'):
        body = refused(lambda r=raw: client.send(method, path, raw=r), 400, "invalid_json", None)
        assert body["message"]


GARBAGE_IDS = ("0", "-1", "abc", str(HUGE_ID), "1.5", "%20", "JY%2F..%2F1")
GARBAGE_BODIES: list[object] = [
    {},
    {"answers": {"1": {"nested": [1, {"x": None}]}}, "visitor_token": ["x"]},
    {"rating": 10**40, "comment": {"a": 1}, "reason": 12},
    {"organization_id": -5, "message": None, "reply": ["x"], "days": 10**40, "approve": "x", "public": "x"},
    {"title": "x" * 500, "questions": "all", "area": None, "community_id": "c1"},
    {"center_id": 0, "kind": None, "held_on": "yesterday", "participants": 1.5, "raised": [{}]},
    {"summary": "x" * 700, "done_note": 5, "channel": "fax", "resident_id": "me"},
]


def _paths(template: str, real: dict) -> list[str]:
    """The template with each of its ids: a real one and every kind of garbage."""
    if "{" not in template:
        return [template]
    name = template[template.index("{") + 1 : template.index("}")]
    values = [str(real.get(name, 1)), *GARBAGE_IDS]
    return [template.replace("{" + name + "}", v) for v in values]


@pytest.mark.parametrize("who", ["anonymous", "resident", "desk"])
def test_no_voice_operation_answers_500(voice_world, targets, api, who):
    """Every voice operation of the schema, with garbage ids and bodies, answers a JSON 4xx or a
    success: never a server error."""
    schema = api.get("/openapi.json").json()
    client = Api() if who == "anonymous" else _client(voice_world, who)
    made = voice_world["suggestion"]()
    real = {
        "survey_id": targets["survey"],
        "suggestion_id": targets["open"],
        "extension_id": targets["extension"],
        "tracking_no": made.tracking_no,
    }
    calls = 0
    forms: set[str] = set()
    for template, operations in schema["paths"].items():
        for method, spec in operations.items():
            if not set(spec.get("tags", ())) & {"voice", "staff: voice"}:
                continue
            for path in _paths(template.removeprefix("/api/v1"), real):
                if method == "get":
                    answers = [
                        client.get(path),
                        client.get(path, scope="center:x", center="x", status="nope", **{"from": "x"}),
                    ]
                else:
                    answers = [client.send(method.upper(), path, body) for body in GARBAGE_BODIES]
                    if _takes_a_form(spec):  # a form sent to a JSON operation: see below
                        forms.add(template.removeprefix("/api/v1"))
                        answers.append(
                            multipart(client, path, {"kind": "x", "photo": "notafile", "photos": "x"})
                        )
                for response in answers:
                    calls += 1
                    assert response.status_code < 500, (method, path, response.content[:300])
                    if response.status_code >= 400:
                        assert set(response.json()) == {"code", "message", "field"}, (method, path)
    assert calls > 500
    assert forms == {"/suggestions", "/staff/voice/suggestions/{suggestion_id}/photos"}


def _takes_a_form(spec: dict) -> bool:
    return "multipart/form-data" in spec.get("requestBody", {}).get("content", {})


def _json_operations(api) -> list[tuple[str, str]]:
    schema = api.get("/openapi.json").json()
    found = [
        (method.upper(), template.removeprefix("/api/v1"))
        for template, operations in schema["paths"].items()
        for method, spec in operations.items()
        if set(spec.get("tags", ())) & {"voice", "staff: voice"}
        and "application/json" in spec.get("requestBody", {}).get("content", {})
    ]
    names = {
        "survey": "{survey_id}",
        "draft": "{survey_id}",
        "done": "{suggestion_id}",
        "open": "{suggestion_id}",
        "extension": "{extension_id}",
    }
    assert sorted(found) == sorted((m, t.format(**names)) for m, t, _ in JSON_POSTS)  # all of them
    return found


def test_a_form_sent_to_a_json_operation(voice_world, targets, api):
    """A multipart form posted where JSON is expected is a client error (4xx, JSON), never a 500,
    and changes nothing."""
    desk = desk_of(voice_world)
    real = {
        "survey_id": targets["draft"],
        "suggestion_id": targets["open"],
        "extension_id": targets["extension"],
    }
    for method, template in _json_operations(api):
        path = template.format(**real)
        with unchanged():
            response = desk.client.generic(
                method,
                "/api/v1" + path,
                b'--x\r\nContent-Disposition: form-data; name="reply"\r\n\r\nok\r\n--x--\r\n',
                content_type="multipart/form-data; boundary=x",
                headers={"Authorization": f"Bearer {desk.token}"},
            )
        assert 400 <= response.status_code < 500, (method, path, response.content[:300])
        assert set(response.json()) == {"code", "message", "field"}, (method, path)


@pytest.mark.parametrize(
    "path",
    [
        "/suggestions/JY%00X",
        "/suggestions/%00",
        "/surveys/1%00",
        "/staff/voice/suggestions/1%00/assign",
        "/staff/voice/surveys/%00/publish",
    ],
)
def test_a_nul_character_in_the_path(voice_world, path):
    """PostgreSQL cannot compare with a NUL: a path holding one is refused (400, naming the path)
    before any lookup, for anyone, on SQLite and PostgreSQL alike."""
    for client in (Api(), me_of(voice_world), desk_of(voice_world)):
        if path.startswith("/staff"):
            refused(lambda c=client: c.post(path, {"organization_id": None}), 400, "invalid_input", "path")
        else:
            refused(lambda c=client: c.get(path), 400, "invalid_input", "path")


def test_a_nul_character_in_a_query(voice_world):
    desk = desk_of(voice_world)
    refused(lambda: desk.get("/staff/voice/suggestions", q="JY\x00"), 400, "invalid_input", "q")
    refused(lambda: desk.get("/staff/voice/rates", scope="center:1\x00"), 400, "invalid_input", "scope")
    refused(lambda: Api().get("/suggestions/board", center="1\x00"), 400, "invalid_input", "center")


def test_nothing_was_half_written_by_refused_photos(voice_world):
    """A request refused for its second photo keeps neither the request nor the first photo."""
    me = me_of(voice_world)
    form = request_form(voice_world["center"], photos=[upload(jpeg_bytes()), upload(_gif(), "x.jpg")])
    refused(lambda: multipart(me, "/suggestions", form), 400, "photo_type")
    assert (Suggestion.objects.count(), Photo.objects.count()) == (0, 0)
