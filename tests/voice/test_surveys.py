"""Surveys through the services: building (only drafts editable, area scoping), publishing and
closing; answering (required, invalid, skip logic, once per person, closed, out of audience,
visitors); and the results on a fixture with known answers. Every refusal leaves no row behind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from livingroom.core.errors import DomainError, NotFound
from livingroom.core.models import AuditEvent
from livingroom.people.models import EligibilityVerification
from livingroom.people.scopes import staff_scope
from livingroom.voice import selectors, services
from livingroom.voice.models import Answer, Participation, Question, Response, Survey
from livingroom.voice.services import QuestionDraft, SurveyDraft
from tests import factories as f
from tests.voice.conftest import at, standard_questions

pytestmark = pytest.mark.django_db


def qids(survey: Survey) -> list[int]:
    """Question ids by position (index 0 is question 1)."""
    return list(survey.questions.order_by("position").values_list("id", flat=True))


def rows(survey: Survey) -> tuple[int, int, int, int]:
    return (
        Response.objects.filter(survey=survey).count(),
        Answer.objects.filter(response__survey=survey).count(),
        Participation.objects.filter(survey=survey).count(),
        Survey.objects.get(pk=survey.pk).responses_count,
    )


def refused(code: str, fn, *, survey: Survey | None = None, field: str | None = "-"):
    """Runs ``fn``, expects the domain error ``code`` (and ``field`` unless "-"), and — for a
    survey — that no Response, Answer or Participation row was written and the count is unchanged."""
    before = rows(survey) if survey is not None else None
    with pytest.raises(DomainError) as caught:
        fn()
    assert caught.value.code == code, caught.value
    if field != "-":
        assert caught.value.field == field
    if survey is not None:
        assert rows(survey) == before
    return caught.value


def draft(place, **kw) -> SurveyDraft:
    values = {
        "title": "  百姓客厅  需求调查 ",
        "area": "community",
        "community_id": place["communities"][0].pk,
        "questions": standard_questions(),
    }
    values.update(kw)
    return SurveyDraft(**values)


def good(ids: list[int], **extra) -> dict:
    answers = {ids[0]: "a", ids[2]: 4}
    answers.update(extra)
    return answers


# --- building ---------------------------------------------------------------------------------------


def test_create_a_survey_keeps_the_questions_in_order(voice_world):
    desk, place = voice_world["desk"], voice_world["place"]
    survey = services.survey_create(
        staff=desk, scope=staff_scope(desk), draft=draft(place, description="  第一行 \n\n 第二行  ")
    )
    survey.refresh_from_db()
    assert (survey.title, survey.description, survey.status) == (
        "百姓客厅 需求调查",
        "第一行\n\n第二行",
        "draft",
    )
    assert (survey.area, survey.community_id, survey.street_id) == (
        "community",
        place["communities"][0].pk,
        None,
    )
    assert (survey.audience, survey.anonymous, survey.responses_count) == ("everyone", False, 0)
    questions = list(survey.questions.order_by("position"))
    assert [(q.position, q.kind, q.required) for q in questions] == [
        (1, "single", True),
        (2, "multiple", False),
        (3, "rating", True),
        (4, "short_text", False),
        (5, "long_text", False),
    ]
    assert questions[0].choices == [
        {"key": "a", "label": "每天"},
        {"key": "b", "label": "每周"},
        {"key": "c", "label": "很少"},
    ]
    assert [c["key"] for c in questions[1].choices] == ["a", "b", "c", "d"]
    assert (questions[2].scale_max, questions[3].show_if_position, questions[3].show_if_choice) == (5, 1, "b")
    event = AuditEvent.objects.get(action="voice.survey.created")
    assert (event.actor_id, event.object_id, event.data) == (desk.pk, str(survey.pk), {"questions": 5})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "   "}, "title"),
        ({"audience": "martians"}, "audience"),
        ({"questions": []}, None),
        ({"questions": [QuestionDraft(kind="single", text="选一个", choices=["只有一个"])]}, None),
        ({"questions": [QuestionDraft(kind="multiple", text="选", choices=["甲", "甲"])]}, None),
        ({"questions": [QuestionDraft(kind="single", text="选", choices=[str(i) for i in range(21)])]}, None),
        ({"questions": [QuestionDraft(kind="rating", text="打分", scale_max=11)]}, None),
        ({"questions": [QuestionDraft(kind="rating", text="打分", scale_max=1)]}, None),
        ({"questions": [QuestionDraft(kind="essay", text="写")]}, None),
        ({"questions": [QuestionDraft(kind="short_text", text="   ")]}, None),
        (  # a condition on a later question
            {
                "questions": [
                    QuestionDraft(kind="short_text", text="为什么", show_if_position=2, show_if_choice="a"),
                    QuestionDraft(kind="single", text="选", choices=["甲", "乙"]),
                ]
            },
            None,
        ),
        (  # a condition on a text question
            {
                "questions": [
                    QuestionDraft(kind="short_text", text="名字"),
                    QuestionDraft(kind="short_text", text="为什么", show_if_position=1, show_if_choice="a"),
                ]
            },
            None,
        ),
        (  # a condition on a choice the question does not have
            {
                "questions": [
                    QuestionDraft(kind="single", text="选", choices=["甲", "乙"]),
                    QuestionDraft(kind="short_text", text="为什么", show_if_position=1, show_if_choice="z"),
                ]
            },
            None,
        ),
        ({"questions": [QuestionDraft(kind="short_text", text=f"问题{i}") for i in range(61)]}, None),
    ],
)
def test_create_refuses_a_bad_survey_and_writes_nothing(voice_world, changes, field):
    desk = voice_world["desk"]
    refused(
        "survey_invalid",
        lambda: services.survey_create(
            staff=desk, scope=staff_scope(desk), draft=draft(voice_world["place"], **changes)
        ),
        field=field,
    )
    assert (Survey.objects.count(), Question.objects.count()) == (0, 0)


def test_create_refuses_a_closing_time_in_the_past(voice_world):
    desk = voice_world["desk"]
    now = at(0, 12)
    refused(
        "survey_invalid",
        lambda: services.survey_create(
            staff=desk, scope=staff_scope(desk), draft=draft(voice_world["place"], closes_at=now), now=now
        ),
        field="closes_at",
    )
    assert Survey.objects.count() == 0


def test_a_community_worker_cannot_make_a_survey_for_another_community(voice_world):
    desk, place = voice_world["desk"], voice_world["place"]
    for community in place["communities"][1:]:
        with pytest.raises(NotFound) as caught:
            services.survey_create(
                staff=desk, scope=staff_scope(desk), draft=draft(place, community_id=community.pk)
            )
        assert (caught.value.status, caught.value.field) == (404, "community")
    with pytest.raises(NotFound):  # a community that does not exist
        services.survey_create(staff=desk, scope=staff_scope(desk), draft=draft(place, community_id=999999))
    assert Survey.objects.count() == 0


def test_street_and_district_surveys_are_for_the_levels_above(voice_world):
    roles, place = voice_world["roles"], voice_world["place"]
    street_id = place["streets"][0].pk
    desk, street, district = roles["community"], roles["street"], roles["district"]
    # A community worker covers one community of the street, not the street.
    with pytest.raises(NotFound) as caught:
        services.survey_create(
            staff=desk,
            scope=staff_scope(desk),
            draft=draft(place, area="street", community_id=None, street_id=street_id),
        )
    assert (caught.value.status, caught.value.field) == (404, "street")
    # The street official may not reach another street, nor the district.
    with pytest.raises(NotFound):
        services.survey_create(
            staff=street,
            scope=staff_scope(street),
            draft=draft(place, area="street", community_id=None, street_id=place["streets"][1].pk),
        )
    for who in (desk, street):
        refused(
            "survey_invalid",
            lambda who=who: services.survey_create(
                staff=who, scope=staff_scope(who), draft=draft(place, area="district", community_id=None)
            ),
            field="area",
        )
    assert Survey.objects.count() == 0

    made = services.survey_create(
        staff=street,
        scope=staff_scope(street),
        draft=draft(place, area="street", community_id=None, street_id=street_id),
    )
    assert (made.area, made.street_id, made.community_id) == ("street", street_id, None)
    whole = services.survey_create(
        staff=district, scope=staff_scope(district), draft=draft(place, area="district", community_id=None)
    )
    assert (whole.area, whole.street_id, whole.community_id) == ("district", None, None)
    # A street-wide draft is not the community worker's to change (404 for them).
    refused(
        "survey_not_found",
        lambda: services.survey_publish(staff=desk, scope=staff_scope(desk), survey_id=made.pk),
    )
    assert Survey.objects.get(pk=made.pk).status == "draft"


def test_update_only_a_draft_of_ones_own_area(voice_world):
    desk, place, survey = voice_world["desk"], voice_world["place"], voice_world["survey"](publish=False)
    new = draft(
        place,
        title="新标题",
        anonymous=True,
        questions=[QuestionDraft(kind="rating", text="打几分", required=True, scale_max=10)],
    )
    updated = services.survey_update(staff=desk, scope=staff_scope(desk), survey_id=survey.pk, draft=new)
    updated.refresh_from_db()
    assert (updated.title, updated.anonymous) == ("新标题", True)
    assert list(updated.questions.values_list("position", "kind", "scale_max")) == [(1, "rating", 10)]
    assert Question.objects.count() == 1

    other = voice_world["roles"]["other_community"]
    refused(
        "survey_not_found",
        lambda: services.survey_update(
            staff=other,
            scope=staff_scope(other),
            survey_id=survey.pk,
            draft=draft(place, community_id=place["communities"][2].pk, title="别人的"),
        ),
    )
    services.survey_publish(staff=desk, scope=staff_scope(desk), survey_id=survey.pk)
    refused(
        "survey_not_editable",
        lambda: services.survey_update(
            staff=desk, scope=staff_scope(desk), survey_id=survey.pk, draft=draft(place)
        ),
    )
    survey.refresh_from_db()
    assert (survey.title, survey.status, Question.objects.count()) == ("新标题", "published", 1)


def test_publish_and_close(voice_world):
    desk = voice_world["desk"]
    scope = staff_scope(desk)
    survey = voice_world["survey"](publish=False)
    refused("survey_closed", lambda: services.survey_close(staff=desk, scope=scope, survey_id=survey.pk))
    published = services.survey_publish(staff=desk, scope=scope, survey_id=survey.pk, now=at(0, 10))
    assert (published.status, published.published_at) == ("published", at(0, 10))
    refused(
        "survey_not_editable",
        lambda: services.survey_publish(staff=desk, scope=scope, survey_id=survey.pk, now=at(0, 11)),
    )
    other = voice_world["roles"]["other_community"]
    refused(
        "survey_not_found",
        lambda: services.survey_close(staff=other, scope=staff_scope(other), survey_id=survey.pk),
    )
    closed = services.survey_close(staff=desk, scope=scope, survey_id=survey.pk, now=at(0, 12))
    assert (closed.status, closed.closed_at, closed.published_at) == ("closed", at(0, 12), at(0, 10))
    refused("survey_closed", lambda: services.survey_close(staff=desk, scope=scope, survey_id=survey.pk))
    assert list(
        AuditEvent.objects.filter(object_type="voice.survey").order_by("id").values_list("action", flat=True)
    ) == ["voice.survey.created", "voice.survey.published", "voice.survey.closed"]


def test_publishing_after_the_closing_time_is_refused(voice_world):
    desk, place = voice_world["desk"], voice_world["place"]
    survey = services.survey_create(
        staff=desk, scope=staff_scope(desk), draft=draft(place, closes_at=at(1, 18)), now=at(0, 9)
    )
    refused(
        "survey_invalid",
        lambda: services.survey_publish(
            staff=desk, scope=staff_scope(desk), survey_id=survey.pk, now=at(1, 18)
        ),
        field="closes_at",
    )
    assert Survey.objects.get(pk=survey.pk).status == "draft"


# --- answering ----------------------------------------------------------------------------------------


def test_an_answer_is_kept_with_its_respondent(voice_world):
    survey = voice_world["survey"]()
    user = voice_world["residents"][0].user
    ids = qids(survey)
    response = services.response_submit(
        survey_id=survey.pk,
        user=user,
        answers={
            ids[0]: "b",
            ids[1]: ["d", "a", "d"],
            ids[2]: "5",
            ids[3]: "  来 自习  ",
            ids[4]: " 多开\n 一会儿 ",
        },
        now=at(1, 10),
    )
    response.refresh_from_db()
    assert (response.respondent_id, response.visitor_hash, response.given_on) == (user.pk, None, at(1).date())
    got = sorted(
        (a.question_id, a.choice, a.number, a.text) for a in Answer.objects.filter(response=response)
    )
    assert got == [
        (ids[0], "b", None, ""),
        (ids[1], "a", None, ""),
        (ids[1], "d", None, ""),
        (ids[2], "", 5, ""),
        (ids[3], "", None, "来 自习"),
        (ids[4], "", None, "多开\n一会儿"),
    ]
    assert rows(survey) == (1, 6, 1, 1)
    assert Participation.objects.get().user_id == user.pk
    assert selectors.has_answered(survey, user) is True
    assert selectors.has_answered(survey, voice_world["residents"][1].user) is False


def test_required_answers_are_demanded(voice_world):
    survey = voice_world["survey"]()
    user = voice_world["residents"][0].user
    ids = qids(survey)
    for answers, missing in [
        ({ids[2]: 4}, ids[0]),
        ({ids[0]: "", ids[2]: 4}, ids[0]),
        ({ids[0]: "a"}, ids[2]),
        ({ids[0]: "a", ids[2]: ""}, ids[2]),
        ({ids[0]: "a", ids[2]: None}, ids[2]),
        ({}, ids[0]),
    ]:
        refused(
            "answer_required",
            lambda answers=answers: services.response_submit(survey_id=survey.pk, user=user, answers=answers),
            survey=survey,
            field=f"q{missing}",
        )
    assert rows(survey) == (0, 0, 0, 0)


def test_a_required_text_question_is_demanded(voice_world):
    survey = voice_world["survey"](
        questions=[QuestionDraft(kind="long_text", text="您的建议", required=True)]
    )
    (qid,) = qids(survey)
    user = voice_world["residents"][0].user
    for value in (None, "", "   \n  "):
        refused(
            "answer_required",
            lambda value=value: services.response_submit(
                survey_id=survey.pk, user=user, answers={qid: value}
            ),
            survey=survey,
            field=f"q{qid}",
        )


@pytest.mark.parametrize(
    ("index", "value"),
    [
        (0, "z"),  # not a choice of the question
        (0, "A"),
        (0, ["a"]),  # a list for a single choice
        (0, 1),
        (1, "a"),  # a string for a multiple choice
        (1, ["a", "x"]),
        (1, ["a", 3]),
        (1, ["a", ["b"]]),
        (1, {"a": 1}),
        (2, 0),  # rating out of the 1..5 scale
        (2, 6),
        (2, -1),
        (2, "abc"),
        (2, "4.5"),
        (2, True),
        (2, 4.0),
        (2, ["4"]),
        (3, "字" * 201),  # short text over 200
        (3, 12),
        (4, "字" * 2001),  # long text over 2000
        (4, ["文"]),
    ],
)
def test_answers_that_do_not_fit_the_question_are_refused(voice_world, index, value):
    survey = voice_world["survey"]()
    ids = qids(survey)
    answers = {ids[0]: "b", ids[2]: 3}
    answers[ids[index]] = value
    refused(
        "answer_invalid",
        lambda: services.response_submit(
            survey_id=survey.pk, user=voice_world["residents"][0].user, answers=answers
        ),
        survey=survey,
        field=f"q{ids[index]}",
    )


def test_an_answer_to_a_question_of_another_survey_is_refused(voice_world):
    survey, other = voice_world["survey"](), voice_world["survey"]()
    ids = qids(survey)
    foreign = qids(other)[4]
    refused(
        "answer_invalid",
        lambda: services.response_submit(
            survey_id=survey.pk, user=voice_world["residents"][0].user, answers=good(ids) | {foreign: "文字"}
        ),
        survey=survey,
        field=f"q{foreign}",
    )


def test_texts_at_the_limits_are_kept(voice_world):
    survey = voice_world["survey"]()
    ids = qids(survey)
    services.response_submit(
        survey_id=survey.pk,
        user=voice_world["residents"][0].user,
        answers={ids[0]: "b", ids[2]: 1, ids[3]: "短" * 200, ids[4]: "长" * 2000},
    )
    texts = dict(Answer.objects.filter(question_id__in=ids[3:]).values_list("question_id", "text"))
    assert (len(texts[ids[3]]), len(texts[ids[4]])) == (200, 2000)


def test_skip_logic_ignores_the_answer_to_a_hidden_question(voice_world):
    survey = voice_world["survey"]()
    ids = qids(survey)
    user = voice_world["residents"][0].user
    # Question 4 is shown only when question 1 got "b"; with "a" its answer is dropped, not refused.
    response = services.response_submit(
        survey_id=survey.pk, user=user, answers={ids[0]: "a", ids[2]: 2, ids[3]: "不该留下"}
    )
    assert sorted(Answer.objects.filter(response=response).values_list("question_id", flat=True)) == [
        ids[0],
        ids[2],
    ]
    assert not Answer.objects.filter(text="不该留下").exists()
    # Even an answer that would be invalid is not looked at when the question is hidden.
    response2 = services.response_submit(
        survey_id=survey.pk,
        user=voice_world["residents"][1].user,
        answers={ids[0]: "c", ids[2]: 2, ids[3]: "字" * 500},
    )
    assert Answer.objects.filter(response=response2).count() == 2


def test_a_required_hidden_question_is_not_demanded_but_a_shown_one_is(voice_world):
    questions = standard_questions()
    questions[3].required = True
    survey = voice_world["survey"](questions=questions)
    ids = qids(survey)
    a, b, c = (r.user for r in voice_world["residents"])
    services.response_submit(survey_id=survey.pk, user=a, answers={ids[0]: "a", ids[2]: 3})
    refused(
        "answer_required",
        lambda: services.response_submit(survey_id=survey.pk, user=b, answers={ids[0]: "b", ids[2]: 3}),
        survey=survey,
        field=f"q{ids[3]}",
    )
    services.response_submit(survey_id=survey.pk, user=b, answers={ids[0]: "b", ids[2]: 3, ids[3]: "看书"})
    assert rows(survey) == (2, 5, 2, 2)
    # A condition on a multiple-choice question: shown when the choice is among those picked.
    multi = voice_world["survey"](
        questions=[
            QuestionDraft(kind="multiple", text="您使用哪些空间", choices=["书吧", "健身", "食堂"]),
            QuestionDraft(
                kind="short_text", text="健身有何建议", required=True, show_if_position=1, show_if_choice="b"
            ),
        ]
    )
    m = qids(multi)
    refused(
        "answer_required",
        lambda: services.response_submit(survey_id=multi.pk, user=c, answers={m[0]: ["a", "b"]}),
        survey=multi,
        field=f"q{m[1]}",
    )
    services.response_submit(survey_id=multi.pk, user=c, answers={m[0]: ["a", "c"], m[1]: "隐藏"})
    assert list(
        Answer.objects.filter(response__survey=multi).values_list("choice", flat=True).order_by("choice")
    ) == [
        "a",
        "c",
    ]


def test_answering_twice_is_refused_and_keeps_one_response(voice_world):
    survey = voice_world["survey"]()
    ids = qids(survey)
    user = voice_world["residents"][0].user
    first = services.response_submit(survey_id=survey.pk, user=user, answers=good(ids))
    for anonymous_answers in (good(ids), {ids[0]: "c", ids[2]: 1}):
        refused(
            "already_answered",
            lambda a=anonymous_answers: services.response_submit(survey_id=survey.pk, user=user, answers=a),
            survey=survey,
        )
    assert rows(survey) == (1, 2, 1, 1)
    assert list(Response.objects.values_list("id", flat=True)) == [first.pk]
    assert AuditEvent.objects.filter(action="voice.survey.answered").count() == 1


def test_answering_twice_in_an_anonymous_survey_is_refused_too(voice_world):
    survey = voice_world["survey"](anonymous=True)
    ids = qids(survey)
    user = voice_world["residents"][0].user
    services.response_submit(survey_id=survey.pk, user=user, answers=good(ids))
    refused(
        "already_answered",
        lambda: services.response_submit(survey_id=survey.pk, user=user, answers=good(ids)),
        survey=survey,
    )
    assert rows(survey) == (1, 2, 1, 1)


def test_a_closed_survey_takes_no_answers(voice_world):
    survey = voice_world["survey"]()
    desk = voice_world["desk"]
    ids = qids(survey)
    services.survey_close(staff=desk, scope=staff_scope(desk), survey_id=survey.pk)
    err = refused(
        "survey_closed",
        lambda: services.response_submit(
            survey_id=survey.pk, user=voice_world["residents"][0].user, answers=good(ids)
        ),
        survey=survey,
    )
    assert err.status == 409


def test_a_survey_past_its_closing_time_takes_no_answers(voice_world):
    desk, place = voice_world["desk"], voice_world["place"]
    scope = staff_scope(desk)
    survey = services.survey_create(
        staff=desk, scope=scope, draft=draft(place, closes_at=at(2, 18)), now=at(0, 9)
    )
    services.survey_publish(staff=desk, scope=scope, survey_id=survey.pk, now=at(0, 9))
    ids = qids(survey)
    user_a, user_b = voice_world["residents"][0].user, voice_world["residents"][1].user
    services.response_submit(survey_id=survey.pk, user=user_a, answers=good(ids), now=at(2, 17, 59))
    refused(
        "survey_closed",
        lambda: services.response_submit(survey_id=survey.pk, user=user_b, answers=good(ids), now=at(2, 18)),
        survey=survey,
    )
    assert rows(survey) == (1, 2, 1, 1)
    assert survey not in selectors.surveys_open_for(user_b, now=at(2, 18))
    assert survey in selectors.surveys_open_for(user_b, now=at(2, 17))


def test_a_draft_or_missing_survey_is_not_found(voice_world):
    draft_survey = voice_world["survey"](publish=False)
    user = voice_world["residents"][0].user
    refused(
        "survey_not_found",
        lambda: services.response_submit(
            survey_id=draft_survey.pk, user=user, answers=good(qids(draft_survey))
        ),
        survey=draft_survey,
    )
    refused("survey_not_found", lambda: services.response_submit(survey_id=987654, user=user, answers={}))
    assert selectors.survey_for_answer(draft_survey.pk) is None


def test_a_rider_survey_is_for_riders_only(voice_world):
    survey = voice_world["survey"](audience="riders")
    ids = qids(survey)
    non_rider = voice_world["residents"][0]
    err = refused(
        "survey_not_for_you",
        lambda: services.response_submit(survey_id=survey.pk, user=non_rider.user, answers=good(ids)),
        survey=survey,
    )
    assert err.status == 403
    # A revoked or expired verification does not count either.
    desk = voice_world["desk"]
    EligibilityVerification.objects.create(
        resident=non_rider,
        kind="rider",
        verified_by=desk,
        valid_until=timezone.localdate() - dt.timedelta(days=1),
    )
    refused(
        "survey_not_for_you",
        lambda: services.response_submit(survey_id=survey.pk, user=non_rider.user, answers=good(ids)),
        survey=survey,
    )
    # A staff member with no resident profile is not a rider.
    refused(
        "survey_not_for_you",
        lambda: services.response_submit(survey_id=survey.pk, user=desk, answers=good(ids)),
        survey=survey,
    )
    services.response_submit(survey_id=survey.pk, user=voice_world["rider"].user, answers=good(ids))
    assert rows(survey) == (1, 2, 1, 1)


def test_a_community_survey_is_for_its_residents_and_a_street_survey_for_the_street(voice_world):
    community_survey = voice_world["survey"]()
    ids = qids(community_survey)
    outsider, far = voice_world["outsider"], voice_world["far"]
    refused(
        "survey_not_for_you",
        lambda: services.response_submit(
            survey_id=community_survey.pk, user=outsider.user, answers=good(ids)
        ),
        survey=community_survey,
    )
    street = voice_world["roles"]["street"]
    street_survey = voice_world["survey"](area="street", by=street)
    sids = qids(street_survey)
    services.response_submit(
        survey_id=street_survey.pk, user=outsider.user, answers=good(sids)
    )  # 龙珠, same street
    refused(
        "survey_not_for_you",
        lambda: services.response_submit(survey_id=street_survey.pk, user=far.user, answers=good(sids)),
        survey=street_survey,
    )
    assert rows(street_survey) == (1, 2, 1, 1)
    assert rows(community_survey) == (0, 0, 0, 0)
    # What each resident is offered follows the same rule.
    assert set(selectors.surveys_open_for(outsider.user)) == {street_survey}
    assert selectors.surveys_open_for(far.user) == []
    assert set(selectors.surveys_open_for(voice_world["residents"][0].user)) == {
        community_survey,
        street_survey,
    }


def test_a_district_survey_for_everyone_is_open_to_anyone_signed_in(voice_world):
    district = voice_world["roles"]["district"]
    survey = voice_world["survey"](area="district", by=district)
    ids = qids(survey)
    services.response_submit(survey_id=survey.pk, user=voice_world["far"].user, answers=good(ids))
    services.response_submit(
        survey_id=survey.pk, user=voice_world["desk"], answers=good(ids)
    )  # staff, no profile
    assert rows(survey) == (2, 4, 2, 2)


def test_a_visitor_answers_only_an_anonymous_survey_for_everyone_once_per_token(voice_world):
    open_survey = voice_world["survey"](anonymous=True)
    ids = qids(open_survey)
    token = "v" * 32
    response = services.response_submit(
        survey_id=open_survey.pk, user=None, answers=good(ids), visitor_token=token, now=at(1, 8)
    )
    response.refresh_from_db()
    assert response.respondent_id is None
    assert response.visitor_hash == services.visitor_hash(open_survey.pk, token)
    assert token not in response.visitor_hash and len(response.visitor_hash) == 64
    assert Participation.objects.count() == 0
    refused(
        "already_answered",
        lambda: services.response_submit(
            survey_id=open_survey.pk, user=None, answers=good(ids), visitor_token=token
        ),
        survey=open_survey,
    )
    # No token, or one too short to be random: sign in.
    for bad in (None, "", "short-token"):
        err = refused(
            "not_authenticated",
            lambda bad=bad: services.response_submit(
                survey_id=open_survey.pk, user=None, answers=good(ids), visitor_token=bad
            ),
            survey=open_survey,
        )
        assert err.status == 401
    services.response_submit(survey_id=open_survey.pk, user=None, answers=good(ids), visitor_token="w" * 32)
    assert rows(open_survey) == (2, 4, 0, 2)

    # Not anonymous, or anonymous for an audience: a visitor must sign in.
    named = voice_world["survey"]()
    riders = voice_world["survey"](anonymous=True, audience="riders")
    for survey in (named, riders):
        err = refused(
            "not_authenticated",
            lambda survey=survey: services.response_submit(
                survey_id=survey.pk, user=None, answers=good(qids(survey)), visitor_token="x" * 32
            ),
            survey=survey,
        )
        assert err.status == 401


# --- results ------------------------------------------------------------------------------------------


@pytest.fixture
def answered(voice_world):
    """Five residents of 固戍 answer the standard survey on three days:

    ====  ==  ==========  ==  ==================  ============
    who   q1  q2          q3  q4 (if q1 = b)      q5
    ====  ==  ==========  ==  ==================  ============
    r1    a   a, b        5   –                   多一些书 (day 1)
    r2    b   b           4   自习 (day 1)         –
    r3    b   –           4   跳舞 (day 2)         延长开放时间 (day 2)
    r4    c   a, b, d     2   –                   –
    r5    a   –           3   ("ignored": hidden) –
    ====  ==  ==========  ==  ==================  ============
    """
    survey = voice_world["survey"]()
    ids = qids(survey)
    people = [
        *voice_world["residents"],
        *(f.ResidentFactory(home_community=voice_world["place"]["communities"][0]) for _ in range(2)),
    ]
    plan = [
        (1, {ids[0]: "a", ids[1]: ["a", "b"], ids[2]: 5, ids[4]: "多一些书"}),
        (1, {ids[0]: "b", ids[1]: ["b"], ids[2]: 4, ids[3]: "自习"}),
        (2, {ids[0]: "b", ids[1]: [], ids[2]: 4, ids[3]: "跳舞", ids[4]: "延长开放时间"}),
        (3, {ids[0]: "c", ids[1]: ["a", "b", "d"], ids[2]: 2}),
        (3, {ids[0]: "a", ids[2]: 3, ids[3]: "ignored"}),
    ]
    for person, (day, answers) in zip(people, plan, strict=True):
        services.response_submit(survey_id=survey.pk, user=person.user, answers=answers, now=at(day, 10))
    return survey


def test_results_count_percent_average_and_texts(answered):
    survey = answered
    assert Survey.objects.get(pk=survey.pk).responses_count == 5
    q1, q2, q3, q4, q5 = selectors.survey_results(survey)
    # q1: 5 answered; a 2/5, b 2/5, c 1/5.
    assert q1.answered == 5
    assert [(c.key, c.label, c.count, c.percent) for c in q1.choices] == [
        ("a", "每天", 2, 40.0),
        ("b", "每周", 2, 40.0),
        ("c", "很少", 1, 20.0),
    ]
    assert q1.chart() == {"labels": ["每天", "每周", "很少"], "values": [2, 2, 1]}
    # q2: answered by r1, r2, r4 (3); a 2/3 = 66.7 %, b 3/3, c 0, d 1/3 = 33.3 %.
    assert q2.answered == 3
    assert [(c.key, c.count, c.percent) for c in q2.choices] == [
        ("a", 2, 66.7),
        ("b", 3, 100.0),
        ("c", 0, 0.0),
        ("d", 1, 33.3),
    ]
    # q3: 5, 4, 4, 2, 3 → 1×5, 2×4, 1×3, 1×2, 0×1; average 18 / 5 = 3.6.
    assert q3.answered == 5
    assert [(s.key, s.count, s.percent) for s in q3.scale] == [
        ("1", 0, 0.0),
        ("2", 1, 20.0),
        ("3", 1, 20.0),
        ("4", 2, 40.0),
        ("5", 1, 20.0),
    ]
    assert q3.average == 3.6
    assert q3.chart()["values"] == [0, 1, 1, 2, 1]
    # q4: the two shown answers, newest day first; r5's hidden answer was never kept.
    assert (q4.answered, q4.texts, q4.choices, q4.average) == (2, ["跳舞", "自习"], [], None)
    assert (q5.answered, q5.texts) == (2, ["延长开放时间", "多一些书"])
    assert selectors.survey_results(survey, texts_limit=1)[3].texts == ["跳舞"]


def test_results_of_a_survey_without_answers(voice_world):
    survey = voice_world["survey"]()
    q1, q2, q3, q4, q5 = selectors.survey_results(survey)
    assert [q.answered for q in (q1, q2, q3, q4, q5)] == [0, 0, 0, 0, 0]
    assert [c.percent for c in q1.choices] == [0.0, 0.0, 0.0]
    assert (q3.average, [s.count for s in q3.scale], q5.texts) == (None, [0, 0, 0, 0, 0], [])


def test_export_rows_follow_the_answers(answered):
    header, data = selectors.survey_answer_rows(answered)
    assert header == [
        "#",
        "given_on",
        "1. 您多久来一次客厅？",
        "2. 您希望增加哪些服务？",
        "3. 您对客厅的满意度",
        "4. 每周来做什么？",
        "5. 其他建议",
    ]
    assert [row[0] for row in data] == [1, 2, 3, 4, 5]
    cells = sorted(tuple(row[1:]) for row in data)
    d = [f"{at(n).date():%Y-%m-%d}" for n in (1, 2, 3)]
    assert cells == sorted(
        [
            (d[0], "每天", "自习室; 舞蹈室", "5", "", "多一些书"),
            (d[0], "每周", "舞蹈室", "4", "自习", ""),
            (d[1], "每周", "", "4", "跳舞", "延长开放时间"),
            (d[2], "很少", "自习室; 舞蹈室; 康复", "2", "", ""),
            (d[2], "每天", "", "3", "", ""),
        ]
    )


def test_staff_see_the_surveys_of_their_area_only(voice_world):
    roles = voice_world["roles"]
    community_survey = voice_world["survey"]()
    street_survey = voice_world["survey"](area="street", by=roles["street"])
    district_survey = voice_world["survey"](area="district", by=roles["district"])

    def seen(who):
        return set(selectors.surveys_for_staff(staff_scope(who)))

    assert seen(roles["district"]) == {community_survey, street_survey, district_survey}
    assert seen(roles["street"]) == {community_survey, street_survey}
    assert seen(roles["community"]) == {community_survey}
    assert seen(roles["other_community"]) == set()
    assert selectors.survey_for_staff(staff_scope(roles["other_community"]), community_survey.pk) is None
