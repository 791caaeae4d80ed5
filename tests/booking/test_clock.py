"""What the clock does (``booking_tick``): release no-shows and suspend repeat offenders, remind
residents two hours ahead (once), and lapse requests nobody decided on before their start."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from livingroom.booking import services
from livingroom.booking.models import Booking, BookingSuspension
from livingroom.core.models import AuditEvent
from livingroom.notices.models import Notice
from livingroom.people.models import SmsOutbox
from tests import factories as f
from tests.booking.conftest import local, put_booking, unchanged
from tests.conftest import resident_api, staff_api
from tests.invariants import assert_error

pytestmark = pytest.mark.django_db


def kinds(user) -> list[str]:
    return sorted(Notice.objects.filter(user=user).values_list("kind", flat=True))


# --- no-shows ------------------------------------------------------------------------------------------


def test_a_booking_not_checked_in_is_released_when_the_window_closes(world, tomorrow):
    booking = services.booking_create(
        user=world["resident"].user,
        resource_id=world["seats"][0].pk,
        starts_at=local(tomorrow, 10),
        ends_at=local(tomorrow, 12),
        now=local(tomorrow, 7),
    )
    assert booking.checkin_closes_at == local(tomorrow, 10, 15)
    with unchanged():
        assert services.booking_tick(now=local(tomorrow, 10, 15)).released == 0  # the last moment to check in
    result = services.booking_tick(now=local(tomorrow, 10, 16))
    assert result == services.TickResult(released=1, reminded=0, expired=0)
    booking.refresh_from_db()
    assert booking.status == "no_show"
    assert kinds(world["resident"].user) == ["booking.confirmed", "booking.released"]
    assert (
        AuditEvent.objects.filter(action="booking.booking.released", object_id=str(booking.pk)).count() == 1
    )
    assert not BookingSuspension.objects.exists()  # one no-show is not yet a pattern
    # Released bookings are not released again.
    with unchanged():
        assert services.booking_tick(now=local(tomorrow, 11)).released == 0


def test_checked_in_cancelled_and_organisation_bookings_are_never_released(world, tomorrow):
    s = local(tomorrow, 10)
    e = local(tomorrow, 11)
    put_booking(world["seats"][0], s, e, resident=world["resident"], status="checked_in")
    put_booking(world["seats"][1], s, e, resident=world["resident"], status="cancelled")
    put_booking(world["activity_unit"], s, e, organization=f.OrganizationFactory())
    with unchanged():
        assert services.no_shows_release(now=local(tomorrow, 12)) == []


def _missed(world, days_ago: float, resident=None) -> Booking:
    """A booking in the past, never checked in, not yet released."""
    start = timezone.now() - dt.timedelta(days=days_ago)
    return put_booking(
        world["seats"][0], start, start + dt.timedelta(hours=1), resident=resident or world["resident"]
    )


def test_three_no_shows_in_thirty_days_suspend_for_seven_days(
    world, tomorrow, django_capture_on_commit_callbacks
):
    assert (settings.LIVINGROOM_NO_SHOW_LIMIT, settings.LIVINGROOM_NO_SHOW_PERIOD_DAYS) == (3, 30)
    assert settings.LIVINGROOM_NO_SHOW_SUSPENSION_DAYS == 7
    resident = world["resident"]
    missed = [_missed(world, days) for days in (29, 10, 1)]
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        result = services.booking_tick(now=now)
    assert result.released == 3
    assert set(Booking.objects.values_list("status", flat=True)) == {"no_show"}
    suspension = BookingSuspension.objects.get()
    assert (suspension.resident, suspension.no_shows) == (resident, 3)
    assert (suspension.starts_at, suspension.ends_at) == (now, now + dt.timedelta(days=7))
    assert kinds(resident.user) == ["booking.released"] * 3 + ["booking.suspended"]
    suspended = Notice.objects.get(kind="booking.suspended")
    assert suspended.params["count"] == "3" and suspended.params["days"] == "30"
    # Only the suspension goes out by SMS; releases stay in the message list.
    assert SmsOutbox.objects.count() == 1 and suspended.sms_sent_at is not None
    assert AuditEvent.objects.filter(action="booking.resident.suspended").count() == 1
    assert {m.pk for m in missed} == set(
        Booking.objects.filter(status="no_show").values_list("pk", flat=True)
    )

    # The resident sees it and cannot book; staff of their community lift it.
    me = resident_api(resident.user)
    mine = me.get("/me/bookings").json()
    assert dt.datetime.fromisoformat(mine["suspended_until"]) == suspension.ends_at.replace(
        microsecond=suspension.ends_at.microsecond // 1000 * 1000
    )
    assert sorted(b["status"] for b in mine["past"]) == ["no_show"] * 3
    body = {
        "resource_id": world["seats"][1].pk,
        "starts_at": local(tomorrow, 10).isoformat(),
        "ends_at": local(tomorrow, 11).isoformat(),
    }
    with unchanged():
        assert_error(me.post("/bookings", body), 403, "booking_suspended")
    assert staff_api(world["desk"]).post(f"/staff/suspensions/{suspension.pk}/lift").json() == {
        "lifted": True
    }
    assert me.get("/me/bookings").json()["suspended_until"] is None
    assert me.post("/bookings", body).status_code == 201


def test_two_no_shows_or_old_ones_do_not_suspend(world):
    for days in (45, 31):  # outside the 30 days
        b = _missed(world, days)
        Booking.objects.filter(pk=b.pk).update(status="no_show")
    _missed(world, 2)
    _missed(world, 1)
    assert services.booking_tick(now=timezone.now()).released == 2
    assert not BookingSuspension.objects.exists()
    assert me_suspended(world) is None


def me_suspended(world):
    return resident_api(world["resident"].user).get("/me/bookings").json()["suspended_until"]


def test_no_shows_counted_for_one_suspension_do_not_count_again(world):
    """Suspended 11 days ago for three no-shows (the suspension has ended); one more no-show now
    makes four in 30 days, but only one since the last suspension: no new suspension."""
    for days in (14, 13, 12):
        _missed(world, days)
    then = timezone.now() - dt.timedelta(days=11)
    services.booking_tick(now=then)
    first = BookingSuspension.objects.get()
    assert first.ends_at == then + dt.timedelta(days=7) < timezone.now()
    _missed(world, 0.5)
    assert services.booking_tick(now=timezone.now()).released == 1
    assert BookingSuspension.objects.count() == 1
    assert me_suspended(world) is None
    # Two more after that one make three since the last suspension: suspended again.
    _missed(world, 0.3)
    _missed(world, 0.2)
    assert services.booking_tick(now=timezone.now()).released == 2
    assert BookingSuspension.objects.count() == 2 and me_suspended(world) is not None


def test_each_resident_is_counted_alone(world):
    other = f.ResidentFactory(home_community=world["resident"].home_community)
    for days, who in ((3, world["resident"]), (2, other), (1, world["resident"])):
        _missed(world, days, resident=who)
    assert services.booking_tick(now=timezone.now()).released == 3
    assert not BookingSuspension.objects.exists()


def test_a_due_no_show_frees_its_seat_for_the_next_resident(
    world, tomorrow, django_capture_on_commit_callbacks
):
    """Nobody came by 10:15: at 10:20 another resident books the same seat from 11, and the old
    booking is released on the spot (before the clock gets to it)."""
    old = services.booking_create(
        user=world["resident"].user,
        resource_id=world["seats"][0].pk,
        starts_at=local(tomorrow, 10),
        ends_at=local(tomorrow, 12),
        now=local(tomorrow, 7),
    )
    other = f.ResidentFactory(home_community=world["resident"].home_community)
    with django_capture_on_commit_callbacks(execute=True):
        new = services.booking_create(
            user=other.user,
            resource_id=world["seats"][0].pk,
            starts_at=local(tomorrow, 11),
            ends_at=local(tomorrow, 12),
            now=local(tomorrow, 10, 20),
        )
    old.refresh_from_db()
    assert (old.status, new.status) == ("no_show", "confirmed")
    assert "booking.released" in kinds(world["resident"].user)  # the follow-up ran after commit


# --- reminders -----------------------------------------------------------------------------------------


def test_reminder_is_sent_once_two_hours_ahead(world, django_capture_on_commit_callbacks):
    now = timezone.now()
    soon = put_booking(
        world["seats"][0],
        now + dt.timedelta(minutes=90),
        now + dt.timedelta(minutes=150),
        resident=world["resident"],
    )
    put_booking(
        world["seats"][1],
        now + dt.timedelta(hours=3),
        now + dt.timedelta(hours=4),
        resident=world["resident"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.booking_tick(now=now).reminded == 1
    soon.refresh_from_db()
    assert soon.reminded_at == now
    notice = Notice.objects.get(kind="booking.reminder")
    assert notice.user == world["resident"].user and notice.params["space"] == "自习室"
    assert notice.params["unit"] == "#1"
    sms = SmsOutbox.objects.get()
    assert sms.phone == world["resident"].user.phone and "自习室" in sms.body
    assert timezone.localtime(soon.starts_at).strftime("%H:%M") in sms.body
    # The next minutes remind nobody twice.
    with unchanged(), django_capture_on_commit_callbacks(execute=True):
        assert services.booking_tick(now=now + dt.timedelta(minutes=1)).reminded == 0
        assert services.reminders_send(now=now + dt.timedelta(minutes=30)) == 0


@pytest.mark.parametrize(
    ("minutes", "status", "kind", "reminded"),
    [
        (120, "confirmed", "resident", 1),
        (121, "confirmed", "resident", 0),
        (0, "confirmed", "resident", 0),
        (60, "pending", "resident", 0),
        (60, "cancelled", "resident", 0),
        (60, "checked_in", "resident", 0),
        (60, "confirmed", "organization", 0),
    ],
    ids=["exactly-2h", "2h01", "starting-now", "pending", "cancelled", "checked-in", "organisation"],
)
def test_who_is_reminded(world, tomorrow, minutes, status, kind, reminded):
    now = local(tomorrow, 8)
    start = now + dt.timedelta(minutes=minutes)
    if kind == "organization":
        put_booking(
            world["activity_unit"], start, start + dt.timedelta(hours=1), organization=f.OrganizationFactory()
        )
    else:
        put_booking(
            world["seats"][0], start, start + dt.timedelta(hours=1), resident=world["resident"], status=status
        )
    assert services.reminders_send(now=now) == reminded
    assert Notice.objects.filter(kind="booking.reminder").count() == reminded


# --- requests nobody decided on ------------------------------------------------------------------------


def test_a_pending_request_lapses_at_its_start(world, tomorrow, django_capture_on_commit_callbacks):
    request = services.booking_create(
        user=world["resident"].user,
        resource_id=world["activity_unit"].pk,
        starts_at=local(tomorrow, 14),
        ends_at=local(tomorrow, 16),
        now=local(tomorrow, 7),
    )
    assert request.status == "pending"
    with unchanged():
        assert services.booking_tick(now=local(tomorrow, 13, 59)).expired == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.booking_tick(now=local(tomorrow, 14)).expired == 1
    request.refresh_from_db()
    assert (request.status, request.decided_at, request.decided_by) == ("refused", local(tomorrow, 14), None)
    assert kinds(world["resident"].user) == ["booking.expired", "booking.pending"]
    assert AuditEvent.objects.filter(action="booking.booking.expired").count() == 1
    # The lapsed request no longer holds the room.
    other = f.ResidentFactory(home_community=world["resident"].home_community)
    assert (
        services.booking_create(
            user=other.user,
            resource_id=world["activity_unit"].pk,
            starts_at=local(tomorrow, 15),
            ends_at=local(tomorrow, 16),
            now=local(tomorrow, 14, 1),
        ).status
        == "pending"
    )
