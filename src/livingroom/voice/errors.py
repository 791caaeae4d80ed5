"""Refusals of residents' voice, each with a stable code (docs/voice.md lists them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied


class VoiceError(DomainError):
    """Marker base: every refusal below is one of the core kinds as well."""


class SurveyNotFound(NotFound, VoiceError):
    code = "survey_not_found"
    default_message = _("No such survey.")


class SurveyClosed(Conflict, VoiceError):
    code = "survey_closed"
    default_message = _("This survey is not open for answers.")


class SurveyNotForYou(PermissionDenied, VoiceError):
    code = "survey_not_for_you"
    default_message = _("This survey is for %(audience)s.")


class SignInToAnswer(VoiceError):
    code = "not_authenticated"
    status = 401
    default_message = _("Please sign in to answer this survey.")


class AlreadyAnswered(Conflict, VoiceError):
    code = "already_answered"
    default_message = _("You have already answered this survey. Thank you!")


class AnswerMissing(InvalidInput, VoiceError):
    code = "answer_required"
    default_message = _("Please answer this question: %(question)s")


class AnswerInvalid(InvalidInput, VoiceError):
    code = "answer_invalid"
    default_message = _("This answer does not fit the question: %(question)s")


class SurveyInvalid(InvalidInput, VoiceError):
    code = "survey_invalid"
    default_message = _("The survey cannot be saved: %(problem)s")


class SurveyNotEditable(Conflict, VoiceError):
    code = "survey_not_editable"
    default_message = _("Only a draft survey can be changed.")


class SuggestionNotFound(NotFound, VoiceError):
    code = "suggestion_not_found"
    default_message = _("No request has this number.")


class SuggestionText(InvalidInput, VoiceError):
    code = "suggestion_text_invalid"
    default_message = _("Please describe your request in 5 to %(limit)s characters.")


class SuggestionKindInvalid(InvalidInput, VoiceError):
    code = "suggestion_kind_invalid"
    default_message = _("Please choose the type of request.")


class SuggestionCategoryInvalid(InvalidInput, VoiceError):
    code = "suggestion_category_invalid"
    default_message = _("Please choose a category.")


class ChannelInvalid(InvalidInput, VoiceError):
    code = "channel_invalid"
    default_message = _("Staff record requests from the desk or the phone here.")


class RatingInvalid(InvalidInput, VoiceError):
    code = "rating_invalid"
    default_message = _("A rating is 1 (very dissatisfied) to 5 (very satisfied).")


class SummaryRequired(InvalidInput, VoiceError):
    code = "summary_required"
    default_message = _("Write a public summary (5 to 300 characters) without personal details.")


class CenterNotFound(NotFound, VoiceError):
    code = "center_not_found"
    default_message = _("No such center.")


class PhotoType(InvalidInput, VoiceError):
    code = "photo_type"
    default_message = _("Photos must be JPEG, PNG or WebP images.")


class PhotoTooLarge(InvalidInput, VoiceError):
    code = "photo_too_large"
    status = 413
    default_message = _("A photo may be at most %(limit)s MB.")


class PhotoKindInvalid(InvalidInput, VoiceError):
    code = "photo_kind_invalid"
    default_message = _("Staff photos are marked before or after.")


class PhotoInvalid(InvalidInput, VoiceError):
    code = "photo_invalid"
    default_message = _("This photo cannot be read.")


class TooManyPhotos(InvalidInput, VoiceError):
    code = "too_many_photos"
    default_message = _("At most %(limit)s photos per request.")


class WrongState(Conflict, VoiceError):
    code = "suggestion_wrong_state"
    default_message = _("This request is %(state)s; that step is not possible now.")


class AlreadyRated(Conflict, VoiceError):
    code = "already_rated"
    default_message = _("This request has already been rated.")


class ReopenWindowPassed(Conflict, VoiceError):
    code = "reopen_window_passed"
    default_message = _("A request can be reopened within %(days)s days of its resolution.")


class ReplyRequired(InvalidInput, VoiceError):
    code = "reply_required"
    default_message = _("Please write the reply the resident will read.")


class OwnerNotFound(NotFound, VoiceError):
    code = "owner_not_found"
    default_message = _("No such organisation works at this center.")


class ExtensionNotFound(NotFound, VoiceError):
    code = "extension_not_found"
    default_message = _("No such extension request.")


class ExtensionPending(Conflict, VoiceError):
    code = "extension_pending"
    default_message = _("An extension is already waiting for a decision.")


class ExtensionDecided(Conflict, VoiceError):
    code = "extension_decided"
    default_message = _("This extension has already been decided.")


class ExtensionInvalid(InvalidInput, VoiceError):
    code = "extension_invalid"
    default_message = _("An extension is 1 to 30 working days, with a reason.")


class NotSupervisor(PermissionDenied, VoiceError):
    code = "not_supervisor"
    default_message = _("Extensions are decided by sub-district or district officials.")


class RulesForbidden(PermissionDenied, VoiceError):
    code = "forbidden"
    default_message = _("Deadlines are set by district officials.")


class EngagementInvalid(InvalidInput, VoiceError):
    code = "engagement_invalid"
    default_message = _("The forum or visit cannot be saved: %(problem)s")


class RulesInvalid(InvalidInput, VoiceError):
    code = "deadline_rule_invalid"
    default_message = _("Deadlines are 1–60 working days to respond and up to 120 to resolve, not shorter.")


class PeriodInvalid(InvalidInput, VoiceError):
    code = "period_invalid"
    default_message = _("Please give a period of at most two years, from before to.")


class ScopeInvalid(InvalidInput, VoiceError):
    code = "scope_invalid"
    default_message = _("Scope is district, street:<id>, community:<id> or center:<id>.")
