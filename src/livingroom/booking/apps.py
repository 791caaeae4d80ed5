from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "livingroom.booking"
    label = "booking"
    verbose_name = _("Bookings")

    def ready(self) -> None:
        from livingroom.booking import (
            notices,  # noqa: F401 - registers the booking notice kinds
            personal_data,  # noqa: F401 - registers what it holds about residents
        )
