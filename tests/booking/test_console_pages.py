"""The booking console pages: each renders for the desk, another community's worker finds nothing,
a look-only official is refused on actions, and the forms change exactly what they say."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from livingroom.booking import services
from livingroom.booking.models import Booking, BookingRules, BookingSeries, RehabNote, Resource
from tests import factories as f
from tests.booking.conftest import local
from tests.conftest import console_client

BASE = "/console/bookings/"


def _request(world, day: dt.date, start: int, end: int, purpose: str = "合唱排练") -> Booking:
    """A resident's request for the activity room (it needs approval)."""
    resident = f.ResidentFactory(home_community=world["resident"].home_community)
    return services.booking_create(
        user=resident.user,
        resource_id=world["activity_unit"].pk,
        starts_at=local(day, start),
        ends_at=local(day, end),
        purpose=purpose,
    )


def _pages(world, booking: Booking) -> list[str]:
    center, study = world["center"], world["study"]
    return [
        BASE,
        f"{BASE}calendar/{center.pk}/",
        f"{BASE}calendar/{center.pk}/?view=week&day=2026-02-30",  # a bad day falls back to today
        f"{BASE}requests/",
        f"{BASE}requests/?center={center.pk}",
        f"{BASE}{booking.pk}/",
        f"{BASE}spaces/{study.pk}/block/",
        f"{BASE}spaces/{study.pk}/rules/",
        f"{BASE}desk/?q=zz",
        f"{BASE}utilisation/",
        f"{BASE}utilisation/?center={center.pk}",
        f"{BASE}series/",
        f"{BASE}series/new/",
    ]


@pytest.mark.django_db
def test_every_page_renders_for_the_desk_worker(world, tomorrow):
    booking = _request(world, tomorrow, 14, 16)
    desk = console_client(world["desk"])
    for path in _pages(world, booking):
        response = desk.get(path)
        assert response.status_code == 200, path
    calendar = desk.get(f"{BASE}calendar/{world['center'].pk}/?day={tomorrow.isoformat()}")
    row = next(r for r in calendar.context["rows"] if r["space"] == world["activity"])
    chips = [chip for cell in row["cells"] for chip in cell.chips]
    assert {c.booking.pk for c in chips} == {booking.pk}
    assert chips[0].css == "bk--pending" and chips[0].label == booking.resident.masked_name
    assert [c.continued for c in chips] == [False, True]  # 14:00 and the 15:00 column


@pytest.mark.django_db
def test_seated_rooms_show_occupancy_not_every_booking(world, tomorrow):
    for seat in world["seats"][:3]:
        resident = f.ResidentFactory(home_community=world["resident"].home_community)
        services.booking_create(
            user=resident.user,
            resource_id=seat.pk,
            starts_at=local(tomorrow, 10),
            ends_at=local(tomorrow, 12),
        )
    desk = console_client(world["desk"])
    page = desk.get(f"{BASE}calendar/{world['center'].pk}/?day={tomorrow.isoformat()}")
    row = next(r for r in page.context["rows"] if r["space"] == world["study"])
    by_hour = dict(zip(range(7, 23), row["cells"], strict=True))
    assert row["seated"] and row["units"] == 4
    assert by_hour[10].occupied == 3 and by_hour[11].occupied == 3 and by_hour[12].occupied == 0
    assert by_hour[10].chips == []
    assert not by_hour[7].open and by_hour[8].open  # the center opens at 08:00
    week = desk.get(f"{BASE}calendar/{world['center'].pk}/?day={tomorrow.isoformat()}&view=week")
    row = next(r for r in week.context["rows"] if r["space"] == world["study"])
    assert row["cells"][tomorrow.weekday()].occupied == 3
    assert "3/4" in week.content.decode()


@pytest.mark.django_db
def test_another_communitys_worker_finds_nothing(world, roles, tomorrow):
    booking = _request(world, tomorrow, 14, 16)
    other = console_client(roles["other_community"])
    center, study = world["center"], world["study"]
    for path in [
        f"{BASE}calendar/{center.pk}/",
        f"{BASE}calendar/{center.pk}/?view=week",
        f"{BASE}{booking.pk}/",
        f"{BASE}spaces/{study.pk}/block/",
        f"{BASE}spaces/{study.pk}/rules/",
        f"{BASE}utilisation/?center={center.pk}",
        f"{BASE}requests/?center={center.pk}",
    ]:
        assert other.get(path).status_code == 404, path
    # The lists open, without anything of the other community.
    assert other.get(BASE).context["rows"] == []
    assert other.get(f"{BASE}requests/").context["rows"] == []
    assert other.get(f"{BASE}utilisation/").context["rows"] == []
    assert other.get(f"{BASE}series/").context["rows"] == []
    assert study.name not in other.get(f"{BASE}desk/").content.decode()
    # Acting on it is "not found" too, and changes nothing.
    response = other.post(f"{BASE}requests/", {"action": "approve", "booking": booking.pk})
    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING


