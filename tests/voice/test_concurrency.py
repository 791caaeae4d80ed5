"""Residents' voice under real parallel connections (PostgreSQL; skipped on SQLite).

Each worker thread has its own database connection; a barrier releases them together. One
response per person is held by a unique constraint, each step of a request by a conditional
UPDATE from the states it may leave: whoever comes second gets a domain error and writes nothing.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from livingroom.people.scopes import staff_scope
from livingroom.voice import services
from livingroom.voice.models import (
    Answer,
    Extension,
    Participation,
    Response,
    Suggestion,
    SuggestionEvent,
    Survey,
)
from livingroom.voice.services import SuggestionDraft
from tests import factories as f
from tests.parallel import in_parallel
from tests.voice.conftest import at

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def qids(survey) -> list[int]:
    return list(survey.questions.order_by("position").values_list("id", flat=True))


def ok(results) -> list:
    return [r for r in results if not isinstance(r, str)]


def codes(results) -> Counter:
    return Counter(r for r in results if isinstance(r, str))


def kinds(suggestion) -> Counter:
    return Counter(SuggestionEvent.objects.filter(suggestion=suggestion).values_list("kind", flat=True))


# --- surveys --------------------------------------------------------------------------------------


@pytest.mark.parametrize("anonymous", [False, True])
def test_one_person_answering_from_eight_connections_gets_one_response(voice_world, anonymous):
    survey = voice_world["survey"](anonymous=anonymous)
    ids = qids(survey)
    user = voice_world["residents"][0].user

    def answer(i: int):
        return services.response_submit(
            survey_id=survey.pk,
            user=user,
            answers={ids[0]: "abc"[i % 3], ids[2]: 1 + i % 5, ids[4]: f"第{i}次"},
        )

    results = in_parallel(8, answer)
    assert len(ok(results)) == 1, results
    assert codes(results) == Counter({"already_answered": 7}), results
    assert Response.objects.filter(survey=survey).count() == 1
    assert Participation.objects.filter(survey=survey, user=user).count() == 1
    assert Answer.objects.filter(response__survey=survey).count() == 3
    assert Survey.objects.get(pk=survey.pk).responses_count == 1
    respondent = Response.objects.get(survey=survey).respondent_id
    assert respondent == (None if anonymous else user.pk)


def test_one_visitor_token_from_eight_connections_gets_one_response(voice_world):
    survey = voice_world["survey"](anonymous=True)
    ids = qids(survey)

    def answer(i: int):
        return services.response_submit(
            survey_id=survey.pk, user=None, answers={ids[0]: "a", ids[2]: 3}, visitor_token="t" * 40
        )

    results = in_parallel(8, answer)
    assert len(ok(results)) == 1 and codes(results) == Counter({"already_answered": 7}), results
    assert (
        Response.objects.filter(survey=survey).count(),
        Survey.objects.get(pk=survey.pk).responses_count,
    ) == (1, 1)


def test_many_people_answering_at_once_are_all_counted(voice_world):
    survey = voice_world["survey"]()
    ids = qids(survey)
    community = voice_world["place"]["communities"][0]
    people = [f.ResidentFactory(home_community=community) for _ in range(12)]

    def answer(i: int):
        return services.response_submit(
            survey_id=survey.pk, user=people[i].user, answers={ids[0]: "b", ids[2]: 4}
        )

    results = in_parallel(12, answer)
    assert len(ok(results)) == 12, results
    assert (
        Survey.objects.get(pk=survey.pk).responses_count
        == 12
        == Response.objects.filter(survey=survey).count()
    )


def test_answers_racing_the_closing_of_the_survey(voice_world):
    survey = voice_world["survey"]()
    ids = qids(survey)
    desk = voice_world["desk"]
    community = voice_world["place"]["communities"][0]
    people = [f.ResidentFactory(home_community=community) for _ in range(7)]

    def act(i: int):
        if i == 0:
            return services.survey_close(staff=desk, scope=staff_scope(desk), survey_id=survey.pk)
        return services.response_submit(
            survey_id=survey.pk, user=people[i - 1].user, answers={ids[0]: "a", ids[2]: 2}
        )

    results = in_parallel(8, act)
    assert isinstance(results[0], Survey), results
    assert set(codes(results)) <= {"survey_closed"}, results
    kept = Response.objects.filter(survey=survey).count()
    assert kept == len(ok(results)) - 1 == Survey.objects.get(pk=survey.pk).responses_count


# --- suggestions ----------------------------------------------------------------------------------------


def test_two_staff_resolving_at_once_resolve_once(voice_world):
    s = voice_world["suggestion"]()
    desk, street = voice_world["desk"], voice_world["roles"]["street"]
    staff = [desk, street] * 3

    def resolve(i: int):
        who = staff[i]
        return services.suggestion_resolve(
            staff=who, scope=staff_scope(who), suggestion_id=s.pk, reply=f"第{i}位工作人员的答复"
        )

    results = in_parallel(6, resolve)
    assert len(ok(results)) == 1, results
    assert codes(results) == Counter({"suggestion_wrong_state": 5}), results
    winner = ok(results)[0]
    row = Suggestion.objects.get(pk=s.pk)
    assert (row.status, row.reply) == ("resolved", winner.reply)
    assert kinds(s) == Counter({"received": 1, "resolved": 1})


def test_a_rating_racing_a_reopen_lets_one_through(voice_world):
    s = voice_world["suggestion"]()
    desk = voice_world["desk"]
    user = voice_world["residents"][0].user
    services.suggestion_resolve(staff=desk, scope=staff_scope(desk), suggestion_id=s.pk, reply="已处理")

    def act(i: int):
        if i % 2:
            return services.suggestion_reopen(user=user, suggestion_id=s.pk, reason=f"第{i}次：还没解决")
        return services.suggestion_rate(user=user, suggestion_id=s.pk, rating=5)

    results = in_parallel(8, act)
    assert len(ok(results)) == 1, results
    assert set(codes(results)) <= {"suggestion_wrong_state", "already_rated"}, results
    assert sum(codes(results).values()) == 7
    row = Suggestion.objects.get(pk=s.pk)
    happened = kinds(s)
    if row.status == "closed":
        assert (row.rating, row.reopen_count) == (5, 0)
        assert (happened["rated"], happened["reopened"], happened["closed"]) == (1, 0, 1)
    else:
        assert (row.status, row.rating, row.reopen_count) == ("in_progress", None, 1)
        assert (happened["rated"], happened["reopened"]) == (0, 1)


def test_rating_from_many_connections_rates_once(voice_world):
    s = voice_world["suggestion"]()
    desk = voice_world["desk"]
    user = voice_world["residents"][0].user
    services.suggestion_resolve(staff=desk, scope=staff_scope(desk), suggestion_id=s.pk, reply="已处理")

    results = in_parallel(
        8, lambda i: services.suggestion_rate(user=user, suggestion_id=s.pk, rating=1 + i % 2)
    )
    assert len(ok(results)) == 1, results
    assert sum(codes(results).values()) == 7
    row = Suggestion.objects.get(pk=s.pk)
    # A low rating opens exactly one follow-up.
    assert (row.status, row.follow_up) == ("in_progress", True)
    assert (kinds(s)["rated"], kinds(s)["follow_up"]) == (1, 1)


def test_two_supervisors_deciding_one_extension(voice_world):
    s = voice_world["suggestion"]()
    desk, street, district = (
        voice_world["desk"],
        voice_world["roles"]["street"],
        voice_world["roles"]["district"],
    )
    ext = services.extension_request(
        staff=desk, scope=staff_scope(desk), suggestion_id=s.pk, days=3, reason="等配件"
    )
    due = Suggestion.objects.get(pk=s.pk).resolve_by
    deciders = [street, district] * 3

    def decide(i: int):
        who = deciders[i]
        return services.extension_decide(
            staff=who, scope=staff_scope(who), extension_id=ext.pk, approve=i % 2 == 0
        )

    results = in_parallel(6, decide)
    assert len(ok(results)) == 1, results
    assert codes(results) == Counter({"extension_decided": 5}), results
    decided = Extension.objects.get(pk=ext.pk)
    happened = kinds(s)
    assert happened["extension_approved"] + happened["extension_refused"] == 1
    moved = Suggestion.objects.get(pk=s.pk).resolve_by != due
    assert moved == (decided.status == "approved")


def test_many_residents_submitting_at_once_get_distinct_tracking_numbers(voice_world):
    community = voice_world["place"]["communities"][0]
    people = [f.ResidentFactory(home_community=community) for _ in range(16)]
    center = voice_world["center"]

    def submit(i: int):
        return services.suggestion_submit(
            user=people[i].user,
            draft=SuggestionDraft(
                center_id=center.pk, kind="help", category="services", text=f"第{i}位居民的求助"
            ),
            now=at(0, 10),
        )

    results = in_parallel(16, submit)
    assert len(ok(results)) == 16, results
    numbers = [s.tracking_no for s in ok(results)]
    assert len(set(numbers)) == 16
    assert Suggestion.objects.values("tracking_no").distinct().count() == 16


def test_a_tracking_number_taken_by_a_parallel_request_is_drawn_again(voice_world, monkeypatch):
    """Every thread's first draw is the same number: one keeps it, the others draw again."""
    real = services._tracking_no
    seen = threading.local()

    def first_the_same(now):
        if not getattr(seen, "drawn", False):
            seen.drawn = True
            return "JY20261127AAAAA"
        return real(now)

    monkeypatch.setattr(services, "_tracking_no", first_the_same)
    community = voice_world["place"]["communities"][0]
    people = [f.ResidentFactory(home_community=community) for _ in range(8)]
    center = voice_world["center"]

    def submit(i: int):
        return services.suggestion_submit(
            user=people[i].user,
            draft=SuggestionDraft(
                center_id=center.pk, kind="help", category="services", text=f"第{i}位居民的求助"
            ),
        )

    results = in_parallel(8, submit)
    assert len(ok(results)) == 8, results
    numbers = Counter(Suggestion.objects.values_list("tracking_no", flat=True))
    assert len(numbers) == 8 and numbers["JY20261127AAAAA"] == 1
    assert SuggestionEvent.objects.filter(kind="received").count() == 8
