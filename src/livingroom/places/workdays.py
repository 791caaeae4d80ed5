"""Working days: Monday to Friday, minus public holidays, plus make-up working days (调休).

A deadline of *n* working days from a moment ends at the end (23:59:59, Asia/Shanghai) of the
*n*-th working day after the day of that moment: a request received on Friday with a deadline of
one working day is due at the end of Monday; received on Saturday, also Monday. The calendar is
data (``places.CalendarDay``), kept by district staff each year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from livingroom.places.models import CalendarDay

MAX_WORKING_DAYS = 365


class WorkCalendar:
    """The calendar days of a span, loaded once; ask it as often as needed."""

    def __init__(self, days: Iterable[CalendarDay] | None = None) -> None:
        source = CalendarDay.objects.all() if days is None else days
        self._kinds = {day.date: day.kind for day in source}

    @classmethod
    def for_days(cls, days: Iterable[dt.date]) -> WorkCalendar:
        """A calendar that knows only ``days`` (one query): enough to ask about those days."""
        return cls(CalendarDay.objects.filter(date__in=list(days)))

    def is_holiday(self, day: dt.date) -> bool:
        """A public holiday (not a plain weekend)."""
        return self._kinds.get(day) == CalendarDay.Kind.HOLIDAY

    def is_working_day(self, day: dt.date) -> bool:
        kind = self._kinds.get(day)
        if kind == CalendarDay.Kind.HOLIDAY:
            return False
        if kind == CalendarDay.Kind.WORKDAY:
            return True
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
        if days < 0 or days > MAX_WORKING_DAYS:
            raise ValueError("working days out of range")
        current, left = start, days
        while left > 0:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
        count, current = 0, start
        while current < end:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def deadline(self, moment: dt.datetime, days: int) -> dt.datetime:
        """The end of the ``days``-th working day after the local day of ``moment``."""
        local = timezone.localtime(moment)
        day = self.add_working_days(local.date(), days)
        end = dt.datetime.combine(day, dt.time(23, 59, 59))
        return timezone.make_aware(end, timezone.get_current_timezone())


def calendar() -> WorkCalendar:
    return WorkCalendar()


def is_working_day(day: dt.date) -> bool:
    return WorkCalendar(CalendarDay.objects.filter(date=day)).is_working_day(day)
