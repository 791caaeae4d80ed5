"""Refusals of the volunteering app, each with a stable code (docs/volunteering.md lists them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class ActivityNotFound(NotFound):
    code = "activity_not_found"
    default_message = _("No such volunteer activity.")


class ShiftNotFound(NotFound):
    code = "shift_not_found"
    default_message = _("No such shift.")


class SignupNotFound(NotFound):
    code = "signup_not_found"
    default_message = _("No such sign-up.")


class CorrectionNotFound(NotFound):
    code = "correction_not_found"
    default_message = _("No such correction request.")


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    default_message = _("No certificate has this number or code.")


class NotVolunteer(PermissionDenied):
    code = "not_a_volunteer"
    default_message = _("Please register as a volunteer first.")


class AlreadyVolunteer(Conflict):
    code = "already_a_volunteer"
    default_message = _("You are already registered as a volunteer.")


class VolunteerSuspended(PermissionDenied):
    code = "volunteer_suspended"
    default_message = _("Your volunteer registration is suspended; please ask the center's staff.")


class ConsentRequired(InvalidInput):
    code = "consent_required"
    default_message = _("Please agree to the volunteer service terms and how your data is used.")


class NotOrganizerHere(PermissionDenied):
    code = "not_an_organizer_here"
    default_message = _("You cannot organise volunteer activities at this center.")


class ActivityNotOpen(Conflict):
    code = "activity_not_open"
    default_message = _("This activity is not open for sign-up.")


class ShiftFull(Conflict):
    code = "shift_full"
    default_message = _("This shift already has all the volunteers it needs.")


class ShiftStarted(Conflict):
    code = "shift_started"
    default_message = _("This shift has already started.")


class ShiftCancelled(Conflict):
    code = "shift_cancelled"
    default_message = _("This shift has been cancelled.")


class AlreadySignedUp(Conflict):
    code = "already_signed_up"
    default_message = _("You have already signed up for this shift.")


class NotInAudience(PermissionDenied):
    code = "not_in_audience"
    default_message = _("This activity is for other volunteers: %(why)s.")


class NotSignedUp(Conflict):
    code = "not_signed_up"
    default_message = _("This volunteer has not signed up for this shift.")


class CheckInClosed(Conflict):
    code = "check_in_closed"
    default_message = _("Check-in is open from 30 minutes before the shift until it ends.")


class NotCheckedIn(Conflict):
    code = "not_checked_in"
    default_message = _("Check in first.")


class AlreadyCheckedOut(Conflict):
    code = "already_checked_out"
    default_message = _("Already checked out of this shift.")


class ShiftNotEnded(Conflict):
    code = "shift_not_ended"
    default_message = _("Hours can be confirmed once the shift has ended.")


class HoursAlreadyConfirmed(Conflict):
    code = "hours_already_confirmed"
    default_message = _("The hours of this shift are already confirmed.")


class HoursTooLong(InvalidInput):
    code = "hours_too_long"
    default_message = _("%(minutes)s minutes is longer than the shift (%(shift)s minutes).")


class HoursInvalid(InvalidInput):
    code = "hours_invalid"
    default_message = _("The minutes served must be a whole number from 1 to the shift's length.")


class ReasonRequired(InvalidInput):
    code = "reason_required"
    default_message = _("Please give a reason.")


class CorrectionOpen(Conflict):
    code = "correction_already_open"
    default_message = _("A correction for this shift is already waiting for an answer.")


class CorrectionDecided(Conflict):
    code = "correction_already_decided"
    default_message = _("This correction request has already been answered.")


class NothingToCertify(Conflict):
    code = "nothing_to_certify"
    default_message = _("There are no confirmed service hours in this period.")


class ShiftInvalid(InvalidInput):
    code = "shift_invalid"
    default_message = _("This shift is not valid: %(why)s.")


class ActivityInvalid(InvalidInput):
    code = "activity_invalid"
    default_message = _("This activity is not valid: %(why)s.")
