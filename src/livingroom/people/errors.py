from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RateLimited,
)


class SmsCodeInvalid(NotAuthenticated):
    code = "sms_code_invalid"
    default_message = _("The verification code is wrong.")


class SmsCodeExpired(NotAuthenticated):
    code = "sms_code_expired"
    default_message = _("The verification code has expired. Please request a new one.")


class SmsCodeTooManyTries(NotAuthenticated):
    code = "sms_code_too_many_tries"
    default_message = _("Too many wrong codes. Please request a new code.")


class SmsResendTooSoon(RateLimited):
    code = "sms_resend_too_soon"
    default_message = _("A code was just sent. Please wait a minute before asking again.")


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    default_message = _("The username, password or one-time code is wrong.")


class AccountLocked(DomainError):
    code = "account_locked"
    status = 423
    default_message = _("Too many failed sign-ins. The account is locked until %(until)s.")


class IdNumberTaken(Conflict):
    code = "id_number_taken"
    default_message = _(
        "This ID number is already registered to another resident. Please ask center staff for help."
    )


class ProfileIncomplete(Conflict):
    code = "profile_incomplete"
    default_message = _("Please complete your real-name profile first.")


class ConsentRequired(InvalidInput):
    code = "consent_required"
    default_message = _("Please agree to the use of your personal information to continue.")


class PassInvalid(InvalidInput):
    code = "pass_invalid"
    default_message = _("This is not a valid resident pass.")


class PassExpired(InvalidInput):
    code = "pass_expired"
    default_message = _("This resident pass has expired. Please refresh it on your phone.")


class PassReplayed(Conflict):
    code = "pass_replayed"
    default_message = _("This resident pass was already used. Please refresh it on your phone.")


class CredentialPhotoNotFound(NotFound):
    code = "photo_not_found"
    default_message = _("No photo of this credential.")


class ErasurePending(Conflict):
    code = "erasure_pending"
    default_message = _(
        "You have already asked for your data to be erased. It will be carried out on %(due)s "
        "unless you cancel it."
    )


class ErasureNotFound(NotFound):
    code = "erasure_not_found"
    default_message = _("There is no erasure request waiting to be carried out.")


class ErasureStaffAccount(Conflict):
    code = "erasure_staff_account"
    default_message = _(
        "This account holds a staff role: staff accounts are closed by the administrator, not here."
    )


class ErasureInProgress(Conflict):
    code = "erasure_in_progress"
    default_message = _("The erasure is being carried out and can no longer be cancelled.")
