"""Refusals of the programs app, each with a stable code (docs/programs.md lists them)."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
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


# Words for the refusals the services raise with a plain code (pages and the API show them).
MESSAGES: dict[str, Promise] = {
    "title_required": _("Give the course a title (at most 100 characters)."),
    "description_too_long": _("The description is too long (at most 4,000 characters)."),
    "invalid_category": _("Choose a category."),
    "invalid_capacity": _("Seats: from 1 to %(max)s."),
    "invalid_waitlist_size": _("Waiting-list places: from 0 to %(max)s."),
    "invalid_price": _("Enter a price from ¥0.00 to ¥100,000.00."),
    "invalid_age": _("Ages from 0 to 120, the oldest not below the youngest."),
    "invalid_eligibility": _("Choose groups from the list."),
    "community_not_found": _("One of the communities chosen does not exist."),
    "invalid_fair_seconds": _("The opening draw lasts from 0 to %(max)s seconds."),
    "invalid_promotion": _("Choose what happens when a seat frees."),
    "invalid_offer_hours": _("From 1 to 72 hours."),
    "invalid_cancel_cutoff": _("From 0 to 336 hours (two weeks)."),
    "invalid_sessions": _("A course has from 1 to %(max)s sessions."),
    "invalid_date": _("This date is outside the years the calendar covers."),
    "session_times_invalid": _("A session lasts from 15 minutes to 12 hours."),
    "session_in_past": _("This session starts in the past."),
    "space_not_found": _("Choose a space of the course's center."),
    "sessions_overlap": _("Two sessions overlap."),
    "enrollment_window_invalid": _(
        "Enrolment must close after it opens, in the future, and no later than the last session starts."
    ),
    "invalid_series": _("From 1 to 52 weeks; sessions of 15 minutes to 12 hours."),
    "organization_not_found": _("Choose an organisation that works at this center."),
    "not_a_provider_here": _(
        "You may propose courses at a center where you work at the desk, or for your organisation."
    ),
    "center_not_found": _("Choose a center."),
    "reason_required": _("Give a reason."),
    "marks_required": _("There is nobody to mark."),
    "desk_staff_only": _("Only the community's desk staff can do this."),
    "participants_required": _("Choose who takes part."),
    "party_too_large": _("At most %(max)s people can sign up together."),
    "invalid_rating": _("Rate from 1 to 5 stars."),
    "comment_too_long": _("The comment is too long (at most 500 characters)."),
    "invalid_talent_kind": _("Choose arts or professional."),
    "skills_required": _("Name your skills (at most 200 characters)."),
    "bio_required": _("Write a short bio (at most 1,000 characters)."),
    "nothing_to_change": _("Give the new number of seats or waiting-list places."),
}


def invalid(*, code: str, field: str | None = None, **params: Any) -> InvalidInput:
    return InvalidInput(MESSAGES.get(code), code=code, field=field, **params)


def not_found(*, code: str, field: str | None = None, **params: Any) -> NotFound:
    return NotFound(MESSAGES.get(code), code=code, field=field, **params)


def denied(*, code: str, field: str | None = None, **params: Any) -> PermissionDenied:
    return PermissionDenied(MESSAGES.get(code), code=code, field=field, **params)
