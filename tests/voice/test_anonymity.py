"""The issue's proof: "anonymous responses carry no link to the user (not in the row, not in the
audit data, not in logs)". And the other side: a named survey does keep who answered."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from django.db import connection

from livingroom.core.models import AuditEvent
from livingroom.notices.models import Notice
from livingroom.voice import selectors, services
from livingroom.voice.models import Answer, Participation, Response
from tests import factories as f
from tests.conftest import resident_api
from tests.voice.conftest import at

pytestmark = pytest.mark.django_db

SECRET_TEXTS = ("楼下停车太乱希望管一管", "我是三楼的老王，电话不方便留")


def qids(survey) -> list[int]:
    return list(survey.questions.order_by("position").values_list("id", flat=True))


def answers_for(ids: list[int], text: str) -> dict:
    return {ids[0]: "b", ids[1]: ["c"], ids[2]: 2, ids[3]: "每周三来", ids[4]: text}


def identities(user) -> list[str]:
    """Whatever could name the person behind a response."""
    values = [str(user.pk), user.phone, getattr(user, "username", "") or ""]
    resident = getattr(user, "resident", None)
    if resident is not None:
        values += [resident.real_name, resident.id_number, str(resident.pk)]
    return [v for v in values if v and len(v) > 1]


def everything_in_audit() -> str:
    return "\n".join(
        json.dumps(
            [e.action, e.actor_label, e.object_type, e.object_id, e.data, e.request_id], ensure_ascii=False
        )
        for e in AuditEvent.objects.all()
    )


def log_text(caplog) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(str(record.msg))
        parts.append(repr(record.args))
        parts.append(record.getMessage())
    return "\n".join(parts)


@pytest.fixture
def debug_logs(caplog):
    """Every logger at DEBUG (SQL statements are logged only with DEBUG=True, as in development;
    the settings keep ``django.db.backends`` at INFO, which is what runs in production)."""
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.server", "livingroom", "ninja"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_an_anonymous_response_row_holds_no_user_and_only_a_day(voice_world, debug_logs):
    survey = voice_world["survey"](anonymous=True)
    ids = qids(survey)
    resident = voice_world["residents"][0]
    response = services.response_submit(
        survey_id=survey.pk, user=resident.user, answers=answers_for(ids, SECRET_TEXTS[0]), now=at(1, 14, 37)
    )
    row = Response.objects.get()
    # The row: a random key, the survey, no respondent, no visitor hash, the day only.
    assert {f.attname for f in Response._meta.concrete_fields} == {
        "id",
        "survey_id",
        "respondent_id",
        "visitor_hash",
        "given_on",
    }
    assert (row.respondent_id, row.visitor_hash, row.given_on) == (None, None, at(1).date())
    assert isinstance(row.id, uuid.UUID) and row.id.version == 4
    assert row.pk == response.pk
    # The answer rows point at the response only.
    assert {f.attname for f in Answer._meta.concrete_fields} == {
        "id",
        "response_id",
        "question_id",
        "choice",
        "number",
        "text",
    }
    assert Answer.objects.filter(response=row).count() == 5
    # That the resident answered is kept (once per person), not what.
    participation = Participation.objects.get()
    assert (participation.survey_id, participation.user_id) == (survey.pk, resident.user.pk)
    assert {f.attname for f in Participation._meta.concrete_fields} == {"id", "survey_id", "user_id"}
    assert selectors.has_answered(survey, resident.user) is True

    # The audit trail names the survey, never the response or the answers.
    answered = AuditEvent.objects.get(action="voice.survey.answered")
    assert (answered.object_type, answered.object_id, answered.data) == ("voice.survey", str(survey.pk), {})
    audit = everything_in_audit()
    for secret in (str(row.id), row.id.hex, SECRET_TEXTS[0], "每周三来"):
        assert secret not in audit
    assert not AuditEvent.objects.filter(object_type="voice.response").exists()
    assert not AuditEvent.objects.filter(object_type="voice.answer").exists()

    # Nothing was logged that holds the response or the answers.
    logs = log_text(debug_logs)
    for secret in (str(row.id), row.id.hex, SECRET_TEXTS[0], "每周三来"):
        assert secret not in logs
    # No notice was sent about it either.
    assert not Notice.objects.filter(user=resident.user).exists()


def test_sql_logging_in_debug_mode_does_not_show_the_response_either(voice_world, caplog):
    """With DEBUG=True every SQL statement (holding the response's key) goes to
    ``django.db.backends`` at DEBUG; the settings keep that logger at INFO, so none is written."""
    survey = voice_world["survey"](anonymous=True)
    ids = qids(survey)
    caplog.set_level(logging.DEBUG)  # the root logger: every other logger as configured
    connection.force_debug_cursor = True
    try:
        response = services.response_submit(
            survey_id=survey.pk,
            user=voice_world["residents"][0].user,
            answers=answers_for(ids, SECRET_TEXTS[0]),
        )
    finally:
        connection.force_debug_cursor = False
    assert logging.getLogger("django.db.backends").getEffectiveLevel() == logging.INFO
    logs = log_text(caplog)
    for secret in (str(response.pk), response.pk.hex, SECRET_TEXTS[0]):
        assert secret not in logs


def test_anonymous_answers_through_the_api_leave_no_trace_in_logs_or_audit(voice_world, debug_logs):
    survey = voice_world["survey"](anonymous=True)
    ids = qids(survey)
    people = voice_world["residents"][:2]
    for person, text in zip(people, SECRET_TEXTS, strict=True):
        body = {"answers": {str(k): v for k, v in answers_for(ids, text).items()}}
        reply = resident_api(person.user).post(f"/surveys/{survey.pk}/responses", body)
        assert reply.status_code == 201, reply.content
        # The answer tells the person it was anonymous and gives no key to the response.
        assert set(reply.json()) == {"survey_id", "given_on", "anonymous"}
        assert reply.json()["anonymous"] is True
    # A second attempt: the request log notes the refusal (409), and only that.
    again = resident_api(people[0].user).post(
        f"/surveys/{survey.pk}/responses",
        {"answers": {str(k): v for k, v in answers_for(ids, "再来一次的秘密").items()}},
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_answered")
    assert any(r.name == "django.request" and r.levelno == logging.WARNING for r in debug_logs.records), (
        "the request log was not captured"
    )

    responses = list(Response.objects.filter(survey=survey))
    assert len(responses) == 2
    assert all(r.respondent_id is None and r.visitor_hash is None for r in responses)
    logs, audit = log_text(debug_logs), everything_in_audit()
    secrets = (
        [str(r.id) for r in responses] + [r.id.hex for r in responses] + [*SECRET_TEXTS, "再来一次的秘密"]
    )
    for secret in secrets:
        assert secret not in logs, secret
        assert secret not in audit, secret
    assert not Answer.objects.filter(text="再来一次的秘密").exists()
    # The audit events of the answers: the survey as object, no data; nothing else about them.
    events = AuditEvent.objects.filter(action="voice.survey.answered")
    assert sorted(e.actor_id for e in events) == sorted(p.user.pk for p in people)
    assert {(e.object_id, json.dumps(e.data)) for e in events} == {(str(survey.pk), "{}")}


def test_the_export_and_the_results_of_an_anonymous_survey_carry_no_user(voice_world):
    survey = voice_world["survey"](anonymous=True)
    ids = qids(survey)
    people = [
        *voice_world["residents"],
        *(f.ResidentFactory(home_community=voice_world["place"]["communities"][0]) for _ in range(5)),
    ]
    for i, person in enumerate(people):
        services.response_submit(
            survey_id=survey.pk, user=person.user, answers=answers_for(ids, f"第{i}位的意见"), now=at(1, 9, i)
        )
    header, rows = selectors.survey_answer_rows(survey)
    assert header[:2] == ["#", "given_on"]
    flat = json.dumps([header, rows], ensure_ascii=False)
    for person in people:
        for value in identities(person.user):
            assert value not in flat
    for response in Response.objects.all():
        assert str(response.id) not in flat
    # Rows are numbered 1..n in the order of the random keys, not in the order of answering.
    by_key = [r.pk for r in Response.objects.order_by("id")]
    texts_by_key = [Answer.objects.get(response_id=pk, question_id=ids[4]).text for pk in by_key]
    assert [row[0] for row in rows] == list(range(1, 9))
    assert [row[-1] for row in rows] == texts_by_key
    # The free texts in the results: the same order (random keys), not the order of answering.
    results = selectors.survey_results(survey)
    assert results[4].texts == texts_by_key
    assert results[3].texts == ["每周三来"] * 8


def test_the_order_of_answer_rows_does_not_follow_the_order_of_participation(voice_world):
    survey = voice_world["survey"](anonymous=True)
    ids = qids(survey)
    people = [
        *voice_world["residents"],
        *(f.ResidentFactory(home_community=voice_world["place"]["communities"][0]) for _ in range(5)),
    ]
    for i, person in enumerate(people):
        services.response_submit(
            survey_id=survey.pk, user=person.user, answers=answers_for(ids, f"第{i}位的意见")
        )
    participation_order = list(Participation.objects.order_by("id").values_list("user_id", flat=True))
    assert participation_order == [p.user.pk for p in people]
    # Someone with the database in hand sorts the responses by their first answer's id ...
    firsts: dict = {}
    for response_id, answer_id in Answer.objects.values_list("response_id", "id"):
        firsts[response_id] = min(firsts.get(response_id, answer_id), answer_id)
    by_answer_id = sorted(firsts, key=firsts.__getitem__)
    texts = [Answer.objects.get(response_id=pk, question_id=ids[4]).text for pk in by_answer_id]
    # ... and must not get the people's order back (1 chance in 8! = 40320 by accident).
    assert texts != [f"第{i}位的意见" for i in range(8)]


def test_a_visitor_response_keeps_only_a_keyed_hash_of_the_browser_token(voice_world, debug_logs):
    survey = voice_world["survey"](anonymous=True)
    token = "browser-token-0123456789abcdef"
    response = services.response_submit(
        survey_id=survey.pk,
        user=None,
        answers=answers_for(qids(survey), SECRET_TEXTS[1]),
        visitor_token=token,
    )
    response.refresh_from_db()
    assert response.respondent_id is None
    assert response.visitor_hash and token not in response.visitor_hash
    assert Participation.objects.count() == 0
    event = AuditEvent.objects.get(action="voice.survey.answered")
    assert (event.actor_id, event.actor_kind, event.data) == (None, "system", {})
    for secret in (token, response.visitor_hash, str(response.id), SECRET_TEXTS[1]):
        assert secret not in everything_in_audit()
        assert secret not in log_text(debug_logs)


def test_a_named_survey_keeps_the_respondent(voice_world):
    survey = voice_world["survey"](anonymous=False)
    ids = qids(survey)
    resident = voice_world["residents"][1]
    response = services.response_submit(
        survey_id=survey.pk, user=resident.user, answers=answers_for(ids, "实名的意见"), now=at(1, 10)
    )
    response.refresh_from_db()
    assert response.respondent_id == resident.user.pk
    assert Participation.objects.get().user_id == resident.user.pk
    assert Answer.objects.get(response=response, question_id=ids[4]).text == "实名的意见"
    reply = resident_api(voice_world["residents"][0].user).post(
        f"/surveys/{survey.pk}/responses", {"answers": {str(ids[0]): "a", str(ids[2]): 5}}
    )
    assert (reply.status_code, reply.json()["anonymous"]) == (201, False)
    assert Response.objects.filter(respondent=voice_world["residents"][0].user).count() == 1
