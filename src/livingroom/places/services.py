"""State changes of places: spaces, facilities, opening hours, devices."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from livingroom.core.audit import audit_log
from livingroom.core.errors import InvalidInput, PermissionDenied
from livingroom.core.scopes import StaffScope
from livingroom.places import errors
from livingroom.places.models import CalendarDay, Center, Device, Facility, OpeningHours, Space


def space_create(
    *,
    center: Center,
    name: str,
    kind: str,
    area_m2: Decimal | str | float,
    floor: int = 1,
    capacity: int | None = None,
    bookable: bool = False,
    is_office: bool | None = None,
    opened_on: dt.date | None = None,
    closed_on: dt.date | None = None,
    description: str = "",
    actor: Any = None,
) -> Space:
    """Adds a space. Offices and storage count as office area unless told otherwise."""
    if kind not in Space.Kind.values:
        raise errors.InvalidSpace(field="kind")
    try:
        area = Decimal(str(area_m2)).quantize(Decimal("0.1"))
    except InvalidOperation:
        raise errors.InvalidSpace(field="area_m2") from None
    if area <= 0 or area > 100000:
        raise errors.InvalidSpace(field="area_m2")
    office = kind in Space.OFFICE_KINDS if is_office is None else is_office
    if office and bookable:
        raise errors.InvalidSpace(field="bookable")
    if opened_on and closed_on and closed_on <= opened_on:
        raise errors.InvalidSpace(field="closed_on")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise errors.InvalidSpace(field="name")
    with transaction.atomic():
        space = Space.objects.create(
            center=center,
            name=name,
            kind=kind,
            area_m2=area,
            floor=floor,
            capacity=capacity,
            bookable=bookable,
            is_office=office,
            opened_on=opened_on,
            closed_on=closed_on,
            description=description,
        )
        audit_log(
            "places.space.created",
            actor=actor,
            obj=space,
            data={"center": center.pk, "kind": kind, "area_m2": str(area), "is_office": office},
        )
    return space


def space_close(*, space: Space, on: dt.date, actor: Any = None) -> Space:
    """Takes a space out of use from ``on`` (e.g. an office turned into a study room)."""
    if space.opened_on and on <= space.opened_on:
        raise errors.InvalidSpace(field="closed_on")
    with transaction.atomic():
        Space.objects.filter(pk=space.pk).update(closed_on=on)
        space.closed_on = on
        audit_log("places.space.closed", actor=actor, obj=space, data={"closed_on": on.isoformat()})
    return space


def facility_add(
    *, center: Center, kind: str, name: str = "", quantity: int = 1, location: str = "", actor: Any = None
) -> Facility:
    if kind not in Facility.Kind.values:
        raise InvalidInput(code="invalid_facility_kind", field="kind")
    if quantity < 1:
        raise InvalidInput(code="invalid_quantity", field="quantity")
    with transaction.atomic():
        facility = Facility.objects.create(
            center=center, kind=kind, name=name, quantity=quantity, location=location
        )
        audit_log("places.facility.created", actor=actor, obj=facility, data={"kind": kind})
    return facility


def facility_set_status(*, facility: Facility, status: str, actor: Any = None) -> Facility:
    if status not in Facility.Status.values:
        raise InvalidInput(code="invalid_status", field="status")
    with transaction.atomic():
        old = facility.status
        Facility.objects.filter(pk=facility.pk).update(status=status)
        facility.status = status
        audit_log(
            "places.facility.status_changed", actor=actor, obj=facility, data={"from": old, "to": status}
        )
    return facility


def center_set_opening_hours(
    *, center: Center, periods: list[tuple[int, dt.time, dt.time]], actor: Any = None
) -> None:
    """Replaces a center's weekly opening hours with ``(weekday, opens, closes)`` periods."""
    for weekday, opens, closes in periods:
        if not 0 <= weekday <= 6 or closes <= opens:
            raise errors.InvalidHours()
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, opens, closes in sorted(periods):
        previous = by_day.setdefault(weekday, [])
        if previous and opens < previous[-1][1]:
            raise errors.InvalidHours(code="overlapping_opening_hours")
        previous.append((opens, closes))
    with transaction.atomic():
        OpeningHours.objects.filter(center=center).delete()
        OpeningHours.objects.bulk_create(
            [OpeningHours(center=center, weekday=w, opens=o, closes=c) for w, o, c in periods]
        )
        audit_log("places.center.hours_set", actor=actor, obj=center, data={"periods": len(periods)})


def device_register(*, center: Center, kind: str, name: str, actor: Any = None) -> tuple[Device, str]:
    """Registers a device and returns it with its secret (shown once, stored encrypted)."""
    if kind not in Device.Kind.values:
        raise InvalidInput(code="invalid_device_kind", field="kind")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        device = Device.objects.create(center=center, kind=kind, name=(name or kind)[:100], secret=secret)
        audit_log(
            "places.device.registered", actor=actor, obj=device, data={"center": center.pk, "kind": kind}
        )
    return device, secret


def device_touch(*, device: Device) -> None:
    now = timezone.now()
    if device.last_seen_at is None or now - device.last_seen_at > dt.timedelta(minutes=1):
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)


def _calendar_keeper(scope: StaffScope) -> None:
    if not scope.district:
        raise PermissionDenied(_("The working-day calendar is kept by district officials."))


def calendar_day_set(
    *, scope: StaffScope, day: dt.date, kind: str, name: str = "", actor: Any = None
) -> CalendarDay:
    """Marks a public holiday or a make-up working day (调休) in the district's calendar."""
    _calendar_keeper(scope)
    if kind not in CalendarDay.Kind.values:
        raise InvalidInput(field="kind")
    with transaction.atomic(durable=True):
        entry, _created = CalendarDay.objects.update_or_create(
            date=day, defaults={"kind": kind, "name": " ".join(name.split())[:60]}
        )
        audit_log(
            "places.calendar_day.set", actor=actor, obj=entry, data={"date": day.isoformat(), "kind": kind}
        )
    return entry


def calendar_day_remove(*, scope: StaffScope, day: dt.date, actor: Any = None) -> bool:
    _calendar_keeper(scope)
    with transaction.atomic(durable=True):
        deleted, _rows = CalendarDay.objects.filter(date=day).delete()
        if deleted:
            audit_log("places.calendar_day.removed", actor=actor, data={"date": day.isoformat()})
    return bool(deleted)
