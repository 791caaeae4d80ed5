"""Who may call which booking endpoint, for every role, across communities.

The world: sub-district 1 holds communities c1 and c2, sub-district 2 holds c3; each community's
center has a study room with four seats (``rooms[i]``) and, in it, a pending request, a
confirmed booking, a booking whose check-in window is open now, and an organisation's weekly
series; each community also has a resident whose bookings are suspended. The resident
``resident`` lives in c1 and holds all those bookings; ``other_resident`` lives in c3. The kiosk
(``device``) stands in c1's center; ``other_device``, a kiosk of c3's center (another
sub-district), plays the kiosk's row and two rows it has no business with.

Staff see (404 otherwise): district all; the street official c1 and c2; the community worker c1;
the other community's worker c3; the center staff c2 (their center's community); the partner
c3's center (their organisation works there), and no residents. Only desk staff (community
worker, center staff) act; the others who see an object get 403 ``desk_staff_only``.

Every refusal runs inside ``unchanged()``: no row written, no booking changed. A guard test fails
when the OpenAPI schema gains a booking operation this table does not cover.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from livingroom.booking.models import (
    Booking,
    BookingRules,
    BookingSeries,
    BookingSuspension,
    Closure,
    Resource,
)
from livingroom.people.models import PassUse, StaffRole
from livingroom.places.models import OpeningHours, Space
from tests import factories as f
from tests.booking.conftest import DeviceApi, fresh_pass, local, put_booking, unchanged
from tests.conftest import Api, resident_api, staff_api
from tests.openapi import (
    OTHER_DEVICE,
    Matrix,
    Moved,
    Page,
    assert_table_covers,
    cells,
    console,
    mentioning,
    open_page,
    page_browser,
    page_key,
    page_row,
    param_cells,
    play_cell,
    play_pages,
    resident_page,
    seen,
)

STAFF = ("district", "street", "community", "other_community", "center", "partner")
RESIDENTS = ("resident", "other_resident")
ROLES = ("anonymous", *RESIDENTS, "device", *STAFF)
# A device of another center than c1's (tests/test_matrix_coverage.py wants it on every device
# operation): played on these rows only, to keep the table fast.
DEVICES = ("device", OTHER_DEVICE)
OTHER_DEVICE_ROWS = {
    ("POST", "/bookings/{booking_id}/check-in"),
    ("POST", "/bookings"),
    ("GET", "/staff/bookings"),
}
SEEN = {
    "district": {0, 1, 2},
    "street": {0, 1},
    "community": {0},
    "other_community": {2},
    "center": {1},
    "partner": {2},
}
RESIDENTS_SEEN = {**SEEN, "partner": set()}
DESK = {"community": {0}, "other_community": {2}, "center": {1}}
TARGETS = (0, 1, 2, None)  # None: an id that does not exist
MISSING_PK = 987654


@dataclass
class Mx:
    roles: dict
    residents: list  # residents[0] is "resident" (c1), residents[2] is "other_resident" (c3)
    rooms: list[Space]
    room_units: list[Resource]
    seats: list[list[Resource]]
    pending: list[Booking]
    confirmed: list[Booking]
    now_open: list[Booking]
    series: list[BookingSeries]
    suspensions: list[BookingSuspension]
    partner_org: Any
    device: DeviceApi
    other_device: DeviceApi  # a kiosk of c3's center
    day: dt.date

    def user(self, role: str):
        if role == "resident":
            return self.residents[0].user
        if role == "other_resident":
            return self.residents[2].user
        return self.roles[role]


@pytest.fixture
def mx(place, roles, tomorrow) -> Mx:
    """Built with the ORM (not the services) to keep 230 cases fast; the services' own writes are
    covered by the flow tests."""
    district = roles["district"]
    OpeningHours.objects.bulk_create(
        OpeningHours(center=center, weekday=weekday, opens=dt.time(8), closes=dt.time(22))
        for center in place["centers"]
        for weekday in range(7)
    )
    residents = [f.ResidentFactory(home_community=c) for c in place["communities"]]
    partner_org = StaffRole.objects.get(user=roles["partner"]).organization
    other_org = f.OrganizationFactory(name="社区合唱团")
    now = timezone.now()
    rooms, room_units, seats, pending, confirmed, now_open, series, suspensions = ([] for _ in range(8))
    r0 = residents[0]
    for i, center in enumerate(place["centers"]):
        room = f.SpaceFactory(center=center, name=f"自习室{i + 1}", kind=Space.Kind.STUDY, bookable=True)
        BookingRules.objects.create(space=room)
        whole = Resource.objects.create(space=room, kind="room", label=room.name, residents_may_book=False)
        units = [
            Resource.objects.create(space=room, kind="seat", label=str(n), position=n) for n in range(1, 5)
        ]
        pending.append(
            put_booking(units[0], local(tomorrow, 10), local(tomorrow, 11), resident=r0, status="pending")
        )
        confirmed.append(put_booking(units[1], local(tomorrow, 10), local(tomorrow, 12), resident=r0))
        start = now + dt.timedelta(minutes=5)
        now_open.append(put_booking(units[2], start, start + dt.timedelta(hours=1), resident=r0))
        day = tomorrow + dt.timedelta(days=2)
        org = partner_org if i == 2 else other_org
        s = BookingSeries.objects.create(
            resource=whole,
            organization=org,
            purpose="合唱排练",
            weekday=day.weekday(),
            starts=dt.time(19),
            ends=dt.time(21),
            first_date=day,
            weeks=1,
            created_by=district,
        )
        put_booking(whole, local(day, 19), local(day, 21), organization=org, series=s)
        series.append(s)
        suspensions.append(
            BookingSuspension.objects.create(
                resident=f.ResidentFactory(home_community=center.community),
                starts_at=now,
                ends_at=now + dt.timedelta(days=7),
                no_shows=3,
            )
        )
        rooms.append(room)
        room_units.append(whole)
        seats.append(units)
    device, secret = f.device_for(place["centers"][0])
    other, other_secret = f.device_for(place["centers"][2])
    return Mx(
        roles=roles,
        residents=residents,
        rooms=rooms,
        room_units=room_units,
        seats=seats,
        pending=pending,
        confirmed=confirmed,
        now_open=now_open,
        series=series,
        suspensions=suspensions,
        partner_org=partner_org,
        device=DeviceApi(device.key_id, secret),
        other_device=DeviceApi(other.key_id, other_secret),
        day=tomorrow,
    )


# --- expected answers ---------------------------------------------------------------------------------

Expect = tuple[int, str | None]  # (status, code); code None for a success


def anonymous(role: str, signed: bool = False) -> Expect | None:
    """Refusals before any rule of the endpoint: who is not signed in at all."""
    if role == "anonymous" or (role in DEVICES and not signed):
        return 401, "not_authenticated"
    return None


def public(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    return lambda role, t: (ok, None) if t is not None else (404, missing)


def resident_only(ok: int, missing: str, mine_only: bool = False) -> Callable[[str, int | None], Expect]:
    def expect(role: str, t: int | None) -> Expect:
        if (early := anonymous(role)) is not None:
            return early
        if role in STAFF:
            return 409, "profile_incomplete"  # staff have no resident profile
        if t is None or (mine_only and role != "resident"):
            return 404, missing
        return ok, None

    return expect


def staff_only(ok: int) -> Callable[[str, int | None], Expect]:
    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        return ok, None

    return expect


def staff_read(ok: int, missing: str) -> Callable[[str, int | None], Expect]:
    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        return (ok, None) if t in SEEN[role] else (404, missing)

    return expect


def staff_act(
    ok: int,
    missing: str,
    seen: dict[str, set[int]] = SEEN,
    district_acts: bool = False,
    partner: bool = False,
) -> Callable[[str, int | None], Expect]:
    """404 outside the scope, 403 desk_staff_only where the role may only look, else ``ok``."""

    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        if t is None or t not in seen[role]:
            return 404, missing
        if (
            t in DESK.get(role, set())
            or (district_acts and role == "district")
            or (partner and role == "partner")
        ):
            return ok, None
        return 403, "desk_staff_only"

    return expect


def desk_booking(role: str, t: int | None) -> Expect:
    """Partner staff never book for residents: they do not even find the unit."""
    if role not in STAFF:
        return 401, "not_authenticated"
    if t is None or t not in RESIDENTS_SEEN[role]:
        return 404, "unit_not_found"
    return (201, None) if t in DESK.get(role, set()) else (403, "desk_staff_only")


def device_only(role: str, t: int | None) -> Expect:
    """A kiosk checks in at its own center only: c1's for ``device``, c3's for ``other_device``;
    another center's booking is not found."""
    if role not in DEVICES:
        return 401, "signature_missing"
    here = 0 if role == "device" else 2
    return (200, None) if t == here else (404, "booking_not_found")


