"""The words of course notices (rendered in the reader's language when shown)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.notices.catalogue import register

register(
    "programs.enrolled",
    title=_("Enrolled"),
    body=_("%(who)s: %(program)s at %(center)s, first session %(when)s."),
)
register(
    "programs.waitlisted",
    title=_("On the waiting list"),
    body=_("%(who)s: %(program)s is full; you are number %(position)s on the waiting list."),
)
register(
    "programs.draw_won",
    title=_("You got a seat in the draw"),
    body=_("%(who)s: %(program)s at %(center)s, first session %(when)s."),
)
register(
    "programs.draw_waitlisted",
    title=_("Opening draw: on the waiting list"),
    body=_("%(who)s: %(program)s; the draw put you at number %(position)s on the waiting list."),
)
register(
    "programs.draw_lost",
    title=_("Opening draw: no place"),
    body=_("%(who)s: %(program)s; the seats and the waiting list were all taken in the draw."),
)
register(
    "programs.promoted",
    title=_("A seat freed up: you are enrolled"),
    body=_("%(who)s: %(program)s at %(center)s, first session %(when)s."),
)
register(
    "programs.offered",
    title=_("A seat is offered to you"),
    body=_("%(who)s: %(program)s. Accept it by %(until)s, or it goes to the next in line."),
)
register(
    "programs.offer_expired",
    title=_("Offered seat lapsed"),
    body=_("%(who)s: %(program)s; the seat was not accepted in time and went to the next in line."),
)
register(
    "programs.cancelled",
    title=_("Course cancelled"),
    body=_("%(program)s at %(center)s was cancelled. Reason: %(reason)s. Any fee paid is refunded."),
)
register(
    "programs.session_cancelled",
    title=_("Session cancelled"),
    body=_("%(program)s, %(when)s is cancelled. Reason: %(reason)s"),
)
register(
    "programs.reminder", title=_("Course reminder"), body=_("%(who)s: %(program)s, %(when)s at %(center)s.")
)
register("programs.approved", title=_("Course approved"), body=_("%(program)s at %(center)s is published."))
register(
    "programs.rejected",
    title=_("Course not approved"),
    body=_("%(program)s at %(center)s was not approved. Reason: %(reason)s"),
)
register(
    "programs.talent_approved",
    title=_("Welcome to the talent pool"),
    body=_("Your application as a talent (%(skills)s) was approved. You can now propose courses."),
)
register(
    "programs.talent_rejected",
    title=_("Talent application not approved"),
    body=_("Your application (%(skills)s) was not approved. Reason: %(reason)s"),
)
