from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MealsConfig(AppConfig):
    name = "livingroom.meals"
    label = "meals"
    verbose_name = _("Meal assistance")

    def ready(self) -> None:
        from livingroom.meals import (
            notices,  # noqa: F401 - registers the meals notice kinds
            personal_data,  # noqa: F401 - registers what it holds about residents
        )