def desk_check_in(role: str, t: int | None) -> Expect:
    if role not in STAFF:
        return 401, "not_authenticated"
    return (200, None) if role in DESK else (404, "no_booking_to_check_in")


def nobody_but_the_therapist(ok: int) -> Callable[[str, int | None], Expect]:
    def expect(role: str, t: int | None) -> Expect:
        if role not in STAFF:
            return 401, "not_authenticated"
        return 404, "booking_not_found"  # no role here is a therapist of the room

    return expect


# --- checks of what a success did ---------------------------------------------------------------------


def _pk(objs: list, t: int | None) -> int:
    return MISSING_PK if t is None else objs[t].pk


def _booked(m: Mx, role: str, t: int, response) -> None:
    booking = Booking.objects.get(pk=response.json()["id"])
    assert (booking.resident, booking.resource, booking.status) == (
        m.residents[0],
        m.seats[t][3],
        "confirmed",
    )
    assert booking.booked_by == m.user(role)
    if role == "other_resident":
        assert booking.resident == m.residents[2]


def _resident_booked(m: Mx, role: str, t: int, response) -> None:
    booking = Booking.objects.get(pk=response.json()["id"])
    assert booking.resident.user == m.user(role) and booking.resource == m.seats[t][3]


def _status(objs: str, status: str, by: str | None = None) -> Callable[[Mx, str, int, Any], None]:
    def check(m: Mx, role: str, t: int, response) -> None:
        booking = getattr(m, objs)[t]
        booking.refresh_from_db()
        assert booking.status == status and response.json()["status"] == status
        if by is not None:
            assert getattr(booking, by) == m.user(role)

    return check


