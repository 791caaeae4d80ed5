"""The working-day calendar (places.workdays): Monday to Friday, minus public holidays, plus make-up
working days (调休); a deadline of n working days ends at 23:59:59 Asia/Shanghai of the n-th working
day after the local day of the moment.

November 2026: Fri 20, Sat 21, Sun 22, Mon 23, Tue 24, Wed 25, Thu 26, Fri 27, Sat 28, Sun 29, Mon 30.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from livingroom.people.scopes import staff_scope
from livingroom.places import services as places_services
from livingroom.places.models import CalendarDay
from livingroom.places.workdays import MAX_WORKING_DAYS, WorkCalendar, calendar, is_working_day

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC

FRI = dt.date(2026, 11, 20)
SAT = dt.date(2026, 11, 21)
SUN = dt.date(2026, 11, 22)
MON = dt.date(2026, 11, 23)
TUE = dt.date(2026, 11, 24)
WED = dt.date(2026, 11, 25)
THU = dt.date(2026, 11, 26)


def day(kind: str, date: dt.date) -> CalendarDay:
    return CalendarDay(date=date, kind=kind)


def holiday(date: dt.date) -> CalendarDay:
    return day(CalendarDay.Kind.HOLIDAY, date)


def workday(date: dt.date) -> CalendarDay:
    return day(CalendarDay.Kind.WORKDAY, date)


def end_of(date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(23, 59, 59), tzinfo=SH)


# --- the plain week ------------------------------------------------------------------------------


def test_weekdays_work_and_weekends_do_not_without_calendar_days():
    cal = WorkCalendar([])
    week = [FRI + dt.timedelta(days=i) for i in range(7)]  # Fri .. Thu
    assert [cal.is_working_day(d) for d in week] == [True, False, False, True, True, True, True]


def test_add_working_days_across_a_weekend():
    cal = WorkCalendar([])
    assert cal.add_working_days(FRI, 1) == MON
    assert cal.add_working_days(FRI, 2) == TUE
    assert cal.add_working_days(FRI, 5) == dt.date(2026, 11, 27)  # the next Friday
    assert cal.add_working_days(FRI, 6) == dt.date(2026, 11, 30)  # over the second weekend
    assert cal.add_working_days(THU, 1) == dt.date(2026, 11, 27)
    # The start never counts, whether it is a working day or not: Saturday and Sunday + 1 → Monday.
    assert cal.add_working_days(SAT, 1) == MON
    assert cal.add_working_days(SUN, 1) == MON
    assert cal.add_working_days(MON, 1) == TUE
    # Zero days is the start itself.
    assert cal.add_working_days(SAT, 0) == SAT


def test_working_days_out_of_range_are_refused():
    cal = WorkCalendar([])
    with pytest.raises(ValueError, match="out of range"):
        cal.add_working_days(FRI, -1)
    with pytest.raises(ValueError, match="out of range"):
        cal.add_working_days(FRI, MAX_WORKING_DAYS + 1)
    assert cal.add_working_days(FRI, MAX_WORKING_DAYS) > FRI


def test_working_days_between():
    cal = WorkCalendar([holiday(TUE)])
    assert cal.working_days_between(FRI, FRI) == 0
    assert cal.working_days_between(MON, FRI) == 0  # end before start
    assert cal.working_days_between(FRI, SUN) == 0
    assert cal.working_days_between(FRI, MON) == 1
    assert cal.working_days_between(FRI, TUE) == 1  # Tuesday is a holiday
    assert cal.working_days_between(FRI, THU) == 3  # Mon, Wed, Thu


# --- holidays and make-up working days ------------------------------------------------------------


def test_a_public_holiday_on_a_weekday_is_skipped():
    cal = WorkCalendar([holiday(MON)])
    assert cal.is_working_day(MON) is False
    assert cal.add_working_days(FRI, 1) == TUE
    assert cal.add_working_days(FRI, 2) == WED
    assert cal.add_working_days(SAT, 1) == TUE


def test_a_make_up_working_day_on_a_saturday_counts():
    cal = WorkCalendar([workday(SAT)])
    assert cal.is_working_day(SAT) is True
    assert cal.is_working_day(SUN) is False
    assert cal.add_working_days(FRI, 1) == SAT
    assert cal.add_working_days(FRI, 2) == MON
    # Received on the make-up Saturday itself: the day does not count, the next working day is Monday.
    assert cal.add_working_days(SAT, 1) == MON


def test_a_holiday_week_with_make_up_days():
    """National Day 2026 as an example: Thu 1 – Wed 7 October off, Sat 10 October worked."""
    days = [holiday(dt.date(2026, 10, d)) for d in range(1, 6)] + [workday(dt.date(2026, 10, 10))]
    # (Sat 3 and Sun 4 are weekend days anyway; marking them a holiday changes nothing.)
    days += [holiday(dt.date(2026, 10, 6)), holiday(dt.date(2026, 10, 7))]
    cal = WorkCalendar(days)
    wed_30_sep = dt.date(2026, 9, 30)
    assert cal.add_working_days(wed_30_sep, 1) == dt.date(2026, 10, 8)  # Thu
    assert cal.add_working_days(wed_30_sep, 2) == dt.date(2026, 10, 9)  # Fri
    assert cal.add_working_days(wed_30_sep, 3) == dt.date(2026, 10, 10)  # the make-up Saturday
    assert cal.add_working_days(wed_30_sep, 4) == dt.date(2026, 10, 12)  # Mon (Sun 11 is off)
    assert cal.working_days_between(wed_30_sep, dt.date(2026, 10, 12)) == 4


# --- deadlines --------------------------------------------------------------------------------------


def test_deadline_ends_at_the_end_of_the_local_day_in_shanghai():
    cal = WorkCalendar([])
    due = cal.deadline(dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH), 1)  # Monday morning
    assert due == end_of(TUE)
    assert due.utcoffset() == dt.timedelta(hours=8)
    assert due.astimezone(UTC) == dt.datetime(2026, 11, 24, 15, 59, 59, tzinfo=UTC)


def test_deadline_received_friday_evening_is_monday_night():
    cal = WorkCalendar([])
    assert cal.deadline(dt.datetime(2026, 11, 20, 20, 30, tzinfo=SH), 1) == end_of(MON)
    assert cal.deadline(dt.datetime(2026, 11, 20, 23, 59, 59, tzinfo=SH), 1) == end_of(MON)
    assert cal.deadline(dt.datetime(2026, 11, 20, 0, 0, tzinfo=SH), 2) == end_of(TUE)


def test_deadline_received_on_saturday_or_sunday_is_monday_night():
    cal = WorkCalendar([])
    assert cal.deadline(dt.datetime(2026, 11, 21, 0, 0, tzinfo=SH), 1) == end_of(MON)
    assert cal.deadline(dt.datetime(2026, 11, 21, 11, 0, tzinfo=SH), 1) == end_of(MON)
    assert cal.deadline(dt.datetime(2026, 11, 22, 23, 0, tzinfo=SH), 1) == end_of(MON)


def test_deadline_counts_from_the_shanghai_day_not_the_utc_day():
    cal = WorkCalendar([])
    # Thursday 17:00 UTC is Friday 01:00 in Shanghai: one working day → Monday (not Friday).
    assert cal.deadline(dt.datetime(2026, 11, 19, 17, 0, tzinfo=UTC), 1) == end_of(MON)
    # Friday 16:30 UTC is Saturday 00:30 in Shanghai: → Monday as well.
    assert cal.deadline(dt.datetime(2026, 11, 20, 16, 30, tzinfo=UTC), 1) == end_of(MON)
    # Friday 15:59 UTC is still Friday 23:59 in Shanghai.
    assert cal.deadline(dt.datetime(2026, 11, 20, 15, 59, tzinfo=UTC), 1) == end_of(MON)
    # Thursday 15:59 UTC is Thursday 23:59 in Shanghai: → Friday.
    assert cal.deadline(dt.datetime(2026, 11, 19, 15, 59, tzinfo=UTC), 1) == end_of(dt.date(2026, 11, 20))


def test_deadline_across_a_holiday_and_a_make_up_day():
    received_fri = dt.datetime(2026, 11, 20, 18, 0, tzinfo=SH)
    assert WorkCalendar([holiday(MON)]).deadline(received_fri, 1) == end_of(TUE)
    assert WorkCalendar([holiday(MON), holiday(TUE)]).deadline(received_fri, 2) == end_of(THU)
    assert WorkCalendar([workday(SAT)]).deadline(received_fri, 1) == end_of(SAT)
    assert WorkCalendar([workday(SAT), holiday(MON)]).deadline(received_fri, 2) == end_of(TUE)
    assert WorkCalendar([holiday(MON)]).deadline(received_fri, 0) == end_of(FRI)


# --- the calendar as data (places.CalendarDay) --------------------------------------------------


@pytest.mark.django_db
def test_the_calendar_reads_the_days_kept_by_the_district(roles):
    actor = roles["district"]
    places_services.calendar_day_set(
        scope=staff_scope(actor), day=MON, kind=CalendarDay.Kind.HOLIDAY, name="  测试  假日 ", actor=actor
    )
    places_services.calendar_day_set(
        scope=staff_scope(actor), day=dt.date(2026, 11, 28), kind=CalendarDay.Kind.WORKDAY, actor=actor
    )
    assert CalendarDay.objects.get(date=MON).name == "测试 假日"

    cal = calendar()
    assert cal.deadline(dt.datetime(2026, 11, 20, 20, 0, tzinfo=SH), 1) == end_of(TUE)
    # Fri 27 + 1 → the make-up Saturday 28.
    assert cal.deadline(dt.datetime(2026, 11, 27, 9, 0, tzinfo=SH), 1) == end_of(dt.date(2026, 11, 28))
    assert is_working_day(MON) is False
    assert is_working_day(dt.date(2026, 11, 28)) is True
    assert is_working_day(TUE) is True
    assert is_working_day(SAT) is False

    # A day turned back into a working day, then removed: the plain week again.
    places_services.calendar_day_set(
        scope=staff_scope(actor), day=MON, kind=CalendarDay.Kind.WORKDAY, actor=actor
    )
    assert CalendarDay.objects.filter(date=MON).count() == 1
    assert calendar().deadline(dt.datetime(2026, 11, 20, 20, 0, tzinfo=SH), 1) == end_of(MON)
    assert places_services.calendar_day_remove(scope=staff_scope(actor), day=MON, actor=actor) is True
    assert places_services.calendar_day_remove(scope=staff_scope(actor), day=MON, actor=actor) is False
    assert calendar().deadline(dt.datetime(2026, 11, 20, 20, 0, tzinfo=SH), 1) == end_of(MON)


@pytest.mark.django_db
def test_an_unknown_calendar_kind_is_refused_and_writes_nothing(roles):
    from livingroom.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        places_services.calendar_day_set(
            scope=staff_scope(roles["district"]), day=MON, kind="festival", actor=roles["district"]
        )
    assert CalendarDay.objects.count() == 0


@pytest.mark.django_db
def test_only_district_officials_keep_the_calendar(roles):
    from livingroom.core.errors import PermissionDenied

    for who in ("street", "community", "center", "partner"):
        actor = roles[who]
        with pytest.raises(PermissionDenied):
            places_services.calendar_day_set(scope=staff_scope(actor), day=MON, kind="holiday", actor=actor)
        with pytest.raises(PermissionDenied):
            places_services.calendar_day_remove(scope=staff_scope(actor), day=MON, actor=actor)
    assert CalendarDay.objects.count() == 0
