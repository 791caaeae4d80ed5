from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

ELDERLY_COOKIE = "lr_elderly"


def shell(request: HttpRequest) -> dict[str, Any]:
    """What every page's shell needs: elderly mode, the staff flag, the current path."""
    return {
        "elderly_mode": request.COOKIES.get(ELDERLY_COOKIE) == "1",
        "is_console_session": getattr(request, "staff_scope", None) is not None,
        "debug": settings.DEBUG,
    }