def _checked_in_at_desk(m: Mx, role: str, t: int | None, response) -> None:
    [i] = DESK[role]
    booking = m.now_open[i]
    booking.refresh_from_db()
    assert response.json()["id"] == booking.pk
    assert (booking.status, booking.checked_in_via) == ("checked_in", "staff")


def _blocked(m: Mx, role: str, t: int, response) -> None:
    block = Booking.objects.get(pk=response.json()["block"]["id"])
    assert (block.kind, block.resource, block.booked_by) == ("block", m.seats[t][3], m.user(role))


def _hours_set(m: Mx, role: str, t: int, response) -> None:
    from livingroom.booking.models import SpaceHours

    assert len(response.json()) == 14
    assert SpaceHours.objects.filter(space=m.rooms[t]).count() == 14


def _rules_set(m: Mx, role: str, t: int, response) -> None:
    assert BookingRules.objects.get(space=m.rooms[t]).horizon_days == 9


def _closed(m: Mx, role: str, t: int, response) -> None:
    closure = Closure.objects.get(pk=response.json()["id"])
    assert closure.center == m.rooms[t].center and closure.created_by == m.user(role)
    assert response.json()["cancelled_bookings"] == 0


def _previewed(m: Mx, role: str, t: int, response) -> None:
    assert [o["problem"] for o in response.json()] == [""]


def _series_made(m: Mx, role: str, t: int, response) -> None:
    made = BookingSeries.objects.get(pk=response.json()["id"])
    assert made.resource == m.room_units[t] and made.bookings.filter(status="confirmed").count() == 1


def _series_cancelled(m: Mx, role: str, t: int, response) -> None:
    assert response.json() == {"cancelled": 1}
    assert not m.series[t].bookings.filter(status__in=Booking.ACTIVE).exists()


def _lifted(m: Mx, role: str, t: int, response) -> None:
    suspension = m.suspensions[t]
    suspension.refresh_from_db()
    assert suspension.lifted_by == m.user(role) and suspension.lifted_at is not None


def _listed(m: Mx, role: str, t: int | None, response) -> None:
    visible = {b.pk for i in SEEN[role] for b in (m.pending[i], m.confirmed[i], m.now_open[i])}
    listed = {b["id"] for b in response.json()}
    assert listed == visible
    name = None if role == "partner" else m.residents[0].masked_name  # partners see no residents
    for row in response.json():
        assert row["resident_name_masked"] == name


def _utilisation(m: Mx, role: str, t: int | None, response) -> None:
    rows = {row["space_id"]: row for row in response.json()}
    assert set(rows) == {m.rooms[i].pk for i in SEEN[role]}
    for row in rows.values():  # 4 seats open 14 hours a day for 3 days
        assert row["units"] == 4 and row["open_hours"] == 4 * 14 * 3


