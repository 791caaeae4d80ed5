"""What staff do to the calendar: block a room or a seat, close on holidays, book recurring series
for organisations, decide requests, and (therapists only) keep session notes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from livingroom.booking import errors, selectors, services
from livingroom.booking.models import Booking, BookingSeries, Closure, RehabNote
from livingroom.core.models import AuditEvent
from livingroom.notices.models import Notice
from livingroom.people.models import SmsOutbox, StaffRole
from livingroom.places.models import Space
from tests import factories as f
from tests.booking.conftest import active_overlaps, local, put_booking, unchanged
from tests.conftest import resident_api, staff_api
from tests.invariants import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(world):
    return staff_api(world["desk"])


@pytest.fixture
def neighbours(world):
    return [f.ResidentFactory(home_community=world["resident"].home_community) for _ in range(3)]


def book(resident, unit, starts_at, ends_at, **kw) -> Booking:
    return services.booking_create(
        user=resident.user, resource_id=unit.pk, starts_at=starts_at, ends_at=ends_at, **kw
    )


def free_at(world, day: dt.date, hour: int, space=None) -> list[int]:
    a = selectors.space_availability(space or world["study"], day, day)
    return next(s.free_unit_ids for s in a.days[0].slots if s.starts_at == local(day, hour))


# --- blocks ------------------------------------------------------------------------------------------


def test_blocking_the_whole_room_cancels_bookings_and_tells_residents(
    world, desk, neighbours, tomorrow, django_capture_on_commit_callbacks
):
    a, b, c = neighbours
    hit = [
        book(a, world["seats"][0], local(tomorrow, 10), local(tomorrow, 12)),
        book(b, world["seats"][1], local(tomorrow, 12), local(tomorrow, 13)),
    ]
    spared = book(c, world["seats"][2], local(tomorrow, 14), local(tomorrow, 15))
    Notice.objects.all().delete()
    SmsOutbox.objects.all().delete()
    body = {
        "starts_at": local(tomorrow, 9).isoformat(),
        "ends_at": local(tomorrow, 13).isoformat(),
        "reason": "消防检查",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(f"/staff/spaces/{world['study'].pk}/blocks", body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["moved"] == [] and sorted(x["id"] for x in out["cancelled"]) == sorted(x.pk for x in hit)
    block = Booking.objects.get(pk=out["block"]["id"])
    assert (block.kind, block.whole_space, block.resource, block.purpose) == (
        "block",
        True,
        world["study_room_unit"],
        "消防检查",
    )
    for booking in hit:
        booking.refresh_from_db()
        assert (booking.status, booking.cancel_reason, booking.cancelled_by) == (
            "cancelled",
            "消防检查",
            world["desk"],
        )
    spared.refresh_from_db()
    assert spared.status == "confirmed"
    told = Notice.objects.filter(kind="booking.cancelled_by_staff")
    assert sorted(n.user_id for n in told) == sorted([a.user_id, b.user_id])
    assert all(n.params["reason"] == "消防检查" for n in told)
    assert SmsOutbox.objects.count() == 2
    # No seat is free while the room is blocked; residents are turned away.
    assert free_at(world, tomorrow, 10) == [] and free_at(world, tomorrow, 12) == []
    assert len(free_at(world, tomorrow, 13)) == 4
    latecomer = resident_api(f.ResidentFactory(home_community=world["resident"].home_community).user)
    body = {
        "resource_id": world["seats"][3].pk,
        "starts_at": local(tomorrow, 11).isoformat(),
        "ends_at": local(tomorrow, 12).isoformat(),
    }
    with unchanged():
        assert_error(latecomer.post("/bookings", body), 409, "slot_taken")
    assert active_overlaps() == []


def test_blocking_one_seat_moves_its_booking_to_a_free_seat(world, desk, neighbours, tomorrow):
    a, b, _ = neighbours
    moving = book(a, world["seats"][0], local(tomorrow, 10), local(tomorrow, 12))
    book(b, world["seats"][1], local(tomorrow, 10), local(tomorrow, 12))  # seat 2 is taken
    body = {
        "starts_at": local(tomorrow, 8).isoformat(),
        "ends_at": local(tomorrow, 22).isoformat(),
        "reason": "座椅维修",
        "resource_id": world["seats"][0].pk,
    }
    response = desk.post(f"/staff/spaces/{world['study'].pk}/blocks", body)
    assert response.status_code == 201, response.content
    assert [m["id"] for m in response.json()["moved"]] == [moving.pk] and response.json()["cancelled"] == []
    moving.refresh_from_db()
    assert (moving.resource, moving.status) == (world["seats"][2], "confirmed")  # the first free seat
    notice = Notice.objects.get(kind="booking.moved")
    assert notice.user == a.user and notice.params["unit"] == "#3" and notice.params["reason"] == "座椅维修"
    assert active_overlaps() == []


def test_blocking_a_seat_cancels_when_no_seat_is_free(world, desk, tomorrow):
    residents = [f.ResidentFactory(home_community=world["resident"].home_community) for _ in range(4)]
    first, *_ = [
        book(r, s, local(tomorrow, 10), local(tomorrow, 11))
        for r, s in zip(residents, world["seats"], strict=True)
    ]
    out = services.space_block(
        scope=world["scope"],
        staff=world["desk"],
        space_id=world["study"].pk,
        resource_id=world["seats"][0].pk,
        starts_at=local(tomorrow, 10),
        ends_at=local(tomorrow, 11),
        reason="座椅维修",
    )
    assert out.moved == [] and [b.pk for b in out.cancelled] == [first.pk]
    first.refresh_from_db()
    assert (
        first.status == "cancelled" and Booking.objects.filter(status="confirmed").count() == 4
    )  # 3 + the block


def test_a_whole_room_series_is_cancelled_by_a_seat_block(world, tomorrow):
    """A block of one seat cannot move an organisation's booking of the whole room."""
    org = f.OrganizationFactory()
    whole = put_booking(world["study_room_unit"], local(tomorrow, 19), local(tomorrow, 21), organization=org)
    out = services.space_block(
        scope=world["scope"],
        staff=world["desk"],
        space_id=world["study"].pk,
        resource_id=world["seats"][0].pk,
        starts_at=local(tomorrow, 20),
        ends_at=local(tomorrow, 21),
        reason="座椅维修",
    )
    assert [b.pk for b in out.cancelled] == [whole.pk]


