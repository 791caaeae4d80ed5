from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteeringConfig(AppConfig):
    name = "livingroom.volunteering"
    label = "volunteering"
    verbose_name = _("Volunteering")

    def ready(self) -> None:
        from livingroom.volunteering import (
            notices,  # noqa: F401 - registers the volunteering notice kinds
            personal_data,  # noqa: F401 - registers what it holds about residents
        )