def _mine(m: Mx, role: str, t: int | None, response) -> None:
    body = response.json()
    assert body["suspended_until"] is None  # the suspended residents are others
    expected = {b.pk for b in (*m.pending, *m.confirmed, *m.now_open)} if role == "resident" else set()
    assert {b["id"] for b in body["upcoming"]} == expected


def _device_checked_in(m: Mx, role: str, t: int, response) -> None:
    booking = m.now_open[t]
    booking.refresh_from_db()
    assert (booking.status, booking.checked_in_via) == ("checked_in", "device")
    kiosk = m.device if role == "device" else m.other_device
    assert PassUse.objects.get(purpose="booking.checkin").device.key_id == kiosk.key_id


def _availability(m: Mx, role: str, t: int, response) -> None:
    body = response.json()
    assert body["space_id"] == m.rooms[t].pk
    assert [u["id"] for u in body["units"]] == [u.pk for u in m.seats[t]]


# --- the table ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    method: str
    template: str  # as in the OpenAPI schema, without /api/v1
    expect: Callable[[str, int | None], Expect]
    path: Callable[[Mx, int | None], str] | None = None
    body: Callable[[Mx, int | None], dict] | None = None
    query: Callable[[Mx], dict] | None = None
    check: Callable[[Mx, str, Any, Any], None] | None = None
    targeted: bool = True

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def _span(m: Mx, hour: int) -> dict:
    return {"starts_at": local(m.day, hour).isoformat(), "ends_at": local(m.day, hour + 1).isoformat()}


def _range(m: Mx) -> dict:
    today = timezone.localdate()
    return {"from": str(today), "to": str(today + dt.timedelta(days=2))}


def _series_body(m: Mx, t: int | None) -> dict:
    day = m.day + dt.timedelta(days=3)
    return {
        "resource_id": _pk(m.room_units, t),
        "organization_id": m.partner_org.pk,
        "purpose": "书法课",
        "weekday": day.weekday(),
        "starts": "19:00",
        "ends": "21:00",
        "first_date": str(day),
        "weeks": 1,
    }


