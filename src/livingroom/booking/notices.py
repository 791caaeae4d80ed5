"""The words of booking notices (rendered in the reader's language when shown)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.notices.catalogue import register

register(
    "booking.confirmed",
    title=_("Booking confirmed"),
    body=_("%(space)s (%(unit)s), %(when)s. Show your resident pass at check-in."),
)
register(
    "booking.pending",
    title=_("Booking request received"),
    body=_("%(space)s, %(when)s: waiting for the staff's approval."),
)
register("booking.approved", title=_("Booking approved"), body=_("%(space)s (%(unit)s), %(when)s."))
register("booking.refused", title=_("Booking refused"), body=_("%(space)s, %(when)s. Reason: %(reason)s"))
register(
    "booking.cancelled_by_staff",
    title=_("Booking cancelled by the center"),
    body=_("%(space)s, %(when)s. Reason: %(reason)s"),
)
register(
    "booking.moved",
    title=_("Booking moved"),
    body=_("%(space)s, %(when)s: you now have %(unit)s. Reason: %(reason)s"),
)
register("booking.reminder", title=_("Booking reminder"), body=_("%(space)s (%(unit)s) starts at %(when)s."))
register(
    "booking.released",
    title=_("Booking released"),
    body=_("%(space)s, %(when)s was not checked in and has been released for others."),
)
register(
    "booking.suspended",
    title=_("Bookings suspended"),
    body=_("After %(count)s no-shows in %(days)s days you cannot book until %(until)s."),
)
register(
    "booking.expired",
    title=_("Booking request lapsed"),
    body=_("%(space)s, %(when)s: no decision was made before the start. Please book another time."),
)
