from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoiceConfig(AppConfig):
    name = "livingroom.voice"
    label = "voice"
    verbose_name = _("Residents' voice")

    def ready(self) -> None:
        from livingroom.voice import (
            notices,  # noqa: F401 - registers the voice notice kinds
            personal_data,  # noqa: F401 - registers what it holds about residents
        )