OPS: list[Op] = [
    Op(
        "GET",
        "/spaces/{space_id}/availability",
        public(200, "space_not_found"),
        path=lambda m, t: f"/spaces/{_pk(m.rooms, t)}/availability",
        check=_availability,
    ),
    Op(
        "POST",
        "/bookings",
        resident_only(201, "unit_not_found"),
        path=lambda m, t: "/bookings",
        body=lambda m, t: {"resource_id": MISSING_PK if t is None else m.seats[t][3].pk, **_span(m, 12)},
        check=_resident_booked,
    ),
    Op(
        "GET",
        "/me/bookings",
        resident_only(200, "-"),
        path=lambda m, t: "/me/bookings",
        check=_mine,
        targeted=False,
    ),
    Op(
        "POST",
        "/bookings/{booking_id}/cancel",
        resident_only(200, "booking_not_found", mine_only=True),
        path=lambda m, t: f"/bookings/{_pk(m.confirmed, t)}/cancel",
        body=lambda m, t: {"reason": "有事"},
        check=_status("confirmed", "cancelled", by="cancelled_by"),
    ),
    Op(
        "POST",
        "/bookings/{booking_id}/check-in",
        device_only,
        path=lambda m, t: f"/bookings/{_pk(m.now_open, t)}/check-in",
        body=lambda m, t: {"token": fresh_pass(m.residents[0])},
        check=_device_checked_in,
    ),
    Op(
        "GET",
        "/staff/bookings",
        staff_only(200),
        path=lambda m, t: "/staff/bookings",
        query=_range,
        check=_listed,
        targeted=False,
    ),
    Op(
        "POST",
        "/staff/bookings",
        desk_booking,
        path=lambda m, t: "/staff/bookings",
        body=lambda m, t: {
            "resource_id": MISSING_PK if t is None else m.seats[t][3].pk,
            "pass_token": fresh_pass(m.residents[0]),
            **_span(m, 14),
        },
        check=_booked,
    ),
    Op(
        "POST",
        "/staff/bookings/{booking_id}/approve",
        staff_act(200, "booking_not_found"),
        path=lambda m, t: f"/staff/bookings/{_pk(m.pending, t)}/approve",
        check=_status("pending", "confirmed", by="decided_by"),
    ),
    Op(
        "POST",
        "/staff/bookings/{booking_id}/refuse",
        staff_act(200, "booking_not_found"),
        path=lambda m, t: f"/staff/bookings/{_pk(m.pending, t)}/refuse",
        body=lambda m, t: {"reason": "场地已满"},
        check=_status("pending", "refused", by="decided_by"),
    ),
    Op(
        "POST",
        "/staff/bookings/{booking_id}/cancel",
        staff_act(200, "booking_not_found"),
        path=lambda m, t: f"/staff/bookings/{_pk(m.confirmed, t)}/cancel",
        body=lambda m, t: {"reason": "设备维修"},
        check=_status("confirmed", "cancelled", by="cancelled_by"),
    ),
    Op(
        "POST",
        "/staff/bookings/check-in",
        desk_check_in,
        path=lambda m, t: "/staff/bookings/check-in",
        body=lambda m, t: {"token": fresh_pass(m.residents[0])},
        check=_checked_in_at_desk,
        targeted=False,
    ),
    Op(
        "POST",
        "/staff/spaces/{space_id}/blocks",
        staff_act(201, "space_not_found"),
        path=lambda m, t: f"/staff/spaces/{_pk(m.rooms, t)}/blocks",
        body=lambda m, t: {
            **_span(m, 16),
            "reason": "座位维修",
            "resource_id": None if t is None else m.seats[t][3].pk,
        },
        check=_blocked,
    ),
    Op(
        "PUT",
        "/staff/spaces/{space_id}/rules",
        staff_act(200, "space_not_found", district_acts=True),
        path=lambda m, t: f"/staff/spaces/{_pk(m.rooms, t)}/rules",
        body=lambda m, t: {"horizon_days": 9},
        check=_rules_set,
    ),
    Op(
        "PUT",
        "/staff/spaces/{space_id}/hours",
        staff_act(200, "space_not_found", district_acts=True),
        path=lambda m, t: f"/staff/spaces/{_pk(m.rooms, t)}/hours",
        body=lambda m, t: {
            "periods": [{"weekday": d, "opens": "09:00", "closes": "12:00"} for d in range(7)]
            + [{"weekday": d, "opens": "13:00", "closes": "21:00"} for d in range(7)]
        },
        check=_hours_set,
    ),
    Op(
        "POST",
        "/staff/closures",
        staff_act(201, "center_not_found", district_acts=True),
        path=lambda m, t: "/staff/closures",
        body=lambda m, t: {
            "center_id": MISSING_PK if t is None else m.rooms[t].center_id,
            "starts_on": str(m.day + dt.timedelta(days=5)),
            "ends_on": str(m.day + dt.timedelta(days=5)),
            "reason": "消杀",
        },
        check=_closed,
    ),
    Op(
        "POST",
        "/staff/series/preview",
        staff_read(200, "unit_not_found"),
        path=lambda m, t: "/staff/series/preview",
        body=_series_body,
        check=_previewed,
    ),
    Op(
        "POST",
        "/staff/series",
        staff_act(201, "unit_not_found", partner=True),
        path=lambda m, t: "/staff/series",
        body=_series_body,
        check=_series_made,
    ),
    Op(
        "POST",
        "/staff/series/{series_id}/cancel",
        staff_act(200, "series_not_found", partner=True),
        path=lambda m, t: f"/staff/series/{_pk(m.series, t)}/cancel",
        body=lambda m, t: {"reason": "活动取消"},
        check=_series_cancelled,
    ),
    Op(
        "GET",
        "/staff/utilisation",
        staff_only(200),
        path=lambda m, t: "/staff/utilisation",
        query=_range,
        check=_utilisation,
        targeted=False,
    ),
    Op(
        "GET",
        "/staff/bookings/{booking_id}/rehab-notes",
        nobody_but_the_therapist(200),
        path=lambda m, t: f"/staff/bookings/{_pk(m.confirmed, t)}/rehab-notes",
    ),
    Op(
        "POST",
        "/staff/bookings/{booking_id}/rehab-notes",
        nobody_but_the_therapist(201),
        path=lambda m, t: f"/staff/bookings/{_pk(m.confirmed, t)}/rehab-notes",
        body=lambda m, t: {"text": "肩关节活动度改善"},
    ),
    Op(
        "POST",
        "/staff/suspensions/{suspension_id}/lift",
        staff_act(200, "suspension_not_found", seen=RESIDENTS_SEEN),
        path=lambda m, t: f"/staff/suspensions/{_pk(m.suspensions, t)}/lift",
        check=_lifted,
    ),
]

