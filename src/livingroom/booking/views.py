"""Resident pages: a space's free slots and booking, my bookings, check-in at the door, messages."""

from __future__ import annotations

import datetime as dt

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from icalendar import Calendar, Event

from livingroom.booking import selectors, services
from livingroom.booking.calendar import FIRST_YEAR, LAST_YEAR, active_suspension, parse_day
from livingroom.core.errors import DomainError
from livingroom.core.permissions import resident_required, staff_required, staff_scope_of
from livingroom.people.selectors import resident_of

DAYS_SHOWN = 8


def space_page(request: HttpRequest, space_id: int) -> HttpResponse:
    """Free slots of one day, and the booking form (start, length, seat)."""
    space = selectors.bookable_space(space_id)
    today = timezone.localdate()
    day = parse_day(request.GET.get("day")) or today
    last = today + dt.timedelta(days=DAYS_SHOWN - 1)
    day = min(max(day, today), last)
    availability = selectors.space_availability(space, day, day)
    the_day = availability.days[0]
    rules = availability.rules
    resident = resident_of(request.user) if request.user.is_authenticated else None  # type: ignore[arg-type]
    seated = any(not u.whole_space for u in availability.units)
    open_slots = [s for s in the_day.slots if s.bookable and s.free]
    context = {
        "space": space,
        "center": space.center,
        "rules": rules,
        "day": the_day,
        "days": [today + dt.timedelta(days=i) for i in range(DAYS_SHOWN)],
        "selected_day": day,
        "units": availability.units,
        "seated": seated,
        "open_slots": open_slots,
        "durations": list(range(rules.min_minutes, rules.max_minutes + 1, rules.slot_minutes)),
        "resident": resident,
        "eligible": selectors.may_book(space, resident),
        "suspension": active_suspension(resident) if resident else None,
        "opens_for_booking_at": the_day.opens_for_booking_at,
    }
    return render(request, "booking/space.html", context)


@resident_required
@require_POST
def book(request: HttpRequest, space_id: int) -> HttpResponse:
    space = selectors.bookable_space(space_id)
    back = reverse("booking:space", args=[space.pk]) + f"?day={request.POST.get('day', '')}"
    try:
        starts_at = dt.datetime.fromisoformat(request.POST.get("starts_at", ""))
        minutes = int(request.POST.get("minutes", "0"))
    except ValueError:
        messages.error(request, _("Choose a start time and a length."))
        return redirect(back)
    if (
        timezone.is_naive(starts_at)
        or not 0 < minutes <= 24 * 60
        or not FIRST_YEAR <= starts_at.year <= LAST_YEAR
    ):
        messages.error(request, _("Choose a start time and a length."))
        return redirect(back)
    ends_at = starts_at + dt.timedelta(minutes=minutes)
    unit_value = request.POST.get("unit", "any")
    resource_id = None
    if unit_value != "any":
        try:
            resource_id = int(unit_value)
        except ValueError:
            messages.error(request, _("Choose a seat."))
            return redirect(back)
    try:
        booking = services.booking_create(
            user=request.user,  # type: ignore[arg-type]
            starts_at=starts_at,
            ends_at=ends_at,
            purpose=request.POST.get("purpose", "")[:200],
            resource_id=resource_id,
            space_id=space.pk,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if booking.status == booking.Status.PENDING:
        messages.success(request, _("Request sent. The center will confirm it; you will get a message."))
    else:
        messages.success(request, _("Booked. Show your resident pass at check-in."))
    return redirect("booking:mine")


@resident_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    resident = resident_of(request.user)  # type: ignore[arg-type]
    if resident is None:
        return redirect("people:profile")
    now = timezone.now()
    return render(
        request,
        "booking/my_bookings.html",
        {
            "upcoming": selectors.upcoming_bookings(resident, now),
            "past": selectors.past_bookings(resident, now),
            "suspension": active_suspension(resident, now),
            "now": now,
        },
    )


@resident_required
@require_POST
def cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    try:
        services.booking_cancel(user=request.user, booking_id=booking_id)  # type: ignore[arg-type]
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Booking cancelled."))
    return redirect("booking:mine")


@resident_required
def booking_ics(request: HttpRequest, booking_id: int) -> HttpResponse:
    """The booking as a calendar event, for the phone's calendar."""
    resident = resident_of(request.user)  # type: ignore[arg-type]
    if resident is None:
        return redirect("people:profile")
    booking = selectors.booking_of_resident(resident, booking_id)
    cal = Calendar()
    cal.add("prodid", "-//Living Room//booking//ZH")
    cal.add("version", "2.0")
    event = Event()
    event.add("uid", f"booking-{booking.pk}@livingroom")
    event.add("summary", f"{booking.space.name} · {booking.resource.label}")
    event.add("location", f"{booking.space.center.name} {booking.space.center.address}".strip())
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("dtstamp", timezone.now())
    event.add("description", _("Show your resident pass at check-in."))
    cal.add_component(event)
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="booking-{booking.pk}.ics"'
    return response


@resident_required
def door_check_in(request: HttpRequest, space_id: int) -> HttpResponse:
    """The QR code at the door of a space leads here; one tap checks the resident in."""
    space = selectors.bookable_space(space_id)
    key = request.GET.get("k", "") or request.POST.get("k", "")
    if request.method == "POST":
        try:
            services.booking_check_in_by_space_qr(user=request.user, space_id=space.pk, key=key)  # type: ignore[arg-type]
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(reverse("booking:door", args=[space.pk]) + f"?k={key}")
        messages.success(request, _("Checked in. Welcome!"))
        return redirect("booking:mine")
    return render(request, "booking/door.html", {"space": space, "key": key})


@staff_required
def door_poster(request: HttpRequest, space_id: int) -> HttpResponse:
    """A printable poster with the space's check-in code, for the door."""
    space = selectors.staff_space(staff_scope_of(request), space_id)
    url = (
        request.build_absolute_uri(reverse("booking:door", args=[space.pk]))
        + "?k="
        + services.space_qr_value(space)
    )
    svg = segno.make(url, error="m").svg_inline(scale=8, dark="#111", light="#fff")
    return render(request, "booking/poster.html", {"space": space, "qr_svg": svg, "url": url})
