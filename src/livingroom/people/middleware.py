from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from livingroom.people.auth import (
    METHOD_STAFF,
    SESSION_LAST_SEEN,
    SESSION_METHOD,
    end_session,
    session_staff_scope,
)


class StaffSessionMiddleware:
    """Signs staff out after 30 minutes without a request (idle logout) and sets ``request.staff_scope``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.staff_scope = None  # type: ignore[attr-defined]
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_METHOD) == METHOD_STAFF:
            now = int(time.time())
            last = int(session.get(SESSION_LAST_SEEN, 0))
            if now - last > settings.LIVINGROOM_STAFF_IDLE_SECONDS:
                end_session(request)
                messages.info(request, _("You were signed out after 30 minutes without activity."))
            else:
                session[SESSION_LAST_SEEN] = now
                request.staff_scope = session_staff_scope(request)  # type: ignore[attr-defined]
        return self.get_response(request)