CASES = [pytest.param(role, op, id=f"{role}:{op}") for op in OPS for role in ROLES] + [
    pytest.param(OTHER_DEVICE, op, id=f"{OTHER_DEVICE}:{op}")
    for op in OPS
    if (op.method, op.template) in OTHER_DEVICE_ROWS
]


def client_for(role: str, m: Mx) -> Api:
    if role == "anonymous":
        return Api()
    if role == "device":
        return m.device
    if role == OTHER_DEVICE:
        return m.other_device
    return resident_api(m.user(role)) if role in RESIDENTS else staff_api(m.user(role))


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "op"), CASES)
def test_booking_api_permissions(mx, role, op):
    client = client_for(role, mx)
    targets = TARGETS if op.targeted else (0,)
    if op.expect(role, 0)[0] == 401:
        targets = (0,)  # refused before any object is looked up: one target says it all
    for target in targets:
        status, code = op.expect(role, target)
        path = op.path(mx, target)
        body = op.body(mx, target) if op.body else None

        def call(path=path, body=body):
            if op.method == "GET":
                return client.get(path, **(op.query(mx) if op.query else {}))
            return client.send(op.method, path, body)

        play_cell(
            call,
            status,
            code,
            where=target,
            guard=lambda: unchanged(ignore=("RequestNonce",) if role in DEVICES else ()),
            check=(lambda response, t=target: op.check(mx, role, t, response)) if op.check else None,
        )


@pytest.mark.django_db
def test_the_table_covers_every_booking_operation(api):
    assert_table_covers(api, mentioning("booking"), [(op.method, op.template) for op in OPS], "booking")
    assert OTHER_DEVICE_ROWS - {(op.method, op.template) for op in OPS} == set(), (
        "other_device rows that are gone"
    )


# --- beyond the table ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_partner_staff_act_only_for_their_own_organisation(mx):
    """A partner may create a series at their center only in their organisation's name."""
    partner = staff_api(mx.roles["partner"])
    body = {**_series_body(mx, 2), "organization_id": f.OrganizationFactory().pk}
    with unchanged():
        response = partner.post("/staff/series", body)
    assert response.status_code == 403 and response.json()["code"] == "desk_staff_only"
    with unchanged():
        response = partner.post("/staff/series", {**_series_body(mx, 2), "organization_id": None})
    assert response.status_code == 403


@pytest.mark.django_db
def test_staff_filters_cannot_widen_the_scope(mx):
    worker = staff_api(mx.roles["community"])
    for center in (mx.rooms[1].center_id, mx.rooms[2].center_id):
        assert worker.get("/staff/bookings", center=center, **_range(mx)).json() == []
        assert worker.get("/staff/utilisation", center=center, **_range(mx)).json() == []
    listed = worker.get(
        "/staff/bookings", center=mx.rooms[0].center_id, status="pending", **_range(mx)
    ).json()
    assert [b["id"] for b in listed] == [mx.pending[0].pk]


@pytest.mark.django_db
def test_partner_staff_see_no_residents_in_the_booking_list(mx):
    rows = staff_api(mx.roles["partner"]).get("/staff/bookings", **_range(mx)).json()
    assert rows, "the partner sees the bookings at their center"
    assert all(row["resident_name_masked"] is None for row in rows), rows


@pytest.mark.django_db
def test_a_resident_token_never_reaches_the_staff_api_even_for_staff(mx):
    """A member of staff who also has a resident token acts as a resident only."""
    from livingroom.people.models import ApiToken
    from livingroom.people.services import api_token_issue

    raw, _ = api_token_issue(user=mx.roles["community"], kind=ApiToken.Kind.RESIDENT)
    with unchanged():
        response = Api(raw).post(f"/staff/bookings/{mx.pending[0].pk}/approve")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_the_kiosk_needs_a_valid_signature(mx):
    booking = mx.now_open[0]
    path = f"/bookings/{booking.pk}/check-in"
    body = {"token": fresh_pass(mx.residents[0])}
    wrong = DeviceApi(mx.device.key_id, "not-the-secret")
    unknown = DeviceApi("dk_unknown", mx.device.secret)
    with unchanged():
        assert wrong.post(path, body).json()["code"] == "signature_invalid"
        assert unknown.post(path, body).json()["code"] == "device_unknown"
    # A signed request for another path does not check this booking in.
    import json

    from livingroom.core import signing

    raw = json.dumps(body).encode()
    headers = signing.signed_headers(
        mx.device.secret, mx.device.key_id, "POST", f"/api/v1/bookings/{MISSING_PK}/x", raw
    )
    with unchanged():
        response = Api().send("POST", path, raw=raw, headers=headers)
    assert response.status_code == 401 and response.json()["code"] == "signature_invalid"
    booking.refresh_from_db()
    assert booking.status == "confirmed"


