"""Refusals of the programs app, each with a stable code (docs/programs.md lists them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class ProgramNotFound(NotFound):
    code = "program_not_found"
    default_message = _("No such course or activity.")


class SessionNotFound(NotFound):
    code = "session_not_found"
    default_message = _("No such session.")


class EnrollmentNotFound(NotFound):
    code = "enrollment_not_found"
    default_message = _("No such enrolment.")


class TalentNotFound(NotFound):
    code = "talent_not_found"
    default_message = _("No such talent application.")


class ProgramCancelled(Conflict):
    code = "program_cancelled"
    default_message = _("This course has been cancelled.")


class ProgramNotPublished(Conflict):
    code = "program_not_published"
    default_message = _("This course is not open for enrolment.")


class EnrollmentNotOpen(Conflict):
    code = "enrollment_not_open"
    default_message = _("Enrolment opens at %(opens_at)s.")


class EnrollmentClosed(Conflict):
    code = "enrollment_closed"
    default_message = _("Enrolment for this course has closed.")


class AlreadyEnrolled(Conflict):
    code = "already_enrolled"
    default_message = _("Already signed up for this course.")


class NotInAudience(PermissionDenied):
    code = "not_in_audience"
    default_message = _("This course is for another audience: %(why)s.")


class WaitlistFull(Conflict):
    code = "waitlist_full"
    default_message = _("The course is full and so is its waiting list.")


class NotCancellable(Conflict):
    code = "enrollment_not_cancellable"
    default_message = _("This enrolment cannot be cancelled any more.")


class CancelCutoffPassed(Conflict):
    code = "cancel_cutoff_passed"
    default_message = _("The time to cancel has passed; please tell the center's staff.")


class NoOffer(Conflict):
    code = "no_offer"
    default_message = _("There is no seat offered to accept, or the offer has lapsed.")


class PriceAboveWelfareShare(InvalidInput):
    code = "price_above_welfare_share"
    default_message = _(
        "A public-welfare course may charge at most %(share)s%% of the market price (¥%(max)s)."
    )


class PriceAboveMarket(InvalidInput):
    code = "price_above_market"
    default_message = _("The price charged cannot be above the market price.")


class CapacityBelowEnrolled(Conflict):
    code = "capacity_below_enrolled"
    default_message = _("%(taken)s seats are already taken; the capacity cannot be lower.")


class WaitlistBelowWaiting(Conflict):
    code = "waitlist_below_waiting"
    default_message = _("%(waiting)s people are on the waiting list; it cannot be shorter.")


class NotDecidable(Conflict):
    code = "program_not_pending"
    default_message = _("Only a course waiting for approval can be approved or refused.")


class SessionNotToday(Conflict):
    code = "session_not_today"
    default_message = _("Attendance is taken on the day of the session.")


class NotEnrolled(NotFound):
    code = "not_enrolled"
    default_message = _("This person is not enrolled in this course.")


class SessionCancelled(Conflict):
    code = "session_cancelled"
    default_message = _("This session has been cancelled.")


class NotTalent(PermissionDenied):
    code = "not_an_approved_talent"
    default_message = _("Only approved talents can propose courses.")


class NotAttended(Conflict):
    code = "rating_not_open"
    default_message = _("You can rate a course after taking part in a session.")


class AlreadyRated(Conflict):
    code = "already_rated"
    default_message = _("You have already rated this course.")


class TalentPending(Conflict):
    code = "talent_application_open"
    default_message = _("You already have an application or approval as a talent.")


class PaymentInvalid(InvalidInput):
    code = "payment_invalid"
    default_message = _("This payment cannot be recorded: %(why)s.")