def test_a_block_over_a_due_no_show_releases_it(world, neighbours, tomorrow):
    late = book(
        neighbours[0], world["seats"][0], local(tomorrow, 10), local(tomorrow, 12), now=local(tomorrow, 7)
    )
    try:
        services.space_block(
            scope=world["scope"],
            staff=world["desk"],
            space_id=world["study"].pk,
            starts_at=local(tomorrow, 11),
            ends_at=local(tomorrow, 12),
            reason="临时活动",
            now=local(tomorrow, 10, 20),
        )
    finally:
        late.refresh_from_db()
    assert late.status in ("no_show", "cancelled")
    assert active_overlaps() == []


def test_a_series_over_a_due_no_show_releases_it(world, neighbours, tomorrow):
    late = book(
        neighbours[0], world["seats"][0], local(tomorrow, 10), local(tomorrow, 12), now=local(tomorrow, 7)
    )
    series, _ = services.series_create(
        scope=world["scope"],
        staff=world["desk"],
        resource_id=world["study_room_unit"].pk,
        purpose="读书会",
        weekday=tomorrow.weekday(),
        starts=dt.time(11),
        ends=dt.time(12),
        first_date=tomorrow,
        weeks=2,
        now=local(tomorrow, 10, 20),
    )
    late.refresh_from_db()
    assert series.bookings.count() == 2 and late.status == "no_show"
    assert active_overlaps() == []


def test_a_booking_moved_onto_a_seat_held_by_a_due_no_show(world, neighbours, tomorrow):
    present = book(
        world["resident"], world["seats"][0], local(tomorrow, 10), local(tomorrow, 12), now=local(tomorrow, 7)
    )
    Booking.objects.filter(pk=present.pk).update(status="checked_in")
    for resident, seat in zip(neighbours, world["seats"][1:], strict=True):
        book(resident, seat, local(tomorrow, 10), local(tomorrow, 12), now=local(tomorrow, 7))
    out = services.space_block(
        scope=world["scope"],
        staff=world["desk"],
        space_id=world["study"].pk,
        resource_id=world["seats"][0].pk,
        starts_at=local(tomorrow, 11),
        ends_at=local(tomorrow, 12),
        reason="座椅维修",
        now=local(tomorrow, 10, 20),
    )
    assert [b.pk for b in out.moved] == [present.pk]
    assert active_overlaps() == []


# --- closures ----------------------------------------------------------------------------------------