# --- pages ---------------------------------------------------------------------------------------------

PAGE_ROLES = ("anonymous", *RESIDENTS, *STAFF)


def _space(m: Mx, t: int) -> str:
    return f"/spaces/{m.rooms[t].pk}/"


PAGES: list[Page] = [
    page_row("GET", "spaces/<id:space_id>/", open_page(200), _space, True),
    # An empty form: refused back to the space's page, whoever asks.
    page_row(
        "POST",
        "spaces/<id:space_id>/book/",
        resident_page(Moved("/spaces/", refused=True), staff=Moved("/spaces/", refused=True)),
        lambda m, t: f"{_space(m, t)}book/",
        True,
    ),
    page_row(
        "GET",
        "spaces/<id:space_id>/check-in/",
        resident_page(200, staff=200),
        lambda m, t: f"{_space(m, t)}check-in/",
        True,
    ),
    page_row(
        "GET",
        "spaces/<id:space_id>/poster/",
        console(seen(SEEN)),
        lambda m, t: f"{_space(m, t)}poster/",
        True,
    ),
    page_row("GET", "me/bookings/", resident_page(200), lambda m, t: "/me/bookings/"),
    # The resident's own booking; the other resident finds nothing; staff hold no bookings.
    page_row(
        "POST",
        "me/bookings/<id:booking_id>/cancel/",
        resident_page(Moved("/me/bookings/"), other=404, staff=Moved("/me/bookings/", refused=True)),
        lambda m, t: f"/me/bookings/{m.confirmed[t].pk}/cancel/",
        True,
    ),
    page_row(
        "GET",
        "me/bookings/<id:booking_id>/calendar.ics",
        resident_page(200, other=404),
        lambda m, t: f"/me/bookings/{m.confirmed[t].pk}/calendar.ics",
        True,
    ),
    page_row("GET", "console/bookings/", console(), lambda m, t: "/console/bookings/"),
    page_row(
        "GET",
        "console/bookings/calendar/<id:center_id>/",
        console(seen(SEEN)),
        lambda m, t: f"/console/bookings/calendar/{m.rooms[t].center_id}/",
        True,
    ),
    page_row("GET", "console/bookings/requests/", console(), lambda m, t: "/console/bookings/requests/"),
    page_row(
        "GET",
        "console/bookings/<id:booking_id>/",
        console(seen(SEEN)),
        lambda m, t: f"/console/bookings/{m.pending[t].pk}/",
        True,
    ),
    *(
        page_row(
            "GET",
            f"console/bookings/spaces/<id:space_id>/{what}/",
            console(seen(SEEN)),
            lambda m, t, what=what: f"/console/bookings/spaces/{m.rooms[t].pk}/{what}/",
            True,
        )
        for what in ("block", "rules", "hours")
    ),
    page_row(
        "GET",
        "console/bookings/centers/<id:center_id>/closures/",
        console(seen(SEEN)),
        lambda m, t: f"/console/bookings/centers/{m.rooms[t].center_id}/closures/",
        True,
    ),
    *(
        page_row(
            "GET",
            f"console/bookings/{what}/",
            console(),
            lambda m, t, what=what: f"/console/bookings/{what}/",
        )
        for what in ("desk", "utilisation", "series", "series/new")
    ),
]


@pytest.mark.django_db
def test_booking_pages_for_every_role(mx):
    play_pages(mx, PAGES, PAGE_ROLES, lambda role: page_browser(role, mx.user, RESIDENTS), guard=unchanged)


MATRIX = Matrix(
    api_roles=ROLES,
    api_cells=param_cells(CASES, lambda op: (op.method, op.template)),
    page_roles=PAGE_ROLES,
    page_cells=cells(PAGES, PAGE_ROLES, page_key),
    devices_elsewhere=(OTHER_DEVICE,),
)