@pytest.mark.django_db
def test_approve_and_refuse_requests(world, roles, tomorrow):
    first = _request(world, tomorrow, 14, 16)
    second = _request(world, tomorrow, 18, 20)
    desk = console_client(world["desk"])

    response = desk.post(f"{BASE}requests/", {"action": "approve", "booking": first.pk})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == Booking.Status.CONFIRMED and first.decided_by == world["desk"]

    # A refusal needs a reason: the page says so and nothing changes.
    response = desk.post(f"{BASE}requests/", {"action": "refuse", "booking": second.pk, "reason": "  "})
    assert response.status_code == 400
    assert response.context["failed"] == second.pk and response.context["form"].errors["reason"]
    second.refresh_from_db()
    assert second.status == Booking.Status.PENDING

    response = desk.post(f"{BASE}requests/", {"action": "refuse", "booking": second.pk, "reason": "场地检修"})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == Booking.Status.REFUSED and second.decision_reason == "场地检修"
    assert desk.get(f"{BASE}requests/").context["rows"] == []

    # Deciding twice is a conflict shown on the page.
    response = desk.post(f"{BASE}requests/", {"action": "approve", "booking": second.pk})
    assert response.status_code == 409
    assert response.context["form"].non_field_errors()


@pytest.mark.django_db
def test_a_look_only_official_is_refused_on_the_page(world, roles, tomorrow):
    booking = _request(world, tomorrow, 14, 16)
    street = console_client(roles["street"])  # the sub-district official sees 固戍 but does not act
    page = street.get(f"{BASE}requests/")
    assert [r["booking"].pk for r in page.context["rows"]] == [booking.pk]
    assert page.context["rows"][0]["can_act"] is False
    response = street.post(f"{BASE}requests/", {"action": "approve", "booking": booking.pk})
    assert response.status_code == 403
    assert response.context["form"].non_field_errors()
    response = street.post(
        f"{BASE}spaces/{world['study'].pk}/block/",
        {"day": tomorrow.isoformat(), "starts": "10:00", "ends": "12:00", "reason": "检修"},
    )
    assert response.status_code == 403 and response.context["form"].non_field_errors()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING
    assert not Booking.objects.filter(kind=Booking.Kind.BLOCK).exists()


@pytest.mark.django_db
def test_block_a_seat_moves_the_booking_and_says_so(world, tomorrow):
    seat = world["seats"][0]
    taken = services.booking_create(
        user=world["resident"].user,
        resource_id=seat.pk,
        starts_at=local(tomorrow, 10),
        ends_at=local(tomorrow, 12),
    )
    desk = console_client(world["desk"])
    url = f"{BASE}spaces/{world['study'].pk}/block/"

    response = desk.post(
        url, {"day": tomorrow.isoformat(), "starts": "10:00", "ends": "12:00", "resource": seat.pk}
    )
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    assert not Booking.objects.filter(kind=Booking.Kind.BLOCK).exists()

    response = desk.post(
        url,
        {
            "day": tomorrow.isoformat(),
            "starts": "10:00",
            "ends": "12:00",
            "resource": seat.pk,
            "reason": "座椅维修",
        },
        follow=True,
        headers={"Accept-Language": "en"},
    )
    assert response.redirect_chain[0][0].startswith(f"{BASE}calendar/{world['center'].pk}/?day=")
    text = [str(m) for m in response.context["messages"]]
    assert len(text) == 1 and "moved to another unit: 1; cancelled: 0" in text[0]
    block = Booking.objects.get(kind=Booking.Kind.BLOCK)
    assert block.resource == seat and block.purpose == "座椅维修"
    taken.refresh_from_db()
    assert taken.status == Booking.Status.CONFIRMED and taken.resource != seat

    # The same time again is refused on the form.
    response = desk.post(
        url,
        {
            "day": tomorrow.isoformat(),
            "starts": "11:00",
            "ends": "12:00",
            "resource": seat.pk,
            "reason": "再修",
        },
    )
    assert response.status_code == 409 and response.context["form"].non_field_errors()
    assert Booking.objects.filter(kind=Booking.Kind.BLOCK).count() == 1


