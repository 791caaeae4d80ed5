"""The console pages for a space's own opening hours and a center's closures."""

from __future__ import annotations

import datetime as dt

import pytest

from livingroom.booking.models import Booking, Closure, SpaceHours
from tests.booking.conftest import local, put_booking
from tests.conftest import console_client

pytestmark = pytest.mark.django_db


def test_desk_staff_set_a_lunch_break_and_go_back_to_the_centers_hours(world):
    client = console_client(world["desk"])
    url = f"/console/bookings/spaces/{world['study'].pk}/hours/"
    assert client.get(url).status_code == 200
    form = {f"d{d}_1_opens": "09:00" for d in range(7)} | {f"d{d}_1_closes": "12:00" for d in range(7)}
    form |= {f"d{d}_2_opens": "14:00" for d in range(5)} | {f"d{d}_2_closes": "18:00" for d in range(5)}
    response = client.post(url, form)
    assert response.status_code == 302
    assert SpaceHours.objects.filter(space=world["study"]).count() == 12
    # Half a period is an error on the page; nothing changes.
    response = client.post(url, {**form, "d6_2_opens": "15:00"})
    assert response.status_code == 400 and SpaceHours.objects.filter(space=world["study"]).count() == 12
    assert client.post(url, {"use_center_hours": "on"}).status_code == 302
    assert not SpaceHours.objects.filter(space=world["study"]).exists()


def test_a_closure_cancels_that_days_bookings(world, roles, tomorrow):
    booking = put_booking(
        world["seats"][0], local(tomorrow, 10), local(tomorrow, 12), resident=world["resident"]
    )
    client = console_client(world["desk"])
    url = f"/console/bookings/centers/{world['center'].pk}/closures/"
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"starts_on": tomorrow, "ends_on": tomorrow, "reason": "国庆节闭馆", "space": ""}
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.cancel_reason == "国庆节闭馆"
    page = client.get(url).content.decode()
    assert "国庆节闭馆" in page


def test_another_communitys_worker_finds_neither_page(world, roles):
    client = console_client(roles["other_community"])
    assert client.get(f"/console/bookings/spaces/{world['study'].pk}/hours/").status_code == 404
    assert client.get(f"/console/bookings/centers/{world['center'].pk}/closures/").status_code == 404
    response = client.post(
        f"/console/bookings/centers/{world['center'].pk}/closures/",
        {"starts_on": dt.date.today(), "ends_on": dt.date.today(), "reason": "x"},
    )
    assert response.status_code == 404 and not Closure.objects.exists()


def test_look_only_officials_cannot_close(world, roles):
    client = console_client(roles["street"])
    url = f"/console/bookings/centers/{world['center'].pk}/closures/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"starts_on": dt.date.today(), "ends_on": dt.date.today(), "reason": "x"})
    assert response.status_code == 403 and not Closure.objects.exists()
