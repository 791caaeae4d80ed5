from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "livingroom.notices"
    label = "notices"
    verbose_name = _("Notices")

    def ready(self) -> None:
        from livingroom.notices import personal_data  # noqa: F401 - registers what it holds about residents