def test_a_closure_cancels_bookings_on_its_days_and_tells_residents(
    world, desk, neighbours, tomorrow, django_capture_on_commit_callbacks
):
    a, b, c = neighbours
    day2 = tomorrow + dt.timedelta(days=1)
    day3 = tomorrow + dt.timedelta(days=2)
    hit = [
        book(a, world["seats"][0], local(tomorrow, 10), local(tomorrow, 11)),
        book(b, world["activity_unit"], local(day2, 20), local(day2, 22)),
    ]
    block = put_booking(world["therapist_unit"], local(day2, 9), local(day2, 10))
    spared = book(c, world["seats"][1], local(day3, 8), local(day3, 9))
    Notice.objects.all().delete()
    body = {
        "center_id": world["center"].pk,
        "starts_on": str(tomorrow),
        "ends_on": str(day2),
        "reason": "元旦放假",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post("/staff/closures", body)
    assert response.status_code == 201, response.content
    assert response.json()["cancelled_bookings"] == 3
    closure = Closure.objects.get(pk=response.json()["id"])
    assert (closure.starts_on, closure.ends_on, closure.space, closure.created_by) == (
        tomorrow,
        day2,
        None,
        world["desk"],
    )
    for booking in (*hit, block):
        booking.refresh_from_db()
        assert booking.status == "cancelled" and booking.cancel_reason == "元旦放假"
    spared.refresh_from_db()
    assert spared.status == "confirmed"
    assert sorted(Notice.objects.values_list("user_id", flat=True)) == sorted([a.user_id, b.user_id])
    assert SmsOutbox.objects.filter(body__contains="元旦放假").count() == 2
    # The closed days show their reason and offer nothing.
    a_ = selectors.space_availability(world["study"], tomorrow, day3)
    assert [d.closed_reason for d in a_.days] == ["元旦放假", "元旦放假", ""]
    assert [len(d.slots) for d in a_.days] == [0, 0, 14]


def test_a_closure_of_one_space_cancels_only_its_bookings(world, desk, neighbours, tomorrow):
    a, b, _ = neighbours
    hit = book(a, world["seats"][0], local(tomorrow, 10), local(tomorrow, 11))
    spared = book(b, world["activity_unit"], local(tomorrow, 10), local(tomorrow, 11))
    body = {
        "center_id": world["center"].pk,
        "space_id": world["study"].pk,
        "starts_on": str(tomorrow),
        "ends_on": str(tomorrow),
        "reason": "自习室消毒",
    }
    assert desk.post("/staff/closures", body).json()["cancelled_bookings"] == 1
    hit.refresh_from_db()
    spared.refresh_from_db()
    assert (hit.status, spared.status) == ("cancelled", "pending")


# --- recurring series --------------------------------------------------------------------------------


@pytest.fixture
def choir(world):
    return f.OrganizationFactory(name="夕阳红合唱团")


def series_body(world, choir, first: dt.date, **over) -> dict:
    return {
        "resource_id": world["activity_unit"].pk,
        "organization_id": choir.pk,
        "purpose": "合唱排练",
        "weekday": first.weekday(),
        "starts": "19:00",
        "ends": "21:00",
        "first_date": str(first),
        "weeks": 4,
        **over,
    }


def test_series_preview_create_and_cancel(world, desk, choir, neighbours, tomorrow):
    week = [tomorrow + dt.timedelta(days=7 * i) for i in range(4)]
    # In the way: a resident's request in week 2 and a closure in week 3.
    taken = put_booking(
        world["activity_unit"],
        local(week[1], 20),
        local(week[1], 21),
        resident=neighbours[0],
        status="pending",
    )
    services.closure_add(
        scope=world["scope"],
        staff=world["desk"],
        center_id=world["center"].pk,
        starts_on=week[2],
        ends_on=week[2],
        reason="停电检修",
    )
    body = series_body(world, choir, tomorrow)

    preview = desk.post("/staff/series/preview", body)
    assert preview.status_code == 200
    assert [(dt.datetime.fromisoformat(o["starts_at"]), o["problem"]) for o in preview.json()] == [
        (local(week[0], 19), ""),
        (local(week[1], 19), "slot_taken"),
        (local(week[2], 19), "space_closed"),
        (local(week[3], 19), ""),
    ]

    with unchanged():
        assert_error(desk.post("/staff/series", body), 409, "series_conflicts")

    created = desk.post("/staff/series", {**body, "skip_conflicts": True})
    assert created.status_code == 201, created.content
    series = BookingSeries.objects.get(pk=created.json()["id"])
    assert [o["problem"] for o in created.json()["occurrences"]] == ["", "slot_taken", "space_closed", ""]
    booked = list(series.bookings.order_by("starts_at"))
    assert [(b.starts_at, b.status, b.kind, b.organization) for b in booked] == [
        (local(week[0], 19), "confirmed", "organization", choir),
        (local(week[3], 19), "confirmed", "organization", choir),
    ]
    taken.refresh_from_db()
    assert taken.status == "pending"  # the resident's request was left alone
    assert active_overlaps() == []

    # One occurrence is cancelled on its own; then the whole series.
    one = desk.post(f"/staff/bookings/{booked[0].pk}/cancel", {"reason": "团员外出"})
    assert one.status_code == 200 and one.json()["series_id"] == series.pk
    booked[1].refresh_from_db()
    assert booked[1].status == "confirmed"
    assert desk.post(f"/staff/series/{series.pk}/cancel", {"reason": "合唱团解散"}).json() == {"cancelled": 1}
    series.refresh_from_db()
    assert series.cancelled_at is not None
    assert list(series.bookings.values_list("status", flat=True)) == ["cancelled", "cancelled"]
    # The evenings are free again.
    assert (
        services.booking_create(
            user=neighbours[1].user,
            resource_id=world["activity_unit"].pk,
            starts_at=local(week[0], 19),
            ends_at=local(week[0], 21),
        ).status
        == "pending"
    )


def test_series_cancel_leaves_past_occurrences(world, choir, tomorrow):
    series, _ = services.series_create(
        scope=world["scope"],
        staff=world["desk"],
        resource_id=world["activity_unit"].pk,
        purpose="合唱排练",
        weekday=tomorrow.weekday(),
        starts=dt.time(19),
        ends=dt.time(21),
        first_date=tomorrow,
        weeks=3,
        organization_id=choir.pk,
    )
    later = local(tomorrow + dt.timedelta(days=7), 21)  # after the second evening
    assert (
        services.series_cancel(
            scope=world["scope"], staff=world["desk"], series_id=series.pk, reason="停办", now=later
        )
        == 1
    )
    assert list(series.bookings.order_by("starts_at").values_list("status", flat=True)) == [
        "confirmed",
        "confirmed",
        "cancelled",
    ]


def test_series_outside_opening_hours_and_in_the_past(world, choir, tomorrow):
    occurrences = services.series_occurrences(
        unit=world["activity_unit"],
        weekday=tomorrow.weekday(),
        starts=dt.time(21),
        ends=dt.time(23),
        first_date=tomorrow,
        weeks=2,
        now=local(tomorrow, 22),
    )
    assert [o.problem for o in occurrences] == ["booking_in_past", "outside_opening_hours"]


def test_a_series_refused_for_conflicts_creates_nothing_through_the_service(world, choir, tomorrow):
    put_booking(world["activity_unit"], local(tomorrow, 19), local(tomorrow, 20), organization=choir)
    with unchanged(), pytest.raises(errors.SeriesConflicts) as caught:
        services.series_create(
            scope=world["scope"],
            staff=world["desk"],
            resource_id=world["activity_unit"].pk,
            purpose="合唱排练",
            weekday=tomorrow.weekday(),
            starts=dt.time(19),
            ends=dt.time(21),
            first_date=tomorrow,
            weeks=2,
        )
    assert caught.value.params["conflicts"] == [
        {"starts_at": local(tomorrow, 19).isoformat(), "problem": "slot_taken"}
    ]


# --- decisions ---------------------------------------------------------------------------------------


def test_approve_and_refuse_requests(world, desk, neighbours, tomorrow, django_capture_on_commit_callbacks):
    a, b, _ = neighbours
    first = book(a, world["activity_unit"], local(tomorrow, 14), local(tomorrow, 15))
    second = book(
        b,
        world["activity_unit"],
        local(tomorrow + dt.timedelta(days=1), 14),
        local(tomorrow + dt.timedelta(days=1), 15),
    )
    pending = desk.get(
        "/staff/bookings",
        status="pending",
        **{"from": str(tomorrow), "to": str(tomorrow + dt.timedelta(days=1))},
    ).json()
    assert [p["id"] for p in pending] == [first.pk, second.pk]
    assert pending[0]["resident_name_masked"] == a.masked_name
    with django_capture_on_commit_callbacks(execute=True):
        ok = desk.post(f"/staff/bookings/{first.pk}/approve").json()
        no = desk.post(f"/staff/bookings/{second.pk}/refuse", {"reason": "当天有社区活动"}).json()
    assert (ok["status"], no["status"], no["decision_reason"]) == ("confirmed", "refused", "当天有社区活动")
    assert Notice.objects.filter(kind="booking.approved", user=a.user).count() == 1
    assert Notice.objects.get(kind="booking.refused").params["reason"] == "当天有社区活动"
    second.refresh_from_db()
    assert second.decided_by == world["desk"]


def test_desk_booking_needs_no_approval(world, desk, tomorrow):
    body = {
        "resource_id": world["activity_unit"].pk,
        "resident_id": world["resident"].pk,
        "starts_at": local(tomorrow, 14).isoformat(),
        "ends_at": local(tomorrow, 15).isoformat(),
    }
    response = desk.post("/staff/bookings", body)
    assert response.status_code == 201 and response.json()["status"] == "confirmed"
    booking = Booking.objects.get()
    assert (booking.booked_by, booking.resident) == (world["desk"], world["resident"])
    assert AuditEvent.objects.get(action="booking.booking.created").data["desk"] is True


# --- rehabilitation notes --------------------------------------------------------------------------------


@pytest.fixture
def session(world, tomorrow):
    return put_booking(
        world["therapist_unit"], local(tomorrow, 10), local(tomorrow, 10, 30), resident=world["resident"]
    )


def test_the_therapist_writes_and_reads_notes_and_each_reading_is_audited(world, session):
    therapist = staff_api(world["therapist"])
    written = therapist.post(f"/staff/bookings/{session.pk}/rehab-notes", {"text": "左膝屈曲90度，疼痛减轻"})
    assert written.status_code == 201 and written.json()["text"] == "左膝屈曲90度，疼痛减轻"
    note = RehabNote.objects.get()
    assert (note.booking, note.author) == (session, world["therapist"])
    for _ in range(2):
        read = therapist.get(f"/staff/bookings/{session.pk}/rehab-notes")
        assert read.status_code == 200 and [n["text"] for n in read.json()] == ["左膝屈曲90度，疼痛减轻"]
    viewed = AuditEvent.objects.filter(action="booking.rehab_note.viewed")
    assert viewed.count() == 2
    assert {(e.actor_id, e.object_id) for e in viewed} == {(world["therapist"].pk, str(session.pk))}
    assert all(e.data == {"notes": [note.pk]} for e in viewed)
    added = AuditEvent.objects.get(action="booking.rehab_note.added")
    assert "左膝" not in str(added.data)  # the audit log holds no health data


def test_notes_are_encrypted_at_rest(world, session):
    services.rehab_note_add(actor=world["therapist"], booking_id=session.pk, text="高血压，注意心率")
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM booking_rehabnote")
        [(stored,)] = cursor.fetchall()
    assert stored.startswith("pii1.") and "高血压" not in stored and "心率" not in stored
    assert RehabNote.objects.get().text == "高血压，注意心率"


def test_nobody_but_the_rooms_therapist_finds_the_notes(world, place, roles, session):
    services.rehab_note_add(actor=world["therapist"], booking_id=session.pk, text="康复进展良好")
    elsewhere = f.SpaceFactory(center=world["center"], name="康复室二", kind=Space.Kind.REHAB, bookable=True)
    services.booking_rules_set(
        scope=world["scope"],
        staff=world["desk"],
        space_id=elsewhere.pk,
        audience="disabled",
        slot_minutes=30,
        min_minutes=30,
    )
    other_therapist = f.staff_with_role(StaffRole.Role.CENTER_STAFF, center=world["center"])
    services.space_units_set(
        scope=world["scope"],
        staff=world["desk"],
        space_id=elsewhere.pk,
        therapists=[("李治疗师", other_therapist)],
    )
    for user in (other_therapist, world["desk"], roles["district"], roles["street"], roles["partner"]):
        client = staff_api(user)
        with unchanged():
            assert_error(client.get(f"/staff/bookings/{session.pk}/rehab-notes"), 404, "booking_not_found")
            assert_error(
                client.post(f"/staff/bookings/{session.pk}/rehab-notes", {"text": "x"}),
                404,
                "booking_not_found",
            )
    resident = resident_api(world["resident"].user)
    with unchanged():
        assert_error(resident.get(f"/staff/bookings/{session.pk}/rehab-notes"), 401, "not_authenticated")
    assert not AuditEvent.objects.filter(action="booking.rehab_note.viewed").exists()


def test_a_therapist_who_left_the_room_no_longer_reads_its_notes(world, session):
    services.rehab_note_add(actor=world["therapist"], booking_id=session.pk, text="康复进展良好")
    services.space_units_set(
        scope=world["scope"], staff=world["desk"], space_id=world["rehab"].pk, therapists=[]
    )
    former = staff_api(world["therapist"])
    with unchanged():
        response = former.get(f"/staff/bookings/{session.pk}/rehab-notes")
    assert_error(response, 404, "booking_not_found")
