"""Refusals of the booking app, each with a stable code (docs/booking.md lists them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class BookingNotFound(NotFound):
    code = "booking_not_found"
    default_message = _("No such booking.")


class SpaceNotBookable(InvalidInput):
    code = "space_not_bookable"
    default_message = _("This space cannot be booked.")


class UnitNotBookable(InvalidInput):
    code = "unit_not_bookable"
    default_message = _("Residents cannot book this unit; choose a seat or ask the staff.")


class TimesInvalid(InvalidInput):
    code = "booking_times_invalid"
    default_message = _("The end must be after the start.")


class InThePast(InvalidInput):
    code = "booking_in_past"
    default_message = _("This time has already begun or passed.")


class TooFarAhead(InvalidInput):
    code = "booking_too_far_ahead"
    default_message = _("This day cannot be booked yet.")


class NotAligned(InvalidInput):
    code = "booking_not_aligned"
    default_message = _("Bookings start and end on the slot grid of the space.")


class TooShort(InvalidInput):
    code = "booking_too_short"
    default_message = _("This booking is shorter than the space allows.")


class TooLong(InvalidInput):
    code = "booking_too_long"
    default_message = _("This booking is longer than the space allows.")


class OutsideOpeningHours(InvalidInput):
    code = "outside_opening_hours"
    default_message = _("The space is not open for all of this time.")


class SpaceClosed(InvalidInput):
    code = "space_closed"
    default_message = _("The space is closed on this day.")


class NotEligible(PermissionDenied):
    code = "booking_not_eligible"
    default_message = _("This space is reserved for other residents.")


class Suspended(PermissionDenied):
    code = "booking_suspended"
    default_message = _("Your bookings are suspended after repeated no-shows.")


class LimitReached(Conflict):
    code = "booking_limit_reached"
    default_message = _("You have reached the booking limit of this space.")


class SlotTaken(Conflict):
    code = "slot_taken"
    default_message = _("Someone has just booked this time. Please choose another.")


class NotCancellable(Conflict):
    code = "booking_not_cancellable"
    default_message = _("This booking can no longer be cancelled.")


class CancelCutoffPassed(Conflict):
    code = "cancel_cutoff_passed"
    default_message = _("It is too late to cancel this booking.")


class CheckinNotOpen(Conflict):
    code = "checkin_not_open"
    default_message = _("Check-in opens shortly before the start.")


class CheckinClosed(Conflict):
    code = "checkin_closed"
    default_message = _("The check-in window has closed; the booking was released.")


class NothingToCheckIn(NotFound):
    code = "no_booking_to_check_in"
    default_message = _("No booking here to check in right now.")


class NotPending(Conflict):
    code = "booking_not_pending"
    default_message = _("This booking is not waiting for a decision.")


class SeriesConflicts(Conflict):
    code = "series_conflicts"
    default_message = _("Some dates of the series are already taken.")


class NotConfirmed(Conflict):
    code = "booking_not_confirmed"
    default_message = _("This booking is not confirmed.")


class ProgramReservation(Conflict):
    code = "program_reservation"
    default_message = _("This time is reserved for a course session; cancel the session under Courses.")
