from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "livingroom.points"
    label = "points"
    verbose_name = _("Points and rewards")

    def ready(self) -> None:
        from livingroom.points import (
            notices,  # noqa: F401 - registers the points notice kinds
            personal_data,  # noqa: F401 - registers what it holds about residents
        )