@pytest.mark.django_db
def test_block_the_whole_room_cancels_and_counts(world, tomorrow):
    taken = services.booking_create(
        user=world["resident"].user,
        resource_id=world["seats"][1].pk,
        starts_at=local(tomorrow, 10),
        ends_at=local(tomorrow, 12),
    )
    desk = console_client(world["desk"])
    response = desk.post(
        f"{BASE}spaces/{world['study'].pk}/block/",
        {
            "day": tomorrow.isoformat(),
            "starts": "09:00",
            "ends": "13:00",
            "resource": "",
            "reason": "消防演练",
        },
    )
    assert response.status_code == 302
    taken.refresh_from_db()
    assert taken.status == Booking.Status.CANCELLED and taken.cancel_reason == "消防演练"
    assert Booking.objects.get(kind=Booking.Kind.BLOCK).whole_space


@pytest.mark.django_db
def test_utilisation_exports_to_excel(world, tomorrow):
    desk = console_client(world["desk"])
    page = desk.get(f"{BASE}utilisation/?sort=-units")
    assert page.context["rows"][0]["r"].space == world["study"]
    assert page.context["date_to"] - page.context["date_from"] == dt.timedelta(days=29)
    export = desk.get(
        f"{BASE}utilisation/?sort=-units&format=xlsx&from=2026-01-01&to=2026-01-31",
        headers={"Accept-Language": "en"},
    )
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(export.content)).active.values)
    assert rows[0] == (
        "Center",
        "Space",
        "Units",
        "Open hours",
        "Booked hours",
        "Utilisation",
        "Bookings",
        "Check-in rate",
        "No-show rate",
    )
    assert len(rows) == 4  # header + study, activity and rehab rooms
    assert rows[1][1] == world["study"].name and rows[1][2] == 4
    assert rows[1][3] == 4 * 14 * 31  # four seats, 08:00–22:00, every day of January
    # A range the selector refuses is shown on the form, not exported.
    bad = desk.get(f"{BASE}utilisation/?from=2026-02-01&to=2026-01-01&format=xlsx")
    assert bad.status_code == 400 and bad.context["form"].errors


