from django.utils.translation import gettext_lazy as _

from livingroom.core.errors import InvalidInput, NotAuthenticated


class DeviceUnknown(NotAuthenticated):
    code = "device_unknown"
    default_message = _("This device is not registered or has been disabled.")


class SignatureMissing(NotAuthenticated):
    code = "signature_missing"
    default_message = _("This request must be signed by a registered device.")


class InvalidHours(InvalidInput):
    code = "invalid_opening_hours"
    default_message = _("Closing time must be after opening time, on a weekday from Monday to Sunday.")


class InvalidSpace(InvalidInput):
    code = "invalid_space"
    default_message = _("The space's data is not valid.")
