"""The issue's proof: "Tests compute the three rates on a fixture with known answers (exact values,
including working-day deadlines across a weekend and a public holiday)."

The calendar (Asia/Shanghai): Fri 2026-11-20, Sat 21, Sun 22, Mon 23, Tue 24, Wed 25, Thu 26,
Fri 27, Sat 28, Sun 29, Mon 30, **Tue 1 December a public holiday**, Wed 2, Thu 3, Fri 4, Mon 7, Tue 8.
Deadline rules (the seeded defaults): consultation 1 working day to respond / 3 to resolve,
complaint 1 / 5, help 1 / 5. A deadline ends at 23:59:59 of its last working day.

Center A (固戍, street 西乡), requests received in the period 2026-11-16 .. 2026-12-06
(received; respond by; first response; resolve by; what happened; rating → state now):

A1 consultation, Fri 20 18:00; respond by Mon 23 (the weekend skipped); responded Mon 23 23:30, on
   time (77.5 h); resolve by Wed 25; resolved Wed 25 23:00, on time; rated 5 → closed.
A2 consultation, Fri 20 19:00; respond by Mon 23; responded Tue 24 00:00:00, one second late (77 h);
   resolve by Wed 25; resolved Thu 26 00:30, late; rated 4 → closed.
A3 complaint, Mon 30 10:00; respond by Wed 2 (Tue 1 is a holiday); responded Wed 2 20:00, on time
   (58 h); resolve by Tue 8 (the holiday again); resolved Tue 8 23:59:59, on time; rated 3 → closed.
A4 complaint, Fri 27 17:00; respond by Mon 30; responded Mon 30 09:00, on time (64 h); resolve by
   Mon 7 (holiday); resolved Mon 7 18:00; rated 2 → a follow-up, in progress (due Tue 29 December).
A5 consultation, Mon 23 09:00; respond by Tue 24; not responded before its resolution on Wed 25
   10:00, which counts as the first response, late (49 h); rated 1 → a follow-up (due Thu 17 Dec.).
A6 help, Sat 21 10:00; respond by Mon 23; resolve by Fri 27; nothing done → received, overdue.
A7 consultation, Tue 24 09:00; respond by Wed 25; responded Wed 25 09:12, on time (24.2 h); resolve
   by Fri 27; resolved Thu 26; reopened Fri 27 (new resolve-by Thu 3: Mon 30, holiday, Wed 2,
   Thu 3); resolved again Mon 30 09:00, on time; not rated → resolved.

Outside the period (excluded): A8 received Sun 15 November 23:59:59 (responded, resolved, rated 1:
a follow-up),
A9 received Mon 7 December 00:00:00.
Center B (龙珠, the same street): B1 consultation Fri 20 20:00, responded Sat 21 10:00 (14 h),
resolved Mon 23 10:00, rated 5. Center C (宝民, another street): C1 complaint Mon 23 10:00,
responded Wed 25 10:00 (48 h, late: due Tue 24), due Mon 30: open and overdue.
The rates are read on Thu 10 December 09:00.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from livingroom.people.scopes import staff_scope
from livingroom.places.models import CalendarDay
from livingroom.voice import selectors, services
from livingroom.voice.models import Suggestion
from livingroom.voice.selectors import RateScope
from livingroom.voice.services import SuggestionDraft

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
START, END = dt.date(2026, 11, 16), dt.date(2026, 12, 6)


def t(month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, second, tzinfo=SH)


NOW = t(12, 10, 9)


def end_of(month: int, day: int) -> dt.datetime:
    return t(month, day, 23, 59, 59)


@pytest.fixture
def fixture(voice_world):
    w = voice_world
    roles, place = w["roles"], w["place"]
    desk, street, district = roles["community"], roles["street"], roles["district"]
    a_center, b_center, c_center = place["centers"]
    resident = w["residents"][0]
    CalendarDay.objects.create(date=dt.date(2026, 12, 1), kind=CalendarDay.Kind.HOLIDAY, name="测试假日")

    def submit(who, center, kind, now, text="关于客厅的一条意见"):
        return services.suggestion_submit(
            user=who.user,
            draft=SuggestionDraft(center_id=center.pk, kind=kind, category="services", text=text),
            now=now,
        )

    def respond(staff, s, now):
        services.suggestion_respond(
            staff=staff, scope=staff_scope(staff), suggestion_id=s.pk, message="已收到", now=now
        )

    def resolve(staff, s, now):
        services.suggestion_resolve(
            staff=staff, scope=staff_scope(staff), suggestion_id=s.pk, reply="已处理", now=now
        )

    def rate(s, rating, now):
        services.suggestion_rate(user=resident.user, suggestion_id=s.pk, rating=rating, now=now)

    made = {}
    made["A1"] = s = submit(resident, a_center, "consultation", t(11, 20, 18))
    assert (s.respond_by, s.resolve_by) == (end_of(11, 23), end_of(11, 25))  # the weekend skipped
    respond(desk, s, t(11, 23, 23, 30))
    resolve(desk, s, t(11, 25, 23))
    rate(s, 5, t(11, 26, 9))

    made["A2"] = s = submit(resident, a_center, "consultation", t(11, 20, 19))
    respond(desk, s, t(11, 24, 0, 0, 0))  # one second after Monday's end
    resolve(desk, s, t(11, 26, 0, 30))
    rate(s, 4, t(11, 26, 9))

    made["A3"] = s = submit(resident, a_center, "complaint", t(11, 30, 10))
    assert (s.respond_by, s.resolve_by) == (end_of(12, 2), end_of(12, 8))  # the holiday skipped
    respond(desk, s, t(12, 2, 20))
    resolve(desk, s, end_of(12, 8))  # exactly at the deadline: on time
    rate(s, 3, t(12, 9, 9))

    made["A4"] = s = submit(resident, a_center, "complaint", t(11, 27, 17))
    assert (s.respond_by, s.resolve_by) == (end_of(11, 30), end_of(12, 7))
    respond(desk, s, t(11, 30, 9))
    resolve(desk, s, t(12, 7, 18))
    rate(s, 2, t(12, 8, 10))  # a follow-up: in progress again

    made["A5"] = s = submit(resident, a_center, "consultation", t(11, 23, 9))
    resolve(desk, s, t(11, 25, 10))  # resolving is the first response: a day late
    rate(s, 1, t(11, 25, 12))  # a follow-up, due Thu 17 December

    made["A6"] = s = submit(resident, a_center, "help", t(11, 21, 10))
    assert s.resolve_by == end_of(11, 27)

    made["A7"] = s = submit(resident, a_center, "consultation", t(11, 24, 9))
    respond(desk, s, t(11, 25, 9, 12))
    resolve(desk, s, t(11, 26, 10))
    services.suggestion_reopen(
        user=resident.user, suggestion_id=s.pk, reason="问题又出现了", now=t(11, 27, 10)
    )
    s.refresh_from_db()
    assert s.resolve_by == end_of(12, 3)  # Mon 30, (Tue 1 holiday), Wed 2, Thu 3
    resolve(desk, s, t(11, 30, 9))

    made["A8"] = s = submit(resident, a_center, "consultation", t(11, 15, 23, 59, 59))
    respond(desk, s, t(11, 16, 10))
    resolve(desk, s, t(11, 16, 11))
    rate(s, 1, t(11, 16, 12))
    made["A9"] = submit(resident, a_center, "consultation", t(12, 7, 0, 0, 0))

    made["B1"] = s = submit(w["outsider"], b_center, "consultation", t(11, 20, 20))
    respond(street, s, t(11, 21, 10))
    resolve(street, s, t(11, 23, 10))
    services.suggestion_rate(user=w["outsider"].user, suggestion_id=s.pk, rating=5, now=t(11, 23, 12))

    made["C1"] = s = submit(w["far"], c_center, "complaint", t(11, 23, 10))
    respond(district, s, t(11, 25, 10))

    return {**w, **made, "centers": place["centers"], "desk": desk, "street": street, "district": district}


def states(fx) -> dict[str, str]:
    return {
        name: Suggestion.objects.get(pk=fx[name].pk).status
        for name in ("A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "B1", "C1")
    }


def test_the_fixture_is_what_the_table_says(fixture):
    assert states(fixture) == {
        "A1": "closed",
        "A2": "closed",
        "A3": "closed",
        "A4": "in_progress",
        "A5": "in_progress",
        "A6": "received",
        "A7": "resolved",
        "A8": "in_progress",  # rated 1: a follow-up
        "A9": "received",
        "B1": "closed",
        "C1": "in_progress",
    }
    a7 = Suggestion.objects.get(pk=fixture["A7"].pk)
    assert (a7.reopen_count, a7.resolved_at, a7.first_resolved_at) == (1, t(11, 30, 9), t(11, 26, 10))
    a5 = Suggestion.objects.get(pk=fixture["A5"].pk)
    assert (a5.follow_up, a5.first_response_at, a5.resolve_by) == (True, t(11, 25, 10), end_of(12, 17))


def test_the_rates_of_a_center(fixture):
    a = fixture["centers"][0]
    got = selectors.rates(
        staff_scope(fixture["desk"]), RateScope("center", a.pk, a.name), START, END, now=NOW
    )
    assert got.as_dict() == {
        "received": 7,  # A1..A7 (A8 the day before the period, A9 the day after)
        "responded": 6,  # all but A6
        "responded_on_time": 4,  # A1 (weekend), A3 (holiday), A4, A7; not A2 (1 s late), A5
        "resolved": 4,  # A1, A2, A3 closed, A7 resolved; A4 and A5 are in follow-up, A6 open
        "resolved_on_time": 3,  # A1, A3 (at 23:59:59 of its deadline), A7 (the new one); not A2
        "rated": 5,  # A1..A5: 5, 4, 3, 2, 1
        "satisfied": 2,  # 5 and 4
        "reopened": 1,  # A7
        "overdue_open": 1,  # A6 (A4 and A5 follow-ups are due 29 and 17 December)
        "response_rate": 57.1,  # 4 / 7
        "resolution_rate": 57.1,  # 4 / 7
        "satisfaction_rate": 40.0,  # 2 / 5
        "on_time_rate": 75.0,  # 3 / 4
        "reopen_rate": 16.7,  # 1 / 6 ever resolved (A1, A2, A3, A4, A5, A7)
        # (77.5 + 77 + 58 + 64 + 49 + 24.2) / 6 = 349.7 / 6 = 58.28 h
        "average_response_hours": 58.3,
    }
    assert got.ever_resolved == 6
    # The community of the center gives the same (its only center).
    community = selectors.rates(
        staff_scope(fixture["desk"]),
        RateScope("community", a.community_id, ""),
        START,
        END,
        now=NOW,
    )
    assert community == got


def test_the_rates_of_a_street(fixture):
    s1 = fixture["place"]["streets"][0]
    got = selectors.rates(
        staff_scope(fixture["street"]), RateScope("street", s1.pk, s1.name), START, END, now=NOW
    )
    assert got.as_dict() == {
        "received": 8,  # A1..A7 + B1
        "responded": 7,
        "responded_on_time": 5,  # + B1
        "resolved": 5,
        "resolved_on_time": 4,
        "rated": 6,
        "satisfied": 3,
        "reopened": 1,
        "overdue_open": 1,
        "response_rate": 62.5,  # 5 / 8
        "resolution_rate": 62.5,  # 5 / 8
        "satisfaction_rate": 50.0,  # 3 / 6
        "on_time_rate": 80.0,  # 4 / 5
        "reopen_rate": 14.3,  # 1 / 7
        "average_response_hours": 52.0,  # (349.7 + 14) / 7 = 51.96
    }


def test_the_rates_of_the_district(fixture):
    got = selectors.rates(staff_scope(fixture["district"]), RateScope("district", 0, ""), START, END, now=NOW)
    assert got.as_dict() == {
        "received": 9,  # + C1
        "responded": 8,
        "responded_on_time": 5,  # C1 was late
        "resolved": 5,
        "resolved_on_time": 4,
        "rated": 6,
        "satisfied": 3,
        "reopened": 1,
        "overdue_open": 2,  # A6, C1 (due Mon 30 November)
        "response_rate": 55.6,  # 5 / 9
        "resolution_rate": 55.6,  # 5 / 9
        "satisfaction_rate": 50.0,
        "on_time_rate": 80.0,
        "reopen_rate": 14.3,
        "average_response_hours": 51.5,  # (363.7 + 48) / 8 = 51.46
    }


def test_the_period_filter(fixture):
    a = fixture["centers"][0]
    scope, target = staff_scope(fixture["desk"]), RateScope("center", a.pk, a.name)
    # Mon 23 – Tue 24 November: A5 and A7 only.
    narrow = selectors.rates(scope, target, dt.date(2026, 11, 23), dt.date(2026, 11, 24), now=NOW)
    assert narrow.as_dict() == {
        "received": 2,
        "responded": 2,
        "responded_on_time": 1,  # A7
        "resolved": 1,  # A7
        "resolved_on_time": 1,
        "rated": 1,  # A5
        "satisfied": 0,
        "reopened": 1,
        "overdue_open": 0,
        "response_rate": 50.0,
        "resolution_rate": 50.0,
        "satisfaction_rate": 0.0,
        "on_time_rate": 100.0,
        "reopen_rate": 50.0,
        "average_response_hours": 36.6,  # (49 + 24.2) / 2
    }
    # The edges are local days: Sunday 15 at 23:59:59 is outside, Monday 16 is in.
    assert selectors.rates(scope, target, dt.date(2026, 11, 15), dt.date(2026, 11, 15), now=NOW).received == 1
    assert selectors.rates(scope, target, dt.date(2026, 11, 16), dt.date(2026, 11, 19), now=NOW).received == 0
    assert selectors.rates(scope, target, dt.date(2026, 12, 7), dt.date(2026, 12, 7), now=NOW).received == 1
    assert selectors.rates(scope, target, dt.date(2026, 11, 15), dt.date(2026, 12, 7), now=NOW).received == 9


def test_nothing_to_divide_by_gives_none(fixture):
    a = fixture["centers"][0]
    scope, target = staff_scope(fixture["desk"]), RateScope("center", a.pk, a.name)
    empty = selectors.rates(scope, target, dt.date(2026, 10, 1), dt.date(2026, 10, 31), now=NOW)
    assert empty.received == 0
    assert (
        empty.response_rate,
        empty.resolution_rate,
        empty.satisfaction_rate,
        empty.on_time_rate,
        empty.reopen_rate,
        empty.average_response_hours,
    ) == (None, None, None, None, None, None)
    # A9 alone: received but never responded, resolved or rated: 0 % where there is something
    # to divide by, None elsewhere.
    only = selectors.rates(scope, target, dt.date(2026, 12, 7), dt.date(2026, 12, 7), now=NOW)
    assert (
        only.response_rate,
        only.resolution_rate,
        only.satisfaction_rate,
        only.on_time_rate,
        only.reopen_rate,
        only.average_response_hours,
    ) == (0.0, 0.0, None, None, None, None)


def test_rates_by_center_and_the_scopes_each_may_ask_for(fixture):
    street, desk, district = fixture["street"], fixture["desk"], fixture["district"]
    a, b, c = fixture["centers"]
    s1, s2 = fixture["place"]["streets"]
    table = dict(
        (center.pk, r.received)
        for center, r in selectors.rates_by_center(
            staff_scope(street), RateScope("street", s1.pk, s1.name), START, END, now=NOW
        )
    )
    assert table == {a.pk: 7, b.pk: 1}
    by_center = dict(
        (center.pk, r.response_rate)
        for center, r in selectors.rates_by_center(
            staff_scope(district), RateScope("district", 0, ""), START, END, now=NOW
        )
    )
    assert by_center == {a.pk: 57.1, b.pk: 100.0, c.pk: 0.0}

    assert selectors.rate_scope(staff_scope(desk), f"center:{a.pk}") == RateScope("center", a.pk, a.name)
    assert selectors.rate_scope(staff_scope(desk), f"center:{b.pk}") is None
    assert selectors.rate_scope(staff_scope(desk), f"street:{s1.pk}") is None
    assert selectors.rate_scope(staff_scope(desk), "district") is None
    assert selectors.rate_scope(staff_scope(street), f"street:{s1.pk}") == RateScope("street", s1.pk, s1.name)
    assert selectors.rate_scope(staff_scope(street), f"street:{s2.pk}") is None
    assert selectors.rate_scope(staff_scope(district), "district") == RateScope("district", 0, "")
    for bad in ("", "planet:1", "center:x", "center:", "center:1234567890123"):
        with pytest.raises(ValueError):
            selectors.rate_scope(staff_scope(district), bad)
    # A member of staff's scope bounds the rates even for a wider target.
    outside = selectors.rates(staff_scope(desk), RateScope("district", 0, ""), START, END, now=NOW)
    assert outside.received == 7