@pytest.mark.django_db
def test_desk_books_for_a_resident(world, tomorrow):
    desk = console_client(world["desk"])
    resident = world["resident"]
    page = desk.get(f"{BASE}desk/?resident={resident.pk}&unit={world['activity_unit'].pk}")
    assert page.context["chosen"] == resident
    assert page.context["form"].initial["resident_id"] == resident.pk

    form = {
        "resource": world["activity_unit"].pk,
        "day": tomorrow.isoformat(),
        "starts": "10:00",
        "ends": "12:00",
    }
    response = desk.post(f"{BASE}desk/", form)
    assert response.status_code == 400 and "resident_id" in response.context["form"].errors
    response = desk.post(f"{BASE}desk/", {**form, "pass_token": "LR1.forged"})
    assert response.status_code == 400
    assert not Booking.objects.exists()

    response = desk.post(f"{BASE}desk/", {**form, "resident_id": resident.pk})
    booking = Booking.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{BASE}{booking.pk}/"
    # At the desk a room that needs approval is booked at once.
    assert booking.status == Booking.Status.CONFIRMED and booking.booked_by == world["desk"]
    assert booking.resident == resident

    # Off the slot grid: the service's refusal lands on the form.
    response = desk.post(
        f"{BASE}desk/", {**form, "starts": "13:30", "ends": "15:00", "resident_id": resident.pk}
    )
    assert response.status_code == 400 and response.context["form"].errors
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_cancel_from_the_detail_page(world, tomorrow):
    booking = services.booking_create(
        user=world["resident"].user,
        resource_id=world["seats"][0].pk,
        starts_at=local(tomorrow, 10),
        ends_at=local(tomorrow, 12),
    )
    desk = console_client(world["desk"])
    url = f"{BASE}{booking.pk}/"
    assert desk.post(url, {"action": "cancel", "cancel-reason": ""}).status_code == 400
    response = desk.post(url, {"action": "cancel", "cancel-reason": "临时闭馆"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.cancel_reason == "临时闭馆"


@pytest.mark.django_db
def test_rehab_notes_only_for_the_rooms_therapist(world, tomorrow):
    booking = Booking.objects.create(
        resource=world["therapist_unit"],
        space=world["rehab"],
        kind=Booking.Kind.RESIDENT,
        status=Booking.Status.CONFIRMED,
        starts_at=local(tomorrow, 9),
        ends_at=local(tomorrow, 9, 30),
        resident=world["resident"],
    )
    url = f"{BASE}{booking.pk}/"
    desk = console_client(world["desk"])
    page = desk.get(url)
    assert page.status_code == 200 and page.context["therapist"] is False and page.context["notes"] is None
    response = desk.post(url, {"action": "note", "text": "偷看"})
    assert response.status_code == 404  # not the room's therapist: there is no such booking for them
    assert not RehabNote.objects.exists()

    therapist = console_client(world["therapist"])
    assert therapist.get(url).context["notes"] == []
    assert therapist.post(url, {"action": "note", "text": "肩关节活动度改善"}).status_code == 302
    notes = therapist.get(url).context["notes"]
    assert [n.text for n in notes] == ["肩关节活动度改善"]


@pytest.mark.django_db
def test_rules_and_seats(world):
    desk = console_client(world["desk"])
    url = f"{BASE}spaces/{world['study'].pk}/rules/"
    form = desk.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    data.update(max_per_day=2, seats=6)
    response = desk.post(url, data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert BookingRules.objects.get(space=world["study"]).max_per_day == 2
    assert Resource.objects.filter(space=world["study"], kind="seat", is_active=True).count() == 6

    # min above max: the model's rule, shown on the form, nothing saved
    response = desk.post(url, {**data, "min_minutes": 300, "max_minutes": 120})
    assert response.status_code == 400
    assert BookingRules.objects.get(space=world["study"]).max_minutes == 240

    # A therapist room has no seats field, and saving keeps its therapists.
    rehab_url = f"{BASE}spaces/{world['rehab'].pk}/rules/"
    form = desk.get(rehab_url).context["form"]
    assert "seats" not in form.fields
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if v is not False}
    assert desk.post(rehab_url, data).status_code == 302
    assert Resource.objects.get(pk=world["therapist_unit"].pk).is_active


@pytest.mark.django_db
def test_series_preview_create_and_cancel(world, tomorrow):
    desk = console_client(world["desk"])
    org = f.OrganizationFactory()
    week2 = tomorrow + dt.timedelta(days=7)
    services.space_block(
        scope=world["scope"],
        staff=world["desk"],
        space_id=world["activity"].pk,
        starts_at=local(week2, 20),
        ends_at=local(week2, 21),
        reason="设备检修",
    )
    data = {
        "resource": world["activity_unit"].pk,
        "organization": org.pk,
        "purpose": "书法课",
        "first_date": tomorrow.isoformat(),
        "weekday": tomorrow.weekday(),
        "starts": "19:00",
        "ends": "21:00",
        "weeks": 3,
    }
    preview = desk.post(f"{BASE}series/new/", {**data, "preview": "1"})
    assert preview.status_code == 200
    assert [bool(p["problem"]) for p in preview.context["preview"]] == [False, True, False]
    assert not BookingSeries.objects.exists()

    conflict = desk.post(f"{BASE}series/new/", {**data, "create": "1"})
    assert conflict.status_code == 409 and conflict.context["preview"] is not None
    assert not BookingSeries.objects.exists()

    created = desk.post(f"{BASE}series/new/", {**data, "create": "1", "skip_conflicts": "on"})
    assert created.status_code == 302
    series = BookingSeries.objects.get()
    assert series.bookings.count() == 2 and series.organization == org
    assert Booking.objects.filter(kind=Booking.Kind.BLOCK, status=Booking.Status.CONFIRMED).count() == 1

    listing = desk.get(f"{BASE}series/")
    assert [r["coming"] for r in listing.context["rows"]] == [2]
    assert desk.post(f"{BASE}series/", {"series": series.pk, "reason": ""}).status_code == 400
    assert desk.post(f"{BASE}series/", {"series": series.pk, "reason": "课程结束"}).status_code == 302
    assert series.bookings.filter(status=Booking.Status.CANCELLED).count() == 2
