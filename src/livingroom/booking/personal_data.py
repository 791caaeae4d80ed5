"""What booking holds about a resident, for their data download and their erasure (registered
with ``people.personal_data`` in ``BookingConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from livingroom.booking import services
from livingroom.booking.models import Booking, BookingSuspension, RehabNote
from livingroom.core.audit import audit_log
from livingroom.people.models import Resident
from livingroom.people.personal_data import register

ERASED_REASON = "account erased at the resident's request"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export(resident: Resident) -> dict[str, Any]:
    bookings = Booking.objects.filter(resident=resident).select_related("space__center", "resource")
    notes = RehabNote.objects.filter(booking__resident=resident).order_by("created_at", "id")
    return {
        "bookings": [
            {
                "id": b.pk,
                "center": b.space.center.name,
                "space": b.space.name,
                "unit": b.resource.label,
                "starts_at": _iso(b.starts_at),
                "ends_at": _iso(b.ends_at),
                "status": b.status,
                "purpose": b.purpose,
                "created_at": _iso(b.created_at),
                "checked_in_at": _iso(b.checked_in_at),
                "cancelled_at": _iso(b.cancelled_at),
            }
            for b in bookings.order_by("starts_at", "id")
        ],
        "suspensions": [
            {"starts_at": _iso(s.starts_at), "ends_at": _iso(s.ends_at), "no_shows": s.no_shows}
            for s in BookingSuspension.objects.filter(resident=resident).order_by("starts_at", "id")
        ],
        # The resident's own health data: what their therapist wrote after each session.
        "rehab_notes": [
            {"booking": n.booking_id, "written_at": _iso(n.created_at), "text": n.text} for n in notes
        ],
    }


def erase(resident: Resident) -> dict[str, int]:
    """Future bookings are cancelled (the seat or room is free again at once); the purposes a
    resident typed are removed. Rehabilitation notes stay, encrypted, for the therapists' record
    (docs/personal-data.md)."""
    now = timezone.now()
    waiting = (Booking.Status.PENDING, Booking.Status.CONFIRMED)
    cancelled = 0
    due = Booking.objects.filter(resident=resident, status__in=waiting, starts_at__gt=now)
    for booking_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic(durable=True):
            booking = (
                Booking.objects.select_for_update(of=("self",))
                .filter(pk=booking_id, status__in=waiting)
                .first()
            )
            if booking is None:
                continue
            services._set_cancelled(booking, by=None, reason=ERASED_REASON, now=now)
            audit_log("booking.booking.cancelled", obj=booking, data={"by": "erasure"})
            cancelled += 1
    with transaction.atomic(durable=True):
        purposes = Booking.objects.filter(resident=resident).exclude(purpose="").update(purpose="")
    return {"bookings_cancelled": cancelled, "purposes_removed": purposes}


register("booking", export=export, erase=erase)
