from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "livingroom.programs"
    label = "programs"
    verbose_name = _("Courses and activities")

    def ready(self) -> None:
        from livingroom.programs import (
            notices,  # noqa: F401 - registers the programs notice kinds
            personal_data,  # noqa: F401 - registers what it holds about residents
        )
